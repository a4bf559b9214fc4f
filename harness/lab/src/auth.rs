//! HTTP-style authentication (Basic, or Digest with MD5 / SHA-256 and `qop=auth`) shared by the
//! simulated HTTP and RTSP servers that protect a resource.

use super::request::Request;
use super::Credential;

/// How a protected resource asks for credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scheme {
    /// `Basic realm=…`.
    Basic,
    /// `Digest … qop="auth"` with the named algorithm (`MD5` or `SHA-256`).
    Digest(&'static str),
}

/// The authentication a protected resource demands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gate {
    /// The challenge scheme.
    pub scheme: Scheme,
    /// The realm in the challenge.
    pub realm: &'static str,
    /// The one credential that passes.
    pub credential: Credential,
    /// HTTP: whether a connection whose client asks to keep it alive gets several responses
    /// (as many camera web servers give), not one.
    pub keep_alive: bool,
}

impl Gate {
    /// The `WWW-Authenticate` value, with a fresh nonce for Digest.
    pub fn challenge(&self) -> String {
        match self.scheme {
            Scheme::Basic => format!("Basic realm=\"{}\"", self.realm),
            Scheme::Digest(algorithm) => format!(
                "Digest realm=\"{}\", qop=\"auth\", algorithm={algorithm}, nonce=\"{}\", opaque=\"{}\"",
                self.realm,
                issue_nonce(),
                random_hex(4),
            ),
        }
    }

    /// Whether `request` carries the gate's credential in its `Authorization` header.
    pub fn admits(&self, request: &Request) -> bool {
        let Some(value) = request.header("Authorization") else {
            return false;
        };
        let Credential { user, password } = self.credential;
        match self.scheme {
            Scheme::Basic => {
                let Some((scheme, token)) = value.split_once(' ') else {
                    return false;
                };
                let expected =
                    data_encoding::BASE64.encode(format!("{user}:{password}").as_bytes());
                scheme.eq_ignore_ascii_case("Basic") && token.trim() == expected
            }
            Scheme::Digest(algorithm) => {
                param(value, "algorithm").is_none_or(|a| a.eq_ignore_ascii_case(algorithm))
                    && param(value, "nonce").is_some_and(issued_here)
                    && param(value, "username") == Some(user)
                    && param(value, "realm") == Some(self.realm)
                    && param(value, "response").is_some_and(|response| {
                        response == digest_response(algorithm, value, &request.method, password)
                    })
            }
        }
    }
}

/// The `response` a client knowing `password` computes for the Digest header `header` (RFC 7616
/// section 3.4.1, with or without `qop=auth`), from the header's own parameters.
fn digest_response(algorithm: &str, header: &str, method: &str, password: &str) -> String {
    let get = |name| param(header, name).unwrap_or("");
    let hash = |data: String| -> String {
        let bytes: Vec<u8> = if algorithm.eq_ignore_ascii_case("SHA-256") {
            <sha2::Sha256 as sha2::Digest>::digest(data.as_bytes()).to_vec()
        } else {
            <md5::Md5 as md5::Digest>::digest(data.as_bytes()).to_vec()
        };
        data_encoding::HEXLOWER.encode(&bytes)
    };
    let ha1 = hash(format!("{}:{}:{password}", get("username"), get("realm")));
    let ha2 = hash(format!("{method}:{}", get("uri")));
    let nonce = get("nonce");
    if get("qop") == "auth" {
        let (nc, cnonce) = (get("nc"), get("cnonce"));
        hash(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
    } else {
        hash(format!("{ha1}:{nonce}:{ha2}"))
    }
}

/// `bytes` random bytes as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    if getrandom::fill(&mut raw).is_err() {
        // The demo's nonces need uniqueness, not secrecy: fall back to the clock.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in raw.iter_mut().enumerate() {
            *b = (now >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    data_encoding::HEXLOWER.encode(&raw)
}

/// A Digest header parameter's value (the demo's own nonces and names hold no commas).
fn param<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(',')
        .filter_map(|p| p.trim().split_once('='))
        .map(|(k, v)| (k.trim().rsplit(' ').next().unwrap_or(""), v))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// The key that signs this process's Digest nonces, so a nonce the server never issued is
/// refused, as a real server refuses it.
fn nonce_key() -> &'static ring::hmac::Key {
    static KEY: std::sync::OnceLock<ring::hmac::Key> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let secret = random_hex(32);
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes())
    })
}

fn nonce_tag(salt: &str) -> String {
    ring::hmac::sign(nonce_key(), salt.as_bytes()).as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh nonce: 16 random hex digits and their 16-digit tag.
fn issue_nonce() -> String {
    let salt = random_hex(8);
    let tag = nonce_tag(&salt);
    format!("{salt}{tag}")
}

fn issued_here(nonce: &str) -> bool {
    nonce.len() == 32 && nonce.is_char_boundary(16) && nonce_tag(&nonce[..16]) == nonce[16..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 section 3.9.1's MD5 example, computed by the lab's own code.
    #[test]
    fn digest_response_matches_rfc_7616() {
        let header = "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
            uri=\"/dir/index.html\", qop=auth, nc=00000001, \
            cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", \
            nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\"";
        assert_eq!(
            digest_response("MD5", header, "GET", "Circle of Life"),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn only_nonces_this_server_issued_are_accepted() {
        let nonce = issue_nonce();
        assert!(issued_here(&nonce));
        let mut forged = nonce.clone();
        forged.replace_range(31.., if nonce.ends_with('0') { "1" } else { "0" });
        assert!(!issued_here(&forged));
        assert!(!issued_here(&random_hex(16)));
        assert!(!issued_here("short"));
        assert!(!issued_here("ééééééééééééééééééé"));
    }

    #[test]
    fn digest_answer_to_a_foreign_nonce_is_refused() {
        let gate = Gate {
            scheme: Scheme::Digest("MD5"),
            realm: "JCS",
            credential: Credential {
                user: "admin",
                password: "admin",
            },
            keep_alive: false,
        };
        let answer = |nonce: &str| {
            let unsigned = format!(
                "Digest username=\"admin\", realm=\"JCS\", nonce=\"{nonce}\", uri=\"/admin\", \
                 algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\""
            );
            let response = digest_response("MD5", &unsigned, "GET", "admin");
            let lines = [
                "GET /admin HTTP/1.1".to_string(),
                format!("Authorization: {unsigned}, response=\"{response}\""),
            ];
            Request::parse(&lines).expect("request")
        };
        assert!(gate.admits(&answer(&issue_nonce())));
        assert!(!gate.admits(&answer(&random_hex(16))));
    }
}
