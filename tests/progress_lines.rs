//! Progress off a terminal: the test's pipe is not a terminal, so jcstar prints one plain line
//! per finished device on stderr (no bar redraws in CI logs), and `--quiet` prints none.

mod common;

use std::net::TcpListener;

use common::{jcstar, transcript};

#[test]
fn one_line_per_finished_device_when_stderr_is_not_a_terminal_and_none_when_quiet() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    for quiet in [false, true] {
        let out = dir.path().join(format!("run-{quiet}"));
        let mut args = vec![
            "scan",
            "127.0.0.1",
            "-p",
            port.as_str(),
            "--no-intrusive",
            "--out",
            out.to_str().expect("utf-8"),
        ];
        if quiet {
            args.push("--quiet");
        }
        let output = jcstar(&args);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            transcript(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("jcstar: [1/1] 127.0.0.1: done: "))
            .collect();
        if quiet {
            assert!(lines.is_empty(), "{stderr}");
        } else {
            assert_eq!(lines.len(), 1, "{stderr}");
            assert!(lines[0].contains("1 open TCP port(s)"), "{stderr}");
        }
        // No terminal control sequences in a log.
        assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    }
}
