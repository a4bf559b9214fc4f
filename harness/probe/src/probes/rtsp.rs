//! RTSP: DESCRIBE without credentials (a 200 with an SDP means the stream is open to anyone),
//! then Basic/Digest logins on a stream that demanded them.

use std::net::SocketAddr;

use super::digest::Challenge;
use super::http::{exchange, Response};
use super::io::{self, Bounds};
use super::{ExchangeError, Exposure, LoginOutcome};
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
    let head = format!(
        "DESCRIBE {url} RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: jcstar\r\nAccept: application/sdp\r\n"
    );
    exchange(&mut stream, head, authorization, "RTSP", bounds, |b| {
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
        Some(Ok((r, challenge))) if r.status == 200 => LoginOutcome::Accepted(Evidence::exchange(
            format!(
                "DESCRIBE {url} with {} auth as {user:?}",
                challenge.scheme()
            ),
            format!("DESCRIBE {url} RTSP/1.0").as_bytes(),
            r.status_line.as_bytes(),
        )),
        Some(Ok((r, _))) if r.status == 401 || r.status == 403 => LoginOutcome::Rejected,
        Some(Ok((r, _))) if r.status == 429 => {
            LoginOutcome::RateLimited(Evidence::observed("RTSP rate limit", &r.status_line))
        }
        Some(Ok((r, _))) => {
            ExchangeError::ProtocolError(jcstar_model::bounded(&r.status_line)).into()
        }
        Some(Err(e)) => e.into(),
    }
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
