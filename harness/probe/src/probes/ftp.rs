//! FTP: anonymous login and USER/PASS. Hand-written (a few bounded line reads) so every reply
//! has a byte cap and a deadline, which FTP client crates do not offer.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::io::{self, Bounds, ReadEnd};
use super::{ExchangeError, LoginOutcome, Phase, Series};
use jcstar_model::Evidence;

/// The users FTP servers treat as anonymous.
pub const ANONYMOUS_USERS: &[&str] = &["anonymous", "ftp"];

/// The password sent for anonymous logins (RFC 1635 suggests an e-mail address).
pub const ANONYMOUS_PASSWORD: &str = "jcstar@example.invalid";

/// Reads one complete FTP reply (multi-line replies included); returns (code, text).
/// One complete reply (code, text), or how reading it ended without one.
async fn reply(stream: &mut TcpStream, bounds: &Bounds) -> Result<(u16, Vec<u8>), ReadEnd> {
    let deadline = Instant::now() + bounds.read;
    let mut raw = Vec::new();
    let end = io::read_until(
        stream,
        &mut raw,
        bounds.max_bytes.min(8192),
        deadline,
        complete,
    )
    .await;
    let code = raw
        .get(..3)
        .and_then(|c| std::str::from_utf8(c).ok()?.parse().ok());
    match code {
        Some(code) if complete(&raw) => Ok((code, raw)),
        _ => Err(end),
    }
}

/// A reply ends with a line `ddd ` (after an optional `ddd-` multi-line block).
fn complete(raw: &[u8]) -> bool {
    let Some(code) = raw.get(..3) else {
        return false;
    };
    if !code.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let text = String::from_utf8_lossy(raw);
    if !text.ends_with('\n') {
        return false;
    }
    let last = text.trim_end().rsplit('\n').next().unwrap_or("");
    last.as_bytes().get(..3) == Some(code) && last.as_bytes().get(3) == Some(&b' ')
        || (raw.get(3) == Some(&b' '))
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
async fn greeting(stream: &mut TcpStream, bounds: &Bounds) -> Result<(), LoginOutcome> {
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
/// 530), for the brute-force check's same-connection bypass test. Each entry is timed from the
/// end of the previous one (the first from the connect) to its answer; every reply has the
/// read deadline and byte cap. `more` sees each rejection and says whether to go on; the
/// series also ends at the first answer that is not a rejection, and with an `Undecided` entry
/// when the server closes the connection before the passwords run out.
pub async fn login_series(
    address: SocketAddr,
    user: &str,
    passwords: &[String],
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
        let login = user_pass(&mut stream, user, password, bounds).await;
        if !series.record(login, |t, l| {
            matches!(l, LoginOutcome::Rejected) && more(t, l)
        }) {
            break;
        }
    }
    let _ = io::send(&mut stream, b"QUIT\r\n", Instant::now() + bounds.read).await;
    series.entries()
}

/// USER/PASS on an open control connection.
async fn user_pass(
    stream: &mut TcpStream,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_complete_on_their_final_line() {
        assert!(complete(b"220 ready\r\n"));
        assert!(!complete(b"220-welcome\r\n"));
        assert!(complete(b"220-welcome\r\nmore\r\n220 ready\r\n"));
        assert!(!complete(b"22"));
        assert!(!complete(b"xyz ok\r\n"));
    }
}
