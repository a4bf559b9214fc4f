//! Time budgets: a device that accepts connections and never answers (a tarpit) cannot hold a
//! run past `--host-timeout` or `--max-duration`; what was measured is kept, and the criteria
//! left unjudged are inconclusive, never `pass`. Traffic goes to 127.0.0.1 only.

mod common;

use std::time::{Duration, Instant};

use common::{criterion, jcstar, results, transcript};

fn scan(port: u16, budget_flag: &str, budget: &str, out: &std::path::Path) -> std::process::Output {
    let port = port.to_string();
    let out = out.to_str().expect("utf-8 path");
    jcstar(&[
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        budget_flag,
        budget,
        "--out",
        out,
        "--quiet",
    ])
}

#[test]
fn host_timeout_finishes_a_tarpit_device_with_inconclusive_criteria() {
    let port = common::tarpit("127.0.0.1");
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = scan(port, "--host-timeout", "3s", dir.path());
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(40),
        "took {took:?}\n{}",
        transcript(&output)
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    let results = results(dir.path());
    assert_eq!(results["interrupted"], false);
    let device = &results["devices"][0];
    assert_eq!(
        device["ports"]["open"][0]["port"], port,
        "the open port is kept"
    );
    let text = device.to_string();
    assert!(text.contains("time budget exceeded"), "{text}");
    for id in ["S1.1-01", "S1.1-02", "S1.1-04"] {
        assert_eq!(criterion(device, id)["verdict"], "inconclusive", "{id}");
    }
}

#[test]
fn max_duration_stops_the_run_and_still_writes_every_report() {
    let port = common::tarpit("127.0.0.1");
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = scan(port, "--max-duration", "3s", dir.path());
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(40),
        "took {took:?}\n{}",
        transcript(&output)
    );
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--max-duration"), "{stderr}");
    let results = results(dir.path());
    assert_eq!(results["interrupted"], true);
    for file in ["junit.xml", "report.html", "checklist.csv", "summary.md"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let device = &results["devices"][0];
    for id in ["S1.1-01", "S1.1-02", "S1.1-04"] {
        assert_ne!(criterion(device, id)["verdict"], "pass", "{id}");
    }
}

#[test]
fn an_unwritable_out_directory_is_refused_before_any_probe() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let port = common::tarpit("127.0.0.1");
    let started = Instant::now();
    let output = scan(port, "--host-timeout", "60s", file.path());
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write reports to"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// An open port that answers nothing identifiable (here a tarpit, within a generous budget)
/// could hide a login: the login criteria are `inconclusive` saying so, never "no login
/// surface" (`not_applicable`) and never `pass`.
#[test]
fn an_unidentified_open_port_is_no_proof_of_no_login_surface() {
    let port = common::tarpit("127.0.0.1");
    let dir = tempfile::tempdir().expect("tempdir");
    let output = scan(port, "--host-timeout", "120s", dir.path());
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    let results = results(dir.path());
    let device = &results["devices"][0];
    for id in ["S1.1-01", "S1.1-02", "S1.1-04"] {
        let c = criterion(device, id);
        assert_eq!(c["verdict"], "inconclusive", "{id}: {c}");
    }
    let s04 = criterion(device, "S1.1-04").to_string();
    assert!(
        s04.contains(&format!("open port {port}/tcp answered nothing")),
        "{s04}"
    );
}
