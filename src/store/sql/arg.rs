//! What a shared statement may bind and read, on both backends.
//!
//! [`Arg`] is implemented once per value type with one method per driver, so shared SQL binds
//! values without naming the driver. Most types encode the same way on both; the exceptions are
//! the reason this trait exists:
//! - timestamps: PostgreSQL `timestamptz`; SQLite TEXT in ONE canonical form
//!   (`YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, always six digits), so text order is time order and both
//!   backends keep microseconds ([`sqlite_time`]);
//! - lists ([`List`]): a PostgreSQL array, a SQLite JSON array (read with `json_each`);
//! - JSON ([`Json`]): `jsonb` on PostgreSQL, TEXT on SQLite;
//! - row sets ([`Rows`]): see `rows.rs`.
//!
//! [`Col`] and [`Record`] are what may be read back: any type both drivers decode.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Decode, FromRow, Postgres, Sqlite, Type};

use crate::domain::{Pin, SchoolId};

/// A value bound to a statement parameter.
pub trait Arg<'q>: Send + 'q {
    fn add_pg(self, args: &mut PgArguments) -> Result<(), BoxDynError>;
    fn add_sqlite(self, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError>;
}

/// Types that encode the same way on both drivers.
macro_rules! same_on_both {
    ($($t:ty),* $(,)?) => {$(
        impl<'q> Arg<'q> for $t {
            fn add_pg(self, args: &mut PgArguments) -> Result<(), BoxDynError> {
                args.add(self)
            }
            fn add_sqlite(self, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
                args.add(self)
            }
        }
    )*};
}

same_on_both!(i16, i32, i64, f64, bool, uuid::Uuid, SchoolId, Pin, &'q Pin);
same_on_both!(Option<i16>, Option<i32>, Option<i64>, Option<f64>, Option<bool>, Option<SchoolId>, Option<Pin>);
same_on_both!(Option<&'q Pin>, &'q Option<Pin>);
same_on_both!(String, &'q str, &'q String, Option<String>, Option<&'q str>, &'q Option<String>, Option<&'q String>);
same_on_both!(Vec<u8>, &'q [u8], &'q Vec<u8>, Option<Vec<u8>>, Option<&'q [u8]>, &'q Option<Vec<u8>>);

/// The one text form of a timestamp on SQLite: RFC 3339 in UTC with exactly six fractional
/// digits. Fixed width, so comparing the text compares the times (and an index on it orders by time).
pub fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

impl<'q> Arg<'q> for DateTime<Utc> {
    fn add_pg(self, args: &mut PgArguments) -> Result<(), BoxDynError> {
        args.add(self)
    }
    fn add_sqlite(self, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
        args.add(sqlite_time(&self))
    }
}

impl<'q> Arg<'q> for Option<DateTime<Utc>> {
    fn add_pg(self, args: &mut PgArguments) -> Result<(), BoxDynError> {
        args.add(self)
    }
    fn add_sqlite(self, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
        args.add(self.as_ref().map(sqlite_time))
    }
}

/// A list bound as one parameter: use it with `Dialect::in_list` (`= any($n)` on PostgreSQL,
/// `in (select value from json_each($n))` on SQLite). `None` binds NULL ("no filter").
pub struct List<'a, T>(pub Option<&'a [T]>);

impl<'a, T> List<'a, T> {
    pub fn of(items: &'a [T]) -> Self {
        Self(Some(items))
    }
}

macro_rules! list_of {
    ($($t:ty),*) => {$(
        impl<'q> Arg<'q> for List<'q, $t> {
            fn add_pg(self, args: &mut PgArguments) -> Result<(), BoxDynError> {
                args.add(self.0)
            }
            fn add_sqlite(self, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
                args.add(self.0.map(serde_json::to_string).transpose()?)
            }
        }
    )*};
}

list_of!(i64, String, &'q str, SchoolId, Pin);

/// A JSON document: `jsonb` on PostgreSQL, its text on SQLite.
pub struct Json<'a>(pub &'a serde_json::Value);

impl<'q> Arg<'q> for Json<'q> {
    fn add_pg(self, args: &mut PgArguments) -> Result<(), BoxDynError> {
        args.add(self.0)
    }
    fn add_sqlite(self, args: &mut SqliteArguments<'q>) -> Result<(), BoxDynError> {
        args.add(self.0.to_string())
    }
}

/// A column both drivers can decode (the bounds are supertraits, so they hold wherever `Col` does).
pub trait Col:
    for<'r> Decode<'r, Postgres> + Type<Postgres> + for<'r> Decode<'r, Sqlite> + Type<Sqlite> + Send + Unpin + 'static
{
}

impl<T> Col for T where
    T: for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + Send
        + Unpin
        + 'static
{
}

/// A row type both drivers can build (`#[derive(sqlx::FromRow)]` structs and tuples of `Col`s).
pub trait Record: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin + 'static {}

impl<T> Record for T where T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin + 'static {}

/// A JSON column read back: `jsonb` on PostgreSQL, TEXT on SQLite. Text that is not JSON is a
/// decode error naming the column, never a silent default. Use it in row structs with
/// `#[sqlx(try_from = "JsonText")]` on a `serde_json::Value` field.
#[derive(Debug, Clone)]
pub struct JsonText(pub serde_json::Value);

impl From<JsonText> for serde_json::Value {
    fn from(j: JsonText) -> Self {
        j.0
    }
}

impl Type<Postgres> for JsonText {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <serde_json::Value as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <serde_json::Value as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for JsonText {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<serde_json::Value as Decode<Postgres>>::decode(value)?))
    }
}

impl Type<Sqlite> for JsonText {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for JsonText {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        serde_json::from_str(text).map(Self).map_err(|e| format!("stored JSON is not valid ({e}): {text:.80}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sqlite_times_have_one_fixed_width_form_whose_text_order_is_time_order() {
        let whole = Utc.with_ymd_and_hms(2026, 12, 3, 9, 22, 21).unwrap();
        let later = whole + chrono::Duration::microseconds(1);
        let nanos = whole + chrono::Duration::nanoseconds(500_123_456);
        assert_eq!(sqlite_time(&whole), "2026-12-03T09:22:21.000000+00:00");
        assert_eq!(sqlite_time(&nanos), "2026-12-03T09:22:21.500123+00:00", "micro precision, as PostgreSQL");
        let texts = [sqlite_time(&whole), sqlite_time(&later), sqlite_time(&nanos)];
        assert!(texts.windows(2).all(|w| w[0] < w[1] && w[0].len() == w[1].len()));
    }
}
