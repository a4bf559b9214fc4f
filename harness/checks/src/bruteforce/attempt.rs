//! One timed login attempt (connect to verdict) on a fresh connection, classified for the
//! brute-force check: refusals (lockout messages, HTTP 403/429/503, connections refused, reset
//! or dropped) are told apart from plain rejections.

use std::time::Duration;

use tokio::time::Instant;

use crate::access::surface::Surface;
use jcstar_probe::budget;
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::{ftp, http, rtsp, ssh, telnet, ExchangeError, LoginOutcome, Phase};

/// How the device answered one attempt. Only `Rejected` (when slow) and `Refused` are answers
/// that can prove a defence; silence and dropped connections never do on their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Logged in.
    Accepted,
    /// A plain "wrong password".
    Rejected,
    /// An explicit lockout or rate-limit answer (HTTP 429 or a 403 where 401 came before, FTP
    /// 421, a "locked" message, MQTT quota exceeded, RFB "too many"); the text says which.
    Refused(String),
    /// The device refused the TCP connection.
    ConnectionRefused,
    /// The device closed or reset the connection without a verdict.
    Dropped,
    /// No answer within the deadline (a tarpit, a crashed service and a connection-rate limit
    /// look alike); `connecting` when even the connection was not accepted in time.
    TimedOut {
        /// The connect (or TLS handshake) itself got no answer.
        connecting: bool,
    },
    /// The service takes no password login.
    Unsupported(String),
    /// Something else (garbage, an unexpected status such as HTTP 503).
    Undecided(String),
}

impl Kind {
    /// A short phrase for summaries.
    pub fn describe(&self) -> String {
        match self {
            Kind::Accepted => "accepted".into(),
            Kind::Rejected => "rejected".into(),
            Kind::Refused(why) => format!("refused: {why}"),
            Kind::ConnectionRefused => "connection refused".into(),
            Kind::Dropped => "connection closed without an answer".into(),
            Kind::TimedOut { connecting: true } => "connection not accepted in time".into(),
            Kind::TimedOut { connecting: false } => "not answered in time".into(),
            Kind::Unsupported(why) => format!("unsupported: {why}"),
            Kind::Undecided(why) => format!("undecided: {why}"),
        }
    }

    fn letter(&self) -> char {
        match self {
            Kind::Accepted => 'a',
            Kind::Rejected => 'r',
            Kind::Refused(_) => 'x',
            Kind::ConnectionRefused => 'c',
            Kind::Dropped => 'd',
            Kind::TimedOut { .. } => 't',
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

/// Classifies a probe's [`LoginOutcome`] by its type, never by the text it carries.
pub fn classify(login: LoginOutcome) -> Kind {
    match login {
        LoginOutcome::Accepted(_) => Kind::Accepted,
        LoginOutcome::Rejected => Kind::Rejected,
        LoginOutcome::RateLimited(evidence) | LoginOutcome::LockedOut(evidence) => {
            Kind::Refused(format!(
                "{}: {}",
                evidence.label,
                evidence.received.unwrap_or_default()
            ))
        }
        LoginOutcome::Unsupported(why) => Kind::Unsupported(why),
        LoginOutcome::Undecided(error) => from_error(error),
    }
}

/// What an exchange that gave no verdict means for the series.
fn from_error(error: ExchangeError) -> Kind {
    match error {
        ExchangeError::NoAnswer { phase } => Kind::TimedOut {
            connecting: phase == Phase::Connect,
        },
        ExchangeError::Refused => Kind::ConnectionRefused,
        ExchangeError::Closed { .. } => Kind::Dropped,
        ExchangeError::ProtocolError(why) => Kind::Undecided(why),
    }
}

/// One attempt on `surface`, timed end to end under an overall deadline. Time spent waiting
/// for jcstar's own connection budget is neither timed nor held against the deadline: only the
/// device's time is.
pub async fn run(surface: &Surface, user: &str, password: &str, bounds: &Bounds) -> Attempt {
    let start = Instant::now();
    // Every probe bounds its own connects and reads; this is the backstop.
    let deadline = bounds.connect + bounds.read * 3;
    let attempt = budget::timeout(deadline, once(surface, user, password, bounds));
    let (kind, waited) = budget::track(attempt).await;
    let kind = kind.unwrap_or(Kind::TimedOut { connecting: false });
    Attempt {
        elapsed: start.elapsed().saturating_sub(waited),
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

/// HTTP Basic/Digest with the status kept: 403 and 429 are refusals here (503 is not: a
/// struggling server answers it too).
async fn http_attempt(
    address: std::net::SocketAddr,
    tls: bool,
    protected: &http::ProtectedPath,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> Kind {
    let path = protected.path.as_str();
    let request = |authorization: Option<String>| async move {
        http::get(address, tls, path, authorization.as_deref(), bounds).await
    };
    match http::answer_best(
        &protected.challenges,
        "GET",
        path,
        (user, password),
        request,
    )
    .await
    {
        None => Kind::Unsupported("no Basic or Digest challenge".into()),
        Some(Ok((r, _))) => status_kind(&r),
        Some(Err(e)) => from_error(e),
    }
}

/// Several passwords for `user` on ONE connection (SSH session, telnet prompt again, FTP USER/PASS
/// again, HTTP keep-alive, RTSP DESCRIBE again), each timed from the previous answer (the first
/// from the connect). The series stops at the first answer after the first that is not a plain
/// rejection faster than `fast`: from there the defence holds within the connection too. `None`
/// when the surface offers no second attempt on a connection (MQTT, VNC, SNMP).
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
    let timed = |series: Vec<(Duration, LoginOutcome)>| {
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
                                Err(e) => from_error(e),
                            },
                        })
                        .collect(),
                )
            }
            Surface::Rtsp(a, stream) => Some(timed(
                rtsp::login_series(*a, stream, user, passwords, bounds, |d, _| more(d, true)).await,
            )),
            Surface::Mqtt(..) | Surface::Snmp(_) | Surface::Vnc(_) => None,
        }
    };
    // Every probe bounds its connect and reads; this is the backstop.
    let backstop = bounds.connect + bounds.read * (2 * passwords.len() as u32 + 2);
    let start = Instant::now();
    let (series, waited) = budget::track(budget::timeout(backstop, series)).await;
    match series {
        Ok(series) => series,
        Err(_) => Some(vec![Attempt {
            elapsed: start.elapsed().saturating_sub(waited),
            kind: Kind::TimedOut { connecting: false },
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
        CredentialAnswer::Unavailable | CredentialAnswer::Other => {
            Kind::Undecided(jcstar_model::bounded(&r.status_line))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_classified_by_type() {
        let closed = ExchangeError::Closed {
            phase: Phase::Answer,
        };
        assert_eq!(classify(closed.into()), Kind::Dropped);
        assert_eq!(
            classify(ExchangeError::Refused.into()),
            Kind::ConnectionRefused
        );
        let connect = ExchangeError::NoAnswer {
            phase: Phase::Connect,
        };
        assert_eq!(
            classify(connect.into()),
            Kind::TimedOut { connecting: true }
        );
        // Device bytes that look like our old keywords decide nothing.
        let garbage = ExchangeError::ProtocolError("connection refused, timed out".into());
        assert!(matches!(classify(garbage.into()), Kind::Undecided(_)));
        let locked = jcstar_model::Evidence::observed("telnet said \"locked\"", "locked");
        assert!(matches!(
            classify(LoginOutcome::LockedOut(locked)),
            Kind::Refused(_)
        ));
    }
}
