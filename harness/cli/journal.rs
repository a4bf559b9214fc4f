//! The run journal: `journal.jsonl` in the output directory, one JSON line per finished
//! measurement (a device's port scan, a device's service checks), appended and synced as each
//! completes. An interrupt, a crash or a power cut keeps everything measured, and
//! `jcstar scan --resume DIR` continues the run without probing finished devices again, and
//! `jcstar report DIR` rebuilds every report from the journal alone (see [`crate::replay`]).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use jcstar_checks::ActiveOutcome;
use jcstar_model::device::Device;
use jcstar_model::error::{read_capped, InputError, Origin};
use jcstar_probe::scan::HostScan;
use jcstar_report::{IntrusiveInfo, ScanInfo, ShardRef};

/// The journal's file name in the output directory.
pub const FILE_NAME: &str = "journal.jsonl";

/// Largest journal read back on `--resume`.
const MAX_JOURNAL_BYTES: u64 = 1 << 30;

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// What run this is: a resumed run must scan with the same profile and ports.
    Run {
        /// The jcstar version that wrote it.
        tool: String,
        /// The profile's name.
        profile: String,
        /// The TCP ports probed on every device, in nmap syntax.
        ports: String,
        /// What the run set out to do; absent in journals written before jcstar recorded it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<Box<RunLine>>,
    },
    /// A device's finished port scan.
    Scan {
        /// The scan.
        scan: HostScan,
    },
    /// A device's finished service checks.
    Checks {
        /// The device's address.
        address: IpAddr,
        /// What the checks found.
        outcome: ActiveOutcome,
    },
}

/// What a run set out to do, written first so that its reports can be rebuilt from the
/// journal alone. Credentials are not in it (devices serialise without them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunLine {
    /// RFC 3339 start time.
    pub started: String,
    /// The profile's name.
    pub profile: String,
    /// The TCP ports probed on every device, in probing order.
    pub ports: Vec<u16>,
    /// Whether intrusive checks were allowed.
    pub intrusive: IntrusiveInfo,
    /// The scan's scope and limits, as results.json records them.
    pub scan: ScanInfo,
    /// The slice of a sharded run (`--shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRef>,
    /// The devices of this run, in report order.
    pub devices: Vec<Device>,
    /// In a sharded run, every device address of the whole run; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<IpAddr>,
}

impl Record {
    /// The run line for `plan`.
    pub fn run(plan: RunLine) -> Record {
        Record::Run {
            tool: env!("CARGO_PKG_VERSION").to_string(),
            profile: plan.profile.clone(),
            ports: jcstar_model::ports::format_port_ranges(&plan.ports),
            plan: Some(Box::new(plan)),
        }
    }
}

/// The journal being written.
pub struct Journal {
    path: PathBuf,
    file: Option<File>,
}

impl Journal {
    /// Opens (or continues) the journal in `dir` and writes the run line.
    pub fn open(dir: &Path, run: &Record) -> Journal {
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new().create(true).append(true).open(&path);
        let mut journal = Journal {
            file: file.map_err(|e| warn(&path, &e)).ok(),
            path,
        };
        journal.append(run);
        journal
    }

    /// Appends one record and syncs it to disk. A failure is said once on stderr and the run
    /// goes on without the journal: the reports are still written at the end.
    pub fn append(&mut self, record: &Record) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let written = serde_json::to_string(record)
            .map_err(std::io::Error::other)
            .and_then(|line| file.write_all(format!("{line}\n").as_bytes()))
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            warn(&self.path, &e);
            self.file = None;
        }
    }
}

fn warn(path: &Path, error: &std::io::Error) {
    eprintln!(
        "jcstar: warning: cannot write the journal {} ({error}); an interrupted run cannot be resumed",
        path.display()
    );
}

/// What a journal holds: the run line and every finished measurement.
#[derive(Debug, Default)]
pub struct Resumed {
    /// Profile name and ports of the run that wrote it.
    pub run: Option<(String, String)>,
    /// Finished port scans by device address.
    pub scans: BTreeMap<IpAddr, HostScan>,
    /// Finished service checks by device address.
    pub checks: BTreeMap<IpAddr, ActiveOutcome>,
    /// What the last run line says the run set out to do, when it says it.
    pub plan: Option<RunLine>,
    /// The number of a torn last line (a power cut mid-write) that was skipped.
    pub torn_line: Option<usize>,
}

impl Resumed {
    /// Devices finished in both stages, every check run to its end: these are not probed
    /// again.
    pub fn finished(&self, address: &IpAddr) -> bool {
        self.scans.contains_key(address)
            && self
                .checks
                .get(address)
                .is_some_and(|outcome| !outcome.interrupted)
    }
}

/// Reads the journal of the run in `dir`. A torn last line (a power cut mid-write) is
/// skipped; any other unreadable line is an error naming it.
pub fn read(dir: &Path) -> Result<Resumed, InputError> {
    let path = dir.join(FILE_NAME);
    let text = read_capped(&path, MAX_JOURNAL_BYTES).map_err(|e| {
        InputError::new(
            Origin::file(&path),
            format!("cannot read it: {e}; give the output directory of an earlier run"),
        )
    })?;
    let lines: Vec<&str> = text.lines().collect();
    let mut resumed = Resumed::default();
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = match serde_json::from_str(line) {
            Ok(record) => record,
            Err(_) if index + 1 == lines.len() && !text.ends_with('\n') => {
                resumed.torn_line = Some(index + 1);
                break;
            }
            Err(e) => {
                return Err(InputError::new(
                    Origin::file_line(&path, index + 1),
                    format!("not a journal record ({e}); the journal was changed by hand, or is not jcstar's"),
                ))
            }
        };
        match record {
            Record::Run {
                profile,
                ports,
                plan,
                ..
            } => {
                resumed.run = Some((profile, ports));
                resumed.plan = plan.map(|plan| *plan);
            }
            Record::Scan { scan } => {
                resumed.scans.insert(scan.address, scan);
            }
            Record::Checks { address, outcome } => {
                resumed.checks.insert(address, outcome);
            }
        }
    }
    Ok(resumed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jcstar_probe::scan::HostStats;

    fn run_line() -> Record {
        Record::Run {
            tool: "test".into(),
            profile: "jc-star-1".into(),
            ports: "22,80".into(),
            plan: None,
        }
    }

    fn scan(address: IpAddr) -> HostScan {
        HostScan {
            address,
            ports: Vec::new(),
            stats: HostStats::default(),
        }
    }

    #[test]
    fn records_round_trip_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let mut journal = Journal::open(dir.path(), &run_line());
        journal.append(&Record::Scan { scan: scan(a) });
        journal.append(&Record::Checks {
            address: a,
            outcome: ActiveOutcome::default(),
        });
        journal.append(&Record::Scan { scan: scan(b) });
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        let mut text = std::fs::read_to_string(&path).expect("journal");
        text.push_str("{\"record\":\"checks\",\"addr");
        std::fs::write(&path, &text).expect("tear");
        let resumed = read(dir.path()).expect("readable");
        assert_eq!(resumed.torn_line, Some(5));
        assert_eq!(
            resumed.run,
            Some(("jc-star-1".to_string(), "22,80".to_string()))
        );
        assert!(resumed.finished(&a));
        assert!(!resumed.finished(&b), "scanned, not checked");
        assert_eq!(resumed.scans.len(), 2);
    }

    #[test]
    fn a_damaged_line_inside_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path(), &run_line());
        journal.append(&Record::Scan {
            scan: scan([127, 0, 0, 1].into()),
        });
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        let text = std::fs::read_to_string(&path).expect("journal");
        std::fs::write(&path, format!("{}garbage\n{text}", "")).expect("write");
        let error = read(dir.path()).expect_err("damaged").to_string();
        assert!(error.contains("journal.jsonl:1"), "{error}");
        let missing = tempfile::tempdir().expect("tempdir");
        assert!(read(missing.path()).is_err());
    }
}
