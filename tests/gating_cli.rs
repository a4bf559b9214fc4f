//! `--waivers` and `--baseline` on the command line, through `jcstar report` on the report
//! crate's fixed results.json (no scanning): the exit code follows only failures that count,
//! a bad waivers file is one line naming file:line, results.json records the waivers.

mod common;

use std::path::{Path, PathBuf};

use common::{jcstar, transcript};

const FIXTURE: &str = include_str!("../harness/report/tests/fixtures/results.json");

/// Every failure of the fixture: (device, criterion).
const FAILURES: [(&str, &str); 9] = [
    ("weak-camera", "S1.1-01"),
    ("weak-camera", "S1.1-02"),
    ("weak-camera", "S1.1-04"),
    ("weak-camera", "S1.1-07"),
    ("weak-camera", "S1.1-12"),
    ("weak-camera", "S1.1-13"),
    ("plain-sensor", "S1.1-04"),
    ("plain-sensor", "S1.1-08"),
    ("plain-sensor", "S1.1-12"),
];

fn run_dir(root: &Path, name: &str, text: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("results.json"), text).expect("write");
    dir
}

fn waiver(device: &str, id: &str, expires: &str) -> String {
    format!(
        "[[waiver]]\ncriterion = \"{id}\"\ndevice = \"{device}\"\nreason = \"accepted for the test\"\nowner = \"qa\"\nexpires = {expires}\n\n"
    )
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn a_bad_waivers_file_is_one_line_naming_file_line_and_fix_and_exits_2() {
    let root = tempfile::tempdir().expect("tempdir");
    let run = run_dir(root.path(), "run", FIXTURE);
    let bad = root.path().join("bad.toml");
    std::fs::write(
        &bad,
        waiver("weak-camera", "S1.1-13", "2099-12-31").replace("2099-12-31", "\"31.12.2099\""),
    )
    .expect("write");
    for args in [
        vec!["report", arg(&run), "--waivers", arg(&bad)],
        // Read before any packet is sent.
        vec![
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--waivers",
            arg(&bad),
            "--quiet",
        ],
    ] {
        let output = jcstar(&args);
        assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("bad.toml:6: "), "{stderr}");
        assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");
    }
    let missing = jcstar(&[
        "report",
        arg(&run),
        "--baseline",
        arg(&root.path().join("none")),
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", transcript(&missing));
}

#[test]
fn waivers_decide_the_exit_code_until_they_expire_and_are_written_to_every_format() {
    let root = tempfile::tempdir().expect("tempdir");
    let run = run_dir(root.path(), "run", FIXTURE);
    let waivers = root.path().join("waivers.toml");
    let all: String = FAILURES
        .iter()
        .map(|(d, id)| waiver(d, id, "2099-12-31"))
        .collect();
    std::fs::write(&waivers, &all).expect("write");
    let output = jcstar(&["report", arg(&run), "--waivers", arg(&waivers)]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FAIL*"), "{stdout}");
    assert!(stdout.contains("Result for CI: pass"), "{stdout}");
    let results = common::results(&run);
    assert_eq!(results["summary"]["waived"], 9);
    let camera = common::device(&results, "weak-camera");
    let c13 = common::criterion(camera, "S1.1-13");
    assert_eq!(
        c13["verdict"], "fail",
        "a waiver never turns a fail into anything else"
    );
    assert_eq!(c13["waiver"]["status"], "active");
    let junit = std::fs::read_to_string(run.join("junit.xml")).expect("junit");
    assert!(!junit.contains("<failure"), "every failure is waived");
    assert_eq!(junit.matches("type=\"waived\"").count(), 9);
    let summary = std::fs::read_to_string(run.join("summary.md")).expect("summary");
    assert!(
        summary.contains("waived until 2099-12-31 by qa"),
        "{summary}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).expect("html");
    assert!(html.contains("fail, waived"));
    let csv = std::fs::read_to_string(run.join("checklist.csv")).expect("csv");
    assert!(csv.contains("waived until 2099-12-31 by qa"));

    // One waiver expired: it waives nothing, the run fails, and every output says so.
    let expired = all.replacen("2099-12-31", "2020-01-01", 1);
    std::fs::write(&waivers, expired).expect("write");
    let output = jcstar(&["report", arg(&run), "--waivers", arg(&waivers)]);
    assert_eq!(output.status.code(), Some(1), "{}", transcript(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FAIL!"), "{stdout}");
    assert!(stdout.contains("waiver EXPIRED on 2020-01-01"), "{stdout}");
    let results = common::results(&run);
    let c01 = common::criterion(common::device(&results, "weak-camera"), "S1.1-01");
    assert_eq!(c01["waiver"]["status"], "expired");
    assert_eq!(results["summary"]["waivers_expired"], 1);
    let junit = std::fs::read_to_string(run.join("junit.xml")).expect("junit");
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");

    // Without --waivers, `report` keeps the marks results.json records and exits 0 as before.
    let output = jcstar(&["report", arg(&run)]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("FAIL!"));

    // A waiver that matches no failure is noted on stderr, not an error.
    std::fs::write(&waivers, waiver("hardened-device", "S1.1-05", "2099-12-31")).expect("w");
    let output = jcstar(&["report", arg(&run), "--waivers", arg(&waivers)]);
    assert_eq!(output.status.code(), Some(1), "{}", transcript(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("matched no failing criterion"),
        "{}",
        transcript(&output)
    );
    assert!(common::results(&run)["devices"][0]["criteria"][0]
        .get("waiver")
        .is_none());
}

#[test]
fn a_baseline_makes_only_new_failures_fail_the_run() {
    let root = tempfile::tempdir().expect("tempdir");
    let run = run_dir(root.path(), "run", FIXTURE);
    let same = run_dir(root.path(), "same", FIXTURE);
    let output = jcstar(&["report", arg(&run), "--baseline", arg(&same)]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("0 new failure(s), 9 failing then too"),
        "{stdout}"
    );
    assert!(stdout.contains("Pre-existing failures"), "{stdout}");
    let summary = std::fs::read_to_string(run.join("summary.md")).expect("summary");
    assert!(summary.contains("— fail (pre-existing):"), "{summary}");

    // In the baseline, weak-camera's S1.1-12 passed: now it is a regression.
    let mut old: serde_json::Value = serde_json::from_str(FIXTURE).expect("json");
    let criteria = old["devices"][0]["criteria"]
        .as_array_mut()
        .expect("criteria");
    let c12 = criteria
        .iter_mut()
        .find(|c| c["id"] == "S1.1-12")
        .expect("S1.1-12");
    c12["verdict"] = "pass".into();
    let older = run_dir(root.path(), "older", &old.to_string());
    let output = jcstar(&[
        "report",
        arg(&run),
        "--baseline",
        arg(&older.join("results.json")),
        "--lang",
        "ja",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", transcript(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("新たな不合格(基準の実行では不合格でなかったもの):\n  weak-camera S1.1-12"),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(run.join("summary.md")).expect("summary");
    assert!(summary.contains("不合格 (新規):"), "{summary}");

    // A waiver covering the regression lets the run pass.
    let waivers = root.path().join("w.toml");
    std::fs::write(&waivers, waiver("weak-camera", "S1.1-12", "2099-12-31")).expect("write");
    let output = jcstar(&[
        "report",
        arg(&run),
        "--baseline",
        arg(&older),
        "--waivers",
        arg(&waivers),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
}
