//! A minimal MQTT 3.1.1 / 5 broker: CONNECT (anonymous or with a user name and password),
//! SUBSCRIBE (granted at QoS 0, followed by the retained messages), PINGREQ and DISCONNECT.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::limits::Limits;
use super::Credential;

/// Packets served per connection before it is closed.
const MAX_PACKETS: usize = 32;
/// Largest packet body accepted.
const MAX_PACKET: usize = 1024;

/// What a simulated broker accepts and holds.
#[derive(Debug)]
pub(crate) struct Broker {
    /// Whether a CONNECT without user name is accepted.
    pub anonymous: bool,
    /// The one account accepted with a password.
    pub account: Credential,
    /// Protocol levels spoken: 4 (3.1.1) and/or 5.
    pub levels: &'static [u8],
    /// Retained messages (topic, payload) delivered after any SUBSCRIBE.
    pub retained: &'static [(&'static str, &'static str)],
}

/// Serves one MQTT connection.
pub(crate) async fn serve<S>(mut stream: S, broker: &Broker, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let session = async {
        let Some((0x10, body)) = read_packet(&mut stream).await? else {
            return Ok(());
        };
        let Some(connect) = Connect::parse(&body) else {
            return Ok(());
        };
        let v5 = connect.level == 5;
        let code = if !broker.levels.contains(&connect.level) {
            if v5 {
                0x84
            } else {
                0x01
            }
        } else {
            match connect.credential {
                None if broker.anonymous => 0,
                None => {
                    if v5 {
                        0x87
                    } else {
                        0x05
                    }
                }
                Some((ref u, ref p))
                    if u == broker.account.user && p == broker.account.password =>
                {
                    0
                }
                Some(_) => {
                    if v5 {
                        0x86
                    } else {
                        0x04
                    }
                }
            }
        };
        let connack: &[u8] = if v5 {
            &[0x20, 3, 0, code, 0]
        } else {
            &[0x20, 2, 0, code]
        };
        stream.write_all(connack).await?;
        if code != 0 {
            return stream.shutdown().await;
        }
        for _ in 0..MAX_PACKETS {
            let Some((kind, body)) = read_packet(&mut stream).await? else {
                return Ok(());
            };
            match kind {
                0x82 if body.len() >= 2 => {
                    let mut ack = vec![0x90, if v5 { 4 } else { 3 }, body[0], body[1]];
                    if v5 {
                        ack.push(0);
                    }
                    ack.push(0); // granted QoS 0
                    stream.write_all(&ack).await?;
                    for (topic, payload) in broker.retained {
                        stream.write_all(&publish(topic, payload, v5)).await?;
                    }
                }
                0xc0 => stream.write_all(&[0xd0, 0]).await?,
                _ => return stream.shutdown().await,
            }
        }
        stream.shutdown().await
    };
    if let Ok(Err(error)) = tokio::time::timeout(limits.idle_timeout, session).await {
        tracing::trace!(%error, "mqtt session ended");
    }
}

/// A retained PUBLISH at QoS 0.
fn publish(topic: &str, payload: &str, v5: bool) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(topic.as_bytes());
    if v5 {
        body.push(0);
    }
    body.extend_from_slice(payload.as_bytes());
    let mut out = vec![0x31, body.len() as u8];
    out.extend(body);
    out
}

/// Reads one packet: (first byte, body); `None` on a clean close; an error when over the cap.
async fn read_packet<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let kind = match stream.read_u8().await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut len = 0usize;
    for i in 0..4 {
        let byte = stream.read_u8().await?;
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    if len > MAX_PACKET {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    Ok(Some((kind, body)))
}

/// The parts of a CONNECT the broker looks at.
struct Connect {
    level: u8,
    credential: Option<(String, String)>,
}

impl Connect {
    fn parse(body: &[u8]) -> Option<Connect> {
        let mut at = Cursor(body);
        if at.string()? != b"MQTT" {
            return None;
        }
        let level = at.byte()?;
        let flags = at.byte()?;
        at.take(2)?; // keep-alive
        if level == 5 {
            let props = at.byte()?; // short property lists only
            at.take(usize::from(props))?;
        }
        at.string()?; // client id
        if flags & 0x04 != 0 {
            return None; // no will messages here
        }
        let user = if flags & 0x80 != 0 {
            Some(String::from_utf8_lossy(at.string()?).into_owned())
        } else {
            None
        };
        let password = if flags & 0x40 != 0 {
            String::from_utf8_lossy(at.string()?).into_owned()
        } else {
            String::new()
        };
        Some(Connect {
            level,
            credential: user.map(|u| (u, password)),
        })
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.take(2)?;
        self.take(usize::from(u16::from_be_bytes([len[0], len[1]])))
    }
}
