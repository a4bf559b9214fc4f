//! `jcstar demo` end to end for the UDP IoT personas (hosts 21–25): the JSON report carries
//! every probed UDP port with its state, the UPnP IGD failure reaches S1.1-01, and the S1.1-13
//! verdicts follow the declared services.

mod common;

use common::{criterion, device, finding_text, jcstar, results, transcript};

fn udp_states(device: &serde_json::Value) -> Vec<(u64, String, String)> {
    device["udp_ports"]
        .as_array()
        .expect("udp_ports")
        .iter()
        .map(|p| {
            (
                p["port"].as_u64().unwrap_or(0),
                p["service"].as_str().unwrap_or("").to_string(),
                p["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn checks(criterion: &serde_json::Value) -> Vec<(String, String)> {
    criterion["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["check"].as_str().is_some_and(|c| c.starts_with("udp.")))
        .map(|f| {
            (
                f["check"].as_str().unwrap_or("").to_string(),
                f["verdict"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn pair(check: &str, verdict: &str) -> (String, String) {
    (check.to_string(), verdict.to_string())
}

#[test]
fn demo_reports_udp_ports_and_their_verdicts() {
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().join("run");
    let output = jcstar(&[
        "demo",
        "--subnet",
        "65",
        "--no-intrusive",
        "--quiet",
        "--out",
        out_dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1900/udp ssdp, 5351/udp nat-pmp, 49152/tcp http, 1161/udp snmp"),
        "{stdout}"
    );
    let results = results(&out_dir);

    let state = |s: &str| s.to_string();
    let router = device(&results, "upnp-router");
    // The profile asks SNMP on 161; the demo agent listens on 1161, so 161 is closed.
    assert_eq!(
        udp_states(router),
        [
            (161, state("snmp"), state("closed")),
            (1900, state("ssdp"), state("open")),
            (5683, state("coap"), state("closed")),
            (5353, state("mdns"), state("closed")),
            (3702, state("ws-discovery"), state("closed")),
            (5351, state("nat-pmp"), state("open")),
        ]
    );
    let s01 = criterion(router, "S1.1-01");
    assert_eq!(s01["verdict"], "fail");
    assert!(checks(s01).contains(&pair("udp.upnp_control_unauthenticated", "fail")));
    let s13 = criterion(router, "S1.1-13");
    // Undeclared SSDP and NAT-PMP, gateway services any LAN host can use: warn, not fail.
    assert_eq!(
        checks(s13),
        [
            pair("udp.undeclared_ssdp", "warn"),
            pair("udp.undeclared_nat_pmp", "warn")
        ]
    );
    assert!(
        finding_text(s13).contains("external address 203.0.113.7"),
        "{s13}"
    );
    assert_eq!(s13["verdict"], "warn", "{s13}");

    // The identity check judges the UDP sightings: the router's model is seen in its UPnP
    // description; the rogue plug's LOCATION (another host) was not followed, so its model is
    // not visible on the network.
    // (A sighting supports the declaration; without a label photo S1.1-10 stays open.)
    let s10 = criterion(router, "S1.1-10");
    assert_eq!(s10["verdict"], "inconclusive", "{s10}");
    let seen = finding_text(s10);
    assert!(
        seen.contains("UPnP description") && seen.contains("modelName"),
        "{s10}"
    );
    let plug = criterion(device(&results, "rogue-ssdp-plug"), "S1.1-10");
    assert_eq!(plug["verdict"], "inconclusive", "{plug}");
    let camera = criterion(device(&results, "onvif-camera"), "S1.1-10");
    let seen = finding_text(camera);
    assert!(
        seen.contains("WS-Discovery") && seen.contains("mDNS TXT"),
        "{camera}"
    );

    let hub = device(&results, "upnp-hub");
    let s13 = criterion(hub, "S1.1-13");
    assert_eq!(
        checks(s13),
        [
            pair("udp.declared_service", "pass"),
            pair("udp.declared_service", "pass")
        ]
    );
    assert_eq!(s13["verdict"], "pass", "{s13}");
    assert!(checks(criterion(hub, "S1.1-01")).is_empty());

    let camera = device(&results, "onvif-camera");
    assert_eq!(criterion(camera, "S1.1-13")["verdict"], "fail");
    let sensor = device(&results, "coap-sensor");
    assert_eq!(
        udp_states(sensor)[4],
        (3702, state("ws-discovery"), state("no_answer"))
    );
    // A TCP-only persona: every UDP port closed, S1.1-13 decided by its TCP ports alone.
    let camera = device(&results, "weak-camera");
    assert!(udp_states(camera).iter().all(|(_, _, s)| s == "closed"));
    assert_eq!(
        checks(criterion(camera, "S1.1-13")),
        [pair("udp.none_answered", "not_applicable")]
    );
}
