//! Student CSV files: parsing an import (every row checked, every problem reported with its
//! row and column) and writing an export that imports back unchanged. Pure: no I/O.
//!
//! Columns (header row required, any order, case-insensitive): `full_name` (required), `pin`,
//! `rfid_card_id`, `class`, `section`, `is_active`. Comma, semicolon (spreadsheets in many
//! locales) or tab separated, detected from the header; a UTF-8 byte-order mark is ignored.

use crate::domain::{ImportRow, RowError};

use super::error::ApiError;
use super::validate;

/// Most rows one import may have.
pub const MAX_ROWS: usize = 20_000;
/// Export column order (also accepted by import).
pub const COLUMNS: [&str; 6] = ["pin", "full_name", "rfid_card_id", "class", "section", "is_active"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    FullName,
    Pin,
    Card,
    Class,
    Section,
    Active,
}

fn column(name: &str) -> Option<Column> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "full_name" | "name" => Column::FullName,
        "pin" => Column::Pin,
        "rfid_card_id" | "card" | "rfid" => Column::Card,
        "class" => Column::Class,
        "section" => Column::Section,
        "is_active" | "active" => Column::Active,
        _ => return None,
    })
}

/// The rows that are valid and the problems of those that are not.
pub use crate::core::students::ParsedRows as ParsedImport;

fn err(row: usize, field: &str, message: impl Into<String>) -> RowError {
    RowError { row, field: field.into(), message: message.into() }
}

fn delimiter(header: &str) -> u8 {
    let count = |c: char| header.matches(c).count();
    [(b',', count(',')), (b';', count(';')), (b'\t', count('\t'))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| d)
}

/// Parses an import file. Never panics; every row is checked even after a bad one.
pub fn parse_import(body: &[u8]) -> ParsedImport {
    let mut parsed = ParsedImport::default();
    let Ok(text) = std::str::from_utf8(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)) else {
        parsed.errors.push(err(1, "file", "the file is not UTF-8 text (save it as CSV UTF-8)"));
        return parsed;
    };
    let header_line = text.lines().next().unwrap_or("");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(header_line))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Vec<Option<Column>> = match reader.headers() {
        Ok(h) => h.iter().map(column).collect(),
        Err(e) => {
            parsed.errors.push(err(1, "file", format!("unreadable header: {e}")));
            return parsed;
        }
    };
    if let Ok(h) = reader.headers() {
        for (name, col) in h.iter().zip(&columns) {
            if col.is_none() {
                parsed.errors.push(err(1, name, format!("unknown column; expected {}", COLUMNS.join(", "))));
            }
        }
    }
    if !columns.contains(&Some(Column::FullName)) {
        parsed.errors.push(err(1, "full_name", "the header has no full_name column"));
    }
    if !parsed.errors.is_empty() {
        return parsed;
    }
    let mut count = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line() as usize);
                parsed.errors.push(err(row, "file", format!("unreadable row: {e}")));
                continue;
            }
        };
        let row = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        count += 1;
        if count > MAX_ROWS {
            parsed.errors.push(err(row, "file", format!("more than {MAX_ROWS} rows; split the file")));
            break;
        }
        if record.len() > columns.len() {
            parsed.errors.push(err(row, "file", format!("{} values for {} columns", record.len(), columns.len())));
            continue;
        }
        match parse_row(row, &columns, &record) {
            Ok(r) => parsed.rows.push(r),
            Err(mut e) => parsed.errors.append(&mut e),
        }
    }
    parsed
}

fn parse_row(row: usize, columns: &[Option<Column>], record: &csv::StringRecord) -> Result<ImportRow, Vec<RowError>> {
    let mut out = ImportRow {
        row,
        full_name: String::new(),
        rfid_card_id: None,
        class: None,
        section: None,
        is_active: true,
        pin: None,
    };
    let mut errors = Vec::new();
    for (value, col) in record.iter().zip(columns) {
        let value = unescape_formula(value);
        let field_error = |e: ApiError| err(row, column_name(*col), message_of(e));
        match col {
            Some(Column::FullName) => match validate::name("full_name", value, 100) {
                Ok(v) => out.full_name = v,
                Err(e) => errors.push(field_error(e)),
            },
            Some(Column::Pin) if !value.is_empty() => match validate::pin("pin", value) {
                Ok(v) => out.pin = Some(v),
                Err(e) => errors.push(field_error(e)),
            },
            Some(Column::Card) => match validate::card("rfid_card_id", value) {
                Ok(v) => out.rfid_card_id = v,
                Err(e) => errors.push(field_error(e)),
            },
            Some(Column::Class) if !value.is_empty() => out.class = Some(value.to_string()),
            Some(Column::Section) if !value.is_empty() => out.section = Some(value.to_string()),
            Some(Column::Active) => match parse_bool(value) {
                Some(v) => out.is_active = v,
                None => errors.push(err(row, "is_active", "must be true or false (yes/no, 1/0)")),
            },
            _ => {}
        }
    }
    if out.full_name.is_empty() && !errors.iter().any(|e| e.field == "full_name") {
        errors.push(err(row, "full_name", "must not be empty"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The message of a one-field validation error, without the field name.
fn message_of(e: ApiError) -> String {
    match e {
        ApiError::Validation(fields) => fields.into_iter().next().map(|f| f.message).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn column_name(col: Option<Column>) -> &'static str {
    match col {
        Some(Column::FullName) => "full_name",
        Some(Column::Pin) => "pin",
        Some(Column::Card) => "rfid_card_id",
        Some(Column::Class) => "class",
        Some(Column::Section) => "section",
        Some(Column::Active) => "is_active",
        None => "file",
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// The first characters that make a spreadsheet read a cell as a formula (OWASP's list: a
/// leading TAB or CR is skipped by some spreadsheets, which then see the `=` behind it).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Spreadsheets run cells starting with `=`, `+`, `-`, `@`, TAB or CR as formulas: exports
/// prefix them with `'`, and imports drop that prefix again.
pub fn escape_formula(value: &str) -> String {
    if value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

fn unescape_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => value,
    }
}

/// One student as an export row.
pub struct ExportRow<'a> {
    pub pin: &'a str,
    pub full_name: &'a str,
    pub rfid_card_id: Option<&'a str>,
    pub class: Option<&'a str>,
    pub section: Option<&'a str>,
    pub is_active: bool,
}

/// Writes an export (header + rows) that `parse_import` reads back to the same values.
pub fn write_export<'a>(rows: impl IntoIterator<Item = ExportRow<'a>>) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for r in rows {
        writer.write_record([
            r.pin.to_string(),
            escape_formula(r.full_name),
            r.rfid_card_id.unwrap_or("").to_string(),
            escape_formula(r.class.unwrap_or("")),
            escape_formula(r.section.unwrap_or("")),
            r.is_active.to_string(),
        ])?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_prefixed_and_the_prefix_comes_off_on_import() {
        for risky in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1"] {
            let escaped = escape_formula(risky);
            assert_eq!(escaped, format!("'{risky}"));
            assert_eq!(unescape_formula(&escaped), risky);
        }
        assert_eq!(escape_formula("Amina"), "Amina");
        assert_eq!(unescape_formula("'quoted"), "'quoted");
    }

    #[test]
    fn a_file_with_bom_semicolons_and_aliases_parses() {
        let parsed = parse_import(
            "\u{feff}Name;PIN;Card;Class;Section;Active\nAmina W.;1001;0012345;Grade 5;A;yes\n".as_bytes(),
        );
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let row = &parsed.rows[0];
        assert_eq!((row.row, row.full_name.as_str(), row.pin.as_deref()), (2, "Amina W.", Some("1001")));
        assert_eq!((row.class.as_deref(), row.section.as_deref(), row.is_active), (Some("Grade 5"), Some("A"), true));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_column() {
        let csv = "full_name,pin,is_active\nGood,12,true\n,13,true\nBad Pin,0x1,true\nBad Flag,14,maybe\n";
        let parsed = parse_import(csv.as_bytes());
        let found: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(found, [(3, "full_name"), (4, "pin"), (5, "is_active")]);
        assert_eq!(parsed.rows.len(), 1);
    }

    #[test]
    fn unknown_columns_and_a_missing_name_column_are_refused() {
        let parsed = parse_import(b"pin,nmae\n1,x\n");
        let fields: Vec<&str> = parsed.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["nmae", "full_name"]);
        assert!(parse_import(b"\xff\xfe").errors[0].message.contains("UTF-8"));
    }

    #[test]
    fn an_export_imports_back_to_the_same_values_even_with_formula_like_names() {
        let rows = [ExportRow {
            pin: "1000",
            full_name: "=HYPERLINK(\"x\")",
            rfid_card_id: Some("77"),
            class: Some("Grade, 5"),
            section: None,
            is_active: false,
        }];
        let bytes = write_export(rows).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("'=HYPERLINK"), "neutralised for spreadsheets");
        let parsed = parse_import(&bytes);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let r = &parsed.rows[0];
        assert_eq!(
            (r.full_name.as_str(), r.class.as_deref(), r.is_active),
            ("=HYPERLINK(\"x\")", Some("Grade, 5"), false)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_every_row_is_accounted_for(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let parsed = parse_import(&body);
            prop_assert!(parsed.rows.iter().all(|r| !r.full_name.is_empty()));
        }

        #[test]
        fn arbitrary_text_rows_never_panic(lines in proptest::collection::vec("[ -~]{0,40}", 0..20)) {
            let body = format!("full_name,pin,rfid_card_id,class,section,is_active\n{}", lines.join("\n"));
            let parsed = parse_import(body.as_bytes());
            prop_assert!(parsed.rows.len() + parsed.errors.len() <= lines.len() * 6 + 1);
        }
    }
}
