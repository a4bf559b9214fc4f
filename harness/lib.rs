#![warn(missing_docs)]
//! jcstar: JC-STAR ★1 conformance test harness for IoT devices.
//!
//! Probes devices concurrently, maps each finding to the 16 ★1 criteria (S1.1-01 … S1.1-16) and
//! writes JUnit XML, JSON and a terminal summary.

pub mod app;
pub mod checks;
pub mod cli;
pub mod demo;
pub mod device;
pub mod discovery;
pub mod error;
pub mod inventory;
pub mod model;
pub mod ports;
pub mod probes;
pub mod profile;
pub mod report;
pub mod run;
pub mod scan;
pub mod sshinfo;
pub mod targets;
pub mod template;
pub mod tls;
