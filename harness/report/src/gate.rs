//! The CI gate: which failures decide the exit code, given the waivers applied to the run and,
//! optionally, a baseline run (`--baseline`).
//!
//! Without a baseline every failure counts; with one, only failures that are new against it
//! (per device and criterion, as [`crate::diff::compare`] sees them: not `fail` before and
//! `fail` now, or a device the baseline did not have). A failure covered by an active waiver
//! never counts; one whose waiver has expired always does, even when the baseline had it,
//! since the team promised it would be fixed by then.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::diff::compare;
use crate::doc::ResultsDoc;
use crate::summary::escape;
use crate::texts::Texts;
use jcstar_model::{CriterionResult, Verdict, WaiverStatus};

/// How one failing criterion stands against the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Counts: a failure with no baseline, or new against the baseline.
    New,
    /// The baseline failed it too: does not count.
    PreExisting,
    /// Covered by an active waiver: does not count.
    Waived,
    /// Its waiver has expired: counts.
    WaiverExpired,
}

impl Standing {
    /// True when this failure fails the run.
    pub fn blocks(self) -> bool {
        matches!(self, Standing::New | Standing::WaiverExpired)
    }
}

/// One failing device × criterion and how it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateItem {
    /// Device name.
    pub device: String,
    /// Criterion id.
    pub id: String,
    /// Its standing.
    pub standing: Standing,
    /// Whether the baseline failed it too (`None`: no baseline).
    pub in_baseline: Option<bool>,
}

/// Every failure of a run, classified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gate {
    /// One item per failing device × criterion, in report order.
    pub items: Vec<GateItem>,
    /// The baseline's start time and tool version, when one was given.
    pub baseline: Option<String>,
}

impl Gate {
    /// Classifies the failures of `doc` (its waiver marks already applied) against `baseline`.
    pub fn evaluate(doc: &ResultsDoc, baseline: Option<&ResultsDoc>) -> Gate {
        let new_failures: Option<BTreeSet<(String, String)>> = baseline.map(|old| {
            let diff = compare(old, doc);
            let mut new: BTreeSet<(String, String)> = diff
                .changes
                .iter()
                .filter(|c| c.new == Verdict::Fail && c.old != Verdict::Fail)
                .map(|c| (c.device.clone(), c.id.clone()))
                .collect();
            for device in doc
                .devices
                .iter()
                .filter(|d| diff.new_devices.contains(&d.device.name))
            {
                new.extend(
                    device
                        .criteria
                        .iter()
                        .map(|c| (device.device.name.clone(), c.id.clone())),
                );
            }
            // A criterion the baseline did not have (another profile version) is new too.
            for device in &doc.devices {
                let Some(before) = old
                    .devices
                    .iter()
                    .find(|d| d.device.name == device.device.name)
                else {
                    continue;
                };
                for c in &device.criteria {
                    if !before.criteria.iter().any(|b| b.id == c.id) {
                        new.insert((device.device.name.clone(), c.id.clone()));
                    }
                }
            }
            new
        });
        let mut items = Vec::new();
        for device in &doc.devices {
            for criterion in device
                .criteria
                .iter()
                .filter(|c| c.verdict == Verdict::Fail)
            {
                let in_baseline = new_failures
                    .as_ref()
                    .map(|new| !new.contains(&(device.device.name.clone(), criterion.id.clone())));
                items.push(GateItem {
                    device: device.device.name.clone(),
                    id: criterion.id.clone(),
                    standing: standing(criterion, in_baseline),
                    in_baseline,
                });
            }
        }
        Gate {
            items,
            baseline: baseline.map(|b| format!("{} (jcstar {})", b.started, b.tool.version)),
        }
    }

    /// True when some failure counts: the run should exit 1.
    pub fn fails(&self) -> bool {
        self.items.iter().any(|i| i.standing.blocks())
    }

    /// How many failures have `standing`.
    pub fn count(&self, standing: Standing) -> usize {
        self.items.iter().filter(|i| i.standing == standing).count()
    }

    /// The item for one device's criterion, if it fails.
    pub fn item(&self, device: &str, id: &str) -> Option<&GateItem> {
        self.items.iter().find(|i| i.device == device && i.id == id)
    }

    /// True when there is anything to say beyond the plain failure list: a baseline, or
    /// waivers that touched a failure.
    pub fn has_news(&self) -> bool {
        self.baseline.is_some()
            || self
                .items
                .iter()
                .any(|i| matches!(i.standing, Standing::Waived | Standing::WaiverExpired))
    }

    /// The gate in a few lines for the terminal or Markdown (`markdown` escapes device text and
    /// writes list items): the baseline, new and pre-existing failures, waived and expired ones,
    /// and the outcome.
    pub fn render(&self, doc: &ResultsDoc, texts: &Texts, markdown: bool) -> String {
        let mut out = String::new();
        let esc = |text: &str| {
            if markdown {
                escape(text)
            } else {
                text.to_string()
            }
        };
        if let Some(baseline) = &self.baseline {
            let _ = writeln!(
                out,
                "{}",
                texts.fill(
                    "gate",
                    "baseline",
                    &[
                        ("baseline", esc(baseline)),
                        (
                            "new",
                            self.items
                                .iter()
                                .filter(|i| i.in_baseline == Some(false))
                                .count()
                                .to_string()
                        ),
                        (
                            "old",
                            self.items
                                .iter()
                                .filter(|i| i.in_baseline == Some(true))
                                .count()
                                .to_string()
                        ),
                    ],
                )
            );
        }
        let groups: [(&str, Selects); 4] = [
            ("new_heading", |i| {
                i.standing == Standing::New && i.in_baseline.is_some()
            }),
            ("expired_heading", |i| i.standing == Standing::WaiverExpired),
            ("waived_heading", |i| i.standing == Standing::Waived),
            ("pre_existing_heading", |i| {
                i.standing == Standing::PreExisting
            }),
        ];
        for (heading, wanted) in groups {
            let chosen: Vec<&GateItem> = self.items.iter().filter(|i| wanted(i)).collect();
            if chosen.is_empty() {
                continue;
            }
            if markdown {
                // Blank lines so each heading and list is its own Markdown block.
                let _ = writeln!(out, "\n**{}**\n", texts.get("gate", heading));
            } else {
                let _ = writeln!(out, "{}", texts.get("gate", heading));
            }
            for item in chosen {
                let criterion = doc
                    .devices
                    .iter()
                    .find(|d| d.device.name == item.device)
                    .and_then(|d| d.criteria.iter().find(|c| c.id == item.id));
                let title = criterion
                    .map(|c| texts.criterion_title(&c.id, &c.title).to_string())
                    .unwrap_or_default();
                let waiver = criterion.map(|c| waiver_note(c, texts)).unwrap_or_default();
                let bullet = if markdown { "-" } else { " " };
                let device = if markdown {
                    format!("**{}**", esc(&item.device))
                } else {
                    item.device.clone()
                };
                let _ = writeln!(
                    out,
                    "{bullet} {device} {} {}{}",
                    item.id,
                    esc(&title),
                    if waiver.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", esc(&waiver))
                    }
                );
            }
        }
        let outcome = if self.fails() {
            texts.fill(
                "gate",
                "outcome_fail",
                &[(
                    "count",
                    self.items
                        .iter()
                        .filter(|i| i.standing.blocks())
                        .count()
                        .to_string(),
                )],
            )
        } else {
            texts.get("gate", "outcome_pass").to_string()
        };
        if markdown {
            out.push('\n');
            let _ = writeln!(out, "**{outcome}**");
        } else {
            let _ = writeln!(out, "{outcome}");
        }
        out
    }
}

/// Picks the gate items one group of the rendering lists.
type Selects = fn(&GateItem) -> bool;

fn standing(criterion: &CriterionResult, in_baseline: Option<bool>) -> Standing {
    match criterion.waiver.as_ref().map(|w| w.status) {
        Some(WaiverStatus::Active) => Standing::Waived,
        Some(WaiverStatus::Expired) => Standing::WaiverExpired,
        None if in_baseline == Some(true) => Standing::PreExisting,
        None => Standing::New,
    }
}

/// The waiver on a failing criterion in words: waived until …, or expired on …; empty when
/// no waiver names it.
pub fn waiver_note(criterion: &CriterionResult, texts: &Texts) -> String {
    let Some(waiver) = &criterion.waiver else {
        return String::new();
    };
    if criterion.verdict != Verdict::Fail {
        return String::new();
    }
    let key = match waiver.status {
        WaiverStatus::Active => "waived",
        WaiverStatus::Expired => "expired",
    };
    texts.fill(
        "waiver",
        key,
        &[
            ("expires", waiver.expires.clone()),
            ("owner", waiver.owner.clone()),
            ("reason", waiver.reason.clone()),
            ("source", waiver.source.clone()),
        ],
    )
}
