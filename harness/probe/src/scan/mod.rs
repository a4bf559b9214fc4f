//! Concurrent TCP connect scanner with nmap-style adaptive timing and
//! banner-based service identification.
//!
//! Each host runs its own controller task: it launches connect probes up to
//! its adaptive window ([`timing`]), every probe also holding a permit of the
//! global semaphore shared by all hosts ([`Limits::global_in_flight`]).
//! Open ports are identified ([`identify_service`]) within the same window.

mod connect;
mod limits;
mod service;
mod sweeping;
mod timing;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

pub use limits::prepare_limits;
pub use service::identify_service;

use connect::Outcome;
use sweeping::Sweeping;
use timing::{RttEstimator, Window};

/// Ports probed first by [`all_ports_prioritized`]: the usual IoT services,
/// so the first answers (and RTT samples) arrive early.
pub const PRIORITY_PORTS: &[u16] = &[
    80, 23, 443, 22, 554, 8080, 1883, 8883, 21, 8443, 8000, 8081, 8888, 2323, 5000, 7547, 49152,
    5683, 502, 9000, 8554, 81, 88, 37777, 34567, 5555, 9100, 515, 631, 139, 445, 53, 25, 110, 143,
    993, 995, 3389, 5900, 6668, 1900, 8008, 8009, 10000, 4443, 9443,
];

/// Every TCP port 1–65535, [`PRIORITY_PORTS`] first, then ascending.
pub fn all_ports_prioritized() -> Vec<u16> {
    let mut seen = HashSet::with_capacity(PRIORITY_PORTS.len());
    let mut ports: Vec<u16> = PRIORITY_PORTS
        .iter()
        .copied()
        .filter(|p| seen.insert(*p))
        .collect();
    ports.extend((1..=u16::MAX).filter(|p| !seen.contains(p)));
    ports
}

/// What to scan and how hard.
#[derive(Debug, Clone, Serialize)]
pub struct ScanConfig {
    /// TCP ports to probe; the order given is the probe priority.
    pub ports: Vec<u16>,
    /// Probe timeout before any RTT sample.
    pub initial_timeout: Duration,
    /// Lowest adaptive timeout.
    pub min_timeout: Duration,
    /// Highest adaptive timeout.
    pub max_timeout: Duration,
    /// Per-host in-flight window at start.
    pub per_host_start: usize,
    /// Largest per-host window, reached while the host keeps up.
    pub per_host_max: usize,
    /// Global in-flight limit; `None` derives it from RLIMIT_NOFILE.
    pub global_limit: Option<usize>,
    /// Byte cap for every banner read.
    pub banner_bytes: usize,
    /// Deadline for each banner read.
    pub banner_timeout: Duration,
    /// Identify the service on open ports.
    pub grab_banners: bool,
    /// How many times a silent (filtered) port is re-probed, after all other
    /// ports, before it is reported filtered.
    pub filtered_retries: u32,
    /// Longest time one host's scan may take; the ports not settled by then are reported
    /// as errors ([`NOT_PROBED_BUDGET`]). `None`: no limit.
    pub host_timeout: Option<Duration>,
    /// Shared limit on devices worked on at once (`--max-hosts`): each host's scan holds a
    /// permit while it runs; the caller may hold the same permits for later work (service
    /// checks). `None`: every host at once.
    #[serde(skip)]
    pub host_gate: Option<Arc<Semaphore>>,
}

/// The error of a port left unprobed because the host's time budget ran out.
pub const NOT_PROBED_BUDGET: &str = "not probed: the device's time budget was exceeded";
/// The error of a port left unprobed because the run was stopped (Ctrl-C, `--max-duration`).
pub const NOT_PROBED_INTERRUPTED: &str = "not probed: scan interrupted";

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            ports: all_ports_prioritized(),
            initial_timeout: Duration::from_millis(1000),
            min_timeout: Duration::from_millis(100),
            max_timeout: Duration::from_millis(1500),
            per_host_start: 64,
            per_host_max: 1024,
            global_limit: None,
            banner_bytes: 2048,
            banner_timeout: Duration::from_millis(1500),
            grab_banners: true,
            filtered_retries: 1,
            host_timeout: None,
            host_gate: None,
        }
    }
}

/// State of one probed port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    /// The handshake completed.
    Open,
    /// The host refused (RST).
    Closed,
    /// No answer within the timeout, retries included.
    Filtered,
    /// The probe failed otherwise; see [`PortResult::error`].
    Error,
}

/// Service identified on an open port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// Telnet (IAC negotiation or a login prompt).
    Telnet,
    /// SSH (`SSH-` identification string).
    Ssh,
    /// HTTP (`HTTP/` status line).
    Http,
    /// RTSP (`RTSP/` status line).
    Rtsp,
    /// FTP (`220` greeting).
    Ftp,
    /// TLS (handshake or alert record).
    Tls,
    /// MQTT (CONNACK).
    Mqtt,
    /// VNC (`RFB ` protocol version greeting).
    Vnc,
    /// Open, but nothing recognisable answered.
    Unknown,
}

/// Service identification result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// The service.
    pub kind: ServiceKind,
    /// The reply, printable ASCII kept, other bytes `\xNN`, at most 256 chars.
    pub banner: String,
    /// Which probe got the reply: "null", "http-get", "rtsp-options",
    /// "tls-client-hello" or "mqtt-connect".
    pub probe: String,
}

/// Result for one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortResult {
    /// The TCP port.
    pub port: u16,
    /// What the probe found.
    pub state: PortState,
    /// Handshake or refusal round trip, when there was an answer; in JSON `rtt_ms`,
    /// milliseconds with microsecond precision.
    #[serde(rename = "rtt_ms", with = "optional_ms", default)]
    pub rtt: Option<Duration>,
    /// Why the probe failed, for [`PortState::Error`].
    pub error: Option<String>,
    /// Identified service, for open ports when banners are grabbed.
    pub service: Option<ServiceInfo>,
}

/// Timing and counts for one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStats {
    /// Connect attempts made, retries included (identification excluded).
    pub probes: u64,
    /// Ports found open.
    pub open: u32,
    /// Ports found closed.
    pub closed: u32,
    /// Ports found filtered.
    pub filtered: u32,
    /// Ports that ended in error.
    pub errors: u32,
    /// Final smoothed RTT in microseconds, if any answer came.
    pub srtt_us: Option<u64>,
    /// Probe timeout at the end of the scan.
    pub final_timeout_ms: u64,
    /// Largest per-host window reached.
    pub peak_window: usize,
    /// Wall time spent on this host, identification included.
    pub elapsed_ms: u64,
    /// Open ports left unidentified because the host had more than [`MAX_IDENT_PER_HOST`].
    #[serde(default)]
    pub unidentified: u32,
}

/// Scan result for one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostScan {
    /// The host.
    pub address: IpAddr,
    /// Every probed port that did not answer "closed" (open, filtered, error), sorted by
    /// port. Closed ports are only counted (`stats.closed`), so a `-p-` scan keeps a record
    /// per interesting port, not one per probed port.
    pub ports: Vec<PortResult>,
    /// Timing and counts.
    pub stats: HostStats,
}

impl HostScan {
    /// Whether the device answered on any port (open or closed), rather than silence alone.
    pub fn answered(&self) -> bool {
        self.stats.closed > 0 || self.ports.iter().any(|p| p.state != PortState::Filtered)
    }

    /// Ports that answered "closed": counted, not kept (a scan written by an older jcstar
    /// kept their records, and counted them too).
    pub fn closed_count(&self) -> usize {
        let recorded = self
            .ports
            .iter()
            .filter(|p| p.state == PortState::Closed)
            .count();
        (self.stats.closed as usize).max(recorded)
    }
}

/// Process limits the scan runs under, from [`prepare_limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Soft RLIMIT_NOFILE after raising it.
    pub nofile_soft: u64,
    /// Hard RLIMIT_NOFILE.
    pub nofile_hard: u64,
    /// Sockets all hosts together may have in flight.
    pub global_in_flight: usize,
}

/// Scans every host concurrently and returns the scans in the order of `hosts`; see
/// [`scan_hosts_each`].
pub async fn scan_hosts(
    hosts: &[IpAddr],
    config: &ScanConfig,
    limits: &Limits,
    progress: &ProgressBar,
) -> Vec<HostScan> {
    let mut out: Vec<Option<HostScan>> = vec![None; hosts.len()];
    scan_hosts_each(hosts, config, limits, progress, |i, scan| {
        out[i] = Some(scan)
    })
    .await;
    out.into_iter()
        .zip(hosts)
        .map(|(scan, &address)| scan.unwrap_or_else(|| failed_host(address, &config.ports)))
        .collect()
}

/// Scans every host concurrently; each host gets its own adaptive window and all hosts share the
/// global limit. `on_host(index, scan)` is called as each host finishes, so a caller that stops
/// early (Ctrl-C) keeps every host already done. `progress` advances once per port probe.
pub async fn scan_hosts_each(
    hosts: &[IpAddr],
    config: &ScanConfig,
    limits: &Limits,
    progress: &ProgressBar,
    on_host: impl FnMut(usize, HostScan),
) {
    let (_never, stop) = StopScan::new();
    scan_hosts_with_extra(hosts, &[], config, limits, progress, &stop, on_host).await
}

/// Tells running host scans to stop early (Ctrl-C, the run's time budget): each ends at once
/// with the ports it settled, the others reported as not probed, and is handed to `on_host`
/// like a finished one, so nothing measured is lost.
#[derive(Debug, Clone)]
pub struct StopScan(tokio::sync::watch::Receiver<bool>);

impl StopScan {
    /// A stop signal and the sender that raises it (dropping the sender never stops).
    pub fn new() -> (tokio::sync::watch::Sender<bool>, StopScan) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        (sender, StopScan(receiver))
    }

    /// Whether the stop was raised.
    pub fn raised(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop is raised; never, if its sender is gone first.
    pub async fn requested(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|raised| *raised).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Like [`scan_hosts_each`], with `extra_ports[i]` probed on `hosts[i]` besides the config's
/// ports (the services a device declares); a missing entry adds none.
pub async fn scan_hosts_with_extra(
    hosts: &[IpAddr],
    extra_ports: &[Vec<u16>],
    config: &ScanConfig,
    limits: &Limits,
    progress: &ProgressBar,
    stop: &StopScan,
    on_host: impl FnMut(usize, HostScan),
) {
    scan_hosts_observed(
        hosts,
        extra_ports,
        config,
        limits,
        &|_| progress.clone(),
        stop,
        on_host,
    )
    .await
}

/// Like [`scan_hosts_with_extra`], with a progress bar per host: `progress(i)` is the bar
/// `hosts[i]`'s port probes advance (once per probe), e.g. one line per device on a terminal.
pub async fn scan_hosts_observed(
    hosts: &[IpAddr],
    extra_ports: &[Vec<u16>],
    config: &ScanConfig,
    limits: &Limits,
    progress: &dyn Fn(usize) -> ProgressBar,
    stop: &StopScan,
    mut on_host: impl FnMut(usize, HostScan),
) {
    let config = Arc::new(config.clone());
    let common = unique(config.ports.iter().copied());
    // One pool for the scan and the checks when the run installed a connection budget.
    let global = match crate::budget::installed() {
        Some(budget) => budget.sockets(),
        None => Arc::new(Semaphore::new(limits.global_in_flight.max(1))),
    };

    let sweeping = Sweeping::new();
    let mut tasks = JoinSet::new();
    let mut task_hosts = std::collections::HashMap::new();
    for (i, &address) in hosts.iter().enumerate() {
        let ports = match extra_ports.get(i).filter(|extra| !extra.is_empty()) {
            Some(extra) => unique(common.iter().chain(extra).copied()),
            None => Arc::clone(&common),
        };
        let host = HostRun::new(
            address,
            Arc::clone(&ports),
            Arc::clone(&config),
            Arc::clone(&global),
            progress(i),
            Arc::clone(&sweeping),
        );
        let stop = stop.clone();
        let gate = config.host_gate.clone();
        let handle = tasks.spawn(async move {
            // A closed gate (never closed by jcstar) lets the host through rather than skip it.
            let _permit = match gate {
                Some(gate) => gate.acquire_owned().await.ok(),
                None => None,
            };
            (i, host.run(&stop).await)
        });
        task_hosts.insert(handle.id(), (i, address, ports));
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, (i, scan))) => on_host(i, scan),
            Err(e) => {
                tracing::error!(error = %e, "host scan task failed");
                if let Some((i, address, ports)) = task_hosts.get(&e.id()) {
                    on_host(*i, failed_host(*address, ports));
                }
            }
        }
    }
}

/// `ports` in their first order, each once.
fn unique(ports: impl Iterator<Item = u16>) -> Arc<[u16]> {
    let mut seen = HashSet::new();
    ports.filter(|p| seen.insert(*p)).collect()
}

fn failed_host(address: IpAddr, ports: &[u16]) -> HostScan {
    let mut ports: Vec<PortResult> = ports
        .iter()
        .map(|&port| PortResult {
            port,
            state: PortState::Error,
            rtt: None,
            error: Some("internal error: host scan task failed".into()),
            service: None,
        })
        .collect();
    ports.sort_by_key(|p| p.port);
    HostScan {
        address,
        stats: HostStats {
            errors: ports.len() as u32,
            ..HostStats::default()
        },
        ports,
    }
}

/// Identifications running at once on one host, at most (each also takes a
/// window slot): a fragile device is not flooded with payloads.
const IDENT_PER_HOST: usize = 4;
/// Most open ports identified on one host: a host with every port open would otherwise keep
/// the scan identifying services for a day. The rest are reported open, service unknown.
pub const MAX_IDENT_PER_HOST: u32 = 256;

/// Attempts for a probe failing on local resource shortage before the port
/// is reported as an error.
const RESOURCE_ATTEMPTS: u32 = 40;

/// Self-connects tolerated before a port is reported closed.
const SELF_CONNECT_ATTEMPTS: u32 = 4;

const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_millis(1000);

/// Probes settled inside one host's launch loop before it lets other tasks run: a host
/// answering with RSTs at once must not hold a worker while others' answers and timeouts wait.
const SETTLED_BEFORE_YIELD: u32 = 32;

/// How [`HostRun::launch`] left a job.
#[derive(Debug, PartialEq, Eq)]
enum Launched {
    /// Settled at once: the answer was already there.
    Settled,
    /// Running as a task; its result comes through the join set.
    Waiting,
}

/// A port waiting to be (re-)probed.
#[derive(Debug, Clone, Copy)]
struct Pending {
    idx: usize,
    resource_errors: u32,
    timeouts: u32,
    self_connects: u32,
}

impl Pending {
    fn fresh(idx: usize) -> Self {
        Pending {
            idx,
            resource_errors: 0,
            timeouts: 0,
            self_connects: 0,
        }
    }
}

enum Done {
    Probe(Pending, Outcome),
    Ident(usize, Option<ServiceInfo>),
}

/// One host's controller.
struct HostRun {
    address: IpAddr,
    ports: Arc<[u16]>,
    config: Arc<ScanConfig>,
    global: Arc<Semaphore>,
    progress: ProgressBar,
    /// Which ports have a final state.
    settled: Vec<bool>,
    /// The results of settled ports that are not closed, by index into `ports`.
    kept: HashMap<usize, PortResult>,
    rtt: RttEstimator,
    window: Window,
    stats: HostStats,
    next_fresh: usize,
    retry_now: VecDeque<Pending>,
    retry_filtered: VecDeque<Pending>,
    ident_queue: VecDeque<usize>,
    in_flight: usize,
    ident_in_flight: usize,
    backoff: Duration,
    backoff_until: Option<tokio::time::Instant>,
    sweeping: Arc<Sweeping>,
    /// A refused socket kept for the next inline probe, with its place in the run's socket
    /// budget.
    spare: Option<(connect::Spare, OwnedSemaphorePermit)>,
}

impl HostRun {
    fn new(
        address: IpAddr,
        ports: Arc<[u16]>,
        config: Arc<ScanConfig>,
        global: Arc<Semaphore>,
        progress: ProgressBar,
        sweeping: Arc<Sweeping>,
    ) -> Self {
        HostRun {
            address,
            settled: vec![false; ports.len()],
            kept: HashMap::new(),
            rtt: RttEstimator::new(
                config.initial_timeout,
                config.min_timeout,
                config.max_timeout,
            ),
            window: Window::new(config.per_host_start, config.per_host_max),
            ports,
            config,
            global,
            progress,
            stats: HostStats::default(),
            next_fresh: 0,
            retry_now: VecDeque::new(),
            retry_filtered: VecDeque::new(),
            ident_queue: VecDeque::new(),
            in_flight: 0,
            ident_in_flight: 0,
            backoff: BACKOFF_MIN,
            backoff_until: None,
            sweeping,
            spare: None,
        }
    }

    async fn run(mut self, stop: &StopScan) -> HostScan {
        let started = Instant::now();
        let _sweeping = self.sweeping.enter();
        let budget = self.config.host_timeout;
        let budget_spent = async {
            match budget {
                Some(budget) => tokio::time::sleep(budget).await,
                None => std::future::pending().await,
            }
        };
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let unprobed_because = tokio::select! {
            () = self.probe_all(&mut tasks) => NOT_PROBED_INTERRUPTED,
            () = budget_spent => NOT_PROBED_BUDGET,
            () = stop.requested() => NOT_PROBED_INTERRUPTED,
        };
        tasks.abort_all();
        self.finish(started, unprobed_because)
    }

    /// Probes every port and identifies the open ones, until no work is left.
    async fn probe_all(&mut self, tasks: &mut JoinSet<Done>) {
        loop {
            if self
                .backoff_until
                .is_some_and(|t| t <= tokio::time::Instant::now())
            {
                self.backoff_until = None;
            }
            let mut settled_here = 0;
            while self.in_flight < self.window.size() {
                let Some(job) = self.next_job() else { break };
                let (spare, permit) = match self.spare.take() {
                    Some(kept) => kept,
                    None => match Arc::clone(&self.global).acquire_owned().await {
                        Ok(permit) => (connect::Spare::default(), permit),
                        Err(_) => break,
                    },
                };
                if self.launch(tasks, job, permit, spare) == Launched::Settled {
                    settled_here += 1;
                    if settled_here % SETTLED_BEFORE_YIELD == 0 {
                        // Other hosts' answers and timers wait while this loop runs, and so do
                        // this host's own: open ports to identify, timeouts to retry.
                        tokio::task::yield_now().await;
                        while let Some(joined) = tasks.try_join_next() {
                            self.joined(joined);
                        }
                    }
                }
            }
            // A kept socket lives only while this loop runs: a host waiting for answers or for
            // a backoff holds no place of the budget it does not use.
            self.spare = None;
            if self.in_flight == 0 {
                match self.backoff_until {
                    Some(t) if self.has_probe_work() => {
                        tokio::time::sleep_until(t).await;
                        continue;
                    }
                    _ => break,
                }
            }
            let joined = match self.backoff_until {
                Some(t) => tokio::select! {
                    joined = tasks.join_next() => joined,
                    _ = tokio::time::sleep_until(t) => continue,
                },
                None => tasks.join_next().await,
            };
            match joined {
                Some(joined) => self.joined(joined),
                None => self.in_flight = 0,
            }
        }
    }

    /// Books one task that ended.
    fn joined(&mut self, joined: Result<Done, tokio::task::JoinError>) {
        match joined {
            Ok(done) => self.complete(done),
            Err(e) => {
                // A probe task cannot panic by design; keep the books right anyway.
                tracing::error!(error = %e, "probe task failed");
                self.in_flight = self.in_flight.saturating_sub(1);
            }
        }
    }

    fn has_probe_work(&self) -> bool {
        !self.retry_now.is_empty()
            || self.next_fresh < self.ports.len()
            || !self.retry_filtered.is_empty()
    }

    fn next_job(&mut self) -> Option<Job> {
        if self.ident_in_flight < IDENT_PER_HOST {
            if let Some(idx) = self.ident_queue.pop_front() {
                return Some(Job::Ident(idx));
            }
        }
        if self.backoff_until.is_some() {
            return None;
        }
        if let Some(p) = self.retry_now.pop_front() {
            return Some(Job::Probe(p));
        }
        if self.next_fresh < self.ports.len() {
            self.next_fresh += 1;
            return Some(Job::Probe(Pending::fresh(self.next_fresh - 1)));
        }
        self.retry_filtered.pop_front().map(Job::Probe)
    }

    /// Starts `job` with `permit`, its place in the socket budget. A probe whose answer the OS
    /// already processed inside `connect()` (a RST from a near host) is settled at once, without
    /// a task or a timer, on `spare`'s socket if it holds one; a socket refused again is kept
    /// with the permit for the next probe. Any other job closes `spare`.
    fn launch(
        &mut self,
        tasks: &mut JoinSet<Done>,
        job: Job,
        permit: OwnedSemaphorePermit,
        mut spare: connect::Spare,
    ) -> Launched {
        self.in_flight += 1;
        match job {
            Job::Probe(pending) => {
                self.stats.probes += 1;
                let addr = SocketAddr::new(self.address, self.ports[pending.idx]);
                let deadline = self.rtt.timeout();
                let inline = !crate::budget::budget().paces_runs() && self.sweeping.settle_inline();
                let begun = match inline.then(|| connect::begin_on(addr, &mut spare).settled()) {
                    Some(Ok(outcome)) => {
                        if spare.holds_socket() {
                            self.spare = Some((spare, permit));
                        }
                        self.complete(Done::Probe(pending, outcome));
                        return Launched::Settled;
                    }
                    Some(Err(begun)) => Some(begun),
                    None => None,
                };
                tasks.spawn(async move {
                    let begun = match begun {
                        Some(begun) => begun,
                        None => {
                            crate::budget::budget().pace_run().await;
                            connect::begin(addr)
                        }
                    };
                    let outcome = begun.outcome(addr, deadline).await;
                    drop(permit);
                    Done::Probe(pending, outcome)
                });
            }
            Job::Ident(idx) => {
                self.ident_in_flight += 1;
                let addr = SocketAddr::new(self.address, self.ports[idx]);
                let config = Arc::clone(&self.config);
                tasks.spawn(async move {
                    let info = identify_service(addr, &config).await;
                    drop(permit);
                    Done::Ident(idx, info)
                });
            }
        }
        Launched::Waiting
    }

    fn complete(&mut self, done: Done) {
        self.in_flight -= 1;
        let (mut pending, outcome) = match done {
            Done::Ident(idx, info) => {
                self.ident_in_flight -= 1;
                if let Some(result) = self.kept.get_mut(&idx) {
                    result.service = info;
                }
                return;
            }
            Done::Probe(pending, outcome) => (pending, outcome),
        };
        match outcome {
            Outcome::Open(rtt) => {
                self.answered(rtt);
                if self.config.grab_banners {
                    if self.stats.open < MAX_IDENT_PER_HOST {
                        self.ident_queue.push_back(pending.idx);
                    } else {
                        self.stats.unidentified += 1;
                    }
                }
                self.settle(pending.idx, PortState::Open, Some(rtt), None);
            }
            Outcome::Closed(rtt) => {
                self.answered(rtt);
                self.settle(pending.idx, PortState::Closed, Some(rtt), None);
            }
            Outcome::Filtered => {
                self.window.on_completion(self.rtt.inflated());
                if pending.timeouts < self.config.filtered_retries {
                    pending.timeouts += 1;
                    self.retry_filtered.push_back(pending);
                } else {
                    self.settle(pending.idx, PortState::Filtered, None, None);
                }
            }
            Outcome::SelfConnect => {
                pending.self_connects += 1;
                if pending.self_connects < SELF_CONNECT_ATTEMPTS {
                    self.retry_now.push_front(pending);
                } else {
                    self.settle(pending.idx, PortState::Closed, None, None);
                }
            }
            Outcome::LocalResource(e) => {
                self.window.on_resource_error();
                pending.resource_errors += 1;
                let now = tokio::time::Instant::now();
                self.backoff_until = Some(now + self.backoff);
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                if pending.resource_errors < RESOURCE_ATTEMPTS {
                    tracing::debug!(host = %self.address, error = %e, "local resource shortage, backing off");
                    self.retry_now.push_front(pending);
                } else {
                    let msg = format!(
                        "local resource exhausted after {} attempts: {e}",
                        pending.resource_errors
                    );
                    self.settle(pending.idx, PortState::Error, None, Some(msg));
                }
            }
            Outcome::Error(e) => {
                self.window.on_completion(self.rtt.inflated());
                self.settle(pending.idx, PortState::Error, None, Some(e.to_string()));
            }
        }
    }

    fn answered(&mut self, rtt: Duration) {
        self.rtt.sample(rtt);
        self.window.on_completion(self.rtt.inflated());
        self.backoff = BACKOFF_MIN;
    }

    fn settle(
        &mut self,
        idx: usize,
        state: PortState,
        rtt: Option<Duration>,
        error: Option<String>,
    ) {
        match state {
            PortState::Open => self.stats.open += 1,
            PortState::Closed => self.stats.closed += 1,
            PortState::Filtered => self.stats.filtered += 1,
            PortState::Error => self.stats.errors += 1,
        }
        if let Some(settled) = self.settled.get_mut(idx) {
            *settled = true;
        }
        if state != PortState::Closed {
            self.kept.insert(
                idx,
                PortResult {
                    port: self.ports[idx],
                    state,
                    rtt,
                    error,
                    service: None,
                },
            );
        }
        self.progress.inc(1);
    }

    /// The host's result; ports never settled are errors saying `unprobed_because`.
    fn finish(mut self, started: Instant, unprobed_because: &str) -> HostScan {
        let mut ports: Vec<PortResult> = self.kept.into_values().collect();
        for (idx, _) in self.settled.iter().enumerate().filter(|(_, s)| !**s) {
            self.stats.errors += 1;
            ports.push(PortResult {
                port: self.ports[idx],
                state: PortState::Error,
                rtt: None,
                error: Some(unprobed_because.to_string()),
                service: None,
            });
        }
        ports.sort_by_key(|p| p.port);
        self.stats.srtt_us = self.rtt.srtt_us();
        self.stats.final_timeout_ms = self.rtt.timeout().as_millis() as u64;
        self.stats.peak_window = self.window.peak();
        self.stats.elapsed_ms = started.elapsed().as_millis() as u64;
        HostScan {
            address: self.address,
            ports,
            stats: self.stats,
        }
    }
}

enum Job {
    Probe(Pending),
    Ident(usize),
}

/// An optional [`Duration`] in JSON as milliseconds (a number with microsecond precision).
mod optional_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, out: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => out.serialize_f64((d.as_micros() as f64) / 1000.0),
            None => out.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Option<Duration>, D::Error> {
        let ms: Option<f64> = Option::deserialize(input)?;
        Ok(ms
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_micros((ms * 1000.0).round() as u64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

    fn scan_config(ports: Vec<u16>) -> ScanConfig {
        ScanConfig {
            ports,
            grab_banners: false,
            ..ScanConfig::default()
        }
    }

    /// Listeners kept open, and ports known free (bound, then released).
    fn open_and_closed(ip: IpAddr, n: usize) -> (Vec<TcpListener>, Vec<u16>, Vec<u16>) {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind(SocketAddr::new(ip, 0)).unwrap())
            .collect();
        let open = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        // Held together, then released: n distinct free ports (one at a time, the kernel may
        // hand the same released port out again).
        let held: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind(SocketAddr::new(ip, 0)).unwrap())
            .collect();
        let closed = held
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        drop(held);
        (listeners, open, closed)
    }

    async fn assert_exact_states(ip: IpAddr) {
        let (_listeners, open, closed) = open_and_closed(ip, 5);
        let mut ports: Vec<u16> = closed.iter().chain(&open).copied().collect();
        ports.push(open[0]); // duplicates are probed once
        let config = scan_config(ports);
        let limits = prepare_limits(&config);
        let progress = ProgressBar::hidden();
        let scans = scan_hosts(&[ip], &config, &limits, &progress).await;

        assert_eq!(scans.len(), 1);
        let scan = &scans[0];
        assert_eq!(scan.address, ip);
        // Closed ports are counted, not kept: a record per open port only.
        assert_eq!(scan.ports.len(), 5);
        assert!(scan.ports.windows(2).all(|w| w[0].port < w[1].port));
        for r in &scan.ports {
            assert!(open.contains(&r.port), "port {}: {r:?}", r.port);
            assert_eq!(r.state, PortState::Open, "port {}: {r:?}", r.port);
            assert!(r.error.is_none());
            assert!(r.service.is_none());
        }
        assert_eq!((scan.stats.open, scan.stats.closed), (5, 5));
        assert_eq!((scan.stats.filtered, scan.stats.errors), (0, 0));
        assert!(scan.stats.probes >= 10);
        assert!(scan.stats.srtt_us.is_some());
        assert!(scan.stats.final_timeout_ms >= 100 && scan.stats.final_timeout_ms <= 1500);
        assert_eq!(progress.position(), 10);
    }

    #[tokio::test]
    async fn exact_open_closed_ipv4() {
        assert_exact_states(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
    }

    #[tokio::test]
    async fn exact_open_closed_ipv6() {
        if TcpListener::bind("[::1]:0").is_err() {
            println!("note: no IPv6 loopback on this machine, skipping");
            return;
        }
        assert_exact_states(IpAddr::V6(Ipv6Addr::LOCALHOST)).await;
    }

    #[tokio::test]
    async fn several_hosts_share_a_tiny_global_limit() {
        let mut hosts = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        if cfg!(target_os = "linux") {
            hosts.push(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        }
        if TcpListener::bind("[::1]:0").is_ok() {
            hosts.push(IpAddr::V6(Ipv6Addr::LOCALHOST));
        }
        let mut keep = Vec::new();
        let mut expected = Vec::new();
        let mut ports = Vec::new();
        for &ip in &hosts {
            let (listeners, open, closed) = open_and_closed(ip, 2);
            keep.extend(listeners);
            ports.extend(open.iter().chain(&closed));
            expected.push(open);
        }
        let config = ScanConfig {
            global_limit: Some(2),
            per_host_start: 1,
            per_host_max: 2,
            ..scan_config(ports.clone())
        };
        let limits = prepare_limits(&config);
        assert_eq!(limits.global_in_flight, 2);
        let progress = ProgressBar::hidden();
        let scans = scan_hosts(&hosts, &config, &limits, &progress).await;
        assert_eq!(scans.len(), hosts.len());
        for ((scan, &ip), open) in scans.iter().zip(&hosts).zip(&expected) {
            assert_eq!(scan.address, ip);
            let mut unique = ports.clone();
            unique.sort_unstable();
            unique.dedup();
            // Ports of the other hosts' listeners are closed here: counted, not kept.
            assert_eq!(scan.ports.len() + scan.closed_count(), unique.len(), "{ip}");
            assert!(scan.stats.peak_window <= 2);
            let kept: Vec<u16> = scan.ports.iter().map(|r| r.port).collect();
            let mut want = open.clone();
            want.sort_unstable();
            assert_eq!(kept, want, "{ip}");
            assert!(scan.ports.iter().all(|r| r.state == PortState::Open));
        }
        assert_eq!(
            progress.position() as usize,
            scans
                .iter()
                .map(|s| s.ports.len() + s.closed_count())
                .sum::<usize>()
        );
    }

    #[tokio::test]
    async fn open_ports_get_identified() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ = s.write_all(b"SSH-2.0-dropbear_2022.83\r\n").await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                });
            }
        });
        let config = ScanConfig {
            grab_banners: true,
            ..scan_config(vec![port])
        };
        let limits = prepare_limits(&config);
        let scans = scan_hosts(
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            &config,
            &limits,
            &ProgressBar::hidden(),
        )
        .await;
        let r = &scans[0].ports[0];
        assert_eq!(r.state, PortState::Open);
        let service = r.service.as_ref().expect("identified");
        assert_eq!(service.kind, ServiceKind::Ssh);
        assert_eq!(service.probe, "null");
        assert_eq!(service.banner, "SSH-2.0-dropbear_2022.83\\x0d\\x0a");
    }

    /// A silent open port whose identification would hold the host's only slot for 20 s:
    /// with a 400 ms budget the scan ends at once, keeps the open port it found, and reports
    /// the ports it never reached as not probed for that reason (not as closed).
    #[tokio::test]
    async fn the_host_budget_ends_a_scan_and_keeps_what_was_found() {
        let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = tarpit.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = tarpit.accept().await {
                held.push(s);
            }
        });
        let (_keep, _, closed) = open_and_closed(IpAddr::V4(Ipv4Addr::LOCALHOST), 50);
        let mut ports = vec![port];
        ports.extend(&closed);
        let config = ScanConfig {
            grab_banners: true,
            banner_timeout: Duration::from_secs(20),
            per_host_start: 1,
            per_host_max: 1,
            host_timeout: Some(Duration::from_millis(400)),
            ..scan_config(ports.clone())
        };
        let limits = prepare_limits(&config);
        let started = Instant::now();
        let scans = scan_hosts(
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            &config,
            &limits,
            &ProgressBar::hidden(),
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let scan = &scans[0];
        let state = |p: u16| scan.ports.iter().find(|r| r.port == p).expect("port");
        assert_eq!(state(port).state, PortState::Open);
        assert!(
            state(port).service.is_none(),
            "identification was cut short"
        );
        let unprobed: Vec<&PortResult> = scan
            .ports
            .iter()
            .filter(|r| r.error.as_deref() == Some(NOT_PROBED_BUDGET))
            .collect();
        assert!(!unprobed.is_empty(), "{:?}", scan.ports);
        assert!(unprobed.iter().all(|r| r.state == PortState::Error));
        assert!(scan.ports.iter().all(|r| r.state != PortState::Filtered));
    }

    /// A stop raised mid-scan ends every host at once, and each still hands in the ports it
    /// settled (the silent open one) with the rest marked as not probed because of the stop.
    #[tokio::test]
    async fn a_stop_keeps_what_each_host_measured() {
        let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = tarpit.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = tarpit.accept().await {
                held.push(s);
            }
        });
        let (_keep, _, closed) = open_and_closed(IpAddr::V4(Ipv4Addr::LOCALHOST), 20);
        let mut ports = vec![port];
        ports.extend(&closed);
        let config = ScanConfig {
            grab_banners: true,
            banner_timeout: Duration::from_secs(20),
            per_host_start: 1,
            per_host_max: 1,
            ..scan_config(ports)
        };
        let limits = prepare_limits(&config);
        let (raise, stop) = StopScan::new();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = raise.send(true);
        });
        let mut scans = Vec::new();
        let started = Instant::now();
        scan_hosts_with_extra(
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            &[],
            &config,
            &limits,
            &ProgressBar::hidden(),
            &stop,
            |_, scan| scans.push(scan),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(10));
        let [scan] = scans.as_slice() else {
            panic!("one host scan: {scans:?}")
        };
        let open: Vec<u16> = scan
            .ports
            .iter()
            .filter(|r| r.state == PortState::Open)
            .map(|r| r.port)
            .collect();
        assert_eq!(open, [port]);
        assert!(scan
            .ports
            .iter()
            .any(|r| r.error.as_deref() == Some(NOT_PROBED_INTERRUPTED)));
    }

    /// `host_gate` (`--max-hosts`): no host is scanned while every permit is taken elsewhere
    /// (the service checks of other devices), and each scan gives its permit back.
    #[tokio::test]
    async fn host_scans_wait_for_the_host_gate() {
        let (_listeners, _open, closed) = open_and_closed(IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
        let gate = Arc::new(Semaphore::new(1));
        let config = ScanConfig {
            host_gate: Some(Arc::clone(&gate)),
            ..scan_config(closed)
        };
        let limits = prepare_limits(&config);
        let hosts: Vec<IpAddr> = (1..=3u8).map(|h| IpAddr::from([127, 0, 0, h])).collect();
        let held = Arc::clone(&gate).acquire_owned().await.unwrap();
        let (_stop_sender, stop) = StopScan::new();
        let mut seen = Vec::new();
        let bar = ProgressBar::hidden();
        {
            let scanning =
                scan_hosts_with_extra(&hosts, &[], &config, &limits, &bar, &stop, |i, _| {
                    seen.push(i)
                });
            tokio::pin!(scanning);
            // Three one-port loopback scans take milliseconds; with the permit held none
            // starts.
            assert!(
                tokio::time::timeout(Duration::from_millis(300), &mut scanning)
                    .await
                    .is_err(),
                "the scan must wait for the gate"
            );
            drop(held);
            scanning.await;
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2]);
        assert_eq!(gate.available_permits(), 1);
    }

    /// A host with more open ports than the identification cap: every port is reported open,
    /// the first [`MAX_IDENT_PER_HOST`] identified, and the count of the rest is kept.
    #[tokio::test]
    async fn identification_is_capped_on_hosts_with_many_open_ports() {
        let mut ports = Vec::new();
        for _ in 0..(MAX_IDENT_PER_HOST as usize + 44) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ports.push(listener.local_addr().unwrap().port());
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                for _ in 0..8 {
                    let Ok((mut s, _)) = listener.accept().await else {
                        return;
                    };
                    let _ = s.write_all(b"SSH-2.0-lab\r\n").await;
                }
            });
        }
        let config = ScanConfig {
            grab_banners: true,
            ..scan_config(ports)
        };
        let limits = prepare_limits(&config);
        let scans = scan_hosts(
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            &config,
            &limits,
            &ProgressBar::hidden(),
        )
        .await;
        let scan = &scans[0];
        assert_eq!(scan.stats.open, MAX_IDENT_PER_HOST + 44);
        assert_eq!(scan.stats.unidentified, 44);
        let identified = scan.ports.iter().filter(|p| p.service.is_some()).count();
        assert_eq!(identified, MAX_IDENT_PER_HOST as usize);
    }

    #[test]
    fn prioritized_ports_cover_everything_once() {
        let ports = all_ports_prioritized();
        assert_eq!(ports.len(), 65_535);
        assert_eq!(&ports[..3], &[80, 23, 443]);
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), 65_535);
        assert!(!unique.contains(&0));
    }

    #[test]
    fn round_trips_are_milliseconds_in_json() {
        let result = PortResult {
            port: 80,
            state: PortState::Open,
            rtt: Some(Duration::from_micros(1234)),
            error: None,
            service: None,
        };
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["rtt_ms"], 1.234);
        let back: PortResult = serde_json::from_value(json).unwrap();
        assert_eq!(back, result);
    }

    #[test]
    fn serde_names_are_lowercase() {
        let json = serde_json::to_string(&(PortState::Filtered, ServiceKind::Mqtt)).unwrap();
        assert_eq!(json, r#"["filtered","mqtt"]"#);
    }
}
