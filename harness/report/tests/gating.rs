//! Waivers and a baseline on the fixed results.json: every format shows a waived failure as
//! waived (never as a pass) and an expired waiver as expired; the gate fails only on new
//! failures and expired waivers; summary.md and the terminal say which failures are new.

use std::path::Path;

use chrono::NaiveDate;
use jcstar_model::profile::Profile;
use jcstar_model::Verdict;
use jcstar_report::doc::ResultsDoc;
use jcstar_report::gate::{Gate, Standing};
use jcstar_report::texts::{Lang, Texts};
use jcstar_report::waivers::Waivers;
use jcstar_report::{checklist, html, junit, summary, table, RESULTS_SCHEMA};

const FIXTURE: &str = include_str!("fixtures/results.json");

const WAIVERS: &str = r#"# waivers for the fixture
[[waiver]]
criterion = "S1.1-13"
device = "weak-camera"
reason = "debug port closed in firmware 2.1 (FW-123)"
owner = "fw-team@example.com"
expires = 2099-12-31

[[waiver]]
criterion = "S1.1-08"
model = "JCS-SNS-270"
reason = "signed update check in 3.0"
owner = "sensor-team"
expires = "2020-01-01"

[[waiver]]
criterion = "S1.1-05"
device = "hardened-device"
reason = "nothing fails here"
owner = "nobody"
expires = 2099-12-31
"#;

fn ids() -> Vec<String> {
    Profile::builtin()
        .criteria
        .iter()
        .map(|c| c.id.clone())
        .collect()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 15).expect("date")
}

/// The fixture with the waivers applied, and what they did.
fn waived() -> (ResultsDoc, jcstar_report::waivers::Applied) {
    let ids = ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let waivers = Waivers::parse(WAIVERS, Path::new("waivers.toml"), &ids).expect("parses");
    let mut doc = ResultsDoc::parse(FIXTURE).expect("fixture");
    let applied = waivers.apply_doc(&mut doc, today());
    (doc, applied)
}

/// The fixture as a baseline in which weak-camera's S1.1-12 still passed.
fn baseline() -> ResultsDoc {
    let mut old = ResultsDoc::parse(FIXTURE).expect("fixture");
    let c = old.devices[0]
        .criteria
        .iter_mut()
        .find(|c| c.id == "S1.1-12")
        .expect("S1.1-12");
    c.verdict = Verdict::Pass;
    old
}

#[test]
fn waivers_mark_failures_without_changing_any_verdict_and_the_json_follows_the_schema() {
    let (doc, applied) = waived();
    let plain = ResultsDoc::parse(FIXTURE).expect("fixture");
    for (d, p) in doc.devices.iter().zip(&plain.devices) {
        for (c, q) in d.criteria.iter().zip(&p.criteria) {
            assert_eq!(c.verdict, q.verdict, "{} {}", d.device.name, c.id);
        }
    }
    assert_eq!(doc.summary.waived, 1);
    assert_eq!(doc.summary.waivers_expired, 1);
    assert_eq!(applied.unused.len(), 1);
    assert_eq!(applied.unused[0].origin.to_string(), "waivers.toml:16");
    let value = serde_json::to_value(&doc).expect("json");
    let camera13 = &value["devices"][0]["criteria"][12];
    assert_eq!(camera13["id"], "S1.1-13");
    assert_eq!(camera13["verdict"], "fail");
    assert_eq!(camera13["waiver"]["status"], "active");
    assert_eq!(camera13["waiver"]["owner"], "fw-team@example.com");
    assert_eq!(camera13["waiver"]["expires"], "2099-12-31");
    assert_eq!(camera13["waiver"]["source"], "waivers.toml:2");
    assert_eq!(
        value["devices"][2]["criteria"][7]["waiver"]["status"],
        "expired"
    );
    assert!(value["devices"][1]["criteria"][4].get("waiver").is_none());

    // The run's results.json (with every field of a real run) with waivers still follows the
    // schema: patch the marks into the raw fixture as `jcstar report --waivers` does.
    let mut raw: serde_json::Value = serde_json::from_str(FIXTURE).expect("json");
    jcstar_report::doc::write_waiver_marks(&mut raw, &doc).expect("patch");
    let schema: serde_json::Value = serde_json::from_str(RESULTS_SCHEMA).expect("schema");
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&raw)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(raw["summary"]["waived"], 1);
}

#[test]
fn the_gate_counts_new_failures_and_expired_waivers_only() {
    let (doc, _) = waived();
    let plain = ResultsDoc::parse(FIXTURE).expect("fixture");

    // No baseline, no waivers: every failure counts.
    let gate = Gate::evaluate(&plain, None);
    assert!(gate.fails());
    assert_eq!(gate.count(Standing::New), 9);
    assert!(!gate.has_news());

    // Waivers only: the waived one does not count, the expired one does.
    let gate = Gate::evaluate(&doc, None);
    assert_eq!(gate.count(Standing::Waived), 1);
    assert_eq!(gate.count(Standing::WaiverExpired), 1);
    assert_eq!(gate.count(Standing::New), 7);

    // The same run as its own baseline: nothing is new, but the expired waiver still fails it.
    let gate = Gate::evaluate(&doc, Some(&plain));
    assert_eq!(gate.count(Standing::New), 0);
    assert_eq!(gate.count(Standing::PreExisting), 7);
    assert!(gate.fails(), "an expired waiver fails the run");

    // Without the expired waiver's failure, the run regressing on nothing passes.
    let mut fixed = doc.clone();
    fixed.devices[2].criteria[7].verdict = Verdict::Pass;
    fixed.devices[2].criteria[7].waiver = None;
    let gate = Gate::evaluate(&fixed, Some(&plain));
    assert!(!gate.fails(), "{gate:?}");

    // A criterion that passed in the baseline and fails now is a regression.
    let gate = Gate::evaluate(&fixed, Some(&baseline()));
    assert!(gate.fails());
    let item = gate.item("weak-camera", "S1.1-12").expect("fails");
    assert_eq!(item.standing, Standing::New);
    assert_eq!(item.in_baseline, Some(false));
    // A new failure that a waiver covers does not count.
    let mut covered = fixed.clone();
    covered.devices[0].criteria[11].waiver = covered.devices[0].criteria[12].waiver.clone();
    assert!(!Gate::evaluate(&covered, Some(&baseline())).fails());

    // A device the baseline did not have: all of its failures are new.
    let mut renamed = fixed.clone();
    renamed.devices[2].device.name = "plain-sensor-2".into();
    let gate = Gate::evaluate(&renamed, Some(&plain));
    assert_eq!(
        gate.items
            .iter()
            .filter(|i| i.device == "plain-sensor-2" && i.standing == Standing::New)
            .count(),
        2
    );
}

#[test]
fn every_format_shows_waived_and_expired_failures() {
    let (doc, _) = waived();
    let profile = Profile::builtin();
    let en = Texts::builtin(Lang::En);

    let xml = junit::render_doc(&doc).expect("junit");
    let tree = testcase(&xml, "S1.1-13 Unneeded interfaces disabled");
    assert!(tree.contains("<skipped"), "{tree}");
    assert!(tree.contains("type=\"waived\""), "{tree}");
    assert!(
        tree.contains("waived until 2099-12-31 by fw-team@example.com"),
        "{tree}"
    );
    let expired = testcase(
        &xml,
        "S1.1-08 Updates are integrity-checked\" classname=\"jcstar.plain-sensor",
    );
    assert!(expired.contains("<failure"), "{expired}");
    assert!(
        expired.contains("waiver EXPIRED on 2020-01-01"),
        "{expired}"
    );

    let page = html::render(&doc, &profile, &en).expect("html");
    assert!(page.contains("class=\"v fail waived\">fail, waived</span>"));
    assert!(page.contains("class=\"fail-bg waived\""));
    assert!(page.contains("<dt>Waiver</dt><dd class=\"waived\">waived until 2099-12-31"));
    assert!(page.contains("fail, waiver expired"));
    let ja_page = html::render(&doc, &profile, &Texts::builtin(Lang::Ja)).expect("html");
    assert!(ja_page.contains("不合格(免除中)"));

    let csv = checklist::render(&doc, &profile, &en).expect("csv");
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.expect("row"))
        .collect();
    let row = rows
        .iter()
        .find(|r| &r[0] == "weak-camera" && &r[2] == "S1.1-13")
        .expect("row");
    assert_eq!(&row[7], "fail", "the verdict stays fail");
    assert!(row[11].starts_with("waived until 2099-12-31"), "{row:?}");

    let text = table::render_doc(&doc, &en);
    insta::assert_snapshot!("table_waived_en", text);
    assert!(text.contains("FAIL*") && text.contains("FAIL!"), "{text}");
}

/// The `<testcase …>…</testcase>` whose opening tag contains `needle`.
fn testcase(xml: &str, needle: &str) -> String {
    let at = xml
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {xml}"));
    let start = xml[..at].rfind("<testcase").expect("testcase start");
    let end = xml[at..]
        .find("</testcase>")
        .map_or(xml.len(), |e| at + e + "</testcase>".len());
    xml[start..end].to_string()
}

#[test]
fn summary_and_terminal_say_which_failures_are_new_and_which_pre_existing() {
    let (doc, _) = waived();
    let old = baseline();
    let gate = Gate::evaluate(&doc, Some(&old));
    for lang in [Lang::En, Lang::Ja] {
        let texts = Texts::builtin(lang);
        let md = summary::render(&doc, &texts, &gate);
        insta::assert_snapshot!(format!("summary_gate_{}", lang.code()), md);
        let terminal = gate.render(&doc, &texts, false);
        insta::assert_snapshot!(format!("gate_terminal_{}", lang.code()), terminal);
    }
    let md = summary::render(&doc, &Texts::builtin(Lang::En), &gate);
    assert!(
        md.contains(
            "\n**New failures (not failing in the baseline):**\n\n- **weak-camera** S1.1-12"
        ),
        "{md}"
    );
    assert!(
        md.contains("- **weak-camera** S1.1-12 Communication is protected — fail (new): "),
        "{md}"
    );
    assert!(
        md.contains(
            "- **weak-camera** S1.1-01 Access needs authentication — fail (pre-existing): "
        ),
        "{md}"
    );
    assert!(
        md.contains("**Result for CI: FAIL (2 failure(s) count).**"),
        "{md}"
    );
}
