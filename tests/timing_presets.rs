//! `-T0` … `-T5`: the preset sets the scan's timing, recorded in results.json; command-line
//! flags and the keys a profile file sets win over it.

mod common;

use common::{jcstar, results, transcript};

/// Scans 127.0.0.1 port 1 alone with `extra` flags and returns results.json's `scan` object.
fn scan_settings(extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let mut args = vec![
        "scan",
        "127.0.0.1",
        "-p",
        "1",
        "--checks",
        "ports",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let output = jcstar(&args);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    results(&out)["scan"].clone()
}

#[test]
fn a_preset_sets_the_timing_and_flags_win_over_it() {
    let plain = scan_settings(&[]);
    assert!(plain.get("timing").is_none(), "{plain}");
    assert_eq!(plain["initial_timeout_ms"], 1000);
    assert_eq!(plain["per_host_start"], 64);
    assert!(plain.get("max_hosts").is_none(), "{plain}");

    let insane = scan_settings(&["-T5"]);
    assert_eq!(insane["timing"], "T5 (insane)");
    assert_eq!(insane["initial_timeout_ms"], 250);
    assert_eq!(insane["max_timeout_ms"], 300);
    assert_eq!(insane["per_host_start"], 256);
    assert_eq!(insane["per_host_max"], 4096);
    assert_eq!(insane["host_timeout_ms"], 900_000);

    let paranoid = scan_settings(&["-T", "paranoid"]);
    assert_eq!(paranoid["timing"], "T0 (paranoid)");
    assert_eq!(paranoid["per_host_start"], 1);
    assert_eq!(paranoid["max_hosts"], 1);

    // Flags win over the preset.
    let flagged = scan_settings(&["-T1", "--max-hosts", "3", "--host-timeout", "60s"]);
    assert_eq!(flagged["max_hosts"], 3);
    assert_eq!(flagged["host_timeout_ms"], 60_000);
    assert_eq!(flagged["initial_timeout_ms"], 3000);
}

#[test]
fn keys_a_profile_file_sets_win_over_the_preset() {
    let builtin = include_str!("../profiles/jc-star-1.toml");
    let mut text = String::new();
    for line in builtin.lines() {
        // Leave the timing keys to the preset, except max_timeout_ms, set to 4000.
        if [
            "initial_timeout_ms",
            "min_timeout_ms",
            "per_host_start",
            "per_host_max",
        ]
        .iter()
        .any(|key| line.starts_with(&format!("{key} =")))
        {
            continue;
        }
        if line.starts_with("max_timeout_ms =") {
            text.push_str("max_timeout_ms = 4000\n");
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("profile.toml");
    std::fs::write(&profile, text).expect("profile written");
    let scan = scan_settings(&["-T4", "--profile", profile.to_str().expect("utf-8")]);
    assert_eq!(scan["timing"], "T4 (aggressive)");
    assert_eq!(scan["max_timeout_ms"], 4000, "the profile's own key wins");
    assert_eq!(scan["initial_timeout_ms"], 500, "the preset fills the rest");
    assert_eq!(scan["per_host_max"], 2048);
}

#[test]
fn an_unknown_preset_is_a_one_line_error() {
    let output = jcstar(&["scan", "127.0.0.1", "-T9"]);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a timing preset"), "{stderr}");
}
