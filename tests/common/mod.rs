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

/// A port on `ip` (loopback) that accepts up to 500 connections and never sends a byte: a
/// tarpit. The thread holds them for 120 s at most, then ends.
pub fn tarpit(ip: &str) -> u16 {
    use std::time::{Duration, Instant};
    let listener = std::net::TcpListener::bind((ip, 0)).expect("bind a loopback tarpit");
    let port = listener.local_addr().expect("address").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut held = Vec::new();
        while started.elapsed() < Duration::from_secs(120) && held.len() < 500 {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    port
}

/// A TLS 1.3 acceptor serving a fresh ECDSA P-256 key (each call a different key).
pub fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["unit.lab".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("TLS 1.3")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .expect("server config");
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}
