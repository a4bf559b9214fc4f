//! VNC (RFB): which security types the server offers (type 1, None, means no password at
//! all), and VNC authentication (DES of the server challenge) with a password.

use std::net::SocketAddr;

use des::cipher::{BlockEncrypt, KeyInit};
use des::Des;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::io::{self, Bounds};
use super::{ExchangeError, Exposure, LoginOutcome, Phase};
use jcstar_model::Evidence;

const NONE: u8 = 1;
const VNC_AUTH: u8 = 2;

/// Why the RFB handshake gave no security types.
enum HandshakeError {
    /// Silence, a closed connection or bytes that are not RFB.
    Exchange(ExchangeError),
    /// The server refused the connection with a reason (RFB security-type count 0).
    Refused(Vec<u8>),
}

impl HandshakeError {
    fn silent() -> Self {
        HandshakeError::Exchange(ExchangeError::NoAnswer {
            phase: Phase::Greeting,
        })
    }
}

/// After the version handshake: the offered security types and whether the client chooses one
/// (RFB 3.7 and later), or why there are none.
async fn handshake(
    stream: &mut TcpStream,
    bounds: &Bounds,
) -> Result<(Vec<u8>, bool), HandshakeError> {
    let deadline = Instant::now() + bounds.read;
    let version = io::read_exact(stream, 12, deadline)
        .await
        .ok_or_else(HandshakeError::silent)?;
    if !version.starts_with(b"RFB 003.") {
        let what = format!("not RFB: {}", jcstar_model::escape_bytes(&version));
        return Err(HandshakeError::Exchange(ExchangeError::ProtocolError(what)));
    }
    let minor = std::str::from_utf8(&version[8..11])
        .ok()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(3);
    let reply: &[u8] = if minor >= 8 {
        b"RFB 003.008\n"
    } else if minor == 7 {
        b"RFB 003.007\n"
    } else {
        b"RFB 003.003\n"
    };
    io::send(stream, reply, deadline)
        .await
        .map_err(|e| HandshakeError::Exchange(ExchangeError::from_io(&e, Phase::Greeting)))?;
    if minor < 7 {
        let t = io::read_exact(stream, 4, deadline)
            .await
            .ok_or_else(HandshakeError::silent)?;
        let t = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        return Ok((vec![t.min(255) as u8], false));
    }
    let count = io::read_exact(stream, 1, deadline)
        .await
        .ok_or_else(HandshakeError::silent)?[0];
    if count == 0 {
        let len = io::read_exact(stream, 4, deadline)
            .await
            .ok_or_else(HandshakeError::silent)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let reason = io::read_exact(stream, len.min(512), deadline)
            .await
            .unwrap_or_default();
        return Err(HandshakeError::Refused(reason));
    }
    let types = io::read_exact(stream, usize::from(count), deadline)
        .await
        .ok_or_else(HandshakeError::silent)?;
    Ok((types, true))
}

/// Whether the server offers security type None.
pub async fn exposure(address: SocketAddr, bounds: &Bounds) -> Exposure {
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return Exposure::Unknown(format!("cannot connect: {e}")),
    };
    match handshake(&mut stream, bounds).await {
        Ok((types, _)) if types.contains(&NONE) => Exposure::Open {
            what: "VNC desktop with security type None (no password)".into(),
            evidence: Evidence::observed("RFB security types", format!("{types:?}")),
        },
        Ok((types, _)) => Exposure::Protected {
            what: format!("VNC security types {types:?}"),
        },
        Err(HandshakeError::Exchange(e)) => Exposure::Unknown(e.to_string()),
        Err(HandshakeError::Refused(reason)) => {
            Exposure::Unknown(format!("refused: {}", jcstar_model::escape_bytes(&reason)))
        }
    }
}

/// The DES key VNC derives from a password: 8 bytes, each bit-reversed.
fn key(password: &str) -> [u8; 8] {
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.bytes()) {
        *k = b.reverse_bits();
    }
    key
}

/// The 16-byte response to a VNC authentication challenge.
pub fn response(password: &str, challenge: &[u8; 16]) -> [u8; 16] {
    let cipher = Des::new(&key(password).into());
    let mut out = *challenge;
    for block in out.chunks_exact_mut(8) {
        cipher.encrypt_block(block.into());
    }
    out
}

/// Tries VNC authentication with `password` (VNC has no user name).
pub async fn login(address: SocketAddr, password: &str, bounds: &Bounds) -> LoginOutcome {
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return io::connect_error(&e).into(),
    };
    let (types, chooses) = match handshake(&mut stream, bounds).await {
        Ok(t) => t,
        // The server's own words: RealVNC and others refuse with "Too many security failures".
        Err(HandshakeError::Refused(reason)) if io::contains_ci(&reason, "too many") => {
            let said = jcstar_model::escape_bytes(&reason);
            return LoginOutcome::RateLimited(Evidence::observed("RFB refusal", said));
        }
        Err(HandshakeError::Refused(reason)) => {
            let said = format!("RFB refusal: {}", jcstar_model::escape_bytes(&reason));
            return ExchangeError::ProtocolError(said).into();
        }
        Err(HandshakeError::Exchange(e)) => return e.into(),
    };
    if !types.contains(&VNC_AUTH) {
        return LoginOutcome::Unsupported(format!("VNC authentication not offered ({types:?})"));
    }
    let deadline = Instant::now() + bounds.read;
    let closed = || {
        LoginOutcome::from(ExchangeError::Closed {
            phase: Phase::Greeting,
        })
    };
    let silent = |phase| LoginOutcome::from(ExchangeError::NoAnswer { phase });
    if chooses && io::send(&mut stream, &[VNC_AUTH], deadline).await.is_err() {
        return closed();
    }
    let Some(challenge) = io::read_exact(&mut stream, 16, deadline).await else {
        return silent(Phase::Greeting);
    };
    let mut c = [0u8; 16];
    c.copy_from_slice(&challenge);
    if io::send(&mut stream, &response(password, &c), deadline)
        .await
        .is_err()
    {
        return closed();
    }
    match io::read_exact(&mut stream, 4, deadline).await {
        Some(r) if r == [0, 0, 0, 0] => LoginOutcome::Accepted(Evidence::observed(
            "VNC authentication",
            "SecurityResult OK",
        )),
        Some(r) if r == [0, 0, 0, 2] => LoginOutcome::RateLimited(Evidence::observed(
            "VNC authentication",
            "too many attempts",
        )),
        Some(_) => LoginOutcome::Rejected,
        None => silent(Phase::Answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_bits_are_reversed_and_padded() {
        assert_eq!(key("ab"), [0x86, 0x46, 0, 0, 0, 0, 0, 0]);
        assert_eq!(key("longerthan8")[7], b'h'.reverse_bits());
        let r1 = response("password", &[0u8; 16]);
        assert_eq!(r1[..8], r1[8..]);
        assert_ne!(
            response("password", &[0u8; 16]),
            response("passw0rd", &[0u8; 16])
        );
    }
}
