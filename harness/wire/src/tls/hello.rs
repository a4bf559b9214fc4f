//! Hand-built ClientHellos: any protocol version, any cipher-suite list, one or many groups.

use ring::rand::{SecureRandom, SystemRandom};

/// A protocol version jcstar probes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// SSL 3.0.
    Ssl3,
    /// TLS 1.0.
    Tls10,
    /// TLS 1.1.
    Tls11,
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 5] = [
        Version::Ssl3,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// The wire value (for TLS 1.3, the `supported_versions` value).
    pub fn wire(self) -> u16 {
        match self {
            Version::Ssl3 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    /// The name used in reports and in the profile, as OpenSSL spells it.
    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }
}

/// TLS 1.3 cipher suites (RFC 8446 and RFC 9150 is not offered: integrity-only).
pub const TLS13_SUITES: [u16; 5] = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];

/// Signaling values that are not cipher suites.
const NOT_SUITES: [u16; 2] = [0x00ff, 0x5600];

/// Every registered TLS ≤ 1.2 cipher suite of the IANA registry (tls-parser's table).
pub fn legacy_suites() -> Vec<u16> {
    let mut ids: Vec<u16> = tls_parser::CIPHERS
        .keys()
        .copied()
        .filter(|id| !TLS13_SUITES.contains(id) && !NOT_SUITES.contains(id) && *id != 0)
        .filter(|id| tls_parser::TlsCipherSuite::from_id(*id).is_some_and(|s| !is_tls13(s)))
        .collect();
    ids.sort_unstable();
    ids
}

fn is_tls13(suite: &tls_parser::TlsCipherSuite) -> bool {
    suite.kx == tls_parser::TlsCipherKx::Tls13
}

/// Named groups offered for ECDHE/FFDHE and TLS 1.3 (IANA values).
pub const GROUPS: &[(u16, &str)] = &[
    (0x001d, "x25519"),
    (0x0017, "secp256r1"),
    (0x0018, "secp384r1"),
    (0x0019, "secp521r1"),
    (0x001e, "x448"),
    (0x0015, "secp224r1"),
    (0x0016, "secp256k1"),
    (0x001a, "brainpoolP256r1"),
    (0x001b, "brainpoolP384r1"),
    (0x001c, "brainpoolP512r1"),
    (0x001f, "brainpoolP256r1tls13"),
    (0x0020, "brainpoolP384r1tls13"),
    (0x0021, "brainpoolP512r1tls13"),
    (0x0100, "ffdhe2048"),
    (0x0101, "ffdhe3072"),
    (0x0102, "ffdhe4096"),
    (0x0103, "ffdhe6144"),
    (0x0104, "ffdhe8192"),
    (0x11ec, "X25519MLKEM768"),
    (0x11eb, "SecP256r1MLKEM768"),
    (0x11ed, "SecP384r1MLKEM1024"),
    (0x0013, "secp192r1"),
    (0x0014, "secp224k1"),
    (0x0012, "secp192k1"),
    (0x0011, "secp160r2"),
    (0x0010, "secp160r1"),
    (0x000f, "secp160k1"),
];

/// The name of a named group, or its hex value.
pub fn group_name(id: u16) -> String {
    GROUPS
        .iter()
        .find(|(g, _)| *g == id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("0x{id:04x}"))
}

/// Signature schemes offered: modern first, then SHA-1 and MD5 ones old servers need.
const SIGNATURE_SCHEMES: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401,
    0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202, 0x0101,
];

/// What a ClientHello offers.
#[derive(Debug, Clone)]
pub struct Hello<'a> {
    /// The version to negotiate.
    pub version: Version,
    /// Cipher suites, in preference order.
    pub suites: &'a [u16],
    /// Named groups for `supported_groups` (TLS 1.3 gets an empty `key_share`, so the server
    /// answers with a HelloRetryRequest naming the group it picked).
    pub groups: &'a [u16],
}

fn push_u16(buf: &mut Vec<u8>, v: usize) {
    buf.extend_from_slice(&(v as u16).to_be_bytes());
}

fn extension(buf: &mut Vec<u8>, kind: u16, body: &[u8]) {
    push_u16(buf, kind as usize);
    push_u16(buf, body.len());
    buf.extend_from_slice(body);
}

/// A list of 16-bit values behind a 1- or 2-byte length, cut to what that length can say.
fn u16_list(values: &[u16], length_bytes: usize) -> Vec<u8> {
    let max = if length_bytes == 1 { 127 } else { 32_767 };
    let values = &values[..values.len().min(max)];
    let mut body = Vec::with_capacity(values.len() * 2 + 2);
    if length_bytes == 1 {
        body.push((values.len() * 2) as u8);
    } else {
        push_u16(&mut body, values.len() * 2);
    }
    for v in values {
        body.extend_from_slice(&v.to_be_bytes());
    }
    body
}

/// Builds the ClientHello record. Never offers the fallback SCSV; SSLv3 hellos carry no
/// extensions (SSLv3 servers may reject them).
pub fn client_hello(hello: &Hello<'_>) -> Vec<u8> {
    let legacy_version = match hello.version {
        Version::Tls13 => Version::Tls12,
        v => v,
    };
    let mut suites: Vec<u16> = hello.suites.to_vec();
    if hello.version != Version::Ssl3 && hello.version != Version::Tls13 {
        // TLS_EMPTY_RENEGOTIATION_INFO_SCSV: some servers insist on secure renegotiation.
        suites.push(0x00ff);
    }
    let extensions = (hello.version != Version::Ssl3).then(|| {
        let mut ext = Vec::with_capacity(256);
        if !hello.groups.is_empty() {
            extension(&mut ext, 0x000a, &u16_list(hello.groups, 2));
            extension(&mut ext, 0x000b, &[1, 0]);
        }
        extension(&mut ext, 0x000d, &u16_list(SIGNATURE_SCHEMES, 2));
        extension(&mut ext, 0x0017, &[]);
        if hello.version == Version::Tls13 {
            extension(&mut ext, 0x002b, &u16_list(&[Version::Tls13.wire()], 1));
            extension(&mut ext, 0x002d, &[1, 1]);
            extension(&mut ext, 0x0033, &[0, 0]);
        }
        ext
    });
    let record_version = match hello.version {
        Version::Ssl3 => Version::Ssl3,
        _ => Version::Tls10,
    };
    assemble(record_version, legacy_version, &suites, extensions)
}

/// Suites of the identification hello: TLS 1.3's, ECDHE with GCM/ChaCha, then the CBC and
/// RSA key-exchange suites old firmware still needs.
const IDENTIFICATION_SUITES: [u16; 14] = [
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f,
];

/// A ClientHello any TLS 1.2 or TLS 1.3-only server answers with a ServerHello: it offers
/// both versions, modern and common legacy suites, and an x25519 key share (random bytes:
/// the handshake is never finished, only the server's first answer matters). Service
/// identification sends it to learn whether a port speaks TLS at all.
pub fn identification_hello() -> Vec<u8> {
    let mut key = [0u8; 32];
    // A failing system RNG leaves zeros, which servers accept just the same.
    let _ = SystemRandom::new().fill(&mut key);
    let mut ext = Vec::with_capacity(256);
    extension(
        &mut ext,
        0x002b,
        &u16_list(&[Version::Tls13.wire(), Version::Tls12.wire()], 1),
    );
    extension(&mut ext, 0x000a, &u16_list(&[0x001d, 0x0017, 0x0018], 2));
    extension(&mut ext, 0x000b, &[1, 0]);
    extension(&mut ext, 0x000d, &u16_list(SIGNATURE_SCHEMES, 2));
    extension(&mut ext, 0x0017, &[]);
    extension(&mut ext, 0xff01, &[0]);
    extension(&mut ext, 0x002d, &[1, 1]);
    let mut share = Vec::with_capacity(38);
    push_u16(&mut share, 36);
    share.extend_from_slice(&[0x00, 0x1d, 0x00, 0x20]);
    share.extend_from_slice(&key);
    extension(&mut ext, 0x0033, &share);
    assemble(
        Version::Tls10,
        Version::Tls12,
        &IDENTIFICATION_SUITES,
        Some(ext),
    )
}

/// Wraps a hello body (fresh random and session id, `suites`, null compression and the
/// extension block, padded per RFC 7685) in a handshake message and a record.
fn assemble(
    record_version: Version,
    legacy_version: Version,
    suites: &[u16],
    extensions: Option<Vec<u8>>,
) -> Vec<u8> {
    let mut random = [0u8; 32];
    let mut session_id = [0u8; 32];
    let rng = SystemRandom::new();
    // A failing system RNG leaves zeros, which servers accept just the same.
    let _ = rng.fill(&mut random);
    let _ = rng.fill(&mut session_id);

    let mut body = Vec::with_capacity(1024);
    body.extend_from_slice(&legacy_version.wire().to_be_bytes());
    body.extend_from_slice(&random);
    body.push(32);
    body.extend_from_slice(&session_id);
    body.extend_from_slice(&u16_list(suites, 2));
    body.extend_from_slice(&[1, 0]);

    if let Some(mut ext) = extensions {
        // RFC 7685 padding keeps the hello out of the 256–511 byte range some servers choke on.
        // The padding extension's own 4 bytes may already carry a 509–511 byte hello past 512.
        let unpadded = 4 + body.len() + 2 + ext.len();
        if (256..512).contains(&unpadded) {
            let pad = 508usize.saturating_sub(unpadded);
            extension(&mut ext, 0x0015, &vec![0u8; pad]);
        }
        push_u16(&mut body, ext.len());
        body.extend_from_slice(&ext);
    }

    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(1);
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);

    let mut record = Vec::with_capacity(handshake.len() + 5);
    record.push(22);
    record.extend_from_slice(&record_version.wire().to_be_bytes());
    push_u16(&mut record, handshake.len());
    record.extend_from_slice(&handshake);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every suite count a scan can reach builds a hello whose lengths add up (tls-parser reads
    /// it back), including the counts that land a hello at 509–511 bytes before padding, where
    /// the padding arithmetic once underflowed.
    #[test]
    fn any_suite_count_builds_a_consistent_hello() {
        let all: Vec<u16> = legacy_suites();
        for version in [
            Version::Ssl3,
            Version::Tls10,
            Version::Tls12,
            Version::Tls13,
        ] {
            for count in 0..=all.len() {
                let record = client_hello(&Hello {
                    version,
                    suites: &all[..count],
                    groups: &[0x001d, 0x0017],
                });
                let (rest, parsed) =
                    tls_parser::parse_tls_plaintext(&record).expect("a parsable record");
                assert!(rest.is_empty(), "{version:?} {count}");
                let Some(tls_parser::TlsMessage::Handshake(
                    tls_parser::TlsMessageHandshake::ClientHello(hello),
                )) = parsed.msg.first()
                else {
                    panic!("{version:?} {count}: not a ClientHello");
                };
                let scsv = usize::from(!matches!(version, Version::Ssl3 | Version::Tls13));
                assert_eq!(hello.ciphers.len(), count + scsv, "{version:?} {count}");
                assert!(
                    !(256..512).contains(&record.len().saturating_sub(5))
                        || version == Version::Ssl3
                );
            }
        }
    }

    #[test]
    fn registry_covers_legacy_classes() {
        let suites = legacy_suites();
        assert!(suites.len() > 300, "{}", suites.len());
        for id in [
            0x0001u16, 0x0003, 0x0005, 0x0009, 0x000a, 0x0018, 0x002f, 0xc02f,
        ] {
            assert!(suites.contains(&id), "{id:04x}");
        }
        assert!(!suites.contains(&0x00ff));
        assert!(!suites.contains(&0x1301));
    }

    #[test]
    fn hello_parses_back_with_tls_parser() {
        let suites = legacy_suites();
        for version in Version::ALL {
            let record = client_hello(&Hello {
                version,
                suites: if version == Version::Tls13 {
                    &TLS13_SUITES
                } else {
                    &suites
                },
                groups: &[0x001d, 0x0017],
            });
            let (rest, plain) = tls_parser::parse_tls_plaintext(&record).expect("parses");
            assert!(rest.is_empty());
            let Some(tls_parser::TlsMessage::Handshake(
                tls_parser::TlsMessageHandshake::ClientHello(ch),
            )) = plain.msg.first()
            else {
                panic!("not a ClientHello");
            };
            assert!(
                !ch.ciphers.iter().any(|c| c.0 == 0x5600),
                "no fallback SCSV"
            );
            let expected = if version == Version::Tls13 {
                0x0303
            } else {
                version.wire()
            };
            assert_eq!(ch.version.0, expected);
            assert!(!(256..512).contains(&(record.len() - 5)));
        }
    }

    /// The identification hello offers TLS 1.3 and 1.2 with an x25519 key share, parses back,
    /// and carries a fresh random each time.
    #[test]
    fn identification_hello_offers_both_versions() {
        let record = identification_hello();
        let (rest, plain) = tls_parser::parse_tls_plaintext(&record).expect("parses");
        assert!(rest.is_empty());
        let Some(tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(
            ch,
        ))) = plain.msg.first()
        else {
            panic!("not a ClientHello");
        };
        assert_eq!(ch.version.0, 0x0303);
        assert_eq!(ch.ciphers.len(), IDENTIFICATION_SUITES.len());
        let (_, exts) = tls_parser::parse_tls_client_hello_extensions(ch.ext.unwrap_or_default())
            .expect("extensions parse");
        assert!(exts.iter().any(|e| matches!(
            e,
            tls_parser::TlsExtension::SupportedVersions(v)
                if v.iter().map(|v| v.0).collect::<Vec<_>>() == [0x0304, 0x0303]
        )));
        assert!(exts.iter().any(|e| matches!(
            e,
            tls_parser::TlsExtension::KeyShare(share) if share.len() == 38
        )));
        assert!(!(256..512).contains(&(record.len() - 5)));
        assert_ne!(
            identification_hello()[11..43],
            record[11..43],
            "fresh random"
        );
    }

    proptest::proptest! {
        /// Any suite and group lists, of any length, build a hello tls-parser reads back whole.
        #[test]
        fn any_offer_builds_a_parsable_hello(
            suites in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..400),
            groups in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..80),
            version in 0usize..5,
        ) {
            let record = client_hello(&Hello { version: Version::ALL[version], suites: &suites, groups: &groups });
            let (rest, _) = tls_parser::parse_tls_plaintext(&record).expect("a parsable record");
            proptest::prop_assert!(rest.is_empty());
        }
    }
}
