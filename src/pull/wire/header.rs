//! The 8-byte packet header shared by TCP and UDP (spec §1.3): command, checksum, session id,
//! reply id, all little-endian u16.

use super::error::{need, WireError};

/// Length of the packet header in bytes.
pub const HEADER_LEN: usize = 8;

/// A decoded packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Command (client → device) or reply code (device → client).
    pub command: u16,
    /// Checksum as carried on the wire.
    pub checksum: u16,
    /// Session id; in some device replies this slot carries data instead (spec §1.6).
    pub session: u16,
    /// Reply id: the client's counter, echoed by the device.
    pub reply: u16,
}

impl Header {
    /// Reads a header from the first 8 bytes of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Header, WireError> {
        need("header", bytes, HEADER_LEN)?;
        let word = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        Ok(Header { command: word(0), checksum: word(2), session: word(4), reply: word(6) })
    }

    /// The 8 wire bytes of this header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&self.command.to_le_bytes());
        out[2..4].copy_from_slice(&self.checksum.to_le_bytes());
        out[4..6].copy_from_slice(&self.session.to_le_bytes());
        out[6..8].copy_from_slice(&self.reply.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_are_little_endian_words_in_order() {
        // CMD_ACK_OK, checksum 0xfcff, session 0xfb2f, reply 0 (pyzk test_tcp_connect)
        let h = Header::parse(&[0xd0, 0x07, 0xff, 0xfc, 0x2f, 0xfb, 0x00, 0x00]).unwrap();
        assert_eq!(h, Header { command: 2000, checksum: 0xfcff, session: 0xfb2f, reply: 0 });
        assert_eq!(h.to_bytes(), [0xd0, 0x07, 0xff, 0xfc, 0x2f, 0xfb, 0x00, 0x00]);
    }

    #[test]
    fn header_shorter_than_eight_bytes_is_truncated() {
        assert!(matches!(Header::parse(&[0; 7]), Err(WireError::Truncated { .. })));
    }
}
