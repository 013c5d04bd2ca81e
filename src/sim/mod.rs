//! Simulated devices for tests, benchmarks and demos.

pub mod pull;
pub mod push;
