//! A minimal RTSP/1.0 server whose `DESCRIBE` hands out the stream description to anyone.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::auth::Gate;
use super::limits::{self, Limits, ReadError};
use super::request::Request;

/// What a simulated camera stream announces.
#[derive(Debug)]
pub(crate) struct Stream {
    /// Model name used in the SDP session name.
    pub model: &'static str,
    /// `Server` header value.
    pub server: &'static str,
    /// Path of the one stream, e.g. `/live`.
    pub path: &'static str,
}

const PUBLIC: &str = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN";

/// Serves RTSP requests on `stream` until the client closes, errs or idles.
pub(crate) async fn serve<S>(stream: S, local: SocketAddr, config: &Stream, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    serve_gated(stream, local, config, None, limits).await;
}

/// Like [`serve`], with `DESCRIBE` of the stream behind `gate` (Basic or Digest).
pub(crate) async fn serve_gated<S>(
    stream: S,
    local: SocketAddr,
    config: &Stream,
    gate: Option<&Gate>,
    limits: &Limits,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    loop {
        let head = limits::next_head(&mut stream, limits).await;
        let (response, keep_open) = match head {
            Ok(None) | Err(ReadError::Io(_)) | Err(ReadError::Idle) => return,
            Err(ReadError::TooLong) => (bad_request(config), false),
            Ok(Some(lines)) => match Request::parse(&lines) {
                Some(request) if request.version == "RTSP/1.0" => {
                    match body_length(&request, limits) {
                        Some(len) => {
                            let discarded = limits::within(
                                limits.idle_timeout,
                                limits::discard(&mut stream, len),
                            )
                            .await;
                            if discarded.is_err() {
                                return;
                            }
                            (respond(&request, local, config, gate), true)
                        }
                        None => (bad_request(config), false),
                    }
                }
                _ => (bad_request(config), false),
            },
        };
        if stream.write_all(&response).await.is_err() {
            return;
        }
        if !keep_open {
            limits::close_gracefully(&mut stream).await;
            return;
        }
    }
}

/// The declared body length if it is acceptable (absent counts as zero).
fn body_length(request: &Request, limits: &Limits) -> Option<u64> {
    match request.header("Content-Length") {
        None => Some(0),
        Some(value) => value
            .parse::<u64>()
            .ok()
            .filter(|&len| len <= limits.max_head as u64),
    }
}

fn respond(request: &Request, local: SocketAddr, config: &Stream, gate: Option<&Gate>) -> Vec<u8> {
    let cseq = match request.header("CSeq") {
        None => None,
        Some(value)
            if !value.is_empty()
                && value.len() <= 10
                && value.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(value)
        }
        Some(_) => return bad_request(config),
    };
    let path = request.path().trim_end_matches('/');
    match request.method.as_str() {
        "OPTIONS" => response(
            config,
            cseq,
            "200 OK",
            &[("Public", PUBLIC.to_owned())],
            None,
        ),
        "DESCRIBE" if path == config.path && gate.is_some_and(|g| !g.admits(request)) => {
            let challenge = gate.map(Gate::challenge).unwrap_or_default();
            response(
                config,
                cseq,
                "401 Unauthorized",
                &[("WWW-Authenticate", challenge)],
                None,
            )
        }
        "DESCRIBE" if path == config.path => {
            let base = format!("rtsp://{local}{}/", config.path);
            let headers = [
                ("Content-Base", base),
                ("Content-Type", "application/sdp".to_owned()),
            ];
            response(config, cseq, "200 OK", &headers, Some(&sdp(local, config)))
        }
        "DESCRIBE" => response(config, cseq, "404 Not Found", &[], None),
        "SETUP" => response(config, cseq, "461 Unsupported Transport", &[], None),
        "PLAY" | "PAUSE" | "TEARDOWN" | "GET_PARAMETER" => {
            response(config, cseq, "454 Session Not Found", &[], None)
        }
        _ => response(
            config,
            cseq,
            "405 Method Not Allowed",
            &[("Allow", PUBLIC.to_owned())],
            None,
        ),
    }
}

fn sdp(local: SocketAddr, config: &Stream) -> String {
    format!(
        "v=0\r\no=- 0 0 IN IP4 {ip}\r\ns={model} Live\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
         m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n",
        ip = local.ip(),
        model = config.model,
    )
}

fn bad_request(config: &Stream) -> Vec<u8> {
    response(config, None, "400 Bad Request", &[], None)
}

fn response(
    config: &Stream,
    cseq: Option<&str>,
    status: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
) -> Vec<u8> {
    let mut out = format!("RTSP/1.0 {status}\r\n");
    if let Some(cseq) = cseq {
        out.push_str(&format!("CSeq: {cseq}\r\n"));
    }
    out.push_str(&format!("Server: {}\r\n", config.server));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use crate::testing::{exchange, start_lab};

    #[tokio::test]
    async fn describe_needs_no_authentication() {
        let _lab = start_lab(103).await;
        let addr = "127.77.103.1:8554";

        let options = exchange(
            addr,
            b"OPTIONS rtsp://127.77.103.1:8554/live RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        )
        .await;
        assert!(
            options.starts_with("RTSP/1.0 200 OK\r\nCSeq: 1\r\n"),
            "{options}"
        );
        assert!(options.contains("Public: OPTIONS, DESCRIBE"));

        let both = exchange(
            addr,
            b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n\
              DESCRIBE rtsp://127.77.103.1:8554/live RTSP/1.0\r\nCSeq: 3\r\nAccept: application/sdp\r\n\r\n",
        )
        .await;
        let describe = &both[both.find("CSeq: 3").expect("second response")..];
        assert!(both.contains("RTSP/1.0 200 OK\r\nCSeq: 3\r\n"), "{both}");
        assert!(describe.contains("Content-Type: application/sdp\r\n"));
        assert!(describe.contains("s=JCS-CAM-100 Live"));

        let setup = exchange(
            addr,
            b"PLAY rtsp://127.77.103.1:8554/live RTSP/1.0\r\nCSeq: 4\r\n\r\n",
        )
        .await;
        assert!(setup.starts_with("RTSP/1.0 454 "), "{setup}");
        let record = exchange(
            addr,
            b"RECORD rtsp://127.77.103.1:8554/live RTSP/1.0\r\nCSeq: 5\r\n\r\n",
        )
        .await;
        assert!(record.starts_with("RTSP/1.0 405 "), "{record}");
    }

    #[tokio::test]
    async fn http_and_garbage_get_an_rtsp_400() {
        let _lab = start_lab(104).await;
        let addr = "127.77.104.1:8554";
        let http = exchange(addr, b"GET / HTTP/1.0\r\n\r\n").await;
        assert!(http.starts_with("RTSP/1.0 400 Bad Request\r\n"), "{http}");
        let garbage = exchange(addr, b"\x00\x01\x02 hello\r\n\r\n").await;
        assert!(
            garbage.starts_with("RTSP/1.0 400 Bad Request\r\n"),
            "{garbage}"
        );
    }
}
