//! Fuzz check: `POST /iclock/querydata` (results of an acc `DATA QUERY`): the first line is
//! the query string (`type=tabledata&cmdid=…&tablename=…&count=…&packcnt=…&packidx=…`), the
//! rest a fragment of rows, read as generic table rows and as the user and biodata rows they
//! feed. Invariants: no panic; no line lost.

use ironclock::push::body_lines;
use ironclock::push::records::{parse_biodata_body, parse_tabledata_body, parse_userinfo_body};
use ironclock::push::text::decode_body;
use ironclock::push::DeviceQuery;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let (query, rows) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let query = DeviceQuery::parse(query);
    std::hint::black_box((query.other_value("packcnt"), query.other_value("packidx"), &query.cmd_id, &query.tablename));
    let lines = body_lines(rows).count();
    assert_eq!(parse_tabledata_body(rows).line_count(), lines);
    assert_eq!(parse_userinfo_body(rows).line_count(), lines);
    assert_eq!(parse_biodata_body(rows).line_count(), lines);
}
