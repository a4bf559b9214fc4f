//! `checklist.xlsx` read back with a spreadsheet reader (calamine): the same header and rows as
//! `checklist.csv`, Japanese text intact, the header row frozen with a filter, every column
//! given a width. Rendered from the fixed results.json fixture.

use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use jcstar_model::profile::Profile;
use jcstar_report::doc::ResultsDoc;
use jcstar_report::texts::{Lang, Texts};
use jcstar_report::{checklist, xlsx};

const FIXTURE: &str = include_str!("fixtures/results.json");

/// The CSV's rows, header first.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.expect("csv row").iter().map(str::to_string).collect())
        .collect()
}

/// The worksheet's XML, for what calamine does not read (panes, filter, widths).
fn sheet_xml(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("xlsx is a zip");
    let mut xml = String::new();
    archive
        .by_name("xl/worksheets/sheet1.xml")
        .expect("one worksheet")
        .read_to_string(&mut xml)
        .expect("utf-8 xml");
    xml
}

#[test]
fn the_workbook_holds_the_csv_rows_with_a_frozen_header_in_both_languages() {
    let doc = ResultsDoc::parse(FIXTURE).expect("fixture parses");
    let profile = Profile::builtin();
    for (lang, sheet, header) in [
        (Lang::En, "★1 checklist", "criterion"),
        (Lang::Ja, "★1 チェックリスト", "適合基準"),
    ] {
        let texts = Texts::builtin(lang);
        let bytes = xlsx::render(&doc, &profile, &texts).expect("xlsx renders");
        let csv = csv_rows(&checklist::render(&doc, &profile, &texts).expect("csv renders"));
        let mut workbook: Xlsx<_> =
            open_workbook_from_rs(Cursor::new(bytes.clone())).expect("opens");
        assert_eq!(workbook.sheet_names(), vec![sheet.to_string()]);
        let range = workbook.worksheet_range(sheet).expect("sheet");
        let cells: Vec<Vec<String>> = range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::String(text) => text.clone(),
                        Data::Empty => String::new(),
                        other => panic!("a cell that is not text: {other:?}"),
                    })
                    .collect()
            })
            .collect();
        assert!(csv.len() > 40, "{} rows", csv.len());
        assert_eq!(cells.len(), csv.len());
        assert_eq!(cells[0][2], header);
        for (sheet_row, csv_row) in cells.iter().zip(&csv) {
            assert_eq!(sheet_row.len(), csv_row.len());
            for (cell, csv_cell) in sheet_row.iter().zip(csv_row) {
                // The CSV defuses formula-like text with a leading apostrophe; text cells of a
                // workbook are never formulas and keep it as it is.
                if cell != csv_cell {
                    assert_eq!(&format!("'{cell}"), csv_cell);
                }
            }
        }
        if lang == Lang::Ja {
            assert!(cells.iter().flatten().any(|c| c.contains("インベントリ")));
        }
        let xml = sheet_xml(&bytes);
        assert!(
            xml.contains("ySplit=\"1\"") && xml.contains("state=\"frozen\""),
            "header frozen"
        );
        assert!(
            xml.contains("<autoFilter ref=\"A1:L"),
            "filter on the header"
        );
        // Every column has a width (neighbours of equal width share one <col> element).
        let mut covered = Vec::new();
        for col in xml.split("<col ").skip(1) {
            let attr = |name: &str| -> u32 {
                let start = col.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
                col[start..]
                    .split('"')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect(name)
            };
            covered.extend(attr("min")..=attr("max"));
        }
        assert_eq!(
            covered,
            (1..=12).collect::<Vec<u32>>(),
            "a width per column"
        );
    }
}
