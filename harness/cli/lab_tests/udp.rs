//! The UDP IoT service personas (hosts 21–25) against the real probes and the `udp_services`
//! check: exact port states (answering → open, bound but silent → no answer, nothing bound →
//! closed), the model and firmware sightings, the S1.1-13 fail/warn rules, the S1.1-01 IGD
//! failure, and no false positive on the well-configured personas. Each test has its own
//! subnet (60–63).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jcstar_checks::{run_active, ActiveContext, ActiveOutcome, ActiveTarget};
use jcstar_lab::testing::start_lab;
use jcstar_model::device::Device;
use jcstar_model::observed::{Sighting, UdpState};
use jcstar_model::profile::udp::UdpSettings;
use jcstar_model::profile::Profile;
use jcstar_model::{Finding, Verdict};
use jcstar_probe::discovery::discover;
use jcstar_probe::scan::{HostScan, HostStats};

/// The profile's probes, with the demo's unprivileged SNMP port and short deadlines.
fn settings() -> UdpSettings {
    UdpSettings {
        snmp_ports: vec![1161],
        attempt_timeout_ms: 300,
        attempts: 2,
        ..UdpSettings::default()
    }
}

fn ip(subnet: u8, host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 77, subnet, host))
}

use UdpState::{Closed, NoAnswer, Open};

#[tokio::test]
async fn udp_port_states_are_exact() {
    let lab = start_lab(60).await;
    let expected: [(u8, [UdpState; 6]); 6] = [
        // host: snmp 1161, ssdp 1900, coap 5683, mdns 5353, ws-discovery 3702, nat-pmp 5351
        (21, [Open, Open, Closed, Closed, Closed, Open]),
        (22, [Closed, Open, Closed, Open, Closed, Closed]),
        (23, [Closed, Closed, Open, Closed, NoAnswer, Closed]),
        (24, [Closed, Closed, Closed, Open, Open, Closed]),
        (25, [Closed, Open, Closed, Closed, Closed, Closed]),
        // A TCP-only persona: nothing answers on UDP.
        (1, [Closed, Closed, Closed, Closed, Closed, Closed]),
    ];
    for (host, states) in expected {
        let started = Instant::now();
        let found = discover(ip(60, host), &settings()).await;
        let got: Vec<(u16, &str, UdpState)> = found
            .iter()
            .map(|d| (d.port.port, d.port.service.as_str(), d.port.state))
            .collect();
        let want: Vec<(u16, &str, UdpState)> = [
            (1161, "snmp"),
            (1900, "ssdp"),
            (5683, "coap"),
            (5353, "mdns"),
            (3702, "ws-discovery"),
            (5351, "nat-pmp"),
        ]
        .iter()
        .zip(states)
        .map(|(&(port, service), state)| (port, service, state))
        .collect();
        assert_eq!(got, want, "host {host}");
        for d in &found {
            assert_eq!(d.port.detail.is_empty(), d.port.state != Open, "{d:?}");
        }
        // Bounded: a silent port costs its attempts, nothing more (probes run concurrently).
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "host {host}: {:?}",
            started.elapsed()
        );
    }
    lab.shutdown().await;
}

/// Runs the active checks with only `udp_services` enabled on every device of the lab's
/// generated inventory.
async fn run_udp_check(subnet: u8) -> Vec<(Device, ActiveOutcome)> {
    let lab = start_lab(subnet).await;
    let mut profile = Profile::builtin();
    profile.udp = settings();
    profile.checks.enabled = vec!["udp_services".into()];
    let entries = crate::inventory::parse(&lab.inventory_toml(), Path::new("demo.toml"), &profile)
        .expect("the demo inventory parses");
    let devices = crate::run::resolve_devices(entries, Vec::new(), &Default::default())
        .await
        .expect("devices");
    let context = ActiveContext {
        profile: Arc::new(profile),
        intrusive: false,
        peers: Arc::new(devices.clone()),
    };
    let mut out = Vec::new();
    for device in devices {
        let scan = HostScan {
            address: device.address,
            ports: Vec::new(),
            stats: HostStats::default(),
        };
        let target = ActiveTarget {
            device: device.clone(),
            scan,
        };
        out.push((device, run_active(target, context.clone()).await));
    }
    lab.shutdown().await;
    out
}

fn outcome<'a>(all: &'a [(Device, ActiveOutcome)], name: &str) -> &'a ActiveOutcome {
    &all.iter()
        .find(|(d, _)| d.name == name)
        .unwrap_or_else(|| panic!("device {name}"))
        .1
}

fn verdicts(o: &ActiveOutcome) -> Vec<(String, &str, Verdict)> {
    o.findings
        .iter()
        .map(|f| (f.criteria.join(","), f.check.as_str(), f.verdict))
        .collect()
}

fn finding<'a>(o: &'a ActiveOutcome, check: &str) -> &'a Finding {
    o.findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("{check} in {:?}", o.findings))
}

fn evidence_text(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| format!("{}: {}", e.label, e.received.as_deref().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn models(o: &ActiveOutcome) -> Vec<(String, String)> {
    o.sightings
        .iter()
        .filter_map(|s| match s {
            Sighting::Model { source, text } => Some((source.clone(), text.clone())),
            Sighting::Component { .. } => None,
        })
        .collect()
}

fn components(o: &ActiveOutcome) -> Vec<(String, Option<String>)> {
    o.sightings
        .iter()
        .filter_map(|s| match s {
            Sighting::Component { name, version, .. } => Some((name.clone(), version.clone())),
            Sighting::Model { .. } => None,
        })
        .collect()
}

fn pair(name: &str, version: &str) -> (String, Option<String>) {
    (name.to_string(), Some(version.to_string()))
}

#[tokio::test]
async fn weak_upnp_router_fails_s1_1_13_and_its_igd_fails_s1_1_01() {
    let all = run_udp_check(61).await;
    let router = outcome(&all, "upnp-router");
    let s13 = "S1.1-13".to_string();
    assert_eq!(
        verdicts(router),
        [
            (s13.clone(), "udp.undeclared_service", Verdict::Fail),
            (s13.clone(), "udp.undeclared_ssdp", Verdict::Warn),
            (s13.clone(), "udp.undeclared_nat_pmp", Verdict::Warn),
            (
                "S1.1-01".to_string(),
                "udp.upnp_control_unauthenticated",
                Verdict::Fail
            ),
        ]
    );
    let snmp = finding(router, "udp.undeclared_service");
    assert_eq!(
        snmp.summary,
        "undeclared UDP service 1161/udp (snmp) answers; it discloses information without authentication"
    );
    assert!(
        evidence_text(snmp).contains(
            "1161/udp SNMP readable with community \"public\": sysDescr \"JCS-RTR-2100 firmware 3.1.4\", sysName \"upnp-router\""
        ),
        "{}",
        evidence_text(snmp)
    );
    let ssdp = finding(router, "udp.undeclared_ssdp");
    assert!(
        ssdp.summary
            .starts_with("UPnP/SSDP answers on 1900/udp (ssdp), which the vendor does not declare"),
        "{}",
        ssdp.summary
    );
    assert!(
        evidence_text(ssdp).contains("UPnP serialNumber, no authentication")
            && evidence_text(ssdp).contains("JCS2100-00042"),
        "{}",
        evidence_text(ssdp)
    );
    let igd = finding(router, "udp.upnp_control_unauthenticated");
    assert_eq!(
        igd.summary,
        "UPnP IGD urn:schemas-upnp-org:service:WANIPConnection:1 control at http://127.77.61.21:49152/ctl/IPConn needs no authentication: GetExternalIPAddress answered NewExternalIPAddress=203.0.113.7"
    );
    let exchange = &igd.evidence[0];
    assert!(exchange.sent.as_deref().is_some_and(|s| s.contains(
        "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#GetExternalIPAddress\""
    )));

    let source = "1900/udp UPnP description http://127.77.61.21:49152/rootDesc.xml";
    assert_eq!(
        models(router),
        [
            (
                "1161/udp SNMP sysDescr.0".to_string(),
                "JCS-RTR-2100 firmware 3.1.4".to_string()
            ),
            (format!("{source} modelName"), "JCS-RTR-2100".to_string()),
            (format!("{source} modelNumber"), "2100-A".to_string()),
        ]
    );
    assert_eq!(
        components(router),
        [
            pair("firmware", "3.1.4"),
            pair("Linux", "5.10"),
            pair("jcs-upnpd", "1.2"),
            pair("JCS-RTR-2100 firmware", "3.1.4"),
        ]
    );
    let states: Vec<_> = router.udp_ports.iter().map(|p| (p.port, p.state)).collect();
    assert_eq!(
        states,
        [
            (1161, Open),
            (1900, Open),
            (5683, Closed),
            (5353, Closed),
            (3702, Closed),
            (5351, Open),
        ]
    );
}

#[tokio::test]
async fn well_configured_udp_personas_have_no_false_positive() {
    let all = run_udp_check(62).await;
    let s13 = "S1.1-13".to_string();

    let hub = outcome(&all, "upnp-hub");
    assert_eq!(
        verdicts(hub),
        [
            (s13.clone(), "udp.declared_service", Verdict::Pass),
            (s13.clone(), "udp.declared_service", Verdict::Pass),
        ]
    );
    assert_eq!(
        hub.findings[0].summary,
        "declared UDP service 1900/udp (ssdp) answers"
    );
    assert_eq!(
        hub.findings[1].summary,
        "declared UDP service 5353/udp (mdns) answers"
    );
    assert_eq!(
        models(hub),
        [
            (
                "1900/udp UPnP description http://127.77.62.22:49153/rootDesc.xml modelName"
                    .to_string(),
                "JCS-HUB-2200".to_string()
            ),
            (
                "1900/udp UPnP description http://127.77.62.22:49153/rootDesc.xml modelNumber"
                    .to_string(),
                "2200".to_string()
            ),
            (
                "5353/udp mDNS TXT JCS-HUB-2200._http._tcp.local md".to_string(),
                "JCS-HUB-2200".to_string()
            ),
        ]
    );
    assert!(
        components(hub).contains(&pair("firmware", "2.2.0")),
        "{:?}",
        hub.sightings
    );
    assert!(components(hub).contains(&pair("JCS-HUB-2200 firmware", "2.2.0")));
    let mdns = &hub.udp_ports[3];
    assert_eq!(
        mdns.detail,
        "mDNS services: _http._tcp.local; JCS-HUB-2200._http._tcp.local TXT md=JCS-HUB-2200 fw=2.2.0"
    );

    let sensor = outcome(&all, "coap-sensor");
    assert_eq!(
        verdicts(sensor),
        [(s13.clone(), "udp.declared_service", Verdict::Pass)]
    );
    assert!(
        evidence_text(&sensor.findings[0])
            .contains("5683/udp CoAP resource list, no authentication: /sensors/temp /fw"),
        "{}",
        evidence_text(&sensor.findings[0])
    );
    assert_eq!(sensor.udp_ports[4].state, NoAnswer);

    // A LOCATION on another host is never followed: no description, no sightings from it.
    let plug = outcome(&all, "rogue-ssdp-plug");
    assert_eq!(
        verdicts(plug),
        [(s13.clone(), "udp.declared_service", Verdict::Pass)]
    );
    assert!(models(plug).is_empty(), "{:?}", plug.sightings);
    assert!(
        evidence_text(&plug.findings[0]).contains(
            "LOCATION \"http://127.77.62.21:49152/rootDesc.xml\" is not on the device's address 127.77.62.25; not followed"
        ),
        "{}",
        evidence_text(&plug.findings[0])
    );

    // TCP-only personas: nothing answers on UDP, and nothing is claimed. The strong NVR's agent
    // ignores the `public` community: silence, not an open port.
    for name in ["weak-camera", "hardened-device", "strong-nvr"] {
        let o = outcome(&all, name);
        assert_eq!(
            verdicts(o),
            [(s13.clone(), "udp.none_answered", Verdict::NotApplicable)],
            "{name}"
        );
        assert!(o.sightings.is_empty(), "{name}: {:?}", o.sightings);
    }
    let strong_nvr = outcome(&all, "strong-nvr");
    assert_eq!(strong_nvr.udp_ports[0].state, NoAnswer);
    // The weak NVR declares its SNMP agent: a pass for S1.1-13, with what it disclosed.
    let weak_nvr = outcome(&all, "weak-nvr");
    assert_eq!(
        verdicts(weak_nvr),
        [(s13.clone(), "udp.declared_service", Verdict::Pass)]
    );
    assert!(evidence_text(&weak_nvr.findings[0]).contains(
        "1161/udp SNMP readable with community \"public\": sysDescr \"JCS-NVR-1300 firmware 1.0\", sysName \"weak-nvr\""
    ));
}

#[tokio::test]
async fn undeclared_discovery_services_fail_with_their_model() {
    let all = run_udp_check(63).await;
    let camera = outcome(&all, "onvif-camera");
    let s13 = "S1.1-13".to_string();
    assert_eq!(
        verdicts(camera),
        [
            (s13.clone(), "udp.undeclared_service", Verdict::Fail),
            (s13.clone(), "udp.undeclared_service", Verdict::Fail),
        ]
    );
    assert_eq!(
        camera.findings[0].summary,
        "undeclared UDP service 5353/udp (mdns) answers"
    );
    assert_eq!(
        camera.findings[1].summary,
        "undeclared UDP service 3702/udp (ws-discovery) answers"
    );
    assert_eq!(
        models(camera),
        [
            (
                "5353/udp mDNS TXT front door._rtsp._tcp.local model".to_string(),
                "JCS-CAM-2400".to_string()
            ),
            (
                "3702/udp WS-Discovery scope onvif://www.onvif.org/hardware/".to_string(),
                "JCS-CAM-2400".to_string()
            ),
        ]
    );
    assert_eq!(components(camera), [pair("firmware", "4.0.1")]);
    assert!(camera.udp_ports[4]
        .detail
        .contains("XAddrs http://127.77.63.24:80/onvif/device_service (not followed)"));
}

/// The hub's SSDP stack answers from a fresh ephemeral-port socket (as libupnp does): a
/// connected-only exchange never sees that answer; the any-port exchange does, and still
/// reports a closed port as closed.
#[tokio::test]
async fn ssdp_answers_from_another_port_of_the_device_are_seen() {
    use jcstar_probe::discovery::{exchange, exchange_any_port, ssdp, Answer, UdpBounds};
    let lab = start_lab(64).await;
    let bounds = UdpBounds {
        attempt: Duration::from_millis(300),
        attempts: 1,
        max_bytes: 9000,
    };
    let hub = std::net::SocketAddr::new(ip(64, 22), 1900);
    let request = [ssdp::m_search(hub)];
    let is_ssdp = |d: &[u8]| ssdp::parse_answer(d).is_some();
    assert_eq!(
        exchange(hub, &request, &bounds, is_ssdp).await,
        Answer::NoAnswer
    );
    let Answer::Reply(reply) = exchange_any_port(hub, &request, &bounds, is_ssdp).await else {
        panic!("the hub's answer from another port was not seen");
    };
    assert!(String::from_utf8_lossy(&reply).contains("LOCATION: http://127.77.64.22:49153/"));
    let closed = std::net::SocketAddr::new(ip(64, 23), 1900);
    assert_eq!(
        exchange_any_port(closed, &request, &bounds, is_ssdp).await,
        Answer::Closed
    );
    lab.shutdown().await;
}
