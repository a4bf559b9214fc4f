//! The formats people read, end to end: `jcstar demo --lang ja` writes report.html and
//! checklist.csv beside results.json; results.json follows the schema `jcstar schema` prints;
//! `jcstar report DIR` renders them again in another language.

mod common;

use common::{jcstar, transcript};

#[test]
fn demo_writes_every_format_and_report_rerenders_them() {
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("run");
    let dir_arg = dir.to_str().expect("utf-8 path");
    let output = jcstar(&[
        "demo", "--subnet", "202", "--quiet", "--lang", "ja", "--out", dir_arg,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("★1 適合準備状況:"), "{stdout}");
    assert!(stdout.contains("report.html"), "{stdout}");

    // results.json follows the schema the binary ships.
    let schema_out = jcstar(&["schema"]);
    assert_eq!(schema_out.status.code(), Some(0));
    let schema: serde_json::Value =
        serde_json::from_slice(&schema_out.stdout).expect("schema is JSON");
    let shipped: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("harness/report/schema/results.schema.json"),
        )
        .expect("schema file in the repo"),
    )
    .expect("JSON");
    assert_eq!(schema, shipped);
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let results = common::results(&dir);
    let errors: Vec<String> = validator
        .iter_errors(&results)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // report.html in Japanese, with the lab's weak camera failing.
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html written");
    assert!(html.contains("<html lang=\"ja\">"));
    assert!(
        html.contains("weak-camera (127.77.202.1)"),
        "scope lists targets"
    );
    assert!(html.contains("★1 適合準備状況: 未達"));
    assert!(html.contains("S1.1-13 不要なインターフェースの無効化"));
    let csv = std::fs::read_to_string(dir.join("checklist.csv")).expect("checklist.csv written");
    assert!(
        csv.starts_with("\u{feff}機器,アドレス,適合基準"),
        "{csv:.200}"
    );
    let devices = results["devices"].as_array().expect("devices").len();
    let device_tests = csv.matches(",jcstar による機器検査,").count();
    assert!(
        device_tests >= devices * 2,
        "{device_tests} device-test rows"
    );

    let summary = std::fs::read_to_string(dir.join("summary.md")).expect("summary.md written");
    assert!(summary.starts_with("# jcstar ★1 サマリー"), "{summary}");
    assert!(
        summary.contains("| weak-camera | 127.77.202.1 | 未達 |"),
        "{summary}"
    );

    // Rendered again in English from results.json alone.
    let again = jcstar(&["report", dir_arg, "--lang", "en"]);
    assert_eq!(again.status.code(), Some(0), "{}", transcript(&again));
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("★1 readiness: not ready"));
    let csv = std::fs::read_to_string(dir.join("checklist.csv")).expect("checklist.csv");
    assert!(csv.starts_with("\u{feff}device,address,criterion,title,item"));
    assert!(String::from_utf8_lossy(&again.stdout).contains("NOT READY"));
}

#[test]
fn report_on_a_directory_without_results_names_the_file_and_the_fix() {
    let empty = tempfile::tempdir().expect("tempdir");
    let output = jcstar(&["report", empty.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("results.json"), "{stderr}");
    assert!(
        stderr.contains("give the directory of a jcstar run"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let french = jcstar(&[
        "report",
        empty.path().to_str().expect("utf-8"),
        "--lang",
        "fr",
    ]);
    assert_eq!(french.status.code(), Some(2), "{}", transcript(&french));
    assert!(String::from_utf8_lossy(&french.stderr).contains("use en or ja"));
}

#[test]
fn diff_exits_1_when_a_criterion_got_worse_and_0_otherwise() {
    let fixture = include_str!("../harness/report/tests/fixtures/results.json");
    let root = tempfile::tempdir().expect("tempdir");
    let old = root.path().join("old");
    let new = root.path().join("new");
    std::fs::create_dir_all(&old).expect("dir");
    std::fs::create_dir_all(&new).expect("dir");
    std::fs::write(old.join("results.json"), fixture).expect("write");
    let mut value: serde_json::Value = serde_json::from_str(fixture).expect("JSON");
    // hardened-device's S1.1-13 passed; now it fails.
    assert_eq!(value["devices"][1]["criteria"][12]["verdict"], "pass");
    value["devices"][1]["criteria"][12]["verdict"] = "fail".into();
    std::fs::write(new.join("results.json"), value.to_string()).expect("write");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();

    let same = jcstar(&["diff", &path(&old), &path(&old.join("results.json"))]);
    assert_eq!(same.status.code(), Some(0), "{}", transcript(&same));
    assert!(String::from_utf8_lossy(&same.stdout).contains("No criterion changed its verdict."));

    let worse = jcstar(&["diff", &path(&old), &path(&new)]);
    assert_eq!(worse.status.code(), Some(1), "{}", transcript(&worse));
    let stdout = String::from_utf8_lossy(&worse.stdout);
    assert!(
        stdout.contains(
            "**hardened-device** S1.1-13 Unneeded interfaces disabled: pass → fail (worse)"
        ),
        "{stdout}"
    );

    let better = jcstar(&["diff", &path(&new), &path(&old), "--lang", "ja"]);
    assert_eq!(better.status.code(), Some(0), "{}", transcript(&better));
    assert!(String::from_utf8_lossy(&better.stdout).contains("不合格 → 合格 (改善)"));

    let missing = jcstar(&["diff", &path(&old), &path(&root.path().join("nope"))]);
    assert_eq!(missing.status.code(), Some(2), "{}", transcript(&missing));
}
