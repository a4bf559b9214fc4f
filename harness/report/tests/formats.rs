//! Every report format rendered from a fixed results.json (three lab devices; the weak camera's
//! model and one banner carry hostile markup): key content, escaping, Japanese words, schema.

use std::path::Path;

use jcstar_model::profile::Profile;
use jcstar_report::doc::ResultsDoc;
use jcstar_report::gate::Gate;
use jcstar_report::texts::{Lang, Texts};
use jcstar_report::{checklist, html, table, RenderOptions, RESULTS_SCHEMA};

const FIXTURE: &str = include_str!("fixtures/results.json");

fn doc() -> ResultsDoc {
    ResultsDoc::parse(FIXTURE).expect("fixture parses")
}

fn page(lang: Lang) -> String {
    html::render(&doc(), &Profile::builtin(), &Texts::builtin(lang)).expect("renders")
}

fn section<'a>(page: &'a str, anchor: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{anchor}\""))
        .unwrap_or_else(|| panic!("no {anchor}"));
    let rest = &page[start..];
    let end = rest[1..]
        .find("<div class=\"criterion")
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn html_has_scope_readiness_grid_and_evidence_per_criterion() {
    let page = page(Lang::En);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<html lang=\"en\">"));
    // Scope: targets, ports, intrusive, profile and tool versions, duration.
    assert!(page.contains("weak-camera (127.77.201.1)"), "targets");
    assert!(page.contains("21-23,80-81,443"), "ports");
    assert!(page.contains("run (credential guessing, lockout tests)"));
    assert!(page.contains("jc-star-1 2026.11"));
    assert!(page.contains("jcstar 0.1.0"));
    assert!(page.contains("31.6 s"), "duration");
    // Per device: readiness and a 16-cell grid.
    assert_eq!(page.matches("class=\"device\"").count(), 3);
    assert!(page.contains("readiness not_ready\">★1 readiness: not ready"));
    assert!(page.contains("readiness needs_evidence\">★1 readiness: needs evidence"));
    assert_eq!(page.matches("-bg\" href=\"#d0-S1.1-").count(), 16);
    assert_eq!(page.matches("-bg\" href=\"#d1-S1.1-").count(), 16);
    // What the vendor declared, and what answered on the network.
    assert!(page
        .contains("<code>vdp_url</code>: https:&#x2f;&#x2f;vendor.example&#x2f;security&#x2f;vdp"));
    assert!(page.contains("<th>UDP services that answered</th><td>none</td>"));
    assert!(page.contains("2323 telnet, 8080 http, 8554 rtsp, 9527 unknown"));
    // The camera's S1.1-04 fails, with its reason, what to do and the evidence in <details>.
    let brute = section(&page, "d0-S1.1-04");
    assert!(
        brute.contains("<span class=\"v fail\">fail</span>"),
        "{brute}"
    );
    assert!(brute.contains("Fix the device"), "{brute}");
    assert!(brute.contains("lock out repeated wrong logins"), "{brute}");
    assert!(
        brute.contains("<details>") && brute.contains("<pre>"),
        "{brute}"
    );
    // Declared and inconclusive never read as a pass.
    let declared = section(&page, "d1-S1.1-07");
    assert!(declared.contains("<span class=\"v declared\">declared</span>"));
    assert!(declared.contains("This is not a pass."), "{declared}");
    assert!(declared.contains("Keep the vendor document"), "{declared}");
    assert!(
        !declared.contains("Publish the update procedure"),
        "a declared criterion is not told to declare again: {declared}"
    );
    let undecided = section(&page, "d1-S1.1-01");
    assert!(undecided.contains("<span class=\"v inconclusive\">inconclusive</span>"));
    assert!(undecided.contains("This is not a pass."), "{undecided}");
    assert!(
        undecided.contains("Require a login on every service"),
        "{undecided}"
    );
}

#[test]
fn html_escapes_every_device_string_and_fetches_nothing() {
    let page = page(Lang::En);
    assert!(
        !page.contains("<script>alert"),
        "device markup became script"
    );
    assert!(!page.contains("</td><td>x"), "device markup closed a cell");
    assert!(!page.contains("<b>bold</b>"));
    assert!(page.contains("JCS-CAM-100&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(page.contains("banner &lt;&#x2f;td&gt;&lt;td&gt;x"));
    assert!(page.contains("&lt;b&gt;bold&lt;&#x2f;b&gt;"));
    // The only script is the page's own print helper; nothing is loaded from anywhere.
    assert_eq!(page.matches("<script").count(), 1);
    for fetch in ["<link", "src=", "@import", "url(", "href=\"http"] {
        assert!(!page.contains(fetch), "{fetch} in a self-contained page");
    }
}

#[test]
fn html_in_japanese_uses_japanese_titles_verdicts_and_advice() {
    let page = page(Lang::Ja);
    assert!(page.contains("<html lang=\"ja\">"));
    assert!(page.contains("jcstar ★1 評価レポート"));
    assert!(page.contains("S1.1-01 IP 経由のアクセスには認証が必要"));
    assert!(page.contains("S1.1-13 不要なインターフェースの無効化"));
    assert!(page.contains("★1 適合準備状況: 未達"));
    assert!(page.contains("<span class=\"v fail\">不合格</span>"));
    assert!(page.contains("<span class=\"v declared\">申告のみ</span>"));
    assert!(page.contains("機器(または設定)を修正し"));
    assert!(page.contains("JCS-CAM-100&lt;script&gt;"));
    assert!(!page.contains("Access needs authentication"));
}

#[test]
fn terminal_summary_in_both_languages() {
    let doc = doc();
    let en = table::render_doc(&doc, &Texts::builtin(Lang::En));
    assert!(en.contains("weak-camera      127.77.201.1"), "{en}");
    assert!(
        en.contains("NOT READY: network-tested criteria: 1 pass, 6 fail"),
        "{en}"
    );
    assert!(en.contains("weak-camera S1.1-04 FAIL:"), "{en}");
    assert!(
        en.contains("3 device(s), 2 with at least one failed criterion"),
        "{en}"
    );
    let ja = table::render_doc(&doc, &Texts::builtin(Lang::Ja));
    assert!(ja.contains("未達: 機器検査: 合格 1、不合格 6"), "{ja}");
    assert!(
        ja.contains("weak-camera S1.1-04 総当たり攻撃への対策 不合格:"),
        "{ja}"
    );
    assert!(
        ja.contains("機器 3 台のうち、不合格の基準がある機器 2 台"),
        "{ja}"
    );
}

#[test]
fn terminal_table_header_is_japanese_and_columns_line_up_with_wide_characters() {
    use unicode_width::UnicodeWidthStr;
    let mut doc = doc();
    doc.devices[0].device.name = "玄関カメラ".to_string();
    let ja = table::render_doc(&doc, &Texts::builtin(Lang::Ja));
    let lines: Vec<&str> = ja.lines().take(4).collect();
    assert!(lines[0].starts_with("機器"), "{ja}");
    assert!(lines[0].contains("アドレス"), "{ja}");
    assert!(
        !lines[0].contains("device") && !lines[0].contains("address"),
        "{ja}"
    );
    // Every row is as wide as the header in terminal columns, so the verdict cells sit under
    // their criterion numbers even when a name is in Japanese.
    let widths: Vec<usize> = lines.iter().map(|l| l.width()).collect();
    assert!(widths.iter().all(|w| *w == widths[0]), "{widths:?}\n{ja}");
    let header_end_of_01 = lines[0].find(" 01").expect("01") + 3;
    let prefix = &lines[0][..header_end_of_01];
    let row = lines[1];
    let cells_start = row.find("玄関カメラ").expect("name");
    assert_eq!(cells_start, 0);
    let first_cell_end: usize = row
        .char_indices()
        .scan(0usize, |w, (i, c)| {
            *w += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            Some((i + c.len_utf8(), *w))
        })
        .find(|(_, w)| *w == prefix.width())
        .map(|(i, _)| i)
        .expect("row as wide as the header prefix");
    assert!(row[..first_cell_end].ends_with("FAIL"), "{row}");
    let en = table::render_doc(&doc, &Texts::builtin(Lang::En));
    assert!(en.starts_with("device"), "{en}");
}

fn checklist_rows(lang: Lang) -> Vec<Vec<String>> {
    let text =
        checklist::render(&doc(), &Profile::builtin(), &Texts::builtin(lang)).expect("renders");
    let text = text.strip_prefix('\u{feff}').expect("UTF-8 BOM for Excel");
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], device: &str, id: &str, item: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == device && r[2] == id && r[4] == item)
        .unwrap_or_else(|| panic!("no row {device} {id} {item}"))
}

#[test]
fn checklist_has_a_row_per_device_criterion_and_item() {
    let rows = checklist_rows(Lang::En);
    for device in ["weak-camera", "hardened-device", "plain-sensor"] {
        let ids: std::collections::BTreeSet<&str> = rows
            .iter()
            .filter(|r| r[0] == device)
            .map(|r| r[2].as_str())
            .collect();
        assert_eq!(ids.len(), 16, "{device}");
    }
    // Declared evidence: the value and the inventory field it came from.
    let vdp = row(&rows, "plain-sensor", "S1.1-05", "document: vdp_url");
    assert_eq!(vdp[5], "document");
    assert_eq!(vdp[6], "declared");
    assert_eq!(vdp[8], "https://vendor.example/security/vdp");
    assert_eq!(vdp[9], "evidence.vdp_url");
    assert_eq!(vdp[10], "");
    // A declared plain-HTTP update URL is a failure of that item, not a declaration.
    let update = row(
        &rows,
        "plain-sensor",
        "S1.1-08",
        "document: update_check_url",
    );
    assert_eq!(update[6], "fail");
    assert_eq!(update[7], "fail");
    // Missing evidence says what to declare.
    let missing = row(
        &rows,
        "plain-sensor",
        "S1.1-08",
        "document: update_verification",
    );
    assert_eq!(missing[6], "inconclusive");
    assert!(missing[10].contains("update_verification"), "{missing:?}");
    // Device tests carry the findings; a device-only criterion has a device-test row.
    let brute = row(&rows, "weak-camera", "S1.1-04", "device test by jcstar");
    assert_eq!(brute[5], "device test");
    assert_eq!(brute[6], "fail");
    assert!(brute[8].starts_with("[fail] "), "{brute:?}");
    // Device text with quotes and commas survives CSV quoting unchanged.
    let access = row(&rows, "weak-camera", "S1.1-01", "device test by jcstar");
    assert!(
        access[8].contains("(SDP session \"JCS-CAM-100 Live\")"),
        "{access:?}"
    );
}

#[test]
fn checklist_cells_never_start_a_spreadsheet_formula() {
    let mut doc = doc();
    doc.devices[0].device.name = "=HYPERLINK(\"http://x\",\"click\")".into();
    doc.devices[2].device.evidence.insert(
        "vdp_url".into(),
        jcstar_report::doc::EvidenceValueDoc::Text("@SUM(1+1)".into()),
    );
    let text =
        checklist::render(&doc, &Profile::builtin(), &Texts::builtin(Lang::En)).expect("renders");
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("row"))
        .collect();
    let camera = rows
        .iter()
        .find(|r| r[1] == *"127.77.201.1")
        .expect("camera row");
    assert_eq!(&camera[0], "'=HYPERLINK(\"http://x\",\"click\")");
    let vdp = rows
        .iter()
        .find(|r| r[0] == *"plain-sensor" && r[4] == *"document: vdp_url")
        .expect("vdp row");
    assert_eq!(&vdp[8], "'@SUM(1+1)");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
}

#[test]
fn checklist_in_japanese_has_japanese_columns_and_words() {
    let text =
        checklist::render(&doc(), &Profile::builtin(), &Texts::builtin(Lang::Ja)).expect("renders");
    let header = text.lines().next().expect("header");
    assert_eq!(
        header,
        "\u{feff}機器,アドレス,適合基準,基準名,評価項目,評価方法,結果,基準の判定,証跡,インベントリの項目,不足しているもの,免除"
    );
    let rows = checklist_rows(Lang::Ja);
    let vdp = row(&rows, "plain-sensor", "S1.1-05", "文書: vdp_url");
    assert_eq!(vdp[3], "脆弱性開示ポリシーの公開");
    assert_eq!(vdp[5], "文書評価");
    assert_eq!(vdp[6], "申告のみ");
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(RESULTS_SCHEMA).expect("schema is JSON");
    jsonschema::draft202012::new(&schema).expect("schema is valid")
}

#[test]
fn the_fixture_follows_the_schema_and_broken_documents_do_not() {
    let validator = validator();
    let mut value: serde_json::Value = serde_json::from_str(FIXTURE).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let original = value.clone();
    value["devices"][0]["criteria"][0]["verdict"] = "passed".into();
    assert!(!validator.is_valid(&value), "unknown verdict accepted");
    let mut value = original.clone();
    value["devices"][0]["device"]["credentials"] =
        serde_json::json!([{"service": "telnet", "password": "hunter2"}]);
    assert!(
        !validator.is_valid(&value),
        "credentials must never be in a report"
    );
    let mut value = original;
    value["devices"][1]
        .as_object_mut()
        .expect("device")
        .remove("readiness");
    assert!(!validator.is_valid(&value), "readiness is required");
}

#[test]
fn the_shipped_schema_file_is_the_embedded_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/results.schema.json");
    assert_eq!(
        std::fs::read_to_string(path).expect("schema file"),
        RESULTS_SCHEMA
    );
}

#[test]
fn rerender_writes_every_format_from_results_json_and_names_a_bad_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("results.json"), FIXTURE).expect("write");
    let profile = Profile::builtin();
    let texts = Texts::builtin(Lang::Ja);
    let options = RenderOptions {
        profile: &profile,
        texts: &texts,
        baseline: None,
    };
    let written = jcstar_report::rerender(dir.path(), options).expect("rerender");
    let html = std::fs::read_to_string(&written.html).expect("html");
    assert!(html.contains("<html lang=\"ja\">"));
    let junit = std::fs::read_to_string(&written.junit).expect("junit");
    assert!(
        junit.contains("<testsuite name=\"weak-camera (127.77.201.1)\""),
        "{junit}"
    );
    assert!(std::fs::read_to_string(&written.checklist)
        .expect("csv")
        .contains("適合基準"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("results.json")).expect("json"),
        FIXTURE,
        "results.json is left as it was"
    );

    std::fs::write(dir.path().join("results.json"), "{\"schema\": \"other\"}").expect("write");
    let error = jcstar_report::rerender(dir.path(), options)
        .expect_err("not ours")
        .to_string();
    assert!(
        error.contains("results.json") && error.contains("jcstar.results"),
        "{error}"
    );
    assert!(!error.contains('\n'));
    let empty = tempfile::tempdir().expect("tempdir");
    let error = jcstar_report::rerender(empty.path(), options).expect_err("no file");
    assert!(matches!(error, jcstar_report::RerenderError::Input(_)));
    let error = error.to_string();
    assert!(
        error.contains("give the directory of a jcstar run"),
        "{error}"
    );
}

#[test]
fn summary_markdown_lists_readiness_and_failures_with_device_text_escaped() {
    let mut doc = doc();
    doc.devices[0].device.name = "cam|<img src=x onerror=alert(1)>[link](http://x)".into();
    let en = jcstar_report::summary::render(&doc, &Texts::builtin(Lang::En), &Gate::default());
    assert!(en.starts_with("# jcstar ★1 summary\n"));
    assert!(
        en.contains("| hardened-device | 127.77.201.2 | needs evidence | 0 | 1 | 8 |"),
        "{en}"
    );
    assert!(
        en.contains("- **plain-sensor** S1.1-08 Updates are integrity-checked — fail: "),
        "{en}"
    );
    // A device name can neither split a table cell, nor become HTML or a link.
    assert!(
        en.contains("| cam\\|&lt;img src=x onerror=alert(1)&gt;\\[link\\](http://x) |"),
        "{en}"
    );
    assert!(!en.contains("<img"));
    assert!(en.contains("banner &lt;b&gt;bold&lt;/b&gt;"));
    let ja = jcstar_report::summary::render(&doc, &Texts::builtin(Lang::Ja), &Gate::default());
    assert!(
        ja.contains("| plain-sensor | 127.77.201.27 | 未達 | 3 | 0 | 9 |"),
        "{ja}"
    );
    assert!(ja.contains("S1.1-04 総当たり攻撃への対策 — 不合格"), "{ja}");
}

#[test]
fn diff_reports_regressions_improvements_and_devices_that_came_or_went() {
    use jcstar_model::Verdict;
    use jcstar_report::diff::{compare, direction, render, Direction};
    let old = doc();
    let mut new = doc();
    assert!(compare(&old, &new).changes.is_empty());
    // The camera's brute-force defence gets fixed; the sensor's S1.1-13 breaks.
    new.devices[0].criteria[3].verdict = Verdict::Pass;
    new.devices[2].criteria[12].verdict = Verdict::Fail;
    new.devices[1].device.name = "hardened-device-v2".into();
    let diff = compare(&old, &new);
    assert!(diff.has_regressions());
    assert_eq!(diff.changes.len(), 2);
    assert_eq!(diff.changes[0].direction, Direction::Improved);
    assert_eq!(diff.changes[1].direction, Direction::Regressed);
    assert_eq!(diff.new_devices, ["hardened-device-v2"]);
    assert_eq!(diff.removed_devices, ["hardened-device"]);
    let text = render(&diff, &old, &new, &Texts::builtin(Lang::En));
    assert!(
        text.contains(
            "- **weak-camera** S1.1-04 Brute force is made difficult: fail → pass (better)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "- **plain-sensor** S1.1-13 Unneeded interfaces disabled: pass → fail (worse)"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 worse, 1 better, 0 otherwise changed"),
        "{text}"
    );
    let ja = render(&diff, &old, &new, &Texts::builtin(Lang::Ja));
    assert!(ja.contains("不合格 → 合格 (改善)"), "{ja}");
    // Declared or inconclusive are never counted as an improvement to a pass.
    assert_eq!(
        direction(Verdict::Inconclusive, Verdict::Declared),
        Direction::Changed
    );
    assert_eq!(
        direction(Verdict::Pass, Verdict::Inconclusive),
        Direction::Regressed
    );
    assert_eq!(
        direction(Verdict::Pass, Verdict::Declared),
        Direction::Regressed
    );
    assert_eq!(
        direction(Verdict::Warn, Verdict::Fail),
        Direction::Regressed
    );
    assert_eq!(direction(Verdict::Fail, Verdict::Warn), Direction::Improved);
}
