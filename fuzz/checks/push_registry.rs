//! Fuzz check: the acc registration exchange. The `POST /iclock/registry` body (comma
//! separated capabilities, read with the options parser), and the `RegistryCode` and
//! `/iclock/push` replies rendered with the input as code and session. Invariants: no panic;
//! parsed keys are never empty; a hostile code or session never adds a line to the replies.

use ironclock::push::records::parse_options;
use ironclock::push::registry::{registry_code_reply, render_acc_push_config, AccPushConfig};
use ironclock::push::text::decode_body;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [selector, body @ ..] = data else { return };
    let text = decode_body(body, (selector & 1 == 1).then_some("83"));
    let pairs = parse_options(&text);
    assert!(pairs.iter().all(|(k, _)| !k.is_empty()), "empty key");
    let code = registry_code_reply(&text);
    assert!(!code.contains(['\r', '\n']), "line break in the RegistryCode reply");
    let baseline = render_acc_push_config(&AccPushConfig::new(Some("c"), "s")).lines().count();
    let config = render_acc_push_config(&AccPushConfig::new(Some(&text), &text));
    assert_eq!(config.lines().count(), baseline, "code/session added a config line");
}
