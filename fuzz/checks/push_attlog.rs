//! Fuzz check: `table=ATTLOG` bodies, UTF-8 or GB2312 by the first byte. Invariants: no
//! panic; every non-blank line is either a record or a rejected line (none lost).

use ironclock::push::body_lines;
use ironclock::push::records::parse_attlog_body;
use ironclock::push::text::decode_body;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let parsed = parse_attlog_body(&text);
    assert_eq!(parsed.line_count(), body_lines(&text).count());
}
