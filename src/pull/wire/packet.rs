//! A whole packet (header + data) with encode/decode for both transports. Encoding always writes
//! a correct checksum; decoding verifies it (a real device drops bad ones, spec §1.4).

use super::checksum::packet_checksum;
use super::envelope::{encode_prefix, PREFIX_LEN};
use super::error::WireError;
use super::header::{Header, HEADER_LEN};

/// One protocol packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Command or reply code.
    pub command: u16,
    /// Session id slot (may carry data in device replies).
    pub session: u16,
    /// Reply id.
    pub reply: u16,
    /// Everything after the header.
    pub data: Vec<u8>,
}

impl Packet {
    /// A packet with the given fields.
    pub fn new(command: u16, session: u16, reply: u16, data: Vec<u8>) -> Packet {
        Packet { command, session, reply, data }
    }

    /// Length of the encoded packet (header + data), without any TCP prefix.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN + self.data.len()
    }

    /// Appends the bare packet (UDP datagram form) with its checksum to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let header = Header { command: self.command, checksum: 0, session: self.session, reply: self.reply };
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&self.data);
        let sum = packet_checksum(&out[start..]);
        out[start + 2..start + 4].copy_from_slice(&sum.to_le_bytes());
    }

    /// The bare packet (UDP datagram form).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the TCP frame (8-byte envelope + packet) to `out`.
    pub fn encode_tcp_into(&self, out: &mut Vec<u8>) {
        // a packet is at most a few MiB; saturate rather than wrap on absurd sizes
        let len = u32::try_from(self.wire_len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&encode_prefix(len));
        self.encode_into(out);
    }

    /// The TCP frame (8-byte envelope + packet).
    pub fn encode_tcp(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PREFIX_LEN + self.wire_len());
        self.encode_tcp_into(&mut out);
        out
    }

    /// Decodes a bare packet and verifies its checksum.
    pub fn decode(bytes: &[u8]) -> Result<Packet, WireError> {
        let header = Header::parse(bytes)?;
        let expected = packet_checksum(bytes);
        if expected != header.checksum {
            return Err(WireError::BadChecksum { expected, found: header.checksum });
        }
        Ok(Packet::from_parts(header, &bytes[HEADER_LEN..]))
    }

    /// Decodes a bare packet without checking the checksum (for diagnostics and captures that
    /// were edited by hand).
    pub fn decode_unchecked(bytes: &[u8]) -> Result<Packet, WireError> {
        let header = Header::parse(bytes)?;
        Ok(Packet::from_parts(header, &bytes[HEADER_LEN..]))
    }

    fn from_parts(header: Header, data: &[u8]) -> Packet {
        Packet { command: header.command, session: header.session, reply: header.reply, data: data.to_vec() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_encodes_to_the_captured_tcp_frame() {
        // pyzk test_tcp_connect: 5050827d08000000e80317fc00000000
        let p = Packet::new(1000, 0, 0, vec![]);
        assert_eq!(p.encode_tcp(), [0x50, 0x50, 0x82, 0x7d, 8, 0, 0, 0, 0xe8, 0x03, 0x17, 0xfc, 0, 0, 0, 0]);
    }

    #[test]
    fn decode_rejects_a_packet_with_one_bit_flipped() {
        let mut bytes = Packet::new(11, 0x8df3, 3, b"ZKFaceVersion\0".to_vec()).encode();
        assert_eq!(Packet::decode(&bytes).unwrap().data, b"ZKFaceVersion\0");
        bytes[9] ^= 1;
        assert!(matches!(Packet::decode(&bytes), Err(WireError::BadChecksum { .. })));
        assert!(Packet::decode_unchecked(&bytes).is_ok());
    }
}
