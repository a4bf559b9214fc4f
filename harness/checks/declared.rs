//! Document-evaluated criteria: the vendor evidence declared in the inventory.

use chrono::NaiveDate;

use crate::device::{Device, EvidenceValue};
use crate::model::{Evidence, Finding, Verdict};
use crate::profile::{Criterion, Profile};

const CHECK: &str = "evidence.declared";

/// One finding per criterion that reads declared evidence.
pub fn check(device: &Device, profile: &Profile, today: NaiveDate) -> Vec<Finding> {
    profile
        .criteria
        .iter()
        .filter(|c| !c.evidence.is_empty())
        .map(|criterion| evaluate(device, criterion, today))
        .collect()
}

fn evaluate(device: &Device, criterion: &Criterion, today: NaiveDate) -> Finding {
    let (present, missing): (Vec<&String>, Vec<&String>) = criterion
        .evidence
        .iter()
        .partition(|field| device.evidence.contains_key(field.as_str()));
    let mut finding = if missing.is_empty() {
        Finding::new(
            CHECK,
            &criterion.id,
            Verdict::Declared,
            format!("declared by the vendor: {}", describe(device, &present)),
        )
    } else {
        let mut summary = format!(
            "evidence missing: the vendor must supply {} (inventory [device.evidence])",
            join(&missing)
        );
        if !present.is_empty() {
            summary.push_str(&format!(
                "; declared so far: {}",
                describe(device, &present)
            ));
        }
        Finding::new(CHECK, &criterion.id, Verdict::Inconclusive, summary)
    };
    for field in &present {
        if let Some(value) = device.evidence.get(field.as_str()) {
            finding = finding.with_evidence(Evidence::observed(field.as_str(), value.to_string()));
        }
    }
    if let Some(EvidenceValue::Text(date)) = device.evidence.get("support_end_date") {
        if criterion.evidence.iter().any(|f| f == "support_end_date") {
            finding = support_period(finding, date, today);
        }
    }
    finding
}

/// A declared support end date in the past fails the criterion.
fn support_period(finding: Finding, date: &str, today: NaiveDate) -> Finding {
    match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        Ok(end) if end < today => Finding {
            verdict: Verdict::Fail,
            summary: format!("the declared security support period ended on {end}"),
            ..finding
        },
        _ => finding,
    }
}

fn describe(device: &Device, fields: &[&String]) -> String {
    fields
        .iter()
        .filter_map(|f| device.evidence.get(f.as_str()).map(|v| format!("{f}={v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn join(fields: &[&String]) -> String {
    fields
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn device_with(evidence: &[(&str, &str)]) -> Device {
        let mut device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        for (k, v) in evidence {
            device
                .evidence
                .insert((*k).to_string(), EvidenceValue::Text((*v).to_string()));
        }
        device
    }

    fn verdict_for(findings: &[Finding], id: &str) -> Verdict {
        findings
            .iter()
            .find(|f| f.criteria[0] == id)
            .map(|f| f.verdict)
            .expect("finding for criterion")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).expect("date")
    }

    #[test]
    fn absent_evidence_is_inconclusive_and_names_the_field() {
        let findings = check(&device_with(&[]), &Profile::builtin(), today());
        let vdp = findings
            .iter()
            .find(|f| f.criteria[0] == "S1.1-05")
            .expect("S1.1-05");
        assert_eq!(vdp.verdict, Verdict::Inconclusive);
        assert!(vdp.summary.contains("vdp_url"));
        assert!(findings.iter().all(|f| f.criteria[0] != "S1.1-13"));
    }

    #[test]
    fn present_evidence_is_declared_never_pass() {
        let device = device_with(&[("vdp_url", "https://v.example/vdp")]);
        let findings = check(&device, &Profile::builtin(), today());
        assert_eq!(verdict_for(&findings, "S1.1-05"), Verdict::Declared);
        assert!(findings.iter().all(|f| f.verdict != Verdict::Pass));
    }

    #[test]
    fn support_end_in_the_past_fails_and_future_is_declared() {
        let past = device_with(&[
            ("support_end_date", "2024-03-31"),
            ("support_period_url", "https://v.example/p"),
        ]);
        let findings = check(&past, &Profile::builtin(), today());
        assert_eq!(verdict_for(&findings, "S1.1-16"), Verdict::Fail);
        let future = device_with(&[
            ("support_end_date", "2031-03-31"),
            ("support_period_url", "https://v.example/p"),
        ]);
        let findings = check(&future, &Profile::builtin(), today());
        assert_eq!(verdict_for(&findings, "S1.1-16"), Verdict::Declared);
    }

    #[test]
    fn partial_evidence_is_inconclusive_naming_what_is_missing() {
        let device = device_with(&[("update_procedure_url", "https://v.example/u")]);
        let findings = check(&device, &Profile::builtin(), today());
        let update = findings
            .iter()
            .find(|f| f.criteria[0] == "S1.1-07")
            .expect("S1.1-07");
        assert_eq!(update.verdict, Verdict::Inconclusive);
        assert!(update.summary.contains("update_mode"));
        assert!(update
            .summary
            .contains("update_procedure_url=https://v.example/u"));
    }
}
