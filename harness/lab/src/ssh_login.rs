//! An SSH login served by russh's server: password authentication for one account, or
//! public-key authentication only (no password method offered at all). No shell: a login
//! succeeds or fails, which is all the access checks look at.

use std::sync::Arc;

use russh::keys::ssh_key::private::{Ed25519Keypair, KeypairData};
use russh::keys::PrivateKey;
use russh::server::{self, Auth};
use russh::{MethodKind, MethodSet};
use tokio::net::TcpStream;

use super::limits::Limits;
use super::Credential;

/// Which logins a simulated SSH daemon takes.
#[derive(Debug)]
pub(crate) enum SshLogin {
    /// Password authentication; this one account passes.
    Password(Credential),
    /// Public-key authentication only (no key is authorised in the lab).
    KeyOnly,
}

/// Refusals are delayed this long (a real daemon waits seconds; the lab stays quick).
const REJECTION_DELAY: std::time::Duration = std::time::Duration::from_millis(100);

/// Password requests one connection may make; the last is never answered: the connection is
/// closed instead. A client sees OpenSSH's default `MaxAuthTries 6` the same way (OpenSSH
/// disconnects instead of answering the sixth failure); this persona does not even look at the
/// last request, so a client that takes the unanswered one for a refusal misses a password
/// there.
pub const MAX_AUTH_TRIES: usize = 6;

struct Device {
    accept: Option<Credential>,
    /// The methods offered, again after every failure.
    methods: &'static [MethodKind],
    /// Password requests seen on this connection.
    requests: usize,
}

impl server::Handler for Device {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.requests += 1;
        if self.requests >= MAX_AUTH_TRIES {
            return Err(russh::Error::Disconnect);
        }
        Ok(match self.accept {
            Some(c) if c.user == user && c.password == password => Auth::Accept,
            // Like OpenSSH: the methods stay on offer after a failure (russh drops the one tried).
            _ => Auth::Reject {
                proceed_with_methods: Some(MethodSet::from(self.methods)),
                partial_success: false,
            },
        })
    }
}

/// Serves one SSH connection until the client leaves or the idle deadline passes.
pub(crate) async fn serve(stream: TcpStream, login: &SshLogin, limits: &Limits) {
    let mut seed = [0u8; 32];
    if getrandom::fill(&mut seed).is_err() {
        return;
    }
    let Ok(host_key) = PrivateKey::new(
        KeypairData::Ed25519(Ed25519Keypair::from_seed(&seed)),
        "jcstar demo",
    ) else {
        return;
    };
    let (methods, accept): (&'static [MethodKind], _) = match login {
        SshLogin::Password(c) => (&[MethodKind::Password], Some(*c)),
        SshLogin::KeyOnly => (&[MethodKind::PublicKey], None),
    };
    let config = server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-JCS_sshd_1.0".into()),
        methods: MethodSet::from(methods),
        auth_rejection_time: REJECTION_DELAY,
        auth_rejection_time_initial: Some(std::time::Duration::ZERO),
        keys: vec![host_key],
        max_auth_attempts: 6,
        inactivity_timeout: Some(limits.idle_timeout),
        nodelay: true,
        ..Default::default()
    };
    match server::run_stream(
        Arc::new(config),
        stream,
        Device {
            accept,
            methods,
            requests: 0,
        },
    )
    .await
    {
        Ok(session) => {
            if let Err(error) = session.await {
                tracing::trace!(%error, "ssh session ended");
            }
        }
        Err(error) => tracing::trace!(%error, "ssh handshake failed"),
    }
}
