//! HTTP-style authentication (Basic, or Digest with MD5 / SHA-256 and `qop=auth`) shared by the
//! simulated HTTP and RTSP servers that protect a resource.

use super::request::Request;
use super::Credential;
use crate::probes::digest;

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
                crate::probes::io::nonce(4),
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
                let expected = crate::probes::io::base64(format!("{user}:{password}").as_bytes());
                scheme.eq_ignore_ascii_case("Basic") && token.trim() == expected
            }
            Scheme::Digest(algorithm) => {
                param(value, "algorithm").map_or(true, |a| a.eq_ignore_ascii_case(algorithm))
                    && param(value, "nonce").is_some_and(issued_here)
                    && digest::verify(value, &request.method, self.realm, user, password)
            }
        }
    }
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
        let secret = crate::probes::io::nonce(32);
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
    let salt = crate::probes::io::nonce(8);
    let tag = nonce_tag(&salt);
    format!("{salt}{tag}")
}

fn issued_here(nonce: &str) -> bool {
    nonce.len() == 32 && nonce.is_char_boundary(16) && nonce_tag(&nonce[..16]) == nonce[16..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nonces_this_server_issued_are_accepted() {
        let nonce = issue_nonce();
        assert!(issued_here(&nonce));
        let mut forged = nonce.clone();
        forged.replace_range(31.., if nonce.ends_with('0') { "1" } else { "0" });
        assert!(!issued_here(&forged));
        assert!(!issued_here(&crate::probes::io::nonce(16)));
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
        };
        let answer = |nonce: &str| {
            let challenge = digest::Challenge::Digest {
                realm: "JCS".into(),
                nonce: nonce.into(),
                qop_auth: true,
                algorithm: "MD5".into(),
                opaque: None,
            };
            let header = digest::authorization(&challenge, "GET", "/admin", "admin", "admin");
            let lines = [
                "GET /admin HTTP/1.1".to_string(),
                format!("Authorization: {header}"),
            ];
            Request::parse(&lines).expect("request")
        };
        assert!(gate.admits(&answer(&issue_nonce())));
        assert!(!gate.admits(&answer(&crate::probes::io::nonce(16))));
    }
}
