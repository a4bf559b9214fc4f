//! `jcstar report DIR` on a run killed before it wrote any report: every format is rebuilt from
//! `journal.jsonl` alone. Devices the run finished keep their results; the device it did not
//! finish is listed as not scanned, its criteria `inconclusive`, never `pass`; the run is marked
//! interrupted in every format and the exit code is 3, as for an interrupted scan. A torn last
//! line is skipped and said; a damaged line inside is one error naming it.
//!
//! The run is real: two simulated lab devices on loopback (127.77.216.x: SSH and UDP discovery),
//! and a third device on 127.0.0.5 with a web server that answers `GET /` (so the port scan
//! identifies HTTP and ends) and holds every other request unanswered, with 60 s read deadlines
//! in the profile, so its service checks cannot end before the lab devices'. The scan is killed
//! (SIGKILL: no chance to write reports) as soon as the journal holds both lab devices' service
//! checks. (A device never scanned at all is covered by the unit tests of `replay`.)

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{criterion, device, jcstar, results, transcript};
use jcstar_lab::{DemoLab, LabOptions};

const SUBNET: u8 = 216;
const LAB_DEVICES: [&str; 2] = ["old-router", "onvif-camera"];

/// Inventory blocks of `targets/demo.toml` for `names`, moved to this test's subnet.
fn lab_inventory(names: &[&str]) -> String {
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/demo.toml"))
            .expect("targets/demo.toml");
    demo.split("[[device]]")
        .skip(1)
        .filter(|block| {
            names
                .iter()
                .any(|n| block.contains(&format!("name = \"{n}\"")))
        })
        .map(|block| format!("[[device]]{block}"))
        .collect::<String>()
        .replace("127.77.0.", &format!("127.77.{SUBNET}."))
}

/// A web server on `ip` (loopback) that answers `GET /` at once and never answers anything
/// else: the port scan identifies HTTP, the web checks wait. It serves at most 200 connections
/// and ends after 120 s, dropping the held ones.
fn stalling_web_server(ip: &str) -> u16 {
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback web server");
    let port = listener.local_addr().expect("address").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(120);
        let mut held = Vec::new();
        let mut served = 0;
        while Instant::now() < end && served < 200 {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
            let mut request = [0u8; 1024];
            let read = stream.read(&mut request).unwrap_or(0);
            if request[..read].starts_with(b"GET / ") {
                let _ = stream
                    .write_all(b"HTTP/1.0 200 OK\r\nServer: stub\r\nContent-Length: 0\r\n\r\n");
            } else {
                held.push(stream);
            }
        }
    });
    port
}

/// The `checks` records in the journal, by device address.
fn checked_addresses(journal: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(journal).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record["record"] == "checks")
        // Partial snapshots (a check of several ended) do not make a device finished.
        .filter(|record| record["outcome"]["interrupted"] != true)
        .filter_map(|record| record["address"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_is_reported_from_its_journal_with_the_unfinished_device_inconclusive() {
    let lab = DemoLab::start(LabOptions { subnet: SUBNET })
        .await
        .expect("lab starts");
    let stalled_port = stalling_web_server("127.0.0.5");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("slow-reads.toml");
    let text = jcstar_model::profile::BUILTIN_TEXT
        .replace("read_timeout_ms = 5000", "read_timeout_ms = 60000");
    assert_ne!(text, jcstar_model::profile::BUILTIN_TEXT);
    std::fs::write(&profile, text).expect("profile");
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        format!(
            "{}\n[[device]]\nname = \"stalled\"\naddress = \"127.0.0.5\"\nservices = [\"{stalled_port}/tcp\"]\n",
            lab_inventory(&LAB_DEVICES)
        ),
    )
    .expect("inventory");
    let out = dir.path().join("run");
    let journal = out.join("journal.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jcstar"))
        .args(["scan", "--targets"])
        .arg(&inventory)
        .arg("--profile")
        .arg(&profile)
        .args(["-p", "1", "--no-intrusive", "--quiet", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start jcstar");
    let lab_addresses: Vec<String> = lab
        .devices()
        .iter()
        .filter(|d| LAB_DEVICES.contains(&d.name.as_str()))
        .map(|d| d.address.to_string())
        .collect();
    assert_eq!(lab_addresses.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let checked = checked_addresses(&journal);
        if lab_addresses.iter().all(|a| checked.contains(a)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().expect("SIGKILL jcstar");
    let _ = child.wait();
    lab.shutdown().await;
    let checked = checked_addresses(&journal);
    assert!(
        lab_addresses.iter().all(|a| checked.contains(a)),
        "the lab devices finished within 120 s: {checked:?}"
    );
    assert!(
        !out.join("results.json").exists(),
        "a killed run writes no report"
    );

    let out_text = out.to_str().expect("utf-8");
    let profile_text = profile.to_str().expect("utf-8");
    let output = jcstar(&["report", out_text, "--profile", profile_text]);
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 of 3 device(s) not finished"), "{stderr}");

    let run = results(&out);
    let schema: serde_json::Value =
        serde_json::from_str(jcstar_report::RESULTS_SCHEMA).expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let errors: Vec<String> = validator.iter_errors(&run).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "results.json fits its schema: {errors:?}"
    );
    assert_eq!(run["interrupted"], true);
    assert!(
        run["stopped"]
            .as_str()
            .is_some_and(|s| s.contains("journal.jsonl")),
        "{}",
        run["stopped"]
    );
    for name in LAB_DEVICES {
        let finished = device(&run, name);
        assert!(finished.get("unfinished").is_none(), "{finished}");
        assert!(finished["scan_stats"].is_object(), "{finished}");
    }
    let router = device(&run, "old-router");
    assert_eq!(router["ports"]["open"][0]["service"]["kind"], "ssh");
    // On the stalled device crypto and web wait on it; the UDP check beside them ended and
    // is kept, so S1.1-13 stands on a finished TCP scan and a finished UDP check, and every
    // criterion of a check that did not end is inconclusive.
    let stalled = device(&run, "stalled");
    assert!(
        stalled["unfinished"]
            .as_str()
            .is_some_and(|s| s.starts_with("service checks stopped part-way")),
        "{stalled}"
    );
    assert_eq!(
        stalled["ports"]["open"][0]["service"]["kind"], "http",
        "its scan is kept"
    );
    assert!(
        stalled["udp_ports"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{stalled}"
    );
    for c in stalled["criteria"].as_array().expect("criteria") {
        if c["id"] != "S1.1-13" {
            assert_ne!(c["verdict"], "pass", "{c}");
        }
    }
    assert_eq!(criterion(stalled, "S1.1-05")["verdict"], "inconclusive");
    let login = criterion(stalled, "S1.1-01");
    assert_eq!(login["verdict"], "inconclusive");
    assert!(
        login["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not finished: the run ended")),
        "{login}"
    );

    let read = |file: &str| std::fs::read_to_string(out.join(file)).expect(file);
    let junit = read("junit.xml");
    assert!(junit.contains("name=\"unfinished\""), "{junit}");
    assert!(junit.contains("name=\"interrupted\""), "{junit}");
    let html = read("report.html");
    assert!(html.contains("The run was interrupted"));
    assert!(html.contains("Not finished: service checks stopped part-way"));
    let csv = read("checklist.csv");
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes())
            .records()
            .collect::<Result<_, _>>()
            .expect("checklist.csv parses");
    let stalled_rows: Vec<&csv::StringRecord> =
        rows.iter().filter(|row| &row[0] == "stalled").collect();
    assert!(!stalled_rows.is_empty());
    for row in &stalled_rows {
        assert!(
            row[10].starts_with("This device was not finished"),
            "{row:?}"
        );
        if &row[2] != "S1.1-13" {
            assert_ne!(&row[6], "pass", "{row:?}");
        }
    }
    assert!(rows
        .iter()
        .filter(|row| &row[0] == "old-router")
        .all(|row| !row[10].contains("not finished")));
    assert!(read("summary.md").contains("The run was interrupted"));
    assert!(out.join("checklist.xlsx").is_file());

    // A power cut mid-write leaves a torn last line: skipped, and said. (results.json goes
    // first: with it, `report` renders from it and does not read the journal.)
    std::fs::remove_file(out.join("results.json")).expect("remove results.json");
    let mut text = read("journal.jsonl");
    let lines_before = text.lines().count();
    text.push_str("{\"record\":\"scan\",\"scan\":{\"addr");
    std::fs::write(&journal, &text).expect("tear the journal");
    let output = jcstar(&[
        "report",
        out_text,
        "--profile",
        profile_text,
        "--lang",
        "ja",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("journal.jsonl:{}", lines_before + 1))
            && stderr.contains("cut off"),
        "{stderr}"
    );
    assert!(read("report.html").contains("未完了"));

    // A damaged line inside is one error naming file and line, and nothing is rewritten.
    std::fs::remove_file(out.join("results.json")).expect("remove results.json");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(1, "not a record");
    std::fs::write(&journal, format!("{}\n", lines.join("\n"))).expect("damage");
    let output = jcstar(&["report", out_text, "--profile", profile_text]);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("journal.jsonl:2"), "{stderr}");
    assert!(!out.join("results.json").exists());
}
