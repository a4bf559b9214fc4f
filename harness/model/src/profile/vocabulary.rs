//! The names the policy tables of a profile may use. A key outside these lists is a typo (or
//! something jcstar never reports), and a typo would silently drop a rating, so loading refuses
//! it. The checks that rate what they see use the same names (tests keep them in step).

/// `[tls_policy] versions`, by OpenSSL name.
pub const TLS_VERSIONS: &[&str] = &["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// `[tls_policy] key_exchange` classes.
pub const KEY_EXCHANGES: &[&str] = &[
    "null",
    "psk",
    "krb5",
    "srp",
    "rsa",
    "dh",
    "dhe",
    "ecdh",
    "ecdhe",
    "anonymous",
    "eccpwd",
    "tls13",
    "export",
];

/// `[tls_policy] ciphers` classes: a stream or fixed cipher, or a block cipher family and mode.
pub fn is_cipher_class(name: &str) -> bool {
    const WHOLE: &[&str] = &[
        "null",
        "des",
        "3des",
        "rc2",
        "rc4",
        "idea",
        "seed",
        "chacha20-poly1305",
        "aegis",
    ];
    const FAMILIES: &[&str] = &["aes", "aria", "camellia", "sm4"];
    const MODES: &[&str] = &["cbc", "gcm", "ccm", "null"];
    WHOLE.contains(&name)
        || name
            .split_once('-')
            .is_some_and(|(family, mode)| FAMILIES.contains(&family) && MODES.contains(&mode))
}

/// `[tls_policy] groups`, by IANA name (TLS Supported Groups registry); an unnamed group is
/// written as its value, e.g. `0x6399`.
pub const TLS_GROUPS: &[&str] = &[
    "x25519",
    "secp256r1",
    "secp384r1",
    "secp521r1",
    "x448",
    "secp224r1",
    "secp256k1",
    "brainpoolP256r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
    "brainpoolP256r1tls13",
    "brainpoolP384r1tls13",
    "brainpoolP512r1tls13",
    "ffdhe2048",
    "ffdhe3072",
    "ffdhe4096",
    "ffdhe6144",
    "ffdhe8192",
    "X25519MLKEM768",
    "SecP256r1MLKEM768",
    "SecP384r1MLKEM1024",
    "secp192r1",
    "secp224k1",
    "secp192k1",
    "secp160r2",
    "secp160r1",
    "secp160k1",
];

/// Whether `name` is a group the `groups` table may rate.
pub fn is_tls_group(name: &str) -> bool {
    TLS_GROUPS.contains(&name)
        || name
            .strip_prefix("0x")
            .is_some_and(|hex| hex.len() == 4 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `[tls_policy] signature_hashes`: the hash of a certificate signature (`intrinsic` for
/// Ed25519/Ed448, `unknown` for an algorithm jcstar does not name).
pub const SIGNATURE_HASHES: &[&str] = &[
    "md2",
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "intrinsic",
    "unknown",
];

/// `[tls_policy] plaintext_channels`: the channels that carry logins in plaintext.
pub const PLAINTEXT_CHANNELS: &[&str] =
    &["telnet", "ftp", "http_login", "mqtt", "rtsp_basic", "snmp"];

/// Whether `name` looks like an SSH algorithm name (RFC 4251 section 6: printable US-ASCII
/// without commas or spaces, at most 64 characters, `@domain` for local names).
pub fn is_ssh_algorithm_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != ',' && !c.is_ascii_uppercase())
        && name.matches('@').count() <= 1
}
