//! Fuzz check: `POST /iclock/devicecmd` bodies (push.md 2.8 formats 1-5; `Content=` may be
//! binary). Invariants: no panic; every ack the parser returns has an `ID`.

use ironclock::push::parse_devicecmd_body;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [_selector, body @ ..] = data else { return };
    let parsed = parse_devicecmd_body(body);
    assert!(parsed.acks.iter().all(|ack| !ack.id.is_empty()), "ack without an ID");
}
