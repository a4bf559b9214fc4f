//! Bounded I/O shared by every probe: each connect and read has a deadline, each response a
//! byte cap, and TLS is spoken without verifying the device (we test it, we do not trust it).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::budget::Connection;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use jcstar_model::outcome::{ExchangeError, Phase};

/// Time and size bounds of one probe connection.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Deadline of the TCP (and TLS) handshake.
    pub connect: Duration,
    /// Deadline of each wait for an answer.
    pub read: Duration,
    /// Most bytes kept from one answer.
    pub max_bytes: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            connect: Duration::from_secs(3),
            read: Duration::from_secs(5),
            max_bytes: 64 * 1024,
        }
    }
}

/// A byte stream to a device: plain TCP or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// Opens a TCP connection within the connect deadline, once the run's connection budget
/// admits it (the wait for the budget is not part of the deadline).
pub async fn connect(address: SocketAddr, bounds: &Bounds) -> io::Result<Connection> {
    crate::budget::connect(address, Some(bounds.connect)).await
}

/// Opens a plain or TLS connection; TLS accepts any certificate. A device whose TLS rustls
/// cannot speak (TLS 1.0/1.1 only, CBC or RSA key-exchange suites: old cameras' web UIs) is
/// reached on a second connection through OpenSSL with those legacy versions and suites
/// allowed, so its login gets the same checks as a modern one.
pub async fn open(address: SocketAddr, tls: bool, bounds: &Bounds) -> io::Result<BoxStream> {
    if !tls {
        return Ok(Box::new(connect(address, bounds).await?));
    }
    match open_modern(address, bounds).await {
        Err(e)
            if e.kind() != io::ErrorKind::TimedOut
                && e.kind() != io::ErrorKind::ConnectionRefused =>
        {
            tracing::debug!(%address, error = %e, "rustls handshake failed; trying legacy TLS");
            open_legacy(address, bounds).await.map_err(|legacy| {
                io::Error::new(
                    legacy.kind(),
                    format!("TLS handshake failed (modern: {e}; legacy TLS 1.0-1.2: {legacy})"),
                )
            })
        }
        other => other,
    }
}

/// TLS 1.2/1.3 through rustls.
async fn open_modern(address: SocketAddr, bounds: &Bounds) -> io::Result<BoxStream> {
    let connector = tokio_rustls::TlsConnector::from(modern_config()?);
    let tcp = connect(address, bounds).await?;
    let name = ServerName::IpAddress(address.ip().into());
    let stream = tokio::time::timeout(bounds.connect, connector.connect(name, tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    Ok(Box::new(stream))
}

/// The rustls client configuration every probe shares: safe defaults, any certificate.
fn modern_config() -> io::Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|builder| {
            Arc::new(
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyCertificate))
                    .with_no_client_auth(),
            )
        })
        .map_err(|e| e.to_string())
    });
    config.clone().map_err(io::Error::other)
}

/// TLS 1.0 to 1.2 with every suite OpenSSL still has (security level 0), no verification:
/// only to reach a device that speaks nothing newer.
async fn open_legacy(address: SocketAddr, bounds: &Bounds) -> io::Result<BoxStream> {
    let ssl = legacy_connector()?
        .configure()
        .map_err(io::Error::other)?
        .verify_hostname(false)
        .use_server_name_indication(false)
        .into_ssl("device")
        .map_err(io::Error::other)?;
    let tcp = connect(address, bounds).await?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(io::Error::other)?;
    tokio::time::timeout(bounds.connect, std::pin::Pin::new(&mut stream).connect())
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
        .map_err(io::Error::other)?;
    Ok(Box::new(stream))
}

/// The OpenSSL connector every legacy connection shares. Built once: building it reads the
/// system's CA store (verification is off, so only the cost is left), about 140 certificates
/// parsed per connection otherwise.
fn legacy_connector() -> io::Result<&'static openssl::ssl::SslConnector> {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
    static CONNECTOR: OnceLock<Result<SslConnector, String>> = OnceLock::new();
    let connector = CONNECTOR.get_or_init(|| {
        let build = || {
            let mut builder = SslConnector::builder(SslMethod::tls_client())?;
            builder.set_verify(SslVerifyMode::NONE);
            builder.set_min_proto_version(Some(SslVersion::TLS1))?;
            builder.set_max_proto_version(Some(SslVersion::TLS1_2))?;
            builder.set_cipher_list("ALL:@SECLEVEL=0")?;
            Ok::<_, openssl::error::ErrorStack>(builder.build())
        };
        build().map_err(|e| e.to_string())
    });
    connector.as_ref().map_err(|e| io::Error::other(e.clone()))
}

/// Why a bounded read stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The caller's condition was met.
    Done,
    /// The peer closed the connection.
    Closed,
    /// The byte cap was reached.
    Cap,
    /// The deadline passed.
    Timeout,
    /// The connection failed.
    Failed,
}

impl ReadEnd {
    /// What a read that ended this way without a complete `protocol` answer means, when it
    /// waited in `phase`.
    pub fn into_error(self, phase: Phase, protocol: &str) -> ExchangeError {
        match self {
            ReadEnd::Timeout => ExchangeError::NoAnswer { phase },
            ReadEnd::Closed | ReadEnd::Failed => ExchangeError::Closed { phase },
            ReadEnd::Done | ReadEnd::Cap => {
                ExchangeError::ProtocolError(format!("not a {protocol} answer"))
            }
        }
    }
}

/// What a failed connect (TCP or TLS) means.
pub fn connect_error(error: &io::Error) -> ExchangeError {
    ExchangeError::from_io(error, Phase::Connect)
}

/// Reads into `buf` until `done(buf)` holds, the peer closes, `cap` bytes are held, or
/// `deadline` passes.
pub async fn read_until<S, F>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    cap: usize,
    deadline: Instant,
    mut done: F,
) -> ReadEnd
where
    S: AsyncRead + Unpin + ?Sized,
    F: FnMut(&[u8]) -> bool,
{
    let mut chunk = [0u8; 4096];
    loop {
        if done(buf) {
            return ReadEnd::Done;
        }
        if buf.len() >= cap {
            return ReadEnd::Cap;
        }
        let room = (cap - buf.len()).min(chunk.len());
        match timeout_at(deadline, stream.read(&mut chunk[..room])).await {
            Err(_) => return ReadEnd::Timeout,
            Ok(Err(_)) => return ReadEnd::Failed,
            Ok(Ok(0)) => return ReadEnd::Closed,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads exactly `n` bytes before `deadline`, or `None`.
pub async fn read_exact<S>(stream: &mut S, n: usize, deadline: Instant) -> Option<Vec<u8>>
where
    S: AsyncRead + Unpin + ?Sized,
{
    let mut out = vec![0u8; n];
    match timeout_at(deadline, stream.read_exact(&mut out)).await {
        Ok(Ok(_)) => Some(out),
        _ => None,
    }
}

/// Writes all of `bytes` before `deadline`.
pub async fn send<S>(stream: &mut S, bytes: &[u8], deadline: Instant) -> io::Result<()>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    timeout_at(deadline, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "send timed out"))?
}

/// A random lowercase hex string of `bytes * 2` characters.
pub fn nonce(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    if getrandom::fill(&mut raw).is_err() {
        // Uniqueness, not secrecy, is what matters: fall back to the clock.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in raw.iter_mut().enumerate() {
            *b = (now >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// Case-insensitive search of an ASCII needle in device bytes.
pub fn contains_ci(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Accepts every certificate: the probe needs the channel, not the device's identity.
#[derive(Debug)]
struct AnyCertificate;

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(8), nonce(8));
        assert_eq!(nonce(8).len(), 16);
    }

    /// `openssl s_server` speaking TLS 1.0 only (as old camera web UIs do), for at most
    /// `accepts` connections and 30 s; killed when dropped.
    struct LegacyServer {
        child: std::process::Child,
        address: SocketAddr,
        _dir: tempfile::TempDir,
    }

    impl Drop for LegacyServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn legacy_server(accepts: u32) -> LegacyServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["cam.lab".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        std::fs::write(dir.path().join("c.pem"), cert.pem()).expect("cert file");
        std::fs::write(dir.path().join("k.pem"), key.serialize_pem()).expect("key file");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new("timeout")
            .arg("30")
            .arg("openssl")
            .args([
                "s_server",
                "-quiet",
                "-www",
                "-tls1",
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(["-naccept", &accepts.to_string()])
            .arg("-cert")
            .arg(dir.path().join("c.pem"))
            .arg("-key")
            .arg(dir.path().join("k.pem"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server runs (Debian package openssl, in tests/lab/packages.txt)");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..100 {
            if std::net::TcpStream::connect(address).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        LegacyServer {
            child,
            address,
            _dir: dir,
        }
    }

    /// Every connection a probe opens is counted for its service, so a verdict can say how
    /// many of a device's connections were jcstar's own.
    #[tokio::test]
    async fn connections_are_counted_per_service() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            for _ in 0..3 {
                let _ = listener.accept().await;
            }
        });
        let bounds = Bounds::default();
        let before = crate::ledger::opened(address);
        for _ in 0..3 {
            connect(address, &bounds).await.expect("connects");
        }
        assert_eq!(crate::ledger::opened(address), before + 3);
    }

    /// A TLS 1.0-only web server (OpenSSL's s_server): rustls cannot speak to it, the legacy
    /// path can, so HTTPS probes reach it.
    #[tokio::test]
    async fn a_tls_1_0_only_web_server_is_reached_through_the_legacy_path() {
        // One accept is spent on the readiness probe above.
        let server = legacy_server(4);
        let bounds = Bounds {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(5),
            max_bytes: 64 * 1024,
        };
        assert!(
            open_modern(server.address, &bounds).await.is_err(),
            "rustls: no TLS 1.0"
        );
        let response = crate::probes::http::get(server.address, true, "/", None, &bounds)
            .await
            .expect("HTTPS over TLS 1.0");
        assert_eq!(response.status, 200);
        let page = String::from_utf8_lossy(&response.body);
        assert!(page.contains("TLSv1"), "{page}");
    }
}
