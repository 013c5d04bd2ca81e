//! Test helper: hex text to bytes.

/// Decodes a hex string (panics on bad input; tests only).
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}
