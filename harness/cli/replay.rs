//! A run's reports rebuilt from its journal alone: for a run that ended (crash, kill, power
//! cut) before writing results.json. Finished measurements are judged exactly as the run
//! judges them ([`crate::assemble`]); devices it did not finish are listed with why, and their
//! criteria that lack measurements are `inconclusive`, never `pass`.

use std::path::Path;

use chrono::{DateTime, Local, SecondsFormat};

use crate::assemble::{device_reports, Measured};
use crate::journal::{self, Resumed};
use jcstar_model::error::{InputError, Origin};
use jcstar_model::profile::Profile;
use jcstar_report::{ProfileRef, RunReport, Summary, ToolInfo, SCHEMA_VERSION};

/// Why a run rebuilt from its journal is incomplete: what every format says.
pub const STOPPED: &str = "the run ended before writing its reports (a crash, a kill or a power cut); these reports were rebuilt from journal.jsonl";

/// The run recorded in `dir/journal.jsonl`, judged with `profile` (whose name must be the
/// run's). A run whose every device finished is complete; otherwise it is marked interrupted.
pub fn rebuild(dir: &Path, mut profile: Profile) -> Result<(RunReport, Profile), InputError> {
    let path = dir.join(journal::FILE_NAME);
    let resumed = journal::read(dir)?;
    if let Some(line) = resumed.torn_line {
        eprintln!(
            "jcstar: note: {}:{line}: the last line was cut off mid-write (the run ended while writing it) and is skipped; that measurement counts as not finished",
            path.display()
        );
    }
    let Resumed {
        plan,
        scans,
        checks,
        ..
    } = resumed;
    let Some(plan) = plan else {
        return Err(InputError::new(
            Origin::file(&path),
            format!(
                "this journal does not record the run's devices (an older jcstar wrote it), so its reports cannot be rebuilt from it; finish the run with `jcstar scan --resume {}` and the same targets",
                dir.display()
            ),
        ));
    };
    if plan.profile != profile.profile.name {
        return Err(InputError::new(
            Origin::file(&path),
            format!(
                "the run used profile {:?}, not {:?}; give that profile with --profile FILE",
                plan.profile, profile.profile.name
            ),
        ));
    }
    // The run's own check selection (--checks / --skip), so passive checks judge as it did.
    profile.checks.enabled = plan.scan.checks.clone();
    let complete = plan.devices.iter().all(|d| {
        scans.contains_key(&d.address) && checks.get(&d.address).is_some_and(|o| !o.interrupted)
    });
    let stopped = (!complete).then_some(STOPPED);
    let started = DateTime::parse_from_rfc3339(&plan.started)
        .map(|t| t.with_timezone(&Local))
        .unwrap_or_else(|_| Local::now());
    // The journal's last write is when the run last finished a measurement.
    let finished: DateTime<Local> = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map(DateTime::from)
        .unwrap_or(started)
        .max(started);
    let devices = device_reports(&Measured {
        profile: &profile,
        devices: &plan.devices,
        peers: &plan.peers,
        ports: &plan.ports,
        scans: &scans,
        checks: &checks,
        stopped,
        today: started.date_naive(),
    });
    let report = RunReport {
        schema: "jcstar.results",
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        profile: ProfileRef {
            name: profile.profile.name.clone(),
            title: profile.profile.title.clone(),
            version: profile.profile.version.clone(),
        },
        started: started.to_rfc3339_opts(SecondsFormat::Millis, false),
        finished: finished.to_rfc3339_opts(SecondsFormat::Millis, false),
        duration_ms: (finished - started).num_milliseconds().max(0) as u64,
        interrupted: !complete,
        stopped: stopped.map(str::to_string),
        intrusive: plan.intrusive,
        scan: plan.scan,
        shard: plan.shard,
        summary: Summary::of(&devices),
        devices,
    };
    Ok((report, profile))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Journal, Record, RunLine};
    use jcstar_checks::ActiveOutcome;
    use jcstar_model::device::Device;
    use jcstar_model::Verdict;
    use jcstar_probe::scan::{HostScan, HostStats};
    use jcstar_report::{IntrusiveInfo, ScanInfo};

    fn run_line(profile: &Profile, devices: Vec<Device>) -> Record {
        Record::run(RunLine {
            started: "2026-01-05T10:00:00.000+09:00".into(),
            profile: profile.profile.name.clone(),
            ports: vec![80],
            intrusive: IntrusiveInfo {
                enabled: false,
                disabled_by: Some("--no-intrusive".into()),
            },
            scan: ScanInfo {
                tcp_ports: "80".into(),
                tcp_port_count: 1,
                nofile_soft: 1024,
                global_in_flight: 256,
                per_host_start: 16,
                max_rate: None,
                service_rate_per_minute: None,
                checks: profile.checks.enabled.clone(),
                timing: None,
                initial_timeout_ms: 1000,
                min_timeout_ms: 100,
                max_timeout_ms: 1500,
                per_host_max: 1024,
                banner_timeout_ms: 1500,
                host_timeout_ms: None,
                max_hosts: None,
            },
            shard: None,
            devices,
            peers: Vec::new(),
        })
    }

    /// One device scanned and checked, one never scanned: the first is judged as a run judges
    /// it, the second is listed as not scanned with every unmeasured criterion inconclusive.
    #[test]
    fn a_device_the_journal_never_saw_scanned_is_inconclusive_and_the_run_interrupted() {
        let profile = Profile::builtin();
        let dir = tempfile::tempdir().expect("tempdir");
        let done = Device::bare([127, 0, 0, 1].into(), None);
        let never = Device::bare([127, 0, 0, 2].into(), None);
        let mut journal = Journal::open(
            dir.path(),
            &run_line(&profile, vec![done.clone(), never.clone()]),
        );
        journal.append(&Record::Scan {
            scan: HostScan {
                address: done.address,
                ports: Vec::new(),
                stats: HostStats::default(),
            },
        });
        journal.append(&Record::Checks {
            address: done.address,
            outcome: ActiveOutcome::default(),
        });
        drop(journal);
        let (report, _) = rebuild(dir.path(), profile.clone()).expect("rebuilds");
        assert!(report.interrupted);
        assert_eq!(report.stopped.as_deref(), Some(STOPPED));
        assert_eq!(report.started.len(), "2026-01-05T10:00:00.000+09:00".len());
        let [first, second] = report.devices.as_slice() else {
            panic!("two devices");
        };
        assert!(first.unfinished.is_none());
        assert!(first.scan_stats.is_some());
        let why = second.unfinished.as_deref().expect("unfinished");
        assert!(why.starts_with("not scanned"), "{why}");
        assert!(second.scan_stats.is_none());
        for criterion in &second.criteria {
            assert_ne!(criterion.verdict, Verdict::Pass, "{}", criterion.id);
        }
        for id in ["S1.1-13", "S1.1-01", "S1.1-04"] {
            let criterion = second.criterion(id).expect(id);
            assert_eq!(criterion.verdict, Verdict::Inconclusive, "{id}");
        }
        assert!(second
            .criterion("S1.1-01")
            .is_some_and(|c| c.reason.contains("rebuilt from journal.jsonl")));
    }

    /// Every device finished: the rebuilt run is complete. Another profile is refused.
    #[test]
    fn a_journal_of_finished_devices_rebuilds_a_complete_run_of_its_own_profile() {
        let profile = Profile::builtin();
        let dir = tempfile::tempdir().expect("tempdir");
        let device = Device::bare([127, 0, 0, 1].into(), None);
        let mut journal = Journal::open(dir.path(), &run_line(&profile, vec![device.clone()]));
        journal.append(&Record::Scan {
            scan: HostScan {
                address: device.address,
                ports: Vec::new(),
                stats: HostStats::default(),
            },
        });
        journal.append(&Record::Checks {
            address: device.address,
            outcome: ActiveOutcome::default(),
        });
        drop(journal);
        let (report, _) = rebuild(dir.path(), profile.clone()).expect("rebuilds");
        assert!(!report.interrupted);
        assert!(report.stopped.is_none());
        assert!(report.devices[0].unfinished.is_none());
        let mut other = profile;
        other.profile.name = "another".into();
        let error = rebuild(dir.path(), other)
            .expect_err("another profile")
            .to_string();
        assert!(
            error.contains("journal.jsonl") && error.contains("--profile"),
            "{error}"
        );
    }
}
