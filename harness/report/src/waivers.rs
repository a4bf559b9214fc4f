//! The waivers file (`--waivers FILE`): failures a team has accepted for a while, each with a
//! reason, an owner and an expiry date.
//!
//! ```toml
//! [[waiver]]
//! criterion = "S1.1-13"           # the ★1 criterion id
//! device = "weak-camera"          # a device name of the inventory … or: model = "JCS-CAM-100"
//! reason = "debug port 9527 is closed in firmware 2.1 (ticket FW-123)"
//! owner = "firmware-team@example.com"
//! expires = 2026-06-30            # last day it covers (a TOML date or "YYYY-MM-DD")
//! ```
//!
//! A waiver only ever annotates a `fail`: the verdict stays `fail` in every format, marked as
//! waived, and does not fail the exit code until it expires. An expired waiver waives nothing:
//! the criterion fails as before and every format says the waiver expired. A waiver never
//! makes anything `pass`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::doc::ResultsDoc;
use crate::{RunReport, Summary};
use jcstar_model::error::{line_of_offset, read_capped, InputError, Origin};
use jcstar_model::{CriterionResult, Verdict, WaiverMark, WaiverStatus};

/// Largest waivers file read.
const MAX_WAIVERS_BYTES: u64 = 4 << 20;

/// One waiver, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Criterion id, e.g. `S1.1-13`.
    pub criterion: String,
    /// Which devices it covers.
    pub scope: Scope,
    /// Why the failure is accepted.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// Last day it covers.
    pub expires: NaiveDate,
    /// Where it is written (`FILE:LINE`).
    pub origin: Origin,
}

/// The devices a waiver covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The device with this name.
    Device(String),
    /// Every device declaring this model.
    Model(String),
}

impl Scope {
    fn covers(&self, device: &str, model: Option<&str>) -> bool {
        match self {
            Scope::Device(name) => name == device,
            Scope::Model(wanted) => model == Some(wanted.as_str()),
        }
    }

    /// `device "NAME"` or `model "MODEL"`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Scope::Device(name) => format!("device {name:?}"),
            Scope::Model(model) => format!("model {model:?}"),
        }
    }
}

/// Every waiver of one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Waivers {
    /// The file they came from.
    pub file: PathBuf,
    /// The waivers, in file order.
    pub entries: Vec<Waiver>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    #[serde(default)]
    waiver: Vec<Spanned<EntryText>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryText {
    criterion: Spanned<String>,
    #[serde(default)]
    device: Option<Spanned<String>>,
    #[serde(default)]
    model: Option<Spanned<String>>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    expires: Spanned<DateText>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DateText {
    Date(toml::value::Datetime),
    Text(String),
}

impl DateText {
    fn date(&self) -> Option<NaiveDate> {
        match self {
            DateText::Date(value) => match (value.date, value.time, value.offset) {
                (Some(d), None, None) => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                }
                _ => None,
            },
            DateText::Text(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok(),
        }
    }

    fn shown(&self) -> String {
        match self {
            DateText::Date(value) => value.to_string(),
            DateText::Text(text) => text.clone(),
        }
    }
}

/// What applying waivers to a run found besides the marks on the criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Waivers that matched no failing criterion of the run (fixed, renamed, or a typo).
    pub unused: Vec<Waiver>,
}

impl Waivers {
    /// Reads and checks `path`; `criteria` are the profile's criterion ids. The error is one
    /// line naming `FILE:LINE` and the fix.
    pub fn load(path: &Path, criteria: &[&str]) -> Result<Waivers, InputError> {
        let text = read_capped(path, MAX_WAIVERS_BYTES).map_err(|e| {
            InputError::new(
                Origin::file(path),
                format!(
                    "cannot read the waivers file: {e}; give a TOML file of [[waiver]] entries"
                ),
            )
        })?;
        Self::parse(&text, path, criteria)
    }

    /// Parses waivers text read from `path` (named in errors).
    pub fn parse(text: &str, path: &Path, criteria: &[&str]) -> Result<Waivers, InputError> {
        let at = |offset: usize| Origin::file_line(path, line_of_offset(text, offset));
        let file: FileText = toml::from_str(text).map_err(|e| {
            let origin = e
                .span()
                .map_or_else(|| Origin::file(path), |span| at(span.start));
            InputError::new(
                origin,
                format!(
                    "{}; a waiver is [[waiver]] with criterion, device or model, reason, owner and expires = YYYY-MM-DD",
                    e.message().trim()
                ),
            )
        })?;
        let mut entries = Vec::new();
        for entry in file.waiver {
            let origin = at(entry.span().start);
            let entry = entry.into_inner();
            let id = entry.criterion.get_ref().trim();
            if !criteria.contains(&id) {
                let known = match (criteria.first(), criteria.last()) {
                    (Some(first), Some(last)) => format!("{first} … {last}"),
                    _ => "none".to_string(),
                };
                return Err(InputError::new(
                    at(entry.criterion.span().start),
                    format!(
                        "criterion {id:?} is not a criterion of the profile; use an id such as \"S1.1-13\" ({known})"
                    ),
                ));
            }
            let scope = match (entry.device, entry.model) {
                (Some(device), None) => Scope::Device(non_empty(device, "device", &at)?),
                (None, Some(model)) => Scope::Model(non_empty(model, "model", &at)?),
                (Some(device), Some(_)) => {
                    return Err(InputError::new(
                        at(device.span().start),
                        "a waiver names either device = \"NAME\" or model = \"MODEL\", not both; split it into two waivers",
                    ))
                }
                (None, None) => {
                    return Err(InputError::new(
                        origin,
                        "this waiver names no device: add device = \"NAME\" (a device of the inventory) or model = \"MODEL\"",
                    ))
                }
            };
            let expires = entry.expires.get_ref().date().ok_or_else(|| {
                InputError::new(
                    at(entry.expires.span().start),
                    format!(
                        "expires {:?} is not a date; write it as YYYY-MM-DD, e.g. expires = 2026-06-30",
                        entry.expires.get_ref().shown()
                    ),
                )
            })?;
            entries.push(Waiver {
                criterion: id.to_string(),
                scope,
                reason: non_empty(entry.reason, "reason", &at)?,
                owner: non_empty(entry.owner, "owner", &at)?,
                expires,
                origin,
            });
        }
        Ok(Waivers {
            file: path.to_path_buf(),
            entries,
        })
    }

    /// The first waiver covering `criterion` of the device `device` (model `model`): one that
    /// has not expired on `today` if any, else an expired one.
    fn find(
        &self,
        device: &str,
        model: Option<&str>,
        criterion: &str,
        today: NaiveDate,
    ) -> Option<(usize, &Waiver)> {
        let all: Vec<(usize, &Waiver)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, w)| w.criterion == criterion && w.scope.covers(device, model))
            .collect();
        all.iter()
            .find(|(_, w)| w.expires >= today)
            .or_else(|| all.first())
            .copied()
    }

    /// Marks the failing criteria of one device; `used[i]` records which waivers matched.
    fn mark(
        &self,
        device: &str,
        model: Option<&str>,
        criteria: &mut [CriterionResult],
        today: NaiveDate,
        used: &mut [bool],
    ) {
        for criterion in criteria {
            criterion.waiver = None;
            if criterion.verdict != Verdict::Fail {
                continue;
            }
            if let Some((index, waiver)) = self.find(device, model, &criterion.id, today) {
                if let Some(flag) = used.get_mut(index) {
                    *flag = true;
                }
                criterion.waiver = Some(WaiverMark {
                    status: if waiver.expires >= today {
                        WaiverStatus::Active
                    } else {
                        WaiverStatus::Expired
                    },
                    reason: waiver.reason.clone(),
                    owner: waiver.owner.clone(),
                    expires: waiver.expires.format("%Y-%m-%d").to_string(),
                    source: waiver.origin.to_string(),
                });
            }
        }
    }

    fn unused(&self, used: &[bool]) -> Applied {
        Applied {
            unused: self
                .entries
                .iter()
                .zip(used)
                .filter(|(_, used)| !**used)
                .map(|(w, _)| w.clone())
                .collect(),
        }
    }

    /// Applies the waivers to a run on `today` (replacing marks from earlier waivers) and
    /// recounts its summary.
    pub fn apply_run(&self, run: &mut RunReport, today: NaiveDate) -> Applied {
        let mut used = vec![false; self.entries.len()];
        for device in &mut run.devices {
            self.mark(
                &device.device.name,
                device.device.model.as_deref(),
                &mut device.criteria,
                today,
                &mut used,
            );
        }
        run.summary = Summary::of(&run.devices);
        self.unused(&used)
    }

    /// Applies the waivers to a results document on `today` (replacing marks from earlier
    /// waivers) and recounts its summary's waiver counts.
    pub fn apply_doc(&self, doc: &mut ResultsDoc, today: NaiveDate) -> Applied {
        let mut used = vec![false; self.entries.len()];
        for device in &mut doc.devices {
            self.mark(
                &device.device.name,
                device.device.model.as_deref(),
                &mut device.criteria,
                today,
                &mut used,
            );
        }
        let all = doc.devices.iter().flat_map(|d| &d.criteria);
        doc.summary.waived = all.clone().filter(|c| c.is_waived()).count();
        doc.summary.waivers_expired = all.filter(|c| c.waiver_expired()).count();
        self.unused(&used)
    }
}

fn non_empty(
    value: Spanned<String>,
    field: &str,
    at: &impl Fn(usize) -> Origin,
) -> Result<String, InputError> {
    let text = value.get_ref().trim();
    if text.is_empty() {
        return Err(InputError::new(
            at(value.span().start),
            format!("{field} is empty; say {}", what_to_write(field)),
        ));
    }
    Ok(text.to_string())
}

fn what_to_write(field: &str) -> &'static str {
    match field {
        "reason" => "why the failure is accepted (e.g. the fix and its ticket)",
        "owner" => "who accepted it (a person or team address)",
        "device" => "the device's name in the inventory",
        _ => "the model as the inventory declares it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &[&str] = &["S1.1-01", "S1.1-13"];

    fn parse(text: &str) -> Result<Waivers, String> {
        Waivers::parse(text, Path::new("w.toml"), IDS).map_err(|e| e.to_string())
    }

    #[test]
    fn a_waiver_reads_with_a_toml_date_or_a_string_and_by_device_or_model() {
        let waivers = parse(
            "[[waiver]]\ncriterion = \"S1.1-13\"\ndevice = \"cam\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-06-30\n\n\
             [[waiver]]\ncriterion = \"S1.1-01\"\nmodel = \"M-1\"\nreason = \"r2\"\nowner = \"o2\"\nexpires = \"2026-07-01\"\n",
        )
        .expect("parses");
        assert_eq!(waivers.entries.len(), 2);
        assert_eq!(waivers.entries[0].scope, Scope::Device("cam".into()));
        assert_eq!(waivers.entries[0].origin.to_string(), "w.toml:1");
        assert_eq!(waivers.entries[1].scope, Scope::Model("M-1".into()));
        assert_eq!(
            waivers.entries[1].expires,
            NaiveDate::from_ymd_opt(2026, 7, 1).expect("date")
        );
        assert_eq!(parse("").expect("empty").entries, vec![]);
    }

    #[test]
    fn every_mistake_is_one_line_naming_file_line_and_fix() {
        let base = "[[waiver]]\ncriterion = \"S1.1-13\"\ndevice = \"cam\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-06-30\n";
        let cases = [
            (
                base.replace("S1.1-13", "S1.1-99"),
                "w.toml:2:",
                "S1.1-01 … S1.1-13",
            ),
            (
                base.replace("2026-06-30", "\"30/06/2026\""),
                "w.toml:6:",
                "YYYY-MM-DD",
            ),
            (
                base.replace("2026-06-30", "\"2026-02-30\""),
                "w.toml:6:",
                "YYYY-MM-DD",
            ),
            (
                base.replace("2026-06-30", "2026-06-30T10:00:00"),
                "w.toml:6:",
                "YYYY-MM-DD",
            ),
            (
                base.replace("device = \"cam\"\n", ""),
                "w.toml:1:",
                "add device",
            ),
            (
                base.replace("device = \"cam\"\n", "device = \"cam\"\nmodel = \"M\"\n"),
                "w.toml:3:",
                "not both",
            ),
            (
                base.replace("reason = \"r\"", "reason = \" \""),
                "w.toml:4:",
                "why the failure",
            ),
            (
                base.replace("owner = \"o\"\n", ""),
                "w.toml:1:",
                "missing field `owner`",
            ),
            (
                base.replace("owner", "ower"),
                "w.toml:5:",
                "unknown field `ower`",
            ),
            ("[[waiver]\n".to_string(), "w.toml:1:", "[[waiver]]"),
        ];
        for (text, place, fix) in cases {
            let error = parse(&text).expect_err(&text);
            assert!(error.starts_with(place), "{error}\n{text}");
            assert!(error.contains(fix), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    fn failing(id: &str) -> CriterionResult {
        jcstar_model::aggregate(
            id,
            "t",
            vec![jcstar_model::Finding::new("c", id, Verdict::Fail, "bad")],
        )
    }

    #[test]
    fn a_waiver_marks_only_fails_until_its_expiry_and_never_changes_the_verdict() {
        let waivers = parse(
            "[[waiver]]\ncriterion = \"S1.1-13\"\nmodel = \"M\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-06-30\n\
             [[waiver]]\ncriterion = \"S1.1-01\"\ndevice = \"other\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-06-30\n",
        )
        .expect("parses");
        let passing = jcstar_model::aggregate(
            "S1.1-01",
            "t",
            vec![jcstar_model::Finding::new(
                "c",
                "S1.1-01",
                Verdict::Pass,
                "ok",
            )],
        );
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).expect("date");
        let mut used = vec![false; 2];
        let mut criteria = vec![passing.clone(), failing("S1.1-13")];
        waivers.mark("cam", Some("M"), &mut criteria, day(30), &mut used);
        assert_eq!(criteria[0], passing, "a pass is left alone");
        assert!(criteria[1].is_waived(), "waived on its last day");
        assert_eq!(criteria[1].verdict, Verdict::Fail);
        assert_eq!(used, vec![true, false]);
        let mut later = vec![failing("S1.1-13")];
        waivers.mark(
            "cam",
            Some("M"),
            &mut later,
            day(30).succ_opt().expect("next day"),
            &mut used,
        );
        assert!(!later[0].is_waived());
        assert!(later[0].waiver_expired());
        let mut unmatched = vec![failing("S1.1-13")];
        waivers.mark("cam", Some("OTHER"), &mut unmatched, day(1), &mut used);
        assert_eq!(unmatched[0].waiver, None, "another model");
        assert_eq!(waivers.unused(&used).unused.len(), 1);
    }
}
