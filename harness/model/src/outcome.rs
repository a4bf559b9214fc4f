//! Typed outcomes of exchanges with a device. Verdicts are decided from these, never by searching
//! the text of an error (which can hold device bytes).

use std::fmt;

use crate::Evidence;

/// Where an exchange stood when it ended without a usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Opening the connection (TCP connect, TLS handshake).
    Connect,
    /// Waiting for the service's greeting, banner, challenge or login prompt.
    Greeting,
    /// Waiting for the answer to a request or to the credentials sent.
    Answer,
}

impl Phase {
    fn describe(self) -> &'static str {
        match self {
            Phase::Connect => "while connecting",
            Phase::Greeting => "before the service greeted or prompted",
            Phase::Answer => "after the request was sent",
        }
    }
}

/// Why an exchange with a device gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// The deadline passed with nothing (or nothing complete) received.
    NoAnswer {
        /// Where the exchange waited.
        phase: Phase,
    },
    /// The device refused the TCP connection (it answered the SYN with a reset).
    Refused,
    /// The device closed or reset an open connection.
    Closed {
        /// Where the exchange stood.
        phase: Phase,
    },
    /// The device answered, but not in the protocol expected; the text is jcstar's description
    /// with any device bytes bounded and escaped.
    ProtocolError(String),
}

impl ExchangeError {
    /// Classifies an I/O error of a connect, send or receive in `phase`.
    pub fn from_io(error: &std::io::Error, phase: Phase) -> Self {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => ExchangeError::NoAnswer { phase },
            ErrorKind::ConnectionRefused if phase == Phase::Connect => ExchangeError::Refused,
            ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
            | ErrorKind::NotConnected => ExchangeError::Closed { phase },
            _ => ExchangeError::ProtocolError(crate::bounded(&error.to_string())),
        }
    }

    /// Whether the device said nothing at all (a deadline passed).
    pub fn is_silence(&self) -> bool {
        matches!(self, ExchangeError::NoAnswer { .. })
    }
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeError::NoAnswer { phase } => write!(f, "no answer {}", phase.describe()),
            ExchangeError::Refused => f.write_str("connection refused"),
            ExchangeError::Closed { phase } => {
                write!(f, "the device closed the connection {}", phase.describe())
            }
            ExchangeError::ProtocolError(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for ExchangeError {}

/// The outcome of one login attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginOutcome {
    /// The service accepted the credential; the evidence proves it.
    Accepted(Evidence),
    /// The service answered that the credential is wrong.
    Rejected,
    /// The service answered with an explicit rate limit (HTTP 429, FTP 421, MQTT quota
    /// exceeded, RFB "too many attempts", …).
    RateLimited(Evidence),
    /// The service answered that the account or the login is locked.
    LockedOut(Evidence),
    /// The service offers no way to log in with a password (jcstar's words say why).
    Unsupported(String),
    /// No verdict: silence, a refused or closed connection, or an answer that is not the
    /// protocol's.
    Undecided(ExchangeError),
}

impl From<ExchangeError> for LoginOutcome {
    fn from(error: ExchangeError) -> Self {
        LoginOutcome::Undecided(error)
    }
}

impl LoginOutcome {
    /// Whether the service explicitly signalled a lockout or rate limit.
    pub fn is_defence_signal(&self) -> bool {
        matches!(
            self,
            LoginOutcome::RateLimited(_) | LoginOutcome::LockedOut(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn io_errors_are_classified_by_kind_not_text() {
        let refused = Error::new(ErrorKind::ConnectionRefused, "timed out (a lying message)");
        assert_eq!(
            ExchangeError::from_io(&refused, Phase::Connect),
            ExchangeError::Refused
        );
        let reset = Error::new(ErrorKind::ConnectionReset, "refused");
        assert_eq!(
            ExchangeError::from_io(&reset, Phase::Answer),
            ExchangeError::Closed {
                phase: Phase::Answer
            }
        );
        let slow = Error::new(ErrorKind::TimedOut, "reset");
        assert!(ExchangeError::from_io(&slow, Phase::Connect).is_silence());
        let other = Error::other("x".repeat(10_000));
        let ExchangeError::ProtocolError(text) = ExchangeError::from_io(&other, Phase::Answer)
        else {
            panic!("an unknown I/O error is a protocol error");
        };
        assert!(text.len() < 1_000);
    }
}
