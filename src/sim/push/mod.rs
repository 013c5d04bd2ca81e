//! Simulated push (ADMS) devices: `ironclock sim push` and a library for tests and benchmarks.
//!
//! Each device behaves like real firmware where it matters for reliability and load: it
//! handshakes, keeps every punch in a local buffer until the server answers 200 `OK…`, re-sends
//! after a failure (connection refused, timeout, 5xx, 403) once the option block's
//! `ErrorDelay` has passed, polls for commands with jitter and acknowledges them. By default it
//! sends `Connection: close` and opens a connection per request, as much firmware does
//! (push.md 2.2); it uploads punches in real time, 1–3 lines per request, and a backlog (after
//! an outage or a slow server) in bursts of up to `--batch-lines`.

pub mod acc;
pub mod acc_firmware;
pub mod client;
mod device;
pub mod firmware;
mod latency;
mod punches;
mod schedule;

use std::time::Duration;

use serde::Serialize;

pub use acc::SimAccDevice;
pub use client::SimPushDevice;
pub use device::{run_device, DeviceReport};
pub use firmware::Faults;
pub use latency::Latencies;
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
    /// Most punches per ATTLOG upload when sending a backlog (after an outage or a slow server).
    #[arg(long, default_value_t = 100)]
    pub batch_lines: usize,
    /// Most punches per ATTLOG upload in real time (while the device keeps up: 1–3 lines).
    #[arg(long, default_value_t = 3)]
    pub realtime_lines: usize,
    /// Milliseconds between command polls (`GET /iclock/getrequest`).
    #[arg(long, default_value_t = 5000)]
    pub poll_interval_ms: u64,
    /// Each poll interval varies by up to this many percent either way; the first poll falls
    /// anywhere within one interval.
    #[arg(long, default_value_t = 20)]
    pub poll_jitter_pct: u32,
    /// Each device boots (its handshake, its first request) at a random instant within this many
    /// milliseconds of the start; default: one poll interval, like a fleet switched on over a
    /// few seconds. 0: every device at the same instant (a storm no real fleet makes).
    #[arg(long)]
    pub boot_spread_ms: Option<u64>,
    /// Polls carry no `INFO=` counters. By default each att poll carries them, as most firmware
    /// does; the record count in them changes with every punch.
    #[arg(long)]
    pub no_poll_info: bool,
    /// `close` (one connection per request with `Connection: close`, as firmware often does)
    /// or `keep-alive` (one pooled connection per device).
    #[arg(long, value_enum, default_value_t = ConnectionMode::Close)]
    pub connection: ConnectionMode,
    /// Milliseconds to wait after a failed request; default: the `ErrorDelay` of the server's
    /// option block (30 s from ironclock), as firmware does.
    #[arg(long)]
    pub error_delay_ms: Option<u64>,
    /// Seconds after the start when every device loses the network (0 with `--outage-secs 0`:
    /// no outage). Devices keep taking punches and send the backlog when it ends.
    #[arg(long, default_value_t = 0)]
    pub outage_at_secs: u64,
    /// Length of that outage in seconds (0 = none).
    #[arg(long, default_value_t = 0)]
    pub outage_secs: u64,
    /// Seconds to keep re-sending buffered punches after generation stops.
    #[arg(long, default_value_t = 120)]
    pub drain_timeout_secs: u64,
    /// Run number mixed into PINs so reruns against one database do not collide.
    #[arg(long, default_value_t = 0)]
    pub run: u32,
    /// `att` (T&A PUSH: handshake, ATTLOG, USERINFO commands) or `acc` (Access Control PUSH:
    /// registry, rtlog, acc commands and DATA QUERY answers on querydata).
    #[arg(long, value_enum, default_value_t = SimDialect::Att)]
    pub dialect: SimDialect,
}

/// Which push dialect the simulated devices speak.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimDialect {
    #[default]
    Att,
    Acc,
}

/// How a simulated device uses TCP connections.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionMode {
    /// A new connection per request, `Connection: close` (firmware's usual way).
    #[default]
    Close,
    /// Connections kept open and reused.
    KeepAlive,
}

impl SimPushArgs {
    /// The defaults of `ironclock sim push --server <server>`.
    pub fn new(server: &str) -> Self {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: SimPushArgs,
        }
        Wrapper::parse_from(["sim", "--server", server]).args
    }

    pub fn serial(&self, index: usize) -> String {
        format!("{}{:05}", self.serial_prefix, self.first_device + index)
    }
}

/// What a simulator run did, printed as one JSON line by the CLI. `polls` counts answered
/// polls (`poll_errors` the failed ones); latencies are of completed requests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimReport {
    pub devices: usize,
    pub connection: ConnectionMode,
    pub generated: u64,
    pub acknowledged: u64,
    pub still_buffered: u64,
    pub uploads: u64,
    pub failed_uploads: u64,
    pub polls: u64,
    pub poll_errors: u64,
    pub commands_acked: u64,
    pub poll_p50_ms: f64,
    pub poll_p99_ms: f64,
    pub upload_p50_ms: f64,
    pub upload_p99_ms: f64,
}

/// The HTTP client every simulated device shares: with `close`, no connection is pooled and
/// every request says `Connection: close`.
fn client(args: &SimPushArgs) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder().timeout(Duration::from_secs(30)).user_agent("iClock Proxy/1.09");
    match args.connection {
        ConnectionMode::Close => {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::CONNECTION, reqwest::header::HeaderValue::from_static("close"));
            builder.pool_max_idle_per_host(0).default_headers(headers).build()
        }
        ConnectionMode::KeepAlive => builder.pool_max_idle_per_host(args.devices.max(1)).build(),
    }
}

/// Runs all devices to completion and sums their reports.
pub async fn run_all(args: SimPushArgs) -> anyhow::Result<SimReport> {
    let client = client(&args)?;
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..args.devices {
        tasks.spawn(run_device(client.clone(), args.clone(), index));
    }
    let mut report = SimReport { devices: args.devices, connection: args.connection, ..Default::default() };
    let (mut poll_times, mut upload_times) = (Latencies::default(), Latencies::default());
    while let Some(done) = tasks.join_next().await {
        let d = done?;
        report.generated += d.generated;
        report.acknowledged += d.acknowledged;
        report.still_buffered += d.still_buffered;
        report.uploads += d.uploads;
        report.failed_uploads += d.failed_uploads;
        report.polls += d.polls;
        report.poll_errors += d.poll_errors;
        report.commands_acked += d.commands_acked;
        poll_times.merge(d.poll_times);
        upload_times.merge(d.upload_times);
    }
    report.poll_p50_ms = poll_times.percentile_ms(50.0);
    report.poll_p99_ms = poll_times.percentile_ms(99.0);
    report.upload_p50_ms = upload_times.percentile_ms(50.0);
    report.upload_p99_ms = upload_times.percentile_ms(99.0);
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
