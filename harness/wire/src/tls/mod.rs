//! TLS: ClientHello construction, server-flight parsing and certificate analysis.

pub mod cert;
pub mod flight;
pub mod hello;
