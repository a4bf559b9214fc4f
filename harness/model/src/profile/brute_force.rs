//! The profile's `[brute_force]` section (S1.1-04): how many wrong passwords to send, the
//! guess-rate threshold a device must enforce, which bypasses to try, and how long to wait for
//! a locked account to recover. The scheme publishes no threshold; these are the lab's.

use serde::{Deserialize, Serialize};

/// Hard maximum of wrong passwords sent to one service.
pub const MAX_ATTEMPTS: usize = 50;

/// Settings of the brute-force resistance check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BruteForceSettings {
    /// Wrong passwords sent in sequence to each login surface (1 to [`MAX_ATTEMPTS`]).
    pub attempts: usize,
    /// An attempt this slow (connect to verdict, in milliseconds) counts as slowed down.
    pub min_delay_ms: u64,
    /// Failures answered at full speed that are tolerated: every attempt after failure
    /// `from_attempt` must be slowed down or refused.
    pub from_attempt: usize,
    /// Try a second user name once the attacked one is slowed down or locked.
    pub bypass_other_user: bool,
    /// The second user name.
    pub other_user: String,
    /// Try this many wrong passwords at once once the account is slowed down or locked
    /// (0 turns the parallel bypass test off).
    pub parallel: usize,
    /// Send this many wrong passwords on ONE connection once the account is slowed down or
    /// locked (SSH session, telnet prompt again, FTP USER/PASS again, HTTP keep-alive), and
    /// compare with the fresh-connection series: a defence that does not hold within one
    /// connection is bypassed. 0 turns the test off; otherwise 2 to 20.
    pub same_connection_attempts: usize,
    /// Longest wait for a locked account to accept its valid credential again, in seconds.
    pub max_lockout_wait_s: u64,
    /// Pause between recovery logins while waiting, in milliseconds.
    pub recovery_poll_ms: u64,
    /// Deadline of each connect, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Deadline of each wait for an answer, in milliseconds (a tarpit beyond it counts as slow).
    pub read_timeout_ms: u64,
    /// Most bytes kept from one answer.
    pub max_response_bytes: usize,
    /// Most undecided attempts (timeouts, garbage) before a surface is judged inconclusive.
    pub max_undecided: usize,
}

impl Default for BruteForceSettings {
    fn default() -> Self {
        BruteForceSettings {
            attempts: 10,
            min_delay_ms: 1000,
            from_attempt: 5,
            bypass_other_user: true,
            other_user: "jcstar-probe".into(),
            parallel: 8,
            same_connection_attempts: 4,
            max_lockout_wait_s: 120,
            recovery_poll_ms: 3000,
            connect_timeout_ms: 3000,
            read_timeout_ms: 8000,
            max_response_bytes: 64 * 1024,
            max_undecided: 3,
        }
    }
}

impl BruteForceSettings {
    /// Checks ranges; the error names the offending key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.attempts == 0 || self.attempts > MAX_ATTEMPTS {
            return Err(format!(
                "brute_force.attempts must be between 1 and {MAX_ATTEMPTS}"
            ));
        }
        if self.from_attempt >= self.attempts {
            return Err("brute_force.from_attempt must be below attempts".into());
        }
        if self.min_delay_ms == 0 || self.min_delay_ms > 60_000 {
            return Err("brute_force.min_delay_ms must be between 1 and 60000".into());
        }
        if self.parallel > 16 {
            return Err("brute_force.parallel must be between 0 and 16".into());
        }
        if self.same_connection_attempts == 1 || self.same_connection_attempts > 20 {
            return Err(
                "brute_force.same_connection_attempts must be 0 (off) or between 2 and 20".into(),
            );
        }
        if self.max_lockout_wait_s > 3600 {
            return Err("brute_force.max_lockout_wait_s must be at most 3600".into());
        }
        if self.recovery_poll_ms < 100 || self.recovery_poll_ms > 60_000 {
            return Err("brute_force.recovery_poll_ms must be between 100 and 60000".into());
        }
        super::check_timeouts("brute_force", self.connect_timeout_ms, self.read_timeout_ms)?;
        if self.max_response_bytes < 512 || self.max_response_bytes > 1 << 20 {
            return Err("brute_force.max_response_bytes must be between 512 and 1048576".into());
        }
        if self.other_user.trim().is_empty() {
            return Err("brute_force.other_user must not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_capped() {
        let mut s = BruteForceSettings::default();
        assert!(s.validate().is_ok());
        s.attempts = MAX_ATTEMPTS + 1;
        assert!(s.validate().unwrap_err().contains("attempts"));
        s.attempts = 3;
        assert!(s.validate().unwrap_err().contains("from_attempt"));
        let mut s = BruteForceSettings {
            same_connection_attempts: 1,
            ..BruteForceSettings::default()
        };
        assert!(s
            .validate()
            .unwrap_err()
            .contains("same_connection_attempts"));
        s.same_connection_attempts = 0;
        assert!(s.validate().is_ok());
    }
}
