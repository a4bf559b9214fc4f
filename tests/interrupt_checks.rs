//! Ctrl-C while a device's service checks run: the checks that finished keep their results,
//! the one cut off and those after it are `inconclusive` (never `pass`), the journal holds the
//! partial outcome as it happened, and `--resume` runs that device's checks again. Traffic goes
//! to an HTTP responder on 127.0.0.5 only.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{criterion, results, transcript};

/// Answers `GET /` at once and holds any other request unanswered (until the client leaves
/// or 30 s pass), telling `stalled` when it does; at most 200 connections, 90 s in all.
fn http_that_stalls_off_root(stalled: mpsc::Sender<String>) -> u16 {
    let listener = TcpListener::bind("127.0.0.5:0").expect("bind 127.0.0.5");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(90);
        for stream in listener.incoming().take(200) {
            if Instant::now() > until {
                break;
            }
            let Ok(stream) = stream else { continue };
            let stalled = stalled.clone();
            std::thread::spawn(move || serve(stream, &stalled));
        }
    });
    port
}

fn serve(mut stream: TcpStream, stalled: &mpsc::Sender<String>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    if line.starts_with("GET / ") || line.starts_with("HEAD / ") {
        let body = "<html><title>cam</title></html>";
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nServer: cam\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    let _ = stalled.send(line);
    // Hold the request unanswered until the client goes away.
    let _ = stream.read(&mut buf);
}

fn scan(out: &std::path::Path, port: u16, resume: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jcstar"));
    command.args([
        "scan",
        "127.0.0.5",
        "-p",
        &port.to_string(),
        "--no-intrusive",
    ]);
    command.args([
        "--checks",
        "udp_services,web_information",
        "--quiet",
        "--out",
    ]);
    command.arg(out);
    if resume {
        command.arg("--resume").arg(out);
    }
    command
}

/// Whether the journal in `out` holds a checks snapshot with UDP ports: the UDP check,
/// which runs alongside the web check, has ended and was journaled at once.
fn udp_check_journaled(out: &std::path::Path) -> bool {
    std::fs::read_to_string(out.join("journal.jsonl")).is_ok_and(|journal| {
        journal
            .lines()
            .any(|l| l.contains("\"record\":\"checks\"") && l.contains("\"udp_ports\":[{"))
    })
}

/// Starts a scan of the stalling responder and sends `signal` once the web check waits on
/// it and the UDP check beside it has ended and reached the journal; returns the port and
/// the exited child.
fn scan_stopped_mid_checks(out: &std::path::Path, signal: &str) -> (u16, std::process::Child) {
    let (stalled_tx, stalled) = mpsc::channel();
    let port = http_that_stalls_off_root(stalled_tx);
    let mut child = scan(out, port, false)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start jcstar");
    let request = stalled.recv_timeout(Duration::from_secs(60));
    let until = Instant::now() + Duration::from_secs(60);
    while !udp_check_journaled(out) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        udp_check_journaled(out),
        "the finished UDP check is journaled mid-stage"
    );
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(request.is_ok(), "the web check asked for a page besides /");
    let _ = child.wait();
    (port, child)
}

/// A crash (SIGKILL) mid-checks: no report was written, but the journal already holds the
/// finished UDP check, and `jcstar report` rebuilds the reports from it with the unfinished
/// checks `inconclusive`.
#[test]
fn a_crash_mid_checks_keeps_every_finished_check_in_the_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (_port, _child) = scan_stopped_mid_checks(&out, "-KILL");
    assert!(!out.join("results.json").exists(), "killed before writing");
    let output = Command::new(env!("CARGO_BIN_EXE_jcstar"))
        .arg("report")
        .arg(&out)
        .output()
        .expect("run jcstar report");
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    let report = results(&out);
    let device = &report["devices"][0];
    assert!(
        device["unfinished"]
            .as_str()
            .is_some_and(|u| u.contains("stopped part-way")),
        "{device}"
    );
    assert!(
        device["udp_ports"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "the finished UDP check is kept: {device}"
    );
    let s05 = criterion(device, "S1.1-05");
    assert_eq!(s05["verdict"], "inconclusive", "{s05}");
    assert!(s05.to_string().contains("run.stopped"), "{s05}");
}

#[test]
fn sigint_mid_checks_keeps_the_finished_checks_and_resume_runs_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (port, mut child) = scan_stopped_mid_checks(&out, "-INT");
    let code = child.wait().expect("jcstar exits").code();
    let mut stderr = String::new();
    let _ = BufReader::new(child.stderr.take().expect("stderr")).read_to_string(&mut stderr);
    assert_eq!(code, Some(3), "{stderr}");

    let report = results(&out);
    assert_eq!(report["interrupted"], true);
    let device = &report["devices"][0];
    let unfinished = device["unfinished"].as_str().unwrap_or_default();
    assert!(unfinished.contains("stopped part-way"), "{device}");
    // The UDP check finished before the stop (beside the stalled web check): its probes are
    // kept.
    assert!(
        device["udp_ports"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{device}"
    );
    let s05 = criterion(device, "S1.1-05");
    assert_eq!(s05["verdict"], "inconclusive", "{s05}");
    assert!(s05.to_string().contains("run.stopped"), "{s05}");
    // The journal holds the partial outcome, written as it happened.
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).expect("journal");
    let partial = journal
        .lines()
        .rfind(|l| l.contains("\"record\":\"checks\""))
        .expect("a checks record");
    assert!(partial.contains("\"interrupted\":true"), "{partial}");

    // Resumed, the device's checks run again (its web check stalls again and is stopped by
    // the device's time budget this time, which proves it ran).
    let output = scan(&out, port, true)
        .args(["--host-timeout", "20s"])
        .output()
        .expect("run jcstar --resume");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("not probed again"), "{stderr}");
    let report = results(&out);
    assert_eq!(report["interrupted"], false);
    let device = &report["devices"][0];
    assert!(device["unfinished"].is_null(), "{device}");
    let s05 = criterion(device, "S1.1-05");
    assert_ne!(s05["verdict"], "pass", "{s05}");
    assert!(!s05.to_string().contains("run.stopped"), "{s05}");
}
