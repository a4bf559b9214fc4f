//! Login surfaces found on a device, and the credential-guessing loop run on each.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jcstar_model::profile::access::CredentialLists;
use jcstar_model::Evidence;
use jcstar_probe::probes::http::ProtectedPath;
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::rtsp::ProtectedStream;
use jcstar_probe::probes::{
    ftp, http, mqtt, rtsp, snmp, ssh, telnet, vnc, ExchangeError, LoginOutcome,
};

/// One service that takes a login.
#[derive(Debug, Clone)]
pub enum Surface {
    /// Telnet login prompt.
    Telnet(SocketAddr),
    /// SSH password / keyboard-interactive.
    Ssh(SocketAddr),
    /// HTTP(S) Basic/Digest on a protected path.
    Http(SocketAddr, bool, ProtectedPath),
    /// RTSP Basic/Digest on a protected stream.
    Rtsp(SocketAddr, ProtectedStream),
    /// FTP USER/PASS.
    Ftp(SocketAddr),
    /// MQTT CONNECT with user name and password (plain or TLS).
    Mqtt(SocketAddr, bool),
    /// SNMP community (UDP).
    Snmp(SocketAddr),
    /// VNC authentication.
    Vnc(SocketAddr),
}

impl Surface {
    /// The protocol name used in reports and inventory credentials (`telnet`, `ssh`, …).
    pub fn protocol(&self) -> &'static str {
        match self {
            Surface::Telnet(_) => "telnet",
            Surface::Ssh(_) => "ssh",
            Surface::Http(_, false, _) => "http",
            Surface::Http(_, true, _) => "https",
            Surface::Rtsp(..) => "rtsp",
            Surface::Ftp(_) => "ftp",
            Surface::Mqtt(_, false) => "mqtt",
            Surface::Mqtt(_, true) => "mqtts",
            Surface::Snmp(_) => "snmp",
            Surface::Vnc(_) => "vnc",
        }
    }

    /// The address probed.
    pub fn address(&self) -> SocketAddr {
        match self {
            Surface::Telnet(a)
            | Surface::Ssh(a)
            | Surface::Http(a, ..)
            | Surface::Rtsp(a, _)
            | Surface::Ftp(a)
            | Surface::Mqtt(a, _)
            | Surface::Snmp(a)
            | Surface::Vnc(a) => *a,
        }
    }

    /// `telnet 23/tcp`, `snmp 161/udp`, `http 80/tcp /admin/`.
    pub fn label(&self) -> String {
        let transport = if matches!(self, Surface::Snmp(_)) {
            "udp"
        } else {
            "tcp"
        };
        let base = format!("{} {}/{transport}", self.protocol(), self.address().port());
        match self {
            Surface::Http(_, _, p) => format!("{base} {}", p.path),
            _ => base,
        }
    }

    /// Whether an inventory credential's `service` names this surface.
    pub fn matches_service(&self, service: &str) -> bool {
        let service = service.trim().to_ascii_lowercase();
        let port = format!("{}/tcp", self.address().port());
        service == self.protocol()
            || service == port
            || (service == "http" && self.protocol() == "https")
            || (service == "mqtt" && self.protocol() == "mqtts")
    }

    /// The lists the profile applies to this surface.
    pub fn lists<'a>(&self, lists: &'a CredentialLists) -> &'a [String] {
        match self {
            Surface::Telnet(_) => &lists.telnet,
            Surface::Ssh(_) => &lists.ssh,
            Surface::Http(..) => &lists.http,
            Surface::Rtsp(..) => &lists.rtsp,
            Surface::Ftp(_) => &lists.ftp,
            Surface::Mqtt(..) => &lists.mqtt,
            Surface::Snmp(_) => &lists.snmp,
            Surface::Vnc(_) => &lists.vnc,
        }
    }

    /// One attempt on a fresh connection.
    pub async fn login(&self, user: &str, password: &str, bounds: &Bounds) -> LoginOutcome {
        match self {
            Surface::Telnet(a) => telnet::login(*a, user, password, bounds).await,
            Surface::Ssh(a) => ssh::login(*a, user, password, bounds).await,
            Surface::Http(a, tls, path) => {
                http::login(*a, *tls, path, user, password, bounds).await
            }
            Surface::Rtsp(a, stream) => rtsp::login(*a, stream, user, password, bounds).await,
            Surface::Ftp(a) => ftp::login(*a, user, password, bounds).await,
            Surface::Mqtt(a, tls) => mqtt::login(*a, *tls, user, password, bounds).await,
            Surface::Snmp(a) => snmp::login(*a, password, bounds).await,
            Surface::Vnc(a) => vnc::login(*a, password, bounds).await,
        }
    }
}

/// What guessing on one surface found.
#[derive(Debug, Clone, Default)]
pub struct Guessed {
    /// Pairs on the list.
    pub pairs: usize,
    /// Attempts that got an answer.
    pub tried: usize,
    /// Every accepted pair (list index, user, password, proof), in list order.
    pub accepted: Vec<(usize, String, String, Evidence)>,
    /// The lockout or rate-limit signal that stopped the attempts.
    pub locked: Option<Evidence>,
    /// Why the surface takes no password login, if it does not.
    pub unsupported: Option<String>,
    /// Attempts that got no verdict: silence, a closed connection, garbage.
    pub failed: Vec<ExchangeError>,
    /// SNMP: per accepted community, whether it may write, with the exchange as evidence.
    pub write_access: Vec<(String, jcstar_probe::probes::snmp::WriteAccess, Evidence)>,
}

/// Undecided attempts after which guessing on a surface gives up.
const MAX_FAILED: usize = 8;

/// Tries every pair of `pairs` on `surface` with `concurrency` connections at once, so a device
/// with several default credentials shows them all; it stops early only at a lockout signal
/// (cancelling the attempts in flight: the device asked for no more), a surface that takes no
/// password, or too many undecided attempts.
pub async fn guess(
    surface: Arc<Surface>,
    pairs: Arc<Vec<(String, String)>>,
    concurrency: usize,
    bounds: Bounds,
) -> Guessed {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let result = Arc::new(Mutex::new(Guessed {
        pairs: pairs.len(),
        ..Guessed::default()
    }));
    // Set once the device signals a lockout: attempts in flight are cancelled.
    let (cancel, _) = tokio::sync::watch::channel(false);
    let cancel = Arc::new(cancel);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(pairs.len()).max(1) {
        let (surface, pairs, next, stop, result, cancel) = (
            surface.clone(),
            pairs.clone(),
            next.clone(),
            stop.clone(),
            result.clone(),
            cancel.clone(),
        );
        workers.spawn(async move {
            let mut cancelled = cancel.subscribe();
            loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some((user, password)) = pairs.get(index) else {
                    break;
                };
                let outcome = tokio::select! {
                    outcome = surface.login(user, password, &bounds) => outcome,
                    _ = cancelled.wait_for(|&c| c) => break,
                };
                let Ok(mut r) = result.lock() else { break };
                match outcome {
                    LoginOutcome::Accepted(evidence) => {
                        r.tried += 1;
                        r.accepted
                            .push((index, user.clone(), password.clone(), evidence));
                    }
                    LoginOutcome::Rejected => r.tried += 1,
                    LoginOutcome::RateLimited(evidence) | LoginOutcome::LockedOut(evidence) => {
                        stop.store(true, Ordering::SeqCst);
                        r.locked.get_or_insert(evidence);
                        cancel.send_replace(true);
                    }
                    LoginOutcome::Unsupported(why) => {
                        stop.store(true, Ordering::SeqCst);
                        r.unsupported.get_or_insert(why);
                    }
                    LoginOutcome::Undecided(why) => {
                        r.failed.push(why);
                        if r.failed.len() >= MAX_FAILED {
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut guessed = result.lock().map(|r| r.clone()).unwrap_or_default();
    guessed.accepted.sort_by_key(|(index, ..)| *index);
    guessed
}
