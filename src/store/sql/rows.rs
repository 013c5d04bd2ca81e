//! [`Rows`]: a set of rows written by ONE statement (`insert … select … from <rows>`,
//! `update … from <rows>`), whatever its size.
//!
//! The rows take one parameter per column on both backends, so the parameters after them keep
//! their numbers: PostgreSQL binds one typed array per column and reads them with `unnest`;
//! SQLite binds the whole set as one JSON array of row arrays in the first parameter (the others
//! are bound NULL and unused) and reads it with `json_each`.

use chrono::{DateTime, Utc};

use super::arg::sqlite_time;

/// One column of a row set.
#[derive(Debug, Clone)]
pub enum Column {
    Int(Vec<Option<i32>>),
    BigInt(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Time(Vec<Option<DateTime<Utc>>>),
    Flag(Vec<Option<bool>>),
    /// Binary cells: `bytea[]` on PostgreSQL; hex text in SQLite's JSON, read back with `unhex`.
    Bytes(Vec<Option<Vec<u8>>>),
}

impl Column {
    /// The PostgreSQL array type of the column.
    pub fn pg_array_type(&self) -> &'static str {
        match self {
            Column::Int(_) => "int[]",
            Column::BigInt(_) => "bigint[]",
            Column::Text(_) => "text[]",
            Column::Time(_) => "timestamptz[]",
            Column::Flag(_) => "bool[]",
            Column::Bytes(_) => "bytea[]",
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::BigInt(v) => v.len(),
            Column::Text(v) => v.len(),
            Column::Time(v) => v.len(),
            Column::Flag(v) => v.len(),
            Column::Bytes(v) => v.len(),
        }
    }

    fn json_cell(&self, row: usize) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Column::Int(v) => v[row].map_or(Value::Null, Value::from),
            Column::BigInt(v) => v[row].map_or(Value::Null, Value::from),
            Column::Text(v) => v[row].as_deref().map_or(Value::Null, Value::from),
            Column::Time(v) => v[row].as_ref().map_or(Value::Null, |t| Value::from(sqlite_time(t))),
            Column::Flag(v) => v[row].map_or(Value::Null, Value::from),
            Column::Bytes(v) => v[row].as_deref().map_or(Value::Null, |b| Value::from(hex(b))),
        }
    }
}

/// Lower-case hex, as SQLite's `unhex` reads it.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Text cells accept `&str`, `String` and their options.
pub trait IntoText {
    fn into_text(self) -> Option<String>;
}

impl IntoText for &str {
    fn into_text(self) -> Option<String> {
        Some(self.to_string())
    }
}
impl IntoText for String {
    fn into_text(self) -> Option<String> {
        Some(self)
    }
}
impl IntoText for &String {
    fn into_text(self) -> Option<String> {
        Some(self.clone())
    }
}
impl<T: IntoText> IntoText for Option<T> {
    fn into_text(self) -> Option<String> {
        self.and_then(IntoText::into_text)
    }
}

/// Named columns of equal length.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub(super) columns: Vec<(&'static str, Column)>,
}

impl Rows {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, name: &'static str, column: Column) -> Self {
        if let Some((first, c)) = self.columns.first() {
            assert_eq!(c.len(), column.len(), "row set columns {first} and {name} differ in length");
        }
        self.columns.push((name, column));
        self
    }

    pub fn int<T: Into<Option<i32>>>(self, name: &'static str, values: impl IntoIterator<Item = T>) -> Self {
        self.push(name, Column::Int(values.into_iter().map(Into::into).collect()))
    }

    pub fn bigint<T: Into<Option<i64>>>(self, name: &'static str, values: impl IntoIterator<Item = T>) -> Self {
        self.push(name, Column::BigInt(values.into_iter().map(Into::into).collect()))
    }

    pub fn text<T: IntoText>(self, name: &'static str, values: impl IntoIterator<Item = T>) -> Self {
        self.push(name, Column::Text(values.into_iter().map(IntoText::into_text).collect()))
    }

    pub fn time<T: Into<Option<DateTime<Utc>>>>(self, name: &'static str, values: impl IntoIterator<Item = T>) -> Self {
        self.push(name, Column::Time(values.into_iter().map(Into::into).collect()))
    }

    pub fn flag<T: Into<Option<bool>>>(self, name: &'static str, values: impl IntoIterator<Item = T>) -> Self {
        self.push(name, Column::Flag(values.into_iter().map(Into::into).collect()))
    }

    pub fn bytes<T: Into<Option<Vec<u8>>>>(self, name: &'static str, values: impl IntoIterator<Item = T>) -> Self {
        self.push(name, Column::Bytes(values.into_iter().map(Into::into).collect()))
    }

    /// Number of rows.
    fn len(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// Number of parameters the set takes (one per column, on both backends).
    pub fn params(&self) -> usize {
        self.columns.len()
    }

    /// The whole set as SQLite binds it: `[[c1, c2, …], …]`.
    pub(super) fn to_json_rows(&self) -> String {
        let rows: Vec<serde_json::Value> = (0..self.len())
            .map(|i| serde_json::Value::Array(self.columns.iter().map(|(_, c)| c.json_cell(i)).collect()))
            .collect();
        serde_json::Value::Array(rows).to_string()
    }

    /// Whether the column at `index` is binary (SQLite reads it with `unhex`).
    pub(super) fn is_bytes(&self, index: usize) -> bool {
        matches!(self.columns.get(index), Some((_, Column::Bytes(_))))
    }

    /// Column names in order.
    pub(super) fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|(n, _)| *n)
    }
}
