//! A well-configured TLS device: rustls with TLS 1.2 and 1.3, AEAD suites only (rustls offers
//! nothing else) and an ECDSA P-256 certificate minted at lab start.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use super::tls::TlsIdentity;

/// Mints the certificate and a TLS 1.2 + 1.3 server configuration.
pub(crate) fn identity(
    address: IpAddr,
    dns_name: &str,
    common_name: &str,
) -> Result<TlsIdentity, String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("cannot generate a key: {e}"))?;
    let mut params = rcgen::CertificateParams::new(vec![address.to_string(), dns_name.to_owned()])
        .map_err(|e| format!("invalid certificate names: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let certificate: CertificateDer<'static> = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the certificate: {e}"))?
        .der()
        .clone();
    let private_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(|e| format!("cannot enable TLS 1.2 and 1.3: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], private_key)
        .map_err(|e| format!("cannot use the certificate: {e}"))?;
    Ok(TlsIdentity {
        certificate,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}
