#![warn(missing_docs)]
//! jcstar: JC-STAR ★1 conformance test harness for IoT devices.
//!
//! Probes devices concurrently, maps each finding to the 16 ★1 criteria (S1.1-01 … S1.1-16) and
//! writes JUnit XML, JSON and a terminal summary.

pub mod app;
pub mod assemble;
pub mod cli;
pub mod inventory;
pub mod journal;
pub mod merge;
pub mod progress;
pub mod replay;
pub mod run;
pub mod shard;
pub mod targets;
pub mod template;

#[cfg(test)]
mod lab_tests;
