//! A minimal FTP control connection: greeting, USER/PASS (optionally anonymous), QUIT.
//! No data connections: the login is all the access checks look at.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::limits::{self, Limits};
use super::Credential;

/// Commands served per connection before it is closed.
const MAX_COMMANDS: usize = 32;

/// What a simulated FTP daemon accepts.
#[derive(Debug)]
pub(crate) struct FtpServer {
    /// Greeting text after `220 `.
    pub greeting: &'static str,
    /// Whether `anonymous` and `ftp` log in with any password.
    pub anonymous: bool,
    /// The one named account.
    pub account: Credential,
}

/// Serves one FTP control connection.
pub(crate) async fn serve<S>(stream: S, server: &FtpServer, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    let hello = format!("220 {}\r\n", server.greeting);
    if stream.write_all(hello.as_bytes()).await.is_err() {
        return;
    }
    let mut user: Option<String> = None;
    let mut logged_in = false;
    for _ in 0..MAX_COMMANDS {
        let line = limits::within(
            limits.idle_timeout,
            limits::read_line(&mut stream, limits.max_line),
        )
        .await;
        let Ok(Some(line)) = line else {
            return;
        };
        let line = limits::printable(&line);
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let reply = match verb.to_ascii_uppercase().as_str() {
            "USER" => {
                user = Some(arg.to_owned());
                logged_in = false;
                if server.anonymous && is_anonymous(arg) {
                    "331 Guest login ok, send your e-mail address as password.\r\n"
                } else {
                    "331 Please specify the password.\r\n"
                }
            }
            "PASS" => match user.take() {
                Some(u) if server.anonymous && is_anonymous(&u) => {
                    logged_in = true;
                    "230 Guest login ok, access restrictions apply.\r\n"
                }
                Some(u) if u == server.account.user && arg == server.account.password => {
                    logged_in = true;
                    "230 Login successful.\r\n"
                }
                Some(_) => "530 Login incorrect.\r\n",
                None => "503 Login with USER first.\r\n",
            },
            "QUIT" => {
                let _ = stream.write_all(b"221 Goodbye.\r\n").await;
                limits::close_gracefully(&mut stream).await;
                return;
            }
            "SYST" if logged_in => "215 UNIX Type: L8\r\n",
            "PWD" if logged_in => "257 \"/\" is the current directory\r\n",
            _ if logged_in => "502 Command not implemented.\r\n",
            _ => "530 Please login with USER and PASS.\r\n",
        };
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn is_anonymous(user: &str) -> bool {
    user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp")
}
