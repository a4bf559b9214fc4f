//! The terminal summary: a devices × criteria table, then every failure with its reason.

use std::fmt::Write;

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

/// Renders the summary table and the list of failures and warnings.
pub fn render(run: &RunReport) -> String {
    let name_width = run
        .devices
        .iter()
        .map(|d| d.device.name.len().max(d.device.address.to_string().len()))
        .max()
        .unwrap_or(6)
        .clamp(6, 32);
    let ids: Vec<&str> = run
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
    for device in &run.devices {
        let name: String = device.device.name.chars().take(name_width).collect();
        let _ = write!(
            out,
            "{name:<name_width$}  {:<15}",
            device.device.address.to_string()
        );
        for criterion in &device.criteria {
            let _ = write!(out, " {:>CELL$}", cell(criterion.verdict));
        }
        out.push('\n');
    }
    out.push_str(
        "\ncolumns: S1.1-NN criteria; pass, FAIL, warn, decl = declared by the vendor (not verified), n/a, ? = inconclusive, ERR\n",
    );
    out.push_str("\n★1 readiness:\n");
    for device in &run.devices {
        let _ = writeln!(
            out,
            "  {:<name_width$}  {}: {}",
            device.device.name,
            device.readiness.verdict.as_text().to_uppercase(),
            device.readiness.counts_line()
        );
    }
    let mut notes = String::new();
    for device in &run.devices {
        for criterion in &device.criteria {
            if matches!(
                criterion.verdict,
                Verdict::Fail | Verdict::Warn | Verdict::Error
            ) {
                let _ = writeln!(
                    notes,
                    "  {} {} {}: {}",
                    device.device.name,
                    criterion.id,
                    criterion.verdict.as_str().to_uppercase(),
                    criterion.reason
                );
            }
        }
    }
    if !notes.is_empty() {
        out.push_str("\nfailures and warnings:\n");
        out.push_str(&notes);
    }
    let failed = run.summary.devices_failed;
    let _ = writeln!(
        out,
        "\n{} device(s), {} with at least one failed criterion{}",
        run.summary.devices,
        failed,
        if run.interrupted {
            " (run interrupted: results are partial)"
        } else {
            ""
        }
    );
    out
}
