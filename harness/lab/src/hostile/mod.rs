//! The hostile-device zoo: simulated devices that misbehave on purpose, so tests and benchmarks
//! can show that nothing a device sends crashes, hangs or starves a jcstar run. Each persona is
//! one device on one loopback address; its servers bound their own lifetime (every connection
//! ends after [`CONNECTION_LIFETIME`], at most [`MAX_CONNECTIONS`] are served at once) and
//! answer each UDP datagram at most once.

mod discovery;
mod stream;
mod tls;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Longest time a hostile server keeps one connection.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);

/// Connections one hostile listener serves at once; more are accepted and closed.
pub const MAX_CONNECTIONS: usize = 64;

/// Ports the many-ports persona opens (fewer when the file descriptor limit is lower).
pub const MANY_PORTS: u16 = 2000;

/// Connections the many-ports persona holds open at once across all its ports.
const MANY_PORTS_HELD: usize = 512;

/// A hostile persona: one misbehaving device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// Accepts every connection and never sends a byte.
    Tarpit,
    /// Sends one byte per second on every port, after the few bytes that name its protocol.
    ByteDrip,
    /// Streams without end: a banner, HTTP headers, a chunked body, MQTT packets, an FTP
    /// multi-line reply, telnet option negotiation and a telnet subnegotiation.
    Firehose,
    /// Lies in TLS: garbage after the ClientHello, absurd record and handshake lengths, a 16 MB
    /// certificate message (streamed fast and slowly), a HelloRetryRequest loop, and a server
    /// that accepts any cipher suite and version offered.
    TlsLiar,
    /// A UPnP device (SSDP on 1900/udp) whose description is nested thousands of elements deep.
    DeepXml,
    /// A UPnP device (SSDP on 1900/udp) whose description is several megabytes long.
    HugeXml,
    /// An mDNS responder (5353/udp) whose answers hold DNS name-compression loops (and one TCP
    /// port that closes every connection at once).
    DnsLoop,
    /// [`MANY_PORTS`] consecutive TCP ports open, each accepting and never speaking.
    ManyPorts,
}

impl Hostile {
    /// Every persona, in a stable order.
    pub const ALL: [Hostile; 8] = [
        Hostile::Tarpit,
        Hostile::ByteDrip,
        Hostile::Firehose,
        Hostile::TlsLiar,
        Hostile::DeepXml,
        Hostile::HugeXml,
        Hostile::DnsLoop,
        Hostile::ManyPorts,
    ];

    /// The persona's name, e.g. `byte-drip`.
    pub fn name(self) -> &'static str {
        match self {
            Hostile::Tarpit => "tarpit",
            Hostile::ByteDrip => "byte-drip",
            Hostile::Firehose => "firehose",
            Hostile::TlsLiar => "tls-liar",
            Hostile::DeepXml => "deep-xml",
            Hostile::HugeXml => "huge-xml",
            Hostile::DnsLoop => "dns-loop",
            Hostile::ManyPorts => "many-ports",
        }
    }

    /// The persona called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Hostile> {
        Hostile::ALL.into_iter().find(|h| h.name() == name)
    }

    /// What each of the persona's own TCP ports does (the many-ports persona binds its own).
    fn tcp_behaviours(self) -> Vec<Behaviour> {
        use stream::{Drip, Flood};
        use tls::Lie;
        match self {
            Hostile::Tarpit => vec![Behaviour::Silent; 4],
            Hostile::ByteDrip => Drip::ALL.into_iter().map(Behaviour::Drip).collect(),
            Hostile::Firehose => Flood::ALL.into_iter().map(Behaviour::Flood).collect(),
            Hostile::TlsLiar => Lie::ALL.into_iter().map(Behaviour::Tls).collect(),
            Hostile::DeepXml => vec![Behaviour::Description(discovery::Description::Deep)],
            Hostile::HugeXml => vec![Behaviour::Description(discovery::Description::Huge)],
            // One TCP port, so a scan has a port to name; it closes every connection at once.
            Hostile::DnsLoop => vec![Behaviour::Close],
            Hostile::ManyPorts => Vec::new(),
        }
    }
}

/// What one hostile TCP port does with each connection.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Holds the connection and says nothing.
    Silent,
    /// Closes the connection at once.
    Close,
    /// Drips bytes.
    Drip(stream::Drip),
    /// Streams without end.
    Flood(stream::Flood),
    /// Lies in TLS.
    Tls(tls::Lie),
    /// Serves a UPnP description.
    Description(discovery::Description),
}

impl Behaviour {
    fn label(self) -> &'static str {
        match self {
            Behaviour::Silent => "tarpit",
            Behaviour::Close => "closes-at-once",
            Behaviour::Drip(d) => d.label(),
            Behaviour::Flood(f) => f.label(),
            Behaviour::Tls(l) => l.label(),
            Behaviour::Description(d) => d.label(),
        }
    }

    async fn serve(self, stream: TcpStream) {
        match self {
            Behaviour::Silent => stream::hold(stream).await,
            Behaviour::Close => drop(stream),
            Behaviour::Drip(drip) => drip.serve(stream).await,
            Behaviour::Flood(flood) => flood.serve(stream).await,
            Behaviour::Tls(lie) => lie.serve(stream).await,
            Behaviour::Description(description) => description.serve(stream).await,
        }
    }
}

/// A running hostile device; dropping it stops every server task.
pub struct HostileDevice {
    /// The persona played.
    pub persona: Hostile,
    /// The loopback address it listens on.
    pub address: IpAddr,
    /// Its TCP ports, each with a label saying what it does (e.g. `firehose-mqtt`).
    pub tcp: Vec<(u16, &'static str)>,
    /// Its UDP ports, each with a label.
    pub udp: Vec<(u16, &'static str)>,
    tasks: JoinSet<()>,
}

impl HostileDevice {
    /// Binds the persona's listeners on `address` (a loopback address no other server uses:
    /// SSDP and mDNS personas bind their protocol's standard UDP port) and starts serving.
    pub async fn start(persona: Hostile, address: IpAddr) -> io::Result<HostileDevice> {
        let mut tasks = JoinSet::new();
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        let mut description_port = None;
        for behaviour in persona.tcp_behaviours() {
            let listener = TcpListener::bind(SocketAddr::new(address, 0)).await?;
            let port = listener.local_addr()?.port();
            if matches!(behaviour, Behaviour::Description(_)) {
                description_port = Some(port);
            }
            tcp.push((port, behaviour.label()));
            tasks.spawn(serve_listener(
                listener,
                behaviour,
                Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            ));
        }
        if let Some(port) = description_port {
            let socket = UdpSocket::bind(SocketAddr::new(address, discovery::SSDP_PORT)).await?;
            udp.push((discovery::SSDP_PORT, "ssdp"));
            tasks.spawn(discovery::serve_ssdp(socket, port));
        }
        if persona == Hostile::DnsLoop {
            let socket = UdpSocket::bind(SocketAddr::new(address, discovery::MDNS_PORT)).await?;
            udp.push((discovery::MDNS_PORT, "mdns-compression-loop"));
            tasks.spawn(discovery::serve_mdns(socket));
        }
        if persona == Hostile::ManyPorts {
            let held = Arc::new(Semaphore::new(MANY_PORTS_HELD));
            for port in many_ports(address).await? {
                let (listener, port) = port;
                tcp.push((port, "open"));
                tasks.spawn(serve_listener(listener, Behaviour::Silent, held.clone()));
            }
        }
        Ok(HostileDevice {
            persona,
            address,
            tcp,
            udp,
            tasks,
        })
    }

    /// The TCP ports as a `-p` argument: `a,b,c`, or `first-last` for a consecutive run.
    pub fn ports_arg(&self) -> String {
        let mut ports: Vec<u16> = self.tcp.iter().map(|(p, _)| *p).collect();
        ports.sort_unstable();
        match (ports.first(), ports.last()) {
            (Some(&first), Some(&last))
                if ports.len() > 2 && usize::from(last - first) + 1 == ports.len() =>
            {
                format!("{first}-{last}")
            }
            _ => ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Stops every server task.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Binds the first run of consecutive free ports from 40000 on `address`, up to [`MANY_PORTS`]
/// (fewer when the process runs out of file descriptors first).
async fn many_ports(address: IpAddr) -> io::Result<Vec<(TcpListener, u16)>> {
    let mut bound = Vec::new();
    let mut port = 40000u16;
    while bound.len() < usize::from(MANY_PORTS) && port < 60000 {
        match TcpListener::bind(SocketAddr::new(address, port)).await {
            Ok(listener) => bound.push((listener, port)),
            // A port in use breaks the run: start a new one after it.
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => bound.clear(),
            // Out of file descriptors (or another limit): serve the ports bound so far.
            Err(_) if !bound.is_empty() => break,
            Err(e) => return Err(e),
        }
        port += 1;
    }
    Ok(bound)
}

/// Accepts connections on `listener` until the device stops; each runs `behaviour` for at
/// most [`CONNECTION_LIFETIME`], at most as many at once as `permits` allows. The connections
/// are this task's own: stopping it stops them.
async fn serve_listener(listener: TcpListener, behaviour: Behaviour, permits: Arc<Semaphore>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or a reset before accept: do not spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        connections.spawn(async move {
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, behaviour.serve(stream)).await;
            drop(permit);
        });
    }
}
