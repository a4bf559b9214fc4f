//! `results.json` read back: the document every report format is rendered from.
//!
//! A run renders its reports from the same document it writes to `results.json`, so
//! `jcstar report DIR` re-renders exactly what the run wrote. Fields a renderer does not need
//! (scanner statistics, raw port details) are kept as JSON values.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::readiness::Readiness;
use crate::RunReport;
use jcstar_model::error::{read_capped, InputError, Origin};
use jcstar_model::{CriterionResult, Verdict};

/// The whole `results.json` document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultsDoc {
    /// Always `"jcstar.results"`.
    pub schema: String,
    /// The schema version the document follows.
    pub schema_version: u32,
    /// Tool name and version that wrote it.
    pub tool: ToolDoc,
    /// The profile the run used.
    pub profile: ProfileDoc,
    /// RFC 3339 start time.
    pub started: String,
    /// RFC 3339 end time.
    pub finished: String,
    /// Wall-clock duration in milliseconds.
    pub duration_ms: u64,
    /// True when the run was interrupted.
    pub interrupted: bool,
    /// Why the run did not complete, when it did not (and the writer recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Whether intrusive checks ran.
    pub intrusive: IntrusiveDoc,
    /// What the scan covered.
    pub scan: ScanDoc,
    /// Counts over all devices.
    pub summary: SummaryDoc,
    /// One entry per device.
    pub devices: Vec<DeviceDoc>,
}

/// Tool identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolDoc {
    /// `jcstar`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The profile a run used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileDoc {
    /// Profile name.
    pub name: String,
    /// Profile title.
    pub title: String,
    /// Profile data version.
    pub version: String,
}

/// Whether intrusive checks ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntrusiveDoc {
    /// True when they were allowed.
    pub enabled: bool,
    /// What turned them off.
    #[serde(default)]
    pub disabled_by: Option<String>,
}

/// What the scan covered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanDoc {
    /// TCP ports probed, as nmap-style ranges.
    pub tcp_ports: String,
    /// How many TCP ports per device.
    pub tcp_port_count: usize,
    /// The checks enabled for the run; `None` in documents written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<String>>,
}

/// Counts over the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryDoc {
    /// Devices in the run.
    pub devices: usize,
    /// Devices with at least one failed criterion.
    pub devices_failed: usize,
    /// Failing results covered by an active waiver.
    #[serde(default)]
    pub waived: usize,
    /// Failing results whose waiver has expired.
    #[serde(default)]
    pub waivers_expired: usize,
    /// Device × criterion results per verdict.
    #[serde(default)]
    pub criteria: BTreeMap<Verdict, usize>,
}

/// One device's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceDoc {
    /// The device and what was declared about it.
    pub device: DeviceInfoDoc,
    /// Worst criterion verdict.
    pub verdict: Verdict,
    /// Counts and the ★1 readiness verdict.
    pub readiness: Readiness,
    /// What the port scan saw.
    #[serde(default)]
    pub ports: PortsDoc,
    /// UDP ports probed, as written by the run.
    #[serde(default)]
    pub udp_ports: Vec<serde_json::Value>,
    /// Why the device's measurements are incomplete, when the run stopped before it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<String>,
    /// One result per criterion, in catalogue order.
    pub criteria: Vec<CriterionResult>,
}

/// A device and its declarations (credentials are never in the document).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceInfoDoc {
    /// Name.
    pub name: String,
    /// Address probed.
    pub address: String,
    /// Hostname the user gave.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Declared model.
    #[serde(default)]
    pub model: Option<String>,
    /// Declared services (`443/tcp`); `None` when none were declared.
    #[serde(default)]
    pub declared_services: Option<Vec<String>>,
    /// Declared vendor evidence by inventory field.
    #[serde(default)]
    pub evidence: BTreeMap<String, EvidenceValueDoc>,
}

/// A declared evidence value: text or a list of texts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EvidenceValueDoc {
    /// One text.
    Text(String),
    /// A list.
    List(Vec<String>),
}

impl std::fmt::Display for EvidenceValueDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvidenceValueDoc::Text(text) => f.write_str(text),
            EvidenceValueDoc::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

/// Port states.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PortsDoc {
    /// Open TCP ports.
    #[serde(default)]
    pub open: Vec<OpenPortDoc>,
    /// Filtered ports as ranges.
    #[serde(default)]
    pub filtered: String,
    /// How many ports answered closed.
    #[serde(default)]
    pub closed_count: usize,
}

/// One open TCP port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenPortDoc {
    /// Port number.
    pub port: u16,
    /// The identified service, as the scanner wrote it.
    #[serde(default)]
    pub service: Option<serde_json::Value>,
}

impl OpenPortDoc {
    /// The identified service kind (`http`, `telnet`, …), if any.
    pub fn kind(&self) -> Option<&str> {
        self.service.as_ref()?.get("kind")?.as_str()
    }
}

impl ResultsDoc {
    /// The document a run writes, taken through its JSON form.
    pub fn from_run(run: &RunReport) -> std::io::Result<ResultsDoc> {
        // Through JSON text, not a `serde_json::Value` tree: for a fleet of thousands the tree
        // is several times the size of the text.
        let text = serde_json::to_vec(run).map_err(std::io::Error::other)?;
        serde_json::from_slice(&text).map_err(std::io::Error::other)
    }

    /// Reads `path` (a `results.json`); the error names the file and the fix.
    pub fn read(path: &Path) -> Result<ResultsDoc, InputError> {
        let text = read_capped(path, MAX_RESULTS_BYTES).map_err(|e| {
            InputError::new(
                Origin::file(path),
                format!("cannot read it: {e}; give the directory of a jcstar run (it holds results.json)"),
            )
        })?;
        Self::parse(&text).map_err(|e| InputError::new(Origin::file(path), e.to_string()))
    }

    /// Parses `results.json` text, refusing other documents and newer schema versions.
    pub fn parse(text: &str) -> Result<ResultsDoc, DocError> {
        // The header first (the rest skipped unallocated), then the typed document straight
        // from the text: a fleet's results never pass through a `serde_json::Value` tree,
        // which takes several times the text's size.
        let header: Header =
            serde_json::from_str(text).map_err(|e| DocError::NotJson(e.to_string()))?;
        if header.schema.as_ref().and_then(|s| s.as_str()) != Some("jcstar.results") {
            return Err(DocError::NotResults);
        }
        let version = header.schema_version.as_ref().and_then(|v| v.as_u64());
        if version != Some(u64::from(crate::SCHEMA_VERSION)) {
            return Err(DocError::SchemaVersion(version));
        }
        serde_json::from_str(text).map_err(|e| DocError::Schema(e.to_string()))
    }
}

/// The fields that say what a JSON document is, whatever their type.
#[derive(Deserialize)]
struct Header {
    schema: Option<serde_json::Value>,
    schema_version: Option<serde_json::Value>,
}

/// Copies the waiver marks and counts of `doc` into the raw `results.json` value it was read
/// from, leaving every other field as the run wrote it.
pub fn write_waiver_marks(raw: &mut serde_json::Value, doc: &ResultsDoc) -> std::io::Result<()> {
    let shape = || std::io::Error::other("results.json changed shape while being rewritten");
    let devices = raw
        .get_mut("devices")
        .and_then(|d| d.as_array_mut())
        .ok_or_else(shape)?;
    for (raw_device, device) in devices.iter_mut().zip(&doc.devices) {
        let criteria = raw_device
            .get_mut("criteria")
            .and_then(|c| c.as_array_mut())
            .ok_or_else(shape)?;
        for (raw_criterion, criterion) in criteria.iter_mut().zip(&device.criteria) {
            let object = raw_criterion.as_object_mut().ok_or_else(shape)?;
            match &criterion.waiver {
                Some(mark) => {
                    let value = serde_json::to_value(mark).map_err(std::io::Error::other)?;
                    object.insert("waiver".to_string(), value);
                }
                None => {
                    object.remove("waiver");
                }
            }
        }
    }
    let summary = raw
        .get_mut("summary")
        .and_then(|s| s.as_object_mut())
        .ok_or_else(shape)?;
    summary.insert("waived".to_string(), doc.summary.waived.into());
    summary.insert(
        "waivers_expired".to_string(),
        doc.summary.waivers_expired.into(),
    );
    Ok(())
}

/// Largest `results.json` read back (a run of thousands of devices stays far below it).
pub const MAX_RESULTS_BYTES: u64 = 512 << 20;

/// Why text is not a `results.json` this jcstar reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    /// Not JSON at all.
    #[error("not JSON ({0}); is this a jcstar results.json?")]
    NotJson(String),
    /// JSON, but not a jcstar results document.
    #[error("not a jcstar results.json (no \"schema\": \"jcstar.results\")")]
    NotResults,
    /// A schema version this jcstar does not read (`None`: missing).
    #[error("schema_version {} is not {}, the version this jcstar reads; render it with the jcstar that wrote it", .0.map_or("missing".to_string(), |v| v.to_string()), crate::SCHEMA_VERSION)]
    SchemaVersion(Option<u64>),
    /// The right schema and version, but a field does not follow it.
    #[error("results.json does not follow schema jcstar.results {version}: {0}", version = crate::SCHEMA_VERSION)]
    Schema(String),
}
