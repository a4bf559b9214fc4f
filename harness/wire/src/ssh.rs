//! SSH binary-packet pieces: KEXINIT, KEX_ECDH_INIT and the host-key blob, built and parsed by
//! hand with every length checked.

use ring::rand::{SecureRandom, SystemRandom};

/// The algorithm lists of a KEXINIT message.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KexInit {
    /// Key exchange methods.
    pub kex: Vec<String>,
    /// Host key algorithms.
    pub host_key: Vec<String>,
    /// Ciphers, client to server.
    pub ciphers_c2s: Vec<String>,
    /// Ciphers, server to client.
    pub ciphers_s2c: Vec<String>,
    /// MACs, client to server.
    pub macs_c2s: Vec<String>,
    /// MACs, server to client.
    pub macs_s2c: Vec<String>,
    /// Compression, client to server.
    pub compression_c2s: Vec<String>,
    /// Compression, server to client.
    pub compression_s2c: Vec<String>,
}

/// A server host key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostKey {
    /// The algorithm negotiated to get it, e.g. `rsa-sha2-512`.
    pub algorithm: String,
    /// Key type from the blob: `ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-dss`.
    pub key_type: String,
    /// Key size in bits.
    pub bits: u32,
    /// OpenSSH-style fingerprint, `SHA256:<base64>`.
    pub fingerprint: String,
}

/// Reads SSH wire fields with bounds checks.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(out)
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
    fn name_list(&mut self) -> Option<Vec<String>> {
        let raw = self.string()?;
        if raw.is_empty() {
            return Some(Vec::new());
        }
        let text = std::str::from_utf8(raw).ok()?;
        Some(text.split(',').map(jcstar_model::bounded).collect())
    }
}

/// Parses a KEXINIT payload (message 20).
pub fn parse_kexinit(payload: &[u8]) -> Option<KexInit> {
    let mut r = Reader(payload);
    if r.bytes(1)? != [20] {
        return None;
    }
    r.bytes(16)?;
    let kexinit = KexInit {
        kex: r.name_list()?,
        host_key: r.name_list()?,
        ciphers_c2s: r.name_list()?,
        ciphers_s2c: r.name_list()?,
        macs_c2s: r.name_list()?,
        macs_s2c: r.name_list()?,
        compression_c2s: r.name_list()?,
        compression_s2c: r.name_list()?,
    };
    // Languages both ways, first_kex_packet_follows, reserved.
    r.string()?;
    r.string()?;
    r.bytes(5)?;
    Some(kexinit)
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A KEXINIT payload with our lists (languages empty, no guessed packet).
pub fn kexinit_payload(k: &KexInit) -> Vec<u8> {
    let mut out = vec![20];
    let mut cookie = [0u8; 16];
    let _ = SystemRandom::new().fill(&mut cookie);
    out.extend_from_slice(&cookie);
    for list in [
        &k.kex,
        &k.host_key,
        &k.ciphers_c2s,
        &k.ciphers_s2c,
        &k.macs_c2s,
        &k.macs_s2c,
        &k.compression_c2s,
        &k.compression_s2c,
    ] {
        put_string(&mut out, list.join(",").as_bytes());
    }
    put_string(&mut out, b"");
    put_string(&mut out, b"");
    out.push(0);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// KEX_ECDH_INIT (message 30) with a fresh ephemeral public key for `kex`.
pub fn ecdh_init(kex: &str) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    let algorithm = if kex.starts_with("curve25519") {
        &ring::agreement::X25519
    } else {
        &ring::agreement::ECDH_P256
    };
    let private = ring::agreement::EphemeralPrivateKey::generate(algorithm, &rng)
        .map_err(|_| "cannot generate an ephemeral key".to_string())?;
    let public = private
        .compute_public_key()
        .map_err(|_| "cannot compute the public key".to_string())?;
    let mut out = vec![30];
    put_string(&mut out, public.as_ref());
    Ok(out)
}

/// Frames a payload as an unencrypted binary packet (block size 8, ≥ 4 bytes padding).
pub fn packet(payload: &[u8]) -> Vec<u8> {
    let mut padding = 8 - (payload.len() + 5) % 8;
    if padding < 4 {
        padding += 8;
    }
    let length = payload.len() + padding + 1;
    let mut out = Vec::with_capacity(length + 4);
    out.extend_from_slice(&(length as u32).to_be_bytes());
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.resize(out.len() + padding, 0);
    out
}

/// The host key K_S of a KEX_ECDH_REPLY (message 31).
pub fn host_key_from_reply(payload: &[u8], algorithm: &str) -> Option<HostKey> {
    let mut r = Reader(payload);
    r.bytes(1)?;
    let blob = r.string()?;
    let mut key = parse_host_key(blob)?;
    key.algorithm = algorithm.to_string();
    Some(key)
}

fn mpint_bits(bytes: &[u8]) -> u32 {
    match bytes.iter().position(|&b| b != 0) {
        Some(i) => (bytes.len() - i) as u32 * 8 - bytes[i].leading_zeros(),
        None => 0,
    }
}

/// Parses a public-key blob into type, size and fingerprint.
pub fn parse_host_key(blob: &[u8]) -> Option<HostKey> {
    let mut r = Reader(blob);
    let key_type = std::str::from_utf8(r.string()?).ok()?.to_string();
    let bits = match key_type.as_str() {
        "ssh-rsa" => {
            r.string()?;
            mpint_bits(r.string()?)
        }
        "ssh-dss" => mpint_bits(r.string()?),
        "ssh-ed25519" => r.string()?.len() as u32 * 8,
        t if t.starts_with("ecdsa-sha2-nistp") => t["ecdsa-sha2-nistp".len()..].parse().ok()?,
        _ => 0,
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, blob);
    Some(HostKey {
        algorithm: key_type.clone(),
        key_type: jcstar_model::bounded(&key_type),
        bits,
        fingerprint: format!(
            "SHA256:{}",
            data_encoding::BASE64_NOPAD.encode(digest.as_ref())
        ),
    })
}

/// Longest identification line (RFC 4253 section 4.2 allows 255 bytes).
pub const LINE_MAX: usize = 255;
/// Largest unencrypted packet accepted (RFC 4253 section 6.1 requires 35,000).
pub const PACKET_MAX: usize = 35_000;

/// What the start of a receive buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take<T> {
    /// A whole item, and the bytes it took.
    Done(T, usize),
    /// More bytes are needed.
    NeedMore,
    /// Not what the protocol allows here; the text says why (device bytes escaped).
    Invalid(String),
}

/// One line before the key exchange: the server's identification, or a line it may send first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `SSH-…`, without its line end.
    Identification(String),
    /// Any other line (servers may send some before their identification).
    Other,
}

/// The first line of `buf` (RFC 4253 section 4.2).
pub fn take_line(buf: &[u8]) -> Take<Line> {
    let Some(end) = buf.iter().take(LINE_MAX + 2).position(|&b| b == b'\n') else {
        return if buf.len() > LINE_MAX {
            Take::Invalid(format!(
                "no identification line: {}",
                jcstar_model::escape_bytes(&buf[..64])
            ))
        } else {
            Take::NeedMore
        };
    };
    let line = &buf[..end];
    let parsed = if line.starts_with(b"SSH-") {
        let text = String::from_utf8_lossy(line);
        Line::Identification(text.trim_end_matches(['\r', '\n']).to_string())
    } else {
        Line::Other
    };
    Take::Done(parsed, end + 1)
}

/// The payload of the unencrypted binary packet at the start of `buf` (RFC 4253 section 6).
pub fn take_packet(buf: &[u8]) -> Take<Vec<u8>> {
    let (Some(length), Some(&padding)) = (buf.get(..4), buf.get(4)) else {
        return Take::NeedMore;
    };
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    let padding = usize::from(padding);
    if !(5..=PACKET_MAX).contains(&length) || padding + 1 > length {
        return Take::Invalid(format!("bad packet length {length}"));
    }
    match buf.get(5..4 + length - padding) {
        Some(payload) if buf.len() >= 4 + length => Take::Done(payload.to_vec(), 4 + length),
        _ => Take::NeedMore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_and_packets_are_taken_from_a_buffer() {
        assert_eq!(
            take_line(b"hello\r\nSSH-2.0-x\r\n"),
            Take::Done(Line::Other, 7)
        );
        assert_eq!(
            take_line(b"SSH-2.0-OpenSSH_9.2\r\n"),
            Take::Done(Line::Identification("SSH-2.0-OpenSSH_9.2".into()), 21)
        );
        assert_eq!(take_line(b"SSH-2.0"), Take::NeedMore);
        assert!(matches!(take_line(&[b'x'; 300]), Take::Invalid(_)));
        let p = packet(b"\x14abc");
        assert_eq!(take_packet(&p), Take::Done(b"\x14abc".to_vec(), p.len()));
        assert_eq!(take_packet(&p[..p.len() - 1]), Take::NeedMore);
        assert!(matches!(take_packet(&[0xff, 0, 0, 0, 4]), Take::Invalid(_)));
    }

    proptest! {
        #[test]
        fn framing_garbage_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..1024)) {
            if let Take::Done(_, used) = take_line(&buf) {
                prop_assert!(used <= buf.len());
            }
            if let Take::Done(payload, used) = take_packet(&buf) {
                prop_assert!(used <= buf.len() && payload.len() < used);
            }
            let _ = parse_kexinit(&buf);
            let _ = parse_host_key(&buf);
        }

        #[test]
        fn packets_round_trip(payload in proptest::collection::vec(any::<u8>(), 1..4096)) {
            let p = packet(&payload);
            prop_assert_eq!(p.len() % 8, 0);
            prop_assert_eq!(take_packet(&p), Take::Done(payload, p.len()));
        }
    }

    fn sample() -> KexInit {
        KexInit {
            kex: vec![
                "curve25519-sha256".into(),
                "diffie-hellman-group1-sha1".into(),
            ],
            host_key: vec!["ssh-ed25519".into(), "ssh-dss".into()],
            ciphers_c2s: vec!["aes128-ctr".into(), "3des-cbc".into()],
            ciphers_s2c: vec!["aes128-ctr".into()],
            macs_c2s: vec!["hmac-md5".into()],
            macs_s2c: vec!["hmac-sha2-256".into()],
            compression_c2s: vec!["none".into()],
            compression_s2c: vec!["none".into(), "zlib@openssh.com".into()],
        }
    }

    #[test]
    fn kexinit_round_trips() {
        assert_eq!(parse_kexinit(&kexinit_payload(&sample())), Some(sample()));
    }

    #[test]
    fn truncated_or_garbage_kexinit_is_none() {
        let payload = kexinit_payload(&sample());
        for cut in 0..payload.len() {
            assert!(parse_kexinit(&payload[..cut]).is_none(), "cut {cut}");
        }
        let mut seed = 7u32;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let _ = parse_kexinit(&bytes);
            let _ = parse_host_key(&bytes);
            let _ = host_key_from_reply(&bytes, "x");
        }
        let mut huge = vec![20u8; 17];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_kexinit(&huge).is_none());
    }

    #[test]
    fn ed25519_blob_fingerprint() {
        let mut blob = Vec::new();
        put_string(&mut blob, b"ssh-ed25519");
        put_string(&mut blob, &[1u8; 32]);
        let key = parse_host_key(&blob).expect("parses");
        assert_eq!((key.key_type.as_str(), key.bits), ("ssh-ed25519", 256));
        assert!(key.fingerprint.starts_with("SHA256:"));
        assert_eq!(key.fingerprint.len(), 7 + 43);
    }

    #[test]
    fn packets_are_padded_to_the_block_size() {
        for n in 0..40 {
            let p = packet(&vec![5u8; n]);
            assert_eq!(p.len() % 8, 0);
            assert!(p[4] >= 4);
        }
    }
}
