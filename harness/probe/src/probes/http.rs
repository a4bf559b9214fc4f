//! A small HTTP/1.1 client with a byte cap and deadlines on every read, plus the HTTP access
//! probes. Hand-written rather than reqwest: the probes need the raw status and
//! `WWW-Authenticate` headers of hostile servers, a hard cap on what is read, and Digest.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::digest::{self, Challenge};
use super::io::{self, Bounds, ReadEnd};
use super::{ExchangeError, Exposure, LoginOutcome, Phase, Series};
use jcstar_model::Evidence;

/// A response head and the start of its body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status line, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The status code (0 when unreadable).
    pub status: u16,
    /// Header (name, value) pairs in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked), cut at the byte cap.
    pub body: Vec<u8>,
    /// The raw bytes received (bounded), for evidence.
    pub raw: Vec<u8>,
}

impl Response {
    /// Every value of the named header.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The authentication challenges offered (`WWW-Authenticate`).
    pub fn challenges(&self) -> Vec<Challenge> {
        digest::parse_challenges(&self.header_values("WWW-Authenticate"))
    }
}

/// Parses a response of protocol `proto` (`HTTP` or `RTSP`) from bounded raw bytes; the body
/// is de-chunked when the response was chunked.
pub fn parse_response(raw: &[u8], proto: &str) -> Option<Response> {
    let head = jcstar_wire::http::parse_head(raw, proto)?;
    Some(Response {
        body: jcstar_wire::http::body(raw, &head),
        status_line: head.status_line,
        status: head.status,
        headers: head.headers,
        raw: raw.to_vec(),
    })
}

/// Whether `raw` holds a complete HTTP response: the head plus `Content-Length` bytes of body, a
/// chunked body up to its last chunk, or only the head for statuses without a body (1xx, 204,
/// 304). A response with neither length nor chunking ends when the server closes.
pub fn response_complete(raw: &[u8]) -> bool {
    jcstar_wire::http::complete(raw, "HTTP")
}

/// Sends one request on a fresh connection and reads the response within the bounds.
pub async fn get(
    address: SocketAddr,
    tls: bool,
    path: &str,
    authorization: Option<&str>,
    bounds: &Bounds,
) -> Result<Response, ExchangeError> {
    let mut stream = io::open(address, tls, bounds)
        .await
        .map_err(|e| io::connect_error(&e))?;
    request_get(&mut stream, address, path, "close", authorization, bounds).await
}

/// One GET on `stream` with the given `Connection` header, its response read within the bounds.
async fn request_get<S>(
    stream: &mut S,
    address: SocketAddr,
    path: &str,
    connection: &str,
    authorization: Option<&str>,
    bounds: &Bounds,
) -> Result<Response, ExchangeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + ?Sized,
{
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: jcstar\r\nAccept: */*\r\nConnection: {connection}\r\n"
    );
    exchange(
        stream,
        head,
        authorization,
        "HTTP",
        bounds,
        response_complete,
    )
    .await
}

/// Sends a request `head` (request line and header lines, without the closing blank line) plus
/// an optional `Authorization` header, then reads one `proto` response (`HTTP` or `RTSP`) until
/// `complete` holds, within the bounds' byte cap and deadline.
pub async fn exchange<S, F>(
    stream: &mut S,
    mut head: String,
    authorization: Option<&str>,
    proto: &str,
    bounds: &Bounds,
    complete: F,
) -> Result<Response, ExchangeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + ?Sized,
    F: FnMut(&[u8]) -> bool,
{
    if let Some(value) = authorization {
        head.push_str(&format!("Authorization: {value}\r\n"));
    }
    head.push_str("\r\n");
    round_trip(stream, head.as_bytes(), proto, bounds, complete).await
}

/// Sends a complete `request` (head and body) and reads one `proto` response until `complete`
/// holds, within the bounds' byte cap and deadline.
pub async fn round_trip<S, F>(
    stream: &mut S,
    request: &[u8],
    proto: &str,
    bounds: &Bounds,
    complete: F,
) -> Result<Response, ExchangeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + ?Sized,
    F: FnMut(&[u8]) -> bool,
{
    let deadline = Instant::now() + bounds.read;
    io::send(stream, request, deadline)
        .await
        .map_err(|e| ExchangeError::from_io(&e, Phase::Answer))?;
    let mut raw = Vec::new();
    let end = io::read_until(stream, &mut raw, bounds.max_bytes, deadline, complete).await;
    match parse_response(&raw, proto) {
        Some(response) => Ok(response),
        // Nothing yet, or the start of a head that never completed: silence or a close.
        None if proto
            .as_bytes()
            .starts_with(&raw[..raw.len().min(proto.len())])
            && matches!(end, ReadEnd::Timeout | ReadEnd::Closed | ReadEnd::Failed) =>
        {
            Err(end.into_error(Phase::Answer, proto))
        }
        None => Err(ExchangeError::ProtocolError(format!(
            "not an {proto} response: {}",
            jcstar_model::escape_bytes(&raw[..raw.len().min(120)])
        ))),
    }
}

/// The `<title>` of a page, else its first `<h1>`, else nothing.
pub fn page_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    for tag in ["title", "h1"] {
        let open = format!("<{tag}");
        if let Some(start) = lower.find(&open) {
            let after = lower[start..].find('>').map(|i| start + i + 1)?;
            let end = lower[after..]
                .find(&format!("</{tag}"))
                .map(|i| after + i)
                .unwrap_or(lower.len().min(after + 200));
            let title: String = text
                .get(after..end)
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !title.is_empty() {
                return Some(jcstar_model::bounded(&title));
            }
        }
    }
    None
}

/// A path that demanded authentication, and how.
#[derive(Debug, Clone)]
pub struct ProtectedPath {
    /// The path.
    pub path: String,
    /// The challenges it offered, best first.
    pub challenges: Vec<Challenge>,
}

/// What the HTTP access probe saw on the profile's admin paths.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// Admin paths that answered 200 without credentials.
    pub open: Vec<Exposure>,
    /// Admin paths that demanded authentication (first one is the login surface).
    pub protected: Vec<ProtectedPath>,
    /// Paths that answered otherwise (404, redirect, a login form), with why.
    pub other: Vec<String>,
    /// Paths that got no decisive answer (no answer, or 429/503 even after waiting once):
    /// what they serve without credentials is unknown.
    pub undecided: Vec<Undecided>,
}

/// An admin path the survey could not decide.
#[derive(Debug, Clone)]
pub struct Undecided {
    /// The path and why, e.g. `/admin: HTTP/1.1 429 Too Many Requests twice`.
    pub why: String,
    /// Whether the server answered in HTTP (a 429 or 503), not with silence or garbage.
    pub spoke_http: bool,
}

/// Longest wait before asking a path again after a 429 or 503 (its `Retry-After`, when
/// shorter; [`BUSY_WAIT_DEFAULT`] without one).
const BUSY_WAIT_MAX: Duration = Duration::from_secs(10);

/// Wait before asking again after a 429 or 503 without `Retry-After`: one token of a
/// 30-requests-per-minute limit.
const BUSY_WAIT_DEFAULT: Duration = Duration::from_secs(2);

/// Whether `status` asks the client to come back later rather than answering the request.
fn busy(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// How long `response` (a 429 or 503) asks to wait: its `Retry-After` seconds, bounded.
fn busy_wait(response: &Response) -> Duration {
    response
        .header_values("Retry-After")
        .first()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(BUSY_WAIT_DEFAULT, Duration::from_secs)
        .min(BUSY_WAIT_MAX)
}

/// Most time one survey waits in all for a server that answers 429 or 503: a server that does
/// so on every path costs at most this, not [`BUSY_WAIT_MAX`] per path.
const SURVEY_PATIENCE: Duration = BUSY_WAIT_MAX;

/// GET `path`; after a 429 or 503, once more after the wait the server asks for, if that wait
/// fits in what is left of `patience` (which it spends). The flag says whether it asked twice.
async fn get_politely(
    address: SocketAddr,
    tls: bool,
    path: &str,
    bounds: &Bounds,
    patience: &mut Duration,
) -> Result<(Response, bool), ExchangeError> {
    let r = get(address, tls, path, None, bounds).await?;
    let wait = busy_wait(&r);
    if !busy(r.status) || wait > *patience {
        return Ok((r, false));
    }
    *patience -= wait;
    tokio::time::sleep(wait).await;
    Ok((get(address, tls, path, None, bounds).await?, true))
}

/// The server's 2xx answer to a random path, if it gives one: a page answering the same way
/// says nothing about that path (e.g. `openssl s_server -www` serves one page for all).
pub async fn catch_all(address: SocketAddr, tls: bool, bounds: &Bounds) -> Option<Response> {
    let control = format!("/jcstar-{}", io::nonce(6));
    match get(address, tls, &control, None, bounds).await {
        Ok(r) if (200..300).contains(&r.status) => Some(r),
        _ => None,
    }
}

/// Whether `page` is the server's catch-all answer again: the same title, both untitled
/// included. Titles, not bodies, are compared: bodies carry per-request tokens, timestamps and
/// session details (`s_server -www`), so equal bodies would call one page two.
pub fn same_page(catch_all: Option<&Response>, page: &Response) -> bool {
    // Digits are left out: a title carrying a per-request counter or token is still one page.
    let shape = |r: &Response| {
        page_title(&r.body).map(|t| {
            t.chars()
                .filter(|c| !c.is_ascii_digit())
                .collect::<String>()
        })
    };
    catch_all.is_some_and(|c| shape(c) == shape(page))
}

/// Whether `body` holds an HTML `<input>` of `kind` (`password`, `file`), however quoted.
pub fn has_input(body: &[u8], kind: &str) -> bool {
    let lower = String::from_utf8_lossy(body).to_ascii_lowercase();
    let compact: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    ["\"", "'", ""].iter().any(|q| {
        compact.contains(&format!("type={q}{kind}{q}"))
            || compact.contains(&format!("type = {q}{kind}{q}"))
    })
}

/// Whether a page is a login form (it asks for a password): what a protected web UI shows
/// before authentication, not content served without it.
pub fn is_login_form(body: &[u8]) -> bool {
    has_input(body, "password")
}

/// Requests each admin path without credentials.
pub async fn survey(address: SocketAddr, tls: bool, paths: &[String], bounds: &Bounds) -> Survey {
    let mut survey = Survey::default();
    // A server that answers 200 to a random path says nothing about its admin pages unless
    // they differ from that answer (e.g. `openssl s_server -www` serves one page for all).
    let catch_all = catch_all(address, tls, bounds).await;
    let mut patience = SURVEY_PATIENCE;
    for path in paths {
        match get_politely(address, tls, path, bounds, &mut patience).await {
            Ok((r, twice)) if busy(r.status) => survey.undecided.push(Undecided {
                why: match twice {
                    true => format!("{path}: {} twice", r.status_line),
                    false => format!(
                        "{path}: {}, not asked again: the server's wait is longer than what is left of this survey's {} s",
                        r.status_line,
                        SURVEY_PATIENCE.as_secs()
                    ),
                },
                spoke_http: true,
            }),
            Ok((r, _)) if r.status == 200 && same_page(catch_all.as_ref(), &r) => {
                survey
                    .other
                    .push(format!("{path}: 200, the same page as any random path"));
            }
            Ok((r, _)) if r.status == 200 && is_login_form(&r.body) => {
                // A form-login web UI: the page asks for a password, it serves nothing yet.
                survey.other.push(format!(
                    "{path}: 200, a login form (it asks for a password)"
                ));
            }
            Ok((r, _)) if r.status == 200 => {
                let title = page_title(&r.body).unwrap_or_else(|| "untitled page".into());
                survey.open.push(Exposure::Open {
                    what: format!("{path} ({title})"),
                    evidence: Evidence::exchange(
                        format!("GET {path} without credentials"),
                        format!("GET {path} HTTP/1.1").as_bytes(),
                        &r.raw[..r.raw.len().min(400)],
                    ),
                });
            }
            Ok((r, _)) if r.status == 401 => {
                let challenges = r.challenges();
                if challenges.is_empty() {
                    survey
                        .other
                        .push(format!("{path}: 401 with no Basic/Digest challenge"));
                } else {
                    survey.protected.push(ProtectedPath {
                        path: path.clone(),
                        challenges,
                    });
                }
            }
            Ok((r, _)) => survey.other.push(format!("{path}: {}", r.status_line)),
            Err(e) => survey.undecided.push(Undecided {
                why: format!("{path}: {e}"),
                spoke_http: false,
            }),
        }
    }
    survey
}

/// Answers the best of `challenges` with one credential through `request`, which sends the
/// resource's request with the given `Authorization` value (or none) and reads the response:
/// Basic as first seen; Digest with a fresh nonce, fetched first, since a nonce serves once.
/// `None` when there is no challenge to answer; otherwise the response to the credential and
/// the challenge answered, or, when the fetch brought a refusal (403, 429) instead of a fresh
/// challenge, that refusal. HTTP and RTSP logins and the brute-force check share it.
pub async fn answer_best<F, Fut>(
    challenges: &[Challenge],
    method: &str,
    uri: &str,
    credential: (&str, &str),
    mut request: F,
) -> Option<Result<(Response, Challenge), ExchangeError>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ExchangeError>>,
{
    let first = challenges.first()?;
    let challenge = match first {
        Challenge::Basic { .. } => first.clone(),
        Challenge::Digest { .. } => match request(None).await.map(fresh_digest_challenge) {
            Ok(Ok(fresh)) => fresh,
            Ok(Err(Ok(refusal))) => return Some(Ok((refusal, first.clone()))),
            Ok(Err(Err(e))) | Err(e) => return Some(Err(e)),
        },
    };
    let header = digest::authorization(&challenge, method, uri, credential, &io::nonce(8));
    Some(request(Some(header)).await.map(|r| (r, challenge)))
}

/// What a Digest login's request without credentials was answered (HTTP or RTSP): the fresh
/// challenge to answer; else the answer itself when it refuses (403, 429: that is the
/// attempt's answer); else a protocol error.
pub fn fresh_digest_challenge(r: Response) -> Result<Challenge, Result<Response, ExchangeError>> {
    match r.challenges().into_iter().next() {
        Some(fresh) => Ok(fresh),
        None if matches!(
            credential_answer(&r),
            CredentialAnswer::Forbidden | CredentialAnswer::RateLimited
        ) =>
        {
            Err(Ok(r))
        }
        None => Err(Err(ExchangeError::ProtocolError(format!(
            "no fresh Digest challenge: {}",
            jcstar_model::bounded(&r.status_line)
        )))),
    }
}

/// Tries one credential on a protected path, answering its best challenge.
pub async fn login(
    address: SocketAddr,
    tls: bool,
    protected: &ProtectedPath,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    let path = protected.path.as_str();
    let request = |authorization: Option<String>| async move {
        get(address, tls, path, authorization.as_deref(), bounds).await
    };
    match answer_best(
        &protected.challenges,
        "GET",
        path,
        (user, password),
        request,
    )
    .await
    {
        None => LoginOutcome::Unsupported("no Basic or Digest challenge".into()),
        Some(Ok((r, challenge))) => judge(&r, path, &challenge, user),
        Some(Err(e)) => e.into(),
    }
}

/// What a response to credentials on a protected path says, shared by the login probe and the
/// brute-force check so both read a status the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialAnswer {
    /// The credentials passed (a note says how, when it is not a plain 2xx).
    Accepted(&'static str),
    /// 401: refused.
    Rejected,
    /// 403: refused, or a lockout the server does not name.
    Forbidden,
    /// 429: a rate limit.
    RateLimited,
    /// 503: the service is unavailable, which may be a defence or a struggling device; not a
    /// rate limit by itself.
    Unavailable,
    /// Anything else: undecided.
    Other,
}

/// Reads the status of a response to credentials on a protected path.
pub fn credential_answer(r: &Response) -> CredentialAnswer {
    match r.status {
        200..=299 => CredentialAnswer::Accepted(""),
        // Basic/Digest failures answer 401; a redirect after credentials means they passed
        // (e.g. `/admin` to `/admin/`), unless it points at a login page.
        300..=399
            if !r
                .header_values("Location")
                .iter()
                .any(|l| l.to_ascii_lowercase().contains("login")) =>
        {
            CredentialAnswer::Accepted("")
        }
        // The path answered 401 without credentials; with them the server got past its
        // authentication and found no such resource. The access check's random control
        // credential catches servers that answer so to any credential.
        404 | 405 | 410 => CredentialAnswer::Accepted(" (authenticated; the resource is missing)"),
        401 => CredentialAnswer::Rejected,
        403 => CredentialAnswer::Forbidden,
        429 => CredentialAnswer::RateLimited,
        503 => CredentialAnswer::Unavailable,
        _ => CredentialAnswer::Other,
    }
}

fn judge(r: &Response, path: &str, challenge: &Challenge, user: &str) -> LoginOutcome {
    match credential_answer(r) {
        CredentialAnswer::Accepted(note) => LoginOutcome::Accepted(Evidence::exchange(
            format!(
                "GET {path} with {} auth as {user:?}{note}",
                challenge.scheme()
            ),
            format!(
                "GET {path} HTTP/1.1 (Authorization: {} …)",
                challenge.scheme()
            )
            .as_bytes(),
            r.status_line.as_bytes(),
        )),
        CredentialAnswer::RateLimited => LoginOutcome::RateLimited(Evidence::observed(
            format!("GET {path}: rate limit"),
            &r.status_line,
        )),
        CredentialAnswer::Rejected | CredentialAnswer::Forbidden => LoginOutcome::Rejected,
        CredentialAnswer::Unavailable | CredentialAnswer::Other => {
            ExchangeError::ProtocolError(jcstar_model::bounded(&r.status_line)).into()
        }
    }
}

/// Tries several passwords for `user` on ONE keep-alive connection to a protected path, for
/// the brute-force check's same-connection bypass test (Digest: each attempt first fetches a
/// fresh challenge on the same connection). Each entry is timed from the end of the previous
/// one (the first from the connect) to its response; every response has the read deadline and
/// byte cap. `more` sees each answer and says whether to go on; the series also ends at an
/// error, and with an error entry when the server does not keep the connection open (it
/// answered `Connection: close`, HTTP/1.0, or a body without `Content-Length`).
pub async fn login_series<P: AsRef<str>>(
    address: SocketAddr,
    tls: bool,
    protected: &ProtectedPath,
    user: &str,
    passwords: impl IntoIterator<Item = P>,
    bounds: &Bounds,
    mut more: impl FnMut(std::time::Duration, &Result<Response, ExchangeError>) -> bool,
) -> Vec<(std::time::Duration, Result<Response, ExchangeError>)> {
    let mut series = Series::start();
    let Some(first) = protected.challenges.first() else {
        return series.entries();
    };
    let mut stream = match io::open(address, tls, bounds).await {
        Ok(s) => s,
        Err(e) => return series.end(Err(io::connect_error(&e))),
    };
    let path = &protected.path;
    let mut open = true;
    for password in passwords {
        if !open {
            let closed = ExchangeError::Closed {
                phase: Phase::Greeting,
            };
            series.record(Err(closed), |t, r| {
                more(t, r);
                false
            });
            break;
        }
        let password = password.as_ref();
        let result = match fresh_challenge(&mut stream, address, first, path, bounds).await {
            Ok(challenge) => {
                let header =
                    digest::authorization(&challenge, "GET", path, (user, password), &io::nonce(8));
                kept_alive(&mut stream, address, path, Some(&header), bounds).await
            }
            Err(answer) => answer,
        };
        open = result.as_ref().is_ok_and(keeps_alive);
        if !series.record(result, |t, r| more(t, r) && r.is_ok()) {
            break;
        }
    }
    series.entries()
}

/// What an answer of [`login_series`] on `protected` says as a login outcome, judged as
/// [`login`] judges its answer.
pub fn series_outcome(
    answer: &Result<Response, ExchangeError>,
    protected: &ProtectedPath,
    user: &str,
) -> LoginOutcome {
    match (answer, protected.challenges.first()) {
        (Ok(r), Some(challenge)) => judge(r, &protected.path, challenge, user),
        (Ok(_), None) => LoginOutcome::Unsupported("no Basic or Digest challenge".into()),
        (Err(e), _) => e.clone().into(),
    }
}

/// The challenge to answer for the next attempt on a kept-alive connection: Basic as first
/// seen; Digest freshly fetched on the same connection. `Err` carries the outcome when the
/// fetch is itself the answer (a refusal such as 403 or 429, the server closing the connection,
/// or a failed request).
async fn fresh_challenge(
    stream: &mut io::BoxStream,
    address: SocketAddr,
    first: &Challenge,
    path: &str,
    bounds: &Bounds,
) -> Result<Challenge, Result<Response, ExchangeError>> {
    if let Challenge::Basic { .. } = first {
        return Ok(first.clone());
    }
    let response = kept_alive(stream, address, path, None, bounds)
        .await
        .map_err(Err)?;
    let open = keeps_alive(&response);
    let challenge = fresh_digest_challenge(response)?;
    if !open {
        return Err(Err(ExchangeError::Closed {
            phase: Phase::Greeting,
        }));
    }
    Ok(challenge)
}

/// One keep-alive request on an open connection, its response read within the bounds.
async fn kept_alive(
    stream: &mut io::BoxStream,
    address: SocketAddr,
    path: &str,
    authorization: Option<&str>,
    bounds: &Bounds,
) -> Result<Response, ExchangeError> {
    request_get(stream, address, path, "keep-alive", authorization, bounds).await
}

/// Whether a response leaves its connection open for the next request: read to its end (not
/// cut at the byte cap), with a length, and not closing.
fn keeps_alive(r: &Response) -> bool {
    if !response_complete(&r.raw) {
        return false;
    }
    let connection = r.header_values("Connection").join(",").to_ascii_lowercase();
    let has_length = r.header_values("Content-Length").len() == 1;
    has_length
        && !connection.contains("close")
        && (r.status_line.starts_with("HTTP/1.1") || connection.contains("keep-alive"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback HTTP server: the first `busy_first` requests get 429 (`Retry-After:
    /// retry_after`), the rest a Basic challenge; at most 64 connections, for the test's
    /// lifetime. The counter counts the requests served.
    async fn limited_server(busy_first: usize, retry_after: u64) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            for served in 0..64 {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf).await;
                count.fetch_add(1, Ordering::SeqCst);
                let reply = if served < busy_first {
                    format!("HTTP/1.1 429 Too Many Requests\r\nRetry-After: {retry_after}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                } else {
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cam\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
                };
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        (address, served)
    }

    fn bounds() -> Bounds {
        Bounds {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(2),
            max_bytes: 8192,
        }
    }

    /// A 429 is "not now", not an answer: the path is asked once more after Retry-After, and
    /// one still refused is undecided (never "nothing to protect").
    #[tokio::test]
    async fn a_rate_limited_admin_path_is_asked_again_then_undecided() {
        let paths = vec!["/admin".to_string()];
        // The catch-all probe and the first ask get 429; the second ask gets the challenge.
        let (address, _) = limited_server(2, 1).await;
        let answered = survey(address, false, &paths, &bounds()).await;
        assert_eq!(answered.protected.len(), 1, "{answered:?}");
        assert!(answered.undecided.is_empty(), "{answered:?}");

        let (address, _) = limited_server(usize::MAX, 1).await;
        let refused = survey(address, false, &paths, &bounds()).await;
        assert!(refused.protected.is_empty() && refused.open.is_empty());
        assert_eq!(refused.undecided.len(), 1, "{refused:?}");
        assert!(refused.undecided[0].spoke_http);
    }

    /// A server that answers 429 to every path costs one survey at most its patience (10 s),
    /// not one wait per path: once the wait it asks for no longer fits, paths are not asked
    /// again and say why.
    #[tokio::test]
    async fn waits_for_a_busy_server_are_bounded_per_survey() {
        let paths: Vec<String> = ["/admin", "/setup", "/config"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        let (address, served) = limited_server(usize::MAX, 6).await;
        let refused = survey(address, false, &paths, &bounds()).await;
        // The catch-all probe, /admin twice (6 s of the 10), then /setup and /config once.
        assert_eq!(served.load(Ordering::SeqCst), 5, "{refused:?}");
        let why: Vec<&str> = refused.undecided.iter().map(|u| u.why.as_str()).collect();
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why[0].ends_with("twice"), "{why:?}");
        assert!(
            why[1..].iter().all(|w| w.contains("not asked again")),
            "{why:?}"
        );
    }

    /// A chunked page is judged by its content, not by its framing.
    #[test]
    fn chunked_bodies_are_read_de_chunked() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n<title>\r\n9\r\nCam Admin\r\n8\r\n</title>\r\n0\r\n\r\n";
        assert!(response_complete(raw));
        let r = parse_response(raw, "HTTP").expect("parses");
        assert_eq!(r.body, b"<title>Cam Admin</title>");
        assert_eq!(page_title(&r.body).as_deref(), Some("Cam Admin"));
    }

    #[test]
    fn login_forms_and_file_inputs_are_recognised_however_quoted() {
        assert!(is_login_form(
            b"<form><input TYPE=\"Password\" name=p></form>"
        ));
        assert!(is_login_form(b"<input type=password name=p>"));
        assert!(is_login_form(b"<input type = 'password'>"));
        assert!(!is_login_form(b"<p>password policy</p><input type=text>"));
        assert!(has_input(b"<input type=\"file\" name=fw>", "file"));
        assert!(!has_input(b"\xff\xfe", "file"));
    }

    #[test]
    fn a_title_with_a_per_request_token_is_still_the_same_page() {
        let page = |title: &str| {
            let raw = format!("HTTP/1.1 200 OK\r\n\r\n<title>{title}</title>");
            parse_response(raw.as_bytes(), "HTTP").expect("parses")
        };
        let catch_all = page("Login 1733389201");
        assert!(same_page(Some(&catch_all), &page("Login 1733389202")));
        assert!(!same_page(Some(&catch_all), &page("Settings")));
        assert!(!same_page(None, &page("Login")));
    }

    #[test]
    fn titles_come_from_title_or_h1() {
        assert_eq!(
            page_title(b"<html><head><title>\n Cam  Admin </title>").as_deref(),
            Some("Cam Admin")
        );
        assert_eq!(
            page_title(b"<body><h1>LAB status</h1>").as_deref(),
            Some("LAB status")
        );
        assert_eq!(page_title(b"<title"), None);
        assert_eq!(page_title(b"\xff\xfe"), None);
    }

    #[test]
    fn a_missing_resource_behind_passed_authentication_is_a_login() {
        let basic = Challenge::Basic {
            realm: "cam".into(),
        };
        let verdict = |raw: &[u8]| {
            let r = parse_response(raw, "HTTP").expect("parses");
            judge(&r, "/admin", &basic, "admin")
        };
        assert!(matches!(
            verdict(b"HTTP/1.1 404 Not Found\r\n\r\n"),
            LoginOutcome::Accepted(_)
        ));
        assert!(matches!(
            verdict(b"HTTP/1.1 401 Unauthorized\r\n\r\n"),
            LoginOutcome::Rejected
        ));
        assert!(matches!(
            verdict(b"HTTP/1.1 403 Forbidden\r\n\r\n"),
            LoginOutcome::Rejected
        ));
        assert!(matches!(
            verdict(b"HTTP/1.1 500 Internal Server Error\r\n\r\n"),
            LoginOutcome::Undecided(ExchangeError::ProtocolError(_))
        ));
        assert!(matches!(
            verdict(b"HTTP/1.1 429 Too Many Requests\r\n\r\n"),
            LoginOutcome::RateLimited(_)
        ));
        // 503 is what an overloaded or crashing server says too: no verdict, not a defence.
        assert!(matches!(
            verdict(b"HTTP/1.1 503 Service Unavailable\r\n\r\n"),
            LoginOutcome::Undecided(_)
        ));
    }

    #[test]
    fn responses_parse_and_garbage_does_not() {
        let r = parse_response(
            b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\nbody",
            "HTTP",
        )
        .expect("parses");
        assert_eq!(r.status, 401);
        assert_eq!(r.challenges().len(), 1);
        assert!(parse_response(b"SSH-2.0-x\r\n\r\n", "HTTP").is_none());
        assert!(parse_response(b"HTTP/1.1", "HTTP").is_none());
        assert!(response_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        ));
        assert!(!response_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok"
        ));
    }

    #[test]
    fn chunked_and_bodiless_responses_complete_without_waiting_for_close() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n";
        assert!(!response_complete(chunked));
        assert!(response_complete(&[&chunked[..], b"0\r\n\r\n"].concat()));
        assert!(response_complete(b"HTTP/1.1 204 No Content\r\n\r\n"));
        assert!(response_complete(
            b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"
        ));
        // Neither length nor chunking: only the server closing ends it.
        assert!(!response_complete(b"HTTP/1.0 200 OK\r\n\r\nhello"));
        assert!(!response_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"
        ));
    }

    #[test]
    fn a_response_cut_at_the_byte_cap_does_not_keep_the_connection() {
        let cut = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\npartial",
            "HTTP",
        )
        .expect("parses");
        assert!(!keeps_alive(&cut));
        let whole = parse_response(b"HTTP/1.1 401 No\r\nContent-Length: 2\r\n\r\nno", "HTTP")
            .expect("parses");
        assert!(keeps_alive(&whole));
    }

    #[test]
    fn a_redirect_to_a_login_page_is_not_an_accepted_credential() {
        let login = parse_response(
            b"HTTP/1.1 302 Found\r\nLocation: /login.html\r\n\r\n",
            "HTTP",
        )
        .expect("parses");
        assert_eq!(credential_answer(&login), CredentialAnswer::Other);
        let inside = parse_response(b"HTTP/1.1 302 Found\r\nLocation: /admin/\r\n\r\n", "HTTP")
            .expect("parses");
        assert_eq!(credential_answer(&inside), CredentialAnswer::Accepted(""));
    }
}
