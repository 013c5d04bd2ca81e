//! Fuzz check: the att handshake on arbitrary input. The handshake query string
//! (`DeviceQuery`, the getrequest `INFO=` piggy-back), a handshake block as a device reads it,
//! the `table=options` body, and the block rendered with the input as serial and stamp.
//! Invariants: no panic; a hostile serial or stamp never adds or removes an option line.

use ironclock::push::handshake::{parse_handshake_block, render_att_handshake, HandshakeConfig};
use ironclock::push::records::parse_options;
use ironclock::push::text::decode_body;
use ironclock::push::{parse_poll_info, DeviceQuery};

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let query = DeviceQuery::parse(&text);
    if let Some(info) = query.info.as_deref() {
        drop(parse_poll_info(info));
    }
    drop(parse_poll_info(&text));
    drop(parse_handshake_block(&text));
    drop(parse_options(&text));
    let mut cfg = HandshakeConfig::recommended(&text, "0".into());
    cfg.stamps.operlog = Some(text.clone());
    let block = parse_handshake_block(&render_att_handshake(&cfg));
    assert_eq!(block.options.len(), 18, "serial/stamp changed the option lines");
}
