//! Plaintext channels that carry credentials: telnet and FTP (from the scan), HTTP logins on
//! plain HTTP without a redirect to HTTPS, MQTT taking a username/password, RTSP with Basic
//! authentication, SNMP v1/v2c. Small bounded probes of its own; no login is guessed. SNMP is
//! asked with the well-known community strings (`public`, `private` and the profile's SNMP
//! list, all in one burst), since a v1/v2c agent stays silent to a community it does not know.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use jcstar_model::profile::{Rating, TlsPolicy};
use jcstar_model::{Evidence, Finding};
use jcstar_probe::scan::{HostScan, PortState, ServiceKind};

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
                    format!("401 challenge: {}", jcstar_model::bounded(challenge)),
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
    use jcstar_wire::mqtt::{connect_packet, Version};
    connect_packet(
        Version::V311,
        "jcstar-probe",
        Some(("jcstar", "jcstar-not-a-password")),
    )
}

async fn mqtt_credentials(addr: SocketAddr) -> Option<u8> {
    let reply = request(addr, &mqtt_connect_with_credentials(), connack_complete).await?;
    match reply.as_slice() {
        [0x20, 2, _, code, ..] if *code != 1 && *code != 2 => Some(*code),
        _ => None,
    }
}

/// Most community strings sent to one agent.
pub const SNMP_MAX_COMMUNITIES: usize = 16;
/// Longest community string sent (keeps every BER length in short form).
const SNMP_COMMUNITY_MAX: usize = 64;

/// SNMPv2c GetRequest for sysDescr.0 with `community` and request id `id`; `None` when the
/// community is longer than [`SNMP_COMMUNITY_MAX`].
fn snmp_v2c_get(community: &[u8], id: u8) -> Option<Vec<u8>> {
    if community.len() > SNMP_COMMUNITY_MAX {
        return None;
    }
    let pdu: [u8; 30] = [
        0xa0, 0x1c, 0x02, 0x04, 0x4a, 0x63, 0x73, id, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30,
        0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
    ];
    let mut out = vec![
        0x30,
        (5 + community.len() + pdu.len()) as u8,
        0x02,
        0x01,
        0x01,
    ];
    out.push(0x04);
    out.push(community.len() as u8);
    out.extend_from_slice(community);
    out.extend_from_slice(&pdu);
    Some(out)
}

/// The community string of an SNMP v1/v2c message (`None` when it is not one).
fn snmp_reply_community(msg: &[u8]) -> Option<&[u8]> {
    if *msg.first()? != 0x30 {
        return None;
    }
    // Sequence length: short form or 0x81/0x82 long form.
    let rest = match *msg.get(1)? {
        n if n < 0x80 => msg.get(2..)?,
        0x81 => msg.get(3..)?,
        0x82 => msg.get(4..)?,
        _ => return None,
    };
    // version INTEGER (0 = v1, 1 = v2c), then the community OCTET STRING.
    if rest.get(..2)? != [0x02, 0x01] || *rest.get(2)? > 1 || *rest.get(3)? != 0x04 {
        return None;
    }
    let len = usize::from(*rest.get(4)?);
    if len >= 0x80 {
        return None;
    }
    rest.get(5..5 + len)
}

/// The first of `communities` an SNMP v1/v2c agent at `agent` answers (all GetRequests are
/// sent at once, then answers awaited until [`PROBE_TIMEOUT`]; agents ignore wrong communities).
async fn snmp_community(agent: SocketAddr, communities: &[String]) -> Option<String> {
    let bind: SocketAddr = match agent.ip() {
        IpAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        IpAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    let communities: Vec<&String> = communities.iter().take(SNMP_MAX_COMMUNITIES).collect();
    let probe = async {
        let socket = UdpSocket::bind(bind).await.ok()?;
        for (i, community) in communities.iter().enumerate() {
            if let Some(get) = snmp_v2c_get(community.as_bytes(), i as u8) {
                socket.send_to(&get, agent).await.ok()?;
            }
        }
        let mut buf = [0u8; 1500];
        // Bounded: one answer per request at most matters; stray datagrams are skipped.
        for _ in 0..communities.len() * 2 {
            let (n, from) = socket.recv_from(&mut buf).await.ok()?;
            if from != agent {
                continue;
            }
            let Some(answered) = buf.get(..n).and_then(snmp_reply_community) else {
                continue;
            };
            if let Some(c) = communities.iter().find(|c| c.as_bytes() == answered) {
                return Some(c.to_string());
            }
        }
        None
    };
    tokio::time::timeout(PROBE_TIMEOUT, probe)
        .await
        .ok()
        .flatten()
}

/// SNMP settings for the plaintext check: where the agent listens and which community strings
/// to try (`public` and `private` always included).
#[derive(Debug, Clone)]
pub struct SnmpProbe {
    /// UDP port of the agent.
    pub port: u16,
    /// Community strings, tried at once, at most [`SNMP_MAX_COMMUNITIES`].
    pub communities: Vec<String>,
}

impl SnmpProbe {
    /// `public`, `private`, then the profile's SNMP community lists (`[access.lists] snmp`).
    pub fn from_profile(profile: &jcstar_model::profile::Profile) -> SnmpProbe {
        let mut communities: Vec<String> = vec!["public".into(), "private".into()];
        for name in &profile.access.lists.snmp {
            for (_, community) in jcstar_model::profile::access::list(name).unwrap_or_default() {
                if !community.is_empty() && !communities.contains(&community) {
                    communities.push(community);
                }
            }
        }
        communities.truncate(SNMP_MAX_COMMUNITIES);
        SnmpProbe {
            port: profile.access.snmp_port,
            communities,
        }
    }
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
pub async fn check(scan: &HostScan, policy: &TlsPolicy, snmp: &SnmpProbe) -> Vec<Finding> {
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
    if policy.plaintext_channels.contains_key("snmp") {
        let agent = SocketAddr::new(scan.address, snmp.port);
        if let Some(community) = snmp_community(agent, &snmp.communities).await {
            findings.extend(finding(
                policy,
                "snmp",
                format!(
                    "SNMP v1/v2c on {}/udp: community strings travel in plaintext",
                    snmp.port
                ),
                Evidence::observed(
                    format!("snmp {}/udp", snmp.port),
                    format!(
                        "answered a v2c GetRequest for sysDescr.0 with community {:?}",
                        jcstar_model::bounded(&community)
                    ),
                ),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_request_for_public_is_the_classic_packet() {
        let get = snmp_v2c_get(b"public", 0x74).unwrap();
        assert_eq!(get.len(), 43);
        assert_eq!(&get[..2], [0x30, 0x29]);
        assert_eq!(snmp_reply_community(&get), Some(&b"public"[..]));
        assert!(snmp_v2c_get(&[b'a'; 65], 0).is_none());
        assert_eq!(snmp_reply_community(&[0x30, 0x81]), None);
        assert_eq!(snmp_reply_community(b"not snmp"), None);
    }

    /// A loopback SNMP "agent" that answers only community `private` (echoing the request as a
    /// response), like an agent configured with a non-public read community; bounded.
    async fn agent_for(community: &'static [u8]) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            for _ in 0..64 {
                let Ok(Ok((n, from))) =
                    tokio::time::timeout(Duration::from_secs(10), socket.recv_from(&mut buf)).await
                else {
                    return;
                };
                if snmp_reply_community(&buf[..n]) == Some(community) {
                    let mut reply = buf[..n].to_vec();
                    if let Some(pdu) = reply.iter().position(|&b| b == 0xa0) {
                        reply[pdu] = 0xa2;
                    }
                    let _ = socket.send_to(&reply, from).await;
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn finds_the_community_the_agent_answers() {
        let agent = agent_for(b"private").await;
        let communities = vec!["public".to_string(), "private".to_string()];
        assert_eq!(
            snmp_community(agent, &communities).await.as_deref(),
            Some("private")
        );
        let only_public = vec!["public".to_string()];
        assert_eq!(snmp_community(agent, &only_public).await, None);
    }

    #[test]
    fn the_builtin_profile_tries_public_private_and_its_list() {
        let probe = SnmpProbe::from_profile(&jcstar_model::profile::Profile::builtin());
        assert_eq!(probe.port, 161);
        assert_eq!(&probe.communities[..2], ["public", "private"]);
        assert!(probe.communities.len() > 2);
        assert!(probe.communities.len() <= SNMP_MAX_COMMUNITIES);
    }
}
