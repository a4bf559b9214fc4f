//! TLS 1.3-only HTTPS: a certificate minted at lab start and the admin site behind it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::http::{self, Site};
use super::limits::Limits;

/// A device's TLS identity and the acceptor built from it.
pub(crate) struct TlsIdentity {
    pub certificate: CertificateDer<'static>,
    pub acceptor: TlsAcceptor,
}

/// Mints a self-signed ECDSA P-256 certificate for `address` and `dns_name`, and a
/// server configuration that speaks TLS 1.3 only.
pub(crate) fn identity(
    address: IpAddr,
    dns_name: &str,
    common_name: &str,
) -> Result<TlsIdentity, String> {
    identity_for(address, dns_name, common_name, &[&rustls::version::TLS13])
}

/// Mints a self-signed ECDSA P-256 certificate for `address` and `dns_name`, and a
/// server configuration that speaks exactly `versions`.
pub(crate) fn identity_for(
    address: IpAddr,
    dns_name: &str,
    common_name: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<TlsIdentity, String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("cannot generate a key: {e}"))?;
    let mut params = rcgen::CertificateParams::new(vec![address.to_string(), dns_name.to_owned()])
        .map_err(|e| format!("invalid certificate names: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let certificate = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the certificate: {e}"))?
        .der()
        .clone();
    let private_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("cannot enable the TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], private_key)
        .map_err(|e| format!("cannot use the certificate: {e}"))?;
    Ok(TlsIdentity {
        certificate,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

/// Completes the handshake within the idle deadline, then serves one HTTP request.
pub(crate) async fn serve(
    stream: TcpStream,
    local: SocketAddr,
    acceptor: &TlsAcceptor,
    site: &Site,
    limits: &Limits,
) {
    match tokio::time::timeout(limits.idle_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => http::serve(tls, local, site, limits).await,
        Ok(Err(error)) => tracing::trace!(%error, "TLS handshake failed"),
        Err(_) => tracing::trace!("TLS handshake timed out"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, RootCertStore};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio_rustls::TlsConnector;

    use crate::testing::start_lab;

    fn client(
        lab: &crate::DemoLab,
        version: &'static rustls::SupportedProtocolVersion,
    ) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots
            .add(lab.tls_certificate("hardened-device").unwrap().clone())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    #[tokio::test]
    async fn tls13_client_reads_the_page_by_ip_and_by_name() {
        let lab = start_lab(109).await;
        let connector = client(&lab, &rustls::version::TLS13);
        for name in ["127.77.109.2", "hardened-device.lab"] {
            let tcp = TcpStream::connect("127.77.109.2:8443").await.unwrap();
            let server_name = ServerName::try_from(name).unwrap().to_owned();
            let mut tls = connector.connect(server_name, tcp).await.unwrap();
            assert_eq!(
                tls.get_ref().1.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_3)
            );
            tls.write_all(b"GET / HTTP/1.1\r\nHost: hub\r\n\r\n")
                .await
                .unwrap();
            let mut page = Vec::new();
            tls.read_to_end(&mut page).await.unwrap();
            let page = String::from_utf8(page).unwrap();
            assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
            assert!(page.contains("<title>JCS-HUB-200</title>"));
        }

        let tcp = TcpStream::connect("127.77.109.2:8443").await.unwrap();
        let server_name = ServerName::try_from("127.77.109.2").unwrap().to_owned();
        let mut tls = connector.connect(server_name, tcp).await.unwrap();
        tls.write_all(b"GET /admin HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n")
            .await
            .unwrap();
        let mut page = Vec::new();
        tls.read_to_end(&mut page).await.unwrap();
        assert!(String::from_utf8_lossy(&page).starts_with("HTTP/1.1 401 "));
    }

    #[tokio::test]
    async fn tls12_only_client_fails_the_handshake() {
        let lab = start_lab(110).await;
        let connector = client(&lab, &rustls::version::TLS12);
        let tcp = TcpStream::connect("127.77.110.2:8443").await.unwrap();
        let server_name = ServerName::try_from("127.77.110.2").unwrap().to_owned();
        assert!(connector.connect(server_name, tcp).await.is_err());
    }
}
