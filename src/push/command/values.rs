//! How values reach the wire: free text is cleaned (control characters become spaces), names are
//! cut to what a device shows, identifiers (PINs, option keys) are validated and refused when
//! malformed, times take the one form devices accept.

use chrono::NaiveDateTime;

use super::CommandError;

/// Longest user name sent to a device: TFT firmware shows 24 characters (GrupoSTI cuts to 24).
pub const NAME_LIMIT: usize = 24;

/// `YYYY-MM-DD hh:mm:ss`: the space form (LX35 rejects the `T` form with -1002, push.md 2.5).
pub fn format_time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A time range must not end before it starts.
pub(super) fn range(start: &NaiveDateTime, end: &NaiveDateTime) -> Result<(), CommandError> {
    if end < start {
        return Err(CommandError::BadRange);
    }
    Ok(())
}

/// Free text for the wire: control characters (TAB, CR, LF, …) become spaces; trimmed.
pub fn clean(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// A display name: cleaned and cut to [`NAME_LIMIT`] characters.
pub fn clean_name(name: &str) -> String {
    clean(name).chars().take(NAME_LIMIT).collect::<String>().trim_end().to_string()
}

/// A PIN: 1 to 24 ASCII letters or digits.
pub(super) fn pin(p: &str) -> Result<&str, CommandError> {
    let ok = !p.is_empty() && p.len() <= 24 && p.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then_some(p).ok_or_else(|| CommandError::InvalidPin(p.to_string()))
}

/// An option key: 1 to 64 ASCII letters, digits, `~` and `_`.
pub(super) fn option_key(k: &str) -> Result<&str, CommandError> {
    let ok = !k.is_empty() && k.len() <= 64 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '~' || c == '_');
    ok.then_some(k).ok_or_else(|| CommandError::InvalidKey(k.to_string()))
}

/// A required value, trimmed: neither empty nor holding control characters.
pub(super) fn non_empty<'a>(v: &'a str, what: &'static str) -> Result<&'a str, CommandError> {
    let v = v.trim();
    if v.is_empty() || v.chars().any(char::is_control) {
        return Err(CommandError::Empty(what));
    }
    Ok(v)
}

/// `v` when it is digits (and dots), else `default`.
pub(super) fn digits_or(v: &str, default: &str) -> String {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
        v.to_string()
    } else {
        default.to_string()
    }
}
