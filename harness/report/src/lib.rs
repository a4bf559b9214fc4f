//! Run reports: the versioned JSON document, JUnit XML, the HTML report, the self-assessment
//! checklist (CSV and XLSX), a Markdown summary for CI, run-to-run diffs and the terminal summary.
//!
//! `results.json` follows [`SCHEMA_VERSION`]; its fields are documented on the types below, in
//! `reports/README.md` and in the JSON Schema [`RESULTS_SCHEMA`]. A change that removes or
//! renames a field bumps the version. Every other format is rendered from the `results.json`
//! document ([`doc::ResultsDoc`]), so [`rerender`] reproduces them from a run directory.

pub mod checklist;
pub mod diff;
pub mod doc;
pub mod gate;
pub mod html;
pub mod junit;
pub mod readiness;
pub mod summary;
pub mod table;
pub mod texts;
pub mod waivers;
pub mod xlsx;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use jcstar_model::device::Device;
use jcstar_model::error::InputError;
use jcstar_model::{CriterionResult, Verdict};
use jcstar_probe::scan::{HostStats, PortResult};

/// Version of the `results.json` schema.
pub const SCHEMA_VERSION: u32 = 2;

/// JSON Schema (draft 2020-12) of `results.json`, as shipped in `harness/report/schema/`.
pub const RESULTS_SCHEMA: &str = include_str!("../schema/results.schema.json");

/// The whole run, as written to `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Always `"jcstar.results"`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: ToolInfo,
    /// The profile used.
    pub profile: ProfileRef,
    /// RFC 3339 start time.
    pub started: String,
    /// RFC 3339 end time.
    pub finished: String,
    /// Wall-clock duration in milliseconds.
    pub duration_ms: u64,
    /// True when the run was interrupted; devices not finished say so in their criteria.
    pub interrupted: bool,
    /// Why the run did not complete (a signal, the time budget, a crash seen in the journal);
    /// absent for a complete run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Whether intrusive checks were allowed, and why not if they were not.
    pub intrusive: IntrusiveInfo,
    /// What was scanned and with which limits.
    pub scan: ScanInfo,
    /// The slice of the devices this run holds (`--shard I/N`); absent for a whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRef>,
    /// Counts over all devices.
    pub summary: Summary,
    /// One entry per device.
    pub devices: Vec<DeviceReport>,
}

/// Which slice of a sharded run a report holds, so `jcstar merge` can check it has them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ShardRef {
    /// The slice, counted from 1.
    pub index: u32,
    /// How many slices the devices were split into.
    pub count: u32,
    /// Devices of the whole run, every slice together.
    pub devices_total: usize,
}

/// Tool identity.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    /// `jcstar`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl ToolInfo {
    /// This build of jcstar.
    pub fn current() -> Self {
        ToolInfo {
            name: "jcstar",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The profile a run used.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRef {
    /// Profile name.
    pub name: String,
    /// Profile title.
    pub title: String,
    /// Profile data version.
    pub version: String,
}

/// Whether intrusive checks ran.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct IntrusiveInfo {
    /// True when intrusive checks were allowed.
    pub enabled: bool,
    /// Why they were off (`--no-intrusive`, the profile), when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_by: Option<String>,
}

/// What the scan covered.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ScanInfo {
    /// The TCP ports probed, as nmap-style ranges.
    pub tcp_ports: String,
    /// How many TCP ports per device.
    pub tcp_port_count: usize,
    /// RLIMIT_NOFILE soft limit after raising it.
    pub nofile_soft: u64,
    /// In-flight connect limit over all hosts.
    pub global_in_flight: usize,
    /// Per-host in-flight limit at the start.
    pub per_host_start: usize,
    /// New connections per second over the run (`--max-rate`), if limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rate: Option<u32>,
    /// New connections per minute to one service (`--service-rate`), if limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_rate_per_minute: Option<u32>,
    /// The checks enabled for the run: the profile's, narrowed by `--checks` / `--skip`.
    #[serde(default)]
    pub checks: Vec<String>,
    /// The `-T` timing preset given, e.g. `T4 (aggressive)`; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<String>,
    /// Connect timeout before any RTT sample, in force for the run.
    #[serde(default)]
    pub initial_timeout_ms: u64,
    /// Floor of the adaptive connect timeout.
    #[serde(default)]
    pub min_timeout_ms: u64,
    /// Ceiling of the adaptive connect timeout.
    #[serde(default)]
    pub max_timeout_ms: u64,
    /// Most in-flight connects per host.
    #[serde(default)]
    pub per_host_max: usize,
    /// Deadline of every banner read.
    #[serde(default)]
    pub banner_timeout_ms: u64,
    /// Time budget of each device; absent for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_timeout_ms: Option<u64>,
    /// Devices worked on at once; absent for all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_hosts: Option<usize>,
}

/// Counts over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Devices in the run.
    pub devices: usize,
    /// Devices with at least one failed criterion (waived or not).
    pub devices_failed: usize,
    /// Failing device × criterion results covered by an active waiver.
    pub waived: usize,
    /// Failing device × criterion results whose waiver has expired.
    pub waivers_expired: usize,
    /// How many device × criterion results have each verdict.
    pub criteria: BTreeMap<Verdict, usize>,
}

/// One device's results.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    /// The device and what was declared about it (credentials are never included).
    pub device: Device,
    /// In a sharded run (`--shard`), the device's place (from 0) in the whole run's device
    /// list, so `jcstar merge` restores the order of an unsharded run; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// Worst criterion verdict for the device.
    pub verdict: Verdict,
    /// Counts and the ★1 readiness verdict.
    pub readiness: readiness::Readiness,
    /// What the port scan saw.
    pub ports: PortSummary,
    /// UDP ports probed by the discovery checks; open only when the service answered.
    pub udp_ports: Vec<jcstar_model::observed::UdpPort>,
    /// Scanner statistics for the host.
    pub scan_stats: Option<HostStats>,
    /// Why this device's measurements are incomplete (not scanned, or its service checks not
    /// finished) when the run stopped early; absent for a finished device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<String>,
    /// One result per criterion of the profile, in catalogue order.
    pub criteria: Vec<CriterionResult>,
}

/// Port states in compact form.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PortSummary {
    /// Open ports with the identified service.
    pub open: Vec<PortResult>,
    /// Filtered (no answer) ports as nmap-style ranges.
    pub filtered: String,
    /// How many ports answered closed.
    pub closed_count: usize,
    /// Ports that could not be probed, with the error.
    pub errors: Vec<PortResult>,
}

impl DeviceReport {
    /// The result for a criterion id.
    pub fn criterion(&self, id: &str) -> Option<&CriterionResult> {
        self.criteria.iter().find(|c| c.id == id)
    }
}

/// The worst verdict among criteria, by aggregation precedence.
pub fn worst_verdict(criteria: &[CriterionResult]) -> Verdict {
    criteria
        .iter()
        .map(|c| c.verdict)
        .max()
        .unwrap_or(Verdict::Inconclusive)
}

impl Summary {
    /// Counts the verdicts of every device.
    pub fn of(devices: &[DeviceReport]) -> Summary {
        let mut summary = Summary {
            devices: devices.len(),
            ..Summary::default()
        };
        for device in devices {
            if device.criteria.iter().any(|c| c.verdict == Verdict::Fail) {
                summary.devices_failed += 1;
            }
            for criterion in &device.criteria {
                *summary.criteria.entry(criterion.verdict).or_default() += 1;
                summary.waived += usize::from(criterion.is_waived());
                summary.waivers_expired += usize::from(criterion.waiver_expired());
            }
        }
        summary
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], with the content streamed by `write` (a large report is never held
/// whole in memory).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&temp)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Paths of the files a run wrote.
#[derive(Debug, Clone)]
pub struct WrittenReports {
    /// `results.json`.
    pub json: PathBuf,
    /// `junit.xml`.
    pub junit: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// `checklist.csv`.
    pub checklist: PathBuf,
    /// `checklist.xlsx`: the same rows as an Excel workbook.
    pub xlsx: PathBuf,
    /// `summary.md`.
    pub summary: PathBuf,
}

/// What the rendered formats need besides the results: the profile's catalogue (evaluation
/// types, evidence fields) and the words in the chosen language.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// The profile the run used.
    pub profile: &'a jcstar_model::profile::Profile,
    /// Report words in one language.
    pub texts: &'a texts::Texts,
    /// The baseline run (`--baseline`): summary.md marks each failure new or pre-existing.
    pub baseline: Option<&'a doc::ResultsDoc>,
}

/// Writes `results.json`, then every format rendered from it, into `dir` (created if needed).
pub fn write_all(
    report: &RunReport,
    dir: &Path,
    options: RenderOptions<'_>,
) -> std::io::Result<WrittenReports> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join("results.json");
    let doc = {
        let mut text = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
        text.push(b'\n');
        write_atomic(&json, &text)?;
        serde_json::from_slice::<doc::ResultsDoc>(&text).map_err(std::io::Error::other)?
    };
    render_into(&doc, dir, options)
}

/// Why `jcstar report` could not render a run again.
#[derive(Debug, thiserror::Error)]
pub enum RerenderError {
    /// `results.json` is missing or not one this jcstar reads.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A report file could not be written.
    #[error("cannot write reports to {dir}: {error}")]
    Write {
        /// The run directory.
        dir: PathBuf,
        /// What the file system said.
        error: std::io::Error,
    },
}

/// Renders every format from `dir/results.json` again (e.g. in another language), leaving
/// `results.json` itself untouched.
pub fn rerender(dir: &Path, options: RenderOptions<'_>) -> Result<WrittenReports, RerenderError> {
    rerender_with(dir, options, None).map(|(written, _, _)| written)
}

/// Like [`rerender`]; with `waivers` (and the day to judge their expiry by), the waivers are
/// applied first, replacing the marks of earlier ones, and written into `results.json` too
/// (its `waiver` fields and summary counts; nothing else in it changes). Returns the rendered
/// document and what the waivers did.
pub fn rerender_with(
    dir: &Path,
    options: RenderOptions<'_>,
    waivers: Option<(&waivers::Waivers, chrono::NaiveDate)>,
) -> Result<(WrittenReports, doc::ResultsDoc, waivers::Applied), RerenderError> {
    let json = dir.join("results.json");
    let mut doc = doc::ResultsDoc::read(&json)?;
    let write_error = |error| RerenderError::Write {
        dir: dir.to_path_buf(),
        error,
    };
    let mut applied = waivers::Applied::default();
    if let Some((waivers, today)) = waivers {
        applied = waivers.apply_doc(&mut doc, today);
        let text = jcstar_model::error::read_capped(&json, doc::MAX_RESULTS_BYTES)
            .map_err(|e| write_error(std::io::Error::other(e.to_string())))?;
        let mut raw: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| write_error(std::io::Error::other(e)))?;
        doc::write_waiver_marks(&mut raw, &doc).map_err(write_error)?;
        let mut bytes = serde_json::to_vec_pretty(&raw)
            .map_err(std::io::Error::other)
            .map_err(write_error)?;
        bytes.push(b'\n');
        write_atomic(&json, &bytes).map_err(write_error)?;
    }
    let written = render_into(&doc, dir, options).map_err(write_error)?;
    Ok((written, doc, applied))
}

/// Writes `junit.xml`, `report.html`, `checklist.csv`, `checklist.xlsx` and `summary.md` for
/// `doc` into `dir`.
fn render_into(
    doc: &doc::ResultsDoc,
    dir: &Path,
    options: RenderOptions<'_>,
) -> std::io::Result<WrittenReports> {
    let junit = dir.join("junit.xml");
    write_atomic(&junit, junit::render_doc(doc)?.as_bytes())?;
    let html = dir.join("report.html");
    write_atomic_with(&html, |file| {
        html::render_to(doc, options.profile, options.texts, file).map_err(std::io::Error::other)
    })?;
    let checklist = dir.join("checklist.csv");
    let rows = checklist::render(doc, options.profile, options.texts)?;
    write_atomic(&checklist, rows.as_bytes())?;
    let xlsx = dir.join("checklist.xlsx");
    let workbook =
        xlsx::render(doc, options.profile, options.texts).map_err(std::io::Error::other)?;
    write_atomic(&xlsx, &workbook)?;
    let summary = dir.join("summary.md");
    let gate = gate::Gate::evaluate(doc, options.baseline);
    write_atomic(
        &summary,
        summary::render(doc, options.texts, &gate).as_bytes(),
    )?;
    Ok(WrittenReports {
        json: dir.join("results.json"),
        junit,
        html,
        checklist,
        xlsx,
        summary,
    })
}
