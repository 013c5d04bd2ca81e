//! Fuzz target: `POST /iclock/devicecmd` bodies (push.md 2.8 formats 1-5; `Content=` may be
//! binary). Invariants: no panic; every ack the parser returns has an `ID`.
#![no_main]

use ironclock::push::parse_devicecmd_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [_selector, body @ ..] = data else { return };
    let parsed = parse_devicecmd_body(body);
    assert!(parsed.acks.iter().all(|ack| !ack.id.is_empty()), "ack without an ID");
});
