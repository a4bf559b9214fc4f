//! `checklist.xlsx`: the rows and columns of `checklist.csv` as an Excel workbook, for labs
//! whose ★1 checklist lives in a spreadsheet: the header row bold and frozen, a filter on
//! every column, widths fitted to the text (East Asian characters count double) and long
//! cells wrapped. Cells are written as text, so nothing a device sent can become a formula.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use unicode_width::UnicodeWidthStr;

use crate::doc::ResultsDoc;
use crate::texts::Texts;
use jcstar_model::profile::Profile;

/// Most characters Excel holds in one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Most rows of a worksheet, the header row among them.
const MAX_ROWS: usize = 1_048_576;

/// Column widths, in characters: never narrower than a short word, never wider than a
/// comfortable reading line (longer text wraps).
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// Renders the checklist as the bytes of an `.xlsx` file.
pub fn render(doc: &ResultsDoc, profile: &Profile, texts: &Texts) -> Result<Vec<u8>, XlsxError> {
    let (header, mut body) = crate::checklist::table(doc, profile, texts);
    if body.len() >= MAX_ROWS {
        body.truncate(MAX_ROWS - 2);
        let mut note = vec![String::new(); header.len()];
        note[0] = texts.get("checklist", "xlsx_truncated").to_string();
        body.push(note);
    }
    let mut workbook = Workbook::new();
    // Rows go to a temporary file as they are written: a fleet's checklist has tens of
    // thousands of rows, which held as cells took hundreds of MB. In this mode the column
    // widths, panes and filter come before the first row, and rows in order.
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(texts.get("checklist", "sheet"))?;
    for (col, name) in header.iter().enumerate() {
        let widest = std::iter::once(name)
            .chain(body.iter().filter_map(|r| r.get(col)))
            .flat_map(|text| text.lines())
            .map(UnicodeWidthStr::width)
            .max()
            .unwrap_or(0);
        sheet.set_column_width(col as u16, (widest + 2).clamp(MIN_WIDTH, MAX_WIDTH) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_col = header.len().saturating_sub(1) as u16;
    sheet.autofilter(0, 0, body.len() as u32, last_col)?;
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDE5F0))
        .set_border_bottom(FormatBorder::Thin)
        .set_align(FormatAlign::Top);
    let cell = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, name, &head)?;
    }
    for (row, cells) in body.iter().enumerate() {
        for (col, text) in cells.iter().enumerate() {
            sheet.write_string_with_format(row as u32 + 1, col as u16, capped(text), &cell)?;
        }
    }
    workbook.save_to_buffer()
}

/// `text`, cut to what one cell holds.
fn capped(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
