//! One run: resolve the devices, scan them concurrently, run the checks, aggregate each
//! criterion, and build the report. Ctrl-C stops the scan and still yields a report.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use chrono::{Local, SecondsFormat};
use tokio::signal::unix::{signal, Signal, SignalKind};

use std::sync::Arc;

use tokio::task::JoinSet;

use crate::inventory::InventoryEntry;
use crate::progress::{Mode, Progress};
use crate::targets::spec::{expand, ExpandOptions, SpecSource, TargetHost};
use jcstar_checks::{ActiveContext, ActiveOutcome, ActiveTarget, Observation};
use jcstar_model::device::Device;
use jcstar_model::error::InputError;
use jcstar_model::ports::format_port_ranges;
use jcstar_model::profile::{Profile, ScanSettings};
use jcstar_model::{aggregate, Finding};
use jcstar_probe::scan::{self, HostScan, PortState, ScanConfig};
use jcstar_report::readiness::Readiness;
use jcstar_report::{
    worst_verdict, DeviceReport, IntrusiveInfo, PortSummary, ProfileRef, RunReport, ScanInfo,
    Summary, ToolInfo, SCHEMA_VERSION,
};

/// Everything a run needs, decided before any packet is sent.
pub struct RunPlan {
    /// The profile in force.
    pub profile: Profile,
    /// Devices to test, in report order.
    pub devices: Vec<Device>,
    /// TCP ports to probe on every device.
    pub ports: Vec<u16>,
    /// Whether intrusive checks may run.
    pub intrusive: IntrusiveInfo,
    /// Show progress on stderr: per-device bars on a terminal, a line per finished device
    /// otherwise (false: `--quiet`).
    pub show_progress: bool,
    /// Print resource limits and timing detail.
    pub verbose: bool,
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
        ..ScanConfig::default()
    }
}

/// Runs the plan and returns the report; never fails once the plan is made. SIGINT or SIGTERM
/// stops the scan: devices already scanned keep their results, the others say they were not.
pub async fn execute(plan: &RunPlan) -> RunReport {
    let started = Local::now();
    let clock = Instant::now();
    let config = scan_config(&plan.profile, &plan.ports);
    let limits = scan::prepare_limits(&config);
    if plan.verbose {
        eprintln!(
            "jcstar: RLIMIT_NOFILE soft {} (hard {}); {} connects in flight at most, {} per host at the start",
            limits.nofile_soft, limits.nofile_hard, limits.global_in_flight, config.per_host_start
        );
    }
    let addresses: Vec<IpAddr> = plan.devices.iter().map(|d| d.address).collect();
    // Every declared TCP service is scanned too, whatever the port list: a service the vendor
    // documents is a login surface and an interface to judge.
    let declared: Vec<Vec<u16>> = plan.devices.iter().map(declared_tcp_ports).collect();
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
    let progress = Progress::new(Mode::detect(!plan.show_progress), &labels, &port_counts);
    let mut stop = StopSignals::install();
    eprintln!(
        "jcstar: scanning {} device(s) x {} TCP port(s); Ctrl-C stops and still writes the reports",
        addresses.len(),
        plan.ports.len()
    );
    let mut by_address: BTreeMap<IpAddr, HostScan> = BTreeMap::new();
    let port_bar = |i: usize| progress.port_bar(i);
    let interrupted = tokio::select! {
        () = scan::scan_hosts_observed(&addresses, &declared, &config, &limits, &port_bar, |i, scan| {
            if let Some(device) = progress.device(i) {
                device.ports_done(open_count(&scan));
            }
            by_address.insert(scan.address, scan);
        }) => false,
        signal = stop.received() => {
            eprintln!("jcstar: {signal}: stopping; writing the results gathered so far");
            true
        }
    };
    let active = if interrupted {
        BTreeMap::new()
    } else {
        if plan
            .profile
            .check_enabled(jcstar_model::profile::CheckId::BruteForce)
            && plan.intrusive.enabled
        {
            progress.note(
                "jcstar: the brute-force check (S1.1-04) will send wrong passwords to every login service and may lock accounts for a while (--no-intrusive skips it)",
            );
        }
        run_active_checks(plan, &by_address, &mut stop, &progress).await
    };
    progress.clear();
    let active_interrupted = !interrupted && active.len() < by_address.len();
    let today = started.date_naive();
    let mut findings: Vec<Vec<Finding>> = plan
        .devices
        .iter()
        .zip(&declared)
        .map(|(device, extra)| {
            let scan = by_address.get(&device.address);
            let mut scanned_ports = plan.ports.clone();
            scanned_ports.extend(extra.iter().filter(|p| !plan.ports.contains(p)));
            let observation = Observation {
                device,
                scan,
                scanned_ports: &scanned_ports,
                today,
            };
            let mut own = jcstar_checks::run_passive(&observation, &plan.profile);
            match active.get(&device.address) {
                Some(outcome) => own.extend(outcome.findings.iter().cloned()),
                None if scan.is_some() => {
                    own.push(jcstar_checks::active_not_finished(&plan.profile))
                }
                None => {}
            }
            own
        })
        .collect();
    jcstar_checks::run_cross_device(&plan.devices, &mut findings, &plan.profile);
    let devices: Vec<DeviceReport> = plan
        .devices
        .iter()
        .zip(findings)
        .map(|(device, own)| {
            let udp_ports = active
                .get(&device.address)
                .map(|outcome| outcome.udp_ports.clone())
                .unwrap_or_default();
            let mut report =
                device_report(device, by_address.get(&device.address), own, &plan.profile);
            report.udp_ports = udp_ports;
            report
        })
        .collect();
    let interrupted = interrupted || active_interrupted;
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
        intrusive: plan.intrusive.clone(),
        scan: ScanInfo {
            tcp_ports: format_port_ranges(&plan.ports),
            tcp_port_count: plan.ports.len(),
            nofile_soft: limits.nofile_soft,
            global_in_flight: limits.global_in_flight,
            per_host_start: config.per_host_start,
        },
        summary: Summary::of(&devices),
        devices,
    }
}

/// The TCP ports `device` declares services on.
fn declared_tcp_ports(device: &Device) -> Vec<u16> {
    device
        .declared_services
        .iter()
        .flatten()
        .filter(|s| s.transport == jcstar_model::device::Transport::Tcp)
        .map(|s| s.port)
        .collect()
}

fn device_report(
    device: &Device,
    scan: Option<&HostScan>,
    findings: Vec<Finding>,
    profile: &Profile,
) -> DeviceReport {
    let criteria: Vec<_> = profile
        .criteria
        .iter()
        .map(|criterion| {
            let own: Vec<Finding> = findings
                .iter()
                .filter(|f| f.criteria.contains(&criterion.id))
                .cloned()
                .collect();
            aggregate(&criterion.id, &criterion.report_title(), own)
        })
        .collect();
    DeviceReport {
        device: device.clone(),
        verdict: worst_verdict(&criteria),
        readiness: Readiness::of(&criteria, profile),
        ports: scan.map(port_summary).unwrap_or_default(),
        udp_ports: Vec::new(),
        scan_stats: scan.map(|s| s.stats.clone()),
        criteria,
    }
}

fn port_summary(scan: &HostScan) -> PortSummary {
    let in_state = |state: PortState| scan.ports.iter().filter(move |p| p.state == state);
    PortSummary {
        open: in_state(PortState::Open).cloned().collect(),
        filtered: format_port_ranges(
            &in_state(PortState::Filtered)
                .map(|p| p.port)
                .collect::<Vec<_>>(),
        ),
        closed_count: in_state(PortState::Closed).count(),
        errors: in_state(PortState::Error).cloned().collect(),
    }
}

/// Runs the active checks, one task per scanned device, until done or a stop signal.
async fn run_active_checks(
    plan: &RunPlan,
    scans: &BTreeMap<IpAddr, HostScan>,
    stop: &mut StopSignals,
    progress: &Progress,
) -> BTreeMap<IpAddr, ActiveOutcome> {
    let context = ActiveContext {
        profile: Arc::new(plan.profile.clone()),
        intrusive: plan.intrusive.enabled,
        peers: Arc::new(plan.devices.clone()),
    };
    let mut tasks = JoinSet::new();
    for (i, device) in plan.devices.iter().enumerate() {
        if let Some(scan) = scans.get(&device.address) {
            let target = ActiveTarget {
                device: device.clone(),
                scan: scan.clone(),
            };
            let address = device.address;
            let context = context.clone();
            let open = open_count(scan);
            let shown = progress.device(i).cloned();
            tasks.spawn(async move {
                let found = jcstar_checks::run_active_observed(target, context, move |step| {
                    if let Some(shown) = &shown {
                        shown.check(step);
                    }
                })
                .await;
                (i, address, open, found)
            });
        }
    }
    let mut done = BTreeMap::new();
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok((i, address, open, found))) => {
                    progress.device_done(i, open, found.findings.len());
                    done.insert(address, found);
                }
                Some(Err(e)) => tracing::error!(error = %e, "active checks of a device failed"),
                None => break,
            },
            signal = stop.received() => {
                eprintln!("jcstar: {signal}: stopping the service checks; writing what is done");
                break;
            }
        }
    }
    done
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
