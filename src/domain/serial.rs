//! `DeviceSerial`: the serial number a device identifies itself with (`SN=`).

use std::fmt;

/// A device serial number: 1..=64 printable ASCII characters, no spaces or control characters.
/// Kept exactly as the device sends it (serials are upper-case on real firmware; we do not fold case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceSerial(String);

impl DeviceSerial {
    /// Parses a serial, rejecting empty, over-long and non-printable values with a reason.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("missing device serial number (SN)".into());
        }
        if s.len() > 64 {
            return Err(format!("device serial number is {} characters; at most 64 are allowed", s.len()));
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!("device serial number contains the character {c:?}"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_trimmed_and_validated() {
        assert_eq!(DeviceSerial::parse(" CQZ7230961348 ").unwrap().as_str(), "CQZ7230961348");
        assert!(DeviceSerial::parse("").is_err());
        assert!(DeviceSerial::parse("A B").is_err());
        assert!(DeviceSerial::parse("ABC\u{0}").is_err());
        assert!(DeviceSerial::parse(&"X".repeat(65)).is_err());
    }
}
