//! FTP: anonymous login and USER/PASS. Hand-written (a few bounded line reads) so every reply
//! has a byte cap and a deadline, which FTP client crates do not offer.

use std::net::SocketAddr;

use crate::budget::Connection;
use tokio::time::Instant;

use super::io::{self, Bounds, ReadEnd};
use super::{ExchangeError, LoginOutcome, Phase, Series};
use jcstar_model::Evidence;
use jcstar_wire::ftp::reply_code;

/// The users FTP servers treat as anonymous.
pub const ANONYMOUS_USERS: &[&str] = &["anonymous", "ftp"];

/// The password sent for anonymous logins (RFC 1635 suggests an e-mail address).
pub const ANONYMOUS_PASSWORD: &str = "jcstar@example.invalid";

/// One complete reply (code, text), multi-line replies included, or how reading it ended
/// without one.
async fn reply(stream: &mut Connection, bounds: &Bounds) -> Result<(u16, Vec<u8>), ReadEnd> {
    let deadline = Instant::now() + bounds.read;
    let mut raw = Vec::new();
    let end = io::read_until(
        stream,
        &mut raw,
        bounds.max_bytes.min(8192),
        deadline,
        |raw| reply_code(raw).is_some(),
    )
    .await;
    match reply_code(&raw) {
        Some(code) => Ok((code, raw)),
        None => Err(end),
    }
}

/// Tries USER/PASS on a fresh connection.
pub async fn login(
    address: SocketAddr,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return io::connect_error(&e).into(),
    };
    if let Err(refused) = greeting(&mut stream, bounds).await {
        return refused;
    }
    let login = user_pass(&mut stream, user, password, bounds).await;
    let _ = io::send(&mut stream, b"QUIT\r\n", Instant::now() + bounds.read).await;
    login
}

/// Reads the server greeting: `Ok` on 220, else the login outcome it means.
async fn greeting(stream: &mut Connection, bounds: &Bounds) -> Result<(), LoginOutcome> {
    match reply(stream, bounds).await {
        Ok((220, _)) => Ok(()),
        Ok((421, text)) => Err(LoginOutcome::RateLimited(Evidence::observed(
            "FTP greeting 421",
            jcstar_model::escape_bytes(&text),
        ))),
        Ok((code, _)) => {
            Err(ExchangeError::ProtocolError(format!("FTP greeting {code}, not 220")).into())
        }
        Err(end) => Err(end.into_error(Phase::Greeting, "FTP").into()),
    }
}

/// Tries several passwords for `user` on ONE control connection (USER/PASS again after each
/// 530, as vsftpd allows up to its `max_login_fails`), for default-credential guessing and the
/// brute-force check's same-connection bypass test. Each entry is timed from the end of the
/// previous one (the first from the connect) to its answer; every reply has the read deadline
/// and byte cap. `more` sees each answer and says whether to go on; the series also ends at
/// the first answer that is not a rejection, and with an `Undecided` entry when the server
/// closes the connection before the passwords run out.
pub async fn login_series<P: AsRef<str>>(
    address: SocketAddr,
    user: &str,
    passwords: impl IntoIterator<Item = P>,
    bounds: &Bounds,
    mut more: impl FnMut(std::time::Duration, &LoginOutcome) -> bool,
) -> Vec<(std::time::Duration, LoginOutcome)> {
    let mut series = Series::start();
    let mut stream = match io::connect(address, bounds).await {
        Ok(s) => s,
        Err(e) => return series.end(io::connect_error(&e).into()),
    };
    if let Err(refused) = greeting(&mut stream, bounds).await {
        return series.end(refused);
    }
    for password in passwords {
        let login = user_pass(&mut stream, user, password.as_ref(), bounds).await;
        if !series.record(login, |t, l| {
            more(t, l) && matches!(l, LoginOutcome::Rejected)
        }) {
            break;
        }
    }
    let _ = io::send(&mut stream, b"QUIT\r\n", Instant::now() + bounds.read).await;
    series.entries()
}

/// USER/PASS on an open control connection.
async fn user_pass(
    stream: &mut Connection,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    let lost = |end: ReadEnd| LoginOutcome::from(end.into_error(Phase::Answer, "FTP"));
    let deadline = Instant::now() + bounds.read;
    let command = format!("USER {user}\r\n");
    if io::send(stream, command.as_bytes(), deadline)
        .await
        .is_err()
    {
        return lost(ReadEnd::Closed);
    }
    let (code, text) = match reply(stream, bounds).await {
        Ok(r) => r,
        Err(end) => return lost(end),
    };
    let (code, text) = match code {
        230 => (code, text),
        331 | 332 => {
            let command = format!("PASS {password}\r\n");
            if io::send(stream, command.as_bytes(), deadline)
                .await
                .is_err()
            {
                return lost(ReadEnd::Closed);
            }
            match reply(stream, bounds).await {
                Ok(r) => r,
                Err(end) => return lost(end),
            }
        }
        421 => {
            return LoginOutcome::RateLimited(Evidence::observed(
                "FTP 421 after USER",
                jcstar_model::escape_bytes(&text),
            ))
        }
        _ => return LoginOutcome::Rejected,
    };
    match code {
        230 => LoginOutcome::Accepted(Evidence::exchange(
            format!("FTP login as {user:?}"),
            format!("USER {user} / PASS …").as_bytes(),
            &text,
        )),
        421 => LoginOutcome::RateLimited(Evidence::observed(
            "FTP 421 after PASS",
            jcstar_model::escape_bytes(&text),
        )),
        _ => LoginOutcome::Rejected,
    }
}
