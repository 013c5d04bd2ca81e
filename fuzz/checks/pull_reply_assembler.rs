//! Fuzz check: the client's reply assembler fed a sequence of packets cut from arbitrary
//! bytes (the device's side of a conversation). Invariant: no panic, no allocation beyond the
//! stream limit.

use ironclock::pull::session::{Feed, ReplyAssembler};
use ironclock::pull::wire::Packet;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let mut assembler = ReplyAssembler::new(1, 1 << 16);
    for chunk in data.chunks(24) {
        let Ok(packet) = Packet::decode_unchecked(chunk) else { continue };
        match assembler.feed(packet) {
            Ok(Feed::Done(r)) => assert!(r.data.len() <= 1 << 16 || !r.streamed),
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
