//! Paging, sorting and the tenancy scope shared by every admin list query.

use crate::domain::SchoolId;
use serde::Serialize;

/// Which schools a query may see: all of them (a super admin) or exactly one (a school admin).
/// Rows outside the scope are treated as missing by every store method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchoolScope(Option<SchoolId>);

impl SchoolScope {
    /// Every school.
    pub fn all() -> Self {
        Self(None)
    }

    /// One school only.
    pub fn school(id: SchoolId) -> Self {
        Self(Some(id))
    }

    /// The school this scope is limited to, `None` for every school (what SQL binds).
    pub fn school_id(self) -> Option<SchoolId> {
        self.0
    }

    /// Whether a row of `school_id` (`None`: a row of no school, e.g. a pending device) is visible.
    pub fn allows(self, school_id: Option<SchoolId>) -> bool {
        match self.0 {
            None => true,
            Some(mine) => school_id == Some(mine),
        }
    }
}

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// Largest page a caller may ask for.
    pub const MAX_LIMIT: i64 = 500;

    /// Everything (exports); bounded so a runaway query cannot exhaust memory.
    pub fn everything() -> Self {
        Self { limit: 1_000_000, offset: 0 }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: 50, offset: 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    /// SQL keyword.
    pub fn sql(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
}

/// A sort key from a closed set (see [`SortKey`]) and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort<F> {
    pub field: F,
    pub dir: SortDir,
}

/// One page of a list and the number of rows matching the filter across all pages.
#[derive(Debug, Clone, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// The keys of one list: `(name, key, SQL expressions sorted on, most significant first)` each.
/// The SQL comes from this table, never from input, so it is safe to splice into a statement.
pub type SortTable<F> = &'static [(&'static str, F, &'static [&'static str])];

/// A key a list may be sorted by. Each list has ONE table of its keys, read by the store (the SQL
/// a key sorts on) and by the API (the name `sort=` accepts).
pub trait SortKey: Copy + PartialEq + 'static {
    const TABLE: SortTable<Self>;
}

impl<F: SortKey> Sort<F> {
    /// `order by <columns> <dir>, <tiebreak> <dir>`: a stable order, so pages never overlap.
    pub fn order_by(self, tiebreak: &str) -> String {
        let dir = self.dir.sql();
        let columns = F::TABLE.iter().find(|(_, key, _)| *key == self.field).map(|(_, _, c)| *c);
        debug_assert!(columns.is_some(), "a sort key missing from its list's table");
        let keys: Vec<String> =
            columns.unwrap_or_default().iter().chain([&tiebreak]).map(|c| format!("{c} {dir}")).collect();
        format!("order by {}", keys.join(", "))
    }
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\` taken literally
/// (use with `escape '\'`).
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_pattern_escapes_like_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn order_by_applies_the_direction_to_every_key_and_the_tiebreak() {
        #[derive(Clone, Copy, PartialEq)]
        struct Two;
        impl SortKey for Two {
            const TABLE: SortTable<Self> = &[("pin", Two, &["length(pin)", "pin"])];
        }
        let sort = Sort { field: Two, dir: SortDir::Desc };
        assert_eq!(sort.order_by("id"), "order by length(pin) desc, pin desc, id desc");
    }

    #[test]
    fn a_school_scope_sees_only_its_school_and_never_rows_of_no_school() {
        let (three, four) = (SchoolId(3), SchoolId(4));
        assert!(SchoolScope::school(three).allows(Some(three)));
        assert!(!SchoolScope::school(three).allows(Some(four)));
        assert!(!SchoolScope::school(three).allows(None));
        assert!(SchoolScope::all().allows(None));
    }
}
