//! Sans-IO client session state (spec §1.5, §4.3): the reply-id counter (wrapping 65535 → 0)
//! and the assembler that turns the packets arriving after one request into one response —
//! an inline reply, or a PREPARE_DATA / CMD_DATA… / ACK_OK stream — while setting aside pushed
//! events and stale replies to earlier requests.

use super::error::{Error, Result};
use super::wire::buffer::decode_prepare;
use super::wire::command::{DATA, PREPARE_DATA, REG_EVENT};
use super::wire::reply::{classify, ReplyKind};
use super::wire::Packet;

/// Reply ids of a session: CONNECT uses 0, then 1, 2, … 65535, 0, 1, … (the firmware drops a
/// lower id unless the previous was 65535; pyzk's 65534 → 0 would be dropped).
#[derive(Debug, Clone, Default)]
pub struct ReplyIds {
    last: u16,
}

impl ReplyIds {
    /// The id for the next request.
    pub fn advance(&mut self) -> u16 {
        self.last = self.last.wrapping_add(1);
        self.last
    }

    /// The id of the last request (for a same-id retransmit).
    pub fn current(&self) -> u16 {
        self.last
    }
}

/// A complete answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Reply code of the final packet (ACK_OK after a stream; CMD_DATA for an inline table).
    pub code: u16,
    /// Session slot of the final packet (carries data on some replies).
    pub session: u16,
    /// The data: inline payload, or the concatenated stream.
    pub data: Vec<u8>,
    /// Whether the data came as a stream.
    pub streamed: bool,
}

/// What one incoming packet meant.
#[derive(Debug, PartialEq, Eq)]
pub enum Feed {
    /// The response is complete.
    Done(Response),
    /// More packets belong to this response.
    Pending,
    /// A pushed event (command 500): acknowledge it and queue it.
    Event(Packet),
    /// A late reply to an earlier request: ignore it.
    Stale,
}

#[derive(Debug)]
enum State {
    Waiting,
    Streaming { expected: usize, data: Vec<u8> },
}

/// Collects the packets answering the request with reply id `reply`.
#[derive(Debug)]
pub struct ReplyAssembler {
    reply: u16,
    state: State,
    max_stream: usize,
}

impl ReplyAssembler {
    /// An assembler for the request with reply id `reply`; streams longer than `max_stream`
    /// bytes are refused (a corrupt size must not allocate gigabytes).
    pub fn new(reply: u16, max_stream: usize) -> ReplyAssembler {
        ReplyAssembler { reply, state: State::Waiting, max_stream }
    }

    /// Bytes of a stream received so far (for progress).
    pub fn received(&self) -> usize {
        match &self.state {
            State::Waiting => 0,
            State::Streaming { data, .. } => data.len(),
        }
    }

    /// Feeds one packet.
    pub fn feed(&mut self, p: Packet) -> Result<Feed> {
        if p.command == REG_EVENT {
            return Ok(Feed::Event(p));
        }
        if p.reply != self.reply {
            return Ok(Feed::Stale);
        }
        match &mut self.state {
            State::Waiting => match p.command {
                PREPARE_DATA => {
                    let expected = decode_prepare(&p.data)? as usize;
                    if expected > self.max_stream {
                        return Err(Error::Protocol(format!("stream of {expected} bytes exceeds the limit")));
                    }
                    self.state = State::Streaming { expected, data: Vec::with_capacity(expected) };
                    // a zero-byte stream still ends with ACK_OK
                    Ok(Feed::Pending)
                }
                _ => Ok(Feed::Done(Response { code: p.command, session: p.session, data: p.data, streamed: false })),
            },
            State::Streaming { expected, data } => match (p.command, classify(p.command)) {
                (DATA, _) => {
                    if data.len() + p.data.len() > *expected {
                        return Err(Error::Protocol(format!(
                            "stream overflow: {} + {} bytes, {} announced",
                            data.len(),
                            p.data.len(),
                            expected
                        )));
                    }
                    data.extend_from_slice(&p.data);
                    if data.len() == *expected && *expected > 0 {
                        // complete: the trailing ACK_OK (same reply id) will read as stale
                        let data = std::mem::take(data);
                        return Ok(Feed::Done(Response { code: p.command, session: 0, data, streamed: true }));
                    }
                    Ok(Feed::Pending)
                }
                (_, ReplyKind::Ok) if data.len() == *expected => {
                    let data = std::mem::take(data);
                    Ok(Feed::Done(Response { code: p.command, session: p.session, data, streamed: true }))
                }
                (code, _) => Err(Error::Protocol(format!(
                    "stream ended by code {code} after {} of {} bytes",
                    data.len(),
                    expected
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::reply::{ACK_ERROR, ACK_OK};

    fn pkt(command: u16, session: u16, reply: u16, data: &[u8]) -> Packet {
        Packet::new(command, session, reply, data.to_vec())
    }

    #[test]
    fn reply_ids_wrap_from_65535_to_zero() {
        let mut ids = ReplyIds { last: 65_534 };
        assert_eq!(ids.advance(), 65_535);
        assert_eq!(ids.advance(), 0);
        assert_eq!(ids.advance(), 1);
    }

    #[test]
    fn inline_reply_completes_at_once() {
        let mut a = ReplyAssembler::new(7, 1 << 20);
        let done = a.feed(pkt(ACK_OK, 0x1234, 7, b"x")).unwrap();
        assert_eq!(done, Feed::Done(Response { code: ACK_OK, session: 0x1234, data: b"x".to_vec(), streamed: false }));
    }

    #[test]
    fn stream_of_three_frames_is_concatenated() {
        let mut a = ReplyAssembler::new(9, 1 << 20);
        let mut prepare = 6u32.to_le_bytes().to_vec();
        prepare.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(a.feed(pkt(PREPARE_DATA, 1, 9, &prepare)).unwrap(), Feed::Pending);
        assert_eq!(a.feed(pkt(DATA, 0, 9, b"ab")).unwrap(), Feed::Pending);
        assert_eq!(a.feed(pkt(DATA, 1, 9, b"cd")).unwrap(), Feed::Pending);
        let Feed::Done(r) = a.feed(pkt(DATA, 2, 9, b"ef")).unwrap() else { panic!() };
        assert_eq!(r.data, b"abcdef");
        assert!(r.streamed);
    }

    #[test]
    fn empty_stream_ends_with_its_ack() {
        let mut a = ReplyAssembler::new(3, 1 << 20);
        a.feed(pkt(PREPARE_DATA, 1, 3, &[0, 0, 0, 0])).unwrap();
        assert!(matches!(a.feed(pkt(ACK_OK, 1, 3, &[])).unwrap(), Feed::Done(r) if r.data.is_empty()));
    }

    #[test]
    fn events_and_stale_replies_are_set_aside() {
        let mut a = ReplyAssembler::new(5, 1 << 20);
        assert!(matches!(a.feed(pkt(REG_EVENT, 1, 0, &[1])).unwrap(), Feed::Event(_)));
        assert_eq!(a.feed(pkt(ACK_OK, 1, 4, &[])).unwrap(), Feed::Stale);
        assert!(matches!(a.feed(pkt(ACK_OK, 1, 5, &[])).unwrap(), Feed::Done(_)));
    }

    #[test]
    fn a_stream_cut_short_or_overflowing_is_a_protocol_error() {
        let mut a = ReplyAssembler::new(1, 1 << 20);
        a.feed(pkt(PREPARE_DATA, 1, 1, &[4, 0, 0, 0])).unwrap();
        a.feed(pkt(DATA, 0, 1, b"ab")).unwrap();
        assert!(matches!(a.feed(pkt(ACK_OK, 1, 1, &[])), Err(Error::Protocol(_))));
        let mut b = ReplyAssembler::new(1, 1 << 20);
        b.feed(pkt(PREPARE_DATA, 1, 1, &[2, 0, 0, 0])).unwrap();
        assert!(matches!(b.feed(pkt(DATA, 0, 1, b"abc")), Err(Error::Protocol(_))));
        let mut c = ReplyAssembler::new(1, 1 << 20);
        c.feed(pkt(PREPARE_DATA, 1, 1, &[4, 0, 0, 0])).unwrap();
        assert!(matches!(c.feed(pkt(ACK_ERROR, 1, 1, &[])), Err(Error::Protocol(_))));
    }

    #[test]
    fn an_absurd_stream_size_is_refused_before_allocating() {
        let mut a = ReplyAssembler::new(1, 1024);
        assert!(matches!(a.feed(pkt(PREPARE_DATA, 1, 1, &[0xff, 0xff, 0xff, 0x7f])), Err(Error::Protocol(_))));
    }
}
