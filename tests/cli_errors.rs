//! Mistakes a user can make get one line naming the file, line and fix, and exit code 2.

mod common;

use common::{jcstar, transcript};

fn assert_bad_input(args: &[&str], expected: &[&str]) {
    let output = jcstar(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    for needle in expected {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn bad_target_spec() {
    assert_bad_input(&["scan", "10.0.0.300", "--quiet"], &["command line", "300"]);
}

#[test]
fn oversized_range_is_refused_without_allow_large() {
    assert_bad_input(&["scan", "10.0.0.0/8", "--quiet"], &["--allow-large"]);
}

#[test]
fn no_targets_at_all() {
    assert_bad_input(&["scan", "--quiet"], &["no targets"]);
}

#[test]
fn bad_port_spec() {
    assert_bad_input(&["scan", "127.0.0.1", "-p", "80,0"], &["port"]);
}

#[test]
fn bad_inventory_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("inv.toml");
    std::fs::write(
        &path,
        "[[device]]\nname = \"cam\"\naddress = \"127.0.0.1\"\nservices = [\"80/tcp\", \"x/tcp\"]\n",
    )
    .expect("write");
    let inv = path.to_str().expect("utf-8");
    assert_bad_input(
        &["scan", "--targets", inv, "--quiet"],
        &[&format!("{inv}:4"), "PORT/tcp"],
    );
}

#[test]
fn bad_profile_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.toml");
    let text = jcstar_model::profile::BUILTIN_TEXT.replace("[scan]\n", "[scan]\ntimeout = 5\n");
    std::fs::write(&path, &text).expect("write");
    let profile = path.to_str().expect("utf-8");
    let line = text
        .lines()
        .position(|l| l == "timeout = 5")
        .expect("inserted")
        + 1;
    assert_bad_input(
        &["requirements", "--profile", profile],
        &[&format!("{profile}:{line}"), "timeout"],
    );
}

#[test]
fn missing_list_file() {
    assert_bad_input(
        &["scan", "-iL", "/nonexistent/targets.txt"],
        &["targets.txt"],
    );
}

#[test]
fn requirements_lists_all_sixteen_criteria() {
    let output = jcstar(&["requirements", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let catalogue: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON catalogue");
    let ids: Vec<&str> = catalogue
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 16);
    assert_eq!(ids[3], "S1.1-04");
    let text = jcstar(&["requirements"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains(
            "S1.1-13  Unneeded interfaces disabled  [evaluation: device? (not confirmed)]"
        ),
        "{stdout}"
    );
}

#[test]
fn help_documents_exit_codes() {
    let output = jcstar(&["scan", "--help"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Exit codes:"), "{stdout}");
    assert!(stdout.contains("2  bad input"), "{stdout}");
}

#[test]
fn non_utf8_argument_is_an_error_not_a_panic() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_jcstar"))
        .arg("scan")
        .arg(OsStr::from_bytes(b"10.0.0.\xff"))
        .output()
        .expect("the jcstar binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

/// Inputs that would exhaust memory or flood the terminal are refused in one line.
#[test]
fn endless_or_huge_inputs_are_refused_in_one_line() {
    assert_bad_input(
        &["scan", "-iL", "/dev/zero", "--quiet"],
        &["/dev/zero", "larger than"],
    );
    assert_bad_input(
        &["scan", "127.0.0.1", "--profile", "/dev/urandom", "--quiet"],
        &["/dev/urandom", "larger than"],
    );
    // A 10 MB target token (in a list file) and a 50 kB one (an argument) are cut in the error.
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("targets.txt");
    std::fs::write(&list, "1".repeat(10_000_000)).expect("write list");
    let argument = "1".repeat(50_000);
    for args in [
        vec!["scan", "-iL", list.to_str().expect("utf-8"), "--quiet"],
        vec!["scan", argument.as_str(), "--quiet"],
    ] {
        let output = jcstar(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}",
            &stderr[..stderr.len().min(300)]
        );
        assert!(stderr.len() < 2_000, "{} bytes of error", stderr.len());
        assert_eq!(stderr.trim().lines().count(), 1);
    }
}
