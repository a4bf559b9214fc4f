//! VNC (RFB 3.3–3.8): the server's version line and the version jcstar answers with, the
//! security-type list, VNC authentication's DES response, and the SecurityResult.

use des::cipher::{BlockEncrypt, KeyInit};
use des::Des;

/// Security type None: no password at all.
pub const SECURITY_NONE: u8 = 1;
/// Security type VNC authentication (DES challenge-response).
pub const SECURITY_VNC_AUTH: u8 = 2;
/// Bytes of the server's version line, `RFB 003.008\n`.
pub const VERSION_LEN: usize = 12;

/// How the security handshake goes for a protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// The version line jcstar answers with.
    pub reply: &'static [u8; VERSION_LEN],
    /// RFB 3.7 and later: the server lists types and the client picks one; 3.3: the server
    /// names one type in a 4-byte word.
    pub client_chooses: bool,
}

/// The handshake for a server version line; `None` when it is not RFB 3.x.
pub fn handshake(version: &[u8]) -> Option<Handshake> {
    let minor = version.strip_prefix(b"RFB 003.")?.get(..3)?;
    let minor = std::str::from_utf8(minor).ok()?.parse::<u32>().ok()?;
    Some(match minor {
        8.. => Handshake {
            reply: b"RFB 003.008\n",
            client_chooses: true,
        },
        7 => Handshake {
            reply: b"RFB 003.007\n",
            client_chooses: true,
        },
        _ => Handshake {
            reply: b"RFB 003.003\n",
            client_chooses: false,
        },
    })
}

/// The security type an RFB 3.3 server names in its 4-byte word (values above 255 are
/// not a type jcstar knows, and read as 255).
pub fn v3_3_security_type(word: [u8; 4]) -> u8 {
    u32::from_be_bytes(word).min(255) as u8
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

/// What a SecurityResult word says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityResult {
    /// 0: authenticated.
    Ok,
    /// 2 (RFB 3.3 servers of the Tight family): too many attempts.
    TooMany,
    /// Anything else: failed.
    Failed,
}

/// Reads a SecurityResult word.
pub fn security_result(word: [u8; 4]) -> SecurityResult {
    match u32::from_be_bytes(word) {
        0 => SecurityResult::Ok,
        2 => SecurityResult::TooMany,
        _ => SecurityResult::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    #[test]
    fn versions_pick_the_handshake() {
        assert_eq!(
            handshake(b"RFB 003.008\n").map(|h| h.reply),
            Some(b"RFB 003.008\n")
        );
        assert_eq!(
            handshake(b"RFB 003.889\n").map(|h| h.reply),
            Some(b"RFB 003.008\n")
        );
        assert_eq!(
            handshake(b"RFB 003.007\n").map(|h| h.client_chooses),
            Some(true)
        );
        assert_eq!(
            handshake(b"RFB 003.003\n").map(|h| h.client_chooses),
            Some(false)
        );
        assert_eq!(
            handshake(b"RFB 003.005\n").map(|h| h.reply),
            Some(b"RFB 003.003\n")
        );
        assert_eq!(handshake(b"SSH-2.0-x\r\n"), None);
        assert_eq!(handshake(b"RFB 003.x8\n"), None);
        assert_eq!(handshake(b"RFB 003."), None);
        assert_eq!(security_result([0, 0, 0, 0]), SecurityResult::Ok);
        assert_eq!(security_result([0, 0, 0, 2]), SecurityResult::TooMany);
        assert_eq!(security_result([0, 0, 0, 1]), SecurityResult::Failed);
        assert_eq!(v3_3_security_type([0, 0, 1, 0]), 255);
    }

    proptest! {
        /// Any bytes read as a version line, a type word or a result word decide something
        /// without panicking; any password and challenge give a response.
        #[test]
        fn arbitrary_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..32),
            word in any::<[u8; 4]>(),
            password in "\\PC{0,20}",
            challenge in any::<[u8; 16]>(),
        ) {
            if let Some(h) = handshake(&data) {
                prop_assert!(data.starts_with(b"RFB 003."));
                prop_assert!(h.reply.starts_with(b"RFB 003.00"));
            }
            let _ = (v3_3_security_type(word), security_result(word));
            let _ = response(&password, &challenge);
        }
    }
}
