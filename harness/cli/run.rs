//! One run: resolve the devices, scan them concurrently, run the checks, aggregate each
//! criterion, and build the report. Ctrl-C stops the scan and still yields a report.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{Local, SecondsFormat};
use tokio::signal::unix::{signal, Signal, SignalKind};

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::inventory::InventoryEntry;
use crate::journal::{Journal, Record, Resumed, RunLine};
use crate::progress::{Mode, Progress};
use crate::targets::spec::{expand, ExpandOptions, SpecSource, TargetHost};
use jcstar_checks::{ActiveContext, ActiveOutcome, ActiveTarget};
use jcstar_model::device::Device;
use jcstar_model::error::InputError;
use jcstar_model::ports::format_port_ranges;
use jcstar_model::profile::{Profile, ScanSettings};
use jcstar_probe::scan::{self, HostScan, PortState, ScanConfig};
use jcstar_report::{
    IntrusiveInfo, ProfileRef, RunReport, ScanInfo, Summary, ToolInfo, SCHEMA_VERSION,
};

/// Everything a run needs, decided before any packet is sent.
pub struct RunPlan {
    /// The profile in force.
    pub profile: Profile,
    /// Devices to test, in report order.
    pub devices: Vec<Device>,
    /// Every device of the whole run, `devices` among them: differs from `devices` only in a
    /// sharded run (`--shard`). Checks comparing units (S1.1-02: one unit's initial password
    /// opening another) see all of them, so a slice judges as the whole run would.
    pub peers: Vec<Device>,
    /// The slice of the run (`--shard I/N`), if sharded.
    pub shard: Option<crate::shard::Shard>,
    /// TCP ports to probe on every device.
    pub ports: Vec<u16>,
    /// Whether intrusive checks may run.
    pub intrusive: IntrusiveInfo,
    /// Show progress on stderr: per-device bars on a terminal, a line per finished device
    /// otherwise (false: `--quiet`).
    pub show_progress: bool,
    /// Print resource limits and timing detail.
    pub verbose: bool,
    /// Devices worked on at once, port scan and service checks (`--max-hosts`); `None`: all.
    pub max_hosts: Option<usize>,
    /// The `-T` preset the profile's timing came from, if one was given.
    pub timing: Option<jcstar_model::profile::TimingPreset>,
    /// Time budget of each device (scan and checks together); `None`: none.
    pub host_timeout: Option<Duration>,
    /// Time budget of the whole run; `None`: none.
    pub max_duration: Option<Duration>,
    /// New connections per second over the run (`--max-rate`); `None`: no limit.
    pub max_rate: Option<u32>,
    /// New connections per minute to one service (`--service-rate`); `None`: no limit.
    pub service_rate: Option<u32>,
    /// Where the reports and the journal go.
    pub out_dir: PathBuf,
    /// What an earlier, interrupted run of this plan measured (`--resume`); empty otherwise.
    pub resumed: Resumed,
}

/// Resolves inventory entries and command-line hosts into devices, inventory first.
///
/// A command-line host that is also in the inventory is tested once, as the inventory device.
pub async fn resolve_devices(
    entries: Vec<InventoryEntry>,
    cli_hosts: Vec<TargetHost>,
    options: &ExpandOptions,
) -> Result<Vec<Device>, InputError> {
    let mut devices: Vec<Device> = Vec::new();
    for entry in entries {
        let source = SpecSource {
            text: entry.address.clone(),
            origin: entry.origin.clone(),
        };
        let hosts = expand(std::slice::from_ref(&source), &[], options).await?;
        let [host] = hosts.as_slice() else {
            return Err(InputError::new(
                entry.origin,
                format!(
                    "device {:?}: address {:?} names {} addresses; a device has exactly one address",
                    entry.name,
                    entry.address,
                    hosts.len()
                ),
            ));
        };
        if let Some(other) = devices.iter().find(|d| d.address == host.address) {
            return Err(InputError::new(
                entry.origin,
                format!(
                    "device {:?} has the same address {} as device {:?}; list each device once",
                    entry.name, host.address, other.name
                ),
            ));
        }
        devices.push(Device {
            name: entry.name,
            address: host.address,
            hostname: host.hostname.clone(),
            model: entry.model,
            declared_services: entry.services,
            credentials: entry.credentials,
            evidence: entry.evidence,
        });
    }
    for host in cli_hosts {
        if !devices.iter().any(|d| d.address == host.address) {
            devices.push(Device::bare(host.address, host.hostname));
        }
    }
    Ok(devices)
}

/// The scanner configuration a profile and port list describe.
pub fn scan_config(profile: &Profile, ports: &[u16]) -> ScanConfig {
    let s = &profile.scan;
    ScanConfig {
        ports: ports.to_vec(),
        initial_timeout: ScanSettings::ms(s.initial_timeout_ms),
        min_timeout: ScanSettings::ms(s.min_timeout_ms),
        max_timeout: ScanSettings::ms(s.max_timeout_ms),
        per_host_start: s.per_host_start,
        per_host_max: s.per_host_max,
        global_limit: (s.global_limit > 0).then_some(s.global_limit),
        banner_bytes: s.banner_bytes,
        banner_timeout: ScanSettings::ms(s.banner_timeout_ms),
        host_timeout: ScanSettings::budget(s.host_timeout_s),
        ..ScanConfig::default()
    }
}

/// Runs the plan and returns the report; never fails once the plan is made. SIGINT or SIGTERM
/// stops the scan: devices already scanned keep their results, the others say they were not.
pub async fn execute(plan: &RunPlan) -> RunReport {
    let started = Local::now();
    let clock = Instant::now();
    // One gate for both phases: a device holds a permit while scanned, then again while its
    // service checks run.
    let host_gate = plan
        .max_hosts
        .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1))));
    let config = ScanConfig {
        host_timeout: plan.host_timeout,
        host_gate: host_gate.clone(),
        ..scan_config(&plan.profile, &plan.ports)
    };
    let limits = scan::prepare_limits(&config);
    // One connection budget for the scan and every check of the run.
    jcstar_probe::budget::install(jcstar_probe::budget::Budget::new(
        jcstar_probe::budget::BudgetSettings {
            max_sockets: limits.global_in_flight,
            max_rate: plan.max_rate.map(f64::from),
            service_per_minute: plan.service_rate,
        },
    ));
    if plan.verbose {
        eprintln!(
            "jcstar: RLIMIT_NOFILE soft {} (hard {}); {} connects in flight at most, {} per host at the start",
            limits.nofile_soft, limits.nofile_hard, limits.global_in_flight, config.per_host_start
        );
    }
    // Every declared TCP service is scanned too, whatever the port list: a service the vendor
    // documents is a login surface and an interface to judge.
    let declared: Vec<Vec<u16>> = plan
        .devices
        .iter()
        .map(crate::assemble::declared_tcp_ports)
        .collect();
    // Devices an interrupted run finished (`--resume`) are not probed again.
    let (addresses, to_scan_declared): (Vec<IpAddr>, Vec<Vec<u16>>) = plan
        .devices
        .iter()
        .zip(&declared)
        .filter(|(d, _)| !plan.resumed.finished(&d.address))
        .map(|(d, extra)| (d.address, extra.clone()))
        .unzip();
    let labels: Vec<String> = plan
        .devices
        .iter()
        .map(|d| {
            if d.name == d.address.to_string() {
                d.name.clone()
            } else {
                format!("{} ({})", d.name, d.address)
            }
        })
        .collect();
    let port_counts: Vec<u64> = declared
        .iter()
        .map(|extra| {
            (plan.ports.len() + extra.iter().filter(|p| !plan.ports.contains(p)).count()) as u64
        })
        .collect();
    let progress = Arc::new(Progress::new(
        Mode::detect(!plan.show_progress),
        &labels,
        &port_counts,
    ));
    let mut stop = StopSignals::install();
    let resumed_count = plan.devices.len() - addresses.len();
    if resumed_count > 0 {
        progress.note(&format!(
            "jcstar: resuming: {resumed_count} device(s) finished by the earlier run are not probed again"
        ));
    }
    progress.note(&format!(
        "jcstar: scanning {} device(s) x {} TCP port(s); Ctrl-C stops and still writes the reports",
        addresses.len(),
        plan.ports.len()
    ));
    if plan
        .profile
        .check_enabled(jcstar_model::profile::CheckId::BruteForce)
        && plan.intrusive.enabled
    {
        progress.note(
            "jcstar: the brute-force check (S1.1-04) will send wrong passwords to every login service and may lock accounts for a while (--no-intrusive skips it)",
        );
    }
    let context = ActiveContext {
        profile: Arc::new(plan.profile.clone()),
        intrusive: plan.intrusive.enabled,
        peers: Arc::new(plan.peers.clone()),
    };
    let run_deadline = plan
        .max_duration
        .map(|budget| tokio::time::Instant::now() + budget);
    let device_deadline = plan
        .host_timeout
        .map(|budget| tokio::time::Instant::now() + budget);
    let index_of: HashMap<IpAddr, usize> = plan
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.address, i))
        .collect();
    let mut by_address: BTreeMap<IpAddr, HostScan> = BTreeMap::new();
    let scan_info = ScanInfo {
        tcp_ports: format_port_ranges(&plan.ports),
        tcp_port_count: plan.ports.len(),
        nofile_soft: limits.nofile_soft,
        global_in_flight: limits.global_in_flight,
        per_host_start: config.per_host_start,
        max_rate: plan.max_rate,
        service_rate_per_minute: plan.service_rate,
        checks: plan.profile.checks.enabled.clone(),
        timing: plan.timing.map(|preset| preset.to_string()),
        initial_timeout_ms: plan.profile.scan.initial_timeout_ms,
        min_timeout_ms: plan.profile.scan.min_timeout_ms,
        max_timeout_ms: plan.profile.scan.max_timeout_ms,
        per_host_max: plan.profile.scan.per_host_max,
        banner_timeout_ms: plan.profile.scan.banner_timeout_ms,
        host_timeout_ms: plan.host_timeout.map(|d| d.as_millis() as u64),
        max_hosts: plan.max_hosts,
    };
    let shard = plan.shard.map(|shard| jcstar_report::ShardRef {
        index: shard.index,
        count: shard.count,
        devices_total: plan.peers.len(),
    });
    // In a sharded run, each device's place in the whole run's list.
    let peers: Vec<IpAddr> = match plan.shard {
        Some(_) => plan.peers.iter().map(|p| p.address).collect(),
        None => Vec::new(),
    };
    let journal = Journal::open(
        &plan.out_dir,
        &Record::run(RunLine {
            started: started.to_rfc3339_opts(SecondsFormat::Millis, false),
            profile: plan.profile.profile.name.clone(),
            ports: plan.ports.clone(),
            intrusive: plan.intrusive.clone(),
            scan: scan_info.clone(),
            shard,
            devices: plan.devices.clone(),
            peers: peers.clone(),
        }),
    );
    // One stop for both phases: host scans end with what they settled, running checks end
    // with what they finished.
    let (stop_scan, scan_stop) = scan::StopScan::new();
    // A device's service checks start as soon as its own port scan ends.
    let mut checks = ActiveChecks::new(
        Arc::clone(&context.profile),
        journal,
        Arc::clone(&progress),
        scan_stop.clone(),
    );
    checks.gate = host_gate;
    for (i, device) in plan.devices.iter().enumerate() {
        let address = device.address;
        if let (true, Some(scan), Some(outcome)) = (
            plan.resumed.finished(&address),
            plan.resumed.scans.get(&address),
            plan.resumed.checks.get(&address),
        ) {
            progress.device_done(i, open_count(scan), outcome.findings.len());
            by_address.insert(address, scan.clone());
            checks.done.insert(address, outcome.clone());
        }
    }
    let port_bar = |i: usize| {
        addresses
            .get(i)
            .and_then(|a| index_of.get(a))
            .map_or_else(indicatif::ProgressBar::hidden, |&d| progress.port_bar(d))
    };
    let stopped = {
        let scanning = scan::scan_hosts_observed(
            &addresses,
            &to_scan_declared,
            &config,
            &limits,
            &port_bar,
            &scan_stop,
            |_, scan| {
                let Some(&i) = index_of.get(&scan.address) else {
                    return;
                };
                if let Some(device) = progress.device(i) {
                    device.ports_done(open_count(&scan));
                }
                // After a stop, hosts hand in what they measured; their checks do not start.
                if !scan_stop.raised() {
                    checks.journal(&Record::Scan { scan: scan.clone() });
                    checks.start(i, &plan.devices[i], &scan, &context, device_deadline);
                }
                by_address.insert(scan.address, scan);
            },
        );
        tokio::pin!(scanning);
        let stopped = tokio::select! {
            () = &mut scanning => None,
            signal = stop.received() => Some(signal),
            () = until(run_deadline) => Some(RUN_BUDGET_REACHED),
        };
        if stopped.is_some() {
            // Every host scan ends at once and keeps the ports it settled.
            let _ = stop_scan.send(true);
            scanning.await;
        }
        stopped
    };
    let stopped = match stopped {
        Some(why) => Some(why),
        None => checks.wait(&mut stop, run_deadline).await,
    };
    if let Some(why) = stopped {
        let _ = stop_scan.send(true);
        progress.note(&format!(
            "jcstar: {why}: stopping; writing the results gathered so far"
        ));
    }
    let active = checks.finish().await;
    progress.clear();
    let interrupted = stopped.is_some();
    let devices = crate::assemble::device_reports(&crate::assemble::Measured {
        profile: &plan.profile,
        devices: &plan.devices,
        peers: &peers,
        ports: &plan.ports,
        scans: &by_address,
        checks: &active,
        stopped,
        today: started.date_naive(),
    });
    let finished = Local::now();
    RunReport {
        schema: "jcstar.results",
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        profile: ProfileRef {
            name: plan.profile.profile.name.clone(),
            title: plan.profile.profile.title.clone(),
            version: plan.profile.profile.version.clone(),
        },
        started: started.to_rfc3339_opts(SecondsFormat::Millis, false),
        finished: finished.to_rfc3339_opts(SecondsFormat::Millis, false),
        duration_ms: clock.elapsed().as_millis() as u64,
        interrupted,
        stopped: stopped.map(str::to_string),
        intrusive: plan.intrusive.clone(),
        scan: scan_info,
        shard,
        summary: Summary::of(&devices),
        devices,
    }
}

/// How long a stopped run waits for running checks to hand in what they finished.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Appends `record` to the shared journal.
fn append(journal: &std::sync::Mutex<Journal>, record: &Record) {
    if let Ok(mut journal) = journal.lock() {
        journal.append(record);
    }
}

/// Why a run stopped when its `--max-duration` budget ran out.
const RUN_BUDGET_REACHED: &str = "the run's time budget (--max-duration / max_duration_s) ran out";

/// Resolves at `deadline`; never, without one.
async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The devices' service checks, one task per device, started as each port scan ends.
struct ActiveChecks {
    profile: Arc<Profile>,
    journal: Arc<std::sync::Mutex<Journal>>,
    /// Raised when the run stops: running checks end and hand in what they finished.
    stop: scan::StopScan,
    progress: Arc<Progress>,
    tasks: JoinSet<(IpAddr, ActiveOutcome)>,
    /// Per task: the device's address, its index in the plan and its open TCP ports.
    devices: HashMap<tokio::task::Id, (IpAddr, usize, usize)>,
    done: BTreeMap<IpAddr, ActiveOutcome>,
    /// `--max-hosts`: a device's checks wait for a permit (shared with the port scans).
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl ActiveChecks {
    fn new(
        profile: Arc<Profile>,
        journal: Journal,
        progress: Arc<Progress>,
        stop: scan::StopScan,
    ) -> Self {
        ActiveChecks {
            profile,
            journal: Arc::new(std::sync::Mutex::new(journal)),
            stop,
            progress,
            tasks: JoinSet::new(),
            devices: HashMap::new(),
            done: BTreeMap::new(),
            gate: None,
        }
    }

    /// Starts the checks of `device` (number `index` of the plan), whose scan just ended.
    fn start(
        &mut self,
        index: usize,
        device: &Device,
        scan: &HostScan,
        context: &ActiveContext,
        deadline: Option<tokio::time::Instant>,
    ) {
        let target = ActiveTarget {
            device: device.clone(),
            scan: scan.clone(),
        };
        let address = device.address;
        let context = context.clone();
        let shown = self.progress.device(index).cloned();
        let gate = self.gate.clone();
        let (journal, stop) = (Arc::clone(&self.journal), self.stop.clone());
        let snapshots = Arc::clone(&self.journal);
        let handle = self.tasks.spawn(async move {
            let _permit = match gate {
                Some(gate) => gate.acquire_owned().await.ok(),
                None => None,
            };
            let shown_step = move |step| {
                if let Some(shown) = &shown {
                    shown.check(step);
                }
            };
            // Each finished check reaches the journal at once, so a crash keeps it.
            let checkpoint = move |partial: &ActiveOutcome| {
                append(
                    &snapshots,
                    &Record::Checks {
                        address,
                        outcome: partial.clone(),
                    },
                );
            };
            let outcome = jcstar_checks::run_active_until(
                target, context, deadline, &stop, shown_step, checkpoint,
            )
            .await;
            // Journaled as soon as it ends, while other devices are still being scanned.
            append(
                &journal,
                &Record::Checks {
                    address,
                    outcome: outcome.clone(),
                },
            );
            (address, outcome)
        });
        self.devices
            .insert(handle.id(), (address, index, open_count(scan)));
    }

    /// Waits for every device's checks; returns why it stopped early, if it did.
    async fn wait(
        &mut self,
        stop: &mut StopSignals,
        run_deadline: Option<tokio::time::Instant>,
    ) -> Option<&'static str> {
        loop {
            tokio::select! {
                joined = self.tasks.join_next_with_id() => match joined {
                    Some(joined) => self.record(joined),
                    None => return None,
                },
                signal = stop.received() => return Some(signal),
                () = until(run_deadline) => return Some(RUN_BUDGET_REACHED),
            }
        }
    }

    /// Appends `record` to the journal.
    fn journal(&self, record: &Record) {
        append(&self.journal, record);
    }

    /// Collects what every device's checks handed in once the stop was raised (each ends at
    /// once, keeping its finished checks), cancelling any that do not within a grace period.
    /// A device whose checks crashed gets `error` findings instead of losing its results.
    async fn finish(mut self) -> BTreeMap<IpAddr, ActiveOutcome> {
        let grace = tokio::time::sleep(STOP_GRACE);
        tokio::pin!(grace);
        let mut cancelled = false;
        loop {
            tokio::select! {
                joined = self.tasks.join_next_with_id() => match joined {
                    Some(joined) => self.record(joined),
                    None => break,
                },
                () = &mut grace, if !cancelled => {
                    cancelled = true;
                    self.tasks.abort_all();
                }
            }
        }
        if let Ok(journal) = self.journal.lock() {
            journal.flush();
        }
        self.done
    }

    fn record(
        &mut self,
        joined: Result<(tokio::task::Id, (IpAddr, ActiveOutcome)), tokio::task::JoinError>,
    ) {
        match joined {
            Ok((id, (address, outcome))) => {
                if let Some(&(_, index, open)) = self.devices.get(&id) {
                    self.progress
                        .device_done(index, open, outcome.findings.len());
                }
                self.done.insert(address, outcome);
            }
            Err(e) if e.is_panic() => {
                let address = self.devices.get(&e.id()).map(|&(address, _, _)| address);
                let message = panic_message(e.into_panic());
                tracing::error!(%message, "the service checks of a device panicked");
                if let Some(address) = address {
                    let finding = jcstar_checks::active_crashed(&self.profile, &message);
                    self.done.insert(
                        address,
                        ActiveOutcome {
                            findings: vec![finding],
                            ..ActiveOutcome::default()
                        },
                    );
                }
            }
            // Cancelled by `finish`: the device's checks did not finish.
            Err(_) => {}
        }
    }
}

/// The text a panic carried.
fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(text) => *text,
        Err(panic) => panic.downcast_ref::<&str>().map_or_else(
            || "a panic without a message".to_string(),
            |s| s.to_string(),
        ),
    }
}

/// SIGINT and SIGTERM, registered before the scan starts so neither kills the process mid-run.
struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl StopSignals {
    fn install() -> Self {
        StopSignals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves with the signal's name when either arrives; never, if neither could be installed.
    async fn received(&mut self) -> &'static str {
        async fn next(signal: &mut Option<Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => "interrupted (SIGINT)",
            () = next(&mut self.terminate) => "terminated (SIGTERM)",
        }
    }
}

/// How many TCP ports the scan found open.
fn open_count(scan: &HostScan) -> usize {
    scan.ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device whose checks panic gets `error` findings for its service criteria; a device
    /// whose checks finished keeps them, whatever the other did.
    #[tokio::test]
    async fn a_panic_in_one_device_becomes_error_findings_for_it_alone() {
        let profile = Arc::new(Profile::builtin());
        let dir = tempfile::tempdir().expect("tempdir");
        let run = Record::Run {
            tool: "test".into(),
            profile: "jc-star-1".into(),
            ports: "80".into(),
            plan: None,
        };
        let hidden = Arc::new(Progress::new(
            Mode::Hidden,
            &["a".into(), "b".into()],
            &[1, 1],
        ));
        let mut checks = ActiveChecks::new(
            Arc::clone(&profile),
            Journal::open(dir.path(), &run),
            hidden,
            scan::StopScan::new().1,
        );
        let crashing: IpAddr = [127, 0, 0, 7].into();
        let fine: IpAddr = [127, 0, 0, 8].into();
        let handle = checks.tasks.spawn(async move {
            if crashing.is_loopback() {
                panic!("a defect on purpose");
            }
            (crashing, ActiveOutcome::default())
        });
        checks.devices.insert(handle.id(), (crashing, 0, 0));
        let handle = checks.tasks.spawn(async move {
            let outcome = ActiveOutcome {
                findings: vec![jcstar_model::Finding::new(
                    "test",
                    "S1.1-13",
                    jcstar_model::Verdict::Pass,
                    "measured",
                )],
                ..ActiveOutcome::default()
            };
            (fine, outcome)
        });
        checks.devices.insert(handle.id(), (fine, 1, 0));
        let mut stop = StopSignals::install();
        assert_eq!(checks.wait(&mut stop, None).await, None);
        let done = checks.finish().await;
        let crashed = &done[&crashing].findings;
        assert_eq!(crashed.len(), 1);
        assert_eq!(crashed[0].verdict, jcstar_model::Verdict::Error);
        assert!(crashed[0].summary.contains("a defect on purpose"));
        assert!(!crashed[0].criteria.is_empty());
        assert_eq!(done[&fine].findings[0].summary, "measured");
    }
}
