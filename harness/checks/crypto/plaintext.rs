//! Plaintext channels that carry credentials: telnet and FTP (from the scan), HTTP logins on
//! plain HTTP without a redirect to HTTPS, MQTT taking a username/password, RTSP with Basic
//! authentication, SNMP v1/v2c. Small bounded probes of its own; no credential is guessed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::model::{Evidence, Finding};
use crate::profile::{Rating, TlsPolicy};
use crate::scan::{HostScan, PortState, ServiceKind};

use super::policy::{verdict, S1_1_12};

/// Deadline of every plaintext probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Most bytes read from one reply.
const REPLY_MAX: usize = 16 * 1024;
/// HTTP paths where a login usually sits.
const HTTP_PATHS: &[&str] = &["/", "/admin", "/admin/", "/login", "/login.html"];
/// RTSP paths cameras commonly serve.
const RTSP_PATHS: &[&str] = &["/", "/live", "/stream1", "/h264"];

/// Sends `bytes` and reads until `complete` says the reply is whole, the peer closes, the
/// byte cap or the deadline; returns what arrived (`None` if nothing did).
async fn request(addr: SocketAddr, bytes: &[u8], complete: fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + PROBE_TIMEOUT;
    let mut stream = tokio::time::timeout_at(deadline, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    tokio::time::timeout_at(deadline, stream.write_all(bytes))
        .await
        .ok()?
        .ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while reply.len() < REPLY_MAX && !complete(&reply) {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => reply.extend_from_slice(&buf[..n.min(REPLY_MAX - reply.len())]),
            _ => break,
        }
    }
    (!reply.is_empty()).then_some(reply)
}

fn until_close(_: &[u8]) -> bool {
    false
}

fn header_complete(reply: &[u8]) -> bool {
    reply.windows(4).any(|w| w == b"\r\n\r\n")
}

fn connack_complete(reply: &[u8]) -> bool {
    reply.len() >= 4
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn status(head: &str) -> u16 {
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// An HTTP login on plain HTTP: the path and what gave it away.
async fn http_login(addr: SocketAddr) -> Option<(String, String)> {
    for path in HTTP_PATHS {
        let sent = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: jcstar\r\nConnection: close\r\n\r\n",
            addr.ip()
        );
        let Some(reply) = request(addr, sent.as_bytes(), until_close).await else {
            continue;
        };
        let text = String::from_utf8_lossy(&reply);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let code = status(head);
        if (300..400).contains(&code)
            && header(head, "location")
                .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"))
        {
            if *path == "/" {
                return None;
            }
            continue;
        }
        if code == 401 {
            if let Some(challenge) = header(head, "www-authenticate") {
                return Some((
                    path.to_string(),
                    format!("401 challenge: {}", crate::model::bounded(challenge)),
                ));
            }
        }
        let lower = body.to_ascii_lowercase();
        if code == 200
            && (lower.contains("type=\"password\"")
                || lower.contains("type=password")
                || lower.contains("type='password'"))
        {
            return Some((path.to_string(), "a form with a password field".to_string()));
        }
    }
    None
}

/// An RTSP Basic challenge: the path and the challenge.
async fn rtsp_basic(addr: SocketAddr) -> Option<(String, String)> {
    for path in RTSP_PATHS {
        let sent = format!(
            "DESCRIBE rtsp://{}:{}{path} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: jcstar\r\n\r\n",
            addr.ip(),
            addr.port()
        );
        let reply = request(addr, sent.as_bytes(), header_complete).await?;
        let text = String::from_utf8_lossy(&reply);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let basic = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("www-authenticate:") && l.contains("basic")
        });
        if status(head) == 401 && basic {
            return Some((path.to_string(), "401 with a Basic challenge".to_string()));
        }
    }
    None
}

/// An MQTT CONNECT with a username and password flag set, and a throwaway identity: the
/// CONNACK return code shows whether the broker takes credentials on this port.
fn mqtt_connect_with_credentials() -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0xc2, 0, 10];
    for field in [&b"jcstar-probe"[..], b"jcstar", b"jcstar-not-a-password"] {
        body.extend_from_slice(&(field.len() as u16).to_be_bytes());
        body.extend_from_slice(field);
    }
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend(body);
    packet
}

async fn mqtt_credentials(addr: SocketAddr) -> Option<u8> {
    let reply = request(addr, &mqtt_connect_with_credentials(), connack_complete).await?;
    match reply.as_slice() {
        [0x20, 2, _, code, ..] if *code != 1 && *code != 2 => Some(*code),
        _ => None,
    }
}

/// SNMPv2c GetRequest for sysDescr.0 with community `public`.
const SNMP_V2C_GET: &[u8] = &[
    0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x1c, 0x02,
    0x04, 0x4a, 0x63, 0x73, 0x74, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06,
    0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
];

/// Whether SNMP v1/v2c answers on 161/udp (one datagram, one answer awaited).
async fn snmp_answers(ip: IpAddr) -> bool {
    let bind: SocketAddr = match ip {
        IpAddr::V4(_) => "0.0.0.0:0",
        IpAddr::V6(_) => "[::]:0",
    }
    .parse()
    .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let probe = async {
        let socket = UdpSocket::bind(bind).await.ok()?;
        socket.send_to(SNMP_V2C_GET, (ip, 161)).await.ok()?;
        let mut buf = [0u8; 1500];
        let (n, _) = socket.recv_from(&mut buf).await.ok()?;
        (n > 2 && buf[0] == 0x30).then_some(())
    };
    tokio::time::timeout(PROBE_TIMEOUT, probe)
        .await
        .ok()
        .flatten()
        .is_some()
}

fn finding(
    policy: &TlsPolicy,
    channel: &str,
    summary: String,
    evidence: Evidence,
) -> Option<Finding> {
    let rating = policy.plaintext_channels.get(channel).copied()?;
    (rating > Rating::Pass).then(|| {
        Finding::new("crypto.plaintext", S1_1_12, verdict(rating), summary).with_evidence(evidence)
    })
}

/// Findings for every plaintext channel carrying credentials on the scanned device.
pub async fn check(scan: &HostScan, policy: &TlsPolicy) -> Vec<Finding> {
    let mut findings = Vec::new();
    for port in scan.ports.iter().filter(|p| p.state == PortState::Open) {
        let Some(service) = &port.service else {
            continue;
        };
        let addr = SocketAddr::new(scan.address, port.port);
        let p = format!("{}/tcp", port.port);
        let found = match service.kind {
            ServiceKind::Telnet => finding(
                policy,
                "telnet",
                format!("telnet on {p} carries logins in plaintext"),
                Evidence::observed(format!("banner {p}"), &service.banner),
            ),
            ServiceKind::Ftp => finding(
                policy,
                "ftp",
                format!("FTP on {p} carries logins in plaintext"),
                Evidence::observed(format!("banner {p}"), &service.banner),
            ),
            ServiceKind::Http => match http_login(addr).await {
                Some((path, why)) => finding(
                    policy,
                    "http_login",
                    format!("HTTP login on plain HTTP at {p} {path} (no redirect to HTTPS)"),
                    Evidence::observed(format!("http {p} {path}"), why),
                ),
                None => None,
            },
            ServiceKind::Rtsp => match rtsp_basic(addr).await {
                Some((path, why)) => finding(
                    policy,
                    "rtsp_basic",
                    format!("RTSP Basic authentication in plaintext on {p} {path}"),
                    Evidence::observed(format!("rtsp {p} {path}"), why),
                ),
                None => None,
            },
            ServiceKind::Mqtt => match mqtt_credentials(addr).await {
                Some(code) => finding(
                    policy,
                    "mqtt",
                    format!("MQTT on {p} takes username/password in plaintext"),
                    Evidence::observed(
                        format!("mqtt {p} CONNACK"),
                        format!("return code {code} to a CONNECT with username and password"),
                    ),
                ),
                None => None,
            },
            _ => None,
        };
        findings.extend(found);
    }
    if policy.plaintext_channels.contains_key("snmp") && snmp_answers(scan.address).await {
        findings.extend(finding(
            policy,
            "snmp",
            "SNMP v1/v2c on 161/udp: community strings travel in plaintext".to_string(),
            Evidence::observed("snmp 161/udp", "answered a v2c GetRequest for sysDescr.0"),
        ));
    }
    findings
}
