//! The parts of SSH inspection that need a complete key exchange, done with russh: the
//! authentication methods a server allows (`none` authentication as `root`, RFC 4252 §5.2: the
//! failure reply lists the methods that may continue) and host keys of servers whose key exchange
//! is classic Diffie-Hellman only (group1/group14), which the hand-written ECDH probe cannot do.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult};
use russh::keys::Algorithm;
use russh::{cipher, kex, mac, Preferred};

use super::wire::{parse_host_key, HostKey};

/// Key exchanges offered, strongest first; includes the legacy Diffie-Hellman groups so that
/// old servers still complete a key exchange (we inspect, we do not protect secrets).
const KEX: &[kex::Name] = &[
    kex::CURVE25519,
    kex::CURVE25519_PRE_RFC_8731,
    kex::ECDH_SHA2_NISTP256,
    kex::ECDH_SHA2_NISTP384,
    kex::ECDH_SHA2_NISTP521,
    kex::DH_GEX_SHA256,
    kex::DH_G16_SHA512,
    kex::DH_G14_SHA256,
    kex::DH_G14_SHA1,
    kex::DH_G1_SHA1,
    kex::EXTENSION_SUPPORT_AS_CLIENT,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];

/// Ciphers offered, CBC last for old servers.
const CIPHERS: &[cipher::Name] = &[
    cipher::CHACHA20_POLY1305,
    cipher::AES_256_GCM,
    cipher::AES_128_GCM,
    cipher::AES_256_CTR,
    cipher::AES_192_CTR,
    cipher::AES_128_CTR,
    cipher::AES_256_CBC,
    cipher::AES_128_CBC,
];

/// MACs offered.
const MACS: &[mac::Name] = &[
    mac::HMAC_SHA256_ETM,
    mac::HMAC_SHA512_ETM,
    mac::HMAC_SHA256,
    mac::HMAC_SHA512,
    mac::HMAC_SHA1_ETM,
    mac::HMAC_SHA1,
];

/// Records the server's host key blob and accepts or refuses it.
struct Capture {
    key: Arc<Mutex<Option<Vec<u8>>>>,
    accept: bool,
}

impl client::Handler for Capture {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::ssh_key::PublicKey,
    ) -> Result<bool, Self::Error> {
        if let (Ok(blob), Ok(mut slot)) = (key.to_bytes(), self.key.lock()) {
            *slot = Some(blob);
        }
        Ok(self.accept)
    }
}

fn config(host_key_algorithms: &[String], inactivity: Duration) -> Arc<client::Config> {
    let mut preferred = Preferred {
        kex: Cow::Borrowed(KEX),
        cipher: Cow::Borrowed(CIPHERS),
        mac: Cow::Borrowed(MACS),
        ..Preferred::default()
    };
    let keys: Vec<Algorithm> = host_key_algorithms
        .iter()
        .filter_map(|a| Algorithm::from_str(a).ok())
        .collect();
    if !keys.is_empty() {
        preferred.key = Cow::Owned(keys);
    }
    Arc::new(client::Config {
        inactivity_timeout: Some(inactivity),
        preferred,
        ..Default::default()
    })
}

/// The method names a failed `none` authentication lists, in the server's order.
fn method_names(methods: &[russh::MethodKind]) -> Vec<String> {
    methods
        .iter()
        .filter(|m| **m != russh::MethodKind::None)
        .map(|m| <&'static str>::from(m).to_string())
        .collect()
}

/// The authentication methods the server at `addr` offers `root` (empty when `none`
/// authentication itself succeeds), under one `deadline`.
pub async fn auth_methods(addr: SocketAddr, deadline: Duration) -> Result<Vec<String>, String> {
    let probe = async {
        let stream = crate::budget::connect(addr, None)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let handler = Capture {
            key: Arc::default(),
            accept: true,
        };
        let mut session = client::connect_stream(config(&[], deadline), stream, handler)
            .await
            .map_err(|e| format!("key exchange: {e}"))?;
        let result = session.authenticate_none("root").await;
        let _ = session
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        match result {
            Ok(AuthResult::Success) => Ok(vec!["none".to_string()]),
            Ok(AuthResult::Failure {
                remaining_methods, ..
            }) => Ok(method_names(&remaining_methods)),
            Err(e) => Err(format!("none authentication: {e}")),
        }
    };
    crate::budget::timeout(deadline, probe)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} ms", deadline.as_millis())))
}

/// Why a host key could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server did not finish the key exchange within the deadline.
    TimedOut(String),
    /// Anything else: refused connection, no common algorithm, malformed key.
    Other(String),
}

/// The host key the server at `addr` presents for `host_key_algorithm`, through a full key
/// exchange (any kex russh supports, classic Diffie-Hellman included). The key is refused once
/// seen, which ends the connection before authentication.
pub async fn host_key(
    addr: SocketAddr,
    host_key_algorithm: &str,
    deadline: Duration,
) -> Result<HostKey, Failure> {
    let slot: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let handler = Capture {
        key: slot.clone(),
        accept: false,
    };
    let algorithms = [host_key_algorithm.to_string()];
    let probe = async {
        let stream = crate::budget::connect(addr, None)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        client::connect_stream(config(&algorithms, deadline), stream, handler)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let outcome = crate::budget::timeout(deadline, probe).await;
    let blob = slot.lock().ok().and_then(|mut s| s.take());
    match (blob, outcome) {
        (Some(blob), _) => {
            let mut key = parse_host_key(&blob)
                .ok_or_else(|| Failure::Other("the server's host key is malformed".into()))?;
            key.algorithm = host_key_algorithm.to_string();
            Ok(key)
        }
        (None, Ok(Err(e))) => Err(Failure::Other(format!("key exchange: {e}"))),
        (None, Ok(Ok(()))) => Err(Failure::Other("no host key seen".into())),
        (None, Err(_)) => Err(Failure::TimedOut(format!(
            "no host key within {} ms",
            deadline.as_millis()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::server;

    /// Throwaway ed25519 host key, generated for this test only.
    const TEST_HOST_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACC3CbwVBmmGv57n6Zjlt8wPMMHhZKExwPRWnzBs8v6FggAAAJCvulgYr7pY
GAAAAAtzc2gtZWQyNTUxOQAAACC3CbwVBmmGv57n6Zjlt8wPMMHhZKExwPRWnzBs8v6Fgg
AAAEBgN34FZpQ95B7h2bZnvk0wWrH81AAcYCfhlJh/kiqUQ7cJvBUGaYa/nufpmOW3zA8w
weFkoTHA9FafMGzy/oWCAAAAC2pjc3Rhci10ZXN0AQI=
-----END OPENSSH PRIVATE KEY-----
";
    /// `ssh-keygen -lf` of the key above.
    const TEST_FINGERPRINT: &str = "SHA256:YVAdKUSGSWI00cM+7422IoDauHcfWNCTJ0NZOiy4ah0";

    struct RejectAll;
    impl server::Handler for RejectAll {
        type Error = russh::Error;
    }

    /// A loopback russh server whose only key exchange is diffie-hellman-group14-sha1 and
    /// which offers password and keyboard-interactive authentication; serves at most
    /// `connections` connections.
    async fn dh_only_server(connections: usize) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let key = russh::keys::PrivateKey::from_openssh(TEST_HOST_KEY).unwrap();
        let config = Arc::new(server::Config {
            keys: vec![key],
            methods: russh::MethodSet::from(
                &[
                    russh::MethodKind::Password,
                    russh::MethodKind::KeyboardInteractive,
                ][..],
            ),
            auth_rejection_time: Duration::from_millis(10),
            auth_rejection_time_initial: Some(Duration::ZERO),
            inactivity_timeout: Some(Duration::from_secs(5)),
            preferred: Preferred {
                kex: Cow::Borrowed(&[kex::DH_G14_SHA1]),
                ..Preferred::default()
            },
            ..Default::default()
        });
        tokio::spawn(async move {
            for _ in 0..connections {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let config = config.clone();
                tokio::spawn(async move {
                    if let Ok(session) = server::run_stream(config, stream, RejectAll).await {
                        let _ = session.await;
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn auth_methods_of_a_password_server() {
        let addr = dh_only_server(1).await;
        let methods = auth_methods(addr, Duration::from_secs(5)).await.unwrap();
        assert_eq!(methods, ["password", "keyboard-interactive"]);
    }

    #[tokio::test]
    async fn host_key_through_classic_diffie_hellman() {
        let addr = dh_only_server(1).await;
        let key = host_key(addr, "ssh-ed25519", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(key.key_type, "ssh-ed25519");
        assert_eq!(key.bits, 256);
        assert_eq!(key.fingerprint, TEST_FINGERPRINT);
    }

    #[tokio::test]
    async fn inspect_a_dh_only_server() {
        let addr = dh_only_server(4).await;
        let info = crate::sshinfo::inspect(addr, &crate::sshinfo::SshLimits::default()).await;
        assert_eq!(
            info.kexinit.kex.first().map(String::as_str),
            Some("diffie-hellman-group14-sha1")
        );
        let fingerprints: Vec<&str> = info
            .host_keys
            .iter()
            .map(|k| k.fingerprint.as_str())
            .collect();
        assert_eq!(fingerprints, [TEST_FINGERPRINT], "{:?}", info.incomplete);
        assert_eq!(
            info.auth_methods.as_deref(),
            Some(&["password".to_string(), "keyboard-interactive".to_string()][..])
        );
    }

    /// A loopback "server" that sends its banner and a classic-DH-only KEXINIT, then reads and
    /// drops everything (like a simulated legacy device): key exchanges never finish.
    async fn kexinit_only_server(connections: usize) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let kexinit = crate::sshinfo::KexInit {
            kex: names(&["diffie-hellman-group1-sha1"]),
            host_key: names(&["ssh-rsa", "ssh-dss"]),
            ciphers_c2s: names(&["aes128-ctr"]),
            ciphers_s2c: names(&["aes128-ctr"]),
            macs_c2s: names(&["hmac-sha1"]),
            macs_s2c: names(&["hmac-sha1"]),
            compression_c2s: names(&["none"]),
            compression_s2c: names(&["none"]),
        };
        let mut hello = b"SSH-2.0-stall_1.0\r\n".to_vec();
        hello.extend(crate::sshinfo::packet(&crate::sshinfo::kexinit_payload(
            &kexinit,
        )));
        tokio::spawn(async move {
            for _ in 0..connections {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let hello = hello.clone();
                tokio::spawn(async move {
                    if stream.write_all(&hello).await.is_err() {
                        return;
                    }
                    let mut sink = [0u8; 1024];
                    for _ in 0..64 {
                        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut sink))
                            .await
                        {
                            Ok(Ok(n)) if n > 0 => {}
                            _ => return,
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_stalled_key_exchange_is_not_repeated() {
        let addr = kexinit_only_server(4).await;
        let limits = crate::sshinfo::SshLimits {
            connection_timeout: Duration::from_millis(500),
            port_deadline: Duration::from_secs(10),
        };
        let info = crate::sshinfo::inspect(addr, &limits).await;
        assert_eq!(info.kexinit.host_key, ["ssh-rsa", "ssh-dss"]);
        assert!(info.host_keys.is_empty());
        assert_eq!(info.auth_methods, None);
        assert_eq!(
            info.incomplete,
            [
                "host key ssh-rsa: no host key within 500 ms",
                "host key ssh-dss: skipped, an earlier key exchange got no reply",
                "auth methods: skipped, an earlier key exchange got no reply",
            ]
        );
    }

    #[tokio::test]
    async fn nothing_listening_is_an_error_not_a_hang() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        assert!(auth_methods(addr, Duration::from_secs(2)).await.is_err());
        assert!(host_key(addr, "ssh-ed25519", Duration::from_secs(2))
            .await
            .is_err());
    }
}
