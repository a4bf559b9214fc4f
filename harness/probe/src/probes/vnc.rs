//! VNC (RFB): which security types the server offers (type 1, None, means no password at
//! all), and VNC authentication (DES of the server challenge) with a password.

use std::net::SocketAddr;

use des::cipher::{BlockEncrypt, KeyInit};
use des::Des;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::io::{self, Bounds};
use super::{Exposure, Login};
use jcstar_model::Evidence;

const NONE: u8 = 1;
const VNC_AUTH: u8 = 2;

/// After the version handshake: the offered security types, or the server's refusal text.
async fn handshake(stream: &mut TcpStream, bounds: &Bounds) -> Result<(Vec<u8>, bool), String> {
    let deadline = Instant::now() + bounds.read;
    let version = io::read_exact(stream, 12, deadline)
        .await
        .ok_or("no RFB version")?;
    if !version.starts_with(b"RFB 003.") {
        return Err(format!("not RFB: {}", jcstar_model::escape_bytes(&version)));
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
        .map_err(|e| e.to_string())?;
    if minor < 7 {
        let t = io::read_exact(stream, 4, deadline)
            .await
            .ok_or("no security type")?;
        let t = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        return Ok((vec![t.min(255) as u8], false));
    }
    let count = io::read_exact(stream, 1, deadline)
        .await
        .ok_or("no security types")?[0];
    if count == 0 {
        let len = io::read_exact(stream, 4, deadline)
            .await
            .ok_or("no reason")?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let reason = io::read_exact(stream, len.min(512), deadline)
            .await
            .unwrap_or_default();
        return Err(format!("refused: {}", jcstar_model::escape_bytes(&reason)));
    }
    let types = io::read_exact(stream, usize::from(count), deadline)
        .await
        .ok_or("short security types")?;
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
        Err(e) => Exposure::Unknown(e),
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
pub async fn login(address: SocketAddr, password: &str, bounds: &Bounds) -> Login {
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return Login::Failed(format!("cannot connect: {e}")),
    };
    let (types, chooses) = match handshake(&mut stream, bounds).await {
        Ok(t) => t,
        Err(e) if e.to_ascii_lowercase().contains("too many") => {
            return Login::Locked(Evidence::observed("RFB refusal", e))
        }
        Err(e) => return Login::Failed(e),
    };
    if !types.contains(&VNC_AUTH) {
        return Login::Unsupported(format!("VNC authentication not offered ({types:?})"));
    }
    let deadline = Instant::now() + bounds.read;
    if chooses && io::send(&mut stream, &[VNC_AUTH], deadline).await.is_err() {
        return Login::Failed("connection lost".into());
    }
    let Some(challenge) = io::read_exact(&mut stream, 16, deadline).await else {
        return Login::Failed("no challenge".into());
    };
    let mut c = [0u8; 16];
    c.copy_from_slice(&challenge);
    if io::send(&mut stream, &response(password, &c), deadline)
        .await
        .is_err()
    {
        return Login::Failed("connection lost".into());
    }
    match io::read_exact(&mut stream, 4, deadline).await {
        Some(r) if r == [0, 0, 0, 0] => Login::Accepted(Evidence::observed(
            "VNC authentication",
            "SecurityResult OK",
        )),
        Some(r) if r == [0, 0, 0, 2] => Login::Locked(Evidence::observed(
            "VNC authentication",
            "too many attempts",
        )),
        Some(_) => Login::Rejected,
        None => Login::Failed("no security result".into()),
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
