//! Shared line grammar of tagged records: `<TAG> key=value\tkey=value…` (push.md 2.6).
//! Fields are read by key (split at the FIRST `=`), keys case-insensitively, because the
//! field set and order grow with firmware (`PIN`/`Pin`, `SIZE`/`Size`, BIOPHOTO order in capture 16).

use std::str::FromStr;

/// Splits `TAG rest` at the first space or TAB after the tag.
pub(crate) fn split_tag(line: &str) -> (&str, &str) {
    let line = line.trim_start();
    match line.find([' ', '\t']) {
        Some(at) => (&line[..at], &line[at + 1..]),
        None => (line, ""),
    }
}

/// Removes a tag prefix (`USER `, `BIODATA `, `user `) when present, case-insensitively.
pub(crate) fn strip_tag<'a>(line: &'a str, tag: &str) -> &'a str {
    let (first, rest) = split_tag(line);
    if first.eq_ignore_ascii_case(tag) {
        rest
    } else {
        line.trim_start()
    }
}

/// Drops the single trailing TAB that ZAM-platform firmware appends to every line (captures 05, 06, 08).
pub(crate) fn strip_trailing_tab(line: &str) -> &str {
    line.strip_suffix('\t').unwrap_or(line)
}

/// The `key=value` fields of one line, in line order.
#[derive(Debug)]
pub(crate) struct KeyValues<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> KeyValues<'a> {
    /// Splits TAB-separated `key=value` fields; empty fields (double or trailing TABs) are skipped.
    /// A field without `=` rejects the line: it means the line was cut or a value held a TAB.
    pub(crate) fn parse(fields: &'a str) -> Result<KeyValues<'a>, String> {
        let mut pairs = Vec::new();
        for field in fields.split('\t').filter(|f| !f.trim().is_empty()) {
            let (key, value) =
                field.split_once('=').ok_or_else(|| format!("field `{}` is not key=value", preview(field)))?;
            pairs.push((key.trim(), value.trim()));
        }
        Ok(KeyValues { pairs })
    }

    /// Every pair, in line order.
    pub(crate) fn pairs(&self) -> &[(&'a str, &'a str)] {
        &self.pairs
    }

    /// The first value of any of `keys` (case-insensitive), as sent.
    pub(crate) fn get(&self, keys: &[&str]) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| keys.iter().any(|key| k.eq_ignore_ascii_case(key))).map(|(_, v)| *v)
    }

    /// Optional text: `None` when the key is missing or empty.
    pub(crate) fn text(&self, keys: &[&str]) -> Option<String> {
        self.get(keys).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Required non-empty text (template, photo content).
    pub(crate) fn required_non_empty(&self, keys: &[&str]) -> Result<String, String> {
        self.text(keys).ok_or_else(|| missing(keys))
    }

    /// The user PIN. `FP PIN==1` (capture 05: the firmware doubled the `=`) is rejected
    /// rather than read as PIN 1 or `=1`.
    pub(crate) fn pin(&self) -> Result<String, String> {
        let pin = self.get(&["PIN"]).ok_or_else(|| "missing PIN".to_owned())?;
        if pin.starts_with('=') {
            return Err(format!("PIN value `{}` starts with '=' (doubled separator)", preview(pin)));
        }
        if pin.is_empty() {
            return Err("empty PIN".to_owned());
        }
        Ok(pin.to_owned())
    }

    /// Optional number: `None` when missing or empty, an error when present but not a number.
    pub(crate) fn number<T: FromStr>(&self, keys: &[&str]) -> Result<Option<T>, String> {
        match self.get(keys).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| format!("{} `{}` is not a number", keys[0], preview(v))),
        }
    }

    /// Required number.
    pub(crate) fn required_number<T: FromStr>(&self, keys: &[&str]) -> Result<T, String> {
        self.number(keys)?.ok_or_else(|| missing(keys))
    }

    /// Pairs whose key is none of `known`, as owned strings, in line order.
    pub(crate) fn others(&self, known: &[&str]) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !known.iter().any(|key| k.eq_ignore_ascii_case(key)))
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }
}

fn missing(keys: &[&str]) -> String {
    format!("missing {}", keys.first().copied().unwrap_or("field"))
}

/// At most 40 characters of `s`, for error messages about lines that may hold kilobytes of base64.
pub(crate) fn preview(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_splits_at_the_first_space_or_tab() {
        assert_eq!(split_tag("OPLOG 4\t14"), ("OPLOG", "4\t14"));
        assert_eq!(split_tag("USER\tPIN=1"), ("USER", "PIN=1"));
        assert_eq!(split_tag("BIODATA"), ("BIODATA", ""));
        assert_eq!(strip_tag("user uid=5\tpin=4", "USER"), "uid=5\tpin=4");
        assert_eq!(strip_tag("PIN=4", "USER"), "PIN=4");
    }

    #[test]
    fn fields_split_at_the_first_equals_sign() {
        let kv = KeyValues::parse("filter=Type=1\tTmp=abc==").expect("valid");
        assert_eq!(kv.get(&["FILTER"]), Some("Type=1"));
        assert_eq!(kv.get(&["tmp"]), Some("abc=="));
    }

    #[test]
    fn a_field_without_equals_rejects_the_line() {
        let err = KeyValues::parse("PIN=1\tJohn").expect_err("no =");
        assert!(err.contains("John"), "{err}");
    }

    #[test]
    fn doubled_equals_after_pin_is_rejected() {
        let kv = KeyValues::parse("PIN==1\tFID=0").expect("valid");
        assert!(kv.pin().expect_err("doubled").contains("=1"));
    }

    #[test]
    fn numbers_are_optional_but_must_be_numbers_when_present() {
        let kv = KeyValues::parse("A=\tB=7\tC=x").expect("valid");
        assert_eq!(kv.number::<i32>(&["A"]), Ok(None));
        assert_eq!(kv.number::<i32>(&["b"]), Ok(Some(7)));
        assert!(kv.number::<i32>(&["C"]).is_err());
        assert!(kv.required_number::<i32>(&["D"]).is_err());
    }

    #[test]
    fn preview_cuts_long_values_on_a_char_boundary() {
        let long = "é".repeat(50);
        assert_eq!(preview(&long).chars().count(), 41);
    }
}
