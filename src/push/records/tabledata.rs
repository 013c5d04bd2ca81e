//! Acc `table=tabledata&tablename=<t>` uploads and `/iclock/querydata` bodies: rows
//! `<table> key=value\tkey=value…` (SEC-CN §10, §12.3; captures 04, 16). Users also parse
//! with [`super::operlog::parse_userinfo_body`] and templates with
//! [`super::operlog::parse_biodata_body`]; this keeps any table generically.

use super::fields::{split_tag, KeyValues};
use super::{parse_each_line, ParsedBody};

/// One table row, fields as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// The row prefix (`user`, `biodata`, `biophoto`, …); empty when the row has none.
    pub table: String,
    /// Every field, in row order.
    pub fields: Vec<(String, String)>,
}

impl TableRow {
    /// The first value of `key`, case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Parses a tabledata / querydata body. A row must hold at least one `key=value` field.
pub fn parse_tabledata_body(body: &str) -> ParsedBody<TableRow> {
    parse_each_line(body, |line| {
        let (tag, rest) = split_tag(line);
        let (table, fields) = if tag.contains('=') { ("", line) } else { (tag, rest) };
        let kv = KeyValues::parse(fields)?;
        if kv.pairs().is_empty() {
            return Err("table row without fields".to_owned());
        }
        Ok(TableRow { table: table.to_owned(), fields: kv.others(&[]) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_rows_keep_the_table_name_and_fields() {
        let parsed = parse_tabledata_body(
            "user uid=1\tcardno=\tpin=1\tpassword=\tgroup=1\r\nuser uid=2\tcardno=\tpin=2\tpassword=1\tgroup=1\r\n",
        );
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].table, "user");
        assert_eq!(parsed.records[1].get("PASSWORD"), Some("1"));
    }

    #[test]
    fn row_without_prefix_has_an_empty_table_name() {
        let parsed = parse_tabledata_body("pin=1\tname=A");
        assert_eq!(parsed.records[0].table, "");
        assert_eq!(parsed.records[0].fields.len(), 2);
    }

    #[test]
    fn row_without_fields_is_rejected() {
        assert_eq!(parse_tabledata_body("user").rejected.len(), 1);
        assert_eq!(parse_tabledata_body("user pin").rejected.len(), 1);
    }
}
