//! `summary.md`: a short Markdown summary for CI job pages and pull-request comments (GitHub
//! step summaries, GitLab notes). Device strings are escaped so they cannot become Markdown or
//! HTML (which those renderers accept) in the summary.

use std::fmt::Write;

use crate::doc::ResultsDoc;
use crate::gate::{waiver_note, Gate};
use crate::texts::Texts;
use jcstar_model::Verdict;

/// Escapes text for a Markdown table cell or list item: HTML's `<`, `>`, `&` as entities,
/// Markdown's punctuation with a backslash, line breaks as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Renders the run as Markdown; `gate` (see [`crate::gate`]) marks each failure new or
/// pre-existing against a baseline, and waived or with an expired waiver.
pub fn render(doc: &ResultsDoc, texts: &Texts, gate: &Gate) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", texts.get("summary", "title"));
    let scope = texts.fill(
        "summary",
        "scope",
        &[
            ("devices", doc.summary.devices.to_string()),
            ("ports", doc.scan.tcp_port_count.to_string()),
            (
                "profile",
                escape(&format!("{} {}", doc.profile.name, doc.profile.version)),
            ),
            ("tool", escape(&doc.tool.version)),
            (
                "duration",
                format!("{:.1}", doc.duration_ms as f64 / 1000.0),
            ),
        ],
    );
    let _ = writeln!(out, "{scope}\n");
    if doc.interrupted {
        let _ = writeln!(out, "**{}**\n", texts.ui("interrupted"));
        if let Some(why) = &doc.stopped {
            let _ = writeln!(out, "{}\n", escape(why));
        }
    }
    if !doc.intrusive.enabled {
        let why = escape(doc.intrusive.disabled_by.as_deref().unwrap_or("-"));
        let _ = writeln!(
            out,
            "{}\n",
            texts.fill("summary", "intrusive_off", &[("why", why)])
        );
    }
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        texts.ui("device"),
        texts.ui("address"),
        texts.ui("readiness"),
        texts.get("summary", "fail_count"),
        texts.get("summary", "warn_count"),
        texts.get("summary", "open_count"),
    );
    out.push_str("|---|---|---|---:|---:|---:|\n");
    for device in &doc.devices {
        let count = |wanted: &[Verdict]| {
            device
                .criteria
                .iter()
                .filter(|c| wanted.contains(&c.verdict))
                .count()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            escape(&device.device.name),
            escape(&device.device.address),
            match &device.unfinished {
                Some(_) => format!(
                    "{} ({})",
                    texts.readiness(device.readiness.verdict),
                    texts.ui("unfinished")
                ),
                None => texts.readiness(device.readiness.verdict).to_string(),
            },
            count(&[Verdict::Fail]),
            count(&[Verdict::Warn]),
            count(&[Verdict::Inconclusive, Verdict::Error]),
        );
    }
    if gate.has_news() {
        let _ = writeln!(out, "\n## {}\n", texts.get("summary", "gate"));
        out.push_str(&gate.render(doc, texts, true));
    }
    let _ = writeln!(out, "\n## {}\n", texts.get("summary", "failures"));
    let mut any = false;
    for device in &doc.devices {
        for c in &device.criteria {
            if matches!(c.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error) {
                any = true;
                let mut tags = Vec::new();
                if let Some(in_baseline) = gate
                    .item(&device.device.name, &c.id)
                    .and_then(|i| i.in_baseline)
                {
                    tags.push(
                        texts
                            .get(
                                "gate",
                                if in_baseline {
                                    "tag_pre_existing"
                                } else {
                                    "tag_new"
                                },
                            )
                            .to_string(),
                    );
                }
                let waiver = waiver_note(c, texts);
                if !waiver.is_empty() {
                    tags.push(escape(&waiver));
                }
                let tags = if tags.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", tags.join("; "))
                };
                let _ = writeln!(
                    out,
                    "- **{}** {} {} — {}{tags}: {}",
                    escape(&device.device.name),
                    c.id,
                    escape(texts.criterion_title(&c.id, &c.title)),
                    texts.verdict(c.verdict),
                    escape(&c.reason)
                );
            }
        }
    }
    if !any {
        let _ = writeln!(out, "{}", texts.get("summary", "none"));
    }
    let _ = writeln!(out, "\n{}", texts.get("summary", "files"));
    out
}
