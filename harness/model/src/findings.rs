//! The result model: verdicts, findings, evidence, and how a criterion's verdict is
//! aggregated from its findings.

use serde::{Deserialize, Serialize};

/// A verdict, with the meanings of `../shared/star1.md`. Its order is the aggregation
/// precedence: a greater verdict outranks a lesser one (`fail > warn > error > inconclusive >
/// declared > pass > not_applicable`), so `declared` and `inconclusive` never become `pass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing on the device to test.
    NotApplicable,
    /// The criterion is met by what was observed.
    Pass,
    /// Vendor evidence recorded, not verified by probing.
    Declared,
    /// The probe could not decide (timeout, unknown protocol, missing evidence).
    Inconclusive,
    /// The check itself failed.
    Error,
    /// A weakness that is not a clear breach.
    Warn,
    /// A clear breach was observed.
    Fail,
}

impl Verdict {
    /// Every verdict, in aggregation precedence order (highest first).
    pub const PRECEDENCE: [Verdict; 7] = [
        Verdict::Fail,
        Verdict::Warn,
        Verdict::Error,
        Verdict::Inconclusive,
        Verdict::Declared,
        Verdict::Pass,
        Verdict::NotApplicable,
    ];

    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::Declared => "declared",
            Verdict::NotApplicable => "not_applicable",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest text kept in one evidence field; device bytes beyond it are cut.
pub const EVIDENCE_MAX_CHARS: usize = 512;

/// One piece of bounded evidence: what was sent and what came back, or a plain observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What this piece of evidence is ("port 9527/tcp", "vdp_url", …).
    pub label: String,
    /// What jcstar sent, if anything (escaped and bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
    /// What the device answered, or the observed value (escaped and bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
}

impl Evidence {
    /// An observation with a label and a value.
    pub fn observed(label: impl Into<String>, value: impl AsRef<str>) -> Self {
        Evidence {
            label: label.into(),
            sent: None,
            received: Some(bounded(value.as_ref())),
        }
    }

    /// An exchange: what was sent and what came back.
    pub fn exchange(label: impl Into<String>, sent: &[u8], received: &[u8]) -> Self {
        Evidence {
            label: label.into(),
            sent: Some(escape_bytes(sent)),
            received: Some(escape_bytes(received)),
        }
    }
}

/// Escapes bytes from a device into printable text (`\xNN` for the rest), bounded to
/// [`EVIDENCE_MAX_CHARS`].
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if out.len() >= EVIDENCE_MAX_CHARS {
            out.push('…');
            break;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Cuts text to [`EVIDENCE_MAX_CHARS`] characters and replaces control characters.
pub fn bounded(text: &str) -> String {
    bounded_to(text, EVIDENCE_MAX_CHARS)
}

/// Cuts text to `max_chars` characters (on a character boundary, `…` appended when cut) and
/// replaces control characters with U+FFFD, for details, names and evidence taken from a device.
pub fn bounded_to(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// What one check concluded about one device, for one or more ★1 criteria.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The check that produced it, e.g. `interfaces.undeclared_port`.
    pub check: String,
    /// The ★1 criteria it bears on, e.g. `["S1.1-13"]`.
    pub criteria: Vec<String>,
    /// The verdict for those criteria.
    pub verdict: Verdict,
    /// One line a person reads.
    pub summary: String,
    /// Bounded evidence behind the verdict.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding for one criterion with no evidence yet.
    pub fn new(check: &str, criterion: &str, verdict: Verdict, summary: impl Into<String>) -> Self {
        Finding {
            check: check.to_string(),
            criteria: vec![criterion.to_string()],
            verdict,
            summary: summary.into(),
            evidence: Vec::new(),
        }
    }

    /// Adds a piece of evidence.
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }
}

/// A criterion's verdict for one device, with the findings it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionResult {
    /// The criterion id, e.g. `S1.1-13`.
    pub id: String,
    /// Its short title.
    pub title: String,
    /// The aggregated verdict.
    pub verdict: Verdict,
    /// Why: the deciding finding's summary, or "not yet checked".
    pub reason: String,
    /// Every finding bearing on the criterion.
    pub findings: Vec<Finding>,
    /// The waiver that covers a `fail`, when a waivers file names this device and criterion.
    /// It never changes the verdict: a waived criterion still fails; an expired waiver is
    /// recorded so every report can say it no longer covers the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverMark>,
}

/// Whether a waiver still covers the failure it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverStatus {
    /// Not expired: the failure is accepted until the expiry date and does not fail the run.
    Active,
    /// Past its expiry date: the failure counts as any other.
    Expired,
}

/// A waiver applied to one device's failing criterion, as recorded in `results.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverMark {
    /// Active or expired.
    pub status: WaiverStatus,
    /// Why the failure is accepted.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// Last day the waiver covers, `YYYY-MM-DD`.
    pub expires: String,
    /// Where the waiver is written: `FILE:LINE`.
    pub source: String,
}

impl CriterionResult {
    /// True when the criterion fails and a waiver that has not expired covers it.
    pub fn is_waived(&self) -> bool {
        self.verdict == Verdict::Fail
            && self
                .waiver
                .as_ref()
                .is_some_and(|w| w.status == WaiverStatus::Active)
    }

    /// True when the criterion fails and the waiver naming it has expired.
    pub fn waiver_expired(&self) -> bool {
        self.verdict == Verdict::Fail
            && self
                .waiver
                .as_ref()
                .is_some_and(|w| w.status == WaiverStatus::Expired)
    }
}

/// The reason given for a criterion that no check has produced a finding for.
pub const NOT_YET_CHECKED: &str = "not yet checked: no check in this run produces evidence for it";

/// Aggregates the findings for one criterion.
///
/// Precedence, highest first: `fail`, `warn`, `error`, `inconclusive`, `declared`, `pass`,
/// `not_applicable`. Bad news that was observed outranks a probe that could not decide; a probe
/// that could not decide outranks vendor statements and passes, so `declared` and
/// `inconclusive` never turn into `pass`. No finding at all is `inconclusive`, never `pass`.
pub fn aggregate(id: &str, title: &str, findings: Vec<Finding>) -> CriterionResult {
    let deciding = findings.iter().max_by_key(|f| f.verdict);
    let (verdict, reason) = match deciding {
        None => (Verdict::Inconclusive, NOT_YET_CHECKED.to_string()),
        Some(f) => (f.verdict, reason_from(&findings, f.verdict)),
    };
    CriterionResult {
        id: id.to_string(),
        title: title.to_string(),
        verdict,
        reason,
        findings,
        waiver: None,
    }
}

/// Most finding summaries quoted in a criterion's reason.
const REASON_MAX_FINDINGS: usize = 3;

/// The summaries of the findings with the deciding verdict, joined.
fn reason_from(findings: &[Finding], verdict: Verdict) -> String {
    let deciding: Vec<&str> = findings
        .iter()
        .filter(|f| f.verdict == verdict)
        .map(|f| f.summary.as_str())
        .collect();
    let mut reason = deciding
        .iter()
        .take(REASON_MAX_FINDINGS)
        .copied()
        .collect::<Vec<_>>()
        .join("; ");
    if deciding.len() > REASON_MAX_FINDINGS {
        reason.push_str(&format!(
            "; and {} more",
            deciding.len() - REASON_MAX_FINDINGS
        ));
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_order_is_the_aggregation_precedence() {
        let mut sorted = Verdict::PRECEDENCE;
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(sorted, Verdict::PRECEDENCE);
        assert!(Verdict::Inconclusive > Verdict::Pass);
        assert!(Verdict::Declared > Verdict::Pass);
        assert!(Verdict::Pass > Verdict::NotApplicable);
    }

    fn finding(verdict: Verdict, summary: &str) -> Finding {
        Finding::new("test.check", "S1.1-13", verdict, summary)
    }

    #[test]
    fn no_finding_is_inconclusive_not_pass() {
        let result = aggregate("S1.1-04", "Brute force", vec![]);
        assert_eq!(result.verdict, Verdict::Inconclusive);
        assert!(result.reason.contains("not yet checked"));
    }

    #[test]
    fn fail_outranks_everything() {
        let result = aggregate(
            "S1.1-13",
            "t",
            vec![
                finding(Verdict::Pass, "ok"),
                finding(Verdict::Fail, "undeclared 9527"),
                finding(Verdict::Inconclusive, "?"),
            ],
        );
        assert_eq!(result.verdict, Verdict::Fail);
        assert_eq!(result.reason, "undeclared 9527");
        assert_eq!(result.findings.len(), 3);
    }

    #[test]
    fn declared_and_inconclusive_never_become_pass() {
        let declared = aggregate(
            "S1.1-08",
            "t",
            vec![finding(Verdict::Pass, "a"), finding(Verdict::Declared, "b")],
        );
        assert_eq!(declared.verdict, Verdict::Declared);
        let undecided = aggregate(
            "S1.1-08",
            "t",
            vec![
                finding(Verdict::Declared, "a"),
                finding(Verdict::Inconclusive, "b"),
            ],
        );
        assert_eq!(undecided.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn all_not_applicable_stays_not_applicable() {
        let result = aggregate("S1.1-13", "t", vec![finding(Verdict::NotApplicable, "x")]);
        assert_eq!(result.verdict, Verdict::NotApplicable);
    }

    #[test]
    fn repeated_deciding_verdicts_are_counted_in_the_reason() {
        let result = aggregate(
            "S1.1-13",
            "t",
            vec![
                finding(Verdict::Fail, "a"),
                finding(Verdict::Pass, "p"),
                finding(Verdict::Fail, "b"),
                finding(Verdict::Fail, "c"),
                finding(Verdict::Fail, "d"),
            ],
        );
        assert_eq!(result.reason, "a; b; c; and 1 more");
    }

    #[test]
    fn device_bytes_are_escaped_and_bounded() {
        let escaped = escape_bytes(b"ok\xff\x00\r\n");
        assert_eq!(escaped, "ok\\xff\\x00\\r\\n");
        let long = escape_bytes(&vec![0u8; 10_000]);
        assert!(long.len() <= EVIDENCE_MAX_CHARS + 8);
    }
}
