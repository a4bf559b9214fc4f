//! A well-configured TLS device: rustls with TLS 1.2 and 1.3, AEAD suites only (rustls offers
//! nothing else) and an ECDSA P-256 certificate minted at lab start.

use std::net::IpAddr;

use super::tls::{identity_for, TlsIdentity};

/// Mints the certificate and a TLS 1.2 + 1.3 server configuration.
pub(crate) fn identity(
    address: IpAddr,
    dns_name: &str,
    common_name: &str,
) -> Result<TlsIdentity, String> {
    identity_for(
        address,
        dns_name,
        common_name,
        &[&rustls::version::TLS12, &rustls::version::TLS13],
    )
}
