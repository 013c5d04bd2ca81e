//! The dashboard in a real headless Chromium: log in, compare the numbers with the API, approve
//! a pending device, run a full sync against a simulated device and watch the bar reach 100 %,
//! retry a failed student, import a CSV with an error row. Screenshots on request
//! (`IRONCLOCK_SCREENSHOTS=docs/screenshots cargo test --test browser`).

#[path = "../support/mod.rs"]
mod support;

mod driver;
mod journeys;
