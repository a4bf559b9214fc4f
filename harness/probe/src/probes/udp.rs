//! UDP request/answer exchanges with a byte cap per datagram, a deadline per attempt and a
//! bounded number of attempts and datagrams: the SNMP login probe and the UDP discovery probes
//! use them. A port that sends ICMP port unreachable shows as closed.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use jcstar_model::observed::UdpState;

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

/// A UDP socket holding its place in the run's socket budget until dropped.
#[derive(Debug)]
pub struct BudgetedUdp {
    socket: UdpSocket,
    _ticket: crate::budget::Ticket,
}

impl std::ops::Deref for BudgetedUdp {
    type Target = UdpSocket;

    fn deref(&self) -> &UdpSocket {
        &self.socket
    }
}

/// Opens a UDP socket connected to `address`, so ICMP port unreachable surfaces as
/// `ConnectionRefused` and only datagrams from `address` are received. It counts in the run's
/// socket budget, so UDP probes cannot run the process out of descriptors.
pub async fn connected_socket(address: SocketAddr) -> io::Result<BudgetedUdp> {
    let ticket = crate::budget::budget().admit_sockets(1).await;
    let bind: SocketAddr = match address.ip() {
        IpAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(address).await?;
    Ok(BudgetedUdp {
        socket,
        _ticket: ticket,
    })
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

/// A connected socket and an unconnected one sharing its local port (two places in the
/// socket budget, taken together).
async fn socket_pair(address: SocketAddr) -> io::Result<(BudgetedUdp, UdpSocket)> {
    let ticket = crate::budget::budget().admit_sockets(2).await;
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
    let connected = BudgetedUdp {
        socket: connected,
        _ticket: ticket,
    };
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
    if requests.is_empty() {
        return Answer::NoAnswer;
    }
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

impl From<&jcstar_model::profile::udp::UdpSettings> for UdpBounds {
    fn from(settings: &jcstar_model::profile::udp::UdpSettings) -> Self {
        UdpBounds {
            attempt: Duration::from_millis(settings.attempt_timeout_ms),
            attempts: settings.attempts,
            max_bytes: settings.max_datagram_bytes,
        }
    }
}
