//! TLS inspection: which versions, cipher suites and groups a server *accepts* (hand-built
//! ClientHellos, one suite removed per round until the server refuses), its DHE prime size and
//! its certificate chain. Bounded in handshakes and time per port, gentle per host.

pub mod flight;
pub use jcstar_wire::tls::{cert, hello};
mod tls13cert;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

pub use cert::CertFacts;
use flight::{Failure, KeyExchange, Outcome, ServerFlight};
pub use hello::Version;
use hello::{client_hello, Hello, GROUPS, TLS13_SUITES};

/// Bounds for inspecting one TLS port.
#[derive(Debug, Clone)]
pub struct TlsLimits {
    /// Deadline of one handshake (connect, send, read the first flight).
    pub handshake_timeout: Duration,
    /// Deadline for the whole port.
    pub port_deadline: Duration,
    /// Most handshakes on one port.
    pub max_handshakes: usize,
    /// Suites per ClientHello when a server chokes on the full list.
    pub fallback_chunk: usize,
}

impl Default for TlsLimits {
    fn default() -> Self {
        TlsLimits {
            handshake_timeout: Duration::from_secs(5),
            port_deadline: Duration::from_secs(90),
            max_handshakes: 1000,
            fallback_chunk: 64,
        }
    }
}

/// Most concurrent handshakes against one host, for fragile devices.
pub const HOST_CONCURRENCY: usize = 8;

/// The suites a server accepted with one protocol version, in the order it chose them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSuites {
    /// The version.
    pub version: Version,
    /// Accepted cipher-suite ids.
    pub suites: Vec<u16>,
}

/// Everything learnt about one TLS port.
#[derive(Debug, Clone, Default)]
pub struct PortTls {
    /// The port.
    pub port: u16,
    /// Accepted versions (oldest first) with their suites.
    pub versions: Vec<VersionSuites>,
    /// Named groups accepted for (EC)DHE or TLS 1.3 key exchange.
    pub groups: BTreeSet<u16>,
    /// DHE prime sizes seen in ServerKeyExchange messages.
    pub dhe_bits: BTreeSet<u32>,
    /// Distinct certificate chains (DER, leaf first).
    pub chains: Vec<Vec<Vec<u8>>>,
    /// Facts of each chain's leaf certificate.
    pub certificates: Vec<CertFacts>,
    /// Handshakes made.
    pub handshakes: usize,
    /// Why parts of the enumeration could not finish (empty when complete).
    pub incomplete: Vec<String>,
    /// Wall time spent.
    pub elapsed: Duration,
}

/// Shared per-port state: the handshake budget, the deadline and the host's permits.
struct Prober {
    addr: SocketAddr,
    limits: TlsLimits,
    deadline: Instant,
    used: AtomicUsize,
    host: Arc<Semaphore>,
}

impl Prober {
    async fn handshake(&self, hello: &Hello<'_>) -> Outcome {
        if Instant::now() >= self.deadline {
            return Outcome::Failed(Failure::Exchange(format!(
                "port deadline of {} s reached",
                self.limits.port_deadline.as_secs()
            )));
        }
        if self.used.fetch_add(1, Ordering::SeqCst) >= self.limits.max_handshakes {
            return Outcome::Failed(Failure::Exchange(format!(
                "handshake cap of {} reached",
                self.limits.max_handshakes
            )));
        }
        let Ok(_permit) = self.host.acquire().await else {
            return Outcome::Failed(Failure::Exchange("host permits closed".to_string()));
        };
        let left = self.deadline.saturating_duration_since(Instant::now());
        let record = client_hello(hello);
        flight::exchange(self.addr, &record, self.limits.handshake_timeout.min(left)).await
    }
}

fn version_matches(version: Version, flight: &ServerFlight) -> bool {
    match version {
        Version::Tls13 => flight.selected_version == Some(Version::Tls13.wire()),
        v => flight.selected_version.is_none() && flight.legacy_version == v.wire(),
    }
}

/// What enumerating one version produced.
#[derive(Default)]
struct VersionScan {
    suites: Vec<u16>,
    flights: Vec<ServerFlight>,
    incomplete: Option<String>,
}

async fn enumerate_version(prober: &Prober, version: Version) -> VersionScan {
    let all: Vec<u16> = match version {
        Version::Tls13 => TLS13_SUITES.to_vec(),
        _ => hello::legacy_suites(),
    };
    let groups: Vec<u16> = GROUPS.iter().map(|(g, _)| *g).collect();
    let mut scan = VersionScan::default();
    let mut queue = vec![all];
    let mut split = false;
    while let Some(mut remaining) = queue.pop() {
        while !remaining.is_empty() {
            let outcome = prober
                .handshake(&Hello {
                    version,
                    suites: &remaining,
                    groups: &groups,
                })
                .await;
            match outcome {
                Outcome::Hello(flight) if !version_matches(version, &flight) => break,
                Outcome::Hello(flight) => {
                    let Some(at) = remaining.iter().position(|&s| s == flight.suite) else {
                        scan.incomplete = Some(format!(
                            "{}: the server chose suite 0x{:04x}, which was not offered",
                            version.name(),
                            flight.suite
                        ));
                        return scan;
                    };
                    remaining.remove(at);
                    scan.suites.push(flight.suite);
                    scan.flights.push(flight);
                }
                Outcome::Refused(_) => break,
                Outcome::Failed(reason)
                    if !split && remaining.len() > prober.limits.fallback_chunk =>
                {
                    tracing::debug!(%reason, version = version.name(), "retrying with shorter ClientHellos");
                    split = true;
                    queue.extend(
                        remaining
                            .chunks(prober.limits.fallback_chunk)
                            .map(<[u16]>::to_vec),
                    );
                    break;
                }
                Outcome::Failed(reason) => {
                    scan.incomplete = Some(format!("{}: {reason}", version.name()));
                    return scan;
                }
            }
        }
    }
    scan
}

/// Probes one group: TLS 1.3 through a HelloRetryRequest, TLS ≤ 1.2 through the
/// ServerKeyExchange of an ECDHE suite.
async fn group_accepted(
    prober: Arc<Prober>,
    version: Version,
    suites: Arc<Vec<u16>>,
    group: u16,
) -> Result<bool, Failure> {
    let outcome = prober
        .handshake(&Hello {
            version,
            suites: &suites,
            groups: &[group],
        })
        .await;
    match outcome {
        Outcome::Hello(flight) if version == Version::Tls13 => {
            Ok(version_matches(version, &flight) && flight.key_share_group == Some(group))
        }
        Outcome::Hello(flight) => Ok(version_matches(version, &flight)
            && flight
                .server_key_exchange
                .as_deref()
                .and_then(|p| flight::key_exchange(p, false))
                == Some(KeyExchange::NamedGroup(group))),
        Outcome::Refused(_) => Ok(false),
        Outcome::Failed(reason) => Err(reason),
    }
}

fn suite(id: u16) -> Option<&'static tls_parser::TlsCipherSuite> {
    tls_parser::TlsCipherSuite::from_id(id)
}

/// Inspects the TLS server at `addr`; `host` caps concurrent handshakes to the device.
pub async fn inspect(addr: SocketAddr, limits: &TlsLimits, host: Arc<Semaphore>) -> PortTls {
    let started = Instant::now();
    let prober = Arc::new(Prober {
        addr,
        limits: limits.clone(),
        deadline: started + limits.port_deadline,
        used: AtomicUsize::new(0),
        host,
    });
    let (ssl3, tls10, tls11, tls12, tls13) = tokio::join!(
        enumerate_version(&prober, Version::Ssl3),
        enumerate_version(&prober, Version::Tls10),
        enumerate_version(&prober, Version::Tls11),
        enumerate_version(&prober, Version::Tls12),
        enumerate_version(&prober, Version::Tls13),
    );
    let mut report = PortTls {
        port: addr.port(),
        ..PortTls::default()
    };
    let scans = [ssl3, tls10, tls11, tls12, tls13];
    let mut flights = Vec::new();
    for (version, scan) in Version::ALL.into_iter().zip(scans) {
        report.incomplete.extend(scan.incomplete);
        if !scan.suites.is_empty() {
            report.versions.push(VersionSuites {
                version,
                suites: scan.suites,
            });
        }
        flights.extend(scan.flights);
    }

    let mut probes = tokio::task::JoinSet::new();
    if report.versions.iter().any(|v| v.version == Version::Tls13) {
        let suites = Arc::new(TLS13_SUITES.to_vec());
        for (group, _) in GROUPS {
            let p = prober.clone();
            let s = suites.clone();
            let g = *group;
            probes.spawn(async move { (g, group_accepted(p, Version::Tls13, s, g).await) });
        }
    }
    let ecdhe_version = report.versions.iter().rev().find_map(|v| {
        let ecdhe: Vec<u16> = v
            .suites
            .iter()
            .copied()
            .filter(|&id| suite(id).is_some_and(|s| s.kx == tls_parser::TlsCipherKx::Ecdhe))
            .collect();
        (v.version != Version::Tls13 && !ecdhe.is_empty()).then_some((v.version, ecdhe))
    });
    if let Some((version, ecdhe)) = ecdhe_version {
        let suites = Arc::new(ecdhe);
        for (group, _) in GROUPS.iter().filter(|(g, _)| *g < 0x0100) {
            let p = prober.clone();
            let s = suites.clone();
            let g = *group;
            probes.spawn(async move { (g, group_accepted(p, version, s, g).await) });
        }
    }
    let mut group_errors = BTreeSet::new();
    while let Some(joined) = probes.join_next().await {
        match joined {
            Ok((group, Ok(true))) => {
                report.groups.insert(group);
            }
            Ok((_, Ok(false))) => {}
            Ok((group, Err(reason))) => {
                group_errors.insert(format!("group {}: {reason}", hello::group_name(group)));
            }
            Err(e) => {
                group_errors.insert(format!("group probe failed: {e}"));
            }
        }
    }
    report.incomplete.extend(group_errors.into_iter().take(3));

    for flight in &flights {
        let dhe = suite(flight.suite).is_some_and(|s| s.kx == tls_parser::TlsCipherKx::Dhe);
        if let Some(KeyExchange::DhPrimeBits(bits)) = flight
            .server_key_exchange
            .as_deref()
            .and_then(|p| flight::key_exchange(p, dhe))
        {
            report.dhe_bits.insert(bits);
        }
        if !flight.certificates.is_empty()
            && !report
                .chains
                .iter()
                .any(|c| c.first() == flight.certificates.first())
        {
            report.chains.push(flight.certificates.clone());
        }
    }
    if report.versions.iter().any(|v| v.version == Version::Tls13) && report.chains.is_empty() {
        prober.used.fetch_add(1, Ordering::SeqCst);
        let _permit = prober.host.acquire().await;
        match tls13cert::chain(addr, limits.handshake_timeout).await {
            Ok(chain) => report.chains.push(chain),
            Err(reason) => report
                .incomplete
                .push(format!("TLS 1.3 certificate: {reason}")),
        }
    }
    let now = chrono::Utc::now();
    report.certificates = report
        .chains
        .iter()
        .filter_map(|chain| chain.first().and_then(|leaf| cert::analyse(leaf, now)))
        .collect();
    report.handshakes = prober
        .used
        .load(Ordering::SeqCst)
        .min(limits.max_handshakes);
    report.elapsed = started.elapsed();
    report
}

/// The IANA name of a suite, or its hex id.
pub fn suite_name(id: u16) -> String {
    suite(id)
        .map(|s| s.name.to_string())
        .unwrap_or_else(|| format!("0x{id:04x}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering every connection with `reply` (or holding it open when
    /// `reply` is empty); bounded to the test's lifetime.
    async fn server(reply: &'static [u8]) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 2048];
                    let _ = stream.read(&mut buf).await;
                    if reply.is_empty() {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    } else {
                        let _ = stream.write_all(reply).await;
                    }
                });
            }
        });
        addr
    }

    fn short() -> TlsLimits {
        TlsLimits {
            handshake_timeout: Duration::from_millis(300),
            port_deadline: Duration::from_secs(3),
            max_handshakes: 50,
            fallback_chunk: 64,
        }
    }

    #[tokio::test]
    async fn garbage_server_is_incomplete_not_accepted() {
        let addr = server(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        let report = inspect(addr, &short(), Arc::new(Semaphore::new(HOST_CONCURRENCY))).await;
        assert!(report.versions.is_empty());
        assert!(
            report
                .incomplete
                .iter()
                .any(|r| r.contains("not a TLS record")),
            "{:?}",
            report.incomplete
        );
        assert!(report.handshakes <= 50);
    }

    #[tokio::test]
    async fn stalling_server_is_bounded_by_the_deadlines() {
        let addr = server(b"").await;
        let started = Instant::now();
        let report = inspect(addr, &short(), Arc::new(Semaphore::new(HOST_CONCURRENCY))).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(report.versions.is_empty());
        assert!(report
            .incomplete
            .iter()
            .any(|r| r.contains("no complete answer")));
    }
}
