//! The pull protocol (`src/pull`), one test binary: the pure wire layer against captured and
//! computed vectors and properties, the async client against the in-process simulator and
//! against captured device replies, our frames against golden third-party frames, the
//! `ironclock pull` binary, and third-party Python clients as independent oracles. Fixtures are
//! in `tests/oracles/pull/`.

mod capture_replay;
mod client;
mod golden;
mod oracles;
mod shell;
mod user_batch;
mod wire_props;
mod wire_vectors;
