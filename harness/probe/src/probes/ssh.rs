//! SSH: password and keyboard-interactive authentication through russh, one connection per
//! attempt (the whole attempt under one deadline) or several passwords of one user per
//! connection ([`login_series`]). Host keys are accepted unseen: the probe
//! tests the login, not the server's identity.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, AuthResult, KeyboardInteractiveAuthResponse};
use russh::MethodKind;

use super::io::Bounds;
use super::{ExchangeError, Exposure, LoginOutcome, Phase, Series};
use jcstar_model::Evidence;

struct AcceptAnyKey;

impl client::Handler for AcceptAnyKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::ssh_key::PublicKey,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

fn config(bounds: &Bounds) -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(bounds.read),
        ..Default::default()
    })
}

/// The deadline of one whole SSH attempt: handshake plus authentication.
fn attempt_deadline(bounds: &Bounds) -> Duration {
    bounds.connect + bounds.read * 2
}

/// A TCP connection and SSH handshake to `address` (host key accepted unseen: the probes
/// only authenticate).
async fn open_session(
    address: SocketAddr,
    bounds: &Bounds,
) -> Result<client::Handle<AcceptAnyKey>, ExchangeError> {
    let stream = super::io::connect(address, bounds)
        .await
        .map_err(|e| super::io::connect_error(&e))?;
    client::connect_stream(config(bounds), stream, AcceptAnyKey)
        .await
        .map_err(|e| ssh_error(e, Phase::Greeting))
}

/// What a russh error means, by its variant, when it ends an exchange waiting in `phase`.
fn ssh_error(error: russh::Error, phase: Phase) -> ExchangeError {
    match error {
        russh::Error::IO(e) => ExchangeError::from_io(&e, phase),
        russh::Error::Disconnect
        | russh::Error::HUP
        | russh::Error::SendError
        | russh::Error::RecvError => ExchangeError::Closed { phase },
        russh::Error::ConnectionTimeout
        | russh::Error::KeepaliveTimeout
        | russh::Error::InactivityTimeout
        | russh::Error::Elapsed(_) => ExchangeError::NoAnswer { phase },
        other => ExchangeError::ProtocolError(jcstar_model::bounded(&format!("SSH: {other}"))),
    }
}

/// The outcome of an SSH attempt that outlived its deadline.
fn timed_out(phase: Phase) -> LoginOutcome {
    ExchangeError::NoAnswer { phase }.into()
}

/// Whether the server lets `root` in with the `none` method (no authentication at all).
pub async fn exposure(address: SocketAddr, bounds: &Bounds) -> Exposure {
    let probe = async {
        let mut session = open_session(address, bounds).await?;
        let result = session.authenticate_none("root").await;
        let closed = session.is_closed();
        let _ = session
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        match result {
            Ok(AuthResult::Success) => Ok(Exposure::Open {
                what: "SSH login as root with no authentication (method none)".into(),
                evidence: Evidence::observed(
                    "SSH none authentication as \"root\"",
                    "SSH_MSG_USERAUTH_SUCCESS",
                ),
            }),
            Ok(AuthResult::Failure {
                remaining_methods, ..
            }) if remaining_methods.is_empty() && closed => Err(ExchangeError::Closed {
                phase: Phase::Answer,
            }),
            Ok(AuthResult::Failure {
                remaining_methods, ..
            }) => Ok(Exposure::Protected {
                what: format!(
                    "SSH demands authentication ({})",
                    method_names(&remaining_methods)
                ),
            }),
            Err(e) => Err(ssh_error(e, Phase::Answer)),
        }
    };
    match crate::budget::timeout(attempt_deadline(bounds), probe).await {
        Ok(Ok(exposure)) => exposure,
        Ok(Err(e)) => Exposure::Unknown(e.to_string()),
        Err(_) => Exposure::Unknown("SSH probe timed out".into()),
    }
}

/// Tries `user`/`password` with password authentication, else keyboard-interactive.
pub async fn login(
    address: SocketAddr,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    match crate::budget::timeout(
        attempt_deadline(bounds),
        attempt(address, user, password, bounds),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => timed_out(Phase::Answer),
    }
}

async fn attempt(address: SocketAddr, user: &str, password: &str, bounds: &Bounds) -> LoginOutcome {
    let mut session = match open_session(address, bounds).await {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let result = authenticate(&mut session, user, password).await;
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    result
}

/// Answers every keyboard-interactive prompt with the password: accepted, rejected, or no
/// answer (the session broke or the server chained too many info requests).
async fn keyboard_interactive(
    session: &mut client::Handle<AcceptAnyKey>,
    user: &str,
    password: &str,
) -> KeyboardInteractive {
    let mut reply = match session
        .authenticate_keyboard_interactive_start(user, None)
        .await
    {
        Ok(reply) => reply,
        Err(e) => return KeyboardInteractive::Broken(ssh_error(e, Phase::Answer)),
    };
    // A server may chain a few info requests; never more than a handful.
    for _ in 0..4 {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return KeyboardInteractive::Accepted,
            KeyboardInteractiveAuthResponse::Failure { .. } => {
                return KeyboardInteractive::Rejected
            }
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts.iter().map(|_| password.to_string()).collect();
                reply = match session
                    .authenticate_keyboard_interactive_respond(answers)
                    .await
                {
                    Ok(reply) => reply,
                    Err(e) => return KeyboardInteractive::Broken(ssh_error(e, Phase::Answer)),
                };
            }
        }
    }
    KeyboardInteractive::Broken(ExchangeError::ProtocolError(
        "SSH: more than 4 keyboard-interactive info requests for one password".into(),
    ))
}

/// How a keyboard-interactive exchange ended.
enum KeyboardInteractive {
    /// SSH_MSG_USERAUTH_SUCCESS.
    Accepted,
    /// SSH_MSG_USERAUTH_FAILURE.
    Rejected,
    /// No verdict: the session broke or the exchange went on too long.
    Broken(ExchangeError),
}

fn method_names(methods: &[MethodKind]) -> String {
    let names: Vec<&str> = methods
        .iter()
        .map(|m| match m {
            MethodKind::None => "none",
            MethodKind::Password => "password",
            MethodKind::PublicKey => "publickey",
            MethodKind::HostBased => "hostbased",
            MethodKind::KeyboardInteractive => "keyboard-interactive",
        })
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Tries several passwords for `user` on ONE SSH connection (password method, else
/// keyboard-interactive): the brute-force check's same-connection bypass test, and default
/// credential guessing, which feeds `passwords` lazily from a shared queue. Each entry is timed
/// from the end of the previous one (the first from the connect) to its answer; every answer
/// has the read deadline. `more` sees each answered entry (not a failed connect) and says
/// whether to send the next password; the series also ends at the first answer that is not a
/// rejection (after an acceptance the session is authenticated; after a closed session there
/// is none), and `passwords` is not asked for another one after that.
pub async fn login_series<P: AsRef<str>>(
    address: SocketAddr,
    user: &str,
    passwords: impl IntoIterator<Item = P>,
    bounds: &Bounds,
    mut more: impl FnMut(Duration, &LoginOutcome) -> bool,
) -> Vec<(Duration, LoginOutcome)> {
    let mut series = Series::start();
    let opened =
        crate::budget::timeout(bounds.connect + bounds.read, open_session(address, bounds)).await;
    let mut session = match opened {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => return series.end(e.into()),
        Err(_) => return series.end(timed_out(Phase::Greeting)),
    };
    for password in passwords {
        let login = match crate::budget::timeout(
            bounds.read * 2,
            authenticate(&mut session, user, password.as_ref()),
        )
        .await
        {
            Ok(login) => login,
            Err(_) => timed_out(Phase::Answer),
        };
        if !series.record(login, |t, l| {
            more(t, l) && matches!(l, LoginOutcome::Rejected)
        }) {
            break;
        }
    }
    let _ = crate::budget::timeout(
        bounds.read,
        session.disconnect(russh::Disconnect::ByApplication, "", "en"),
    )
    .await;
    series.entries()
}

/// One password (else keyboard-interactive) authentication on an open session.
async fn authenticate(
    session: &mut client::Handle<AcceptAnyKey>,
    user: &str,
    password: &str,
) -> LoginOutcome {
    let accepted = |method: &str| {
        LoginOutcome::Accepted(Evidence::observed(
            format!("SSH {method} authentication as {user:?}"),
            "SSH_MSG_USERAUTH_SUCCESS",
        ))
    };
    match session.authenticate_password(user, password).await {
        Ok(AuthResult::Success) => accepted("password"),
        // russh reports a session that ended before the answer as a failure offering no
        // method; the closed handle tells it from a real SSH_MSG_USERAUTH_FAILURE.
        Ok(AuthResult::Failure {
            remaining_methods, ..
        }) if remaining_methods.is_empty() && session.is_closed() => ExchangeError::Closed {
            phase: Phase::Answer,
        }
        .into(),
        Ok(AuthResult::Failure {
            remaining_methods, ..
        }) => {
            if remaining_methods.contains(&MethodKind::KeyboardInteractive) {
                match keyboard_interactive(session, user, password).await {
                    KeyboardInteractive::Accepted => accepted("keyboard-interactive"),
                    KeyboardInteractive::Rejected => LoginOutcome::Rejected,
                    KeyboardInteractive::Broken(e) => e.into(),
                }
            } else if remaining_methods.contains(&MethodKind::Password) {
                LoginOutcome::Rejected
            } else {
                LoginOutcome::Unsupported(format!(
                    "password and keyboard-interactive authentication not offered (offered: {})",
                    method_names(&remaining_methods)
                ))
            }
        }
        Err(e) => ssh_error(e, Phase::Answer).into(),
    }
}
