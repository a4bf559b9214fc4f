//! Ctrl-C (SIGINT) stops a run and still writes the reports: devices already scanned keep their
//! results (and their service checks' results when those finished), a device mid-scan keeps the
//! ports it had settled, and the exit code is 3.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{criterion, device, results};

#[test]
fn sigint_writes_partial_reports_and_exits_3() {
    // Accepts connections in the kernel backlog but never answers: service identification on
    // this port waits out every banner deadline, keeping the run busy for seconds.
    let silent = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let silent_port = silent.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("inv.toml");
    std::fs::write(
        &inventory,
        "[[device]]\nname = \"quick\"\naddress = \"127.0.0.3\"\nservices = []\n\
         [[device]]\nname = \"slow\"\naddress = \"127.0.0.2\"\nservices = []\n",
    )
    .expect("write inventory");
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jcstar"))
        .args([
            "scan",
            "--targets",
            inventory.to_str().expect("utf-8"),
            "-p",
            &silent_port.to_string(),
            "--quiet",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start jcstar");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !line.contains("scanning") && Instant::now() < deadline {
        line.clear();
        if stderr.read_line(&mut line).expect("read stderr") == 0 {
            break;
        }
    }
    assert!(
        line.contains("scanning"),
        "jcstar announced the scan: {line:?}"
    );
    std::thread::sleep(Duration::from_millis(700));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let code = child.wait().expect("jcstar exits").code();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
    assert_eq!(code, Some(3), "stderr: {rest}");
    assert!(rest.contains("interrupted"), "{rest}");

    let report = results(&out);
    assert_eq!(report["interrupted"], true);
    let quick = device(&report, "quick");
    assert_eq!(
        quick["ports"]["closed_count"], 1,
        "the quick device was scanned: {quick}"
    );
    // Its service checks start as soon as its own scan ends, so they may have finished before
    // the interrupt (then every result is kept: its UDP ports were probed) or not (then
    // S1.1-13, which the UDP probes bear on too, cannot pass on half the evidence).
    let quick_s13 = criterion(quick, "S1.1-13");
    let checks: Vec<(&str, &str)> = quick_s13["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or(""),
                f["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        checks.contains(&("interfaces.declared_match", "pass")),
        "{checks:?}"
    );
    let udp_probed = quick["udp_ports"].as_array().map_or(0, Vec::len);
    if udp_probed == 0 {
        assert_eq!(quick_s13["verdict"], "inconclusive", "{quick_s13}");
        assert!(
            checks.contains(&("run.active_checks", "inconclusive"))
                || checks.contains(&("run.stopped", "inconclusive")),
            "{checks:?}"
        );
    } else {
        eprintln!("the quick device's checks finished before the interrupt: {checks:?}");
        assert!(
            !checks
                .iter()
                .any(|(check, _)| *check == "run.active_checks"),
            "{checks:?}"
        );
        assert!(udp_probed >= 6, "{quick}");
    }
    // The slow device was mid-scan: the open port it had already answered on is kept (an
    // undeclared open port is evidence enough for S1.1-13), and its service criteria say the
    // checks did not run because of the interrupt.
    let slow = device(&report, "slow");
    assert_eq!(slow["ports"]["open"][0]["port"], silent_port, "{slow}");
    assert_eq!(criterion(slow, "S1.1-13")["verdict"], "fail", "{slow}");
    let s01 = criterion(slow, "S1.1-01");
    assert_eq!(s01["verdict"], "inconclusive", "{s01}");
    assert!(
        s01["reason"]
            .as_str()
            .expect("reason")
            .contains("interrupted"),
        "{s01}"
    );
    assert!(out.join("junit.xml").exists());
    drop(silent);
}
