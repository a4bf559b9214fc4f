//! `jcstar demo --devices N`: a fleet of N simulated devices on distinct loopback addresses,
//! every one of them scanned and reported; a fleet that cannot fit under the open-file limit
//! is a one-line error naming the limit and the fix.

mod common;

use std::collections::BTreeSet;

use common::{jcstar, results, transcript};

#[test]
fn demo_serves_n_devices_and_the_scan_reports_all_of_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let inventory = dir.path().join("fleet.toml");
    let output = jcstar(&[
        "demo",
        "--devices",
        "50",
        "--subnet",
        "41",
        "--checks",
        "ports",
        "--quiet",
        "--write-inventory",
        inventory.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let report = results(&out);
    let devices = report["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 50, "{}", transcript(&output));
    assert_eq!(report["summary"]["devices"], 50);
    let addresses: BTreeSet<&str> = devices
        .iter()
        .map(|d| d["device"]["address"].as_str().expect("address"))
        .collect();
    assert_eq!(addresses.len(), 50, "every device has its own address");
    assert!(
        addresses.iter().all(|a| a.starts_with("127.119.0.")),
        "{addresses:?}"
    );
    // Every device answered on the one port its persona serves, and only there.
    for device in devices {
        let open: Vec<u64> = device["ports"]["open"]
            .as_array()
            .expect("open ports")
            .iter()
            .map(|p| p["port"].as_u64().expect("port"))
            .collect();
        assert_eq!(open.len(), 1, "{}: {open:?}", device["device"]["name"]);
    }
    let written = std::fs::read_to_string(&inventory).expect("inventory written");
    assert_eq!(written.matches("[[device]]").count(), 50);
}

#[test]
fn a_fleet_beyond_the_open_file_limit_is_a_one_line_error() {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 300 && exec {} demo --devices 2000 --subnet 42 --quiet",
            env!("CARGO_BIN_EXE_jcstar")
        ))
        .output()
        .expect("sh runs");
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("RLIMIT_NOFILE) is 300") && stderr.contains("ulimit -n"),
        "{stderr}"
    );
    let output = jcstar(&["demo", "--devices", "0", "--quiet"]);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
}
