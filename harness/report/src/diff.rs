//! `jcstar diff OLD NEW`: what changed between two runs, criterion by criterion, so CI can fail
//! a firmware build whose results got worse.

use std::fmt::Write;

use crate::doc::ResultsDoc;
use crate::summary::escape;
use crate::texts::Texts;
use jcstar_model::Verdict;

/// Which way a criterion's verdict moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Now fails where it did not, or no longer passes where it did.
    Regressed,
    /// No longer fails, or now passes.
    Improved,
    /// Changed otherwise (e.g. declared → inconclusive).
    Changed,
}

/// One criterion of one device whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Device name.
    pub device: String,
    /// Criterion id.
    pub id: String,
    /// Criterion title as the newer run recorded it.
    pub title: String,
    /// Verdict in the older run.
    pub old: Verdict,
    /// Verdict in the newer run.
    pub new: Verdict,
    /// Which way it moved.
    pub direction: Direction,
    /// The newer run's reason.
    pub reason: String,
}

/// Every difference between two runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Criteria whose verdict changed, in the newer run's order.
    pub changes: Vec<Change>,
    /// Devices only in the newer run.
    pub new_devices: Vec<String>,
    /// Devices only in the older run.
    pub removed_devices: Vec<String>,
}

impl Diff {
    /// True when some criterion got worse.
    pub fn has_regressions(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.direction == Direction::Regressed)
    }

    fn count(&self, direction: Direction) -> usize {
        self.changes
            .iter()
            .filter(|c| c.direction == direction)
            .count()
    }
}

/// Classifies a verdict change. A new `fail`, or a lost `pass`, is a regression; a lost `fail`
/// or a new `pass` an improvement; anything else (declared ↔ inconclusive, …) a change.
pub fn direction(old: Verdict, new: Verdict) -> Direction {
    if new == Verdict::Fail || (old == Verdict::Pass && new != Verdict::NotApplicable) {
        Direction::Regressed
    } else if old == Verdict::Fail || new == Verdict::Pass {
        Direction::Improved
    } else {
        Direction::Changed
    }
}

/// Compares two runs; devices are matched by name.
pub fn compare(old: &ResultsDoc, new: &ResultsDoc) -> Diff {
    let mut diff = Diff::default();
    for device in &new.devices {
        let Some(before) = old
            .devices
            .iter()
            .find(|d| d.device.name == device.device.name)
        else {
            diff.new_devices.push(device.device.name.clone());
            continue;
        };
        for criterion in &device.criteria {
            let Some(previous) = before.criteria.iter().find(|c| c.id == criterion.id) else {
                continue;
            };
            if previous.verdict != criterion.verdict {
                diff.changes.push(Change {
                    device: device.device.name.clone(),
                    id: criterion.id.clone(),
                    title: criterion.title.clone(),
                    old: previous.verdict,
                    new: criterion.verdict,
                    direction: direction(previous.verdict, criterion.verdict),
                    reason: criterion.reason.clone(),
                });
            }
        }
    }
    diff.removed_devices = old
        .devices
        .iter()
        .filter(|d| !new.devices.iter().any(|n| n.device.name == d.device.name))
        .map(|d| d.device.name.clone())
        .collect();
    diff
}

/// Renders the differences as Markdown (readable in a terminal, a CI page or a PR comment).
pub fn render(diff: &Diff, old: &ResultsDoc, new: &ResultsDoc, texts: &Texts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", texts.get("diff", "title"));
    let _ = writeln!(
        out,
        "- OLD: {} (jcstar {}, {} {})\n- NEW: {} (jcstar {}, {} {})\n",
        escape(&old.started),
        escape(&old.tool.version),
        escape(&old.profile.name),
        escape(&old.profile.version),
        escape(&new.started),
        escape(&new.tool.version),
        escape(&new.profile.name),
        escape(&new.profile.version),
    );
    for change in &diff.changes {
        let key = match change.direction {
            Direction::Regressed => "regressed",
            Direction::Improved => "improved",
            Direction::Changed => "changed",
        };
        let _ = writeln!(
            out,
            "- **{}** {} {}: {} → {} ({}) — {}",
            escape(&change.device),
            change.id,
            escape(texts.criterion_title(&change.id, &change.title)),
            texts.verdict(change.old),
            texts.verdict(change.new),
            texts.get("diff", key),
            escape(&change.reason)
        );
    }
    for name in &diff.new_devices {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            escape(name),
            texts.get("diff", "new_device")
        );
    }
    for name in &diff.removed_devices {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            escape(name),
            texts.get("diff", "removed_device")
        );
    }
    if diff.changes.is_empty() {
        let _ = writeln!(out, "{}", texts.get("diff", "no_change"));
    }
    let _ = writeln!(
        out,
        "\n{}",
        texts.fill(
            "diff",
            "counts",
            &[
                ("regressed", diff.count(Direction::Regressed).to_string()),
                ("improved", diff.count(Direction::Improved).to_string()),
                ("changed", diff.count(Direction::Changed).to_string()),
            ],
        )
    );
    out
}
