//! Enumerates one TLS server with jcstar's inspector and prints what it accepts:
//! `cargo run --release --example tls_enum -- 127.0.0.1:443` (for `bench/tls.sh`).

use std::sync::Arc;

use jcstar_probe::tls::{hello::group_name, inspect, suite_name, TlsLimits, HOST_CONCURRENCY};

#[tokio::main]
async fn main() {
    let Some(addr) = std::env::args().nth(1).and_then(|a| a.parse().ok()) else {
        eprintln!("usage: tls_enum <ip:port>");
        std::process::exit(2);
    };
    let host = Arc::new(tokio::sync::Semaphore::new(HOST_CONCURRENCY));
    let report = inspect(addr, &TlsLimits::default(), host).await;
    for v in &report.versions {
        println!("{}:", v.version.name());
        for id in &v.suites {
            println!("  0x{id:04x} {}", suite_name(*id));
        }
    }
    let groups: Vec<String> = report.groups.iter().map(|g| group_name(*g)).collect();
    println!("groups: {}", groups.join(" "));
    println!("dhe bits: {:?}", report.dhe_bits);
    for c in &report.certificates {
        println!(
            "certificate: {} {} {} not_after={} expired={} self_signed={} sha256={}",
            c.subject,
            c.key_label(),
            c.signature_algorithm,
            c.not_after,
            c.expired,
            c.self_signed,
            c.sha256
        );
    }
    for reason in &report.incomplete {
        println!("incomplete: {reason}");
    }
    println!(
        "handshakes: {} in {:.2} s",
        report.handshakes,
        report.elapsed.as_secs_f64()
    );
}
