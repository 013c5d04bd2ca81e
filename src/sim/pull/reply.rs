//! Reply shapes of the simulated device: plain acknowledgements, errors with a detail code in
//! the session slot, and data streams (PREPARE_DATA, CMD_DATA frames, ACK_OK) cut per transport.

use crate::pull::wire::buffer::encode_prepare;
use crate::pull::wire::command::{DATA, PREPARE_DATA};
use crate::pull::wire::reply::{ACK_ERROR, ACK_OK};
use crate::pull::wire::Packet;

/// Which socket a request came in on: it decides frame sizes and inline thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A TCP connection.
    Tcp,
    /// UDP datagrams.
    Udp,
}

/// Largest CMD_DATA payload per UDP datagram (firmware `psize` on non-TCP).
pub const UDP_FRAME_MAX: usize = 1024;

/// The request being answered and the session it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Req<'a> {
    /// The request packet.
    pub packet: &'a Packet,
    /// The session id of the sender.
    pub session: u16,
    /// The transport it arrived on.
    pub transport: Transport,
    /// Largest CMD_DATA payload on this transport.
    pub frame_max: usize,
}

impl Req<'_> {
    /// CMD_ACK_OK without data.
    pub fn ok(&self) -> Vec<Packet> {
        self.ok_with(Vec::new())
    }

    /// CMD_ACK_OK with data.
    pub fn ok_with(&self, data: Vec<u8>) -> Vec<Packet> {
        vec![Packet::new(ACK_OK, self.session, self.packet.reply, data)]
    }

    /// CMD_ACK_ERROR with `detail` in the session slot (1 write error, 2 not found, …).
    pub fn error(&self, detail: u16) -> Vec<Packet> {
        vec![Packet::new(ACK_ERROR, detail, self.packet.reply, Vec::new())]
    }

    /// Any reply code without data.
    pub fn code(&self, code: u16) -> Vec<Packet> {
        vec![Packet::new(code, self.session, self.packet.reply, Vec::new())]
    }

    /// `payload` as a stream: PREPARE_DATA `<I size><I frame_max>`, CMD_DATA frames of at most
    /// `frame_max` bytes (session slot = frame index), ACK_OK. On TCP a payload up to the frame
    /// limit goes in exactly one DATA frame: pyzk and fpmachine both need that (oracle README).
    pub fn stream(&self, payload: &[u8]) -> Vec<Packet> {
        let reply = self.packet.reply;
        let frame_max = self.frame_max.max(1);
        let mut out = Vec::with_capacity(2 + payload.len() / frame_max + 1);
        out.push(Packet::new(
            PREPARE_DATA,
            self.session,
            reply,
            encode_prepare(payload.len() as u32, Some(frame_max as u32)),
        ));
        for (index, chunk) in payload.chunks(frame_max).enumerate() {
            out.push(Packet::new(DATA, index as u16, reply, chunk.to_vec()));
        }
        out.push(Packet::new(ACK_OK, self.session, reply, Vec::new()));
        out
    }

    /// A whole buffer in one CMD_DATA reply (the small-table answer to CMD_QUERY_DATA).
    pub fn inline_data(&self, payload: Vec<u8>) -> Vec<Packet> {
        vec![Packet::new(DATA, self.session, self.packet.reply, payload)]
    }
}

/// The u32 LE at the start of `data` (0 when shorter than 4 bytes).
pub fn u32_le(data: &[u8]) -> u32 {
    match data {
        [a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}
