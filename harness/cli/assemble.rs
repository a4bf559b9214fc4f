//! From measurements to device reports: the passive checks over each device's port scan, the
//! service checks' findings, the rules across devices and one result per criterion. A run
//! (`jcstar scan`) and a rebuild from its journal (`jcstar report DIR` after a crash) both
//! judge here, so the same measurements always give the same verdicts.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;

use jcstar_checks::{ActiveOutcome, Observation};
use jcstar_model::device::Device;
use jcstar_model::ports::format_port_ranges;
use jcstar_model::profile::Profile;
use jcstar_model::{aggregate, Finding};
use jcstar_probe::scan::{HostScan, PortState};
use jcstar_report::readiness::Readiness;
use jcstar_report::{worst_verdict, DeviceReport, PortSummary};

/// What a run measured, and what it set out to measure.
pub struct Measured<'a> {
    /// The profile in force (its enabled checks narrowed as the run narrowed them).
    pub profile: &'a Profile,
    /// The run's devices, in report order.
    pub devices: &'a [Device],
    /// Every device address of the whole run when it was sharded (`--shard`), for each
    /// device's place in it; empty for a whole run.
    pub peers: &'a [IpAddr],
    /// TCP ports probed on every device.
    pub ports: &'a [u16],
    /// Finished (or, after a stop, partial) port scans by address.
    pub scans: &'a BTreeMap<IpAddr, HostScan>,
    /// Finished service checks by address.
    pub checks: &'a BTreeMap<IpAddr, ActiveOutcome>,
    /// Why the run stopped before every device finished; `None` when it did not stop early.
    pub stopped: Option<&'a str>,
    /// The day evidence dates are judged by.
    pub today: NaiveDate,
}

/// One report per device, in the order of [`Measured::devices`].
pub fn device_reports(measured: &Measured<'_>) -> Vec<DeviceReport> {
    let profile = measured.profile;
    let not_finished = measured.stopped.unwrap_or("the run was interrupted");
    let mut findings: Vec<Vec<Finding>> = measured
        .devices
        .iter()
        .map(|device| {
            let scan = measured.scans.get(&device.address);
            let mut scanned_ports = measured.ports.to_vec();
            scanned_ports.extend(
                declared_tcp_ports(device)
                    .into_iter()
                    .filter(|p| !measured.ports.contains(p)),
            );
            let observation = Observation {
                device,
                scan,
                scanned_ports: &scanned_ports,
                today: measured.today,
            };
            let mut own = jcstar_checks::run_passive(&observation, profile);
            match measured.checks.get(&device.address) {
                Some(outcome) => own.extend(outcome.findings.iter().cloned()),
                None if scan.is_some() || measured.stopped.is_some() => {
                    own.push(jcstar_checks::active_not_finished(profile, not_finished))
                }
                None => {}
            }
            own
        })
        .collect();
    jcstar_checks::run_cross_device(measured.devices, &mut findings, profile);
    measured
        .devices
        .iter()
        .zip(findings)
        .map(|(device, own)| {
            let scan = measured.scans.get(&device.address);
            let outcome = measured.checks.get(&device.address);
            let mut report = device_report(device, scan, own, profile);
            report.udp_ports = outcome
                .map(|outcome| outcome.udp_ports.clone())
                .unwrap_or_default();
            report.unfinished = match (measured.stopped, scan, outcome) {
                (Some(why), None, _) => Some(format!("not scanned: {why}")),
                (Some(why), Some(_), None) => Some(format!(
                    "port scan only, service checks not finished: {why}"
                )),
                (Some(why), Some(_), Some(outcome)) if outcome.interrupted => Some(format!(
                    "service checks stopped part-way (the finished ones are kept): {why}"
                )),
                _ => None,
            };
            if !measured.peers.is_empty() {
                report.position = measured.peers.iter().position(|a| *a == device.address);
            }
            report
        })
        .collect()
}

/// The TCP ports `device` declares services on: scanned whatever the port list, since a
/// service the vendor documents is a login surface and an interface to judge.
pub fn declared_tcp_ports(device: &Device) -> Vec<u16> {
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
        position: None,
        verdict: worst_verdict(&criteria),
        readiness: Readiness::of(&criteria, profile),
        ports: scan.map(port_summary).unwrap_or_default(),
        udp_ports: Vec::new(),
        scan_stats: scan.map(|s| s.stats.clone()),
        unfinished: None,
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
        closed_count: scan.closed_count(),
        errors: in_state(PortState::Error).cloned().collect(),
    }
}
