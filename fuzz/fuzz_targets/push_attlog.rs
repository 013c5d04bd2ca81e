//! Fuzz target: `table=ATTLOG` bodies, UTF-8 or GB2312 by the first byte. Invariants: no
//! panic; every non-blank line is either a record or a rejected line (none lost).
#![no_main]

use ironclock::push::records::parse_attlog_body;
use ironclock::push::text::decode_body;
use ironclock::push::body_lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let parsed = parse_attlog_body(&text);
    assert_eq!(parsed.line_count(), body_lines(&text).count());
});
