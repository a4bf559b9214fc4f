//! RTSP: DESCRIBE without credentials (a 200 with an SDP means the stream is open to anyone),
//! then Basic/Digest logins on a stream that demanded them.

use std::net::SocketAddr;

use super::digest::{self, Challenge};
use super::http::{exchange, fresh_digest_challenge, Response};
use super::io::{self, Bounds};
use super::{ExchangeError, Exposure, LoginOutcome, Phase, Series};
use crate::budget::Connection;
use jcstar_model::Evidence;

/// Sends DESCRIBE for `url` on a fresh connection.
pub async fn describe(
    address: SocketAddr,
    url: &str,
    authorization: Option<&str>,
    bounds: &Bounds,
) -> Result<Response, ExchangeError> {
    let mut stream = io::connect(address, bounds)
        .await
        .map_err(|e| io::connect_error(&e))?;
    describe_on(&mut stream, 2, url, authorization, bounds).await
}

/// Sends DESCRIBE for `url` with sequence number `cseq` on an open connection.
async fn describe_on(
    stream: &mut Connection,
    cseq: u32,
    url: &str,
    authorization: Option<&str>,
    bounds: &Bounds,
) -> Result<Response, ExchangeError> {
    let head = format!(
        "DESCRIBE {url} RTSP/1.0\r\nCSeq: {cseq}\r\nUser-Agent: jcstar\r\nAccept: application/sdp\r\n"
    );
    exchange(stream, head, authorization, "RTSP", bounds, |b| {
        jcstar_wire::http::complete(b, "RTSP")
    })
    .await
}

/// The stream URL for `path` on `address`.
pub fn url(address: SocketAddr, path: &str) -> String {
    format!("rtsp://{address}{path}")
}

/// The SDP session name (`s=`), if the body has one.
pub fn sdp_title(body: &[u8]) -> Option<String> {
    String::from_utf8_lossy(body)
        .lines()
        .find_map(|l| l.strip_prefix("s="))
        .map(|s| jcstar_model::bounded(s.trim()))
}

/// A stream that demanded authentication.
#[derive(Debug, Clone)]
pub struct ProtectedStream {
    /// Its URL.
    pub url: String,
    /// The challenges offered, best first.
    pub challenges: Vec<Challenge>,
}

/// DESCRIBEs each path; returns the exposure and, if one demanded it, the protected stream.
pub async fn survey(
    address: SocketAddr,
    paths: &[String],
    bounds: &Bounds,
) -> (Exposure, Option<ProtectedStream>) {
    let mut protected = None;
    let mut notes = Vec::new();
    for path in paths {
        let url = url(address, path);
        match describe(address, &url, None, bounds).await {
            Ok(r) if r.status == 200 && io::contains_ci(&r.body, "v=0") => {
                let title = sdp_title(&r.body).unwrap_or_else(|| "untitled".into());
                return (
                    Exposure::Open {
                        what: format!("stream {url} (SDP session \"{title}\")"),
                        evidence: Evidence::exchange(
                            format!("DESCRIBE {url} without credentials"),
                            format!("DESCRIBE {url} RTSP/1.0").as_bytes(),
                            &r.raw[..r.raw.len().min(400)],
                        ),
                    },
                    protected,
                );
            }
            Ok(r) if r.status == 401 => {
                let challenges = r.challenges();
                if protected.is_none() && !challenges.is_empty() {
                    protected = Some(ProtectedStream { url, challenges });
                }
                notes.push(format!("{path}: 401"));
            }
            Ok(r) => notes.push(format!("{path}: {}", r.status_line)),
            Err(e) => notes.push(format!("{path}: {e}")),
        }
    }
    let exposure = if protected.is_some() {
        Exposure::Protected {
            what: format!("DESCRIBE demands authentication ({})", notes.join(", ")),
        }
    } else {
        Exposure::Unknown(format!("no stream found: {}", notes.join(", ")))
    };
    (exposure, protected)
}

/// Tries one credential on the protected stream.
pub async fn login(
    address: SocketAddr,
    stream: &ProtectedStream,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    let url = stream.url.as_str();
    let request = |authorization: Option<String>| async move {
        describe(address, url, authorization.as_deref(), bounds).await
    };
    let answered = super::http::answer_best(
        &stream.challenges,
        "DESCRIBE",
        url,
        (user, password),
        request,
    )
    .await;
    match answered {
        None => LoginOutcome::Unsupported("no Basic or Digest challenge".into()),
        Some(Ok((r, challenge))) => judge(&r, url, &challenge, user),
        Some(Err(e)) => e.into(),
    }
}

/// What a response to credentials on the stream says.
fn judge(r: &Response, url: &str, challenge: &Challenge, user: &str) -> LoginOutcome {
    match r.status {
        200 => LoginOutcome::Accepted(Evidence::exchange(
            format!(
                "DESCRIBE {url} with {} auth as {user:?}",
                challenge.scheme()
            ),
            format!("DESCRIBE {url} RTSP/1.0").as_bytes(),
            r.status_line.as_bytes(),
        )),
        401 | 403 => LoginOutcome::Rejected,
        429 => LoginOutcome::RateLimited(Evidence::observed("RTSP rate limit", &r.status_line)),
        _ => ExchangeError::ProtocolError(jcstar_model::bounded(&r.status_line)).into(),
    }
}

/// Tries several passwords for `user` on ONE connection (RTSP connections persist: DESCRIBE
/// again with the next CSeq; a Digest attempt first DESCRIBEs without credentials there for a
/// fresh challenge), for default-credential guessing. Each entry is timed from the end of the
/// previous one (the first from the connect); every response has the read deadline and byte
/// cap. `more` sees each answer and says whether to go on; the series also ends at the first
/// answer that is not a rejection, and with a `Closed` entry (phase `Greeting` when no
/// credential was sent on it) once the server says or shows it closes the connection.
pub async fn login_series<P: AsRef<str>>(
    address: SocketAddr,
    stream: &ProtectedStream,
    user: &str,
    passwords: impl IntoIterator<Item = P>,
    bounds: &Bounds,
    mut more: impl FnMut(std::time::Duration, &LoginOutcome) -> bool,
) -> Vec<(std::time::Duration, LoginOutcome)> {
    let mut series = Series::start();
    let Some(first) = stream.challenges.first() else {
        return series.end(LoginOutcome::Unsupported(
            "no Basic or Digest challenge".into(),
        ));
    };
    let mut connection = match io::connect(address, bounds).await {
        Ok(c) => c,
        Err(e) => return series.end(io::connect_error(&e).into()),
    };
    let url = stream.url.as_str();
    let mut cseq = 1u32;
    let mut open = true;
    for password in passwords {
        let outcome = if open {
            let credential = (user, password.as_ref());
            let (outcome, still_open) =
                attempt_on(&mut connection, &mut cseq, url, first, credential, bounds).await;
            open = still_open;
            outcome
        } else {
            ExchangeError::Closed {
                phase: Phase::Greeting,
            }
            .into()
        };
        if !series.record(outcome, |t, l| {
            more(t, l) && matches!(l, LoginOutcome::Rejected)
        }) {
            break;
        }
    }
    series.entries()
}

/// One login on an open connection (a Digest challenge fetched there first), and whether the
/// connection stays open after it.
async fn attempt_on(
    connection: &mut Connection,
    cseq: &mut u32,
    url: &str,
    first: &Challenge,
    (user, password): (&str, &str),
    bounds: &Bounds,
) -> (LoginOutcome, bool) {
    let challenge = match first {
        Challenge::Basic { .. } => first.clone(),
        Challenge::Digest { .. } => {
            *cseq += 1;
            let r = match describe_on(connection, *cseq, url, None, bounds).await {
                Ok(r) => r,
                Err(e) => return (e.into(), false),
            };
            let open = !closes(&r);
            match fresh_digest_challenge(r) {
                Ok(_) if !open => {
                    let closed = ExchangeError::Closed {
                        phase: Phase::Greeting,
                    };
                    return (closed.into(), false);
                }
                Ok(fresh) => fresh,
                Err(Ok(refusal)) => return (judge(&refusal, url, first, user), open),
                Err(Err(e)) => return (e.into(), false),
            }
        }
    };
    let header =
        digest::authorization(&challenge, "DESCRIBE", url, (user, password), &io::nonce(8));
    *cseq += 1;
    match describe_on(connection, *cseq, url, Some(&header), bounds).await {
        Ok(r) => (judge(&r, url, &challenge, user), !closes(&r)),
        Err(e) => (e.into(), false),
    }
}

/// Whether the server ends the connection after `r`: it says `Connection: close`, or the
/// response was cut at the byte cap.
fn closes(r: &Response) -> bool {
    !jcstar_wire::http::complete(&r.raw, "RTSP")
        || r.header_values("Connection")
            .iter()
            .any(|v| v.to_ascii_lowercase().contains("close"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdp_title_is_the_session_name() {
        assert_eq!(
            sdp_title(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=Live  cam\r\n").as_deref(),
            Some("Live  cam")
        );
        assert_eq!(sdp_title(b"\xff"), None);
    }
}
