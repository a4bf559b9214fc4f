//! How many connections jcstar opened to each service during this run, across every probe and
//! check: the evidence a verdict needs when a device's connection-rate limit may have been
//! tripped by jcstar's own earlier connections rather than by the test that met it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Connections opened per service address (only addresses that were connected to, never
/// every probed port).
static OPENED: Mutex<BTreeMap<SocketAddr, u32>> = Mutex::new(BTreeMap::new());

/// Records one connection attempt to `address`.
pub fn note(address: SocketAddr) {
    if let Ok(mut opened) = OPENED.lock() {
        let count = opened.entry(address).or_insert(0);
        *count = count.saturating_add(1);
    }
}

/// Connections opened to `address` so far.
pub fn opened(address: SocketAddr) -> u32 {
    OPENED
        .lock()
        .map(|opened| opened.get(&address).copied().unwrap_or(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address() {
        let a = SocketAddr::from(([127, 9, 9, 9], 1));
        let b = SocketAddr::from(([127, 9, 9, 9], 2));
        let before = opened(a);
        note(a);
        note(a);
        assert_eq!(opened(a), before + 2);
        assert_eq!(opened(b), 0);
    }
}
