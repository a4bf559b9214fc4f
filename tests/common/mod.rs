//! Helpers shared by the integration tests: run the jcstar binary and read its reports.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the built jcstar binary with `args`.
pub fn jcstar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jcstar"))
        .args(args)
        .output()
        .expect("the jcstar binary runs")
}

/// Runs the jcstar binary off the async runtime, so a demo lab served by the test's own
/// runtime keeps answering while jcstar scans it.
pub async fn jcstar_beside_lab(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        jcstar(&args)
    })
    .await
    .expect("jcstar ran")
}

/// stdout and stderr of a run, for assertion messages.
pub fn transcript(output: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Parses `results.json` in `dir`.
pub fn results(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json written");
    serde_json::from_str(&text).expect("results.json is JSON")
}

/// The device entry named `name`.
pub fn device<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["devices"]
        .as_array()
        .expect("devices array")
        .iter()
        .find(|d| d["device"]["name"] == name)
        .unwrap_or_else(|| panic!("device {name} in results"))
}

/// The criterion entry `id` of a device entry.
pub fn criterion<'a>(device: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    device["criteria"]
        .as_array()
        .expect("criteria array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("criterion {id}"))
}

/// Every finding summary of a criterion, joined, for "names X" assertions.
pub fn finding_text(criterion: &serde_json::Value) -> String {
    criterion["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
