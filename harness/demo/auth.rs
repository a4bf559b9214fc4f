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
                crate::probes::io::nonce(12),
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
                let named = value
                    .split(',')
                    .filter_map(|p| p.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("algorithm"))
                    .map(|(_, v)| v.trim().trim_matches('"'));
                named.map_or(true, |a| a.eq_ignore_ascii_case(algorithm))
                    && digest::verify(value, &request.method, self.realm, user, password)
            }
        }
    }
}
