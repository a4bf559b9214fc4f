//! HTTP/RTSP authentication headers: parsing `WWW-Authenticate` challenges and answering them
//! with Basic or Digest (RFC 7616: MD5, SHA-256, with or without `qop=auth`).

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// A challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm=…`.
    Basic {
        /// The realm.
        realm: String,
    },
    /// `Digest realm=… nonce=… [qop=…] [algorithm=…] [opaque=…]`.
    Digest {
        /// The realm.
        realm: String,
        /// The server nonce.
        nonce: String,
        /// `auth` when the server offers it.
        qop_auth: bool,
        /// `MD5` or `SHA-256` (as given).
        algorithm: String,
        /// Opaque value to echo back.
        opaque: Option<String>,
    },
}

impl Challenge {
    /// The scheme name for reports.
    pub fn scheme(&self) -> &'static str {
        match self {
            Challenge::Basic { .. } => "Basic",
            Challenge::Digest { .. } => "Digest",
        }
    }
}

/// Parses every challenge jcstar can answer from the values of `WWW-Authenticate` headers;
/// Digest first (it is what a client should prefer), SHA-256 before MD5.
pub fn parse_challenges(values: &[String]) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in values {
        // A value with a line break or NUL cannot be answered without breaking the request.
        if value.contains(['\r', '\n', '\0']) {
            continue;
        }
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let params = parse_params(rest);
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        if scheme.eq_ignore_ascii_case("basic") {
            out.push(Challenge::Basic {
                realm: get("realm").unwrap_or_default(),
            });
        } else if scheme.eq_ignore_ascii_case("digest") {
            let algorithm = get("algorithm").unwrap_or_else(|| "MD5".to_string());
            if !matches!(algorithm.to_ascii_uppercase().as_str(), "MD5" | "SHA-256") {
                continue;
            }
            let Some(nonce) = get("nonce") else { continue };
            let qop = get("qop").unwrap_or_default();
            out.push(Challenge::Digest {
                realm: get("realm").unwrap_or_default(),
                nonce,
                qop_auth: qop
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth")),
                algorithm,
                opaque: get("opaque"),
            });
        }
    }
    out.sort_by_key(|c| match c {
        Challenge::Digest { algorithm, .. } if algorithm.eq_ignore_ascii_case("SHA-256") => 0,
        Challenge::Digest { .. } => 1,
        Challenge::Basic { .. } => 2,
    });
    out
}

/// `key=value, key="quoted value"` pairs; malformed input yields what could be read.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_string();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = quoted.get(end..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        out.push((key, value));
    }
    out
}

fn hex_hash(algorithm: &str, data: &str) -> String {
    let bytes: Vec<u8> = if algorithm.eq_ignore_ascii_case("SHA-256") {
        Sha256::digest(data.as_bytes()).to_vec()
    } else {
        Md5::digest(data.as_bytes()).to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Authorization` header value answering `challenge` for `method uri`; `cnonce` is the
/// client nonce a `qop=auth` Digest answer carries (a fresh random one per request).
pub fn authorization(
    challenge: &Challenge,
    method: &str,
    uri: &str,
    credential: (&str, &str),
    cnonce: &str,
) -> String {
    let (user, password) = credential;
    match challenge {
        Challenge::Basic { .. } => {
            format!(
                "Basic {}",
                data_encoding::BASE64.encode(format!("{user}:{password}").as_bytes())
            )
        }
        Challenge::Digest {
            realm,
            nonce,
            qop_auth,
            algorithm,
            opaque,
        } => {
            let ha1 = hex_hash(algorithm, &format!("{user}:{realm}:{password}"));
            let ha2 = hex_hash(algorithm, &format!("{method}:{uri}"));
            let mut header = format!(
                "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm={}",
                quote(user),
                quote(realm),
                quote(nonce),
                quote(uri),
                algorithm
            );
            let response = if *qop_auth {
                let nc = "00000001";
                header.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
                hex_hash(
                    algorithm,
                    &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"),
                )
            } else {
                hex_hash(algorithm, &format!("{ha1}:{nonce}:{ha2}"))
            };
            header.push_str(&format!(", response=\"{response}\""));
            if let Some(opaque) = opaque {
                header.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
            }
            header
        }
    }
}

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 7616 section 3.9.1 example (MD5 and SHA-256, qop=auth).
    #[test]
    fn rfc_7616_example_hashes() {
        let ha1 = hex_hash("MD5", "Mufasa:http-auth@example.org:Circle of Life");
        let ha2 = hex_hash("MD5", "GET:/dir/index.html");
        let r = hex_hash(
            "MD5",
            &format!("{ha1}:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:{ha2}"),
        );
        assert_eq!(r, "8ca523f5e9506fed4657c9700eebdbec");
        let ha1 = hex_hash("SHA-256", "Mufasa:http-auth@example.org:Circle of Life");
        let ha2 = hex_hash("SHA-256", "GET:/dir/index.html");
        let r = hex_hash(
            "SHA-256",
            &format!("{ha1}:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:{ha2}"),
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn challenges_parse_in_preference_order() {
        let values = vec![
            "Basic realm=\"cam\"".to_string(),
            "Digest realm=\"cam\", nonce=\"abc\", qop=\"auth,auth-int\", algorithm=SHA-256, opaque=\"x\"".to_string(),
            "Digest realm=\"cam\", nonce=\"abc\"".to_string(),
            "Negotiate".to_string(),
        ];
        let parsed = parse_challenges(&values);
        assert_eq!(parsed.len(), 3);
        assert!(
            matches!(&parsed[0], Challenge::Digest { algorithm, qop_auth: true, .. } if algorithm == "SHA-256")
        );
        assert!(
            authorization(&parsed[0], "GET", "/", ("admin", "admin"), "n").contains("cnonce=\"n\"")
        );
        assert!(!authorization(&parsed[1], "GET", "/", ("admin", "admin"), "n").contains("cnonce"));
        assert_eq!(
            authorization(&parsed[2], "GET", "/", ("admin", "admin"), "n"),
            "Basic YWRtaW46YWRtaW4="
        );
    }

    /// The answer to RFC 7616 section 3.9.1's MD5 challenge carries the RFC's response.
    #[test]
    fn digest_answer_matches_rfc_7616() {
        let challenge = Challenge::Digest {
            realm: "http-auth@example.org".into(),
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into(),
            qop_auth: true,
            algorithm: "MD5".into(),
            opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".into()),
        };
        let header = authorization(
            &challenge,
            "GET",
            "/dir/index.html",
            ("Mufasa", "Circle of Life"),
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        assert!(
            header.contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            "{header}"
        );
        assert!(header.contains("nc=00000001"), "{header}");
    }

    #[test]
    fn garbage_headers_do_not_panic() {
        for v in [
            "Digest",
            "Digest nonce=\"",
            "Digest =,=,\"",
            "Basic",
            "\u{0}\u{ff}",
        ] {
            let _ = parse_challenges(&[v.to_string()]);
        }
    }

    fn any_text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
    }

    proptest! {
        /// Any header value, and Basic/Digest challenges with any realm, nonce and opaque,
        /// parse without panicking, and every challenge found is answered on one line.
        #[test]
        fn arbitrary_challenges_are_answered_on_one_line(
            raw in any_text(300),
            realm in any_text(60),
            nonce in any_text(60),
            opaque in any_text(20),
            sha256 in any::<bool>(),
        ) {
            let algorithm = if sha256 { "SHA-256" } else { "MD5" };
            let values = [
                raw,
                format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", qop=\"auth\", algorithm={algorithm}, opaque=\"{opaque}\""),
                format!("Basic realm=\"{realm}\""),
            ];
            for challenge in parse_challenges(&values) {
                let header = authorization(&challenge, "GET", "/", ("admin", "pw"), "0a4f113b");
                prop_assert!(!header.contains(['\r', '\n', '\0']), "{header:?}");
            }
        }
    }
}
