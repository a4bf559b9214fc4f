//! Where a host's immediate answers are settled: in its own controller or in tasks of their own.
//!
//! A RST from a near host is processed inside `connect()`, so such a probe needs no task. Settling
//! it in the host's controller keeps the runtime's ready queue short, and hosts that wait on
//! timers (a default-DROP firewall) are served on time instead of queueing behind thousands of
//! ready probes; but it keeps each host on one core. So probes are settled inline only while
//! enough hosts sweep to keep every worker busy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The hosts of one scan that are sweeping ports right now.
#[derive(Debug)]
pub(crate) struct Sweeping {
    hosts: AtomicUsize,
    workers: usize,
}

impl Sweeping {
    /// No host sweeping yet, on the current runtime's workers (one outside a runtime).
    pub(crate) fn new() -> Arc<Self> {
        let workers = tokio::runtime::Handle::try_current()
            .map(|handle| handle.metrics().num_workers())
            .unwrap_or(1);
        Arc::new(Sweeping {
            hosts: AtomicUsize::new(0),
            workers: workers.max(1),
        })
    }

    /// Counts one host as sweeping until the guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> SweepGuard {
        self.hosts.fetch_add(1, Ordering::Relaxed);
        SweepGuard(Arc::clone(self))
    }

    /// True when the sweeping hosts alone keep every worker busy.
    pub(crate) fn settle_inline(&self) -> bool {
        self.hosts.load(Ordering::Relaxed) >= self.workers
    }
}

/// One host counted in [`Sweeping`].
#[derive(Debug)]
pub(crate) struct SweepGuard(Arc<Sweeping>);

impl Drop for SweepGuard {
    fn drop(&mut self) {
        self.0.hosts.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inline_only_while_hosts_fill_the_workers() {
        let sweeping = Sweeping::new();
        let first = sweeping.enter();
        assert!(!sweeping.settle_inline(), "one host, two workers");
        let second = sweeping.enter();
        assert!(sweeping.settle_inline());
        drop(first);
        assert!(!sweeping.settle_inline());
        drop(second);
        assert_eq!(sweeping.hosts.load(Ordering::Relaxed), 0);
    }
}
