//! Login-surface probes, one module per protocol: does a service give access without
//! authentication, and does it accept a given credential? Every probe uses a fresh connection
//! per attempt and the bounds of [`io::Bounds`] on every connect and read.

pub use jcstar_wire::digest;
pub mod ftp;
pub mod http;
pub mod io;
pub mod mqtt;
pub mod rtsp;
pub mod snmp;
pub mod ssh;
pub mod telnet;
pub mod udp;
pub mod vnc;

use std::time::Duration;

use tokio::time::Instant;

pub use jcstar_model::outcome::{ExchangeError, LoginOutcome, Phase};
use jcstar_model::Evidence;

/// The entries of a login series on one connection (the brute-force check's same-connection
/// test), each timed from the end of the previous one, the first from the connect.
pub(crate) struct Series<T> {
    entries: Vec<(Duration, T)>,
    start: Instant,
}

impl<T> Series<T> {
    /// A series whose clock starts now, before the connect.
    pub fn start() -> Self {
        Series {
            entries: Vec::new(),
            start: Instant::now(),
        }
    }

    /// Records `entry` and restarts the clock; whether the series goes on, as `go_on` decides
    /// from the entry's time and the entry.
    pub fn record(&mut self, entry: T, go_on: impl FnOnce(Duration, &T) -> bool) -> bool {
        let elapsed = self.start.elapsed();
        self.start = Instant::now();
        let more = go_on(elapsed, &entry);
        self.entries.push((elapsed, entry));
        more
    }

    /// The series ended by `entry` (a failed connect, a closed connection).
    pub fn end(mut self, entry: T) -> Vec<(Duration, T)> {
        self.record(entry, |_, _| false);
        self.entries
    }

    /// The entries recorded.
    pub fn entries(self) -> Vec<(Duration, T)> {
        self.entries
    }
}

/// What a service gives to a client that presents no credential.
#[derive(Debug, Clone)]
pub enum Exposure {
    /// Something protected was reachable without authentication.
    Open {
        /// What was reachable, for the report (page title, SDP title, topics, …).
        what: String,
        /// The exchange that proves it.
        evidence: Evidence,
    },
    /// The service demanded authentication.
    Protected {
        /// What was checked.
        what: String,
    },
    /// The probe could not tell.
    Unknown(String),
}
