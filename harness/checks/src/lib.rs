//! Checks: each turns what was observed about one device into findings for ★1 criteria.
//!
//! Passive checks read the port scan and the inventory. Active checks open connections of their
//! own to the device's services (credential probes, TLS/SSH inspection, …); they run after the
//! port scan, one task per device, and can be interrupted.

pub mod access;
pub mod bruteforce;
pub mod crypto;
pub mod declared;
pub mod identity;
pub mod interfaces;
pub mod registry;
pub mod udp;
pub mod web;

use std::sync::Arc;

use chrono::NaiveDate;

use jcstar_model::device::Device;
use jcstar_model::observed::{Sighting, UdpPort};
use jcstar_model::profile::CheckId;
use jcstar_model::profile::Profile;
use jcstar_model::{Finding, Verdict};
use jcstar_probe::scan::{HostScan, PortState, StopScan};

/// The criteria the enabled active checks bear on.
pub fn active_criteria(profile: &Profile) -> Vec<String> {
    let mut criteria: Vec<String> = CheckId::ALL
        .into_iter()
        .filter(|check| check.is_active() && profile.check_enabled(*check))
        .flat_map(|check| check.criteria().iter().map(|id| id.to_string()))
        .collect();
    criteria.sort();
    criteria.dedup();
    criteria
}

/// The finding recorded for a device whose active checks did not finish; `why` says what
/// stopped the run (an interrupt, the run's time budget).
pub fn active_not_finished(profile: &Profile, why: &str) -> Finding {
    Finding {
        check: "run.active_checks".to_string(),
        criteria: active_criteria(profile),
        verdict: Verdict::Inconclusive,
        summary: format!("the service checks did not finish: {why}; run it again"),
        evidence: Vec::new(),
    }
}

/// The finding recorded for a device whose service checks crashed (a defect in jcstar, not
/// in the device): its active criteria are `error`, the other devices are unaffected.
pub fn active_crashed(profile: &Profile, panic: &str) -> Finding {
    Finding {
        check: "run.active_checks".to_string(),
        criteria: active_criteria(profile),
        verdict: Verdict::Error,
        summary: format!(
            "the service checks of this device crashed ({}); the other devices were not affected; please report this defect in jcstar",
            jcstar_model::bounded_to(panic, 300)
        ),
        evidence: Vec::new(),
    }
}

/// Everything the passive checks may read about one device.
pub struct Observation<'a> {
    /// The device and its declarations.
    pub device: &'a Device,
    /// Its TCP scan; `None` when the run was interrupted before it finished.
    pub scan: Option<&'a HostScan>,
    /// The TCP ports that were probed.
    pub scanned_ports: &'a [u16],
    /// Today's date, for date-bound evidence.
    pub today: NaiveDate,
}

/// Runs every passive check the profile enables and returns their findings.
pub fn run_passive(observation: &Observation<'_>, profile: &Profile) -> Vec<Finding> {
    let input = registry::PassiveInput {
        observation,
        profile,
    };
    let mut found = ActiveOutcome::default();
    for check in registry::PASSIVE {
        if registry::enabled(check, profile) {
            // Passive checks read only what is in memory: their future is ready when first
            // polled (debug builds, which the tests run, check it).
            let ready = check
                .run(&input, &mut found)
                .as_mut()
                .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
            debug_assert!(ready.is_ready(), "a passive check waited");
        }
    }
    found.findings
}

/// What an active check is allowed to do in this run.
#[derive(Debug, Clone)]
pub struct ActiveContext {
    /// The profile in force.
    pub profile: Arc<Profile>,
    /// Whether intrusive checks (credential guessing, lockout tests) may run.
    pub intrusive: bool,
    /// Every device of the run, for rules across units of one model.
    pub peers: Arc<Vec<Device>>,
}

impl ActiveContext {
    /// The one gate for intrusive traffic: whether credentials may be sent to a device
    /// (default-credential guessing, SNMP community strings, one unit's credential on another).
    pub fn may_send_credentials(&self) -> bool {
        self.intrusive && self.profile.check_enabled(CheckId::DefaultCredentials)
    }
}

/// One device's input to the active checks, owned so each device runs in its own task.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    /// The device.
    pub device: Device,
    /// Its finished TCP scan (open ports carry the identified service).
    pub scan: HostScan,
}

/// What the active checks found on one device.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ActiveOutcome {
    /// Findings for the ★1 criteria.
    pub findings: Vec<Finding>,
    /// UDP ports probed, with their states.
    pub udp_ports: Vec<UdpPort>,
    /// Identity and software sightings gathered by the checks, judged together at the end.
    pub sightings: Vec<Sighting>,
    /// Not every check ran to its end: the run was stopped (Ctrl-C, `--max-duration`), or
    /// this is a snapshot journaled mid-way. The findings of the finished checks are kept; the
    /// rest are `inconclusive`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl ActiveOutcome {
    /// Adds what another check found (run on its own `Found`) to this outcome.
    fn absorb(&mut self, other: ActiveOutcome) {
        self.findings.extend(other.findings);
        self.udp_ports.extend(other.udp_ports);
        self.sightings.extend(other.sightings);
        self.interrupted |= other.interrupted;
    }
}

/// Runs every active check the profile enables against one device.
pub async fn run_active(target: ActiveTarget, context: ActiveContext) -> ActiveOutcome {
    let (_never, stop) = StopScan::new();
    run_active_until(target, context, None, &stop, |_| {}, |_| {}).await
}

/// Where one device's active checks are, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckProgress {
    /// The check about to run (its `[checks] enabled` name), or `None` once all are done.
    pub running: Option<&'static str>,
    /// Checks finished so far.
    pub done: usize,
    /// Checks the profile enables for the run.
    pub total: usize,
}

/// Like [`run_active`], within the device's time budget, calling `observe` before each stage
/// and once when all are done. A stage is one check, or neighbouring checks that only gather
/// (crypto, UDP, web), which run at once. A check still running at `deadline`, or when `stop`
/// is raised, is stopped, and it and the checks after it leave an `inconclusive` finding for
/// their criteria; what the finished checks found is kept. After each stage but the last,
/// `checkpoint` gets the outcome so far, marked partial, the checks still to run
/// `inconclusive` (for a journal that must survive a crash mid-way).
pub async fn run_active_until(
    target: ActiveTarget,
    context: ActiveContext,
    deadline: Option<tokio::time::Instant>,
    stop: &StopScan,
    mut observe: impl FnMut(CheckProgress) + Send,
    mut checkpoint: impl FnMut(&ActiveOutcome) + Send,
) -> ActiveOutcome {
    let mut outcome = ActiveOutcome::default();
    let input = registry::ActiveInput {
        target: &target,
        context: &context,
    };
    let enabled: Vec<_> = registry::ACTIVE
        .iter()
        .filter(|check| registry::enabled(**check, &context.profile))
        .collect();
    let total = enabled.len();
    let mut unfinished: Vec<CheckId> = Vec::new();
    let mut interrupted: Vec<CheckId> = Vec::new();
    let address = target.scan.address;
    let mut next = 0;
    while next < total {
        // A stage: neighbouring gathering checks together, any other check alone.
        let len = match enabled[next].gathers_only() {
            true => enabled[next..]
                .iter()
                .take_while(|c| c.gathers_only())
                .count(),
            false => 1,
        };
        let stage = &enabled[next..next + len];
        let ids = || stage.iter().flat_map(|c| c.ids().iter().copied());
        if !unfinished.is_empty() {
            unfinished.extend(ids());
            next += len;
            continue;
        }
        observe(CheckProgress {
            running: Some(name_of(stage[0].ids())),
            done: next,
            total,
        });
        if stop.raised() {
            interrupted.extend(ids());
            next += len;
            continue;
        }
        let ended = if len == 1 {
            // Alone, on the outcome so far: identity judges what the gathering found.
            let run = timed(
                address,
                name_of(stage[0].ids()),
                stage[0].run(&input, &mut outcome),
            );
            let ended = race(run, deadline, stop).await;
            match ended {
                Ended::Finished => {}
                Ended::Budget => unfinished.extend(ids()),
                Ended::Stopped => interrupted.extend(ids()),
            }
            ended
        } else {
            let mut results: Vec<Option<registry::Found>> = vec![None; len];
            let ended = {
                let input = &input;
                let runs: Vec<_> = stage
                    .iter()
                    .map(|check| async move {
                        let mut found = registry::Found::default();
                        timed(address, name_of(check.ids()), check.run(input, &mut found)).await;
                        found
                    })
                    .collect();
                // Each check that ends mid-stage reaches the journal at once, as a partial
                // snapshot with the stage's others and every later check still to run.
                let later = &enabled[next + len..];
                let outcome = &outcome;
                let snapshot = |results: &[Option<registry::Found>]| {
                    let mut partial = outcome.clone();
                    let mut pending: Vec<CheckId> = Vec::new();
                    for (check, result) in stage.iter().zip(results) {
                        match result {
                            Some(found) => partial.absorb(found.clone()),
                            None => pending.extend(check.ids()),
                        }
                    }
                    pending.extend(later.iter().flat_map(|c| c.ids().iter().copied()));
                    partial.findings.push(run_stopped(&pending));
                    partial.interrupted = true;
                    qualify(&mut partial, &target.scan);
                    checkpoint(&partial);
                };
                race(all_of(runs, &mut results, snapshot), deadline, stop).await
            };
            // In registry order, whatever order they finished in.
            for (check, result) in stage.iter().zip(results) {
                match (result, ended) {
                    (Some(found), _) => outcome.absorb(found),
                    (None, Ended::Budget) => unfinished.extend(check.ids()),
                    (None, _) => interrupted.extend(check.ids()),
                }
            }
            ended
        };
        next += len;
        let rest: Vec<CheckId> = enabled[next..]
            .iter()
            .flat_map(|c| c.ids().iter().copied())
            .collect();
        if ended == Ended::Finished && !rest.is_empty() {
            let mut partial = outcome.clone();
            partial.findings.push(run_stopped(&rest));
            partial.interrupted = true;
            qualify(&mut partial, &target.scan);
            checkpoint(&partial);
        }
    }
    if !unfinished.is_empty() {
        outcome.findings.push(time_budget_exceeded(&unfinished));
    }
    if !interrupted.is_empty() {
        outcome.findings.push(run_stopped(&interrupted));
        outcome.interrupted = true;
    }
    observe(CheckProgress {
        running: None,
        done: total,
        total,
    });
    qualify(&mut outcome, &target.scan);
    outcome
}

/// How a check (or a stage of checks) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Finished,
    /// The device's time budget ran out first.
    Budget,
    /// The run was stopped first.
    Stopped,
}

/// Runs `work` until it ends, the device's `deadline`, or the run's `stop`.
async fn race(
    work: impl std::future::Future<Output = ()>,
    deadline: Option<tokio::time::Instant>,
    stop: &StopScan,
) -> Ended {
    let budget = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = work => Ended::Finished,
        () = budget => Ended::Budget,
        () = stop.requested() => Ended::Stopped,
    }
}

/// A check's name for logs and progress: the first of its `[checks] enabled` switches `ids`.
fn name_of(ids: &[CheckId]) -> &'static str {
    ids.first().map(|id| id.name()).unwrap_or_default()
}

/// `run`, logging how long check `name` took on `address` (`-vv`).
async fn timed(address: std::net::IpAddr, name: &'static str, run: registry::CheckFuture<'_>) {
    let started = tokio::time::Instant::now();
    run.await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(%address, check = name, elapsed_ms, "check finished");
}

/// Polls every run of `runs` until all have ended, putting each one's result in `results` as
/// it ends (so a stage cut short keeps what its finished checks found) and calling
/// `ended_early` with the results so far whenever some, but not all, have ended.
async fn all_of<T, F: std::future::Future<Output = T>>(
    runs: Vec<F>,
    results: &mut [Option<T>],
    mut ended_early: impl FnMut(&[Option<T>]),
) {
    let mut runs: Vec<Option<std::pin::Pin<Box<F>>>> =
        runs.into_iter().map(|run| Some(Box::pin(run))).collect();
    std::future::poll_fn(|cx| {
        let mut ended = false;
        for (slot, result) in runs.iter_mut().zip(results.iter_mut()) {
            if let Some(run) = slot {
                if let std::task::Poll::Ready(value) = run.as_mut().poll(cx) {
                    *result = Some(value);
                    *slot = None;
                    ended = true;
                }
            }
        }
        if runs.iter().all(Option::is_none) {
            return std::task::Poll::Ready(());
        }
        if ended {
            ended_early(results);
        }
        std::task::Poll::Pending
    })
    .await
}

/// "Nothing to test" stands only on a complete look at the device: after an incomplete scan
/// (or, for the login criteria, beside an open port nothing was identified on) a
/// `not_applicable` finding becomes `inconclusive`, saying why.
fn qualify(outcome: &mut ActiveOutcome, scan: &HostScan) {
    let incomplete = incomplete_scan(scan);
    let unidentified = unidentified_open(scan);
    for finding in &mut outcome.findings {
        if finding.verdict != Verdict::NotApplicable {
            continue;
        }
        let about_logins = finding
            .criteria
            .iter()
            .any(|c| LOGIN_CRITERIA.contains(&c.as_str()));
        let why = match (&incomplete, &unidentified) {
            (Some(why), _) => why,
            (None, Some(why)) if about_logins => why,
            _ => continue,
        };
        finding.verdict = Verdict::Inconclusive;
        finding.summary = format!(
            "{}; but the look at the device was incomplete ({why}), so a login or service may have been missed",
            finding.summary
        );
    }
}

/// The finding for checks the device's time budget cut short or never let start.
pub fn time_budget_exceeded(checks: &[CheckId]) -> Finding {
    Finding {
        check: "run.time_budget".to_string(),
        criteria: criteria_of(checks),
        verdict: Verdict::Inconclusive,
        summary: format!(
            "time budget exceeded: the {} check(s) did not finish within the device's time budget (--host-timeout / host_timeout_s); give it more time to judge these criteria",
            check_names(checks)
        ),
        evidence: Vec::new(),
    }
}

/// The `inconclusive` finding for the criteria of `checks`, which the run's end (Ctrl-C,
/// `--max-duration`, a crash) cut off or never started.
pub fn run_stopped(checks: &[CheckId]) -> Finding {
    Finding {
        check: "run.stopped".to_string(),
        criteria: criteria_of(checks),
        verdict: Verdict::Inconclusive,
        summary: format!(
            "not finished: the run ended (Ctrl-C, a signal, --max-duration or a crash) before the {} check(s) finished; `jcstar scan --resume DIR` runs them again",
            check_names(checks)
        ),
        evidence: Vec::new(),
    }
}

fn criteria_of(checks: &[CheckId]) -> Vec<String> {
    let mut criteria: Vec<String> = checks
        .iter()
        .flat_map(|c| c.criteria().iter().map(|id| id.to_string()))
        .collect();
    criteria.sort();
    criteria.dedup();
    criteria
}

fn check_names(checks: &[CheckId]) -> String {
    let mut names: Vec<&str> = checks.iter().map(|c| c.name()).collect();
    names.dedup();
    names.join(", ")
}

/// Why a port scan cannot stand behind "nothing to test", if it cannot: ports that could not
/// be probed, or a device that answered on none of them.
pub fn incomplete_scan(scan: &HostScan) -> Option<String> {
    let errors = scan
        .ports
        .iter()
        .filter(|p| p.state == PortState::Error)
        .count();
    if errors > 0 {
        return Some(format!("{errors} port(s) could not be probed"));
    }
    (!scan.answered() && !scan.ports.is_empty()).then(|| {
        format!(
            "the device answered on none of the {} scanned ports",
            scan.ports.len()
        )
    })
}

/// The criteria about login surfaces, whose "no login surface" needs every open port known.
const LOGIN_CRITERIA: [&str; 3] = ["S1.1-01", "S1.1-02", "S1.1-04"];

/// Why "no login surface" cannot stand, if it cannot: open ports whose service is unknown (a
/// tarpit, a private protocol) could each hide a login.
pub fn unidentified_open(scan: &HostScan) -> Option<String> {
    let unknown: Vec<String> = scan
        .ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .filter(|p| {
            p.service
                .as_ref()
                .is_none_or(|s| s.kind == jcstar_probe::scan::ServiceKind::Unknown)
        })
        .map(|p| format!("{}/tcp", p.port))
        .collect();
    if let Some(first) = unknown.first() {
        let more = match unknown.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        return Some(format!(
            "open port {first}{more} answered nothing jcstar could identify"
        ));
    }
    None
}

/// Checks that compare devices with each other (e.g. keys shared across units); they run once
/// every device's findings are in. `findings[i]` belongs to `devices[i]`.
pub fn run_cross_device(devices: &[Device], findings: &mut [Vec<Finding>], profile: &Profile) {
    if profile.check_enabled(CheckId::Crypto) {
        crypto::key_reuse(devices, findings);
    }
}

/// (check, verdict) of each finding, for tests comparing what a check decided.
#[cfg(test)]
pub(crate) fn verdicts(findings: &[Finding]) -> Vec<(&str, jcstar_model::Verdict)> {
    findings
        .iter()
        .map(|f| (f.check.as_str(), f.verdict))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jcstar_probe::scan::{HostStats, PortResult};
    use std::net::{IpAddr, Ipv4Addr};

    fn scan_of(states: &[PortState]) -> HostScan {
        HostScan {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: states
                .iter()
                .enumerate()
                .map(|(i, &state)| PortResult {
                    port: 80 + i as u16,
                    state,
                    rtt: None,
                    error: None,
                    service: None,
                })
                .collect(),
            stats: HostStats::default(),
        }
    }

    #[test]
    fn only_a_complete_scan_stands_behind_nothing_to_test() {
        assert_eq!(
            incomplete_scan(&scan_of(&[PortState::Closed, PortState::Filtered])),
            None
        );
        assert!(incomplete_scan(&scan_of(&[PortState::Closed, PortState::Error])).is_some());
        assert!(incomplete_scan(&scan_of(&[PortState::Filtered, PortState::Filtered])).is_some());
        // An open port nothing was identified on (a tarpit, a private protocol) could hide a
        // login; an identified one stands.
        let mut open = scan_of(&[PortState::Open, PortState::Closed]);
        assert_eq!(incomplete_scan(&open), None);
        assert!(unidentified_open(&open).is_some());
        open.ports[0].service = Some(jcstar_probe::scan::ServiceInfo {
            kind: jcstar_probe::scan::ServiceKind::Ssh,
            banner: "SSH-2.0-OpenSSH_9.2".into(),
            probe: "null".into(),
        });
        assert_eq!(unidentified_open(&open), None);
    }

    /// A device that answered on no port gets no "not applicable": a login surface may have
    /// been behind a port that did not answer.
    #[tokio::test]
    async fn not_applicable_becomes_inconclusive_after_an_incomplete_scan() {
        let profile = Arc::new(Profile::builtin());
        let device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        let target = ActiveTarget {
            device: device.clone(),
            scan: scan_of(&[PortState::Filtered]),
        };
        let context = ActiveContext {
            profile,
            intrusive: true,
            peers: Arc::new(vec![device]),
        };
        let outcome = run_active(target, context).await;
        let access: Vec<_> = outcome
            .findings
            .iter()
            .filter(|f| f.criteria.iter().any(|c| c == "S1.1-02" || c == "S1.1-04"))
            .collect();
        assert!(!access.is_empty());
        for finding in access {
            assert_eq!(
                finding.verdict,
                Verdict::Inconclusive,
                "{}",
                finding.summary
            );
            assert!(
                finding.summary.contains("incomplete"),
                "{}",
                finding.summary
            );
        }
    }

    /// A web UI that accepts connections and never answers: within a 600 ms budget the
    /// checks stop, the criteria they had not judged are inconclusive for that reason, and
    /// nothing passes on the silence.
    #[tokio::test]
    async fn the_time_budget_stops_the_checks_and_nothing_passes_on_silence() {
        let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = tarpit.local_addr().expect("address").port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            for _ in 0..200 {
                match tarpit.accept().await {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => return,
                }
            }
        });
        let device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        let mut scan = scan_of(&[PortState::Open]);
        scan.ports[0].port = port;
        scan.ports[0].service = Some(jcstar_probe::scan::ServiceInfo {
            kind: jcstar_probe::scan::ServiceKind::Http,
            banner: "HTTP/1.1 200 OK".into(),
            probe: "http-get".into(),
        });
        let target = ActiveTarget {
            device: device.clone(),
            scan,
        };
        let context = ActiveContext {
            profile: Arc::new(Profile::builtin()),
            intrusive: true,
            peers: Arc::new(vec![device]),
        };
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(600);
        let (_never, stop) = StopScan::new();
        let outcome =
            run_active_until(target, context, Some(deadline), &stop, |_| {}, |_| {}).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let budget: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.check == "run.time_budget")
            .collect();
        assert_eq!(budget.len(), 1, "{:?}", outcome.findings);
        assert_eq!(budget[0].verdict, Verdict::Inconclusive);
        for criterion in ["S1.1-01", "S1.1-02", "S1.1-04"] {
            assert!(
                budget[0].criteria.iter().any(|c| c == criterion),
                "{criterion}: {:?}",
                budget[0].criteria
            );
        }
        assert!(
            outcome.findings.iter().all(|f| f.verdict != Verdict::Pass),
            "{:?}",
            outcome.findings
        );
    }
}
