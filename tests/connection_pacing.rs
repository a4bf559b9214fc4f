//! `--service-rate` and `--max-rate`: the checks never open connections to one service faster
//! than the operator allows, the run records the limits, and bad values are refused. Traffic
//! goes to a small HTTP responder on 127.0.0.1 only.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{jcstar, results, transcript};

/// An HTTP responder that records when each connection arrived; it stops after 200
/// connections or 60 s, whichever comes first.
fn recording_http() -> (u16, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&arrivals);
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(60);
        for stream in listener.incoming().take(200) {
            if Instant::now() > until {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            if let Ok(mut seen) = seen.lock() {
                seen.push(Instant::now());
            }
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    (port, arrivals)
}

#[test]
fn service_rate_spaces_the_connections_to_one_service() {
    let (port, arrivals) = recording_http();
    let dir = tempfile::tempdir().expect("tempdir");
    let output = jcstar(&[
        "scan",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--service-rate",
        "30",
        "--max-duration",
        "12s",
        "--out",
        dir.path().to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "{}",
        transcript(&output)
    );
    let results = results(dir.path());
    assert_eq!(results["scan"]["service_rate_per_minute"], 30);
    let arrivals = arrivals.lock().expect("arrivals").clone();
    // The port scan's own connect is not paced; every later one is, 2 s apart (a little
    // less is allowed for when the accept thread saw each one).
    let paced = arrivals.get(1..).unwrap_or(&[]);
    assert!(
        paced.len() >= 3,
        "{} connections: {}",
        arrivals.len(),
        transcript(&output)
    );
    for pair in paced.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(1700),
            "gap {gap:?} in {paced:?}"
        );
    }
}

#[test]
fn rates_out_of_range_are_refused_with_the_flag_named() {
    for (flag, value) in [
        ("--max-rate", "2000000"),
        ("--service-rate", "-1"),
        ("--service-rate", "fast"),
    ] {
        let arg = format!("{flag}={value}");
        let output = jcstar(&["scan", "127.0.0.1", "-p", "1", &arg, "--quiet"]);
        assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flag), "{stderr}");
    }
}
