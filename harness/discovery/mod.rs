//! UDP IoT service discovery, one module per protocol: SNMP, SSDP/UPnP, CoAP, mDNS and
//! WS-Discovery. Every probe sends a protocol-specific request to one port of one device
//! (unicast, never multicast), waits a bounded time for an answer of that protocol, and retries
//! a bounded number of times because UDP loses datagrams. A port is open only when it answered.

pub mod coap;
pub mod mdns;
pub mod settings;
pub mod snmp;
pub mod ssdp;
pub mod upnp;
pub mod wsd;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::checks::observed::{Sighting, UdpPort, UdpState};
use crate::model::Evidence;
pub use settings::UdpSettings;

/// Most datagrams read (and ignored as not ours) per attempt, so a chatty peer cannot keep a
/// probe busy until its deadline.
const MAX_DATAGRAMS_PER_ATTEMPT: usize = 32;

/// Time, retry and size bounds of one UDP exchange.
#[derive(Debug, Clone, Copy)]
pub struct UdpBounds {
    /// How long each attempt waits for an answer.
    pub attempt: Duration,
    /// How many times the request is sent (at least 1).
    pub attempts: u32,
    /// Most bytes kept from one datagram.
    pub max_bytes: usize,
}

/// What came back to a UDP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A datagram the protocol accepted as its answer (cut at the byte cap).
    Reply(Vec<u8>),
    /// ICMP port unreachable: nothing listens.
    Closed,
    /// Nothing usable came back before the last attempt's deadline.
    NoAnswer,
    /// The exchange could not run (no socket, no route).
    Failed(String),
}

impl Answer {
    /// The port state this answer shows (a failed exchange shows nothing: no answer).
    pub fn state(&self) -> UdpState {
        match self {
            Answer::Reply(_) => UdpState::Open,
            Answer::Closed => UdpState::Closed,
            Answer::NoAnswer | Answer::Failed(_) => UdpState::NoAnswer,
        }
    }
}

/// Opens a UDP socket connected to `address`, so ICMP port unreachable surfaces as
/// `ConnectionRefused` and only datagrams from `address` are received.
pub async fn connected_socket(address: SocketAddr) -> io::Result<UdpSocket> {
    let bind: SocketAddr = match address.ip() {
        IpAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(address).await?;
    Ok(socket)
}

/// Sends every request of `requests` to `address`, then waits for a datagram `accept` takes;
/// repeats up to `bounds.attempts` times. Datagrams `accept` refuses are ignored.
pub async fn exchange<F>(
    address: SocketAddr,
    requests: &[Vec<u8>],
    bounds: &UdpBounds,
    accept: F,
) -> Answer
where
    F: Fn(&[u8]) -> bool,
{
    let socket = match connected_socket(address).await {
        Ok(socket) => socket,
        Err(e) => return Answer::Failed(format!("cannot open a UDP socket to {address}: {e}")),
    };
    exchange_on(&socket, None, requests, bounds, accept).await
}

/// Like [`exchange`], also accepting answers from any other port of the device's address:
/// SSDP and WS-Discovery stacks (libupnp, for one) answer from a fresh socket, not from the
/// port asked. The request still leaves a connected socket, so ICMP port unreachable shows a
/// closed port; a second, unconnected socket on the same local port (`SO_REUSEADDR`) receives
/// what comes from the device's other ports. Datagrams from other hosts are dropped.
pub async fn exchange_any_port<F>(
    address: SocketAddr,
    requests: &[Vec<u8>],
    bounds: &UdpBounds,
    accept: F,
) -> Answer
where
    F: Fn(&[u8]) -> bool,
{
    let (connected, any) = match socket_pair(address).await {
        Ok(pair) => pair,
        Err(e) => return Answer::Failed(format!("cannot open a UDP socket to {address}: {e}")),
    };
    exchange_on(&connected, Some(&any), requests, bounds, accept).await
}

/// A connected socket and an unconnected one sharing its local port.
async fn socket_pair(address: SocketAddr) -> io::Result<(UdpSocket, UdpSocket)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let open = || -> io::Result<Socket> {
        let socket = Socket::new(
            Domain::for_address(address),
            Type::DGRAM,
            Some(Protocol::UDP),
        )?;
        socket.set_reuse_address(true)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    };
    let unspecified = |port: u16| -> SocketAddr {
        match address.ip() {
            IpAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, port).into(),
            IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, port).into(),
        }
    };
    let any = open()?;
    any.bind(&unspecified(0).into())?;
    let port = any
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("no local port"))?;
    let connected = open()?;
    connected.bind(&unspecified(port).into())?;
    let connected = UdpSocket::from_std(connected.into())?;
    connected.connect(address).await?;
    Ok((connected, UdpSocket::from_std(any.into())?))
}

/// The exchange on `socket` (connected to the device), and on `any` (unconnected, same local
/// port) for answers from the device's other ports.
pub async fn exchange_on<F>(
    socket: &UdpSocket,
    any: Option<&UdpSocket>,
    requests: &[Vec<u8>],
    bounds: &UdpBounds,
    accept: F,
) -> Answer
where
    F: Fn(&[u8]) -> bool,
{
    let device = socket.peer_addr().ok().map(|a| a.ip());
    let size = bounds.max_bytes.clamp(512, 65_535);
    let mut buf = vec![0u8; size];
    let mut other = vec![0u8; size];
    for _ in 0..bounds.attempts.max(1) {
        for request in requests {
            match socket.send(request).await {
                Ok(_) => {}
                // An ICMP port unreachable from an earlier datagram surfaces on the next send.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Answer::Closed,
                Err(e) => return Answer::Failed(format!("send failed: {e}")),
            }
        }
        let deadline = Instant::now() + bounds.attempt;
        for _ in 0..MAX_DATAGRAMS_PER_ATTEMPT {
            let from_other = async {
                match any {
                    Some(any) => any.recv_from(&mut other).await.map(Some),
                    None => std::future::pending().await,
                }
            };
            let received = tokio::select! {
                r = socket.recv(&mut buf) => r.map(|n| &buf[..n.min(size)]),
                r = from_other => match r {
                    Ok(Some((n, from))) if Some(from.ip()) == device => Ok(&other[..n.min(size)]),
                    // Not from the device: ignored (counts against the datagram cap).
                    Ok(_) => Ok(&other[..0]),
                    Err(e) => Err(e),
                },
                _ = tokio::time::sleep_until(deadline) => break,
            };
            match received {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Answer::Closed,
                Err(e) => return Answer::Failed(format!("receive failed: {e}")),
                Ok(datagram) => {
                    if !datagram.is_empty() && accept(datagram) {
                        return Answer::Reply(datagram.to_vec());
                    }
                }
            }
        }
    }
    Answer::NoAnswer
}

/// A random request identifier (message IDs, SNMP request IDs, DNS IDs).
pub fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // Without randomness the identifier is still valid, only predictable.
    let _ = getrandom::fill(&mut b);
    u32::from_be_bytes(b)
}

/// Everything one UDP probe observed on one port.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The port and its state (with a bounded, escaped detail when it answered).
    pub port: UdpPort,
    /// The request and the answer, for evidence (bounded, escaped).
    pub exchange: Option<Evidence>,
    /// Model and software sightings (judged by the identity check).
    pub sightings: Vec<Sighting>,
    /// Information the service disclosed without authentication (serial numbers, system
    /// descriptions), for S1.1-13 evidence.
    pub disclosures: Vec<Evidence>,
    /// Control interfaces found answering without authentication (S1.1-01 fail).
    pub unauthenticated: Vec<Exposed>,
    /// Control interfaces that refused a request without authentication (S1.1-01 pass).
    pub protected: Vec<Evidence>,
    /// What the probe could not do or chose not to do (e.g. a LOCATION on another host).
    pub notes: Vec<String>,
    /// Why the probe could not run at all (no socket, no route): the state is then no
    /// observation, only the absence of one.
    pub failed: Option<String>,
}

/// A control interface that answered without authentication.
#[derive(Debug, Clone)]
pub struct Exposed {
    /// What answered, e.g. `UPnP IGD urn:…:WANIPConnection:1 at http://…/ctl`.
    pub what: String,
    /// What it returned, bounded and escaped.
    pub returned: String,
    /// The exchange that proves it.
    pub evidence: Evidence,
}

impl Discovered {
    /// A probe result with the port state only.
    pub fn state(port: u16, service: &str, answer: &Answer) -> Self {
        let failed = match answer {
            Answer::Failed(reason) => Some(crate::model::bounded(reason)),
            _ => None,
        };
        Discovered {
            port: UdpPort {
                port,
                service: service.to_string(),
                state: answer.state(),
                detail: String::new(),
            },
            exchange: None,
            sightings: Vec::new(),
            disclosures: Vec::new(),
            unauthenticated: Vec::new(),
            protected: Vec::new(),
            notes: Vec::new(),
            failed,
        }
    }

    /// Sets the detail shown for the port (bounded and with control characters replaced).
    pub fn with_detail(mut self, detail: &str) -> Self {
        self.port.detail = crate::model::bounded(detail);
        self
    }
}

/// Runs every probe the settings list against `ip`, at most `settings.concurrency` at once.
///
/// Hosts rate-limit ICMP port unreachable (Linux: a burst of 6, then one a second per
/// destination), so probing several closed ports at once can leave some of them silent. When
/// the host did send ICMP for one port and others stayed silent, those are asked again one at
/// a time after the bucket has refilled: a closed port then shows as closed, and only a
/// service that ignores the request (or a filter) stays `no_answer`.
pub async fn discover(ip: IpAddr, settings: &UdpSettings) -> Vec<Discovered> {
    let probes: Vec<(&'static str, u16)> = settings
        .probes()
        .flat_map(|(service, ports)| ports.iter().map(move |&port| (service, port)))
        .collect();
    let mut found = probe_all(ip, settings, &probes).await;
    let silent = |d: &Discovered| d.port.state == UdpState::NoAnswer && d.failed.is_none();
    let host_sends_icmp = found.iter().any(|d| d.port.state == UdpState::Closed);
    if host_sends_icmp && found.iter().any(silent) {
        tokio::time::sleep(ICMP_REFILL).await;
        // One datagram is enough to draw the ICMP now that the bucket has refilled.
        let once = UdpSettings {
            attempts: 1,
            ..settings.clone()
        };
        for (index, &(service, port)) in probes.iter().enumerate() {
            if found.get(index).is_some_and(silent) {
                found[index] = probe_one(service, SocketAddr::new(ip, port), &once).await;
            }
        }
    }
    found
}

/// How long a host's ICMP rate limit takes to allow another port unreachable.
const ICMP_REFILL: Duration = Duration::from_millis(1100);

/// Runs the probe named `service` against `address`; an unknown name is a failed probe.
async fn probe_one(service: &str, address: SocketAddr, settings: &UdpSettings) -> Discovered {
    match service {
        snmp::SERVICE => snmp::probe(address, settings).await,
        ssdp::SERVICE => ssdp::probe(address, settings).await,
        coap::SERVICE => coap::probe(address, settings).await,
        mdns::SERVICE => mdns::probe(address, settings).await,
        wsd::SERVICE => wsd::probe(address, settings).await,
        _ => Discovered::state(
            address.port(),
            service,
            &Answer::Failed("unknown UDP probe".into()),
        ),
    }
}

/// Runs `probes` (service, port) against `ip`, at most `settings.concurrency` at once; results in the
/// order of `probes`.
async fn probe_all(
    ip: IpAddr,
    settings: &UdpSettings,
    probes: &[(&'static str, u16)],
) -> Vec<Discovered> {
    use std::sync::Arc;
    let settings = Arc::new(settings.clone());
    let limit = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, &(service, port)) in probes.iter().enumerate() {
        let settings = settings.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.ok();
            let found = probe_one(service, SocketAddr::new(ip, port), &settings).await;
            (index, found)
        });
    }
    let mut found: Vec<Option<Discovered>> = vec![None; probes.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => found[index] = Some(result),
            Err(e) => tracing::error!(error = %e, "a UDP probe task failed"),
        }
    }
    found
        .into_iter()
        .zip(probes)
        .map(|(result, &(service, port))| {
            result.unwrap_or_else(|| {
                Discovered::state(
                    port,
                    service,
                    &Answer::Failed("the probe task failed".into()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_probe_name_is_a_failed_probe() {
        let address: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        let found = probe_one("gopher", address, &UdpSettings::default()).await;
        assert_eq!(found.failed.as_deref(), Some("unknown UDP probe"));
        assert_eq!(found.port.state, UdpState::NoAnswer);
        assert_eq!(found.port.service, "gopher");
    }
}
