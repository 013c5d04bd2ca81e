//! `ironclock pull ADDR …`: the first thing an installer runs to see a device. Every command
//! opens one session (TCP, falling back to UDP; or forced), prints a table or `--json` on stdout,
//! shows a progress bar on stderr for long transfers when stderr is a terminal, and always ends
//! the session with CMD_EXIT.

mod commands;
mod progress;
mod render;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

use super::client::{Client, ConnectOptions, TransportMode};

/// Arguments of `ironclock pull`.
#[derive(clap::Args, Debug)]
pub struct PullArgs {
    /// Device address, `HOST[:PORT]` (port 4370 by default). `ironclock pull sync ADDR ADDR …`
    /// takes its addresses after `sync` instead.
    #[arg(default_value = "")]
    pub addr: String,
    /// What to do.
    #[command(subcommand)]
    pub command: PullCommand,
    /// Comm key (device menu "Comm Key"); 0 = none.
    #[arg(long, global = true, default_value_t = 0, env = "IRONCLOCK_PULL_COMMKEY", hide_env_values = true)]
    pub commkey: u32,
    /// Use UDP only (old devices answer only UDP).
    #[arg(long, global = true, conflicts_with = "tcp")]
    pub udp: bool,
    /// Use TCP only (default: TCP, falling back to UDP).
    #[arg(long, global = true)]
    pub tcp: bool,
    /// Print JSON on stdout instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for each reply.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub timeout: f64,
    /// Print wire statistics (bytes on the wire vs payload) on stderr at the end.
    #[arg(long, global = true)]
    pub stats: bool,
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The commands of `ironclock pull`.
#[derive(clap::Subcommand, Debug)]
pub enum PullCommand {
    /// Firmware, serial, platform, capabilities, counters and clock.
    Info,
    /// All users.
    Users,
    /// All attendance records.
    Logs,
    /// All fingerprint templates (base64 in JSON).
    Templates,
    /// Face records of users (all users with faces, or the given user ids).
    Faces {
        /// User ids (default: every user).
        user_ids: Vec<String>,
    },
    /// User photos (all users, or the given user ids); `--out DIR` saves them as `<user_id>.jpg`.
    Photos {
        /// User ids (default: every user).
        user_ids: Vec<String>,
        /// Directory to save the JPEGs in.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Users, templates and attendance in one session (what a sync reads).
    Dump,
    /// Print live events (punches, enrolments) until interrupted or `--seconds` pass.
    Live {
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// The device clock.
    Time,
    /// Set the device clock to `now` (this host's local time) or `YYYY-MM-DD HH:MM:SS`.
    SetTime {
        /// `now` or a local time.
        #[arg(default_value = "now")]
        time: String,
    },
    /// Create or update a user by user id (a new user gets a uid free on this device).
    SetUser {
        /// The person's number.
        user_id: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Card number.
        #[arg(long, default_value_t = 0)]
        card: u32,
        /// Password.
        #[arg(long, default_value = "")]
        password: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Delete a user (and their templates and faces) by user id.
    DeleteUser {
        /// The person's number.
        user_id: String,
    },
    /// Delete every attendance record on the device.
    ClearLogs {
        /// Required: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Area sync without a server: every device ends with the union of users, fingerprints,
    /// faces and photos (`ironclock pull sync ADDR ADDR …`); prints the result as JSON.
    Sync {
        /// Device addresses, `HOST[:PORT]`.
        addrs: Vec<String>,
        /// Devices read or written at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
    },
}

/// Runs the shell command.
pub async fn run(args: PullArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.addr.is_empty(), "give the device address: ironclock pull HOST[:PORT] <command>");
    let addr = resolve(&args.addr).await?;
    let mut client = Client::connect(options(&args, addr)).await.with_context(|| format!("connecting to {addr}"))?;
    let bar = progress::attach(&mut client, args.quiet);
    let result = commands::execute(&mut client, &args).await;
    bar.finish();
    let stats = (client.wire_stats(), client.payload_bytes(), client.transport_kind());
    // the session ends with EXIT whatever happened above
    let closed = client.close().await;
    if args.stats {
        render::print_stats(stats.0, stats.1, stats.2);
    }
    result?;
    closed.context("closing the session")?;
    Ok(())
}

/// The connection options the flags ask for (comm key, reply timeout, transport).
pub fn options(args: &PullArgs, addr: SocketAddr) -> ConnectOptions {
    let mut opts = ConnectOptions::new(addr);
    opts.comm_key = args.commkey;
    opts.timeout = Duration::from_secs_f64(args.timeout.max(0.05));
    opts.transport = if args.udp {
        TransportMode::Udp
    } else if args.tcp {
        TransportMode::Tcp
    } else {
        TransportMode::Auto
    };
    opts
}

/// Resolves `HOST[:PORT]`, port 4370 by default.
pub async fn resolve(addr: &str) -> anyhow::Result<SocketAddr> {
    let with_port = if addr.parse::<SocketAddr>().is_ok()
        || addr.rsplit_once(':').is_some_and(|(h, p)| !h.contains(':') && p.parse::<u16>().is_ok())
    {
        addr.to_string()
    } else {
        format!("{addr}:4370")
    };
    let mut found = tokio::net::lookup_host(with_port).await.with_context(|| format!("resolving {addr}"))?;
    found.next().with_context(|| format!("{addr} resolves to no address"))
}
