//! What to scan: target specs in nmap syntax, expanded to a host list.

pub mod spec;
