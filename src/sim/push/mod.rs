//! Simulated push (ADMS) devices: `ironclock sim push` and a library for tests and benchmarks.
//!
//! Each device behaves like real firmware where it matters for reliability: it handshakes,
//! keeps every punch in a local buffer until the server answers 200 `OK…`, re-sends after a
//! failure (connection refused, timeout, 5xx, 403), polls for commands and acknowledges them.

pub mod client;
mod device;
pub mod firmware;
mod punches;

use std::time::Duration;

use serde::Serialize;

pub use client::SimPushDevice;
pub use device::{run_device, DeviceReport};
pub use firmware::Faults;
pub use punches::PunchGenerator;

/// Arguments of `ironclock sim push`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimPushArgs {
    /// Server base URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    pub server: String,
    /// Number of simulated devices (serials PREFIX00000, PREFIX00001, …).
    #[arg(long, default_value_t = 1)]
    pub devices: usize,
    /// Punches generated per device per minute.
    #[arg(long, default_value_t = 60.0)]
    pub punches_per_minute: f64,
    /// Serial number prefix.
    #[arg(long, default_value = "SIM")]
    pub serial_prefix: String,
    /// Index of the first device (to run several simulators side by side).
    #[arg(long, default_value_t = 0)]
    pub first_device: usize,
    /// Stop generating after this many seconds (then deliver what is buffered).
    #[arg(long, default_value_t = 60)]
    pub duration_secs: u64,
    /// Stop generating after this many punches per device (0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub punches_per_device: u64,
    /// Most punches per ATTLOG upload.
    #[arg(long, default_value_t = 100)]
    pub batch_lines: usize,
    /// Milliseconds between command polls (`GET /iclock/getrequest`).
    #[arg(long, default_value_t = 5000)]
    pub poll_interval_ms: u64,
    /// Seconds to keep re-sending buffered punches after generation stops.
    #[arg(long, default_value_t = 120)]
    pub drain_timeout_secs: u64,
    /// Run number mixed into PINs so reruns against one database do not collide.
    #[arg(long, default_value_t = 0)]
    pub run: u32,
}

impl SimPushArgs {
    pub fn serial(&self, index: usize) -> String {
        format!("{}{:05}", self.serial_prefix, self.first_device + index)
    }
}

/// What a simulator run did, printed as JSON by the CLI.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimReport {
    pub devices: usize,
    pub generated: u64,
    pub acknowledged: u64,
    pub still_buffered: u64,
    pub failed_uploads: u64,
    pub polls: u64,
    pub commands_acked: u64,
}

/// Runs all devices to completion and sums their reports.
pub async fn run_all(args: SimPushArgs) -> anyhow::Result<SimReport> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.devices.min(256))
        .user_agent("iClock Proxy/1.09")
        .build()?;
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..args.devices {
        tasks.spawn(run_device(client.clone(), args.clone(), index));
    }
    let mut report = SimReport { devices: args.devices, ..Default::default() };
    while let Some(done) = tasks.join_next().await {
        let d = done?;
        report.generated += d.generated;
        report.acknowledged += d.acknowledged;
        report.still_buffered += d.still_buffered;
        report.failed_uploads += d.failed_uploads;
        report.polls += d.polls;
        report.commands_acked += d.commands_acked;
    }
    Ok(report)
}

/// `ironclock sim push`: runs the devices and prints the report as JSON on stdout.
pub async fn run(args: SimPushArgs) -> anyhow::Result<()> {
    let report = run_all(args).await?;
    println!("{}", serde_json::to_string(&report)?);
    if report.still_buffered > 0 {
        anyhow::bail!("{} punches were never acknowledged by the server", report.still_buffered);
    }
    Ok(())
}
