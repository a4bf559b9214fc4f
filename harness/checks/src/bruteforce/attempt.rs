//! One timed login attempt (connect to verdict) on a fresh connection, classified for the
//! brute-force check: refusals (lockout messages, HTTP 403/429/503, connections refused, reset
//! or dropped) are told apart from plain rejections.

use std::time::Duration;

use tokio::time::Instant;

use crate::access::surface::Surface;
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::{ftp, http, ssh, telnet, Login};
use jcstar_wire::digest::{self, Challenge};

/// How the device answered one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Logged in.
    Accepted,
    /// A plain "wrong password".
    Rejected,
    /// Refused: lockout or rate-limit signal, connection refused, reset or dropped.
    Refused(String),
    /// No answer within the deadline (a tarpit looks like this).
    TimedOut,
    /// The service takes no password login.
    Unsupported(String),
    /// Something else (garbage, unexpected status).
    Undecided(String),
}

impl Kind {
    /// A short phrase for summaries.
    pub fn describe(&self) -> String {
        match self {
            Kind::Accepted => "accepted".into(),
            Kind::Rejected => "rejected".into(),
            Kind::Refused(why) => format!("refused: {why}"),
            Kind::TimedOut => "not answered in time".into(),
            Kind::Unsupported(why) => format!("unsupported: {why}"),
            Kind::Undecided(why) => format!("undecided: {why}"),
        }
    }

    fn letter(&self) -> char {
        match self {
            Kind::Accepted => 'a',
            Kind::Rejected => 'r',
            Kind::Refused(_) => 'x',
            Kind::TimedOut => 't',
            Kind::Unsupported(_) => 'u',
            Kind::Undecided(_) => '?',
        }
    }
}

/// One timed attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Connect to verdict.
    pub elapsed: Duration,
    /// The answer.
    pub kind: Kind,
}

impl Attempt {
    /// `1234r`: milliseconds and the answer's letter.
    pub fn code(&self) -> String {
        format!("{}{}", self.elapsed.as_millis(), self.kind.letter())
    }
}

/// Words in a failure reason that mean the device refused the connection or dropped it.
const REFUSAL_WORDS: &[&str] = &[
    "refused",
    "reset",
    "closed",
    "connection lost",
    "disconnect",
    "broken pipe",
    "eof",
];

/// Classifies a probe's [`Login`].
pub fn classify(login: Login) -> Kind {
    match login {
        Login::Accepted(_) => Kind::Accepted,
        Login::Rejected => Kind::Rejected,
        Login::Locked(evidence) => Kind::Refused(format!(
            "{}: {}",
            evidence.label,
            evidence.received.unwrap_or_default()
        )),
        Login::Unsupported(why) => Kind::Unsupported(why),
        Login::Failed(why) => {
            let lower = why.to_ascii_lowercase();
            if lower.contains("timed out") || lower.contains("before the deadline") {
                Kind::TimedOut
            } else if REFUSAL_WORDS.iter().any(|w| lower.contains(w)) {
                Kind::Refused(why)
            } else {
                Kind::Undecided(why)
            }
        }
    }
}

/// One attempt on `surface`, timed end to end, under an overall deadline.
pub async fn run(surface: &Surface, user: &str, password: &str, bounds: &Bounds) -> Attempt {
    let start = Instant::now();
    // Every probe bounds its own connects and reads; this is the backstop.
    let deadline = bounds.connect + bounds.read * 3;
    let kind = match tokio::time::timeout(deadline, once(surface, user, password, bounds)).await {
        Ok(kind) => kind,
        Err(_) => Kind::TimedOut,
    };
    Attempt {
        elapsed: start.elapsed(),
        kind,
    }
}

async fn once(surface: &Surface, user: &str, password: &str, bounds: &Bounds) -> Kind {
    match surface {
        Surface::Http(address, tls, protected) => {
            http_attempt(*address, *tls, protected, user, password, bounds).await
        }
        _ => classify(surface.login(user, password, bounds).await),
    }
}

/// HTTP Basic/Digest with the status kept: 403, 429 and 503 are refusals here.
async fn http_attempt(
    address: std::net::SocketAddr,
    tls: bool,
    protected: &http::ProtectedPath,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> Kind {
    let Some(first) = protected.challenges.first() else {
        return Kind::Unsupported("no Basic or Digest challenge".into());
    };
    let challenge = match first {
        Challenge::Basic { .. } => first.clone(),
        Challenge::Digest { .. } => {
            match http::get(address, tls, &protected.path, None, bounds).await {
                Ok(r) => match r.challenges().into_iter().next() {
                    Some(c) => c,
                    None => return status_kind(&r),
                },
                Err(e) => return classify(Login::Failed(e)),
            }
        }
    };
    let header = digest::authorization(
        &challenge,
        "GET",
        &protected.path,
        (user, password),
        &jcstar_probe::probes::io::nonce(8),
    );
    match http::get(address, tls, &protected.path, Some(&header), bounds).await {
        Ok(r) => status_kind(&r),
        Err(e) => classify(Login::Failed(e)),
    }
}

/// Several passwords for `user` on ONE connection (SSH session, telnet prompt again, FTP
/// USER/PASS again, HTTP keep-alive), each timed from the previous answer (the first from the
/// connect). The series stops at the first answer after the first that is not a plain
/// rejection faster than `fast`: from there the defence holds within the connection too.
/// `None` when the surface offers no second attempt on a connection (RTSP, MQTT, VNC, SNMP).
pub async fn run_session(
    surface: &Surface,
    user: &str,
    passwords: &[String],
    fast: Duration,
    bounds: &Bounds,
) -> Option<Vec<Attempt>> {
    let mut answered = 0usize;
    let mut more = move |elapsed: Duration, rejected: bool| {
        answered += 1;
        rejected && (answered == 1 || elapsed < fast)
    };
    let timed = |series: Vec<(Duration, Login)>| {
        series
            .into_iter()
            .map(|(elapsed, login)| Attempt {
                elapsed,
                kind: classify(login),
            })
            .collect::<Vec<_>>()
    };
    let series = async {
        match surface {
            Surface::Ssh(a) => Some(timed(
                ssh::login_series(*a, user, passwords, bounds, |d, _| more(d, true)).await,
            )),
            Surface::Telnet(a) => Some(timed(
                telnet::login_series(*a, user, passwords, bounds, |d, _| more(d, true)).await,
            )),
            Surface::Ftp(a) => Some(timed(
                ftp::login_series(*a, user, passwords, bounds, |d, _| more(d, true)).await,
            )),
            Surface::Http(a, tls, protected) => {
                let series =
                    http::login_series(*a, *tls, protected, user, passwords, bounds, |d, r| {
                        more(d, matches!(r.as_ref().map(status_kind), Ok(Kind::Rejected)))
                    })
                    .await;
                Some(
                    series
                        .into_iter()
                        .map(|(elapsed, r)| Attempt {
                            elapsed,
                            kind: match r {
                                Ok(r) => status_kind(&r),
                                Err(e) => classify(Login::Failed(e)),
                            },
                        })
                        .collect(),
                )
            }
            Surface::Rtsp(..) | Surface::Mqtt(..) | Surface::Snmp(_) | Surface::Vnc(_) => None,
        }
    };
    // Every probe bounds its connect and reads; this is the backstop.
    let backstop = bounds.connect + bounds.read * (2 * passwords.len() as u32 + 2);
    let start = Instant::now();
    match tokio::time::timeout(backstop, series).await {
        Ok(series) => series,
        Err(_) => Some(vec![Attempt {
            elapsed: start.elapsed(),
            kind: Kind::TimedOut,
        }]),
    }
}

fn status_kind(r: &http::Response) -> Kind {
    use http::CredentialAnswer;
    match http::credential_answer(r) {
        CredentialAnswer::Accepted(_) => Kind::Accepted,
        CredentialAnswer::Rejected => Kind::Rejected,
        CredentialAnswer::Forbidden | CredentialAnswer::RateLimited => {
            let retry = r.header_values("Retry-After");
            let retry = retry
                .first()
                .map(|v| format!(" (Retry-After: {})", jcstar_model::bounded(v)))
                .unwrap_or_default();
            Kind::Refused(format!("HTTP {}{retry}", r.status))
        }
        CredentialAnswer::Other => Kind::Undecided(jcstar_model::bounded(&r.status_line)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_told_apart() {
        assert_eq!(
            classify(Login::Failed("cannot connect: Connection refused".into())),
            Kind::Refused("cannot connect: Connection refused".into())
        );
        assert_eq!(
            classify(Login::Failed("SSH attempt timed out".into())),
            Kind::TimedOut
        );
        assert!(matches!(
            classify(Login::Failed("garbage".into())),
            Kind::Undecided(_)
        ));
    }
}
