#![warn(missing_docs)]
#![forbid(unsafe_code)]
//! I/O-free encoders and parsers for the protocols jcstar speaks. Nothing here opens a socket:
//! probes feed these functions the bytes a device sent and send what they build, so every parser
//! can be tested, and fed garbage, on its own.

pub mod digest;
pub mod ftp;
pub mod http;
pub mod mqtt;
pub mod natpmp;
pub mod product;
pub mod snmp;
pub mod ssh;
pub mod telnet;
pub mod tls;
