//! Query parameters shared by list endpoints: paging (`page`, `per_page`), sorting
//! (`sort=name`, `sort=-name` for descending) and date ranges (`from`, `to`).

use chrono::{DateTime, NaiveDate, Utc};

use super::error::ApiError;
use crate::store::admin::{Page, Sort, SortDir, SortKey};

/// Default page size.
pub const DEFAULT_PER_PAGE: i64 = 50;

/// `page` is 1-based; `per_page` is 1..=500.
pub fn page(page: Option<i64>, per_page: Option<i64>) -> Result<Page, ApiError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=1_000_000).contains(&page) {
        return Err(ApiError::parameter("page", "must be between 1 and 1000000"));
    }
    if !(1..=Page::MAX_LIMIT).contains(&per_page) {
        return Err(ApiError::parameter("per_page", format!("must be between 1 and {}", Page::MAX_LIMIT)));
    }
    Ok(Page { limit: per_page, offset: (page - 1) * per_page })
}

/// Parses `sort` against the list's keys (their names in [`SortKey::TABLE`]); `-key` sorts descending.
pub fn sort<F: SortKey + Default>(raw: Option<&str>) -> Result<Sort<F>, ApiError> {
    let Some(raw) = raw else { return Ok(Sort::default()) };
    let (name, dir) = match raw.strip_prefix('-') {
        Some(name) => (name, SortDir::Desc),
        None => (raw, SortDir::Asc),
    };
    match F::TABLE.iter().find(|(key, _, _)| *key == name) {
        Some((_, field, _)) => Ok(Sort { field: *field, dir }),
        None => {
            let allowed: Vec<&str> = F::TABLE.iter().map(|(k, _, _)| *k).collect();
            Err(ApiError::parameter("sort", format!("must be one of {} (prefix - for descending)", allowed.join(", "))))
        }
    }
}

/// A bound of a time range: a local date (`2026-03-02`) or an instant (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

/// Parses a range bound named `name`.
pub fn bound(name: &str, raw: Option<&str>) -> Result<Option<Bound>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(Some(Bound::Date(date)));
    }
    DateTime::parse_from_rfc3339(raw).map(|t| Some(Bound::Instant(t.with_timezone(&Utc)))).map_err(|_| {
        ApiError::parameter(name, "must be a date (2026-03-02) or an RFC 3339 time (2026-03-02T08:00:00Z)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::admin::SortTable;

    #[test]
    fn pages_are_one_based_and_bounded() {
        assert_eq!(page(None, None).unwrap(), Page { limit: 50, offset: 0 });
        assert_eq!(page(Some(3), Some(20)).unwrap(), Page { limit: 20, offset: 40 });
        assert!(page(Some(0), None).is_err());
        assert!(page(None, Some(501)).is_err());
        assert!(page(None, Some(0)).is_err());
    }

    #[test]
    fn sort_keys_come_from_the_allowed_list_and_a_dash_means_descending() {
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        struct Key(u8);
        impl SortKey for Key {
            const TABLE: SortTable<Self> = &[("id", Key(1), &["id"]), ("name", Key(2), &["name"])];
        }
        assert_eq!(sort(Some("-name")).unwrap(), Sort { field: Key(2), dir: SortDir::Desc });
        assert_eq!(sort::<Key>(None).unwrap(), Sort { field: Key(0), dir: SortDir::Asc });
        assert!(sort::<Key>(Some("name; drop table students")).is_err());
    }

    #[test]
    fn bounds_are_dates_or_rfc3339_instants() {
        assert_eq!(
            bound("from", Some("2026-03-02")).unwrap(),
            Some(Bound::Date(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()))
        );
        assert!(matches!(bound("from", Some("2026-03-02T08:00:00+03:00")).unwrap(), Some(Bound::Instant(_))));
        assert!(bound("to", Some("yesterday")).is_err());
        assert_eq!(bound("to", None).unwrap(), None);
    }
}
