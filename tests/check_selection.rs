//! `--checks`, `--skip` and `--max-hosts`: wrong values are one-line errors (exit 2) naming
//! the valid names; `--checks ports` runs the port scan alone.

mod common;

use common::{criterion, jcstar, results, transcript};

#[test]
fn unknown_check_names_and_bad_max_hosts_are_one_line_errors() {
    for args in [
        ["scan", "127.0.0.1", "--checks", "tls,crypto"],
        ["scan", "127.0.0.1", "--skip", "ports"],
        ["scan", "127.0.0.1", "--max-hosts", "0"],
        ["scan", "127.0.0.1", "--shard", "5/4"],
    ] {
        let output = jcstar(&args);
        assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    let output = jcstar(&["scan", "127.0.0.1", "--checks", "tls"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("valid names: ports, interfaces") && stderr.contains("brute_force"),
        "{stderr}"
    );
}

#[test]
fn checks_ports_is_the_port_scan_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let output = jcstar(&[
        "scan",
        "127.0.0.1",
        "-p",
        "1",
        "--checks",
        "ports",
        "--max-hosts",
        "1",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let report = results(&out);
    let device = &report["devices"][0];
    for id in ["S1.1-01", "S1.1-12", "S1.1-13"] {
        let c = criterion(device, id);
        assert_eq!(c["verdict"], "inconclusive", "{id}: {c}");
        assert!(c["findings"].as_array().is_some_and(Vec::is_empty), "{c}");
    }
}
