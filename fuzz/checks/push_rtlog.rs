//! Fuzz check: acc `table=rtlog` (real-time events) and `table=rtstate` (door state) bodies;
//! the first byte picks the table and the encoding. Invariants: no panic; no line lost.

use ironclock::push::body_lines;
use ironclock::push::records::{parse_rtlog_body, parse_rtstate_body};
use ironclock::push::text::decode_body;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let parsed =
        if selector & 2 == 0 { parse_rtlog_body(&text).line_count() } else { parse_rtstate_body(&text).line_count() };
    assert_eq!(parsed, body_lines(&text).count());
}
