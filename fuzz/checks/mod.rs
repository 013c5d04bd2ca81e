//! The fuzz checks: one module per cargo-fuzz target, each `check(data)` running the parser(s)
//! on one input and asserting the target's invariants. Shared by the libFuzzer entries in
//! `fuzz_targets/` and by the corpus replay test (`tests/golden/fuzz_replay.rs`), so CI runs
//! the very same checks.

pub mod pull_frame_splitter;
pub mod pull_record_decoders;
pub mod pull_reply_assembler;
pub mod push_attlog;
pub mod push_devicecmd;
pub mod push_handshake;
pub mod push_operlog;
pub mod push_photo;
pub mod push_querydata;
pub mod push_registry;
pub mod push_rtlog;
pub mod push_tabledata;
