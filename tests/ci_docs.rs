//! The example CI files in `docs/ci/` cannot rot: their jcstar commands are taken from the
//! files and run, exactly as written (through bash, with the variables the files set), in a
//! scratch "firmware repository" holding the inventory, baseline and waivers files at the paths
//! the files name. The device is the built-in simulated lab on loopback (127.77.204.x): two of
//! its devices, so the run takes seconds. Then every file the CI files publish must exist.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jcstar_lab::{DemoLab, LabOptions, Limits};

const SUBNET: u8 = 204;

/// A CI file as the test reads it.
struct CiFile {
    name: &'static str,
    /// `JCSTAR_*` variables the file sets, in order.
    variables: Vec<(String, String)>,
    /// The jcstar command lines, continuation lines joined.
    commands: Vec<String>,
    /// Paths under the output directory the file publishes (JUnit, artifacts).
    published: Vec<String>,
}

fn read_ci_file(name: &'static str) -> CiFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/ci")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut variables = Vec::new();
    let mut commands = Vec::new();
    let mut published = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(mut command) = pending.take() {
            command.push(' ');
            command.push_str(trimmed.trim_end_matches('\\').trim());
            if trimmed.ends_with('\\') {
                pending = Some(command);
            } else {
                commands.push(command);
            }
            continue;
        }
        if let Some((key, value)) = trimmed.split_once(':') {
            if key.starts_with("JCSTAR_") && !key.contains(' ') {
                variables.push((key.to_string(), value.trim().to_string()));
                continue;
            }
        }
        let command = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        if command.starts_with("jcstar ") {
            if let Some(start) = command.strip_suffix('\\') {
                pending = Some(start.trim().to_string());
            } else {
                commands.push(command.to_string());
            }
        }
        for word in trimmed.split_whitespace() {
            let word = word.trim_matches(|c| c == '"' || c == '\'');
            if word.starts_with("jcstar-out/") && word.len() > "jcstar-out/".len() {
                published.push(word.to_string());
            }
        }
    }
    CiFile {
        name,
        variables,
        commands,
        published,
    }
}

/// Writes the files a firmware repository keeps for the CI job into `repo`, at the paths the
/// CI file's variables name: the inventory (two lab devices), a baseline (an earlier run of the
/// same two devices) and a waiver for the weak camera's debug port.
fn prepare_repository(repo: &Path, ci: &CiFile) {
    let value = |name: &str| -> PathBuf {
        let (_, value) = ci
            .variables
            .iter()
            .find(|(key, _)| key == name)
            .unwrap_or_else(|| panic!("{}: sets no {name}", ci.name));
        repo.join(value)
    };
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/demo.toml"))
            .expect("targets/demo.toml");
    let two_devices: String = demo
        .split("[[device]]")
        .skip(1)
        .take(2)
        .map(|block| format!("[[device]]{block}"))
        .collect::<String>()
        .replace("127.77.0.", &format!("127.77.{SUBNET}."));
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    };
    write(value("JCSTAR_INVENTORY"), &two_devices);
    write(
        value("JCSTAR_BASELINE"),
        include_str!("../harness/report/tests/fixtures/results.json"),
    );
    write(
        value("JCSTAR_WAIVERS"),
        "[[waiver]]\ncriterion = \"S1.1-13\"\ndevice = \"weak-camera\"\n\
         reason = \"debug port 9527 is closed in the next firmware (FW-123)\"\n\
         owner = \"firmware-team@example.com\"\nexpires = 2099-12-31\n",
    );
}

/// Runs one command line through bash in `repo`, with the built jcstar first on PATH and the
/// CI file's variables set, as the CI runner would.
fn run_in(repo: &Path, ci: &CiFile, command: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_jcstar"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash");
    child
        .arg("-euc")
        .arg(command)
        .current_dir(repo)
        .env("PATH", path);
    for (key, value) in &ci.variables {
        child.env(key, value);
    }
    child.output().expect("bash runs")
}

async fn exercise(name: &'static str) {
    let ci = read_ci_file(name);
    let scans: Vec<&String> = ci
        .commands
        .iter()
        .filter(|c| c.starts_with("jcstar scan"))
        .collect();
    assert_eq!(
        scans.len(),
        1,
        "{name}: one scan command: {:?}",
        ci.commands
    );
    for flag in ["--targets", "--baseline", "--waivers", "--out"] {
        assert!(scans[0].contains(flag), "{name}: {} lacks {flag}", scans[0]);
    }
    for command in &ci.commands {
        for word in command.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')) {
            if let Some(variable) = word.strip_prefix('$') {
                assert!(
                    ci.variables.iter().any(|(key, _)| key == variable),
                    "{name}: {command} uses ${variable}, which the file does not set"
                );
            }
        }
    }
    let out = ci
        .variables
        .iter()
        .find(|(key, _)| key == "JCSTAR_OUT")
        .map(|(_, value)| value.clone())
        .expect("JCSTAR_OUT");
    for path in &ci.published {
        assert!(
            path.starts_with(&format!("{out}/")),
            "{name}: publishes {path}, outside JCSTAR_OUT {out}"
        );
    }

    let repo = tempfile::tempdir().expect("tempdir");
    prepare_repository(repo.path(), &ci);
    let mut scan_status = None;
    for command in &ci.commands {
        let repo_path = repo.path().to_path_buf();
        let command_line = command.clone();
        let ci_vars = CiFile {
            name: ci.name,
            variables: ci.variables.clone(),
            commands: Vec::new(),
            published: Vec::new(),
        };
        let output =
            tokio::task::spawn_blocking(move || run_in(&repo_path, &ci_vars, &command_line))
                .await
                .expect("ran");
        let code = output.status.code();
        if command.starts_with("jcstar scan") {
            // 0: no failure counts; 1: some does. Anything else is a broken command.
            assert!(
                matches!(code, Some(0 | 1)),
                "{name}: {command}\n{}",
                common::transcript(&output)
            );
            scan_status = code;
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                !stderr.contains("matched no failing criterion"),
                "{name}: the waiver applies: {stderr}"
            );
        } else {
            assert_eq!(
                code,
                Some(0),
                "{name}: {command}\n{}",
                common::transcript(&output)
            );
        }
    }

    let out_dir = repo.path().join(&out);
    for path in &ci.published {
        let relative = path.trim_start_matches(&format!("{out}/"));
        assert!(
            out_dir.join(relative).exists(),
            "{name}: publishes {path}, which the run did not write"
        );
    }
    // What every CI file is meant to publish, even when it names only the directory.
    for file in ["summary.md", "report.html", "junit.xml", "results.json"] {
        assert!(
            out_dir.join(file).exists(),
            "{name}: {file} was not written"
        );
    }
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).expect("summary.md");
    assert!(summary.contains("## CI result"), "{summary}");
    let fails = summary.contains("Result for CI: FAIL");
    assert_eq!(
        scan_status,
        Some(i32::from(fails)),
        "{name}: the exit code matches the summary's verdict\n{summary}"
    );
    let results = common::results(&out_dir);
    let camera = common::device(&results, "weak-camera");
    let debug_port = common::criterion(camera, "S1.1-13");
    assert_eq!(debug_port["verdict"], "fail");
    assert_eq!(debug_port["waiver"]["status"], "active");
    let junit = std::fs::read_to_string(out_dir.join("junit.xml")).expect("junit.xml");
    assert!(junit.contains("type=\"waived\""), "{junit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_ci_files_run_against_the_simulated_lab() {
    let lab = DemoLab::start_with_limits(
        LabOptions { subnet: SUBNET },
        Limits {
            lockout_window: std::time::Duration::from_secs(10),
            max_login_delay: std::time::Duration::from_millis(1500),
            ..Limits::default()
        },
    )
    .await
    .expect("lab starts");
    exercise("github-actions.yml").await;
    exercise("gitlab-ci.yml").await;
    lab.shutdown().await;
}
