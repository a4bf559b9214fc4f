#![warn(missing_docs)]
#![forbid(unsafe_code)]
//! I/O-free encoders and parsers for the protocols jcstar speaks. Nothing here opens a socket:
//! probes feed these functions the bytes a device sent and send what they build, so every parser
//! can be tested, and fed garbage, on its own.

pub mod coap;
pub mod digest;
pub mod ftp;
pub mod http;
pub mod mdns;
pub mod mqtt;
pub mod natpmp;
pub mod product;
pub mod snmp;
pub mod ssdp;
pub mod ssh;
pub mod telnet;
pub mod tls;
pub mod upnp;
pub mod vnc;
pub mod wsd;
pub mod xml;
