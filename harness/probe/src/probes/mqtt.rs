//! MQTT 3.1.1 and 5: CONNECT without credentials (then SUBSCRIBE `#` to see whether the whole
//! topic tree is readable) and CONNECT with a user name and password. Hand-written: three
//! packet types, each read with a length cap and a deadline.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::io::{self, Bounds, BoxStream};
use super::{ExchangeError, Exposure, LoginOutcome, Phase};
use jcstar_model::Evidence;

use jcstar_wire::mqtt::{connack_code, subscribe_all, DISCONNECT};
pub use jcstar_wire::mqtt::{connect_packet, Version};

/// Most packets read while listening after SUBSCRIBE: a broker that streams without end is
/// left after these, whatever the deadline.
const MAX_LISTEN_PACKETS: usize = 256;

/// Reads one packet (type byte, body) within the deadline and cap.
async fn read_packet(
    stream: &mut BoxStream,
    deadline: Instant,
    cap: usize,
) -> Option<(u8, Vec<u8>)> {
    let header = io::read_exact(stream, 1, deadline).await?[0];
    let mut len = 0usize;
    for i in 0..4 {
        let byte = io::read_exact(stream, 1, deadline).await?[0];
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
        if i == 3 {
            return None;
        }
    }
    if len > cap {
        return None;
    }
    let body = io::read_exact(stream, len, deadline).await?;
    Some((header, body))
}

/// Outcome of one CONNECT.
struct Connected {
    stream: BoxStream,
    version: Version,
    code: u8,
    sent: Vec<u8>,
    received: Vec<u8>,
}

async fn connect(
    address: SocketAddr,
    tls: bool,
    credential: Option<(&str, &str)>,
    bounds: &Bounds,
) -> Result<Connected, ExchangeError> {
    let mut last = ExchangeError::NoAnswer {
        phase: Phase::Answer,
    };
    for version in [Version::V311, Version::V5] {
        let mut stream = io::open(address, tls, bounds)
            .await
            .map_err(|e| io::connect_error(&e))?;
        let id = format!("jcstar-{}", io::nonce(4));
        let sent = connect_packet(version, &id, credential);
        let deadline = Instant::now() + bounds.read;
        if io::send(&mut stream, &sent, deadline).await.is_err() {
            return Err(ExchangeError::Closed {
                phase: Phase::Answer,
            });
        }
        match read_packet(&mut stream, deadline, bounds.max_bytes).await {
            Some(p) => match connack_code(p.0, &p.1) {
                // 3.1.1 "unacceptable protocol version": try 5.
                Some(1) if version == Version::V311 => {
                    last = ExchangeError::ProtocolError("MQTT 3.1.1 refused".into())
                }
                Some(0x84) if version == Version::V5 => {
                    last = ExchangeError::ProtocolError("MQTT 5 refused".into())
                }
                Some(code) => {
                    let mut received = vec![p.0];
                    received.extend_from_slice(&p.1);
                    return Ok(Connected {
                        stream,
                        version,
                        code,
                        sent: sent.clone(),
                        received,
                    });
                }
                None => {
                    let why = format!("not a CONNACK (packet type {:#04x})", p.0);
                    return Err(ExchangeError::ProtocolError(why));
                }
            },
            None => {
                last = ExchangeError::NoAnswer {
                    phase: Phase::Answer,
                }
            }
        }
    }
    Err(last)
}

/// Anonymous CONNECT, then SUBSCRIBE `#` and a short listen for retained topics.
pub async fn exposure(address: SocketAddr, tls: bool, bounds: &Bounds) -> Exposure {
    let mut c = match connect(address, tls, None, bounds).await {
        Ok(c) => c,
        Err(e) => return Exposure::Unknown(e.to_string()),
    };
    if c.code != 0 {
        return Exposure::Protected {
            what: format!("anonymous CONNECT refused (code {:#04x})", c.code),
        };
    }
    let deadline = Instant::now() + bounds.read;
    let sub = subscribe_all(c.version);
    let mut granted = false;
    let mut topics: Vec<String> = Vec::new();
    if io::send(&mut c.stream, &sub, deadline).await.is_ok() {
        let listen_end = Instant::now() + Duration::from_millis(800).min(bounds.read);
        let mut packets = 0;
        while let Some((kind, body)) = read_packet(
            &mut c.stream,
            deadline.min(if granted { listen_end } else { deadline }),
            bounds.max_bytes,
        )
        .await
        {
            packets += 1;
            if packets > MAX_LISTEN_PACKETS {
                break;
            }
            match kind & 0xf0 {
                0x90 => {
                    let code_at = if c.version == Version::V5 {
                        2 + 1 + usize::from(body.get(2).copied().unwrap_or(0))
                    } else {
                        2
                    };
                    granted = body.get(code_at).is_some_and(|&code| code < 0x80);
                    if !granted {
                        break;
                    }
                }
                0x30 if topics.len() < 20 => {
                    let len = usize::from(u16::from_be_bytes([
                        body.first().copied().unwrap_or(0),
                        body.get(1).copied().unwrap_or(0),
                    ]));
                    if let Some(topic) = body.get(2..2 + len) {
                        let topic = jcstar_model::escape_bytes(topic);
                        if !topics.contains(&topic) {
                            topics.push(topic);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let _ = io::send(&mut c.stream, &DISCONNECT, Instant::now() + bounds.connect).await;
    let topic_text = if topics.is_empty() {
        "no retained topics seen".to_string()
    } else {
        format!("topics: {}", topics.join(", "))
    };
    let what = if granted {
        format!("anonymous CONNECT accepted and SUBSCRIBE # granted ({topic_text})")
    } else {
        "anonymous CONNECT accepted (SUBSCRIBE # not granted)".to_string()
    };
    Exposure::Open {
        what,
        evidence: Evidence::exchange("MQTT CONNECT without credentials", &c.sent, &c.received),
    }
}

/// The CONNACK return code to a CONNECT carrying a throwaway user name and password: shows
/// whether the broker takes credentials on this port, without trying a real login.
pub async fn connack_to_credentials(
    address: SocketAddr,
    tls: bool,
    bounds: &Bounds,
) -> Result<u8, ExchangeError> {
    let c = connect(
        address,
        tls,
        Some(("jcstar", "jcstar-not-a-password")),
        bounds,
    )
    .await?;
    let mut stream = c.stream;
    let _ = io::send(&mut stream, &DISCONNECT, Instant::now() + bounds.connect).await;
    Ok(c.code)
}

/// CONNECT with a user name and password.
pub async fn login(
    address: SocketAddr,
    tls: bool,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    match connect(address, tls, Some((user, password)), bounds).await {
        Ok(mut c) => {
            let _ = io::send(&mut c.stream, &DISCONNECT, Instant::now() + bounds.connect).await;
            match c.code {
                0 => LoginOutcome::Accepted(Evidence::exchange(
                    format!("MQTT CONNECT as {user:?}"),
                    format!("CONNECT username={user:?} password=…").as_bytes(),
                    &c.received,
                )),
                0x97 => LoginOutcome::RateLimited(Evidence::observed(
                    "MQTT CONNACK",
                    "0x97 quota exceeded",
                )),
                _ => LoginOutcome::Rejected,
            }
        }
        Err(e) => e.into(),
    }
}
