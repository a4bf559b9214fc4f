//! The floor for a TCP connect scan: a bare tokio connect loop over the same ports, no
//! adaptive timing, no service identification, no reports. bench/compare.sh times it beside
//! `jcstar scan --checks ports` and `nmap -sT`.
//!
//! Loopback only. Usage: `connect_floor [--in-flight N] ADDRESS...` (ports 1-65535 of each).

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Connect deadline: loopback answers a closed port with a RST at once.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() -> ExitCode {
    let mut in_flight = 2048usize;
    let mut hosts: Vec<IpAddr> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--in-flight" {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(n) if n >= 1 => in_flight = n,
                _ => {
                    eprintln!("connect_floor: --in-flight needs a whole number of at least 1");
                    return ExitCode::from(2);
                }
            }
            continue;
        }
        match arg.parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() => hosts.push(ip),
            _ => {
                eprintln!("connect_floor: {arg:?} is not a loopback address");
                return ExitCode::from(2);
            }
        }
    }
    if hosts.is_empty() {
        eprintln!("usage: connect_floor [--in-flight N] ADDRESS...");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let targets = hosts
        .iter()
        .flat_map(|&ip| (1..=u16::MAX).map(move |port| SocketAddr::new(ip, port)));
    let mut tasks = JoinSet::new();
    let mut open = Vec::new();
    for target in targets {
        while tasks.len() >= in_flight {
            if let Some(Ok(Some(found))) = tasks.join_next().await {
                open.push(found);
            }
        }
        tasks.spawn(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
                Ok(Ok(_)) => Some(target),
                _ => None,
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some(found)) = done {
            open.push(found);
        }
    }
    open.sort();
    println!(
        "connect_floor: {} hosts x 65535 ports in {:.2} s, {} open: {}",
        hosts.len(),
        started.elapsed().as_secs_f64(),
        open.len(),
        open.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    ExitCode::SUCCESS
}
