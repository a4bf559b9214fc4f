//! Telnet: option negotiation (every option refused), login and password prompts, and shell
//! confirmation. A login counts only when a command interpreter provably ran a command
//! carrying a random nonce; prompt-like characters (`#`, `$`) in a banner prove nothing.

use std::net::SocketAddr;

use crate::budget::Connection;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::io::{self, Bounds, ReadEnd};
use super::{ExchangeError, Exposure, LoginOutcome, Phase, Series};
use jcstar_model::Evidence;

use jcstar_wire::telnet::Decoder;

/// Words that end a login attempt as refused.
const FAILURE_MARKERS: &[&str] = &[
    "incorrect",
    "invalid",
    "failed",
    "denied",
    "bad password",
    "authentication failure",
    "wrong",
];

/// Words that signal a lockout or rate limit.
const LOCKOUT_MARKERS: &[&str] = &["locked", "too many", "try again later", "blocked"];

/// A telnet connection that strips and refuses option negotiation.
struct Session {
    stream: Connection,
    /// Text received so far, telnet commands removed.
    text: Vec<u8>,
    /// Every byte received, for evidence.
    raw: Vec<u8>,
    /// The telnet decoder, which keeps unfinished command sequences between reads.
    decoder: Decoder,
    /// The text read after the last password sent (a series looks for the next prompt there).
    last: Vec<u8>,
    bounds: Bounds,
}

impl Session {
    async fn open(address: SocketAddr, bounds: &Bounds) -> std::io::Result<Session> {
        Ok(Session {
            stream: io::connect(address, bounds).await?,
            text: Vec::new(),
            raw: Vec::new(),
            decoder: Decoder::new(),
            last: Vec::new(),
            bounds: *bounds,
        })
    }

    /// Reads until `done(text since start)` holds, the peer is quiet for `quiet`, or the read
    /// deadline passes. Returns the new text.
    async fn read(
        &mut self,
        quiet: std::time::Duration,
        done: impl Fn(&[u8]) -> bool,
    ) -> (Vec<u8>, ReadEnd) {
        let start = self.text.len();
        let deadline = Instant::now() + self.bounds.read;
        loop {
            if done(&self.text[start..]) {
                return (self.text[start..].to_vec(), ReadEnd::Done);
            }
            if self.raw.len() >= self.bounds.max_bytes {
                return (self.text[start..].to_vec(), ReadEnd::Cap);
            }
            let wait = (Instant::now() + quiet).min(deadline);
            let mut chunk = Vec::new();
            let cap = (self.bounds.max_bytes - self.raw.len()).min(4096);
            let end =
                io::read_until(&mut self.stream, &mut chunk, cap, wait, |b| !b.is_empty()).await;
            match end {
                ReadEnd::Done | ReadEnd::Cap => {
                    self.raw.extend_from_slice(&chunk);
                    // A command sequence that never ends is not telnet: stop as on garbage.
                    let Ok(decoded) = self.decoder.feed(&chunk) else {
                        return (self.text[start..].to_vec(), ReadEnd::Cap);
                    };
                    self.text.extend_from_slice(&decoded.text);
                    let replies = decoded.replies;
                    if !replies.is_empty()
                        && io::send(&mut self.stream, &replies, deadline)
                            .await
                            .is_err()
                    {
                        return (self.text[start..].to_vec(), ReadEnd::Failed);
                    }
                }
                ReadEnd::Timeout => {
                    let end = if Instant::now() >= deadline {
                        ReadEnd::Timeout
                    } else {
                        ReadEnd::Done
                    };
                    return (self.text[start..].to_vec(), end);
                }
                other => return (self.text[start..].to_vec(), other),
            }
        }
    }

    async fn line(&mut self, text: &str) -> bool {
        let deadline = Instant::now() + self.bounds.read;
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        io::send(&mut self.stream, &bytes, deadline).await.is_ok()
    }

    /// Proves a command interpreter: `echo A''B` must print `AB` (the typed line shows
    /// `A''B`), or the bare command `AB` must be answered `AB: not found` as a shell
    /// reports unknown commands (the lab's stand-in shell runs nothing, by design).
    async fn confirm_shell(&mut self) -> Option<Evidence> {
        let (a, b) = (io::nonce(4), io::nonce(4));
        let joined = format!("{a}{b}");
        let echo = format!("echo {a}''{b}");
        if !self.line(&echo).await {
            return None;
        }
        let quiet = std::time::Duration::from_millis(700);
        let (seen, _) = self.read(quiet, |t| has_line(t, &joined)).await;
        if has_line(&seen, &joined) {
            return Some(Evidence::exchange(
                "shell confirmed",
                echo.as_bytes(),
                &seen,
            ));
        }
        if !self.line(&joined).await {
            return None;
        }
        let not_found = format!("{joined}: not found");
        let missing = format!("{joined}: command not found");
        let (seen, _) = self
            .read(quiet, |t| {
                io::contains_ci(t, &not_found) || io::contains_ci(t, &missing)
            })
            .await;
        (io::contains_ci(&seen, &not_found) || io::contains_ci(&seen, &missing))
            .then(|| Evidence::exchange("shell confirmed", joined.as_bytes(), &seen))
    }

    async fn close(mut self) {
        let _ = tokio::time::timeout(self.bounds.connect, self.stream.shutdown()).await;
    }
}

/// Whether `text` holds `word` as output on a line of its own (not inside the typed command).
fn has_line(text: &[u8], word: &str) -> bool {
    String::from_utf8_lossy(text)
        .split(['\r', '\n'])
        .any(|line| line.trim() == word)
}

fn ends_with_prompt(text: &[u8], prompts: &[&str]) -> bool {
    let tail = String::from_utf8_lossy(text).to_ascii_lowercase();
    let tail = tail.trim_end();
    prompts.iter().any(|p| tail.ends_with(p))
}

const LOGIN_PROMPTS: &[&str] = &["login:", "username:", "user name:", "user:"];
const PASSWORD_PROMPTS: &[&str] = &["password:", "passwd:"];

/// Does the service open a shell without any login step?
pub async fn exposure(address: SocketAddr, bounds: &Bounds) -> Exposure {
    let mut session = match Session::open(address, bounds).await {
        Ok(s) => s,
        Err(e) => return Exposure::Unknown(format!("cannot connect: {e}")),
    };
    let quiet = std::time::Duration::from_millis(1500);
    let (greeting, end) = session.read(quiet, prompted).await;
    let result = if end == ReadEnd::Done && prompted(&greeting) {
        Exposure::Protected {
            what: "telnet asks for a login".to_string(),
        }
    } else if matches!(end, ReadEnd::Closed | ReadEnd::Failed) {
        Exposure::Unknown("the connection closed before a prompt".to_string())
    } else {
        match session.confirm_shell().await {
            Some(evidence) => Exposure::Open {
                what: "a shell without any login".to_string(),
                evidence,
            },
            None => Exposure::Unknown(format!(
                "no login prompt and no shell: {}",
                jcstar_model::escape_bytes(&greeting)
            )),
        }
    };
    session.close().await;
    result
}

/// Tries one credential on a fresh connection.
pub async fn login(
    address: SocketAddr,
    user: &str,
    password: &str,
    bounds: &Bounds,
) -> LoginOutcome {
    let mut session = match Session::open(address, bounds).await {
        Ok(s) => s,
        Err(e) => return io::connect_error(&e).into(),
    };
    let result = attempt(&mut session, user, password).await;
    session.close().await;
    result
}

async fn attempt(session: &mut Session, user: &str, password: &str) -> LoginOutcome {
    let patience = session.bounds.read;
    let (greeting, _) = session.read(patience, prompted).await;
    answer(session, &greeting, user, password).await.0
}

/// Answers the prompt that ends `greeting` with `user` and `password`; returns the verdict and
/// the text read after the password (where the next login prompt may already be).
async fn answer(
    session: &mut Session,
    greeting: &[u8],
    user: &str,
    password: &str,
) -> (LoginOutcome, Vec<u8>) {
    let login = answer_prompts(session, greeting, user, password).await;
    (login, std::mem::take(&mut session.last))
}

async fn answer_prompts(
    session: &mut Session,
    greeting: &[u8],
    user: &str,
    password: &str,
) -> LoginOutcome {
    let patience = session.bounds.read;
    session.last.clear();
    if let Some(locked) = lockout(greeting) {
        return locked;
    }
    let closed = |phase| LoginOutcome::from(ExchangeError::Closed { phase });
    // No prompt within the read deadline: the login was never reached, which says nothing
    // about the credential.
    let no_prompt = || {
        LoginOutcome::from(ExchangeError::NoAnswer {
            phase: Phase::Greeting,
        })
    };
    if ends_with_prompt(greeting, LOGIN_PROMPTS) {
        if !session.line(user).await {
            return closed(Phase::Greeting);
        }
        let (seen, _) = session
            .read(patience, |t| ends_with_prompt(t, PASSWORD_PROMPTS))
            .await;
        if !ends_with_prompt(&seen, PASSWORD_PROMPTS) {
            if let Some(locked) = lockout(&seen) {
                return locked;
            }
            return no_prompt();
        }
    } else if !ends_with_prompt(greeting, PASSWORD_PROMPTS) {
        return no_prompt();
    }
    if !session.line(password).await {
        return closed(Phase::Answer);
    }
    // Failure messages often come after a delay of seconds: wait for a verdict or silence.
    // Devices that echo what is typed send the password back: markers are looked for only in
    // what the device said itself.
    let typed = [user, password];
    let (after, end) = session
        .read(patience, |t| {
            let said = without_echo(t, &typed);
            FAILURE_MARKERS.iter().any(|m| io::contains_ci(&said, m))
                || ends_with_prompt(&said, LOGIN_PROMPTS)
                || ends_with_prompt(&said, &["# ", "$ ", "> "])
        })
        .await;
    session.last.clone_from(&after);
    let said = without_echo(&after, &typed);
    if let Some(locked) = lockout(&said) {
        return locked;
    }
    if FAILURE_MARKERS.iter().any(|m| io::contains_ci(&said, m))
        || ends_with_prompt(&said, LOGIN_PROMPTS)
    {
        return LoginOutcome::Rejected;
    }
    if matches!(end, ReadEnd::Closed | ReadEnd::Failed) {
        return LoginOutcome::Rejected;
    }
    match session.confirm_shell().await {
        Some(evidence) => LoginOutcome::Accepted(evidence),
        None => LoginOutcome::Rejected,
    }
}

/// `text` with every occurrence of what jcstar typed removed (a device's echo), so that
/// jcstar's own input never matches a failure, lockout or prompt marker.
fn without_echo(text: &[u8], typed: &[&str]) -> Vec<u8> {
    let mut out = text.to_vec();
    for input in typed.iter().filter(|t| !t.is_empty()) {
        let input = input.as_bytes();
        while let Some(at) = out.windows(input.len()).position(|w| w == input) {
            out.drain(at..at + input.len());
        }
    }
    out
}

/// Whether `text` ends with a login or password prompt.
fn prompted(text: &[u8]) -> bool {
    ends_with_prompt(text, LOGIN_PROMPTS) || ends_with_prompt(text, PASSWORD_PROMPTS)
}

/// Tries several passwords for `user` on ONE telnet connection, answering the login prompt
/// again after each failure: the brute-force check's same-connection bypass test, and default
/// credential guessing, which feeds `passwords` lazily from a shared queue. Each entry is
/// timed from the end of the previous one (the first from the connect) to its verdict; every
/// read has the deadline and byte cap of `bounds`. `more` sees each entry but a failed connect
/// and says whether to go on; the series also ends at the first answer that is not a
/// rejection, and with an `Undecided` entry for the password just taken from `passwords`
/// when no new prompt comes for it (the daemon closed the connection after its
/// per-connection limit, BusyBox login after three failures for instance).
pub async fn login_series<P: AsRef<str>>(
    address: SocketAddr,
    user: &str,
    passwords: impl IntoIterator<Item = P>,
    bounds: &Bounds,
    mut more: impl FnMut(std::time::Duration, &LoginOutcome) -> bool,
) -> Vec<(std::time::Duration, LoginOutcome)> {
    let mut series = Series::start();
    let mut session = match Session::open(address, bounds).await {
        Ok(s) => s,
        Err(e) => return series.end(io::connect_error(&e).into()),
    };
    let mut before: Vec<u8> = Vec::new();
    for (i, password) in passwords.into_iter().enumerate() {
        let mut greeting = std::mem::take(&mut before);
        if !prompted(&greeting) {
            let seen = greeting.clone();
            let (more_text, end) = session
                .read(bounds.read, |t| {
                    let mut all = seen.clone();
                    all.extend_from_slice(t);
                    prompted(&all)
                })
                .await;
            greeting.extend_from_slice(&more_text);
            if i > 0 && !prompted(&greeting) && lockout(&greeting).is_none() {
                let why = match end {
                    ReadEnd::Closed | ReadEnd::Failed => ExchangeError::Closed {
                        phase: Phase::Greeting,
                    },
                    _ => ExchangeError::NoAnswer {
                        phase: Phase::Greeting,
                    },
                };
                series.record(why.into(), |t, l| {
                    more(t, l);
                    false
                });
                break;
            }
        }
        let (login, after) = answer(&mut session, &greeting, user, password.as_ref()).await;
        if !series.record(login, |t, l| {
            more(t, l) && matches!(l, LoginOutcome::Rejected)
        }) {
            break;
        }
        before = after;
    }
    session.close().await;
    series.entries()
}

/// The explicit lockout (`locked`, `blocked`) or rate limit (`too many`, `try again later`)
/// that `text` announces, if any.
fn lockout(text: &[u8]) -> Option<LoginOutcome> {
    let marker = LOCKOUT_MARKERS.iter().find(|m| io::contains_ci(text, m))?;
    let evidence = Evidence::observed(
        format!("telnet said {marker:?}"),
        jcstar_model::escape_bytes(text),
    );
    Some(if matches!(*marker, "locked" | "blocked") {
        LoginOutcome::LockedOut(evidence)
    } else {
        LoginOutcome::RateLimited(evidence)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_recognised_at_the_end_only() {
        assert!(ends_with_prompt(b"\r\nipcam login: ", LOGIN_PROMPTS));
        assert!(ends_with_prompt(b"Password: ", PASSWORD_PROMPTS));
        assert!(!ends_with_prompt(b"login: root\r\nWelcome", LOGIN_PROMPTS));
    }

    #[test]
    fn echoed_input_is_not_what_the_device_said() {
        let echoed = b"jcs-wrong-abc\r\n";
        let said = without_echo(echoed, &["root", "jcs-wrong-abc"]);
        assert!(!FAILURE_MARKERS.iter().any(|m| io::contains_ci(&said, m)));
        let failed = without_echo(b"jcs-wrong-abc\r\nLogin incorrect\r\n", &["jcs-wrong-abc"]);
        assert!(io::contains_ci(&failed, "incorrect"));
        assert_eq!(without_echo(b"abab", &["ab", ""]), b"");
    }

    #[test]
    fn typed_echo_is_not_output() {
        assert!(!has_line(b"echo ab''cd\r\n", "abcd"));
        assert!(has_line(b"echo ab''cd\r\nabcd\r\n# ", "abcd"));
    }
}
