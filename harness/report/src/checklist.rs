//! `checklist.csv`: one row per device × criterion × evaluation item, shaped like the ★1
//! self-assessment checklist a vendor fills in. Items are the profile's evidence fields
//! (document evaluation, one row each) and jcstar's own device test (one row when a network
//! check produced a finding, or when the criterion has no evidence field to document it).
//! Column headers come from the language's messages. The same table is written as
//! `checklist.xlsx` ([`crate::xlsx`]).

use crate::doc::{DeviceDoc, ResultsDoc};
use crate::html::title_of;
use crate::texts::Texts;
use jcstar_model::profile::{Criterion, Profile};
use jcstar_model::{CriterionResult, Finding, Verdict};

/// Check-id prefix of findings that come from declared vendor evidence.
const EVIDENCE_PREFIX: &str = "evidence.";

/// Column keys, in order, in the messages' `[checklist]` table.
const COLUMNS: [&str; 12] = [
    "device",
    "address",
    "criterion",
    "title",
    "item",
    "evaluation",
    "result",
    "criterion_verdict",
    "evidence",
    "inventory_field",
    "missing",
    "waiver",
];

/// The checklist as a table: the header row, then one row per device × criterion × item.
pub fn table(
    doc: &ResultsDoc,
    profile: &Profile,
    texts: &Texts,
) -> (Vec<String>, Vec<Vec<String>>) {
    let header = COLUMNS
        .iter()
        .map(|k| texts.get("checklist", k).to_string())
        .collect();
    let mut body = Vec::new();
    for device in &doc.devices {
        for result in &device.criteria {
            let spec = profile.criteria.iter().find(|c| c.id == result.id);
            body.extend(
                rows(device, result, spec, profile, texts)
                    .into_iter()
                    .map(Vec::from),
            );
        }
    }
    (header, body)
}

/// Renders the checklist as CSV (UTF-8 with a byte-order mark, so spreadsheet programs such as
/// Excel open Japanese text correctly).
pub fn render(doc: &ResultsDoc, profile: &Profile, texts: &Texts) -> Result<String, csv::Error> {
    let (header, body) = table(doc, profile, texts);
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    writer.write_record(&header)?;
    for row in &body {
        writer.write_record(row.iter().map(|cell| inert(cell).into_owned()))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every cell was a String: the bytes are UTF-8.
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

fn rows(
    device: &DeviceDoc,
    result: &CriterionResult,
    spec: Option<&Criterion>,
    profile: &Profile,
    texts: &Texts,
) -> Vec<[String; 12]> {
    let title = title_of(result, profile, texts);
    let waiver = crate::gate::waiver_note(result, texts);
    // A device the run did not finish says so on every row: what is missing first of all is
    // the rest of its test.
    let unfinished = device
        .unfinished
        .as_ref()
        .map(|reason| texts.fill("checklist", "unfinished", &[("reason", reason.clone())]));
    let row = |item: String,
               evaluation: &str,
               verdict: Verdict,
               evidence: String,
               field: &str,
               missing: String| {
        [
            device.device.name.clone(),
            device.device.address.clone(),
            result.id.clone(),
            title.clone(),
            item,
            evaluation.to_string(),
            texts.verdict(verdict).to_string(),
            texts.verdict(result.verdict).to_string(),
            evidence,
            field.to_string(),
            match &unfinished {
                Some(note) if missing.is_empty() => note.clone(),
                Some(note) => format!("{note}\n{missing}"),
                None => missing,
            },
            waiver.clone(),
        ]
    };
    let mut rows = Vec::new();
    let document = texts.get("evaluation", "document");
    let (required, optional) = spec
        .map(|s| (s.evidence.as_slice(), s.optional_evidence.as_slice()))
        .unwrap_or_default();
    for (field, needed) in required
        .iter()
        .map(|f| (f, true))
        .chain(optional.iter().map(|f| (f, false)))
    {
        let declared = device.device.evidence.get(field.as_str());
        if declared.is_none() && !needed {
            continue;
        }
        let item = texts.fill("checklist", "item_document", &[("field", field.clone())]);
        let inventory_field = format!("evidence.{field}");
        match declared {
            Some(value) => {
                let verdict = worst(
                    result
                        .findings
                        .iter()
                        .filter(|f| f.check.starts_with(EVIDENCE_PREFIX))
                        .filter(|f| f.evidence.iter().any(|e| &e.label == field)),
                )
                .unwrap_or(Verdict::Declared);
                let missing = if matches!(verdict, Verdict::Fail | Verdict::Warn) {
                    texts.get("checklist", "missing_retest").to_string()
                } else {
                    String::new()
                };
                rows.push(row(
                    item,
                    document,
                    verdict,
                    value.to_string(),
                    &inventory_field,
                    missing,
                ));
            }
            None => rows.push(row(
                item,
                document,
                Verdict::Inconclusive,
                String::new(),
                &inventory_field,
                texts.fill("checklist", "missing_field", &[("field", field.clone())]),
            )),
        }
    }
    let network: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| !f.check.starts_with(EVIDENCE_PREFIX))
        .collect();
    if !network.is_empty() || required.is_empty() {
        let verdict = worst(network.iter().copied()).unwrap_or(Verdict::Inconclusive);
        let evidence = network
            .iter()
            .map(|f| format!("[{}] {}", f.verdict, f.summary))
            .collect::<Vec<_>>()
            .join("\n");
        let missing = match verdict {
            Verdict::Fail | Verdict::Warn | Verdict::Error => {
                texts.get("checklist", "missing_retest").to_string()
            }
            Verdict::Inconclusive if network.is_empty() => {
                texts.get("checklist", "missing_test").to_string()
            }
            Verdict::Inconclusive => texts.verdict_todo(Verdict::Inconclusive).to_string(),
            _ => String::new(),
        };
        rows.push(row(
            texts.get("checklist", "item_device_test").to_string(),
            texts.get("evaluation", "device"),
            verdict,
            evidence,
            "",
            missing,
        ));
    }
    rows
}

/// A cell a spreadsheet cannot run: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return (a formula to Excel and LibreOffice) gets a leading apostrophe, as OWASP advises for
/// CSV injection. Device names, declared values and evidence may come from the device.
pub(crate) fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The worst verdict among findings, by aggregation precedence.
fn worst<'a>(findings: impl Iterator<Item = &'a Finding>) -> Option<Verdict> {
    let verdicts: Vec<Verdict> = findings.map(|f| f.verdict).collect();
    Verdict::PRECEDENCE
        .iter()
        .copied()
        .find(|v| verdicts.contains(v))
}
