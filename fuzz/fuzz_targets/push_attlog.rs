//! libFuzzer entry for [`ironclock_fuzz::push_attlog`] (the check and its invariants live there,
//! shared with the corpus replay test `tests/golden/fuzz_replay.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ironclock_fuzz::push_attlog::check(data));
