#![warn(missing_docs)]
#![forbid(unsafe_code)]
//! Async network probes: the TCP port scanner, the TLS and SSH inspectors, one login probe per
//! protocol and the UDP discovery probes. Each returns observations (`jcstar_model`), never
//! verdicts; the wire formats come from `jcstar_wire`.

pub mod budget;
pub mod discovery;
pub mod ledger;
pub mod probes;
pub mod scan;
pub mod sshinfo;
pub mod tls;
