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

/// A card number as firmware takes it in `Card=`: decimal (push.md 2.6 USER: "decimal string,
/// or `[15CD5B07]` hex bytes"; ironclock always sends decimal). Decimal input loses its leading
/// zeros (the device keeps a number and shows `Card=12345`); hex input, written `0x…` or holding
/// a letter A-F (`00BC614E`), becomes its decimal value. `None` for no card (empty or zero).
/// Anything else (a legacy value that is neither) goes as cleaned, unchanged.
pub fn card_number(card: &str) -> Option<String> {
    let c = clean(card);
    let hex = c.strip_prefix("0x").or_else(|| c.strip_prefix("0X"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hex_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let value = match hex {
        Some(h) if hex_digits(h) => u64::from_str_radix(h.trim_start_matches('0'), 16).ok().or(Some(0)),
        None if digits(&c) => {
            let trimmed = c.trim_start_matches('0');
            return (!trimmed.is_empty()).then(|| trimmed.to_string());
        }
        None if hex_digits(&c) => u64::from_str_radix(c.trim_start_matches('0'), 16).ok(),
        _ => None,
    };
    match value {
        Some(0) => None,
        Some(v) => Some(v.to_string()),
        None => (!c.is_empty()).then_some(c),
    }
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

/// The fields of a `DATA UPDATE BIODATA` line (att `BIODATA`, acc `biodata`: the same keys).
pub(super) fn biodata_fields(b: &super::BioTemplate) -> Result<String, CommandError> {
    Ok(format!(
        "Pin={}\tNo={}\tIndex={}\tValid={}\tDuress={}\tType={}\tMajorVer={}\tMinorVer={}\tFormat={}\tTmp={}",
        pin(&b.pin)?,
        b.no,
        b.index,
        b.valid,
        b.duress,
        b.bio_type,
        digits_or(&b.major_ver, "0"),
        digits_or(&b.minor_ver, "0"),
        b.format,
        non_empty(&b.template, "template")?
    ))
}

/// The fields of a `DATA DELETE BIODATA` line: the person's templates, of one type, or one.
pub(super) fn biodata_delete_fields(p: &str, bio_type: Option<u8>, no: Option<u8>) -> Result<String, CommandError> {
    let mut s = format!("Pin={}", pin(p)?);
    if let Some(ty) = bio_type {
        s.push_str(&format!("\tType={ty}"));
        if let Some(n) = no {
            s.push_str(&format!("\tNo={n}"));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::card_number;

    #[test]
    fn cards_go_out_in_decimal() {
        assert_eq!(card_number("0012345678").as_deref(), Some("12345678"));
        assert_eq!(card_number("00BC614E").as_deref(), Some("12345678"), "hex with a letter");
        assert_eq!(card_number("0xbc614e").as_deref(), Some("12345678"));
        assert_eq!(card_number("196793").as_deref(), Some("196793"), "capture 08 USER line");
        assert_eq!(card_number("0"), None);
        assert_eq!(card_number(""), None);
        assert_eq!(card_number("0x0"), None);
        assert_eq!(card_number("CARD-X").as_deref(), Some("CARD-X"), "neither: unchanged");
    }
}
