//! The run journal: `journal.jsonl` in the output directory, one JSON line per finished
//! measurement (a device's port scan, a device's service checks), appended as each completes
//! and synced in batches by a writer thread. An interrupt, a crash or a power cut keeps everything measured, and
//! `jcstar scan --resume DIR` continues the run without probing finished devices again, and
//! `jcstar report DIR` rebuilds every report from the journal alone (see [`crate::replay`]).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc;

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

/// The journal being written. Records are serialised by the caller and handed to a writer
/// thread that appends them in order and syncs once per batch (group commit): the device
/// tasks never wait on the disk, and a run of thousands of devices does not pay one
/// `fdatasync` per record on its runtime threads. A record reaches the file (the page cache,
/// which survives the process being killed) within one sync of being appended; dropping the
/// journal or calling [`Journal::flush`] waits until everything appended is synced.
pub struct Journal {
    lines: Option<mpsc::Sender<Message>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// What the writer thread is asked to do.
enum Message {
    /// Append this line (without its newline).
    Line(String),
    /// Answer once everything sent before is written and synced.
    Flush(mpsc::SyncSender<()>),
}

impl Journal {
    /// Opens (or continues) the journal in `dir` and writes the run line.
    pub fn open(dir: &Path, run: &Record) -> Journal {
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new().create(true).append(true).open(&path);
        let mut journal = Journal {
            lines: None,
            writer: None,
        };
        let file = match file {
            Ok(file) => file,
            Err(e) => {
                warn(&path, &e);
                return journal;
            }
        };
        let (lines, inbox) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("jcstar-journal".into())
            .spawn(move || write_batches(file, &path, &inbox));
        match spawned {
            Ok(writer) => {
                journal.lines = Some(lines);
                journal.writer = Some(writer);
            }
            Err(e) => warn(&dir.join(FILE_NAME), &e),
        }
        journal.append(run);
        journal
    }

    /// Appends one record. A failure to write is said once on stderr and the run goes on
    /// without the journal: the reports are still written at the end.
    pub fn append(&mut self, record: &Record) {
        let Some(lines) = &self.lines else {
            return;
        };
        match serde_json::to_string(record) {
            Ok(line) => {
                if lines.send(Message::Line(line)).is_err() {
                    // The writer stopped after a write error it has reported.
                    self.lines = None;
                }
            }
            Err(e) => eprintln!("jcstar: warning: a journal record could not be encoded ({e})"),
        }
    }

    /// Waits until every record appended so far is written and synced.
    pub fn flush(&self) {
        let Some(lines) = &self.lines else {
            return;
        };
        let (done, synced) = mpsc::sync_channel(1);
        if lines.send(Message::Flush(done)).is_ok() {
            let _ = synced.recv();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Closing the channel lets the writer drain what is queued, sync, and end.
        self.lines = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Most bytes written between two syncs.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// The writer thread: takes every queued line, writes them with one write and one sync, and
/// answers flush requests after the sync that covers them. Ends when every sender is gone or
/// at the first write error (said once).
fn write_batches(mut file: File, path: &Path, inbox: &mpsc::Receiver<Message>) {
    while let Ok(first) = inbox.recv() {
        let mut batch = String::new();
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Line(line) => {
                    batch.push_str(&line);
                    batch.push('\n');
                }
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < MAX_BATCH_BYTES {
                next = inbox.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            if let Err(e) = file
                .write_all(batch.as_bytes())
                .and_then(|()| file.sync_data())
            {
                warn(path, &e);
                return;
            }
        }
        for done in waiting {
            let _ = done.send(());
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

    /// Records appended from many device tasks at once all reach the file, each thread's in its
    /// own order, and `flush` makes them readable while the journal is still open.
    #[test]
    fn concurrent_appends_are_all_on_disk_after_a_flush() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = std::sync::Arc::new(std::sync::Mutex::new(Journal::open(
            dir.path(),
            &run_line(),
        )));
        let threads: Vec<_> = (1..=8u8)
            .map(|t| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for i in 1..=50u8 {
                        let record = Record::Scan {
                            scan: scan([127, t, 0, i].into()),
                        };
                        journal.lock().expect("journal").append(&record);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("appender");
        }
        journal.lock().expect("journal").flush();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("journal");
        let addresses: Vec<IpAddr> = text
            .lines()
            .skip(1)
            .map(
                |line| match serde_json::from_str(line).expect("a whole record") {
                    Record::Scan { scan } => scan.address,
                    other => panic!("unexpected {other:?}"),
                },
            )
            .collect();
        assert_eq!(addresses.len(), 400);
        for t in 1..=8u8 {
            let own: Vec<IpAddr> = addresses
                .iter()
                .copied()
                .filter(|a| matches!(a, IpAddr::V4(v4) if v4.octets()[1] == t))
                .collect();
            let want: Vec<IpAddr> = (1..=50u8).map(|i| [127, t, 0, i].into()).collect();
            assert_eq!(own, want);
        }
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
