//! report.html as a real browser sees it (headless Chromium): the hostile device strings of the
//! fixture stay text after HTML parsing, the page loads with the network off, and it prints to
//! PDF. Needs a Chromium binary, so it is ignored by default; run it with
//! `cargo test --test report_chromium -- --ignored` (JCSTAR_CHROMIUM names the binary; default
//! `chromium`). It fails, not skips, when Chromium is missing.

mod common;

use std::process::Command;

use common::{jcstar, transcript};

fn chromium() -> String {
    std::env::var("JCSTAR_CHROMIUM").unwrap_or_else(|_| "chromium".to_string())
}

fn headless(args: &[&str]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            // Nothing may be fetched: any request to the network fails.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); set JCSTAR_CHROMIUM", chromium()))
}

#[test]
#[ignore = "needs headless Chromium: cargo test --test report_chromium -- --ignored"]
fn chromium_parses_the_report_with_device_strings_as_text_and_prints_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("results.json"),
        include_str!("../harness/report/tests/fixtures/results.json"),
    )
    .expect("write");
    let rendered = jcstar(&[
        "report",
        dir.path().to_str().expect("utf-8"),
        "--lang",
        "ja",
    ]);
    assert_eq!(rendered.status.code(), Some(0), "{}", transcript(&rendered));
    let url = format!("file://{}", dir.path().join("report.html").display());

    let dom = headless(&["--dump-dom", &url]);
    assert!(dom.status.success(), "{}", transcript(&dom));
    let dom = String::from_utf8_lossy(&dom.stdout);
    // After parsing, the page has its own script only; device markup is text.
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "device markup became a script"
    );
    assert!(dom.contains("JCS-CAM-100&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(dom.contains("&lt;/td&gt;&lt;td&gt;x"));
    assert_eq!(dom.matches("class=\"device\"").count(), 3);
    assert!(dom.contains("不要なインターフェースの無効化"));

    let pdf = dir.path().join("report.pdf");
    let printed = headless(&[&format!("--print-to-pdf={}", pdf.display()), &url]);
    assert!(printed.status.success(), "{}", transcript(&printed));
    let bytes = std::fs::read(&pdf).expect("PDF written");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        bytes.len() > 20_000,
        "PDF of {} bytes is too small",
        bytes.len()
    );
}
