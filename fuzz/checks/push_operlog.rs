//! Fuzz check: every OPERLOG record kind (OPLOG, USER, FP, FACE, FVEIN, USERPIC, BIOPHOTO,
//! BIODATA, ERRORLOG, IDCARD in one body) and the `table=BIODATA` / `table=USERINFO` bodies;
//! the first byte picks the parser and the encoding. Invariants: no panic; no line lost.

use ironclock::push::body_lines;
use ironclock::push::records::{parse_biodata_body, parse_operlog_body, parse_userinfo_body};
use ironclock::push::text::decode_body;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let lines = body_lines(&text).count();
    let parsed = match (selector >> 1) % 3 {
        0 => parse_operlog_body(&text).line_count(),
        1 => parse_biodata_body(&text).line_count(),
        _ => parse_userinfo_body(&text).line_count(),
    };
    assert_eq!(parsed, lines);
}
