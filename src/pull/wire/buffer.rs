//! Buffered ("high-rate") reads and uploads (spec §4, §8.5): the CMD_QUERY_DATA request and
//! its 13-byte reply, CMD_READ_DATA chunks, CMD_PREPARE_DATA in both directions, the
//! `u32 length + body` buffer framing, and the PJW hash of CMD_HASH_DATA.

use super::error::{need, WireError};
use super::fields::{i32_at, u16_at, u32_at};

/// CMD_QUERY_DATA (1503) request: build table `data_type` in the session buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryData {
    /// The legacy read command naming the table: 9 users, 7 templates, 13 attendance.
    pub data_type: u16,
    /// FCT for users/templates (5, 2); 0 for attendance.
    pub param1: i32,
    /// 0.
    pub param2: i32,
}

impl QueryData {
    /// Users (type 9, FCT 5).
    pub const USERS: QueryData = QueryData { data_type: 9, param1: 5, param2: 0 };
    /// Fingerprint templates (type 7, FCT 2).
    pub const TEMPLATES: QueryData = QueryData { data_type: 7, param1: 2, param2: 0 };
    /// Attendance (type 13).
    pub const ATTENDANCE: QueryData = QueryData { data_type: 13, param1: 0, param2: 0 };

    /// The exactly 11 request bytes: `01`, u16 type, i32, i32.
    pub fn encode(self) -> [u8; 11] {
        let mut out = [0u8; 11];
        out[0] = 1;
        out[1..3].copy_from_slice(&self.data_type.to_le_bytes());
        out[3..7].copy_from_slice(&self.param1.to_le_bytes());
        out[7..11].copy_from_slice(&self.param2.to_le_bytes());
        out
    }

    /// Reads a request; the firmware rejects any size but 11.
    pub fn decode(data: &[u8]) -> Result<QueryData, WireError> {
        if data.len() != 11 {
            return Err(WireError::BadLength { what: "CMD_QUERY_DATA request", len: data.len() });
        }
        Ok(QueryData { data_type: u16_at(data, 1), param1: i32_at(data, 3), param2: i32_at(data, 7) })
    }
}

/// The 13-byte ACK_OK data answering CMD_QUERY_DATA when the buffer exceeds one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryReply {
    /// Length of the session buffer (u32 prefix + body).
    pub buffer_len: u32,
    /// Uncompressed length (= buffer_len).
    pub real_len: u32,
    /// PJW hash of the buffer (advisory, spec §8.5).
    pub hash: u32,
}

impl QueryReply {
    /// `00` (no compression), buffer_len, real_len, hash.
    pub fn encode(self) -> [u8; 13] {
        let mut out = [0u8; 13];
        out[1..5].copy_from_slice(&self.buffer_len.to_le_bytes());
        out[5..9].copy_from_slice(&self.real_len.to_le_bytes());
        out[9..13].copy_from_slice(&self.hash.to_le_bytes());
        out
    }

    /// Reads the reply (pyzk reads only bytes 1..5; hash optional on short replies).
    pub fn decode(data: &[u8]) -> Result<QueryReply, WireError> {
        need("CMD_QUERY_DATA reply", data, 5)?;
        Ok(QueryReply { buffer_len: u32_at(data, 1), real_len: u32_at(data, 5), hash: u32_at(data, 9) })
    }
}

/// A `<I offset><I size>` pair: CMD_READ_DATA requests, and CMD_PREPARE_DATA from the device
/// (`<I size><I frame_max>`, here `offset` = size and `size` = frame max).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadChunk {
    /// Offset into the session buffer.
    pub offset: u32,
    /// Bytes wanted.
    pub size: u32,
}

impl ReadChunk {
    /// The 8 bytes.
    pub fn encode(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&self.offset.to_le_bytes());
        out[4..].copy_from_slice(&self.size.to_le_bytes());
        out
    }

    /// Reads 8 bytes.
    pub fn decode(data: &[u8]) -> Result<ReadChunk, WireError> {
        need("read chunk", data, 8)?;
        Ok(ReadChunk { offset: u32_at(data, 0), size: u32_at(data, 4) })
    }
}

/// CMD_PREPARE_DATA payload: `<I size>` from a client opening an upload, `<I size><I frame_max>`
/// from a device opening a stream.
pub fn encode_prepare(size: u32, frame_max: Option<u32>) -> Vec<u8> {
    let mut out = size.to_le_bytes().to_vec();
    if let Some(max) = frame_max {
        out.extend_from_slice(&max.to_le_bytes());
    }
    out
}

/// The announced size of a CMD_PREPARE_DATA payload.
pub fn decode_prepare(data: &[u8]) -> Result<u32, WireError> {
    need("CMD_PREPARE_DATA", data, 4)?;
    Ok(u32_at(data, 0))
}

/// Wraps a table body as a session buffer: `u32 body_len` + body.
pub fn frame_buffer(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of a session buffer, checking its `u32 body_len` prefix against what arrived.
/// Trailing bytes beyond body_len are ignored (some firmware pads).
pub fn unframe_buffer(buf: &[u8]) -> Result<&[u8], WireError> {
    need("buffer length prefix", buf, 4)?;
    let len = u32_at(buf, 0) as usize;
    need("buffer body", &buf[4..], len)?;
    Ok(&buf[4..4 + len])
}

/// PJW/ELF hash of an upload buffer mod 0xFEFFFF, with the C `int` sign extension of
/// `tmp >> 24` (spec §8.5; fpmachine and the firmware agree).
pub fn pjw_hash(buf: &[u8]) -> u32 {
    let mut val: u32 = 0;
    for &b in buf {
        val = (val << 4).wrapping_add(u32::from(b));
        let tmp = val & 0xF000_0000;
        if tmp != 0 {
            val ^= ((tmp as i32) >> 24) as u32;
            val ^= tmp;
        }
    }
    val % 0x00FE_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_requests_are_the_captured_eleven_bytes() {
        // spec §4.1 wire examples
        assert_eq!(QueryData::USERS.encode(), [1, 9, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(QueryData::TEMPLATES.encode(), [1, 7, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(QueryData::ATTENDANCE.encode(), [1, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(QueryData::decode(&QueryData::USERS.encode()).unwrap(), QueryData::USERS);
        assert!(QueryData::decode(&[1, 9, 0]).is_err());
    }

    #[test]
    fn captured_query_reply_announces_5044_bytes() {
        // pyzk test_tcp_get_users_broken_tcp: 00 b4130000 b4130000 cdef2300
        let r = QueryReply::decode(&[0, 0xb4, 0x13, 0, 0, 0xb4, 0x13, 0, 0, 0xcd, 0xef, 0x23, 0]).unwrap();
        assert_eq!(r, QueryReply { buffer_len: 5044, real_len: 5044, hash: 0x0023_efcd });
        assert_eq!(QueryReply::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn buffer_framing_checks_the_declared_length() {
        let buf = frame_buffer(b"abc");
        assert_eq!(buf, [3, 0, 0, 0, b'a', b'b', b'c']);
        assert_eq!(unframe_buffer(&buf).unwrap(), b"abc");
        assert!(unframe_buffer(&buf[..6]).is_err());
        assert!(unframe_buffer(&[1, 2]).is_err());
    }

    #[test]
    fn pjw_hash_sign_extends_like_the_firmware() {
        assert_eq!(pjw_hash(b""), 0);
        assert_eq!(pjw_hash(b"a"), 0x61);
        // values from an independent Python transcription of spec §8.5
        assert_eq!(pjw_hash(&[0xff; 8]), 0x10ef);
        assert_eq!(pjw_hash(b"hello world"), 0x1c_a515);
        let ramp: Vec<u8> = (0..4).flat_map(|_| 0..=255u8).collect();
        assert_eq!(pjw_hash(&ramp), 0x1b_e955);
    }
}
