//! Serves one hostile persona of the zoo on a loopback address, for `bench/zoo.sh`:
//! `zoo <persona> <loopback address>` prints `<persona> <address> <ports>` (ports as a `-p`
//! argument) and serves until its standard input closes, for at most ten minutes.

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use jcstar_lab::hostile::{Hostile, HostileDevice};

/// Longest time the example serves.
const MAX_SERVE: Duration = Duration::from_secs(600);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = Hostile::ALL.iter().map(|h| h.name()).collect();
    let (Some(persona), Some(address)) = (
        args.first().and_then(|n| Hostile::from_name(n)),
        args.get(1).and_then(|a| a.parse::<IpAddr>().ok()),
    ) else {
        eprintln!(
            "usage: zoo <persona> <loopback address>; personas: {}",
            names.join(", ")
        );
        return std::process::ExitCode::from(2);
    };
    if !address.is_loopback() {
        eprintln!("zoo: {address} is not a loopback address; the zoo serves on loopback only");
        return std::process::ExitCode::from(2);
    }
    let device = match HostileDevice::start(persona, address).await {
        Ok(device) => device,
        Err(e) => {
            eprintln!("zoo: cannot start {} on {address}: {e}", persona.name());
            return std::process::ExitCode::from(1);
        }
    };
    println!("{} {} {}", persona.name(), address, device.ports_arg());
    let (closed, until_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = closed.send(());
    });
    let _ = tokio::time::timeout(MAX_SERVE, until_closed).await;
    device.shutdown().await;
    std::process::ExitCode::SUCCESS
}
