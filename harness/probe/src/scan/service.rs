//! Banner grabbing and service identification on an open port.
//!
//! Every probe uses a fresh connection. The null probe only listens, for a few
//! round trips (servers that speak first do so at once); if the server has not
//! spoken, up to three payload probes follow, in an order hinted by the port
//! number. A server that speaks first but late still shows its greeting in the
//! reply to a payload probe. Classification looks only at the bytes that came
//! back, never at which probe was sent, and a read ends as soon as the bytes
//! are a complete greeting, not on a timer.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::connect::{self, ConnectFail};
use super::{ScanConfig, ServiceInfo, ServiceKind};

/// Longest banner string kept, in characters after escaping.
const BANNER_CHARS: usize = 256;

/// Once some bytes arrived, a read ends after this long without more.
const IDLE_GAP: Duration = Duration::from_millis(200);

/// Least time the null probe listens for a server that speaks first.
const SPEAK_FIRST_MIN: Duration = Duration::from_millis(250);

/// The null probe listens for this many connect times (at least [`SPEAK_FIRST_MIN`], at most
/// the banner timeout).
const SPEAK_FIRST_RTTS: u32 = 4;

/// One identification probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    Null,
    Http,
    Rtsp,
    Tls,
    Mqtt,
}

impl Probe {
    /// The name reported in [`ServiceInfo::probe`].
    pub(crate) fn name(self) -> &'static str {
        match self {
            Probe::Null => "null",
            Probe::Http => "http-get",
            Probe::Rtsp => "rtsp-options",
            Probe::Tls => "tls-client-hello",
            Probe::Mqtt => "mqtt-connect",
        }
    }

    fn payload(self) -> Vec<u8> {
        match self {
            Probe::Null => Vec::new(),
            Probe::Http => b"GET / HTTP/1.0\r\n\r\n".to_vec(),
            Probe::Rtsp => b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n".to_vec(),
            Probe::Tls => jcstar_wire::tls::hello::identification_hello(),
            Probe::Mqtt => mqtt_connect(),
        }
    }
}

/// Payload probes to try, after the null probe, for a silent server on `port`.
pub(crate) fn probe_order(port: u16) -> [Probe; 3] {
    match port {
        554 | 8554 | 10554 => [Probe::Rtsp, Probe::Http, Probe::Tls],
        1883 => [Probe::Mqtt, Probe::Http, Probe::Tls],
        8883 => [Probe::Tls, Probe::Mqtt, Probe::Http],
        443 | 465 | 563 | 636 | 853 | 989 | 990 | 992 | 993 | 994 | 995 | 4433 | 5061 | 5986
        | 6514 | 8443 | 9443 | 10443 => [Probe::Tls, Probe::Http, Probe::Mqtt],
        _ => [Probe::Http, Probe::Tls, Probe::Mqtt],
    }
}

/// Identifies the service on one open port: the null probe first (listening for
/// [`SPEAK_FIRST_RTTS`] connect times, at least [`SPEAK_FIRST_MIN`]), then up to
/// three payload probes (HTTP, RTSP, TLS, MQTT, ordered by port hint), each on
/// a fresh connection, each read capped at [`ScanConfig::banner_bytes`] and
/// [`ScanConfig::banner_timeout`]. `None` when the port no longer accepts
/// connections; `Some` with [`ServiceKind::Unknown`] when nothing answered
/// recognisably (the banner then holds whatever bytes came first).
/// Connections use [`ScanConfig::max_timeout`] as their deadline.
pub async fn identify_service(addr: SocketAddr, config: &ScanConfig) -> Option<ServiceInfo> {
    let first = run_probe(addr, Probe::Null, config).await?;
    if let Some(kind) = classify(&first) {
        return Some(info(kind, &first, Probe::Null));
    }
    let mut fallback = (!first.is_empty()).then_some((first, Probe::Null));
    for probe in probe_order(addr.port()) {
        let Some(reply) = run_probe(addr, probe, config).await else {
            continue;
        };
        if let Some(kind) = classify(&reply) {
            return Some(info(kind, &reply, probe));
        }
        if fallback.is_none() && !reply.is_empty() {
            fallback = Some((reply, probe));
        }
    }
    Some(match fallback {
        Some((bytes, probe)) => info(ServiceKind::Unknown, &bytes, probe),
        None => info(ServiceKind::Unknown, &[], Probe::Null),
    })
}

fn info(kind: ServiceKind, bytes: &[u8], probe: Probe) -> ServiceInfo {
    ServiceInfo {
        kind,
        banner: escape_banner(bytes),
        probe: probe.name().to_string(),
    }
}

/// Runs one probe on a fresh connection; `None` if the connection failed.
async fn run_probe(addr: SocketAddr, probe: Probe, config: &ScanConfig) -> Option<Vec<u8>> {
    crate::budget::budget().admit_held(addr).await;
    let started = Instant::now();
    let (mut stream, _) = match connect::connect(addr, config.max_timeout).await {
        Ok(ok) => ok,
        Err(ConnectFail::Timeout) => return None,
        Err(ConnectFail::Io(e)) => {
            tracing::debug!(%addr, probe = probe.name(), error = %e, "identification connect failed");
            return None;
        }
    };
    let payload = probe.payload();
    let listen = if payload.is_empty() {
        speak_first_window(started.elapsed(), config.banner_timeout)
    } else {
        // A server that closes at once may still have said something.
        let _ = stream.write_all(&payload).await;
        config.banner_timeout
    };
    Some(read_banner(&mut stream, config.banner_bytes, listen).await)
}

/// How long the null probe listens after a connect that took `connect_time`.
fn speak_first_window(connect_time: Duration, banner_timeout: Duration) -> Duration {
    (connect_time * SPEAK_FIRST_RTTS)
        .max(SPEAK_FIRST_MIN)
        .min(banner_timeout)
}

/// Reads until `cap` bytes, end of stream, a complete greeting, the deadline,
/// or a short silence after the first bytes.
async fn read_banner(stream: &mut TcpStream, cap: usize, deadline: Duration) -> Vec<u8> {
    let end = Instant::now() + deadline;
    let mut buf = vec![0u8; cap];
    let mut len = 0;
    while len < cap {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let mut wait = end - now;
        if len > 0 {
            wait = wait.min(IDLE_GAP);
        }
        match tokio::time::timeout(wait, stream.read(&mut buf[len..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => len += n,
        }
        if reply_complete(&buf[..len]) {
            break;
        }
    }
    buf.truncate(len);
    buf
}

/// Whether `reply` already holds a whole greeting of the service it shows, so the read need not
/// wait for more: an SSH version line, HTTP/RTSP headers, a TLS record, an MQTT CONNACK, a final
/// FTP 220 line. Telnet and unknown bytes are never complete (a prompt may follow).
fn reply_complete(reply: &[u8]) -> bool {
    match classify(reply) {
        Some(ServiceKind::Ssh | ServiceKind::Vnc) => reply.contains(&b'\n'),
        Some(ServiceKind::Http | ServiceKind::Rtsp) => reply.windows(4).any(|w| w == b"\r\n\r\n"),
        Some(ServiceKind::Tls) => match reply.get(3..5) {
            Some(&[hi, lo]) => reply.len() >= 5 + usize::from(u16::from_be_bytes([hi, lo])),
            _ => false,
        },
        Some(ServiceKind::Mqtt) => reply.len() >= 4,
        Some(ServiceKind::Ftp) => {
            let mut lines = reply.split(|&b| b == b'\n');
            // The part after the last newline is not a whole line.
            lines.next_back();
            lines.any(|line| {
                line.starts_with(b"220") && matches!(line.get(3), None | Some(b' ' | b'\r'))
            })
        }
        _ => false,
    }
}

/// The service a reply identifies, judged by its bytes alone.
pub(crate) fn classify(reply: &[u8]) -> Option<ServiceKind> {
    let two = |a: u8, b: u8| reply.len() >= 2 && reply[0] == a && reply[1] == b;
    if reply.starts_with(b"SSH-") {
        Some(ServiceKind::Ssh)
    } else if reply.starts_with(b"HTTP/") {
        Some(ServiceKind::Http)
    } else if reply.starts_with(b"RTSP/") {
        Some(ServiceKind::Rtsp)
    } else if reply.first() == Some(&0xFF) {
        Some(ServiceKind::Telnet)
    } else if two(0x16, 0x03) || two(0x15, 0x03) {
        Some(ServiceKind::Tls)
    } else if reply.starts_with(b"RFB ") {
        Some(ServiceKind::Vnc)
    } else if two(0x20, 0x02) {
        Some(ServiceKind::Mqtt)
    } else if reply.starts_with(b"220") && matches!(reply.get(3), None | Some(b' ' | b'-')) {
        Some(ServiceKind::Ftp)
    } else if contains_ignore_case(reply, b"login:") || contains_ignore_case(reply, b"password:") {
        Some(ServiceKind::Telnet)
    } else {
        None
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Printable ASCII kept, backslash doubled, every other byte as `\xNN`;
/// at most [`BANNER_CHARS`] characters.
pub(crate) fn escape_banner(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(BANNER_CHARS.min(bytes.len() * 4));
    for &b in bytes {
        let piece_len = match b {
            b'\\' => 2,
            0x20..=0x7e => 1,
            _ => 4,
        };
        if out.len() + piece_len > BANNER_CHARS {
            break;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\x");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

/// Non-cryptographic random bytes (std's per-process random hash keys):
/// enough for a throwaway MQTT client id.
fn random_bytes(out: &mut [u8]) {
    let state = std::collections::hash_map::RandomState::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        h.write_u128(nanos);
        let word = h.finish().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

/// An MQTT 3.1.1 CONNECT with a clean session and a random client id.
pub(crate) fn mqtt_connect() -> Vec<u8> {
    let mut id_bytes = [0u8; 4];
    random_bytes(&mut id_bytes);
    let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
    jcstar_wire::mqtt::connect_packet(
        jcstar_wire::mqtt::Version::V311,
        &format!("jcstar-{id}"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::Arc;
    use tokio::net::TcpListener;

    fn test_config() -> ScanConfig {
        ScanConfig {
            banner_timeout: Duration::from_millis(800),
            ..ScanConfig::default()
        }
    }

    /// A loopback server running `handler` on every connection.
    async fn serve<F, Fut>(handler: F) -> SocketAddr
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(handler);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handler(stream));
            }
        });
        addr
    }

    /// Sends `greeting` on connect, then stays open without reading.
    async fn speaker(greeting: &'static [u8]) -> SocketAddr {
        serve(move |mut s| async move {
            let _ = s.write_all(greeting).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        })
        .await
    }

    /// Stays silent until the client sends something, then answers `reply(request)`.
    async fn responder(reply: fn(&[u8]) -> Option<Vec<u8>>) -> SocketAddr {
        serve(move |mut s| async move {
            let mut buf = vec![0u8; 4096];
            let Ok(n) = s.read(&mut buf).await else {
                return;
            };
            if let Some(answer) = reply(&buf[..n]) {
                let _ = s.write_all(&answer).await;
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        })
        .await
    }

    async fn identify(addr: SocketAddr) -> ServiceInfo {
        identify_service(addr, &test_config())
            .await
            .expect("port is open")
    }

    #[tokio::test]
    async fn ssh_banner() {
        let info = identify(speaker(b"SSH-2.0-OpenSSH_9.6\r\n").await).await;
        assert_eq!(info.kind, ServiceKind::Ssh);
        assert_eq!(info.probe, "null");
        assert_eq!(info.banner, "SSH-2.0-OpenSSH_9.6\\x0d\\x0a");
    }

    /// A server that speaks first, but only after `delay`, on every connection.
    async fn late_speaker(delay: Duration, greeting: &'static [u8]) -> SocketAddr {
        serve(move |mut s| async move {
            tokio::time::sleep(delay).await;
            let _ = s.write_all(greeting).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        })
        .await
    }

    #[tokio::test]
    async fn a_late_greeting_is_still_identified() {
        // Later than the null probe's window on loopback, within the payload probe's read.
        let delay = SPEAK_FIRST_MIN + Duration::from_millis(150);
        let config = ScanConfig {
            banner_timeout: Duration::from_secs(5),
            ..ScanConfig::default()
        };
        let addr = late_speaker(delay, b"SSH-2.0-dropbear_2019.78\r\n").await;
        let info = identify_service(addr, &config).await.expect("open");
        assert_eq!(info.kind, ServiceKind::Ssh);
        assert_eq!(info.banner, "SSH-2.0-dropbear_2019.78\\x0d\\x0a");
    }

    #[test]
    fn the_null_probe_listens_a_few_round_trips() {
        let timeout = Duration::from_millis(1500);
        assert_eq!(speak_first_window(Duration::ZERO, timeout), SPEAK_FIRST_MIN);
        assert_eq!(
            speak_first_window(Duration::from_millis(200), timeout),
            Duration::from_millis(800)
        );
        assert_eq!(speak_first_window(Duration::from_secs(1), timeout), timeout);
    }

    #[test]
    fn complete_greetings_end_the_read() {
        let cases: &[(&[u8], bool)] = &[
            (b"SSH-2.0-OpenSSH_9.6\r\n", true),
            (b"SSH-2.0-OpenSSH_9.6", false),
            (b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n", true),
            (b"HTTP/1.0 200 OK\r\nServer: x\r\n", false),
            (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", true),
            (b"\x16\x03\x03\x00\x02\x02\x00", true),
            (b"\x16\x03\x03\x00\x7a\x02\x00", false),
            (b"\x15\x03\x01\x00\x02\x02\x28", true),
            (b"\x20\x02\x00\x00", true),
            (b"\x20\x02\x00", false),
            (b"220 (vsFTPd 3.0.3)\r\n", true),
            (b"220-Welcome\r\n", false),
            (b"220-Welcome\r\n220 ready\r\n", true),
            (b"220-Welcome\r\n220 rea", false),
            (b"\xff\xfd\x01login: ", false),
            (b"\x00\x01garbage\n", false),
            (b"RFB 003.008\n", true),
            (b"RFB 003.0", false),
            (b"", false),
        ];
        for (bytes, want) in cases {
            assert_eq!(reply_complete(bytes), *want, "{}", escape_banner(bytes));
        }
    }

    #[tokio::test]
    async fn telnet_with_option_negotiation() {
        let info = identify(speaker(b"\xff\xfd\x01\xff\xfb\x01login: ").await).await;
        assert_eq!(info.kind, ServiceKind::Telnet);
        assert_eq!(info.probe, "null");
        assert!(
            info.banner.starts_with("\\xff\\xfd\\x01"),
            "{}",
            info.banner
        );
    }

    #[tokio::test]
    async fn telnet_plain_prompt() {
        let info = identify(speaker(b"\r\nBusyBox on camera\r\nPassword: ").await).await;
        assert_eq!(info.kind, ServiceKind::Telnet);
    }

    #[tokio::test]
    async fn ftp_greeting() {
        let info = identify(speaker(b"220 (vsFTPd 3.0.3)\r\n").await).await;
        assert_eq!(info.kind, ServiceKind::Ftp);
        assert_eq!(info.probe, "null");
    }

    #[tokio::test]
    async fn http_server() {
        let addr = responder(|req| {
            req.starts_with(b"GET ")
                .then(|| b"HTTP/1.0 200 OK\r\nServer: lighttpd\r\n\r\nhello".to_vec())
        })
        .await;
        let info = identify(addr).await;
        assert_eq!(info.kind, ServiceKind::Http);
        assert_eq!(info.probe, "http-get");
        assert!(info.banner.contains("Server: lighttpd"));
    }

    fn rtsp_reply(req: &[u8]) -> Option<Vec<u8>> {
        Some(if req.starts_with(b"OPTIONS ") {
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n".to_vec()
        } else {
            b"RTSP/1.0 400 Bad Request\r\n\r\n".to_vec()
        })
    }

    #[tokio::test]
    async fn rtsp_answering_the_http_probe_is_rtsp() {
        let info = identify(responder(rtsp_reply).await).await;
        assert_eq!(info.kind, ServiceKind::Rtsp);
        assert_eq!(info.probe, "http-get");
        assert!(info.banner.starts_with("RTSP/1.0 400"));
    }

    #[tokio::test]
    async fn rtsp_options_probe() {
        // Only OPTIONS gets an answer; on an unhinted port that is not tried
        // first, so ask the probe directly.
        let addr = responder(|req| req.starts_with(b"OPTIONS ").then(|| rtsp_reply(req))?).await;
        let reply = run_probe(addr, Probe::Rtsp, &test_config()).await.unwrap();
        assert_eq!(classify(&reply), Some(ServiceKind::Rtsp));
        assert_eq!(probe_order(554)[0], Probe::Rtsp);
        assert_eq!(probe_order(8554)[0], Probe::Rtsp);
    }

    #[tokio::test]
    async fn mqtt_broker_stub() {
        let addr = responder(|req| {
            // CONNECT with protocol name MQTT: answer CONNACK accepted.
            (req.first() == Some(&0x10) && req.get(4..8) == Some(b"MQTT"))
                .then(|| vec![0x20, 0x02, 0x00, 0x00])
        })
        .await;
        let info = identify(addr).await;
        assert_eq!(info.kind, ServiceKind::Mqtt);
        assert_eq!(info.probe, "mqtt-connect");
        assert_eq!(info.banner, " \\x02\\x00\\x00");
    }

    #[tokio::test]
    async fn silent_server_is_unknown() {
        let addr = serve(|s| async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(s);
        })
        .await;
        let info = identify(addr).await;
        assert_eq!(info.kind, ServiceKind::Unknown);
        assert_eq!(info.banner, "");
        assert_eq!(info.probe, "null");
    }

    #[tokio::test]
    async fn megabyte_of_garbage_is_capped() {
        let addr = serve(|mut s| async move {
            let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 7 + 1) as u8).collect();
            for _ in 0..16 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        })
        .await;
        let config = test_config();
        let raw = run_probe(addr, Probe::Null, &config).await.unwrap();
        assert_eq!(raw.len(), config.banner_bytes);
        let info = identify(addr).await;
        assert_eq!(info.kind, ServiceKind::Unknown);
        assert_eq!(info.probe, "null");
        assert!(info.banner.len() <= BANNER_CHARS);
        assert!(info.banner.starts_with("\\x01\\x02\\x03"));
    }

    #[tokio::test]
    async fn closed_port_gives_none() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert_eq!(identify_service(addr, &test_config()).await, None);
    }

    fn tls_acceptor(
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> tokio_rustls::TlsAcceptor {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    async fn tls_server(versions: &[&'static rustls::SupportedProtocolVersion]) -> SocketAddr {
        let acceptor = tls_acceptor(versions);
        serve(move |s| {
            let acceptor = acceptor.clone();
            async move {
                let _ = acceptor.accept(s).await;
            }
        })
        .await
    }

    /// Sends our ClientHello and returns the first record's bytes.
    async fn hello_reply(addr: SocketAddr) -> Vec<u8> {
        run_probe(addr, Probe::Tls, &test_config()).await.unwrap()
    }

    #[tokio::test]
    async fn tls13_only_server_answers_server_hello() {
        let addr = tls_server(&[&rustls::version::TLS13]).await;
        let reply = hello_reply(addr).await;
        // handshake record, TLS 1.x, first message server_hello (2)
        assert_eq!(&reply[..2], &[0x16, 0x03], "{}", escape_banner(&reply));
        assert_eq!(reply.get(5), Some(&0x02));
        let info = identify(addr).await;
        assert_eq!(info.kind, ServiceKind::Tls);
    }

    #[tokio::test]
    async fn tls12_only_server_answers_server_hello() {
        let addr = tls_server(&[&rustls::version::TLS12]).await;
        let reply = hello_reply(addr).await;
        assert_eq!(&reply[..2], &[0x16, 0x03], "{}", escape_banner(&reply));
        assert_eq!(reply.get(5), Some(&0x02));
    }

    #[tokio::test]
    async fn tls_is_tried_first_on_tls_ports() {
        assert_eq!(probe_order(443)[0], Probe::Tls);
        assert_eq!(probe_order(8883)[0], Probe::Tls);
        assert_eq!(probe_order(1883)[0], Probe::Mqtt);
        assert_eq!(probe_order(8080)[0], Probe::Http);
    }

    #[test]
    fn classification_by_reply_bytes() {
        use ServiceKind::*;
        let cases: &[(&[u8], Option<ServiceKind>)] = &[
            (b"SSH-1.99-Cisco", Some(Ssh)),
            (b"HTTP/1.1 404 Not Found", Some(Http)),
            (b"RTSP/1.0 200 OK", Some(Rtsp)),
            (b"\xff\xfb\x01", Some(Telnet)),
            (b"\x16\x03\x03\x00\x7a\x02", Some(Tls)),
            (b"\x15\x03\x01\x00\x02\x02\x28", Some(Tls)),
            (b"\x20\x02\x00\x05", Some(Mqtt)),
            (b"220-FileZilla", Some(Ftp)),
            (b"220 ready", Some(Ftp)),
            (b"RFB 003.008\n", Some(Vnc)),
            (b"RFB003.008", None),
            (b"2200 things", None),
            (b"\r\nLOGIN: ", Some(Telnet)),
            (b"", None),
            (b"\x16", None),
            (b"\x00\x01garbage", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(classify(bytes), *want, "{}", escape_banner(bytes));
        }
    }

    #[test]
    fn banner_escaping_and_cap() {
        assert_eq!(
            escape_banner(b"ok \\ \x00\x7f\xff"),
            "ok \\\\ \\x00\\x7f\\xff"
        );
        assert_eq!(escape_banner(&[b'a'; 1000]).len(), BANNER_CHARS);
        let escaped = escape_banner(&[0u8; 1000]);
        assert_eq!(escaped.len(), BANNER_CHARS);
        assert!(escaped.ends_with("\\x00"));
    }

    #[test]
    fn mqtt_connect_is_well_formed() {
        let p = mqtt_connect();
        assert_eq!(p[0], 0x10);
        assert_eq!(usize::from(p[1]), p.len() - 2);
        assert_eq!(&p[2..8], b"\x00\x04MQTT");
        assert_eq!(p[8], 0x04);
        let id_len = usize::from(u16::from_be_bytes([p[12], p[13]]));
        assert_eq!(id_len, p.len() - 14);
        assert!(p[14..].starts_with(b"jcstar-"));
    }
}
