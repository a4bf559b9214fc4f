//! JUnit XML: one testsuite per device, one testcase per criterion.
//!
//! `fail` → failure (with the evidence; a fail covered by an active waiver → skipped, type
//! `waived`, the waiver in the message; an expired waiver is named in the failure's message),
//! `error` → error, `inconclusive` / `declared` /
//! `not_applicable` → skipped with the reason, `pass` and `warn` → success (a warning is written
//! to the testcase's system-out, since JUnit has no warning state).

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::doc::{DeviceDoc, ResultsDoc};
use crate::texts::{Lang, Texts};
use crate::RunReport;
use jcstar_model::{CriterionResult, Finding, Verdict};

/// Renders the run as JUnit XML.
pub fn render(run: &RunReport) -> std::io::Result<String> {
    render_doc(&ResultsDoc::from_run(run)?)
}

/// Renders a results document as JUnit XML.
pub fn render_doc(run: &ResultsDoc) -> std::io::Result<String> {
    let mut report = Report::new(format!("jcstar {}", run.profile.name));
    // JUnit is read by CI parsers: its words stay English whatever --lang says.
    let texts = Texts::builtin(Lang::En);
    for device in &run.devices {
        report.add_test_suite(device_suite(run, device, &texts));
    }
    report.to_string().map_err(std::io::Error::other)
}

fn device_suite(run: &ResultsDoc, device: &DeviceDoc, texts: &Texts) -> TestSuite {
    let mut suite = TestSuite::new(format!(
        "{} ({})",
        device.device.name, device.device.address
    ));
    suite.add_property(Property::new("address", device.device.address.as_str()));
    if let Some(model) = &device.device.model {
        suite.add_property(Property::new("model", model.as_str()));
    }
    if let Some(hostname) = &device.device.hostname {
        suite.add_property(Property::new("hostname", hostname.as_str()));
    }
    suite.add_property(Property::new("profile", run.profile.name.as_str()));
    if run.interrupted {
        // CI parsers read properties: the run did not complete, and this device perhaps not.
        let why = run.stopped.as_deref().unwrap_or("interrupted");
        suite.add_property(Property::new("interrupted", why));
    }
    if let Some(why) = &device.unfinished {
        suite.add_property(Property::new("unfinished", why.as_str()));
    }
    suite.add_property(Property::new(
        "readiness",
        device.readiness.verdict.as_text(),
    ));
    let classname = format!("jcstar.{}", device.device.name);
    for criterion in &device.criteria {
        let mut case = TestCase::new(
            format!("{} {}", criterion.id, criterion.title),
            status_of(criterion, texts),
        );
        case.set_classname(classname.as_str());
        let details = findings_text(&criterion.findings);
        if !details.is_empty() {
            case.set_system_out(details);
        }
        suite.add_test_case(case);
    }
    suite
}

fn status_of(criterion: &CriterionResult, texts: &Texts) -> TestCaseStatus {
    let waiver = crate::gate::waiver_note(criterion, texts);
    let message = if waiver.is_empty() {
        format!("{}: {}", criterion.verdict, criterion.reason)
    } else {
        format!("{} ({waiver}): {}", criterion.verdict, criterion.reason)
    };
    if criterion.is_waived() {
        // JUnit has no "accepted failure": a waived one is skipped, so CI does not fail on it,
        // with the waiver and the failure in the message.
        let mut status = TestCaseStatus::skipped();
        status.set_message(message);
        status.set_type("waived");
        return status;
    }
    let mut status = match criterion.verdict {
        Verdict::Pass | Verdict::Warn => return TestCaseStatus::success(),
        Verdict::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Verdict::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
        Verdict::Inconclusive | Verdict::Declared | Verdict::NotApplicable => {
            TestCaseStatus::skipped()
        }
    };
    status.set_message(message);
    status.set_type(criterion.verdict.as_str());
    if matches!(criterion.verdict, Verdict::Fail | Verdict::Error) {
        status.set_description(findings_text(
            &criterion
                .findings
                .iter()
                .filter(|f| f.verdict == criterion.verdict)
                .cloned()
                .collect::<Vec<_>>(),
        ));
    }
    status
}

/// Every finding with its evidence, one block per finding.
fn findings_text(findings: &[Finding]) -> String {
    let mut text = String::new();
    for finding in findings {
        text.push_str(&format!(
            "[{}] {} ({})\n",
            finding.verdict, finding.summary, finding.check
        ));
        for evidence in &finding.evidence {
            text.push_str(&format!("  {}:", evidence.label));
            if let Some(sent) = &evidence.sent {
                text.push_str(&format!(" sent {sent:?}"));
            }
            if let Some(received) = &evidence.received {
                text.push_str(&format!(" {received}"));
            }
            text.push('\n');
        }
    }
    text
}
