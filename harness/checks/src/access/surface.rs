//! Login surfaces found on a device, and the credential-guessing loop run on each.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jcstar_model::profile::access::CredentialLists;
use jcstar_model::Evidence;
use jcstar_probe::probes::digest::Challenge;
use jcstar_probe::probes::http::ProtectedPath;
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::rtsp::ProtectedStream;
use jcstar_probe::probes::{
    ftp, http, mqtt, rtsp, snmp, ssh, telnet, vnc, ExchangeError, LoginOutcome, Phase,
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

    /// Whether one connection takes several passwords of one user in a row (SSH, until the
    /// server's MaxAuthTries; telnet, whose login prompts again after a failure; FTP, USER/PASS
    /// again after a 530; HTTP, while the server keeps the connection alive; RTSP, whose
    /// connections persist), so guessing sends a series per connection instead of one attempt.
    pub fn takes_series(&self) -> bool {
        matches!(
            self,
            Surface::Ssh(_)
                | Surface::Telnet(_)
                | Surface::Ftp(_)
                | Surface::Http(..)
                | Surface::Rtsp(..)
        )
    }

    /// The connections one attempt on a fresh connection opens: two where a Digest challenge
    /// is fetched first (its nonce serves once), else one.
    fn connections_per_login(&self) -> usize {
        let digest =
            |challenges: &[Challenge]| matches!(challenges.first(), Some(Challenge::Digest { .. }));
        match self {
            Surface::Http(_, _, path) if digest(&path.challenges) => 2,
            Surface::Rtsp(_, stream) if digest(&stream.challenges) => 2,
            _ => 1,
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
    /// Connections the list's attempts opened (one per attempt, two where a Digest challenge
    /// is fetched first, or one per series of one user's passwords where the protocol takes
    /// several), so a lab sees the cost; the control attempt is not counted.
    pub connections: usize,
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

impl Guessed {
    /// `88 pairs tried over 19 connections`: what the list cost the device.
    pub fn cost(&self) -> String {
        format!(
            "{} {} tried over {} {}",
            self.tried,
            if self.tried == 1 { "pair" } else { "pairs" },
            self.connections,
            if self.connections == 1 {
                "connection"
            } else {
                "connections"
            }
        )
    }
}

/// Undecided attempts after which guessing on a surface gives up.
const MAX_FAILED: usize = 8;

/// Pairs not yet sent, in groups: one per user where a connection takes a series of one
/// user's passwords (OpenSSH disconnects when the user name changes), else one for the list.
#[derive(Debug, Default)]
struct Queue {
    groups: Vec<Group>,
}

/// One group of pairs of a [`Queue`].
#[derive(Debug, Default)]
struct Group {
    /// List indices not yet sent, in list order (a pair to retry goes back to the front).
    pending: VecDeque<usize>,
    /// Connections working on the group now.
    holders: usize,
}

impl Queue {
    /// The list's pairs grouped by user (`by_user`) or all in one group, in list order.
    fn new(pairs: &[(String, String)], by_user: bool) -> Self {
        let mut keys: Vec<&str> = Vec::new();
        let mut queue = Queue::default();
        for (index, (user, _)) in pairs.iter().enumerate() {
            let key = if by_user { user.as_str() } else { "" };
            let at = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                keys.push(key);
                queue.groups.push(Group::default());
                queue.groups.len() - 1
            });
            queue.groups[at].pending.push_back(index);
        }
        queue
    }

    /// A group with a pair left and its first pair, for a new connection: the first group no
    /// connection works on, else the least busy one (several connections share a user only
    /// when every user with pairs left is taken).
    fn claim(&mut self) -> Option<(usize, usize)> {
        let (at, group) = self
            .groups
            .iter_mut()
            .enumerate()
            .filter(|(_, g)| !g.pending.is_empty())
            .min_by_key(|(_, g)| g.holders)?;
        let first = group.pending.pop_front()?;
        group.holders += 1;
        Some((at, first))
    }

    /// The next pair of `group` for the connection that holds it.
    fn next(&mut self, group: usize) -> Option<usize> {
        self.groups.get_mut(group)?.pending.pop_front()
    }

    /// Puts `index` back at the front of `group`, for another connection.
    fn retry(&mut self, group: usize, index: usize) {
        if let Some(g) = self.groups.get_mut(group) {
            g.pending.push_front(index);
        }
    }

    /// A connection on `group` has ended.
    fn release(&mut self, group: usize) {
        if let Some(g) = self.groups.get_mut(group) {
            g.holders = g.holders.saturating_sub(1);
        }
    }
}

/// What the connections guessing on one surface share.
struct Guessing {
    surface: Arc<Surface>,
    pairs: Arc<Vec<(String, String)>>,
    bounds: Bounds,
    queue: Mutex<Queue>,
    result: Mutex<Guessed>,
    stop: AtomicBool,
    /// Set once the device signals a lockout: connections in flight are cancelled.
    cancel: tokio::sync::watch::Sender<bool>,
    /// Set when an HTTP or RTSP server closed a series connection before answering the first
    /// credential (its Digest challenge came with `Connection: close`): from then on one
    /// attempt per connection, as [`Surface::login`] makes it.
    one_per_connection: AtomicBool,
}

impl Guessing {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A group and its first pair for a new connection (counted), unless guessing stopped.
    fn claim(&self) -> Option<(usize, usize)> {
        if self.stopped() {
            return None;
        }
        let claimed = self.queue.lock().ok()?.claim()?;
        if let Ok(mut r) = self.result.lock() {
            r.connections += 1;
        }
        Some(claimed)
    }

    /// Counts `more` connections than the claims (a Digest challenge fetched first).
    fn opened(&self, more: usize) {
        if let Ok(mut r) = self.result.lock() {
            r.connections += more;
        }
    }

    /// The next pair of `group` on the same connection, unless guessing stopped.
    fn next(&self, group: usize) -> Option<usize> {
        if self.stopped() {
            return None;
        }
        self.queue.lock().ok()?.next(group)
    }

    /// Whether `outcome`, the first on a connection, says the server will not keep the
    /// connection for a series: an HTTP or RTSP server that closed it after its Digest
    /// challenge, before or instead of answering the credential.
    fn refuses_series(&self, outcome: &LoginOutcome) -> bool {
        matches!(&*self.surface, Surface::Http(..) | Surface::Rtsp(..))
            && matches!(
                outcome,
                LoginOutcome::Undecided(ExchangeError::Closed { .. })
            )
    }

    fn retry(&self, group: usize, index: usize) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.retry(group, index);
        }
    }

    fn release(&self, group: usize) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.release(group);
        }
    }

    /// Records the answer to pair `index`; whether guessing goes on.
    fn record(&self, index: usize, outcome: LoginOutcome) -> bool {
        let Ok(mut r) = self.result.lock() else {
            self.stop.store(true, Ordering::SeqCst);
            return false;
        };
        match outcome {
            LoginOutcome::Accepted(evidence) => {
                let (user, password) = self.pairs[index].clone();
                r.tried += 1;
                r.accepted.push((index, user, password, evidence));
            }
            LoginOutcome::Rejected => r.tried += 1,
            LoginOutcome::RateLimited(evidence) | LoginOutcome::LockedOut(evidence) => {
                self.stop.store(true, Ordering::SeqCst);
                r.locked.get_or_insert(evidence);
                self.cancel.send_replace(true);
            }
            LoginOutcome::Unsupported(why) => {
                self.stop.store(true, Ordering::SeqCst);
                r.unsupported.get_or_insert(why);
            }
            LoginOutcome::Undecided(why) => {
                r.failed.push(why);
                if r.failed.len() >= MAX_FAILED {
                    self.stop.store(true, Ordering::SeqCst);
                }
            }
        }
        !self.stopped()
    }
}

/// Tries every pair of `pairs` on `surface` with at most `concurrency` connections at once, so a
/// device with several default credentials shows them all; it stops early only at a lockout signal
/// (cancelling the connections in flight: the device asked for no more), a surface that takes no
/// password, or too many undecided attempts. On SSH, telnet, FTP, HTTP and RTSP each connection
/// carries a series of one user's passwords, in list order, for as long as the server keeps the
/// session open.
pub async fn guess(
    surface: Arc<Surface>,
    pairs: Arc<Vec<(String, String)>>,
    concurrency: usize,
    bounds: Bounds,
) -> Guessed {
    let series = surface.takes_series();
    let guessing = Arc::new(Guessing {
        queue: Mutex::new(Queue::new(&pairs, series)),
        result: Mutex::new(Guessed {
            pairs: pairs.len(),
            ..Guessed::default()
        }),
        stop: AtomicBool::new(false),
        cancel: tokio::sync::watch::channel(false).0,
        one_per_connection: AtomicBool::new(false),
        surface,
        pairs,
        bounds,
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(guessing.pairs.len()).max(1) {
        workers.spawn(connections(guessing.clone()));
    }
    while workers.join_next().await.is_some() {}
    let mut guessed = guessing
        .result
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    guessed.accepted.sort_by_key(|(index, ..)| *index);
    guessed
}

/// One connection after the other until the queue is empty or guessing stops; a lockout
/// signal cancels the one in flight.
async fn connections(guessing: Arc<Guessing>) {
    let mut cancelled = guessing.cancel.subscribe();
    while let Some((group, first)) = guessing.claim() {
        tokio::select! {
            () = connection(&guessing, group, first) => {}
            _ = cancelled.wait_for(|&c| c) => break,
        }
        guessing.release(group);
    }
}

/// One connection for pair `first`. On SSH, telnet, FTP, HTTP and RTSP it carries `group`'s next
/// pairs too while the session lasts (until the server closes it after its per-connection limit, or
/// a password is accepted). A pair the server closed the session on after earlier answers goes back
/// to the queue for a new connection, never counted as refused; one that got no answer as the first
/// on its connection is undecided, so every connection decides at least one pair.
async fn connection(guessing: &Guessing, group: usize, first: usize) {
    let user = guessing.pairs[first].0.as_str();
    // The pair sent last and not yet answered (the first one from before the connect).
    let in_flight = Mutex::new(Some(first));
    let take = || in_flight.lock().ok().and_then(|mut slot| slot.take());
    let mut upcoming = Some(first);
    let passwords = std::iter::from_fn(|| {
        if let Some(index) = upcoming.take() {
            return Some(guessing.pairs[index].1.as_str());
        }
        let index = guessing.next(group)?;
        if let Ok(mut slot) = in_flight.lock() {
            *slot = Some(index);
        }
        Some(guessing.pairs[index].1.as_str())
    });
    let mut answered = 0usize;
    let more = |_: Duration, outcome: &LoginOutcome| {
        let Some(index) = take() else {
            return false;
        };
        answered += 1;
        if answered == 1 && guessing.refuses_series(outcome) {
            guessing.one_per_connection.store(true, Ordering::SeqCst);
            guessing.retry(group, index);
            return false;
        }
        if answered > 1 && matches!(outcome, LoginOutcome::Undecided(_)) {
            guessing.retry(group, index);
            return false;
        }
        guessing.record(index, outcome.clone())
    };
    let bounds = &guessing.bounds;
    let series = match &*guessing.surface {
        Surface::Ssh(a) => ssh::login_series(*a, user, passwords, bounds, more).await,
        Surface::Telnet(a) => telnet::login_series(*a, user, passwords, bounds, more).await,
        Surface::Ftp(a) => ftp::login_series(*a, user, passwords, bounds, more).await,
        Surface::Http(a, tls, protected) if !guessing.one_per_connection.load(Ordering::SeqCst) => {
            let outcome = |answer: &_| http::series_outcome(answer, protected, user);
            let mut more = more;
            http::login_series(*a, *tls, protected, user, passwords, bounds, |t, answer| {
                more(t, &outcome(answer))
            })
            .await
            .iter()
            .map(|(t, answer)| (*t, outcome(answer)))
            .collect()
        }
        Surface::Rtsp(a, stream) if !guessing.one_per_connection.load(Ordering::SeqCst) => {
            rtsp::login_series(*a, stream, user, passwords, bounds, more).await
        }
        // One attempt per connection on the other surfaces.
        other => {
            guessing.opened(other.connections_per_login() - 1);
            let password = guessing.pairs[first].1.as_str();
            vec![(Duration::ZERO, other.login(user, password, bounds).await)]
        }
    };
    // Not answered through `more`: the connection failed before the first password.
    if let Some(index) = take() {
        let outcome = series.into_iter().last().map(|(_, outcome)| outcome);
        guessing.record(
            index,
            outcome.unwrap_or(LoginOutcome::Undecided(ExchangeError::NoAnswer {
                phase: Phase::Connect,
            })),
        );
    }
}
