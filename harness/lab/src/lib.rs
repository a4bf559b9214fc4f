#![warn(missing_docs)]
#![forbid(unsafe_code)]
//! The built-in device lab: simulated IoT devices served in-process on loopback
//! addresses `127.77.<subnet>.<n>`, for `jcstar demo` and the integration tests.

mod auth;
mod ber;
mod coap;
mod debug_port;
mod fleet;
mod ftp;
mod guarded;
pub mod hostile;
mod http;
mod legacy_tls;
mod limits;
mod mdns;
mod mqtt;
mod personas;
mod request;
mod rtsp;
pub mod snmp;
mod ssdp;
mod ssh_login;
mod telnet;
mod tls;
mod tls_modern;
mod udp;
mod vnc;
mod weak_ssh;
mod wsd;

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use fleet::{fleet_address, fleet_files, raise_open_files, FleetOptions, MAX_FLEET_DEVICES};
use http::Site;
pub use limits::Limits;
use personas::{Persona, Protocol};
pub use ssh_login::MAX_AUTH_TRIES as SSH_MAX_AUTH_TRIES;

/// Options for starting a lab; different `subnet` values let several labs run at once (parallel
/// tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct LabOptions {
    /// Devices live at `127.77.<subnet>.1`, `.2`, …
    pub subnet: u8,
}

/// Why a lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A device's listener could not bind its loopback address and port.
    #[error("cannot bind demo device {device} on {address}: {source}")]
    Bind {
        /// The persona whose listener failed.
        device: String,
        /// The loopback address and port that could not be bound.
        address: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
    /// A device's TLS certificate or configuration could not be created.
    #[error("cannot set up TLS for demo device {device}: {reason}")]
    Tls {
        /// The persona whose TLS setup failed.
        device: String,
        /// What went wrong.
        reason: String,
    },
    /// A fleet of this size is not served (see [`MAX_FLEET_DEVICES`]).
    #[error("--devices {requested}: give 1 to {max} devices")]
    FleetSize {
        /// The number of devices asked for.
        requested: usize,
        /// The most one fleet serves.
        max: usize,
    },
    /// The fleet's listeners (and the caller's spare files) do not fit under RLIMIT_NOFILE.
    #[error("--devices {devices} needs about {needed} open files but the open-file limit (RLIMIT_NOFILE) is {limit}; raise it (ulimit -n {needed}, or LimitNOFILE= for a service) or ask for fewer devices")]
    OpenFiles {
        /// The number of devices asked for.
        devices: usize,
        /// Open files needed: listeners, the caller's spare files and a reserve.
        needed: u64,
        /// The soft limit, already raised to the hard one where allowed.
        limit: u64,
    },
}

/// One simulated device of a running lab.
#[derive(Debug, Clone)]
pub struct LabDevice {
    /// Inventory name, e.g. `weak-camera`.
    pub name: String,
    /// Persona the device plays (currently the same as `name`).
    pub persona: String,
    /// Loopback address the device listens on.
    pub address: IpAddr,
    /// Vendor model name.
    pub model: String,
    /// Open ports and their service kind: `telnet`, `http`, `rtsp`, `tls`, `ssh`, `ftp`, `mqtt`,
    /// `unknown`, or (on UDP, see [`is_udp_kind`]) `snmp`, `ssdp`, `coap`, `mdns`,
    /// `ws-discovery`, `udp` (a port that never answers).
    pub listening: Vec<(u16, &'static str)>,
    /// Ports the vendor declares; an open port missing here is undocumented.
    pub declared: Vec<u16>,
}

/// A running lab; dropping it (or `shutdown`) stops every listener task.
pub struct DemoLab {
    devices: Vec<LabDevice>,
    /// The guarded logins' lockout window, declared in the generated inventory.
    lockout_window: Duration,
    personas: Vec<&'static Persona>,
    certificates: Vec<(String, CertificateDer<'static>)>,
    tasks: JoinSet<()>,
}

/// A user name and password pair a simulated service accepts.
#[derive(Debug, Clone, Copy)]
struct Credential {
    user: &'static str,
    password: &'static str,
}

/// What serves the connections of one listener.
enum Handler {
    /// A server speaking directly on TCP.
    Plain(&'static Protocol),
    /// HTTP behind a TLS acceptor.
    Tls(&'static http::Site, TlsAcceptor),
    /// A guarded login with its device's failure counters.
    Guarded(&'static guarded::Guarded, guarded::State),
    /// An HTTPS site whose login has a defence, with its device's failure counters.
    GuardedTls(
        &'static http::Site,
        guarded::Defence,
        TlsAcceptor,
        guarded::State,
    ),
}

impl DemoLab {
    /// Binds every persona's listeners and starts serving them, with default [`Limits`].
    pub async fn start(options: LabOptions) -> Result<DemoLab, LabError> {
        Self::start_with_limits(options, Limits::default()).await
    }

    /// Like [`DemoLab::start`], with explicit resource limits (e.g. short deadlines in tests).
    pub async fn start_with_limits(
        options: LabOptions,
        limits: Limits,
    ) -> Result<DemoLab, LabError> {
        let mut bound = Vec::new();
        let mut devices = Vec::new();
        let mut certificates = Vec::new();
        let mut udp = Vec::new();
        for persona in personas::all() {
            let address = IpAddr::V4(Ipv4Addr::new(127, 77, options.subnet, persona.host));
            let mut tls = None;
            let modern = persona
                .services
                .iter()
                .any(|s| matches!(s.protocol, Protocol::Https12(_)));
            if modern
                || persona
                    .services
                    .iter()
                    .any(|s| matches!(s.protocol, Protocol::GuardedHttps(..)))
            {
                let dns_name = format!("{}.lab", persona.name);
                let mint = if modern {
                    tls_modern::identity
                } else {
                    tls::identity
                };
                let identity =
                    mint(address, &dns_name, persona.model).map_err(|reason| LabError::Tls {
                        device: persona.name.to_owned(),
                        reason,
                    })?;
                certificates.push((persona.name.to_owned(), identity.certificate));
                tls = Some(identity.acceptor);
            }
            for service in persona.services {
                let socket = SocketAddr::new(address, service.port);
                if service.protocol.is_udp() {
                    let bound = UdpSocket::bind(socket)
                        .await
                        .map_err(|source| LabError::Bind {
                            device: persona.name.to_owned(),
                            address: socket,
                            source,
                        })?;
                    udp.push((Arc::new(bound), &service.protocol, persona.name));
                    continue;
                }
                let listener =
                    TcpListener::bind(socket)
                        .await
                        .map_err(|source| LabError::Bind {
                            device: persona.name.to_owned(),
                            address: socket,
                            source,
                        })?;
                let handler = match (&service.protocol, &tls) {
                    (Protocol::Https12(site), Some(acceptor)) => {
                        Handler::Tls(site, acceptor.clone())
                    }
                    (Protocol::Guarded(page), _) => {
                        Handler::Guarded(page, guarded::State::default())
                    }
                    (Protocol::GuardedHttps(site, defence), Some(acceptor)) => Handler::GuardedTls(
                        site,
                        *defence,
                        acceptor.clone(),
                        guarded::State::default(),
                    ),
                    (protocol, _) => Handler::Plain(protocol),
                };
                bound.push((listener, handler));
            }
            devices.push(LabDevice {
                name: persona.name.to_owned(),
                persona: persona.name.to_owned(),
                address,
                model: persona.model.to_owned(),
                listening: persona
                    .services
                    .iter()
                    .map(|s| (s.port, s.protocol.kind()))
                    .collect(),
                declared: persona
                    .services
                    .iter()
                    .filter(|s| s.declared)
                    .map(|s| s.port)
                    .collect(),
            });
        }

        let lockout_window = limits.lockout_window;
        let limits = Arc::new(limits);
        let mut tasks = JoinSet::new();
        for (listener, handler) in bound {
            tasks.spawn(run_listener(listener, Arc::new(handler), limits.clone()));
        }
        for (socket, protocol, name) in udp {
            serve_udp(&mut tasks, socket, protocol, name);
        }
        tracing::debug!(subnet = options.subnet, "demo lab started");
        Ok(DemoLab {
            devices,
            lockout_window,
            personas: personas::all().collect(),
            certificates,
            tasks,
        })
    }

    /// The devices of this lab.
    pub fn devices(&self) -> &[LabDevice] {
        &self.devices
    }

    /// The self-signed certificate a TLS device presents, by device name.
    pub fn tls_certificate(&self, device: &str) -> Option<&CertificateDer<'static>> {
        self.certificates
            .iter()
            .find(|(name, _)| name == device)
            .map(|(_, cert)| cert)
    }

    /// The lab as a jcstar inventory (TOML text) — the demo feeds this through the normal inventory
    /// parser.
    pub fn inventory_toml(&self) -> String {
        let mut out = String::from("# jcstar demo lab inventory (generated)\n");
        for (device, persona) in self.devices.iter().zip(&self.personas) {
            let services: Vec<String> = device
                .declared
                .iter()
                .map(|port| {
                    let transport = if persona
                        .services
                        .iter()
                        .any(|s| s.port == *port && s.protocol.is_udp())
                    {
                        "udp"
                    } else {
                        "tcp"
                    };
                    toml_string(&format!("{port}/{transport}"))
                })
                .collect();
            let _ = write!(
                out,
                "\n[[device]]\nname = {}\naddress = {}\nmodel = {}\nservices = [{}]\n",
                toml_string(&device.name),
                toml_string(&device.address.to_string()),
                toml_string(&device.model),
                services.join(", "),
            );
            if !persona.evidence.is_empty() {
                out.push_str("\n[device.evidence]\n");
                for (key, value) in persona.evidence {
                    let _ = writeln!(out, "{key} = {}", toml_string(value));
                }
            }
            for service in persona.services {
                let (service, credential, defence) = match &service.protocol {
                    Protocol::Guarded(page) => ("http", page.credential, page.defence),
                    Protocol::GuardedHttps(Site { admin: Some(c), .. }, defence) => {
                        ("https", *c, *defence)
                    }
                    _ => continue,
                };
                let _ = write!(
                    out,
                    "\n[[device.credential]]\nservice = \"{service}\"\nusername = {}\npassword = {}\n",
                    toml_string(credential.user),
                    toml_string(credential.password),
                );
                // The vendor documents its lockout: S1.1-04 waits that long for recovery.
                let window = self.lockout_window.as_secs();
                if defence.locks() && window > 0 {
                    let _ = writeln!(out, "lockout_window_s = {window}");
                }
            }
        }
        out
    }

    /// Stops every listener and open connection, and waits until they are gone.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Accepts connections until the lab stops; connection tasks die with the listener task.
async fn run_listener(listener: TcpListener, handler: Arc<Handler>, limits: Arc<Limits>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if connections.len() >= limits.max_connections {
                        tracing::trace!(%peer, "connection cap reached; closing");
                        continue;
                    }
                    tracing::trace!(%peer, "connection accepted");
                    connections.spawn(serve_connection(stream, handler.clone(), limits.clone()));
                }
                Err(error) => {
                    // Typically descriptor exhaustion: back off instead of spinning.
                    tracing::trace!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Serves one connection, bounded by the session deadline.
async fn serve_connection(stream: TcpStream, handler: Arc<Handler>, limits: Arc<Limits>) {
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let limits = &*limits;
    let session = async {
        match &*handler {
            Handler::Tls(site, acceptor) => tls::serve(stream, local, acceptor, site, limits).await,
            Handler::Plain(Protocol::Telnet(login)) => telnet::serve(stream, login, limits).await,
            Handler::Plain(Protocol::Http(site)) => http::serve(stream, local, site, limits).await,
            Handler::Plain(Protocol::Rtsp(config)) => {
                rtsp::serve(stream, local, config, limits).await
            }
            Handler::Plain(Protocol::DebugConsole) => debug_port::serve(stream, limits).await,
            Handler::Plain(Protocol::LegacyTls) => legacy_tls::serve(stream, limits).await,
            Handler::Plain(Protocol::WeakSsh) => weak_ssh::serve(stream, limits).await,
            Handler::Plain(Protocol::Ftp(server)) => ftp::serve(stream, server, limits).await,
            Handler::Plain(Protocol::Mqtt(broker)) => mqtt::serve(stream, broker, limits).await,
            Handler::Plain(Protocol::Vnc(desktop)) => vnc::serve(stream, desktop, limits).await,
            Handler::Plain(Protocol::HttpAuth(site, gate)) => {
                http::serve_gated(stream, local, site, Some(gate), limits).await
            }
            Handler::Plain(Protocol::RtspAuth(config, gate)) => {
                rtsp::serve_gated(stream, local, config, Some(gate), limits).await
            }
            Handler::Plain(Protocol::OpenShell(banner)) => {
                telnet::serve_open_shell(stream, banner, limits).await
            }
            Handler::Plain(Protocol::Ssh(login)) => ssh_login::serve(stream, login, limits).await,
            Handler::Plain(Protocol::UpnpHttp(upnp)) => ssdp::serve(stream, upnp, limits).await,
            // Served by the UDP tasks, never by a TCP listener.
            Handler::Plain(
                Protocol::Snmp(_)
                | Protocol::Ssdp(_)
                | Protocol::Coap(_)
                | Protocol::Mdns(_)
                | Protocol::WsDiscovery(_)
                | Protocol::NatPmp(_)
                | Protocol::SilentUdp,
            ) => {}
            Handler::Guarded(page, state) => guarded::serve(stream, page, state, limits).await,
            Handler::GuardedTls(site, defence, acceptor, state) => {
                guarded::serve_site_tls(stream, local, acceptor, site, *defence, state, limits)
                    .await
            }
            // Only reachable if TLS setup were skipped for an HTTPS service.
            Handler::Plain(
                Protocol::Https12(_) | Protocol::Guarded(_) | Protocol::GuardedHttps(..),
            ) => {}
        }
    };
    if tokio::time::timeout(limits.session_timeout, session)
        .await
        .is_err()
    {
        tracing::trace!(%local, "session deadline reached");
    }
}

/// Starts the task answering one UDP service of a persona named `name`.
fn serve_udp(
    tasks: &mut JoinSet<()>,
    socket: Arc<UdpSocket>,
    protocol: &'static Protocol,
    name: &'static str,
) {
    match protocol {
        Protocol::Snmp(agent) => {
            tasks.spawn(snmp::serve(socket, agent));
        }
        Protocol::Ssdp(upnp) => {
            tasks.spawn(ssdp::serve_ssdp(socket, upnp));
        }
        Protocol::Coap(links) => {
            tasks.spawn(udp::serve(socket, move |d, _, _| coap::answer(d, links)));
        }
        Protocol::Mdns(services) => {
            let host = format!("{name}.local");
            tasks.spawn(udp::serve(socket, move |d, _, _| {
                mdns::answer(d, services, &host)
            }));
        }
        Protocol::WsDiscovery(onvif) => {
            tasks.spawn(udp::serve(socket, move |d, local, _| {
                wsd::answer(d, local, onvif)
            }));
        }
        Protocol::NatPmp(external) => {
            let external = *external;
            tasks.spawn(udp::serve(socket, move |d, _, _| {
                udp::nat_pmp_answer(d, external)
            }));
        }
        _ => {
            tasks.spawn(udp::serve_silent(socket));
        }
    }
}

/// Whether a [`LabDevice::listening`] service kind is served on UDP.
pub fn is_udp_kind(kind: &str) -> bool {
    matches!(
        kind,
        "snmp" | "ssdp" | "coap" | "mdns" | "ws-discovery" | "nat-pmp" | "udp"
    )
}

/// A TOML basic string: quoted, with `"`, `\` and control characters escaped.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub mod testing;

#[cfg(test)]
mod tests;
