//! Document-evaluated criteria: the vendor evidence declared in the inventory.

use chrono::NaiveDate;

use jcstar_model::device::{Device, EvidenceValue};
use jcstar_model::profile::{Criterion, Profile};
use jcstar_model::{Evidence, Finding, Verdict};

const CHECK: &str = "evidence.declared";
/// Check name of the S1.1-08 findings on declared update URLs.
pub const UPDATE_TRANSPORT: &str = "evidence.update_transport";

/// Declared update URLs that deliver or announce updates, judged for plain HTTP (S1.1-08).
pub const UPDATE_URL_FIELDS: &[&str] = &[
    "update_procedure_url",
    "update_check_url",
    "update_download_url",
];

/// Words in a declared `update_verification` that say the image itself is signed or verified,
/// which turns a plain-HTTP update URL from `fail` into `warn`.
const SIGNED_WORDS: &[&str] = &["sign", "verif", "署名", "検証"];

/// Words that deny a signature or verification ("unsigned", "no verification", "署名なし").
const NEGATIONS: &[&str] = &[
    "unsigned",
    "unverified",
    "not ",
    "no ",
    "without",
    "none",
    "n/a",
    "なし",
    "無し",
    "未",
    "しない",
];

/// Whether a declared `update_verification` says the image is signed or verified: it names a
/// signature or verification and denies neither.
pub fn declares_signed_images(verification: &str) -> bool {
    let text = format!(" {} ", verification.to_lowercase());
    SIGNED_WORDS.iter().any(|w| text.contains(w)) && !NEGATIONS.iter().any(|n| text.contains(n))
}

/// One finding per criterion that reads declared evidence, plus the S1.1-08 update-URL rule.
/// Every such criterion gets its finding even when a network check judges it too: a
/// document-evaluated criterion (S1.1-05 security.txt, S1.1-10 a model string seen) never
/// passes on a network sighting alone; it stays declared or inconclusive by the vendor's
/// evidence, and the sighting is a finding beside it.
pub fn check(device: &Device, profile: &Profile, today: NaiveDate) -> Vec<Finding> {
    let mut findings: Vec<Finding> = profile
        .criteria
        .iter()
        .filter(|c| !c.evidence.is_empty())
        .map(|criterion| evaluate(device, criterion, today))
        .collect();
    findings.extend(update_transport(device));
    findings
}

/// S1.1-08: a declared update URL on plain `http://` can be substituted in transit; the declared
/// verification method decides between `fail` (nothing says the image is checked) and `warn`.
fn update_transport(device: &Device) -> Vec<Finding> {
    let verification = device
        .evidence
        .get("update_verification")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let signed = declares_signed_images(&verification);
    let mut findings = Vec::new();
    for field in UPDATE_URL_FIELDS {
        let Some(url) = device.evidence.get(*field).map(|v| v.to_string()) else {
            continue;
        };
        if !url.trim().to_ascii_lowercase().starts_with("http://") {
            continue;
        }
        let finding = if signed {
            Finding::new(
                UPDATE_TRANSPORT,
                "S1.1-08",
                Verdict::Warn,
                format!(
                    "{field} {url} is plain HTTP: updates can be substituted in transit; the declared verification ({verification}) must reject a substituted image"
                ),
            )
        } else {
            Finding::new(
                UPDATE_TRANSPORT,
                "S1.1-08",
                Verdict::Fail,
                format!(
                    "{field} {url} is plain HTTP and no declared update_verification says the image is signed or verified: updates can be substituted in transit"
                ),
            )
        };
        let mut finding = finding.with_evidence(Evidence::observed(*field, &url));
        if !verification.is_empty() {
            finding =
                finding.with_evidence(Evidence::observed("update_verification", &verification));
        }
        findings.push(finding);
    }
    findings
}

fn evaluate(device: &Device, criterion: &Criterion, today: NaiveDate) -> Finding {
    let (present, missing): (Vec<&String>, Vec<&String>) =
        criterion.evidence.iter().partition(|field| {
            device
                .evidence
                .get(field.as_str())
                .is_some_and(|value| !value.is_placeholder())
        });
    let placeholders: Vec<&String> = missing
        .iter()
        .copied()
        .filter(|field| device.evidence.contains_key(field.as_str()))
        .collect();
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
        if !placeholders.is_empty() {
            summary.push_str(&format!(
                "; {} hold only a placeholder (empty, TODO, n/a, x, …), which is not evidence",
                join(&placeholders)
            ));
        }
        if !present.is_empty() {
            summary.push_str(&format!(
                "; declared so far: {}",
                describe(device, &present)
            ));
        }
        Finding::new(CHECK, &criterion.id, Verdict::Inconclusive, summary)
    };
    let optional = criterion
        .optional_evidence
        .iter()
        .filter(|f| device.evidence.contains_key(f.as_str()));
    for field in present.iter().copied().chain(optional) {
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

    #[test]
    fn only_a_signature_that_is_not_denied_counts() {
        for signed in [
            "RSA-2048 signed images",
            "images are verified with ECDSA before flashing",
            "ファームウェアは署名検証されます",
        ] {
            assert!(declares_signed_images(signed), "{signed}");
        }
        for unsigned in [
            "unsigned",
            "no verification",
            "images are not signed",
            "Not verified",
            "without signature",
            "none",
            "署名なし",
            "",
        ] {
            assert!(!declares_signed_images(unsigned), "{unsigned}");
        }
    }
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
        let change = findings
            .iter()
            .find(|f| f.criteria[0] == "S1.1-03")
            .expect("S1.1-03");
        assert_eq!(change.verdict, Verdict::Inconclusive);
        assert!(change.summary.contains("credential_change_procedure"));
        assert!(findings.iter().all(|f| f.criteria[0] != "S1.1-13"));
    }

    #[test]
    fn present_evidence_is_declared_never_pass() {
        let device = device_with(&[("credential_change_procedure", "https://v.example/m")]);
        let findings = check(&device, &Profile::builtin(), today());
        assert_eq!(verdict_for(&findings, "S1.1-03"), Verdict::Declared);
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

    #[test]
    fn criteria_judged_on_the_network_too_keep_their_declared_evidence() {
        let device = device_with(&[
            ("vdp_url", "https://v.example/vdp"),
            ("label_photo", "l.jpg"),
        ]);
        let profile = Profile::builtin();
        let findings = check(&device, &profile, today());
        assert_eq!(verdict_for(&findings, "S1.1-05"), Verdict::Declared);
        assert_eq!(verdict_for(&findings, "S1.1-10"), Verdict::Declared);
    }

    fn transport(findings: &[Finding]) -> Vec<&Finding> {
        findings
            .iter()
            .filter(|f| f.check == UPDATE_TRANSPORT)
            .collect()
    }

    #[test]
    fn plain_http_update_urls_fail_unless_the_image_is_verified() {
        let profile = Profile::builtin();
        let plain = device_with(&[
            ("update_procedure_url", "https://v.example/u"),
            ("update_check_url", "HTTP://update.v.example/check"),
        ]);
        let findings = check(&plain, &profile, today());
        let found = transport(&findings);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].verdict, Verdict::Fail);
        assert_eq!(found[0].criteria, ["S1.1-08"]);
        assert!(
            found[0].summary.contains("update_check_url"),
            "{}",
            found[0].summary
        );

        let signed = device_with(&[
            ("update_download_url", "http://dl.v.example/fw.bin"),
            ("update_procedure_url", "http://v.example/u"),
            ("update_verification", "ECDSA P-256 signed images"),
        ]);
        let findings = check(&signed, &profile, today());
        let found = transport(&findings);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|f| f.verdict == Verdict::Warn));
        assert!(found[1].summary.contains("update_download_url"));

        let unsigned = device_with(&[
            ("update_procedure_url", "http://v.example/u"),
            ("update_verification", "none"),
        ]);
        let found = check(&unsigned, &profile, today());
        assert_eq!(transport(&found)[0].verdict, Verdict::Fail);
        let https = device_with(&[("update_procedure_url", "https://v.example/u")]);
        assert!(transport(&check(&https, &profile, today())).is_empty());
    }

    #[test]
    fn optional_fields_are_evidence_but_never_missing() {
        let device = device_with(&[
            ("update_verification", "signed"),
            ("update_check_url", "https://v.example/check"),
        ]);
        let findings = check(&device, &Profile::builtin(), today());
        let s108 = findings
            .iter()
            .find(|f| f.check == CHECK && f.criteria[0] == "S1.1-08")
            .expect("S1.1-08");
        assert_eq!(s108.verdict, Verdict::Declared);
        assert!(s108.evidence.iter().any(|e| e.label == "update_check_url"));
        let bare = check(
            &device_with(&[("update_verification", "signed")]),
            &Profile::builtin(),
            today(),
        );
        assert_eq!(verdict_for(&bare, "S1.1-08"), Verdict::Declared);
    }
}
