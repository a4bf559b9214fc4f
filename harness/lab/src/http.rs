//! A minimal HTTP/1.x admin page server: one request per connection, then close (a site
//! behind a keep-alive gate keeps it for a client that asks).

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::auth::Gate;
use super::limits::{self, Limits, ReadError};
use super::request::Request;
use super::Credential;

/// What a simulated admin web interface serves.
#[derive(Debug)]
pub(crate) struct Site {
    /// Page title of `/`.
    pub title: &'static str,
    /// Model name shown in pages and the Basic realm.
    pub model: &'static str,
    /// `Server` header value.
    pub server: &'static str,
    /// Paths that need Basic authentication.
    pub protected: &'static [&'static str],
    /// The credential that unlocks them; `None` means nothing does.
    pub admin: Option<Credential>,
    /// RTSP port linked from `/` as the live view, if any.
    pub live_view_port: Option<u16>,
    /// Headers added to every response.
    pub extra_headers: &'static [(&'static str, &'static str)],
    /// Further pages as (path, body): served openly, or after authentication when the path is
    /// also in `protected` (e.g. `/.well-known/security.txt`, a firmware-update form). A body
    /// starting with `<!DOCTYPE html>` is HTML, any other plain text.
    pub pages: &'static [(&'static str, &'static str)],
}

/// Serves one request on `stream` and closes it.
pub(crate) async fn serve<S>(stream: S, local: SocketAddr, site: &Site, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    serve_gated(stream, local, site, None, limits).await;
}

/// Requests a site behind a keep-alive gate answers on one connection whose client asks to
/// keep it alive; other sites answer one request per connection.
const MAX_KEPT_ALIVE: usize = 8;

/// Like [`serve`], with the protected paths behind `gate` (Basic or Digest) instead of the
/// site's Basic `admin` credential. Behind a keep-alive gate, a client that asks to keep the
/// connection alive gets up to [`MAX_KEPT_ALIVE`] responses on it.
pub(crate) async fn serve_gated<S>(
    stream: S,
    local: SocketAddr,
    site: &Site,
    gate: Option<&Gate>,
    limits: &Limits,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    let most = if gate.is_some_and(|g| g.keep_alive) {
        MAX_KEPT_ALIVE
    } else {
        1
    };
    for served in 1..=most {
        let head = limits::next_head(&mut stream, limits).await;
        let (response, wants_more) = match head {
            Ok(None) | Err(ReadError::Io(_)) => return,
            Err(ReadError::Idle) => (
                response(site, 408, "Request Timeout", &[], "", false),
                false,
            ),
            Err(ReadError::TooLong) => (
                response(
                    site,
                    431,
                    "Request Header Fields Too Large",
                    &[],
                    "request head too large\n",
                    false,
                ),
                false,
            ),
            Ok(Some(lines)) => match Request::parse(&lines) {
                Some(request) => (
                    respond(&request, local, site, gate),
                    asks_keep_alive(&request),
                ),
                None => (
                    response(site, 400, "Bad Request", &[], "bad request\n", false),
                    false,
                ),
            },
        };
        let keep = wants_more && served < most;
        let response = if keep { kept_alive(response) } else { response };
        if stream.write_all(&response).await.is_err() {
            return;
        }
        if !keep {
            break;
        }
    }
    limits::close_gracefully(&mut stream).await;
}

/// Whether the client wants the connection kept after this request: HTTP/1.1 unless it says
/// `close`, HTTP/1.0 only when it says `keep-alive`.
fn asks_keep_alive(request: &Request) -> bool {
    let connection = request
        .header("Connection")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if request.version == "HTTP/1.1" {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    }
}

/// `response` (as [`response`] makes it) saying the connection stays open.
fn kept_alive(response: Vec<u8>) -> Vec<u8> {
    const CLOSE: &[u8] = b"\r\nConnection: close\r\n";
    match response.windows(CLOSE.len()).position(|w| w == CLOSE) {
        Some(at) => [
            &response[..at],
            b"\r\nConnection: keep-alive\r\n",
            &response[at + CLOSE.len()..],
        ]
        .concat(),
        None => response,
    }
}

/// The response to a well-formed request.
pub(crate) fn respond(
    request: &Request,
    local: SocketAddr,
    site: &Site,
    gate: Option<&Gate>,
) -> Vec<u8> {
    if !request.version.starts_with("HTTP/") {
        return response(site, 400, "Bad Request", &[], "bad request\n", false);
    }
    if request.version != "HTTP/1.0" && request.version != "HTTP/1.1" {
        return response(site, 505, "HTTP Version Not Supported", &[], "", false);
    }
    let head_only = match request.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let allow = [("Allow", "GET, HEAD".to_owned())];
            return response(site, 405, "Method Not Allowed", &allow, "", false);
        }
    };
    let path = request.path();
    if site.protected.contains(&path) {
        let admitted = gate.map_or_else(|| authorized(request, site), |g| g.admits(request));
        if admitted {
            let body = page(site, path).map_or_else(|| config_page(site), str::to_owned);
            return response(site, 200, "OK", &[], &body, head_only);
        }
        let challenge = [(
            "WWW-Authenticate",
            gate.map_or_else(
                || format!("Basic realm=\"{}\"", site.model),
                Gate::challenge,
            ),
        )];
        return response(
            site,
            401,
            "Unauthorized",
            &challenge,
            "authentication required\n",
            head_only,
        );
    }
    match path {
        "/" | "/index.html" => response(site, 200, "OK", &[], &index_page(site, local), head_only),
        _ => match page(site, path) {
            Some(body) => response(site, 200, "OK", &[], body, head_only),
            None => response(site, 404, "Not Found", &[], "not found\n", head_only),
        },
    }
}

/// The body of one of the site's further pages.
fn page(site: &Site, path: &str) -> Option<&'static str> {
    site.pages
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, body)| *body)
}

/// Whether the request carries the site's admin credential as HTTP Basic authentication.
fn authorized(request: &Request, site: &Site) -> bool {
    let (Some(admin), Some(value)) = (site.admin, request.header("Authorization")) else {
        return false;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return false;
    };
    let expected =
        data_encoding::BASE64.encode(format!("{}:{}", admin.user, admin.password).as_bytes());
    scheme.eq_ignore_ascii_case("Basic") && token.trim() == expected
}

fn index_page(site: &Site, local: SocketAddr) -> String {
    let live_view = site.live_view_port.map_or(String::new(), |port| {
        format!(
            "<p><a href=\"rtsp://{}:{port}/live\">Live view</a></p>\n",
            local.ip()
        )
    });
    format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body>\n\
         <h1>{model}</h1>\n<p><a href=\"/admin\">Administration</a></p>\n{live_view}\
         </body></html>\n",
        title = site.title,
        model = site.model,
    )
}

fn config_page(site: &Site) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>{model} Configuration</title></head>\n<body>\n\
         <h1>{model} Configuration</h1>\n<form method=\"post\" action=\"/cgi-bin/config\">\n\
         <label>Telnet <input name=\"telnet\" value=\"on\"></label>\n\
         <label>Firmware update server <input name=\"update\" value=\"http://update.vendor.example\"></label>\n\
         </form>\n</body></html>\n",
        model = site.model,
    )
}

/// A complete response with `Content-Length` and `Connection: close`.
pub(crate) fn response(
    site: &Site,
    status: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: &str,
    head_only: bool,
) -> Vec<u8> {
    let content_type = if body.starts_with("<!DOCTYPE html>") {
        "text/html; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: {}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        site.server,
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    for (name, value) in site.extra_headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    if !head_only {
        out.push_str(body);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use crate::testing::{exchange, start_lab};

    #[tokio::test]
    async fn index_is_open_and_admin_needs_the_default_credential() {
        let lab = start_lab(101).await;
        let addr = "127.77.101.1:8080";

        let index = exchange(addr, b"GET / HTTP/1.0\r\n\r\n").await;
        assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
        assert!(index.contains("Server: jcs-httpd/1.0\r\n"));
        assert!(index.contains("<title>JCS-CAM-100 Admin</title>"));
        assert!(index.contains("href=\"/admin\""));
        assert!(index.contains("rtsp://127.77.101.1:8554/live"));

        for path in ["/admin", "/cgi-bin/config"] {
            let request = format!("GET {path} HTTP/1.1\r\nHost: cam\r\n\r\n");
            let denied = exchange(addr, request.as_bytes()).await;
            assert!(denied.starts_with("HTTP/1.1 401 "), "{denied}");
            assert!(denied.contains("WWW-Authenticate: Basic realm=\"JCS-CAM-100\"\r\n"));
        }

        let wrong = exchange(
            addr,
            b"GET /admin HTTP/1.1\r\nAuthorization: Basic YWRtaW46cGFzcw==\r\n\r\n",
        )
        .await;
        assert!(wrong.starts_with("HTTP/1.1 401 "), "{wrong}");

        let right = exchange(
            addr,
            b"GET /admin HTTP/1.1\r\nAuthorization: basic YWRtaW46YWRtaW4=\r\n\r\n",
        )
        .await;
        assert!(right.starts_with("HTTP/1.1 200 OK\r\n"), "{right}");
        assert!(right.contains("Configuration"));

        let missing = exchange(addr, b"GET /nope HTTP/1.1\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        lab.shutdown().await;
    }

    #[tokio::test]
    async fn garbage_and_oversized_heads_are_refused() {
        let _lab = start_lab(102).await;
        let addr = "127.77.102.1:8080";

        let garbage = exchange(addr, b"\x16\x03\x01garbage\r\n\r\n").await;
        assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");

        let rtsp = exchange(addr, b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n").await;
        assert!(rtsp.starts_with("HTTP/1.1 400 "), "{rtsp}");

        let post = exchange(addr, b"POST / HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");

        let huge = format!(
            "GET / HTTP/1.1\r\nX-Fill: {}\r\n\r\n",
            "a".repeat(64 * 1024)
        );
        let refused = exchange(addr, huge.as_bytes()).await;
        assert!(refused.starts_with("HTTP/1.1 431 "), "{refused}");
    }
}
