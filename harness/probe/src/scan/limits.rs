//! Process-wide limits: the open-file limit and the global in-flight cap.

use super::{Limits, ScanConfig};

/// File descriptors kept back for reports, logs, TLS material and the runtime.
const FD_RESERVE: u64 = 256;

/// Upper bound on concurrent sockets whatever the file limit allows.
const GLOBAL_CAP: usize = 16_384;

/// Raises the soft RLIMIT_NOFILE to the hard limit (best effort) and derives
/// the global in-flight limit: the soft limit minus a reserve for files and
/// reports, capped at 16384, at least 1. An explicit
/// [`ScanConfig::global_limit`] is honoured but still kept under the file limit.
pub fn prepare_limits(config: &ScanConfig) -> Limits {
    let (soft, hard) = raise_nofile();
    let by_fds = soft.saturating_sub(FD_RESERVE).max(1);
    let by_fds = usize::try_from(by_fds).unwrap_or(usize::MAX);
    let global_in_flight = match config.global_limit {
        Some(n) => n.min(by_fds),
        None => by_fds.min(GLOBAL_CAP),
    }
    .max(1);
    tracing::debug!(soft, hard, global_in_flight, "scan limits");
    Limits {
        nofile_soft: soft,
        nofile_hard: hard,
        global_in_flight,
    }
}

#[cfg(unix)]
fn raise_nofile() -> (u64, u64) {
    use rlimit::Resource;
    let Ok((soft, hard)) = rlimit::getrlimit(Resource::NOFILE) else {
        return (1024, 1024);
    };
    // An "unlimited" hard limit cannot be the soft one (Linux caps at nr_open).
    let target = hard.min(1 << 20);
    if soft < target && rlimit::setrlimit(Resource::NOFILE, target, hard).is_ok() {
        return (target, hard);
    }
    (soft, hard)
}

#[cfg(not(unix))]
fn raise_nofile() -> (u64, u64) {
    (512, 512)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_limit_fits_under_the_file_limit() {
        let limits = prepare_limits(&ScanConfig::default());
        assert!(limits.nofile_soft <= limits.nofile_hard);
        assert!(limits.global_in_flight >= 1);
        assert!(limits.global_in_flight <= GLOBAL_CAP);
        assert!((limits.global_in_flight as u64) < limits.nofile_soft.max(2));
    }

    #[test]
    fn explicit_global_limit_is_honoured() {
        let config = ScanConfig {
            global_limit: Some(7),
            ..ScanConfig::default()
        };
        assert_eq!(prepare_limits(&config).global_in_flight, 7);
        let zero = ScanConfig {
            global_limit: Some(0),
            ..ScanConfig::default()
        };
        assert_eq!(prepare_limits(&zero).global_in_flight, 1);
    }
}
