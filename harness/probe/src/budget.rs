//! The run's connection budget, shared by the port scan and every check: how many sockets all
//! devices together may hold open, how many new connections per second the run may start
//! (`--max-rate`), and how many new connections per minute any one service may receive
//! (`--service-rate`), so that a device's connection-rate limit is not tripped by jcstar's own
//! earlier connections.
//!
//! Time spent waiting for the budget is jcstar's, not the device's: [`timeout`] extends a
//! deadline by it and [`track`] reports it, so a paced attempt is never read as a slow answer.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Fewest sockets a budget allows: a check may hold one connection while it opens another.
pub const MIN_SOCKETS: usize = 16;

/// What the run allows; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSettings {
    /// Sockets open at once over the whole run (scan probes and check connections).
    pub max_sockets: usize,
    /// New connections per second over the whole run; `None` for no limit.
    pub max_rate: Option<f64>,
    /// New connections per minute to one service (address and port) from the checks and
    /// service identification; `None` for no limit.
    pub service_per_minute: Option<u32>,
}

/// A run's connection budget.
pub struct Budget {
    sockets: Arc<Semaphore>,
    max_sockets: usize,
    rate: Option<Pacer>,
    per_service: Option<ServicePacer>,
}

/// Spaces events at least `interval` apart, first come first served.
struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    /// The instant the caller may go, reserving it.
    fn reserve(&self) -> Instant {
        let now = Instant::now();
        let Ok(mut next) = self.next.lock() else {
            return now;
        };
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }
}

/// One [`Pacer`] per service address.
struct ServicePacer {
    interval: Duration,
    next: Mutex<HashMap<SocketAddr, Instant>>,
}

impl ServicePacer {
    fn reserve(&self, address: SocketAddr) -> Instant {
        let now = Instant::now();
        let Ok(mut next) = self.next.lock() else {
            return now;
        };
        let entry = next.entry(address).or_insert(now);
        let slot = (*entry).max(now);
        *entry = slot + self.interval;
        slot
    }
}

/// A socket's place in the budget, given back when dropped.
#[derive(Debug)]
pub struct Ticket {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Budget {
    /// A budget with `settings`; fewer than [`MIN_SOCKETS`] sockets are raised to it, and a
    /// rate of zero or less means no limit.
    pub fn new(settings: BudgetSettings) -> Self {
        let max_sockets = settings.max_sockets.max(MIN_SOCKETS);
        Budget {
            sockets: Arc::new(Semaphore::new(max_sockets)),
            max_sockets,
            rate: settings
                .max_rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Pacer::new(Duration::from_secs_f64(1.0 / r))),
            per_service: settings
                .service_per_minute
                .filter(|&n| n > 0)
                .map(|n| ServicePacer {
                    interval: Duration::from_secs(60) / n,
                    next: Mutex::new(HashMap::new()),
                }),
        }
    }

    /// Sockets this budget allows at once.
    pub fn max_sockets(&self) -> usize {
        self.max_sockets
    }

    /// Sockets held right now.
    pub fn sockets_in_use(&self) -> usize {
        self.max_sockets
            .saturating_sub(self.sockets.available_permits())
    }

    /// Waits for a socket and a turn under the run's rate: a port-scan probe, which is not
    /// paced per service (each port is probed once or twice).
    pub async fn admit_probe(&self) -> Ticket {
        self.admit_sockets(1).await
    }

    /// Waits for `address`'s turn under the per-service pace, then for a socket and a turn
    /// under the run's rate, and counts the connection in the [`crate::ledger`].
    pub async fn admit(&self, address: SocketAddr) -> Ticket {
        if let Some(pacer) = &self.per_service {
            wait_until(pacer.reserve(address)).await;
        }
        let permit = self.take_sockets(1).await;
        self.pace_run().await;
        crate::ledger::note(address);
        Ticket { _permit: permit }
    }

    /// Like [`Budget::admit`] for a caller that already holds a socket of this budget (service
    /// identification inside the port scan): the paces and the count, no second socket.
    pub async fn admit_held(&self, address: SocketAddr) {
        if let Some(pacer) = &self.per_service {
            wait_until(pacer.reserve(address)).await;
        }
        self.pace_run().await;
        crate::ledger::note(address);
    }

    /// True when the run has a rate (`--max-rate`): every connection waits for its turn.
    pub fn paces_runs(&self) -> bool {
        self.rate.is_some()
    }

    /// Waits for a turn under the run's rate only (a port-scan probe that holds its socket).
    pub async fn pace_run(&self) {
        if let Some(rate) = &self.rate {
            wait_until(rate.reserve()).await;
        }
    }

    /// `n` sockets at once (UDP probes, which open no connection but hold descriptors), under
    /// the run's rate.
    pub async fn admit_sockets(&self, n: u32) -> Ticket {
        let permit = self.take_sockets(n).await;
        self.pace_run().await;
        Ticket { _permit: permit }
    }

    /// `n` sockets of the pool; only a caller that finds too few free waits (and that is
    /// counted).
    async fn take_sockets(&self, n: u32) -> Option<OwnedSemaphorePermit> {
        match Arc::clone(&self.sockets).try_acquire_many_owned(n) {
            Ok(permit) => Some(permit),
            Err(tokio::sync::TryAcquireError::Closed) => None,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                let _waiting = Waiting::start();
                Arc::clone(&self.sockets).acquire_many_owned(n).await.ok()
            }
        }
    }

    /// The socket pool, for the port scan's own in-flight accounting.
    pub fn sockets(&self) -> Arc<Semaphore> {
        Arc::clone(&self.sockets)
    }
}

/// Sleeps until `slot`, counted as a wait only when the slot is still ahead: a caller whose
/// turn has come goes at once and its timing stays the device's alone.
async fn wait_until(slot: Instant) {
    if slot > Instant::now() {
        let _waiting = Waiting::start();
        tokio::time::sleep_until(slot).await;
    }
}

static INSTALLED: OnceLock<Budget> = OnceLock::new();

/// Makes `budget` the process's budget. A process runs one scan, so only the first call takes
/// effect; it returns false for any later one.
pub fn install(budget: Budget) -> bool {
    INSTALLED.set(budget).is_ok()
}

/// The installed budget, if [`install`] was called.
pub fn installed() -> Option<&'static Budget> {
    INSTALLED.get()
}

/// The process's budget: the installed one, else one without limits (library use and tests).
pub fn budget() -> &'static Budget {
    static UNLIMITED: OnceLock<Budget> = OnceLock::new();
    INSTALLED.get().unwrap_or_else(|| {
        UNLIMITED.get_or_init(|| {
            Budget::new(BudgetSettings {
                max_sockets: Semaphore::MAX_PERMITS,
                max_rate: None,
                service_per_minute: None,
            })
        })
    })
}

/// A TCP connection that holds its place in the budget until dropped.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    _ticket: Ticket,
}

impl Connection {
    /// The stream, giving the budget place back with it (for APIs that must own a
    /// `TcpStream`; prefer keeping the `Connection`).
    pub fn into_parts(self) -> (TcpStream, Ticket) {
        (self.stream, self._ticket)
    }
}

impl std::ops::Deref for Connection {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Connects to `address` once the budget admits it; `deadline` bounds the TCP handshake alone,
/// not the wait for the budget (`None`: the caller's own deadline bounds it).
pub async fn connect(address: SocketAddr, deadline: Option<Duration>) -> io::Result<Connection> {
    let ticket = budget().admit(address).await;
    let handshake = TcpStream::connect(address);
    let stream = match deadline {
        Some(deadline) => tokio::time::timeout(deadline, handshake)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??,
        None => handshake.await?,
    };
    let _ = stream.set_nodelay(true);
    Ok(Connection {
        stream,
        _ticket: ticket,
    })
}

/// Time spent waiting for the budget inside one [`track`] or [`timeout`] scope (and the scopes
/// around it), and how many waits are going on now.
#[derive(Default)]
struct Waited {
    nanos: AtomicU64,
    active: AtomicUsize,
    parent: Option<Arc<Waited>>,
}

impl Waited {
    fn child() -> Arc<Waited> {
        Arc::new(Waited {
            parent: WAITED.try_with(Arc::clone).ok(),
            ..Waited::default()
        })
    }

    fn chain(self: &Arc<Self>) -> impl Iterator<Item = &Waited> {
        std::iter::successors(Some(self.as_ref()), |w| w.parent.as_deref())
    }

    fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    fn waiting(&self) -> bool {
        self.active.load(Ordering::Relaxed) > 0
    }
}

tokio::task_local! {
    static WAITED: Arc<Waited>;
}

/// Marks one wait for the budget, from creation to drop, in every enclosing scope.
struct Waiting {
    scope: Option<Arc<Waited>>,
    since: Instant,
}

impl Waiting {
    fn start() -> Self {
        let scope = WAITED.try_with(Arc::clone).ok();
        if let Some(scope) = &scope {
            for w in scope.chain() {
                w.active.fetch_add(1, Ordering::Relaxed);
            }
        }
        Waiting {
            scope,
            since: Instant::now(),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Some(scope) = &self.scope {
            for w in scope.chain() {
                w.nanos.fetch_add(nanos, Ordering::Relaxed);
                w.active.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// Runs `future` and says how long it waited for the budget (to subtract from a timing).
pub async fn track<F: Future>(future: F) -> (F::Output, Duration) {
    let waited = Waited::child();
    let output = WAITED.scope(Arc::clone(&waited), future).await;
    (output, waited.total())
}

/// The deadline of a [`timeout`] passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// Like `tokio::time::timeout`, but the deadline is for the device: it is extended by the time
/// `future` spent waiting for the budget, and never expires while such a wait is going on.
pub async fn timeout<F: Future>(deadline: Duration, future: F) -> Result<F::Output, Elapsed> {
    let waited = Waited::child();
    let future = WAITED.scope(Arc::clone(&waited), future);
    tokio::pin!(future);
    let start = Instant::now();
    let mut until = start + deadline;
    loop {
        tokio::select! {
            output = &mut future => return Ok(output),
            _ = tokio::time::sleep_until(until) => {
                if waited.waiting() {
                    // Look again once the wait may be over; its length is added then.
                    until = Instant::now() + Duration::from_millis(20);
                    continue;
                }
                let end = start + deadline + waited.total();
                if Instant::now() >= end {
                    return Err(Elapsed);
                }
                until = end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rate: Option<f64>, per_minute: Option<u32>) -> BudgetSettings {
        BudgetSettings {
            max_sockets: 64,
            max_rate: rate,
            service_per_minute: per_minute,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_run_rate_spaces_new_connections() {
        let budget = Budget::new(settings(Some(10.0), None));
        let start = Instant::now();
        let mut tickets = Vec::new();
        for _ in 0..5 {
            tickets.push(budget.admit_probe().await);
        }
        // The first goes at once, the next four 100 ms apart.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn the_service_pace_is_per_address() {
        let budget = Budget::new(settings(None, Some(6)));
        let a = SocketAddr::from(([127, 8, 0, 1], 22));
        let b = SocketAddr::from(([127, 8, 0, 1], 23));
        let start = Instant::now();
        let _first = budget.admit(a).await;
        let _other = budget.admit(b).await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "another service waits for nobody"
        );
        let _second = budget.admit(a).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(10),
            "6 per minute: 10 s apart"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sockets_are_given_back_when_dropped() {
        let budget = Budget::new(BudgetSettings {
            max_sockets: 1,
            max_rate: None,
            service_per_minute: None,
        });
        assert_eq!(budget.max_sockets(), MIN_SOCKETS);
        let held: Vec<Ticket> = futures_join(&budget, MIN_SOCKETS).await;
        assert_eq!(budget.sockets_in_use(), MIN_SOCKETS);
        let blocked = tokio::time::timeout(Duration::from_secs(1), budget.admit_probe()).await;
        assert!(blocked.is_err(), "no socket is left");
        drop(held);
        assert_eq!(budget.sockets_in_use(), 0);
        let _again = budget.admit_probe().await;
        assert_eq!(budget.sockets_in_use(), 1);
    }

    async fn futures_join(budget: &Budget, n: usize) -> Vec<Ticket> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(budget.admit_probe().await);
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_budget_extend_the_deadline_and_are_reported() {
        let budget = Budget::new(settings(None, Some(6)));
        let a = SocketAddr::from(([127, 8, 0, 2], 22));
        let _first = budget.admit(a).await;
        // A 1 s deadline around a 10 s wait for the budget and 500 ms of "device" time.
        let paced = timeout(Duration::from_secs(1), async {
            let _t = budget.admit(a).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        });
        let (result, waited) = track(paced).await;
        assert_eq!(result, Ok(()), "budget time is not the device's");
        assert_eq!(waited, Duration::from_secs(10));
        // Without the budget wait the same deadline still expires on device time.
        let slow = timeout(
            Duration::from_secs(1),
            tokio::time::sleep(Duration::from_secs(2)),
        );
        assert_eq!(slow.await, Err(Elapsed));
    }

    /// Without a limit in the way nothing is counted as a wait, or every measurement would
    /// look paced; a real wait for a socket is counted.
    #[tokio::test]
    async fn only_a_real_wait_is_counted() {
        let budget = Budget::new(settings(None, Some(60_000)));
        let a = SocketAddr::from(([127, 8, 0, 3], 22));
        let (tickets, waited) = track(async {
            let mut tickets = Vec::new();
            for port in 1..=8 {
                tickets.push(budget.admit(SocketAddr::new(a.ip(), port)).await);
            }
            tickets
        })
        .await;
        assert_eq!(waited, Duration::ZERO);
        drop(tickets);
        let full = Arc::new(Budget::new(BudgetSettings {
            max_sockets: MIN_SOCKETS,
            max_rate: None,
            service_per_minute: None,
        }));
        let held: Vec<Ticket> = hold_sockets(&full, MIN_SOCKETS).await;
        let waiter = {
            let full = Arc::clone(&full);
            tokio::spawn(track(async move { full.admit_probe().await }))
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        let (_ticket, waited) = waiter.await.expect("joined");
        assert!(waited > Duration::ZERO);
    }

    async fn hold_sockets(budget: &Budget, n: usize) -> Vec<Ticket> {
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(budget.admit_probe().await);
        }
        held
    }
}
