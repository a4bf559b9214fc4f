//! The terminal summary: a devices × criteria table, then every failure with its reason.

use std::fmt::Write;

use crate::doc::ResultsDoc;
use crate::readiness::Readiness;
use crate::texts::{Lang, Texts};
use crate::RunReport;
use jcstar_model::Verdict;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Width of one verdict cell.
const CELL: usize = 5;

fn cell(criterion: &jcstar_model::CriterionResult) -> &'static str {
    if criterion.is_waived() {
        return "FAIL*";
    }
    if criterion.waiver_expired() {
        return "FAIL!";
    }
    match criterion.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Warn => "warn",
        Verdict::Declared => "decl",
        Verdict::NotApplicable => "n/a",
        Verdict::Inconclusive => "?",
        Verdict::Error => "ERR",
    }
}

/// Renders the summary table and the list of failures and warnings, in English.
pub fn render(run: &RunReport) -> String {
    match ResultsDoc::from_run(run) {
        Ok(doc) => render_doc(&doc, &Texts::builtin(Lang::En)),
        Err(e) => format!("cannot summarise the run: {e}\n"),
    }
}

/// The readiness counts in one line, in the language of `texts`.
pub fn counts_line(readiness: &Readiness, texts: &Texts) -> String {
    texts.fill(
        "ui",
        "counts_line",
        &[
            ("pass", readiness.network_tested.pass.to_string()),
            ("fail", readiness.network_tested.fail.to_string()),
            ("warn", readiness.network_tested.warn.to_string()),
            ("declared", readiness.document.declared.to_string()),
            ("missing", readiness.document.missing.to_string()),
        ],
    )
}

/// `text` cut to at most `width` terminal columns (a CJK character takes two).
fn clip(text: &str, width: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= width
        })
        .collect()
}

/// `text` padded with spaces to `width` terminal columns, so columns line up whatever the
/// script (`format!("{:<w$}")` counts characters, and a Japanese character is two columns wide).
pub fn pad(text: &str, width: usize) -> String {
    let shown = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(shown)))
}

/// Renders the summary of a results document in the language of `texts`.
pub fn render_doc(doc: &ResultsDoc, texts: &Texts) -> String {
    let device_word = texts.get("table", "device");
    let address_word = texts.get("table", "address");
    let name_width = doc
        .devices
        .iter()
        .map(|d| d.device.name.width())
        .chain([device_word.width()])
        .max()
        .unwrap_or(6)
        .clamp(6, 32);
    let address_width = doc
        .devices
        .iter()
        .map(|d| d.device.address.width())
        .chain([address_word.width(), 15])
        .max()
        .unwrap_or(15)
        .min(40);
    let ids: Vec<&str> = doc
        .devices
        .first()
        .map(|d| d.criteria.iter().map(|c| c.id.as_str()).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "{}  {}",
        pad(device_word, name_width),
        pad(address_word, address_width)
    );
    for id in &ids {
        let short = id.rsplit('-').next().unwrap_or(id);
        let _ = write!(out, " {short:>CELL$}");
    }
    out.push('\n');
    for device in &doc.devices {
        let name = clip(&device.device.name, name_width);
        let address = clip(&device.device.address, address_width);
        let _ = write!(
            out,
            "{}  {}",
            pad(&name, name_width),
            pad(&address, address_width)
        );
        for criterion in &device.criteria {
            let _ = write!(out, " {:>CELL$}", cell(criterion));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", texts.ui("table_columns"));
    if doc
        .devices
        .iter()
        .flat_map(|d| &d.criteria)
        .any(|c| c.is_waived() || c.waiver_expired())
    {
        let _ = writeln!(out, "{}", texts.get("waiver", "cell_legend"));
    }
    let _ = writeln!(out, "\n{}:", texts.ui("readiness"));
    for device in &doc.devices {
        let words = texts.readiness(device.readiness.verdict);
        let words = match texts.lang() {
            Lang::En => words.to_uppercase(),
            Lang::Ja => words.to_string(),
        };
        let _ = writeln!(
            out,
            "  {}  {words}: {}",
            pad(&device.device.name, name_width),
            counts_line(&device.readiness, texts)
        );
    }
    let mut notes = String::new();
    for device in &doc.devices {
        for criterion in &device.criteria {
            if matches!(
                criterion.verdict,
                Verdict::Fail | Verdict::Warn | Verdict::Error
            ) {
                let verdict = match texts.lang() {
                    Lang::En => criterion.verdict.as_str().to_uppercase(),
                    Lang::Ja => texts.verdict(criterion.verdict).to_string(),
                };
                let title = match texts.lang() {
                    Lang::En => String::new(),
                    Lang::Ja => format!(" {}", texts.criterion_title(&criterion.id, "")),
                };
                let waiver = crate::gate::waiver_note(criterion, texts);
                let waiver = if waiver.is_empty() {
                    waiver
                } else {
                    format!(" ({waiver})")
                };
                let _ = writeln!(
                    notes,
                    "  {} {}{title} {verdict}{waiver}: {}",
                    device.device.name, criterion.id, criterion.reason
                );
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\n{}", texts.ui("failures_and_warnings"));
        out.push_str(&notes);
    }
    let summary = texts.fill(
        "ui",
        "summary_line",
        &[
            ("devices", doc.summary.devices.to_string()),
            ("failed", doc.summary.devices_failed.to_string()),
        ],
    );
    let _ = writeln!(
        out,
        "\n{summary}{}",
        if doc.interrupted {
            format!(" ({})", texts.ui("interrupted"))
        } else {
            String::new()
        }
    );
    out
}
