//! A BusyBox-style telnet login that falls to a default credential and drops to a toy shell.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::limits::{self, Limits, ReadError};
use super::Credential;

/// What a simulated telnet daemon accepts and shows.
#[derive(Debug)]
pub(crate) struct Login {
    /// The credential that opens a shell.
    pub credential: Credential,
    /// Further credentials that open it too (firmware with several default accounts).
    pub also_accepts: &'static [Credential],
    /// Printed right after a successful login, before the first prompt.
    pub banner: &'static str,
    /// Failed logins allowed per connection before it is closed.
    pub max_attempts: u32,
    /// Printed once before the first login prompt.
    pub greeting: &'static str,
    /// Whether typed input (the password too, as some firmware does) is sent back.
    pub echo: bool,
    /// How long each failed login waits before `Login incorrect` (capped by the lab's
    /// [`Limits::max_login_delay`]).
    pub failure_delay_ms: u64,
}

// RFC 854 command bytes and RFC 857/858/1073 option codes.
const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const ECHO: u8 = 1;
const SUPPRESS_GO_AHEAD: u8 = 3;
const NAWS: u8 = 31;
/// Longest subnegotiation we skip before giving up on the client.
const MAX_SUBNEGOTIATION: usize = 64;

/// Runs one telnet session on `stream`.
pub(crate) async fn serve<S>(stream: S, login: &Login, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session {
        stream: BufReader::new(stream),
        limits,
        pending_cr: false,
    };
    if let Err(error) = session.run(login).await {
        tracing::trace!(%error, "telnet session ended");
    }
}

/// Runs one telnet session that skips the login and prints `banner` and a shell prompt at once.
pub(crate) async fn serve_open_shell<S>(stream: S, banner: &str, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session {
        stream: BufReader::new(stream),
        limits,
        pending_cr: false,
    };
    let negotiation = [IAC, WILL, ECHO, IAC, WILL, SUPPRESS_GO_AHEAD];
    let opened = async {
        session.stream.write_all(&negotiation).await?;
        session.stream.write_all(banner.as_bytes()).await?;
        session.shell().await
    };
    if let Err(error) = opened.await {
        tracing::trace!(%error, "telnet session ended");
    }
}

struct Session<'a, S> {
    stream: BufReader<S>,
    limits: &'a Limits,
    /// The previous line ended in `\r`, so a following `\n` or NUL belongs to it.
    pending_cr: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    async fn run(&mut self, login: &Login) -> Result<(), ReadError> {
        let negotiation = [IAC, WILL, ECHO, IAC, WILL, SUPPRESS_GO_AHEAD, IAC, DO, NAWS];
        self.stream.write_all(&negotiation).await?;
        self.stream.write_all(login.greeting.as_bytes()).await?;
        for _ in 0..login.max_attempts {
            self.stream.write_all(b"login: ").await?;
            let Some(user) = self.line().await? else {
                return Ok(());
            };
            if login.echo {
                self.stream.write_all(&user).await?;
                self.stream.write_all(b"\r\n").await?;
            }
            self.stream.write_all(b"Password: ").await?;
            let Some(password) = self.line().await? else {
                return Ok(());
            };
            if login.echo {
                self.stream.write_all(&password).await?;
                self.stream.flush().await?;
            }
            let opens =
                |c: &Credential| user == c.user.as_bytes() && password == c.password.as_bytes();
            if opens(&login.credential) || login.also_accepts.iter().any(opens) {
                self.stream.write_all(b"\r\n").await?;
                self.stream.write_all(login.banner.as_bytes()).await?;
                return self.shell().await;
            }
            let delay =
                Duration::from_millis(login.failure_delay_ms).min(self.limits.max_login_delay);
            tokio::time::sleep(delay).await;
            self.stream.write_all(b"\r\nLogin incorrect\r\n").await?;
        }
        self.stream.shutdown().await?;
        Ok(())
    }

    async fn shell(&mut self) -> Result<(), ReadError> {
        loop {
            self.stream.write_all(b"# ").await?;
            let Some(line) = self.line().await? else {
                return Ok(());
            };
            let line = limits::printable(&line);
            let line = line.trim();
            let (command, args) = line.split_once(' ').unwrap_or((line, ""));
            let output = match command {
                "" => String::new(),
                "exit" | "logout" => {
                    self.stream.shutdown().await?;
                    return Ok(());
                }
                "echo" => format!("{}\r\n", args.trim_start()),
                _ => format!("sh: {command}: not found\r\n"),
            };
            self.stream.write_all(output.as_bytes()).await?;
        }
    }

    /// One input line with telnet commands removed, within the idle deadline.
    async fn line(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        self.stream.flush().await?;
        let (limits, stream, pending_cr) = (self.limits, &mut self.stream, &mut self.pending_cr);
        limits::within(
            limits.idle_timeout,
            read_line(stream, limits.max_line, pending_cr),
        )
        .await
    }
}

/// Reads a line ending in CR, LF, CR LF or CR NUL, skipping telnet command sequences.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    cap: usize,
    pending_cr: &mut bool,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut line = Vec::new();
    loop {
        let Some(byte) = next_byte(reader).await? else {
            return Ok(None);
        };
        let after_cr = std::mem::take(pending_cr);
        match byte {
            IAC => {
                if let Some(data) = skip_command(reader).await? {
                    line.push(data);
                }
            }
            b'\n' | 0 if after_cr => {}
            b'\r' => {
                *pending_cr = true;
                return Ok(Some(line));
            }
            b'\n' => return Ok(Some(line)),
            _ => line.push(byte),
        }
        if line.len() > cap {
            return Err(ReadError::TooLong);
        }
    }
}

/// Consumes the rest of a command after IAC; returns the data byte of an escaped `IAC IAC`.
async fn skip_command<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Option<u8>, ReadError> {
    match next_byte(reader).await? {
        Some(IAC) => Ok(Some(IAC)),
        Some(WILL..=DONT) => next_byte(reader).await.map(|_| None),
        Some(SB) => {
            let mut previous = 0;
            for _ in 0..MAX_SUBNEGOTIATION {
                match next_byte(reader).await? {
                    Some(SE) if previous == IAC => return Ok(None),
                    Some(byte) => previous = byte,
                    None => return Ok(None),
                }
            }
            Err(ReadError::TooLong)
        }
        _ => Ok(None),
    }
}

async fn next_byte<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<u8>, ReadError> {
    match reader.read_u8().await {
        Ok(byte) => Ok(Some(byte)),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use crate::testing::{read_until, start_lab};
    use crate::{DemoLab, LabOptions};

    #[tokio::test]
    async fn default_credential_opens_a_shell() {
        let _lab = start_lab(105).await;
        let mut conn = TcpStream::connect("127.77.105.1:2323").await.unwrap();
        let greeting = read_until(&mut conn, b"login: ").await;
        assert!(greeting.starts_with(&[IAC, WILL, ECHO]));

        // A client that answers the negotiation, as real telnet clients do.
        conn.write_all(&[IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE])
            .await
            .unwrap();
        conn.write_all(b"root\r\n").await.unwrap();
        read_until(&mut conn, b"Password: ").await;
        conn.write_all(b"xc3511\r\0").await.unwrap();
        let banner = read_until(&mut conn, b"# ").await;
        assert!(String::from_utf8_lossy(&banner).contains("BusyBox"));

        conn.write_all(b"echo NONCE123\r\n").await.unwrap();
        let echoed = read_until(&mut conn, b"# ").await;
        assert_eq!(echoed, b"NONCE123\r\n# ");
        conn.write_all(b"cat /etc/passwd\n").await.unwrap();
        let missing = read_until(&mut conn, b"# ").await;
        assert_eq!(missing, b"sh: cat: not found\r\n# ");

        conn.write_all(b"exit\r\n").await.unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn wrong_credentials_are_refused_three_times_then_closed() {
        let _lab = start_lab(106).await;
        let mut conn = TcpStream::connect("127.77.106.1:2323").await.unwrap();
        read_until(&mut conn, b"login: ").await;
        for attempt in 0..3 {
            conn.write_all(b"admin\r\n").await.unwrap();
            read_until(&mut conn, b"Password: ").await;
            conn.write_all(b"not-the-password\r\n").await.unwrap();
            let end: &[u8] = if attempt < 2 {
                b"login: "
            } else {
                b"incorrect\r\n"
            };
            let reply = read_until(&mut conn, end).await;
            assert!(String::from_utf8_lossy(&reply).contains("Login incorrect"));
        }
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn silent_and_flooding_clients_are_cut_off() {
        let limits = Limits {
            idle_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let _lab = DemoLab::start_with_limits(LabOptions { subnet: 107 }, limits)
            .await
            .unwrap();

        let mut silent = TcpStream::connect("127.77.107.1:2323").await.unwrap();
        let mut seen = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut seen)).await;
        assert!(closed.is_ok(), "silent client was not disconnected");

        let mut flood = TcpStream::connect("127.77.107.1:2323").await.unwrap();
        read_until(&mut flood, b"login: ").await;
        let _ = flood.write_all(&[b'a'; 4096]).await;
        let mut seen = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(5), flood.read_to_end(&mut seen)).await;
        assert!(closed.is_ok(), "flooding client was not disconnected");
    }
}
