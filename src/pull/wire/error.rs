//! The one error type of the pure wire layer: every decoder returns `WireError` instead of panicking.

use thiserror::Error;

/// Why a byte sequence is not a valid protocol element (or a value cannot be encoded).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// Fewer bytes than the element needs.
    #[error("{what}: need {needed} bytes, got {got}")]
    Truncated {
        /// The element being decoded.
        what: &'static str,
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// A length that no known layout of the element has.
    #[error("{what}: unexpected length {len}")]
    BadLength {
        /// The element being decoded.
        what: &'static str,
        /// The length seen.
        len: usize,
    },
    /// The packet's checksum field does not match its contents.
    #[error("checksum {found:#06x}, expected {expected:#06x}")]
    BadChecksum {
        /// Checksum computed over the packet.
        expected: u16,
        /// Checksum carried in the header.
        found: u16,
    },
    /// The TCP envelope does not start with `50 50 82 7D`.
    #[error("TCP envelope: bad magic {0:02x?}")]
    BadMagic([u8; 4]),
    /// A declared length beyond what the reader accepts.
    #[error("{what}: length {len} exceeds the limit {max}")]
    TooLarge {
        /// The element being decoded.
        what: &'static str,
        /// Declared length.
        len: usize,
        /// Accepted maximum.
        max: usize,
    },
    /// A field holds a value the protocol does not allow (bad date, non-numeric PIN, …).
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
}

impl WireError {
    /// Shorthand for [`WireError::InvalidField`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        WireError::InvalidField { field, reason: reason.into() }
    }
}

/// Fails with [`WireError::Truncated`] unless `bytes` holds at least `needed` bytes.
pub(crate) fn need(what: &'static str, bytes: &[u8], needed: usize) -> Result<(), WireError> {
    if bytes.len() < needed {
        return Err(WireError::Truncated { what, needed, got: bytes.len() });
    }
    Ok(())
}
