//! `jcstar scan` against real listeners on loopback: declared versus open ports, exit codes.

mod common;

use std::net::TcpListener;

use common::{criterion, device, finding_text, jcstar, results, transcript};

/// Binds `n` listeners on `host` and returns them with their ports.
fn listeners(host: &str, n: usize) -> Vec<(TcpListener, u16)> {
    (0..n)
        .map(|_| {
            let l = TcpListener::bind((host, 0)).expect("bind loopback");
            let port = l.local_addr().expect("addr").port();
            (l, port)
        })
        .collect()
}

/// A port that nothing listens on (bound, then released).
fn closed_port(host: &str) -> u16 {
    let l = TcpListener::bind((host, 0)).expect("bind");
    l.local_addr().expect("addr").port()
}

fn scan_with_inventory(
    address: &str,
    declared: &[u16],
    ports: &[u16],
) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("inv.toml");
    let services: Vec<String> = declared.iter().map(|p| format!("\"{p}/tcp\"")).collect();
    std::fs::write(
        &inventory,
        format!(
            "[[device]]\nname = \"unit\"\naddress = \"{address}\"\nservices = [{}]\n",
            services.join(", ")
        ),
    )
    .expect("write inventory");
    let port_list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let out = dir.path().join("out");
    let output = jcstar(&[
        "scan",
        "--targets",
        inventory.to_str().expect("utf-8"),
        "-p",
        &port_list.join(","),
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let code = output.status.code().expect("exit code");
    (code, results(&out), transcript(&output))
}

fn check_host(host: &str, address: &str) {
    let open = listeners(host, 3);
    let closed = closed_port(host);
    let ports: Vec<u16> = open.iter().map(|(_, p)| *p).chain([closed]).collect();

    let all_declared: Vec<u16> = open.iter().map(|(_, p)| *p).collect();
    let (code, report, log) = scan_with_inventory(address, &all_declared, &ports);
    assert_eq!(code, 0, "{log}");
    let unit = device(&report, "unit");
    let mut seen: Vec<u64> = unit["ports"]["open"]
        .as_array()
        .expect("open")
        .iter()
        .map(|p| p["port"].as_u64().expect("port"))
        .collect();
    seen.sort_unstable();
    let mut expected: Vec<u64> = all_declared.iter().map(|&p| u64::from(p)).collect();
    expected.sort_unstable();
    assert_eq!(seen, expected, "{log}");
    assert_eq!(unit["ports"]["closed_count"], 1);
    assert_eq!(criterion(unit, "S1.1-13")["verdict"], "pass");

    let (code, report, log) = scan_with_inventory(address, &all_declared[..2], &ports);
    assert_eq!(code, 1, "{log}");
    let interfaces = criterion(device(&report, "unit"), "S1.1-13");
    assert_eq!(interfaces["verdict"], "fail");
    assert!(
        finding_text(interfaces).contains(&format!("undeclared open port {}/tcp", all_declared[2])),
        "{interfaces}"
    );
}

#[test]
fn declared_ports_pass_and_an_undeclared_port_fails_on_ipv4() {
    check_host("127.0.0.1", "127.0.0.1");
}

#[test]
fn declared_ports_pass_and_an_undeclared_port_fails_on_ipv6() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback on this machine; IPv6 scan not exercised");
        return;
    }
    check_host("::1", "::1");
}

#[test]
fn a_bare_address_lists_open_ports_and_asks_for_the_declaration() {
    let open = listeners("127.0.0.1", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let port = open[0].1.to_string();
    let output = jcstar(&[
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let report = results(&out);
    let interfaces = criterion(device(&report, "127.0.0.1"), "S1.1-13");
    assert_eq!(interfaces["verdict"], "inconclusive");
    assert!(finding_text(interfaces).contains(&port));
}

/// A service the inventory declares is scanned even when the port list leaves it out, and a
/// declared service that does not answer is said, leaving S1.1-13 open instead of passing.
#[test]
fn declared_services_are_scanned_and_a_silent_one_is_reported() {
    let open = listeners("127.0.0.1", 2);
    let closed = closed_port("127.0.0.1");
    let listed = open[0].1;
    let declared_only = open[1].1;
    // `-p` names only the first listener; the second and the closed port are declared.
    let (code, report, log) =
        scan_with_inventory("127.0.0.1", &[listed, declared_only, closed], &[listed]);
    assert_eq!(code, 0, "{log}");
    let unit = device(&report, "unit");
    let mut seen: Vec<u64> = unit["ports"]["open"]
        .as_array()
        .expect("open")
        .iter()
        .map(|p| p["port"].as_u64().expect("port"))
        .collect();
    seen.sort_unstable();
    let mut expected = vec![u64::from(listed), u64::from(declared_only)];
    expected.sort_unstable();
    assert_eq!(seen, expected, "{log}");
    let interfaces = criterion(unit, "S1.1-13");
    assert_eq!(interfaces["verdict"], "inconclusive", "{interfaces}");
    assert!(
        finding_text(interfaces)
            .contains(&format!("declared service {closed}/tcp does not answer")),
        "{interfaces}"
    );
}
