//! The TCP envelope (spec §1.2): `50 50 82 7D` + u32 LE length of the packet that follows, and an
//! incremental frame splitter for a byte stream in which frames may coalesce or split anywhere.

use std::ops::Range;

use super::error::WireError;
use super::header::HEADER_LEN;

/// The four magic bytes that open every TCP frame ("PP", CMD_TCP 0x82, 0xFF − 0x82).
pub const TCP_MAGIC: [u8; 4] = [0x50, 0x50, 0x82, 0x7d];
/// Length of the TCP envelope prefix.
pub const PREFIX_LEN: usize = 8;
/// Largest packet a reader accepts by default (devices send at most 64 KiB + header).
pub const DEFAULT_MAX_PACKET: usize = 1 << 20;

/// The 8-byte TCP prefix for a packet of `packet_len` bytes (header + data).
pub fn encode_prefix(packet_len: u32) -> [u8; PREFIX_LEN] {
    let mut out = [0u8; PREFIX_LEN];
    out[..4].copy_from_slice(&TCP_MAGIC);
    out[4..].copy_from_slice(&packet_len.to_le_bytes());
    out
}

/// What [`split_frame`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// A whole frame: `packet` is the range of the packet (without prefix) inside the buffer and
    /// `consumed` the bytes to drop from the front of the buffer.
    Complete {
        /// Where the packet (header + data) lies in the buffer.
        packet: Range<usize>,
        /// Prefix + packet length.
        consumed: usize,
    },
    /// Not enough bytes yet; at least `needed` bytes in total are required.
    Partial {
        /// Total buffer length needed before the next call can make progress.
        needed: usize,
    },
}

/// Looks for one TCP frame at the start of `buf`. Never panics; rejects a wrong magic, a packet
/// shorter than a header, or one longer than `max_packet`.
pub fn split_frame(buf: &[u8], max_packet: usize) -> Result<Split, WireError> {
    if buf.len() < PREFIX_LEN {
        // check what we have of the magic so garbage is reported as early as possible
        let seen = &buf[..buf.len().min(4)];
        if seen != &TCP_MAGIC[..seen.len()] {
            let mut magic = [0u8; 4];
            magic[..seen.len()].copy_from_slice(seen);
            return Err(WireError::BadMagic(magic));
        }
        return Ok(Split::Partial { needed: PREFIX_LEN });
    }
    let magic = [buf[0], buf[1], buf[2], buf[3]];
    if magic != TCP_MAGIC {
        return Err(WireError::BadMagic(magic));
    }
    let len = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if len < HEADER_LEN {
        return Err(WireError::BadLength { what: "TCP frame", len });
    }
    if len > max_packet {
        return Err(WireError::TooLarge { what: "TCP frame", len, max: max_packet });
    }
    let total = PREFIX_LEN + len;
    if buf.len() < total {
        return Ok(Split::Partial { needed: total });
    }
    Ok(Split::Complete { packet: PREFIX_LEN..total, consumed: total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_of_an_eight_byte_packet_is_magic_then_length_eight() {
        assert_eq!(encode_prefix(8), [0x50, 0x50, 0x82, 0x7d, 8, 0, 0, 0]);
    }

    #[test]
    fn length_field_is_a_full_u32_not_a_u16() {
        let mut buf = encode_prefix(70_000).to_vec();
        buf.resize(8 + 70_000, 0);
        let split = split_frame(&buf, DEFAULT_MAX_PACKET).unwrap();
        assert_eq!(split, Split::Complete { packet: 8..70_008, consumed: 70_008 });
    }

    #[test]
    fn two_coalesced_frames_split_one_at_a_time() {
        let mut buf = encode_prefix(8).to_vec();
        buf.extend_from_slice(&[1; 8]);
        buf.extend_from_slice(&encode_prefix(9));
        buf.extend_from_slice(&[2; 9]);
        let Split::Complete { packet, consumed } = split_frame(&buf, 64).unwrap() else { panic!() };
        assert_eq!((packet, consumed), (8..16, 16));
        let rest = &buf[16..];
        assert_eq!(split_frame(rest, 64).unwrap(), Split::Complete { packet: 8..17, consumed: 17 });
    }

    #[test]
    fn a_frame_cut_in_the_middle_asks_for_the_rest() {
        let mut buf = encode_prefix(20).to_vec();
        buf.extend_from_slice(&[0; 5]);
        assert_eq!(split_frame(&buf, 64).unwrap(), Split::Partial { needed: 28 });
        assert_eq!(split_frame(&buf[..3], 64).unwrap(), Split::Partial { needed: 8 });
    }

    #[test]
    fn garbage_instead_of_magic_is_rejected_even_before_eight_bytes() {
        assert!(matches!(split_frame(b"GET", 64), Err(WireError::BadMagic(_))));
        assert!(matches!(split_frame(b"GET / HTTP/1.1", 64), Err(WireError::BadMagic(_))));
    }

    #[test]
    fn declared_length_shorter_than_a_header_or_over_the_limit_is_rejected() {
        assert!(split_frame(&encode_prefix(7), 64).is_err());
        assert!(matches!(split_frame(&encode_prefix(65), 64), Err(WireError::TooLarge { .. })));
    }
}
