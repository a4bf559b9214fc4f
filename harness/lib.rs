//! jcstar: JC-STAR ★1 conformance test harness for IoT devices.

pub mod error;
