//! The summary people read: per device, what the network tests found, what the vendor evidence
//! covers, and one readiness verdict for the ★1 self-assessment.

use serde::{Deserialize, Serialize};

use jcstar_model::profile::Profile;
use jcstar_model::{CriterionResult, Verdict};

/// Check-id prefix of findings that come from declared vendor evidence, not from the network.
const EVIDENCE_CHECK_PREFIX: &str = "evidence.";

/// Whether a device is ready for the ★1 self-assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessVerdict {
    /// At least one criterion fails.
    NotReady,
    /// No criterion fails, but some are inconclusive (evidence missing, not checked, undecided).
    NeedsEvidence,
    /// No criterion fails or is inconclusive.
    ReadyForSelfAssessment,
}

impl ReadinessVerdict {
    /// The words shown in the terminal.
    pub fn as_text(self) -> &'static str {
        match self {
            ReadinessVerdict::NotReady => "not ready",
            ReadinessVerdict::NeedsEvidence => "needs evidence",
            ReadinessVerdict::ReadyForSelfAssessment => "ready for self-assessment",
        }
    }
}

/// Per-device counts and the readiness verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// The ★1 readiness verdict.
    pub verdict: ReadinessVerdict,
    /// Criteria with a network finding behind them, by their verdict.
    pub network_tested: NetworkCounts,
    /// Criteria the vendor evidence documents, by whether the evidence is there.
    pub document: DocumentCounts,
}

/// Verdicts of the network-tested criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkCounts {
    /// Criteria that pass.
    pub pass: usize,
    /// Criteria that fail.
    pub fail: usize,
    /// Criteria that warn.
    pub warn: usize,
}

/// State of the document-evaluated criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCounts {
    /// Criteria whose evidence fields are all declared.
    pub declared: usize,
    /// Criteria missing at least one evidence field.
    pub missing: usize,
}

impl Readiness {
    /// Summarises one device's criteria.
    pub fn of(criteria: &[CriterionResult], profile: &Profile) -> Readiness {
        let mut network = NetworkCounts::default();
        let mut document = DocumentCounts::default();
        for result in criteria {
            let tested_on_network = result
                .findings
                .iter()
                .any(|f| !f.check.starts_with(EVIDENCE_CHECK_PREFIX));
            if tested_on_network {
                match result.verdict {
                    Verdict::Pass => network.pass += 1,
                    Verdict::Fail => network.fail += 1,
                    Verdict::Warn => network.warn += 1,
                    _ => {}
                }
            }
            let documented = profile
                .criteria
                .iter()
                .any(|c| c.id == result.id && !c.evidence.is_empty());
            if documented {
                let evidence_declared = result.findings.iter().any(|f| {
                    f.check.starts_with(EVIDENCE_CHECK_PREFIX) && f.verdict != Verdict::Inconclusive
                });
                let evidence_missing = !evidence_declared;
                if evidence_missing {
                    document.missing += 1;
                } else {
                    document.declared += 1;
                }
            }
        }
        let verdict = if criteria.iter().any(|c| c.verdict == Verdict::Fail) {
            ReadinessVerdict::NotReady
        } else if criteria
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Inconclusive | Verdict::Error))
        {
            ReadinessVerdict::NeedsEvidence
        } else {
            ReadinessVerdict::ReadyForSelfAssessment
        };
        Readiness {
            verdict,
            network_tested: network,
            document,
        }
    }

    /// One line: "network-tested criteria: P pass, F fail, W warn; document criteria: D declared,
    /// M missing".
    pub fn counts_line(&self) -> String {
        format!(
            "network-tested criteria: {} pass, {} fail, {} warn; document criteria: {} declared, {} missing",
            self.network_tested.pass,
            self.network_tested.fail,
            self.network_tested.warn,
            self.document.declared,
            self.document.missing
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jcstar_model::{aggregate, Finding};

    fn result(id: &str, findings: &[(&str, Verdict)]) -> CriterionResult {
        aggregate(
            id,
            "t",
            findings
                .iter()
                .map(|(check, verdict)| Finding::new(check, id, *verdict, "s"))
                .collect(),
        )
    }

    #[test]
    fn a_failure_means_not_ready_and_counts_split_by_source() {
        let criteria = [
            result("S1.1-13", &[("interfaces.undeclared_port", Verdict::Fail)]),
            result("S1.1-05", &[("evidence.declared", Verdict::Declared)]),
            result("S1.1-16", &[("evidence.declared", Verdict::Inconclusive)]),
            result("S1.1-12", &[("crypto.tls", Verdict::Warn)]),
        ];
        let readiness = Readiness::of(&criteria, &Profile::builtin());
        assert_eq!(readiness.verdict, ReadinessVerdict::NotReady);
        assert_eq!(
            readiness.counts_line(),
            "network-tested criteria: 0 pass, 1 fail, 1 warn; document criteria: 1 declared, 2 missing"
        );
    }

    #[test]
    fn inconclusive_without_failure_needs_evidence_and_all_clear_is_ready() {
        let undecided = [
            result("S1.1-13", &[("interfaces.declared_match", Verdict::Pass)]),
            result("S1.1-04", &[]),
        ];
        assert_eq!(
            Readiness::of(&undecided, &Profile::builtin()).verdict,
            ReadinessVerdict::NeedsEvidence
        );
        let clear = [
            result("S1.1-13", &[("interfaces.declared_match", Verdict::Pass)]),
            result("S1.1-05", &[("evidence.declared", Verdict::Declared)]),
        ];
        assert_eq!(
            Readiness::of(&clear, &Profile::builtin()).verdict,
            ReadinessVerdict::ReadyForSelfAssessment
        );
    }
}
