//! Certificate facts with x509-parser: key, signature, validity, names, fingerprints.

use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// What a certificate says about its own strength and validity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertFacts {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub sans: Vec<String>,
    /// `rsa`, `ec`, `ed25519`, `ed448`, `dsa` or the algorithm OID.
    pub key_type: String,
    /// Key size in bits (RSA modulus, EC field size), 0 if unknown.
    pub key_bits: u32,
    /// Named curve for EC keys.
    pub curve: Option<String>,
    /// Signature algorithm name, e.g. `sha1WithRSAEncryption`.
    pub signature_algorithm: String,
    /// Hash of the signature: `md5`, `sha1`, `sha256`, …, `intrinsic` (EdDSA) or `unknown`.
    pub signature_hash: String,
    /// notBefore, `YYYY-MM-DD`.
    pub not_before: String,
    /// notAfter, `YYYY-MM-DD`.
    pub not_after: String,
    /// notAfter lies in the past.
    pub expired: bool,
    /// notBefore lies in the future.
    pub not_yet_valid: bool,
    /// Issuer equals subject and the signature verifies with the certificate's own key.
    pub self_signed: bool,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub sha256: String,
    /// SHA-256 of the SubjectPublicKeyInfo, lowercase hex (identifies the key pair).
    pub spki_sha256: String,
}

impl CertFacts {
    /// "RSA-1024", "ECDSA P-256", "Ed25519".
    pub fn key_label(&self) -> String {
        match (self.key_type.as_str(), &self.curve) {
            ("rsa", _) => format!("RSA-{}", self.key_bits),
            ("ec", Some(curve)) => format!("ECDSA {curve}"),
            ("ec", None) => format!("ECDSA-{}", self.key_bits),
            ("ed25519", _) => "Ed25519".to_string(),
            ("dsa", _) => format!("DSA-{}", self.key_bits),
            (other, _) => format!("{other}-{}", self.key_bits),
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Parses a DER certificate; `None` if it is not one.
pub fn analyse(der: &[u8], now: chrono::DateTime<chrono::Utc>) -> Option<CertFacts> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let spki = &tbs.subject_pki;
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let (key_type, key_bits, curve) = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("rsa".to_string(), rsa.key_size() as u32, None),
        Ok(PublicKey::EC(ec)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| curve_name(&oid.to_id_string()));
            ("ec".to_string(), ec.key_size() as u32, curve)
        }
        Ok(PublicKey::DSA(y)) => ("dsa".to_string(), (y.len() * 8) as u32, None),
        _ => match key_oid.as_str() {
            "1.3.101.112" => ("ed25519".to_string(), 256, None),
            "1.3.101.113" => ("ed448".to_string(), 456, None),
            other => (other.to_string(), 0, None),
        },
    };
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    let (signature_algorithm, signature_hash) = signature_name(&sig_oid);
    let not_before = tbs.validity.not_before.timestamp();
    let not_after = tbs.validity.not_after.timestamp();
    let date = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| t.to_string())
    };
    let sans = tbs
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    GeneralName::IPAddress(ip) => ip_text(ip),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let self_signed =
        tbs.subject.as_raw() == tbs.issuer.as_raw() && cert.verify_signature(Some(spki)).is_ok();
    Some(CertFacts {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        sans,
        key_type,
        key_bits,
        curve,
        signature_algorithm,
        signature_hash,
        not_before: date(not_before),
        not_after: date(not_after),
        expired: not_after < now.timestamp(),
        not_yet_valid: not_before > now.timestamp(),
        self_signed,
        sha256: sha256_hex(der),
        spki_sha256: sha256_hex(spki.raw),
    })
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.33" => "P-224".into(),
        "1.2.840.10045.3.1.1" => "P-192".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        other => other.into(),
    }
}

/// (name, hash) of a signature algorithm OID.
fn signature_name(oid: &str) -> (String, String) {
    let (name, hash) = match oid {
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", "md2"),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", "md5"),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", "sha1"),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", "sha224"),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", "sha256"),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", "sha384"),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", "sha512"),
        "1.2.840.113549.1.1.10" => ("rsassaPss", "unknown"),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", "sha1"),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", "sha224"),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", "sha256"),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", "sha384"),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", "sha512"),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", "sha1"),
        "2.16.840.1.101.3.4.3.2" => ("dsa-with-sha256", "sha256"),
        "1.3.101.112" => ("ED25519", "intrinsic"),
        "1.3.101.113" => ("ED448", "intrinsic"),
        other => return (other.to_string(), "unknown".to_string()),
    };
    (name.to_string(), hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcgen_p256_certificate_facts() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["dev.lab".to_string(), "127.0.0.1".to_string()])
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        let facts = analyse(cert.der(), chrono::Utc::now()).expect("parses");
        assert_eq!(facts.key_label(), "ECDSA P-256");
        assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
        assert!(facts.self_signed);
        assert!(!facts.expired && !facts.not_yet_valid);
        assert_eq!(facts.sans, ["dev.lab", "127.0.0.1"]);
        assert_eq!(facts.sha256.len(), 64);
        assert_ne!(facts.sha256, facts.spki_sha256);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(analyse(b"\x30\x82\x01", chrono::Utc::now()).is_none());
        assert!(analyse(&[0u8; 300], chrono::Utc::now()).is_none());
    }

    proptest::proptest! {
        /// A real certificate with any bytes overwritten, cut short or extended parses to
        /// facts or to `None`, never to a panic.
        #[test]
        fn damaged_certificates_never_panic(
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 0..8),
            cut in proptest::prelude::any::<usize>(),
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16),
        ) {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let params = rcgen::CertificateParams::new(vec!["dev.lab".to_string()]).unwrap();
            let mut der = params.self_signed(&key).unwrap().der().to_vec();
            for (at, byte) in edits {
                let len = der.len();
                der[at % len] = byte;
            }
            der.truncate(cut % (der.len() + 1));
            der.extend_from_slice(&tail);
            let _ = analyse(&der, chrono::Utc::now());
        }
    }
}
