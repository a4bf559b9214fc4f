//! Snapshot tests: every format rendered from the fixed results.json, compared whole with the
//! reviewed copy in `tests/snapshots/`. A change to any format shows up as a diff to review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test -p jcstar-report --test snapshots`
//! to accept); CI never writes them.

use jcstar_model::profile::Profile;
use jcstar_report::doc::ResultsDoc;
use jcstar_report::gate::Gate;
use jcstar_report::texts::{Lang, Texts};
use jcstar_report::{checklist, html, junit, summary, table};

const FIXTURE: &str = include_str!("fixtures/results.json");

fn doc() -> ResultsDoc {
    ResultsDoc::parse(FIXTURE).expect("fixture parses")
}

#[test]
fn json_round_trips_through_the_document() {
    let value = serde_json::to_value(doc()).expect("serialises");
    insta::assert_json_snapshot!("results", value);
}

#[test]
fn junit_xml() {
    insta::assert_snapshot!("junit", junit::render_doc(&doc()).expect("renders"));
}

#[test]
fn terminal_table_in_both_languages() {
    for lang in [Lang::En, Lang::Ja] {
        let table = table::render_doc(&doc(), &Texts::builtin(lang));
        insta::assert_snapshot!(format!("table_{}", lang.code()), table);
    }
}

#[test]
fn html_in_both_languages() {
    for lang in [Lang::En, Lang::Ja] {
        let page =
            html::render(&doc(), &Profile::builtin(), &Texts::builtin(lang)).expect("renders");
        insta::assert_snapshot!(format!("html_{}", lang.code()), page);
    }
}

#[test]
fn checklist_csv_in_both_languages() {
    for lang in [Lang::En, Lang::Ja] {
        let rows =
            checklist::render(&doc(), &Profile::builtin(), &Texts::builtin(lang)).expect("renders");
        insta::assert_snapshot!(format!("checklist_{}", lang.code()), rows);
    }
}

#[test]
fn summary_markdown_in_both_languages() {
    for lang in [Lang::En, Lang::Ja] {
        let text = summary::render(&doc(), &Texts::builtin(lang), &Gate::default());
        insta::assert_snapshot!(format!("summary_{}", lang.code()), text);
    }
}
