//! Checks run against the simulated lab through the same inventory and scan set-up as
//! `jcstar scan`.

mod identity;
mod udp;
