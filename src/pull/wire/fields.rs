//! Little helpers for fixed-layout records: NUL-terminated text fields and LE integers at
//! offsets. Callers check lengths first; the readers here are total on any slice they get.

use super::error::WireError;

/// Text of a fixed-width field: bytes up to the first NUL, decoded as UTF-8 (invalid bytes
/// become U+FFFD; devices differ in encoding, spec §7.3).
pub(crate) fn read_text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Writes `text` into a zeroed fixed-width field. Fails when it does not fit or holds a NUL.
pub(crate) fn write_text(out: &mut [u8], text: &str, field: &'static str) -> Result<(), WireError> {
    let bytes = text.as_bytes();
    if bytes.len() > out.len() {
        return Err(WireError::invalid(field, format!("{} bytes, at most {}", bytes.len(), out.len())));
    }
    if bytes.contains(&0) {
        return Err(WireError::invalid(field, "contains a NUL byte"));
    }
    out[..bytes.len()].copy_from_slice(bytes);
    out[bytes.len()..].fill(0);
    Ok(())
}

/// u16 LE at `at` (caller guarantees `at + 2 <= b.len()`; returns 0 otherwise).
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// u32 LE at `at` (caller guarantees `at + 4 <= b.len()`; returns 0 otherwise).
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// i32 LE at `at` (caller guarantees `at + 4 <= b.len()`; returns 0 otherwise).
pub(crate) fn i32_at(b: &[u8], at: usize) -> i32 {
    u32_at(b, at) as i32
}
