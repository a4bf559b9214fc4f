//! Running out of file descriptors must delay the scan, never change its
//! answers. Own test binary: it lowers this process's RLIMIT_NOFILE.

#![cfg(unix)]

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::time::Duration;

use indicatif::ProgressBar;
use jcstar_probe::scan::{scan_hosts, Limits, PortState, ScanConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emfile_backs_off_and_retries_instead_of_misreporting() {
    let host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind((host, 0)).unwrap())
        .collect();
    let open: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let closed: Vec<u16> = (0..20)
        .map(|_| {
            TcpListener::bind((host, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();

    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    rlimit::setrlimit(rlimit::Resource::NOFILE, 256.min(hard), hard).unwrap();
    // Take every free descriptor; give them back a little later.
    let mut hog = Vec::new();
    while let Ok(f) = File::open("/dev/null") {
        hog.push(f);
        assert!(hog.len() < 1024, "RLIMIT_NOFILE not applied");
    }
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(hog);
    });

    let config = ScanConfig {
        ports: open.iter().chain(&closed).copied().collect(),
        grab_banners: false,
        ..ScanConfig::default()
    };
    // Deliberately more than the descriptors can carry.
    let limits = Limits {
        nofile_soft: 256,
        nofile_hard: hard,
        global_in_flight: 1000,
    };
    let scans = scan_hosts(&[host], &config, &limits, &ProgressBar::hidden()).await;
    release.await.unwrap();

    let scan = &scans[0];
    for r in &scan.ports {
        let want = if open.contains(&r.port) {
            PortState::Open
        } else {
            PortState::Closed
        };
        assert_eq!(r.state, want, "port {}: {r:?}", r.port);
    }
    assert_eq!(scan.stats.errors, 0);
    assert!(
        scan.stats.probes > scan.ports.len() as u64,
        "EMFILE should have forced retries: {:?}",
        scan.stats
    );
}
