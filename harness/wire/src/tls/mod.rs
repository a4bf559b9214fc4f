//! TLS: ClientHello construction and certificate analysis.

pub mod cert;
pub mod hello;
