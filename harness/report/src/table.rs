//! The terminal summary: a devices × criteria table, then every failure with its reason.

use std::fmt::Write;

use crate::doc::ResultsDoc;
use crate::readiness::Readiness;
use crate::texts::{Lang, Texts};
use crate::RunReport;
use jcstar_model::Verdict;

/// Width of one verdict cell.
const CELL: usize = 5;

fn cell(verdict: Verdict) -> &'static str {
    match verdict {
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

/// Renders the summary of a results document in the language of `texts`.
pub fn render_doc(doc: &ResultsDoc, texts: &Texts) -> String {
    let name_width = doc
        .devices
        .iter()
        .map(|d| d.device.name.len().max(d.device.address.len()))
        .max()
        .unwrap_or(6)
        .clamp(6, 32);
    let ids: Vec<&str> = doc
        .devices
        .first()
        .map(|d| d.criteria.iter().map(|c| c.id.as_str()).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = write!(out, "{:<name_width$}  {:<15}", "device", "address");
    for id in &ids {
        let short = id.rsplit('-').next().unwrap_or(id);
        let _ = write!(out, " {short:>CELL$}");
    }
    out.push('\n');
    for device in &doc.devices {
        let name: String = device.device.name.chars().take(name_width).collect();
        let _ = write!(out, "{name:<name_width$}  {:<15}", device.device.address);
        for criterion in &device.criteria {
            let _ = write!(out, " {:>CELL$}", cell(criterion.verdict));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", texts.ui("table_columns"));
    let _ = writeln!(out, "\n{}:", texts.ui("readiness"));
    for device in &doc.devices {
        let words = texts.readiness(device.readiness.verdict);
        let words = match texts.lang() {
            Lang::En => words.to_uppercase(),
            Lang::Ja => words.to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<name_width$}  {words}: {}",
            device.device.name,
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
                let _ = writeln!(
                    notes,
                    "  {} {}{title} {verdict}: {}",
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
