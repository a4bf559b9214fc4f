//! SSH inspection: the identification string, the server's KEXINIT algorithm lists (parsed by
//! hand, bounded) and its host keys (one curve25519/ECDH key exchange per host-key type, up to
//! the server's KEX_ECDH_REPLY, which carries the key). Through russh: the authentication methods
//! the server offers, and host keys of servers with classic Diffie-Hellman key exchange only.

pub mod auth;
use jcstar_wire::ssh as wire;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use jcstar_model::outcome::{ExchangeError, Phase};

pub use wire::{kexinit_payload, packet, parse_host_key, parse_kexinit, HostKey, KexInit};

/// Bounds for inspecting one SSH port.
#[derive(Debug, Clone)]
pub struct SshLimits {
    /// Deadline of one connection (banner, KEXINIT, key exchange reply).
    pub connection_timeout: Duration,
    /// Deadline for the whole port.
    pub port_deadline: Duration,
}

impl Default for SshLimits {
    fn default() -> Self {
        SshLimits {
            connection_timeout: Duration::from_secs(5),
            port_deadline: Duration::from_secs(30),
        }
    }
}

/// Everything learnt about one SSH port.
#[derive(Debug, Clone, Default)]
pub struct SshInfo {
    /// The port.
    pub port: u16,
    /// The server's identification line, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2`.
    pub identification: String,
    /// Whether the server speaks SSH protocol 1 (`SSH-1.x`; `SSH-1.99` speaks both).
    pub protocol1: bool,
    /// The algorithm lists of the server's KEXINIT.
    pub kexinit: KexInit,
    /// Host keys obtained, one per key type.
    pub host_keys: Vec<HostKey>,
    /// Authentication methods the server offers (`publickey`, `password`, ...), from the failure
    /// reply to `none` authentication; `None` when that could not be learnt.
    pub auth_methods: Option<Vec<String>>,
    /// Why parts of the inspection could not finish.
    pub incomplete: Vec<String>,
    /// Host key algorithms the server offers whose key was not obtained.
    pub keys_missing: Vec<String>,
}

impl SshInfo {
    /// Whether the server offers an RSA host key that was not obtained, so its size is
    /// unknown.
    pub fn rsa_key_missing(&self) -> bool {
        self.keys_missing.iter().any(|a| key_family(a) == "rsa")
    }
}

/// The key a host key algorithm signs with: the RSA algorithms share one key.
fn key_family(algorithm: &str) -> &str {
    match algorithm {
        "ssh-rsa" | "rsa-sha2-256" | "rsa-sha2-512" => "rsa",
        other => other,
    }
}

/// Most lines a server may send before its identification.
const PRE_BANNER_LINES: usize = 32;
/// Our identification.
const CLIENT_ID: &[u8] = b"SSH-2.0-jcstar_0.1\r\n";

/// A connection in the clear: bytes received but not yet consumed.
struct Conn {
    stream: crate::budget::Connection,
    pending: Vec<u8>,
}

impl Conn {
    async fn fill(&mut self) -> Result<(), ExchangeError> {
        let mut buf = [0u8; 4096];
        let n = self
            .stream
            .read(&mut buf)
            .await
            .map_err(|e| ExchangeError::from_io(&e, Phase::Answer))?;
        if n == 0 {
            return Err(ExchangeError::Closed {
                phase: Phase::Answer,
            });
        }
        self.pending.extend_from_slice(&buf[..n]);
        Ok(())
    }

    async fn identification(&mut self) -> Result<String, ExchangeError> {
        let mut lines = 0;
        loop {
            match wire::take_line(&self.pending) {
                wire::Take::Done(line, used) => {
                    self.pending.drain(..used);
                    match line {
                        wire::Line::Identification(id) => return Ok(id),
                        wire::Line::Other if lines < PRE_BANNER_LINES => lines += 1,
                        wire::Line::Other => {
                            return Err(protocol(format!(
                                "no SSH identification within {PRE_BANNER_LINES} lines"
                            )))
                        }
                    }
                }
                wire::Take::NeedMore => self.fill().await?,
                wire::Take::Invalid(why) => return Err(protocol(why)),
            }
        }
    }

    /// The payload of the next unencrypted packet.
    async fn packet(&mut self) -> Result<Vec<u8>, ExchangeError> {
        loop {
            match wire::take_packet(&self.pending) {
                wire::Take::Done(payload, used) => {
                    self.pending.drain(..used);
                    return Ok(payload);
                }
                wire::Take::NeedMore => self.fill().await?,
                wire::Take::Invalid(why) => return Err(protocol(why)),
            }
        }
    }

    /// The next packet that is not IGNORE/DEBUG (at most a few are skipped).
    async fn message(&mut self) -> Result<Vec<u8>, ExchangeError> {
        for _ in 0..8 {
            let payload = self.packet().await?;
            match payload.first() {
                Some(2) | Some(4) => continue,
                Some(_) => return Ok(payload),
                None => return Err(protocol("empty packet")),
            }
        }
        Err(protocol("only IGNORE/DEBUG packets"))
    }
}

async fn open(addr: SocketAddr) -> Result<(Conn, String), ExchangeError> {
    let stream = crate::budget::connect(addr, None)
        .await
        .map_err(|e| ExchangeError::from_io(&e, Phase::Connect))?;
    let mut conn = Conn {
        stream,
        pending: Vec::new(),
    };
    conn.stream
        .write_all(CLIENT_ID)
        .await
        .map_err(|e| ExchangeError::from_io(&e, Phase::Answer))?;
    let id = conn.identification().await?;
    Ok((conn, id))
}

async fn first_contact(addr: SocketAddr) -> Result<(String, KexInit), ExchangeError> {
    let (mut conn, id) = open(addr).await?;
    if !id.starts_with("SSH-2.0-") && !id.starts_with("SSH-1.99-") {
        return Ok((id, KexInit::default()));
    }
    let payload = conn.message().await?;
    let kexinit =
        parse_kexinit(&payload).ok_or_else(|| protocol("the server's KEXINIT is malformed"))?;
    Ok((id, kexinit))
}

/// A reply that is not the SSH expected.
fn protocol(what: impl Into<String>) -> ExchangeError {
    ExchangeError::ProtocolError(what.into())
}

/// Key exchanges the hand-written host-key probe can do.
const MODERN_KEX: [&str; 3] = [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
];

/// Runs one key exchange offering only `host_key_algorithm` and returns the server's key.
async fn host_key(
    addr: SocketAddr,
    server: &KexInit,
    host_key_algorithm: &str,
) -> Result<HostKey, ExchangeError> {
    let (mut conn, _) = open(addr).await?;
    let payload = conn.message().await?;
    parse_kexinit(&payload).ok_or_else(|| protocol("the server's KEXINIT is malformed"))?;
    let kex = MODERN_KEX
        .into_iter()
        .find(|k| server.kex.iter().any(|s| s == k))
        .ok_or_else(|| {
            protocol("the server offers neither curve25519 nor ECDH P-256 key exchange")
        })?;
    let ours = KexInit {
        kex: vec![kex.to_string()],
        host_key: vec![host_key_algorithm.to_string()],
        ..server.clone()
    };
    let mut packet = wire::packet(&wire::kexinit_payload(&ours));
    packet.extend(wire::packet(&wire::ecdh_init(kex).map_err(protocol)?));
    conn.stream
        .write_all(&packet)
        .await
        .map_err(|e| ExchangeError::from_io(&e, Phase::Answer))?;
    let reply = conn.message().await?;
    match reply.first() {
        Some(31) => wire::host_key_from_reply(&reply, host_key_algorithm)
            .ok_or_else(|| protocol("malformed KEX_ECDH_REPLY")),
        Some(1) => Err(protocol("the server sent DISCONNECT during key exchange")),
        Some(other) => Err(protocol(format!(
            "unexpected message {other} during key exchange"
        ))),
        None => Err(protocol("empty reply")),
    }
}

/// One host-key algorithm per key the server can have, in the server's order.
fn host_key_probes(algorithms: &[String]) -> Vec<String> {
    let mut families: Vec<&str> = Vec::new();
    let mut probes = Vec::new();
    for algorithm in algorithms {
        let family = match algorithm.as_str() {
            "ssh-rsa"
            | "rsa-sha2-256"
            | "rsa-sha2-512"
            | "ssh-ed25519"
            | "ssh-dss"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521" => key_family(algorithm),
            _ => continue,
        };
        if !families.contains(&family) {
            families.push(family);
            probes.push(algorithm.clone());
        }
    }
    probes
}

/// Inspects the SSH server at `addr`.
pub async fn inspect(addr: SocketAddr, limits: &SshLimits) -> SshInfo {
    let started = Instant::now();
    let mut info = SshInfo {
        port: addr.port(),
        ..SshInfo::default()
    };
    match crate::budget::timeout(limits.connection_timeout, first_contact(addr)).await {
        Ok(Ok((id, kexinit))) => {
            info.protocol1 = id.starts_with("SSH-1.");
            info.identification = jcstar_model::bounded(&id);
            info.kexinit = kexinit;
        }
        Ok(Err(reason)) => {
            info.incomplete.push(reason.to_string());
            return info;
        }
        Err(_) => {
            info.incomplete.push(format!(
                "no KEXINIT within {} ms",
                limits.connection_timeout.as_millis()
            ));
            return info;
        }
    }
    let modern = MODERN_KEX
        .iter()
        .any(|k| info.kexinit.kex.iter().any(|s| s == k));
    // Set when a russh key exchange got no reply: the next would not either (a server that
    // stops after KEXINIT), so the remaining ones are skipped instead of each waiting.
    let mut russh_stalled = false;
    let probes = host_key_probes(&info.kexinit.host_key);
    for algorithm in &probes {
        let left = (started + limits.port_deadline).saturating_duration_since(Instant::now());
        let deadline = limits.connection_timeout.min(left);
        if !modern {
            // Classic Diffie-Hellman only: a full key exchange through russh.
            if russh_stalled {
                info.incomplete.push(format!(
                    "host key {algorithm}: skipped, an earlier key exchange got no reply"
                ));
                continue;
            }
            match auth::host_key(addr, algorithm, deadline).await {
                Ok(key) => info.host_keys.push(key),
                Err(auth::Failure::TimedOut(reason)) => {
                    russh_stalled = true;
                    info.incomplete
                        .push(format!("host key {algorithm}: {reason}"));
                }
                Err(auth::Failure::Other(reason)) => info
                    .incomplete
                    .push(format!("host key {algorithm}: {reason}")),
            }
            continue;
        }
        match crate::budget::timeout(deadline, host_key(addr, &info.kexinit, algorithm)).await {
            Ok(Ok(key)) => info.host_keys.push(key),
            Ok(Err(reason)) => info
                .incomplete
                .push(format!("host key {algorithm}: {reason}")),
            Err(_) => info.incomplete.push(format!(
                "host key {algorithm}: no reply within {} ms",
                deadline.as_millis()
            )),
        }
    }
    info.keys_missing = probes
        .into_iter()
        .filter(|probe| {
            !info
                .host_keys
                .iter()
                .any(|key| key_family(&key.key_type) == key_family(probe))
        })
        .collect();
    if russh_stalled {
        info.incomplete
            .push("auth methods: skipped, an earlier key exchange got no reply".to_string());
    } else if !info.protocol1 || info.identification.starts_with("SSH-1.99-") {
        let left = (started + limits.port_deadline).saturating_duration_since(Instant::now());
        match auth::auth_methods(addr, limits.connection_timeout.min(left)).await {
            Ok(methods) => info.auth_methods = Some(methods),
            Err(reason) => info.incomplete.push(format!("auth methods: {reason}")),
        }
    }
    info
}
