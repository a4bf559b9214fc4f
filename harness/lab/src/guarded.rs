//! A web admin page behind HTTP Basic that defends itself (or not) against password guessing,
//! for the brute-force check (S1.1-04): no defence, a delay growing with each failure, a
//! lockout that also refuses the valid password, a lockout of the attacked user name only, or
//! a delay charged once per new connection (bypassed by keeping one connection alive).
//! Failures are counted per listener (one device), across connections. Connections stay open
//! for further requests when the client asks for keep-alive.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::Instant;

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::http::{self, Site};
use super::limits::{self, Limits};
use super::request::Request;
use super::Credential;

/// How the page reacts to wrong passwords.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Defence {
    /// Every wrong password is answered 401 at once.
    Nothing,
    /// The answer to the n-th consecutive failure waits `n × step_ms` (capped at the lab's
    /// [`Limits::max_login_delay`]).
    GrowingDelay { step_ms: u64 },
    /// After `after` failures, every login (even the valid one) gets 403 for the lab's
    /// [`Limits::lockout_window`].
    Lockout { after: u32 },
    /// Like `Lockout`, but only for the user name that failed: other names are not limited.
    PerUserLockout { after: u32 },
    /// The first login on each new connection waits `failures × step_ms` (capped like
    /// `GrowingDelay`);
    /// further logins on a kept-alive connection are answered at once. Fresh connections see
    /// a growing delay; one connection guesses at full speed.
    ConnectionDelay { step_ms: u64 },
    /// Like pam_faillock behind a login daemon: every failure is a plain 401 after `delay_ms`
    /// (each connection waits on its own); after `after` failures the user name is locked for
    /// the lab's [`Limits::lockout_window`], and while locked every login of it, the valid one
    /// too, gets the same delayed 401. Failures during the lock do not extend it; when it
    /// lapses the count starts again.
    QuietLockout { after: u32, delay_ms: u64 },
}

impl Defence {
    /// Whether the defence locks the login for the lab's lockout window.
    pub(crate) fn locks(self) -> bool {
        matches!(
            self,
            Defence::Lockout { .. } | Defence::PerUserLockout { .. } | Defence::QuietLockout { .. }
        )
    }

    /// How long a plain 401 (a failure, or any login during a quiet lock) is held back, when
    /// that does not grow with the failures.
    fn flat_delay(self) -> Duration {
        match self {
            Defence::QuietLockout { delay_ms, .. } => Duration::from_millis(delay_ms),
            _ => Duration::ZERO,
        }
    }

    /// Whether delayed answers wait in one queue (a single-threaded login daemon) rather
    /// than each on its own connection.
    fn queues(self) -> bool {
        !matches!(self, Defence::QuietLockout { .. })
    }
}

/// A guarded admin page.
#[derive(Debug)]
pub(crate) struct Guarded {
    /// Model name, used as the realm and in the page.
    pub model: &'static str,
    /// The operator's credential (declared in the demo inventory).
    pub credential: Credential,
    /// The defence.
    pub defence: Defence,
}

/// Most user names tracked (bounded state against hostile clients).
const MAX_TRACKED: usize = 1024;
/// Most requests served on one kept-alive connection.
const MAX_REQUESTS: usize = 100;

/// Failure counts and lockouts of one device.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Key (user name, or `*` for a device-wide counter) → (failures, locked until).
    counters: Mutex<HashMap<String, (u32, Option<Instant>)>>,
    /// One failure delay at a time, like a single-threaded login daemon: parallel
    /// connections queue behind each other instead of sharing the wait.
    gate: tokio::sync::Mutex<()>,
}

enum Decision {
    Ok,
    Unauthorized(Duration),
    Locked(u64),
}

impl State {
    fn decide(&self, defence: Defence, user: &str, good: bool, limits: &Limits) -> Decision {
        let key = match defence {
            Defence::PerUserLockout { .. } | Defence::QuietLockout { .. } => user.to_string(),
            _ => "*".to_string(),
        };
        let Ok(mut counters) = self.counters.lock() else {
            return Decision::Unauthorized(Duration::ZERO);
        };
        if counters.len() >= MAX_TRACKED && !counters.contains_key(&key) {
            counters.clear();
        }
        let now = Instant::now();
        let entry = counters.entry(key).or_insert((0, None));
        if let Some(until) = entry.1 {
            if until > now {
                return match defence {
                    Defence::QuietLockout { .. } => Decision::Unauthorized(defence.flat_delay()),
                    _ => Decision::Locked((until - now).as_secs().max(1)),
                };
            }
            *entry = (0, None);
        }
        if good {
            *entry = (0, None);
            return Decision::Ok;
        }
        entry.0 = entry.0.saturating_add(1);
        match defence {
            Defence::Nothing | Defence::ConnectionDelay { .. } => {
                Decision::Unauthorized(Duration::ZERO)
            }
            Defence::GrowingDelay { step_ms } => Decision::Unauthorized(
                Duration::from_millis(step_ms.saturating_mul(u64::from(entry.0)))
                    .min(limits.max_login_delay),
            ),
            Defence::Lockout { after }
            | Defence::PerUserLockout { after }
            | Defence::QuietLockout { after, .. } => {
                if entry.0 >= after {
                    entry.1 = Some(now + limits.lockout_window);
                }
                Decision::Unauthorized(defence.flat_delay())
            }
        }
    }

    /// The wait a new connection's first login pays under [`Defence::ConnectionDelay`].
    fn connection_delay(&self, guarded: &Guarded, limits: &Limits) -> Duration {
        let Defence::ConnectionDelay { step_ms } = guarded.defence else {
            return Duration::ZERO;
        };
        let failures = self
            .counters
            .lock()
            .map_or(0, |c| c.get("*").map_or(0, |e| e.0));
        Duration::from_millis(step_ms.saturating_mul(u64::from(failures)))
            .min(limits.max_login_delay)
    }

    /// Waits `delay`, in turn with the device's other delayed answers when `defence` queues them
    /// (one at a time, like a single-threaded login daemon); gives up, returning false, when the
    /// client goes away, so abandoned connections do not hold up the queue.
    async fn wait<S: AsyncRead + Unpin>(
        &self,
        stream: &mut BufReader<S>,
        delay: Duration,
        defence: Defence,
    ) -> bool {
        if delay.is_zero() {
            return true;
        }
        let wait = async {
            let _turn = match defence.queues() {
                true => Some(self.gate.lock().await),
                false => None,
            };
            tokio::time::sleep(delay).await;
        };
        tokio::pin!(wait);
        tokio::select! {
            () = &mut wait => true,
            filled = stream.fill_buf() => match filled {
                // The client sent more (a pipelined request): it is still there.
                Ok(bytes) if !bytes.is_empty() => {
                    wait.await;
                    true
                }
                _ => false,
            },
        }
    }
}

/// Serves requests on one connection: up to [`MAX_REQUESTS`] while the client asks for
/// keep-alive, each head bounded in bytes and idle time.
pub(crate) async fn serve<S>(stream: S, guarded: &Guarded, state: &State, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    let mut logins = 0usize;
    for served in 1..=MAX_REQUESTS {
        let head = limits::next_head(&mut stream, limits).await;
        let Ok(Some(lines)) = head else {
            return;
        };
        let Some(request) = Request::parse(&lines) else {
            let reply = response(400, "Bad Request", "", "bad request\n", false);
            if stream.write_all(&reply).await.is_ok() {
                limits::close_gracefully(&mut stream).await;
            }
            return;
        };
        let keep = served < MAX_REQUESTS && keep_alive(&request);
        if request.header("Authorization").is_some() {
            logins += 1;
            if logins == 1
                && !state
                    .wait(
                        &mut stream,
                        state.connection_delay(guarded, limits),
                        guarded.defence,
                    )
                    .await
            {
                return;
            }
        }
        let (delay, reply) = respond(&request, guarded, state, limits, keep);
        if !state.wait(&mut stream, delay, guarded.defence).await
            || stream.write_all(&reply).await.is_err()
        {
            return;
        }
        if !keep {
            limits::close_gracefully(&mut stream).await;
            return;
        }
    }
}

/// Whether the client asks to keep the connection open (HTTP/1.1 unless `close`, HTTP/1.0
/// only with `keep-alive`).
fn keep_alive(request: &Request) -> bool {
    let connection = request
        .header("Connection")
        .unwrap_or("")
        .to_ascii_lowercase();
    if request.version == "HTTP/1.1" {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    }
}

/// The response, and how long to hold it back.
fn respond(
    request: &Request,
    guarded: &Guarded,
    state: &State,
    limits: &Limits,
    keep: bool,
) -> (Duration, Vec<u8>) {
    match request.path() {
        "/" | "/index.html" => {
            let body = format!(
                "<!DOCTYPE html><html><head><title>{} Admin</title></head><body><a href=\"/admin\">admin</a></body></html>\n",
                guarded.model
            );
            return (Duration::ZERO, response(200, "OK", "", &body, keep));
        }
        "/admin" | "/admin/" => {}
        _ => {
            return (
                Duration::ZERO,
                response(404, "Not Found", "", "not found\n", keep),
            )
        }
    }
    let challenge = format!("WWW-Authenticate: Basic realm=\"{}\"\r\n", guarded.model);
    let Some((user, password)) = request.header("Authorization").and_then(basic) else {
        let reply = response(
            401,
            "Unauthorized",
            &challenge,
            "authentication required\n",
            keep,
        );
        return (Duration::ZERO, reply);
    };
    let good = user == guarded.credential.user && password == guarded.credential.password;
    match state.decide(guarded.defence, &user, good, limits) {
        Decision::Ok => (
            Duration::ZERO,
            response(
                200,
                "OK",
                "",
                "<!DOCTYPE html><title>Settings</title>\n",
                keep,
            ),
        ),
        Decision::Unauthorized(delay) => (
            delay,
            response(
                401,
                "Unauthorized",
                &challenge,
                "wrong user name or password\n",
                keep,
            ),
        ),
        Decision::Locked(seconds) => (
            Duration::ZERO,
            response(
                403,
                "Forbidden",
                &format!("Retry-After: {seconds}\r\n"),
                "too many failed logins: locked\n",
                keep,
            ),
        ),
    }
}

/// Serves one request of an HTTPS admin site (the site's own pages and headers) whose Basic
/// login on the protected paths has `defence`, then closes the connection.
pub(crate) async fn serve_site_tls(
    stream: TcpStream,
    local: SocketAddr,
    acceptor: &TlsAcceptor,
    site: &Site,
    defence: Defence,
    state: &State,
    limits: &Limits,
) {
    let Ok(Ok(tls)) = tokio::time::timeout(limits.idle_timeout, acceptor.accept(stream)).await
    else {
        return;
    };
    let mut stream = BufReader::new(tls);
    let head = limits::next_head(&mut stream, limits).await;
    let Ok(Some(lines)) = head else {
        return;
    };
    let reply = match Request::parse(&lines) {
        None => http::response(site, 400, "Bad Request", &[], "bad request\n", false),
        Some(request) => {
            let login = site
                .protected
                .contains(&request.path())
                .then(|| request.header("Authorization").and_then(basic))
                .flatten();
            match login {
                None => http::respond(&request, local, site, None),
                Some((user, password)) => {
                    let good = site
                        .admin
                        .is_some_and(|a| a.user == user && a.password == password);
                    match state.decide(defence, &user, good, limits) {
                        Decision::Locked(seconds) => http::response(
                            site,
                            403,
                            "Forbidden",
                            &[("Retry-After", seconds.to_string())],
                            "too many failed logins: locked\n",
                            false,
                        ),
                        Decision::Unauthorized(delay) => {
                            if !state.wait(&mut stream, delay, defence).await {
                                return;
                            }
                            http::respond(&request, local, site, None)
                        }
                        Decision::Ok => http::respond(&request, local, site, None),
                    }
                }
            }
        }
    };
    if stream.write_all(&reply).await.is_ok() {
        limits::close_gracefully(&mut stream).await;
    }
}

/// The user name and password of a Basic `Authorization` value.
fn basic(value: &str) -> Option<(String, String)> {
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64_decode(token.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn base64_decode(input: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in input.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn response(status: u16, reason: &str, headers: &str, body: &str, keep: bool) -> Vec<u8> {
    let connection = if keep { "keep-alive" } else { "close" };
    format!(
        "HTTP/1.1 {status} {reason}\r\nServer: jcs-guard/1.0\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {connection}\r\n{headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode() {
        let token = data_encoding::BASE64.encode(b"admin:s3cret:x");
        assert_eq!(
            basic(&format!("Basic {token}")),
            Some(("admin".into(), "s3cret:x".into()))
        );
        assert_eq!(basic("Basic !!!"), None);
        assert_eq!(basic("Digest x"), None);
    }

    /// One Basic login to slow-login-hub on a fresh connection; returns the status line.
    async fn login(address: &str, password: &str) -> String {
        use tokio::io::AsyncReadExt;
        let token = data_encoding::BASE64.encode(format!("admin:{password}").as_bytes());
        let request = format!(
            "GET /admin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\nConnection: close\r\n\r\n"
        );
        let mut conn = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        conn.write_all(request.as_bytes()).await.expect("send");
        let mut reply = Vec::new();
        let read = conn.read_to_end(&mut reply);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("answered in time")
            .expect("read");
        let text = String::from_utf8_lossy(&reply).into_owned();
        text.lines().next().unwrap_or("").to_string()
    }

    #[tokio::test]
    async fn an_abandoned_delayed_login_does_not_hold_up_the_next() {
        let lab = crate::testing::start_lab(178).await;
        let address = "127.77.178.17:8080";
        // Four failures: the fifth wrong password waits 1.25 s, the sixth 1.5 s.
        for _ in 0..4 {
            assert!(login(address, "wrong").await.contains("401"));
        }
        let token = data_encoding::BASE64.encode(b"admin:wrong");
        let mut abandoned = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let request =
            format!("GET /admin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n");
        abandoned.write_all(request.as_bytes()).await.expect("send");
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(abandoned);
        let started = Instant::now();
        assert!(login(address, "wrong").await.contains("401"));
        let took = started.elapsed();
        // Its own 1.5 s only, not also the rest of the abandoned 1.25 s.
        assert!(took >= Duration::from_millis(1500), "{took:?}");
        assert!(took < Duration::from_millis(2500), "{took:?}");
        lab.shutdown().await;
    }
}
