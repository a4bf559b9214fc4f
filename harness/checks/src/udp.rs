//! S1.1-13 for UDP, and UPnP IGD control for S1.1-01: the UDP IoT services of the profile's
//! `[udp]` section are probed ([`jcstar_probe::discovery`]); every port's state is recorded, model and
//! software sightings are gathered for the identity check, and services that answer are compared
//! with the declared ones.
//!
//! Rules: a UDP service answering that the vendor does not declare fails S1.1-13, except
//! SSDP/UPnP, which warns; declared services answering pass with the exchange as evidence;
//! information handed out without authentication (SNMP sysDescr, UPnP serial numbers, CoAP
//! resources) is evidence on the port's finding; an IGD connection service whose control
//! answers a read action without authentication fails S1.1-01.

use crate::{ActiveContext, ActiveTarget};
use jcstar_model::device::Transport;
use jcstar_model::observed::{Sighting, UdpPort, UdpState};
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::discovery::{self, Discovered};

/// Name of the check in `[checks] enabled`.
pub const NAME: &str = "udp_services";

const S13: &str = "S1.1-13";
const S01: &str = "S1.1-01";

/// Probes the device's UDP services and adds findings, port states and sightings (the parts
/// of an [`crate::ActiveOutcome`]).
pub async fn check(
    target: &ActiveTarget,
    context: &ActiveContext,
    findings: &mut Vec<Finding>,
    ports: &mut Vec<UdpPort>,
    sightings: &mut Vec<Sighting>,
) {
    let found = discovery::discover(target.device.address, &context.profile.udp).await;
    findings.extend(judge(target.device.declared_services.as_deref(), &found));
    for d in found {
        sightings.extend(d.sightings);
        ports.push(d.port);
    }
}

/// The findings for what the probes found, given the declared services (`None`: none declared).
pub fn judge(
    declared: Option<&[jcstar_model::device::DeclaredService]>,
    found: &[Discovered],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let failed: Vec<String> = found
        .iter()
        .filter_map(|d| {
            let why = d.failed.as_ref()?;
            Some(format!("{}/udp {}: {why}", d.port.port, d.port.service))
        })
        .collect();
    if !failed.is_empty() {
        findings.push(Finding::new(
            "udp.probe_failed",
            S13,
            Verdict::Inconclusive,
            format!(
                "{} UDP probe(s) could not run ({}); rerun or check the route to the device",
                failed.len(),
                failed.join("; ")
            ),
        ));
    }
    let probed: Vec<Discovered> = found
        .iter()
        .filter(|d| d.failed.is_none())
        .cloned()
        .collect();
    let found = probed.as_slice();
    let open: Vec<&Discovered> = found
        .iter()
        .filter(|d| d.port.state == UdpState::Open)
        .collect();
    if open.is_empty() {
        if !found.is_empty() {
            findings.push(Finding::new(
                "udp.none_answered",
                S13,
                Verdict::NotApplicable,
                format!("no UDP IoT service answered ({})", states(found)),
            ));
        }
    } else if let Some(declared) = declared {
        for d in &open {
            let is_declared = declared
                .iter()
                .any(|s| s.transport == Transport::Udp && s.port == d.port.port);
            let name = format!("{}/udp ({})", d.port.port, d.port.service);
            let disclosed = if d.disclosures.is_empty() {
                String::new()
            } else {
                "; it discloses information without authentication".to_string()
            };
            let finding = if is_declared {
                Finding::new(
                    "udp.declared_service",
                    S13,
                    Verdict::Pass,
                    format!("declared UDP service {name} answers{disclosed}"),
                )
            } else if d.port.service == discovery::ssdp::SERVICE {
                Finding::new(
                    "udp.undeclared_ssdp",
                    S13,
                    Verdict::Warn,
                    format!(
                        "UPnP/SSDP answers on {name}, which the vendor does not declare{disclosed}"
                    ),
                )
            } else if d.port.service == discovery::natpmp::SERVICE {
                // A gateway's port-mapping service, like UPnP IGD: expected on routers, but
                // any LAN host can open ports with it, so it must be declared.
                Finding::new(
                    "udp.undeclared_nat_pmp",
                    S13,
                    Verdict::Warn,
                    format!(
                        "NAT-PMP/PCP answers on {name}, which the vendor does not declare{disclosed}"
                    ),
                )
            } else {
                Finding::new(
                    "udp.undeclared_service",
                    S13,
                    Verdict::Fail,
                    format!("undeclared UDP service {name} answers{disclosed}"),
                )
            };
            findings.push(with_port_evidence(finding, d));
        }
    } else {
        let mut finding = Finding::new(
            "udp.undeclared_services",
            S13,
            Verdict::Inconclusive,
            format!(
                "no declared service list to compare with; UDP services answering: {}; add `services` (e.g. \"1900/udp\") to the device in the inventory",
                open.iter()
                    .map(|d| format!("{}/udp ({})", d.port.port, d.port.service))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        for d in &open {
            finding = with_port_evidence(finding, d);
        }
        findings.push(finding);
    }
    for d in found {
        for exposed in &d.unauthenticated {
            findings.push(
                Finding::new(
                    "udp.upnp_control_unauthenticated",
                    S01,
                    Verdict::Fail,
                    format!(
                        "{} needs no authentication: {}",
                        exposed.what, exposed.returned
                    ),
                )
                .with_evidence(exposed.evidence.clone()),
            );
        }
        for refused in &d.protected {
            findings.push(
                Finding::new(
                    "udp.upnp_control_protected",
                    S01,
                    Verdict::Pass,
                    format!(
                        "{}/udp UPnP IGD control refused a request without credentials",
                        d.port.port
                    ),
                )
                .with_evidence(refused.clone()),
            );
        }
    }
    findings
}

/// The port's exchange, its disclosures and the probe's notes as evidence.
fn with_port_evidence(mut finding: Finding, d: &Discovered) -> Finding {
    let label = format!("{}/udp {}", d.port.port, d.port.service);
    finding = finding.with_evidence(Evidence::observed(label.clone(), &d.port.detail));
    if let Some(exchange) = &d.exchange {
        finding = finding.with_evidence(exchange.clone());
    }
    for disclosure in &d.disclosures {
        finding = finding.with_evidence(disclosure.clone());
    }
    for note in d.notes.iter().take(4) {
        finding = finding.with_evidence(Evidence::observed(format!("{label} note"), note));
    }
    finding
}

fn states(found: &[Discovered]) -> String {
    found
        .iter()
        .map(|d| {
            let state = match d.port.state {
                UdpState::Open => "open",
                UdpState::Closed => "closed",
                UdpState::NoAnswer => "no answer",
            };
            format!("{}/udp {} {state}", d.port.port, d.port.service)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdicts;
    use jcstar_model::device::DeclaredService;
    use jcstar_probe::discovery::{Answer, Exposed};

    fn open(port: u16, service: &str) -> Discovered {
        Discovered::state(port, service, &Answer::Reply(vec![1])).with_detail("answered")
    }

    fn udp(port: u16) -> DeclaredService {
        DeclaredService {
            port,
            transport: Transport::Udp,
        }
    }

    #[test]
    fn declared_passes_undeclared_fails_ssdp_warns() {
        let found = [open(161, "snmp"), open(1900, "ssdp"), open(5683, "coap")];
        let declared = [
            udp(161),
            DeclaredService {
                port: 5683,
                transport: Transport::Tcp,
            },
        ];
        let findings = judge(Some(&declared), &found);
        assert_eq!(
            verdicts(&findings),
            [
                ("udp.declared_service", Verdict::Pass),
                ("udp.undeclared_ssdp", Verdict::Warn),
                ("udp.undeclared_service", Verdict::Fail),
            ]
        );
        assert_eq!(
            findings[2].summary,
            "undeclared UDP service 5683/udp (coap) answers"
        );
    }

    #[test]
    fn silence_is_never_a_pass() {
        let found = [
            Discovered::state(161, "snmp", &Answer::Closed),
            Discovered::state(1900, "ssdp", &Answer::NoAnswer),
        ];
        let findings = judge(Some(&[udp(161)]), &found);
        assert_eq!(
            verdicts(&findings),
            [("udp.none_answered", Verdict::NotApplicable)]
        );
        assert_eq!(
            findings[0].summary,
            "no UDP IoT service answered (161/udp snmp closed, 1900/udp ssdp no answer)"
        );
        assert!(judge(None, &[]).is_empty());
    }

    #[test]
    fn a_probe_that_could_not_run_is_inconclusive_not_silence() {
        let found = [
            Discovered::state(
                161,
                "snmp",
                &Answer::Failed("cannot open a UDP socket: EMFILE".into()),
            ),
            Discovered::state(1900, "ssdp", &Answer::Closed),
        ];
        let findings = judge(Some(&[]), &found);
        assert_eq!(
            verdicts(&findings),
            [
                ("udp.probe_failed", Verdict::Inconclusive),
                ("udp.none_answered", Verdict::NotApplicable),
            ]
        );
        assert_eq!(
            findings[0].summary,
            "1 UDP probe(s) could not run (161/udp snmp: cannot open a UDP socket: EMFILE); rerun or check the route to the device"
        );
        assert_eq!(
            findings[1].summary,
            "no UDP IoT service answered (1900/udp ssdp closed)"
        );
    }

    #[test]
    fn no_declaration_is_inconclusive_and_igd_control_fails_s1_1_01() {
        let mut ssdp = open(1900, "ssdp");
        ssdp.unauthenticated.push(Exposed {
            what: "UPnP IGD urn:schemas-upnp-org:service:WANIPConnection:1 control at http://x/ctl"
                .into(),
            returned: "GetExternalIPAddress answered NewExternalIPAddress=203.0.113.7".into(),
            evidence: Evidence::observed("x", "y"),
        });
        let findings = judge(None, &[ssdp]);
        assert_eq!(
            verdicts(&findings),
            [
                ("udp.undeclared_services", Verdict::Inconclusive),
                ("udp.upnp_control_unauthenticated", Verdict::Fail),
            ]
        );
        assert_eq!(findings[1].criteria, ["S1.1-01"]);
        assert!(findings[1]
            .summary
            .contains("NewExternalIPAddress=203.0.113.7"));
    }
}
