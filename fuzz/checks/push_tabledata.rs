//! Fuzz check: acc `table=tabledata&tablename=<t>` bodies (user, biodata, biophoto, userpic
//! rows). Invariants: no panic; no line lost; every parsed row has a field.

use ironclock::push::body_lines;
use ironclock::push::records::parse_tabledata_body;
use ironclock::push::text::decode_body;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let parsed = parse_tabledata_body(&text);
    assert_eq!(parsed.line_count(), body_lines(&text).count());
    assert!(parsed.records.iter().all(|row| !row.fields.is_empty()), "row without fields");
}
