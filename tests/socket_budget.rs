//! The run's socket budget holds for the port scan and every check, TCP and UDP: a fleet of
//! devices scanned under an open-file limit far below what it would like gets exactly the
//! verdicts of an unconstrained run (slower, never with "Too many open files"). Traffic goes
//! to a fleet of simulated devices on 127.124.0.x only.

mod common;

use std::collections::BTreeMap;

use common::{results, transcript};
use jcstar_lab::{DemoLab, FleetOptions, Limits};

const DEVICES: usize = 60;

/// Scans the fleet inventory with `nofile` open files at most (none: the default limit) and
/// returns each device's (criterion, verdict) list and the run's socket limit.
async fn scan(inventory: &std::path::Path, out: &std::path::Path, nofile: Option<u32>) -> Verdicts {
    let command = format!(
        "{}exec {} scan --targets {} --no-intrusive --quiet --out {}",
        nofile
            .map(|n| format!("ulimit -n {n} && "))
            .unwrap_or_default(),
        env!("CARGO_BIN_EXE_jcstar"),
        inventory.display(),
        out.display()
    );
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .output()
            .expect("sh runs")
    })
    .await
    .expect("scan ran");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    let report = results(out);
    let text = report.to_string();
    assert!(!text.contains("Too many open files"), "{text}");
    let devices = report["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), DEVICES);
    let verdicts = devices
        .iter()
        .map(|d| {
            let criteria = d["criteria"]
                .as_array()
                .expect("criteria")
                .iter()
                .map(|c| format!("{}={}", c["id"], c["verdict"]))
                .collect::<Vec<_>>();
            (d["device"]["name"].to_string(), criteria)
        })
        .collect();
    Verdicts {
        by_device: verdicts,
        sockets: report["scan"]["global_in_flight"].as_u64().unwrap_or(0),
    }
}

struct Verdicts {
    by_device: BTreeMap<String, Vec<String>>,
    sockets: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_open_file_limit_slows_a_fleet_scan_but_changes_no_verdict() {
    let lab = DemoLab::start_fleet(
        FleetOptions {
            devices: DEVICES,
            block: 124,
            spare_files: 0,
        },
        Limits::default(),
    )
    .await
    .expect("fleet starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, lab.inventory_toml()).expect("write inventory");
    let tight = scan(&inventory, &dir.path().join("tight"), Some(64)).await;
    let free = scan(&inventory, &dir.path().join("free"), None).await;
    assert!(
        tight.sockets < free.sockets,
        "the limit was in force: {} vs {}",
        tight.sockets,
        free.sockets
    );
    for (device, verdicts) in &free.by_device {
        assert_eq!(
            tight.by_device.get(device),
            Some(verdicts),
            "{device}: the same verdicts under 64 open files"
        );
    }
    drop(lab);
}
