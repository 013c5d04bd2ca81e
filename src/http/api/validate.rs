//! Field rules for request values, each returning the cleaned value or a `validation_failed`
//! error naming the field; and `nullable`, the serde helper that tells "absent" from `null`.

use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use super::extract::truncate;
use crate::domain::roster_import::MAX_PIN;

/// A display name: trimmed, 1..=`max` characters, no control characters.
pub fn name(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(ApiError::invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

/// An IANA time zone name (`Africa/Nairobi`).
pub fn timezone(field: &str, raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim();
    chrono_tz::Tz::from_str(trimmed)
        .map(|tz| tz.name().to_string())
        .map_err(|_| ApiError::invalid(field, format!("{:?} is not an IANA time zone", truncate(trimmed, 64))))
}

/// An email address: trimmed, one `@`, a dotted domain, no spaces, at most 254 characters.
pub fn email(raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim();
    let valid = trimmed.len() <= 254
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(trimmed.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
               && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(trimmed.to_string())
    } else {
        Err(ApiError::invalid("email", "must be an email address"))
    }
}

/// A PIN: 1..=9 digits without a leading zero (a number, so `0123` and `123` cannot be two students).
pub fn pin(field: &str, raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 9 || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(field, "must be 1 to 9 digits"));
    }
    if trimmed.starts_with('0') {
        return Err(ApiError::invalid(field, "must not start with 0"));
    }
    Ok(trimmed.to_string())
}

/// The first automatic PIN of a school.
pub fn pin_start(value: i64) -> Result<i64, ApiError> {
    if (1..=MAX_PIN).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid("pin_start", format!("must be between 1 and {MAX_PIN}")))
    }
}

/// An RFID card number: trimmed, 1..=32 ASCII letters or digits; empty means "no card".
pub fn card(field: &str, raw: &str) -> Result<Option<String>, ApiError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.len() > 32 || !trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid(field, "must be at most 32 letters or digits"));
    }
    Ok(Some(trimmed.to_string()))
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_without_a_leading_zero_and_at_most_nine_wide() {
        assert_eq!(pin("pin", " 1234 ").unwrap(), "1234");
        for bad in ["", "0123", "12a", "1234567890", "-1", "1.5"] {
            assert!(pin("pin", bad).is_err(), "{bad:?}");
        }
        assert!(pin("pin", "999999999").is_ok());
    }

    #[test]
    fn emails_and_zones_are_checked() {
        assert_eq!(email(" Root@Example.org ").unwrap(), "Root@Example.org");
        for bad in ["root", "root@", "@x.org", "a@b@c.org", "a b@c.org", "a@localhost", "a@.org"] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(timezone("timezone", "Africa/Nairobi").unwrap(), "Africa/Nairobi");
        assert!(timezone("timezone", "Mars/Olympus").is_err());
    }

    #[test]
    fn cards_and_names_are_trimmed_and_bounded() {
        assert_eq!(card("rfid_card_id", "  ").unwrap(), None);
        assert_eq!(card("rfid_card_id", "0012345").unwrap().as_deref(), Some("0012345"));
        assert!(card("rfid_card_id", "12 34").is_err());
        assert!(name("full_name", "  ", 100).is_err());
        assert!(name("full_name", "a\u{0}b", 100).is_err());
        assert_eq!(name("full_name", " Amina W. ", 100).unwrap(), "Amina W.");
    }
}
