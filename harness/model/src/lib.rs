#![warn(missing_docs)]
#![forbid(unsafe_code)]
//! jcstar's data model, shared by every layer and free of I/O: verdicts, findings and evidence,
//! what probes observe, the devices of an inventory, profiles and their settings, and the
//! errors a user's input can cause.

pub mod device;
pub mod error;
mod findings;
pub mod observed;
pub mod outcome;
pub mod ports;
pub mod profile;

pub use findings::*;
