//! Loopback scan benchmark: probes/second for
//! (a) all 65,535 TCP ports of 127.0.0.1, and
//! (b) 254 addresses 127.0.1.1–254 × 100 ports,
//! each with a few listeners the benchmark opens itself, checked for misses.
//! `--only drop` instead scans all ports of 127.0.3.1 with listeners on
//! 8080, 8443 and 1883, for use behind a firewall rule dropping every other
//! SYN to that address (see bench/portscan.sh --drop-host).
//!
//! Traffic goes to loopback only. Usage:
//! `cargo run --release --example bench_scan -- [--only sweep|hosts|drop] [--runs N]
//!  [--window-start N] [--window-max N]`

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::ProgressBar;
use jcstar_probe::scan::{self, HostScan, PortState, ScanConfig};

struct Args {
    only: Option<String>,
    runs: usize,
    window_start: Option<usize>,
    window_max: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        only: None,
        runs: 1,
        window_start: None,
        window_max: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--only" => args.only = Some(value()?),
            "--runs" => args.runs = number(value()?)?.clamp(1, 20),
            "--window-start" => args.window_start = Some(number(value()?)?),
            "--window-max" => args.window_max = Some(number(value()?)?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn config(args: &Args, ports: Vec<u16>) -> ScanConfig {
    let mut config = ScanConfig {
        ports,
        grab_banners: false,
        ..ScanConfig::default()
    };
    if let Some(n) = args.window_start {
        config.per_host_start = n;
    }
    if let Some(n) = args.window_max {
        config.per_host_max = n;
    }
    config
}

/// Open-port expectations checked against the scan: (missed, unexpected).
fn check(scans: &[HostScan], expected: &[SocketAddr]) -> (usize, Vec<SocketAddr>) {
    let mut missed = 0;
    for want in expected {
        let found = scans
            .iter()
            .filter(|s| s.address == want.ip())
            .flat_map(|s| &s.ports)
            .any(|p| p.port == want.port() && p.state == PortState::Open);
        if !found {
            missed += 1;
        }
    }
    let extra = scans
        .iter()
        .flat_map(|s| {
            s.ports
                .iter()
                .filter(|p| p.state == PortState::Open)
                .map(move |p| SocketAddr::new(s.address, p.port))
        })
        .filter(|a| !expected.contains(a))
        .collect();
    (missed, extra)
}

fn report(name: &str, scans: &[HostScan], elapsed: f64, expected: &[SocketAddr]) -> usize {
    let probes: u64 = scans.iter().map(|s| s.stats.probes).sum();
    let sum = |f: fn(&HostScan) -> u32| scans.iter().map(f).sum::<u32>();
    let peak = scans.iter().map(|s| s.stats.peak_window).max().unwrap_or(0);
    let (missed, extra) = check(scans, expected);
    println!(
        "{name}: {probes} probes in {elapsed:.3} s = {:.0} probes/s | open {} closed {} filtered {} errors {} | peak window {peak}",
        probes as f64 / elapsed,
        sum(|s| s.stats.open),
        sum(|s| s.stats.closed),
        sum(|s| s.stats.filtered),
        sum(|s| s.stats.errors),
    );
    if !extra.is_empty() {
        println!("  also open (other listeners on this machine): {extra:?}");
    }
    println!("  missed: {missed}");
    missed
}

async fn sweep(args: &Args) -> usize {
    let host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let listeners: Vec<TcpListener> = (0..6)
        .filter_map(|_| TcpListener::bind((host, 0)).ok())
        .collect();
    let expected: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let config = config(args, scan::all_ports_prioritized());
    let limits = scan::prepare_limits(&config);
    println!(
        "(a) 127.0.0.1 x 65535 ports, listeners on {:?}; window {}..{}, global {}",
        expected.iter().map(|a| a.port()).collect::<Vec<_>>(),
        config.per_host_start,
        config.per_host_max,
        limits.global_in_flight
    );
    let mut missed = 0;
    for run in 1..=args.runs {
        let start = Instant::now();
        let scans = scan::scan_hosts(&[host], &config, &limits, &ProgressBar::hidden()).await;
        let elapsed = start.elapsed().as_secs_f64();
        missed += report(&format!("  run {run}"), &scans, elapsed, &expected);
    }
    missed
}

async fn many_hosts(args: &Args) -> usize {
    let hosts: Vec<IpAddr> = (1..=254u8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 1, i)))
        .collect();
    let ports: Vec<u16> = (20_000..20_100).collect();
    let mut listeners = Vec::new();
    for (host, port) in [
        (1u8, 20_000u16),
        (50, 20_042),
        (128, 20_099),
        (200, 20_007),
        (254, 20_063),
    ] {
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 1, host)), port);
        match TcpListener::bind(addr) {
            Ok(l) => listeners.push(l),
            Err(e) => println!("  could not listen on {addr}: {e}"),
        }
    }
    let expected: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let config = config(args, ports);
    let limits = scan::prepare_limits(&config);
    println!(
        "(b) 127.0.1.1-254 x 100 ports, {} listeners; window {}..{}, global {}",
        expected.len(),
        config.per_host_start,
        config.per_host_max,
        limits.global_in_flight
    );
    let mut missed = 0;
    for run in 1..=args.runs {
        let start = Instant::now();
        let scans = scan::scan_hosts(&hosts, &config, &limits, &ProgressBar::hidden()).await;
        let elapsed = start.elapsed().as_secs_f64();
        missed += report(&format!("  run {run}"), &scans, elapsed, &expected);
    }
    missed
}

async fn drop_host(args: &Args) -> usize {
    let host = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 1));
    let mut listeners = Vec::new();
    for port in [8080u16, 8443, 1883] {
        match TcpListener::bind((host, port)) {
            Ok(l) => listeners.push(l),
            Err(e) => println!("  could not listen on {host}:{port}: {e}"),
        }
    }
    let expected: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let config = config(args, scan::all_ports_prioritized());
    let limits = scan::prepare_limits(&config);
    println!(
        "(c) {host} x 65535 ports behind DROP, open {:?}; window {}..{}, {} filtered retries",
        expected.iter().map(|a| a.port()).collect::<Vec<_>>(),
        config.per_host_start,
        config.per_host_max,
        config.filtered_retries
    );
    let start = Instant::now();
    let scans = scan::scan_hosts(&[host], &config, &limits, &ProgressBar::hidden()).await;
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(s) = scans.first() {
        println!(
            "  srtt {:?} us, final timeout {} ms",
            s.stats.srtt_us, s.stats.final_timeout_ms
        );
    }
    report("  run 1", &scans, elapsed, &expected)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_scan: {e}");
            return ExitCode::from(2);
        }
    };
    if args.only.as_deref() == Some("drop") {
        let missed = drop_host(&args).await;
        return if missed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut missed = 0;
    if args.only.as_deref() != Some("hosts") {
        missed += sweep(&args).await;
    }
    if args.only.as_deref() != Some("sweep") {
        missed += many_hosts(&args).await;
    }
    if missed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
