//! A simulated pull-mode (port 4370) device, as a library ([`SimDevice`]) for in-process tests
//! and as `ironclock sim pull` for oracles, benchmarks and demos. It speaks TCP and UDP on one
//! port, can require a comm key, holds users, templates, faces, photos and attendance, pushes
//! live events for injected punches, and injects faults on request.

#![warn(missing_docs)]

mod cmd_info;
mod cmd_media;
mod cmd_tables;
mod cmd_users;
mod config;
mod data;
mod device;
mod net;
mod reply;
mod server;
mod session;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

pub use config::{Faults, SimConfig};
pub use data::{face_records, jpeg, template_bytes, Seed};
pub use net::StatsSnapshot;
pub use server::SimDevice;

use crate::pull::wire::attendance::AttendanceFormat;
use crate::pull::wire::user::UserRecordSize;

/// Arguments of `ironclock sim pull`.
#[derive(clap::Args, Debug)]
pub struct SimPullArgs {
    /// Address to listen on (TCP and UDP, same port).
    #[arg(long, default_value = "127.0.0.1:4370")]
    pub listen: SocketAddr,
    /// Users to hold: a count (`3000`), a range of user ids (`1-50`) or a list (`7,9,12`).
    #[arg(long, default_value = "1-10")]
    pub users: String,
    /// Fingerprint templates per user.
    #[arg(long, default_value_t = 2)]
    pub fingers_per_user: u8,
    /// Give every user 15 ZKFace 7 face records.
    #[arg(long)]
    pub faces: bool,
    /// Give every user a photo.
    #[arg(long)]
    pub photos: bool,
    /// Attendance records to hold.
    #[arg(long, default_value_t = 100)]
    pub records: usize,
    /// `~ZKFPVersion` (9: short templates, 10: ~1–1.6 KB).
    #[arg(long, default_value_t = 10)]
    pub fp_version: u8,
    /// `ZKFaceVersion`; 0 = a device without face support.
    #[arg(long, default_value_t = 7)]
    pub face_version: u8,
    /// Comm key (0 = none).
    #[arg(long, default_value_t = 0)]
    pub commkey: u32,
    /// Serial number.
    #[arg(long, default_value = "IRONCLOCK-SIM-0001")]
    pub serial: String,
    /// User record size of the firmware family: 72 (TFT) or 28 (old B/W).
    #[arg(long, default_value_t = 72, value_parser = clap::value_parser!(u8).range(28..=72))]
    pub user_record: u8,
    /// Attendance record size of the firmware family: 40 (TFT), 49 (SpeedFace), 16 or 8 (old).
    #[arg(long, default_value_t = 40, value_parser = clap::builder::TypedValueParser::map(clap::builder::PossibleValuesParser::new(["8", "16", "40", "49"]), |s| s.parse::<u8>().unwrap_or(40)))]
    pub attendance_record: u8,
    /// `~Platform`.
    #[arg(long, default_value = "ZMM220_TFT")]
    pub platform: String,
    /// While a client listens for live events, punch for the next user every SECONDS.
    #[arg(long, value_name = "SECONDS")]
    pub punch_every: Option<f64>,
    /// Concurrent sessions allowed (0 = unlimited); more CONNECTs are answered as busy.
    #[arg(long, default_value_t = 0)]
    pub max_sessions: usize,
    /// Answer only on UDP (TCP refused), like the oldest firmware.
    #[arg(long)]
    pub udp_only: bool,
    /// Firmware without buffered reads (CMD_QUERY_DATA): tables only through legacy commands.
    #[arg(long)]
    pub no_buffered_reads: bool,
    /// Fault: drop the reply to every Nth request of a session.
    #[arg(long, default_value_t = 0)]
    pub fault_drop_every: u32,
    /// Fault: delay every reply by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub fault_slow_ms: u64,
    /// Fault: refuse every comm key.
    #[arg(long)]
    pub fault_reject_auth: bool,
    /// Fault: answer every CONNECT as a busy device.
    #[arg(long)]
    pub fault_busy: bool,
    /// Simulate this many devices, on consecutive ports from the `--listen` port, each with the
    /// same data and the serial `<serial>-<n>` (load tests of the pull service).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=2000))]
    pub count: u16,
}

impl SimPullArgs {
    /// The device configuration these flags describe.
    pub fn config(&self) -> SimConfig {
        // --user-record accepts 28 or 72; anything else in range is read as 72
        SimConfig {
            serial: self.serial.clone(),
            platform: self.platform.clone(),
            comm_key: self.commkey,
            user_record: if self.user_record == 28 { UserRecordSize::Short28 } else { UserRecordSize::Long72 },
            attendance_format: match self.attendance_record {
                8 => AttendanceFormat::Short8,
                16 => AttendanceFormat::Extended16,
                49 => AttendanceFormat::Long49,
                _ => AttendanceFormat::Long40,
            },
            fp_version: self.fp_version,
            face_version: (self.face_version != 0).then_some(self.face_version),
            pin_width: if self.user_record == 28 { 9 } else { 24 },
            punch_every: self.punch_every.filter(|s| *s > 0.0).map(Duration::from_secs_f64),
            max_sessions: self.max_sessions,
            udp_only: self.udp_only,
            buffered_reads: !self.no_buffered_reads,
            faults: Faults {
                drop_every: self.fault_drop_every,
                slow_reply: Duration::from_millis(self.fault_slow_ms),
                reject_auth: self.fault_reject_auth,
                busy: self.fault_busy,
                cut_at_request: 0,
            },
            ..SimConfig::default()
        }
    }

    /// The seed data these flags describe.
    pub fn seed(&self) -> anyhow::Result<Seed> {
        Ok(Seed {
            user_ids: parse_user_ids(&self.users)?,
            fingers_per_user: self.fingers_per_user,
            faces: self.faces,
            photos: self.photos,
            records: self.records,
        })
    }
}

/// Parses `--users`: `N` (ids 1..=N), `A-B`, or a comma-separated list of ids.
pub fn parse_user_ids(spec: &str) -> anyhow::Result<Vec<u32>> {
    let spec = spec.trim();
    if let Some((a, b)) = spec.split_once('-') {
        let (a, b): (u32, u32) = (a.trim().parse()?, b.trim().parse()?);
        anyhow::ensure!(a >= 1 && a <= b && b - a < 65_534, "bad user range {spec:?}");
        return Ok((a..=b).collect());
    }
    if spec.contains(',') {
        return spec.split(',').map(|s| s.trim().parse::<u32>().context("bad user id")).collect();
    }
    let n: u32 = spec.parse().with_context(|| format!("--users {spec:?}: expected N, A-B or a list"))?;
    anyhow::ensure!(n < 65_535, "at most 65534 users");
    Ok((1..=n).collect())
}

/// Runs the simulator until Ctrl-C / SIGTERM, then prints its traffic counters to stderr.
pub async fn run(args: SimPullArgs) -> anyhow::Result<()> {
    let seed = args.seed()?;
    let mut sims = Vec::with_capacity(usize::from(args.count));
    for n in 0..args.count {
        let mut listen = args.listen;
        let mut config = args.config();
        if args.count > 1 {
            listen.set_port(args.listen.port().checked_add(n).context("--count runs past port 65535")?);
            config.serial = format!("{}-{:04}", args.serial, n + 1);
        }
        let sim =
            SimDevice::start(listen, config, &seed).await.with_context(|| format!("binding {listen} (TCP and UDP)"))?;
        sims.push(sim);
    }
    eprintln!(
        "ironclock sim pull: {} device(s) listening from {} (tcp+udp), {} users, {} records{}",
        sims.len(),
        sims[0].addr(),
        seed.user_ids.len(),
        seed.records,
        if args.commkey != 0 { ", comm key set" } else { "" }
    );
    crate::shutdown::signal().await;
    for sim in sims {
        eprintln!("ironclock sim pull: {} stats {}", sim.addr(), serde_json::to_string(&sim.stats())?);
        sim.stop().await;
    }
    Ok(())
}
