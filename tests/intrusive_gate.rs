//! `--no-intrusive`, and a profile without `default_credentials`, send no credential at all:
//! a telnet login and an SNMP agent on loopback count what reaches them.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{jcstar, transcript};

/// What reached the fake device.
#[derive(Default)]
struct Counts {
    /// Lines typed at the telnet login prompt (user names and passwords).
    login_lines: AtomicUsize,
    /// SNMP datagrams received on the agent's port.
    snmp_datagrams: AtomicUsize,
}

/// A telnet-style login on `listener`: greets with `login: `, counts every line typed, answers
/// `Login incorrect` and prompts again. Serves connections until the test process ends.
fn serve_login(listener: TcpListener, counts: Arc<Counts>) {
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            let counts = counts.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                if stream.write_all(b"\r\ncam login: ").is_err() {
                    return;
                }
                let mut buf = [0u8; 512];
                let mut lines = 0;
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || lines > 20 {
                        break;
                    }
                    let typed = buf[..n]
                        .iter()
                        .filter(|&&b| b == b'\n' || b == b'\r')
                        .count();
                    if typed > 0 {
                        lines += 1;
                        counts.login_lines.fetch_add(1, Ordering::SeqCst);
                        let reply: &[u8] = if lines % 2 == 1 {
                            b"Password: "
                        } else {
                            b"\r\nLogin incorrect\r\ncam login: "
                        };
                        if stream.write_all(reply).is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
}

/// Counts datagrams on `socket` (it never answers, like an agent that does not know the
/// community).
fn serve_snmp(socket: UdpSocket, counts: Arc<Counts>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        for _ in 0..10_000 {
            if socket.recv_from(&mut buf).is_ok() {
                counts.snmp_datagrams.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
}

/// The built-in profile with the access check's SNMP port moved to `snmp_port`, and the
/// checks named in `without` disabled.
fn profile(dir: &Path, snmp_port: u16, without: &[&str]) -> String {
    let builtin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/jc-star-1.toml"),
    )
    .expect("built-in profile");
    let mut text = builtin.replacen("snmp_port = 161", &format!("snmp_port = {snmp_port}"), 1);
    for check in without {
        let listed = format!("\"{check}\"");
        assert!(text.contains(&listed), "{check} is in the built-in profile");
        text = text
            .replacen(&format!("{listed}, "), "", 1)
            .replacen(&format!(", {listed}"), "", 1);
    }
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("write profile");
    path.to_str().expect("utf-8").to_string()
}

fn scan(extra: &[&str], without: &[&str]) -> (Arc<Counts>, String) {
    let counts = Arc::new(Counts::default());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    serve_login(listener, counts.clone());
    let agent = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let snmp_port = agent.local_addr().expect("addr").port();
    serve_snmp(agent, counts.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = profile(dir.path(), snmp_port, without);
    let out = dir.path().join("out");
    let mut args = vec![
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        "--profile",
        &profile,
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let output = jcstar(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    (counts, transcript(&output))
}

#[test]
fn no_intrusive_sends_no_credential() {
    let (counts, log) = scan(&["--no-intrusive"], &[]);
    assert_eq!(counts.login_lines.load(Ordering::SeqCst), 0, "{log}");
    assert_eq!(counts.snmp_datagrams.load(Ordering::SeqCst), 0, "{log}");
}

#[test]
fn disabled_default_credentials_send_no_credential() {
    let (counts, log) = scan(&[], &["default_credentials", "brute_force"]);
    assert_eq!(counts.login_lines.load(Ordering::SeqCst), 0, "{log}");
    assert_eq!(counts.snmp_datagrams.load(Ordering::SeqCst), 0, "{log}");
}

/// The counters work: with intrusive checks on, the login is guessed and SNMP is asked.
#[test]
fn intrusive_runs_reach_the_listeners() {
    let (counts, log) = scan(&[], &["brute_force"]);
    assert!(counts.login_lines.load(Ordering::SeqCst) > 2, "{log}");
    assert!(counts.snmp_datagrams.load(Ordering::SeqCst) > 0, "{log}");
}
