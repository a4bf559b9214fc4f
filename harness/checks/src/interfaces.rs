//! S1.1-13: open ports compared with the declared services, and known debug or backdoor ports.

use crate::Observation;
use jcstar_model::device::Transport;
use jcstar_model::ports::format_port_ranges;
use jcstar_model::profile::Profile;
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::scan::{HostScan, PortResult, PortState};

const CRITERION: &str = "S1.1-13";

/// Findings for S1.1-13 on one device.
pub fn check(observation: &Observation<'_>, profile: &Profile) -> Vec<Finding> {
    let Some(scan) = observation.scan else {
        return vec![Finding::new(
            "interfaces.not_scanned",
            CRITERION,
            Verdict::Inconclusive,
            "not scanned: the run was interrupted before this device's port scan finished; run it again",
        )];
    };
    let open: Vec<&PortResult> = scan
        .ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .collect();
    let mut findings: Vec<Finding> = unprobed_ports(scan).into_iter().collect();
    if scan.stats.unidentified > 0 {
        findings.push(Finding::new(
            "interfaces.identification_capped",
            CRITERION,
            Verdict::Inconclusive,
            format!(
                "{} open ports: services were identified on the first {} only; the other {} are listed as unknown",
                open.len(),
                jcstar_probe::scan::MAX_IDENT_PER_HOST,
                scan.stats.unidentified
            ),
        ));
    }
    findings.extend(compare_with_declaration(observation, &open));
    findings.extend(debug_ports(&open, profile));
    findings
}

/// A failing finding for every open port the profile lists as a debug or backdoor port.
fn debug_ports(open: &[&PortResult], profile: &Profile) -> Vec<Finding> {
    open.iter()
        .filter_map(|port| {
            let debug = profile
                .checks
                .debug_ports
                .iter()
                .find(|d| d.port == port.port)?;
            Some(
                Finding::new(
                    "interfaces.debug_port",
                    CRITERION,
                    Verdict::Fail,
                    format!(
                        "debug/backdoor port {}/tcp is open: {}",
                        port.port, debug.name
                    ),
                )
                .with_evidence(port_evidence(port)),
            )
        })
        .collect()
}

/// A finding for ports that could not be probed, or for a host that answered on none.
fn unprobed_ports(scan: &HostScan) -> Option<Finding> {
    let errors: Vec<u16> = ports_in(scan, PortState::Error);
    if !errors.is_empty() {
        return Some(Finding::new(
            "interfaces.probe_errors",
            CRITERION,
            Verdict::Inconclusive,
            format!(
                "{} port(s) could not be probed ({}); rerun or check the route to the device",
                errors.len(),
                format_port_ranges(&errors)
            ),
        ));
    }
    if !scan.answered() && !scan.ports.is_empty() {
        return Some(Finding::new(
            "interfaces.no_answer",
            CRITERION,
            Verdict::Inconclusive,
            format!(
                "the device answered on none of the {} scanned ports (all filtered); is it up and reachable?",
                scan.ports.len()
            ),
        ));
    }
    None
}

fn compare_with_declaration(observation: &Observation<'_>, open: &[&PortResult]) -> Vec<Finding> {
    let open_list = format_port_ranges(&open.iter().map(|p| p.port).collect::<Vec<_>>());
    let Some(declared) = &observation.device.declared_services else {
        return vec![Finding::new(
            "interfaces.undeclared_services",
            CRITERION,
            Verdict::Inconclusive,
            format!(
                "no declared service list to compare with; open TCP ports: {}; add `services` to the device in the inventory",
                if open_list.is_empty() { "none" } else { &open_list }
            ),
        )];
    };
    let declared_tcp: Vec<u16> = declared
        .iter()
        .filter(|s| s.transport == Transport::Tcp)
        .map(|s| s.port)
        .collect();
    let mut findings: Vec<Finding> = open
        .iter()
        .filter(|p| !declared_tcp.contains(&p.port))
        .map(|p| {
            Finding::new(
                "interfaces.undeclared_port",
                CRITERION,
                Verdict::Fail,
                format!("undeclared open port {}/tcp ({})", p.port, service_name(p)),
            )
            .with_evidence(port_evidence(p))
        })
        .collect();
    if findings.is_empty() {
        let pass = Finding::new(
            "interfaces.declared_match",
            CRITERION,
            Verdict::Pass,
            format!(
                "every open TCP port of the {} scanned is declared (open: {})",
                observation.scanned_ports.len(),
                if open_list.is_empty() {
                    "none"
                } else {
                    &open_list
                }
            ),
        );
        findings.push(pass);
        let unscanned: Vec<u16> = declared_tcp
            .iter()
            .copied()
            .filter(|p| !observation.scanned_ports.contains(p))
            .collect();
        if !unscanned.is_empty() {
            findings.push(Finding::new(
                "interfaces.declared_not_scanned",
                CRITERION,
                Verdict::Inconclusive,
                format!(
                    "declared TCP port(s) {} were not scanned: the look at the device is incomplete",
                    format_port_ranges(&unscanned)
                ),
            ));
        }
    }
    findings.extend(silent_declared(observation, &declared_tcp));
    findings
}

/// A finding for every declared TCP service that was scanned and did not answer: what the
/// vendor documents could not be looked at, so the criteria it bears on stay open.
fn silent_declared(observation: &Observation<'_>, declared_tcp: &[u16]) -> Vec<Finding> {
    let Some(scan) = observation.scan else {
        return Vec::new();
    };
    declared_tcp
        .iter()
        .filter_map(|port| {
            // A scanned port without a record answered "closed" (closed ports are counted,
            // not kept).
            let recorded = scan.ports.iter().find(|p| p.port == *port);
            let state = match recorded.map(|p| p.state) {
                Some(PortState::Open | PortState::Error) => return None,
                Some(PortState::Closed) => "closed",
                Some(PortState::Filtered) => "filtered (no answer)",
                None if observation.scanned_ports.contains(port) => "closed",
                None => return None,
            };
            Some(Finding::new(
                "interfaces.declared_silent",
                CRITERION,
                Verdict::Inconclusive,
                format!(
                    "declared service {port}/tcp does not answer ({state}): it could not be checked; correct the declaration, or enable the service for the test"
                ),
            ))
        })
        .collect()
}

fn ports_in(scan: &HostScan, state: PortState) -> Vec<u16> {
    scan.ports
        .iter()
        .filter(|p| p.state == state)
        .map(|p| p.port)
        .collect()
}

fn service_name(port: &PortResult) -> String {
    port.service
        .as_ref()
        .map(|s| format!("{:?}", s.kind).to_lowercase())
        .unwrap_or_else(|| "service not identified".to_string())
}

fn port_evidence(port: &PortResult) -> Evidence {
    let banner = port
        .service
        .as_ref()
        .map(|s| format!("{}: {}", service_name(port), s.banner))
        .unwrap_or_else(|| "no banner".to_string());
    Evidence::observed(format!("port {}/tcp", port.port), banner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdicts;
    use jcstar_model::device::{DeclaredService, Device};
    use jcstar_probe::scan::HostStats;
    use std::net::{IpAddr, Ipv4Addr};

    fn scan_of(states: &[(u16, PortState)]) -> HostScan {
        HostScan {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: states
                .iter()
                .map(|&(port, state)| PortResult {
                    port,
                    state,
                    rtt: None,
                    error: (state == PortState::Error).then(|| "EHOSTUNREACH".to_string()),
                    service: None,
                })
                .collect(),
            stats: HostStats {
                probes: states.len() as u64,
                open: 0,
                closed: 0,
                filtered: 0,
                errors: 0,
                srtt_us: None,
                final_timeout_ms: 100,
                peak_window: 1,
                elapsed_ms: 1,
                unidentified: 0,
            },
        }
    }

    fn findings_for(declared: Option<&[u16]>, states: &[(u16, PortState)]) -> Vec<Finding> {
        let mut device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        device.declared_services = declared.map(|ports| {
            ports
                .iter()
                .map(|&port| DeclaredService {
                    port,
                    transport: Transport::Tcp,
                })
                .collect()
        });
        let scan = scan_of(states);
        let scanned: Vec<u16> = states.iter().map(|s| s.0).collect();
        let observation = Observation {
            device: &device,
            scan: Some(&scan),
            scanned_ports: &scanned,
            today: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        };
        check(&observation, &Profile::builtin())
    }

    #[test]
    fn telnet_fails_as_a_debug_port_even_when_declared() {
        let findings = findings_for(
            Some(&[23, 80]),
            &[(23, PortState::Open), (80, PortState::Open)],
        );
        assert_eq!(
            verdicts(&findings),
            [
                ("interfaces.declared_match", Verdict::Pass),
                ("interfaces.debug_port", Verdict::Fail)
            ]
        );
    }

    #[test]
    fn probe_errors_make_the_criterion_inconclusive_not_pass() {
        let findings = findings_for(
            Some(&[80]),
            &[(80, PortState::Open), (81, PortState::Error)],
        );
        assert_eq!(findings[0].verdict, Verdict::Inconclusive);
        assert!(findings[0].summary.contains("81"));
    }

    #[test]
    fn a_host_that_answers_nothing_is_inconclusive() {
        let findings = findings_for(
            Some(&[80]),
            &[(80, PortState::Filtered), (443, PortState::Filtered)],
        );
        assert_eq!(findings[0].check, "interfaces.no_answer");
        assert_eq!(findings[0].verdict, Verdict::Inconclusive);
    }

    #[test]
    fn declared_ports_outside_the_scan_leave_the_criterion_open() {
        let findings = findings_for(Some(&[80, 8443]), &[(80, PortState::Open)]);
        assert_eq!(
            verdicts(&findings),
            [
                ("interfaces.declared_match", Verdict::Pass),
                ("interfaces.declared_not_scanned", Verdict::Inconclusive)
            ]
        );
        assert!(findings[1].summary.contains("8443"));
    }

    #[test]
    fn a_declared_service_that_does_not_answer_is_said() {
        let findings = findings_for(
            Some(&[80, 2121]),
            &[(80, PortState::Open), (2121, PortState::Closed)],
        );
        assert_eq!(
            verdicts(&findings),
            [
                ("interfaces.declared_match", Verdict::Pass),
                ("interfaces.declared_silent", Verdict::Inconclusive)
            ]
        );
        assert!(
            findings[1].summary.contains("2121/tcp"),
            "{}",
            findings[1].summary
        );
    }

    #[test]
    fn an_interrupted_device_is_not_judged() {
        let device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        let observation = Observation {
            device: &device,
            scan: None,
            scanned_ports: &[80],
            today: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        };
        let findings = check(&observation, &Profile::builtin());
        assert_eq!(
            verdicts(&findings),
            [("interfaces.not_scanned", Verdict::Inconclusive)]
        );
    }

    #[test]
    fn a_capped_identification_is_said_and_never_passes() {
        let device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        let mut scan = scan_of(&[(80, PortState::Open), (81, PortState::Open)]);
        scan.stats.unidentified = 1;
        let observation = Observation {
            device: &device,
            scan: Some(&scan),
            scanned_ports: &[80, 81],
            today: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        };
        let findings = check(&observation, &Profile::builtin());
        let capped = findings
            .iter()
            .find(|f| f.check == "interfaces.identification_capped")
            .expect("said");
        assert_eq!(capped.verdict, Verdict::Inconclusive);
        assert!(capped.summary.contains("the other 1"), "{}", capped.summary);
    }
}
