//! Command line and environment configuration (the configuration contract of ARCHITECTURE.md).
//!
//! Every flag has an `IRONCLOCK_*` environment twin. Secrets (the JWT secret, the data key,
//! database passwords, the metrics token) are redacted by the hand-written `Debug` impls so that logging a config is safe.

use std::fmt;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// Loopback: a proxy on the same host.
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.0/8,::1/128";

/// `ironclock [serve flags] [SUBCOMMAND]`: with no subcommand the server runs.
#[derive(Parser, Debug)]
#[command(name = "ironclock", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The subcommand to run; the server when none was given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// Parsed once at start and consumed at once, so the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (device endpoints, API, dashboard). The default.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(MigrateArgs),
    /// List, approve or block devices directly in the database.
    Devices(crate::cli::devices::DevicesArgs),
    /// Create admin users (e.g. the first super admin) directly in the database.
    Admin(crate::cli::admin::AdminArgs),
    /// Simulated devices for tests, benchmarks and demos.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Talk to one pull-mode (port 4370) device from the shell.
    Pull(crate::pull::shell::PullArgs),
    /// Run the pull service alone (no web server): sessions with port-4370 devices.
    PullService(PullServiceArgs),
    /// Copy a live SQLite database to a file (PostgreSQL: prints the pg_dump command to use).
    Backup(crate::cli::backup::BackupArgs),
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Simulated push (ADMS) devices that handshake, upload punches, poll and acknowledge.
    Push(crate::sim::push::SimPushArgs),
    /// A simulated pull-mode device listening on TCP and UDP.
    Pull(crate::sim::pull::SimPullArgs),
}

/// Server configuration.
#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "IRONCLOCK_BIND", default_value = "0.0.0.0:8080")]
    pub bind: String,
    /// `sqlite://FILE` (embedded, the default) or `postgres://…`.
    #[arg(long, env = "IRONCLOCK_DATABASE_URL", default_value = "sqlite://ironclock.db")]
    pub database_url: String,
    /// Approve every device that contacts the server (labs and demos only).
    #[arg(long, env = "IRONCLOCK_AUTO_APPROVE_DEVICES")]
    pub auto_approve_devices: bool,
    /// Most devices waiting for approval; first contact from a new serial is refused (403, nothing
    /// stored) while the list is full (0 = no limit).
    #[arg(long, env = "IRONCLOCK_MAX_PENDING_DEVICES", default_value_t = 100)]
    pub max_pending_devices: u32,
    /// HS256 secret for admin JWTs. Unset: a random secret is generated once and kept in the database.
    #[arg(long, env = "IRONCLOCK_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Take the client's address (devices, logins, audit, logs) from `X-Forwarded-For`, only
    /// when the request comes from one of `--trusted-proxies` (anyone can send that header).
    #[arg(long, env = "IRONCLOCK_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// The proxies whose `X-Forwarded-For` is believed when `--trust-forwarded-for` is on:
    /// comma-separated addresses or CIDR blocks. Default: this host (loopback) only.
    #[arg(long, env = "IRONCLOCK_TRUSTED_PROXIES", default_value = DEFAULT_TRUSTED_PROXIES)]
    pub trusted_proxies: String,
    /// Development mode: auto-approve devices, verbose logs.
    #[arg(long, env = "IRONCLOCK_DEV")]
    pub dev: bool,
    /// `pretty` or `json`.
    #[arg(long, env = "IRONCLOCK_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Seconds between device command polls, sent to devices as `Delay`.
    #[arg(long, env = "IRONCLOCK_DEVICE_POLL_DELAY", default_value_t = 5)]
    pub device_poll_delay: u32,
    /// Seconds a delivered command waits for its acknowledgement before it is re-sent
    /// (0 = max(60, 3 × poll delay)).
    #[arg(long, env = "IRONCLOCK_COMMAND_ACK_TIMEOUT", default_value_t = 0)]
    pub command_ack_timeout: u32,
    /// Deliveries of a command without an acknowledgement before it is marked failed.
    #[arg(long, env = "IRONCLOCK_COMMAND_MAX_ATTEMPTS", default_value_t = 3)]
    pub command_max_attempts: u32,
    /// Most commands per poll reply (replies are also capped at 40 KB).
    #[arg(long, env = "IRONCLOCK_COMMAND_BATCH_SIZE", default_value_t = 50)]
    pub command_batch_size: u32,
    /// Timezone (IANA) for devices whose school has none yet.
    #[arg(long, env = "IRONCLOCK_DEFAULT_TIMEZONE", default_value = "UTC")]
    pub default_timezone: String,
    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "IRONCLOCK_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Connections served at once, all workers together; more wait in the kernel's accept queue
    /// (devices retry). Bounds memory under a burst, e.g. every device reconnecting at once
    /// (about 26 KB a connection: ~140 MB at 4096). Below what a burst needs, the accept queue
    /// overflows and devices wait out TCP's SYN retries (2048 did, at 20,000 devices booting).
    #[arg(long, env = "IRONCLOCK_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Connections the kernel completes and queues before the server accepts them (capped by
    /// `net.core.somaxconn`). Firmware reconnects for most requests: a short queue drops SYNs
    /// under a burst and devices wait out TCP's 1/3/7 s retransmissions.
    #[arg(long, env = "IRONCLOCK_LISTEN_BACKLOG", default_value_t = 4096)]
    pub listen_backlog: u32,
    /// Maximum PostgreSQL connections in the pool; 0 = 4 per core, at least 8, at most 64
    /// (SQLite always uses 8: one writer and readers beside it).
    #[arg(long, env = "IRONCLOCK_DB_MAX_CONNECTIONS", default_value_t = 0)]
    pub db_max_connections: u32,
    /// Punch-upload committers (each commits one group of waiting uploads at a time); 0 = one
    /// per core, 2..8, on PostgreSQL, and 1 on SQLite (one writer).
    #[arg(long, env = "IRONCLOCK_PUNCH_COMMITTERS", default_value_t = 0)]
    pub punch_committers: usize,
    /// File holding the key that encrypts biometric data at rest (created on first start).
    #[arg(long, env = "IRONCLOCK_DATA_KEY_FILE", default_value = "ironclock-data.key")]
    pub data_key_file: std::path::PathBuf,
    /// The data key itself (base64 of 32 bytes); overrides the key file.
    #[arg(long, env = "IRONCLOCK_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,
    /// Largest accepted device upload body, in bytes.
    #[arg(long, env = "IRONCLOCK_MAX_UPLOAD_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Lifetime of admin API access tokens (JWT), in seconds.
    #[arg(long, env = "IRONCLOCK_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl: u64,
    /// Lifetime of admin API refresh tokens, in seconds.
    #[arg(long, env = "IRONCLOCK_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl: u64,
    /// When the student-sync verifier runs: cron with seconds (`sec min hour day month weekday`)
    /// or the usual 5 fields; `off` disables it. Default: every 2 hours, on the hour.
    #[arg(long, env = "IRONCLOCK_VERIFY_CRON", default_value = "0 0 */2 * * *")]
    pub verify_cron: String,
    /// Devices seen within this many minutes count as online for the verifier.
    #[arg(long, env = "IRONCLOCK_VERIFY_ONLINE_MINUTES", default_value_t = 15)]
    pub verify_online_minutes: u32,
    /// Run the pull service (port-4370 devices) inside this server: `on` (default) or `off`
    /// (when `ironclock pull-service` runs it apart).
    #[arg(long, env = "IRONCLOCK_PULL_SERVICE", default_value = "on", value_parser = ["on", "off"])]
    pub pull_service: String,
    #[command(flatten)]
    pub pull: PullArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// Observability: the access log, and where and to whom `/metrics` is served.
#[derive(Args, Clone, Default)]
pub struct OpsArgs {
    /// Serve `/metrics` on this address only (e.g. `127.0.0.1:9090`) instead of on `--bind`.
    #[arg(long, env = "IRONCLOCK_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Require `Authorization: Bearer <this>` on `/metrics` (Prometheus `bearer_token`). Unset:
    /// anyone who reaches the address may scrape it.
    #[arg(long, env = "IRONCLOCK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// One log line per request (device serial, route, status, milliseconds): `off`, `errors`
    /// (status 400 and above, and requests slower than a second) or `all`.
    #[arg(long, env = "IRONCLOCK_ACCESS_LOG", value_enum, default_value = "errors")]
    pub access_log: crate::telemetry::AccessLog,
}

impl fmt::Debug for OpsArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsArgs")
            .field("metrics_bind", &self.metrics_bind)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<redacted>"))
            .field("access_log", &self.access_log)
            .finish()
    }
}

/// How long old rows are kept (days; 0 keeps them forever) and when they are purged.
#[derive(Args, Clone, Debug)]
pub struct RetentionArgs {
    /// Days raw device uploads (processed cleanly) are kept.
    #[arg(long, env = "IRONCLOCK_RETENTION_MESSAGES_DAYS", default_value_t = 30)]
    pub retention_messages_days: u32,
    /// Days quarantined lines, and uploads refused or with rejected lines, are kept.
    #[arg(long, env = "IRONCLOCK_RETENTION_QUARANTINE_DAYS", default_value_t = 180)]
    pub retention_quarantine_days: u32,
    /// Days acknowledged, failed and cancelled device commands are kept.
    #[arg(long, env = "IRONCLOCK_RETENTION_COMMANDS_DAYS", default_value_t = 90)]
    pub retention_commands_days: u32,
    /// Days finished job runs (the job history) are kept.
    #[arg(long, env = "IRONCLOCK_RETENTION_JOBS_DAYS", default_value_t = 90)]
    pub retention_jobs_days: u32,
    /// Days punches are kept; 0 (the default) keeps them forever.
    #[arg(long, env = "IRONCLOCK_RETENTION_PUNCHES_DAYS", default_value_t = 0)]
    pub retention_punches_days: u32,
    /// When the purge runs: cron (5 or 6 fields) or `off`. Default: daily at 03:30 (server time, UTC).
    #[arg(long, env = "IRONCLOCK_RETENTION_CRON", default_value = "0 30 3 * * *")]
    pub retention_cron: String,
    /// Rows deleted per statement (each batch is one short transaction).
    #[arg(long, env = "IRONCLOCK_RETENTION_BATCH", default_value_t = 500)]
    pub retention_batch: u32,
}

impl Default for RetentionArgs {
    fn default() -> Self {
        let p = crate::retention::RetentionPolicy::default();
        Self {
            retention_messages_days: p.messages_days,
            retention_quarantine_days: p.quarantine_days,
            retention_commands_days: p.commands_days,
            retention_jobs_days: p.jobs_days,
            retention_punches_days: p.punches_days,
            retention_cron: p.cron,
            retention_batch: p.batch,
        }
    }
}

impl RetentionArgs {
    /// The policy the retention job applies.
    pub fn policy(&self) -> crate::retention::RetentionPolicy {
        crate::retention::RetentionPolicy {
            messages_days: self.retention_messages_days,
            quarantine_days: self.retention_quarantine_days,
            commands_days: self.retention_commands_days,
            jobs_days: self.retention_jobs_days,
            punches_days: self.retention_punches_days,
            cron: self.retention_cron.clone(),
            batch: self.retention_batch,
            ..Default::default()
        }
    }
}

/// The pull service's settings (`serve` and `pull-service` share them).
#[derive(Args, Clone, Debug)]
pub struct PullArgs {
    /// When pull devices' attendance is collected: cron (5 or 6 fields) or `off`. Default: every 5 minutes.
    #[arg(long, env = "IRONCLOCK_PULL_POLL_CRON", default_value = "0 */5 * * * *")]
    pub pull_poll_cron: String,
    /// Pull devices collected (or written to) at once, per instance.
    #[arg(long, env = "IRONCLOCK_PULL_CONCURRENCY", default_value_t = 4)]
    pub pull_concurrency: usize,
    /// When every area's devices are synced (users, fingerprints, faces, photos): cron or `off`.
    /// Default: every 60 minutes, on the hour.
    #[arg(long, env = "IRONCLOCK_AREA_SYNC_CRON", default_value = "0 0 * * * *")]
    pub area_sync_cron: String,
    /// Devices an area sync reads or writes at once.
    #[arg(long, env = "IRONCLOCK_AREA_SYNC_CONCURRENCY", default_value_t = 2)]
    pub area_sync_concurrency: usize,
}

impl Default for PullArgs {
    fn default() -> Self {
        Self {
            pull_poll_cron: "0 */5 * * * *".into(),
            pull_concurrency: 4,
            area_sync_cron: "0 0 * * * *".into(),
            area_sync_concurrency: 2,
        }
    }
}

/// `ironclock pull-service`: the pull service alone, for sites that keep it apart from the web
/// server (its own systemd unit in `deploy/`). Same database, data key and pull settings as `serve`.
#[derive(Args, Debug, Clone)]
pub struct PullServiceArgs {
    #[arg(long, env = "IRONCLOCK_DATABASE_URL", default_value = "sqlite://ironclock.db")]
    pub database_url: String,
    #[arg(long, env = "IRONCLOCK_DATA_KEY_FILE", default_value = "ironclock-data.key")]
    pub data_key_file: std::path::PathBuf,
    #[arg(long, env = "IRONCLOCK_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,
    #[arg(long, env = "IRONCLOCK_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,
    #[arg(long, env = "IRONCLOCK_DEFAULT_TIMEZONE", default_value = "UTC")]
    pub default_timezone: String,
    #[arg(long, env = "IRONCLOCK_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub pull: PullArgs,
}

impl ServeArgs {
    /// The effective log format: explicit flag, else pretty.
    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or_default()
    }

    /// The ack timeout in force: the configured one, else max(60 s, 3 × poll delay).
    pub fn ack_timeout_secs(&self) -> u32 {
        if self.command_ack_timeout > 0 {
            self.command_ack_timeout
        } else {
            (self.device_poll_delay.saturating_mul(3)).max(60)
        }
    }

    /// Whether unknown devices are approved on first contact (`--auto-approve-devices` or `--dev`).
    pub fn auto_approve(&self) -> bool {
        self.auto_approve_devices || self.dev
    }

    /// Defaults for tests: loopback, port 0, the given database.
    pub fn for_tests(database_url: &str) -> Self {
        let mut args = ServeArgs::parse_from_env_free();
        args.bind = "127.0.0.1:0".into();
        args.database_url = database_url.into();
        // Tests run the verifier and collections themselves (a test of a schedule sets its cron).
        args.verify_cron = "off".into();
        args.pull.pull_poll_cron = "off".into();
        args.pull.area_sync_cron = "off".into();
        args.retention.retention_cron = "off".into();
        args
    }

    /// Parses the defaults without reading `IRONCLOCK_*` variables of the calling process.
    fn parse_from_env_free() -> Self {
        ServeArgs {
            bind: "0.0.0.0:8080".into(),
            database_url: "sqlite://ironclock.db".into(),
            auto_approve_devices: false,
            max_pending_devices: 100,
            jwt_secret: None,
            trust_forwarded_for: false,
            trusted_proxies: DEFAULT_TRUSTED_PROXIES.into(),
            dev: false,
            log_format: None,
            device_poll_delay: 5,
            command_ack_timeout: 0,
            command_max_attempts: 3,
            command_batch_size: 50,
            default_timezone: "UTC".into(),
            workers: 0,
            max_connections: 4096,
            listen_backlog: 4096,
            db_max_connections: 0,
            punch_committers: 0,
            data_key_file: "ironclock-data.key".into(),
            data_key: None,
            max_upload_bytes: 16 * 1024 * 1024,
            access_token_ttl: 900,
            refresh_token_ttl: 30 * 24 * 3600,
            verify_cron: "0 0 */2 * * *".into(),
            verify_online_minutes: 15,
            pull_service: "on".into(),
            pull: PullArgs::default(),
            ops: OpsArgs::default(),
            retention: RetentionArgs::default(),
        }
    }
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("auto_approve_devices", &self.auto_approve_devices)
            .field("max_pending_devices", &self.max_pending_devices)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("dev", &self.dev)
            .field("log_format", &self.log_format())
            .field("device_poll_delay", &self.device_poll_delay)
            .field("command_ack_timeout", &self.command_ack_timeout)
            .field("command_max_attempts", &self.command_max_attempts)
            .field("command_batch_size", &self.command_batch_size)
            .field("default_timezone", &self.default_timezone)
            .field("workers", &self.workers)
            .field("max_connections", &self.max_connections)
            .field("db_max_connections", &self.db_max_connections)
            .field("data_key_file", &self.data_key_file)
            .field("data_key", &self.data_key.as_ref().map(|_| "<redacted>"))
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("verify_cron", &self.verify_cron)
            .field("verify_online_minutes", &self.verify_online_minutes)
            .field("pull_service", &self.pull_service)
            .field("pull", &self.pull)
            .field("ops", &self.ops)
            .field("retention", &self.retention)
            .finish()
    }
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[arg(long, env = "IRONCLOCK_DATABASE_URL", default_value = "sqlite://ironclock.db")]
    pub database_url: String,
    #[arg(long, env = "IRONCLOCK_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
}

/// Replaces the password of a `scheme://user:password@host/db` URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    let creds = &rest[..at];
    match creds.find(':') {
        Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &creds[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact_url("sqlite://ironclock.db"), "sqlite://ironclock.db");
    }

    #[test]
    fn debug_output_never_contains_the_jwt_secret() {
        let mut args = ServeArgs::for_tests("postgres://u:pw@h/d");
        args.jwt_secret = Some("topsecretvalue".into());
        args.data_key = Some("datakeyvalue".into());
        args.ops.metrics_token = Some("scrapetokenvalue".into());
        let shown = format!("{args:?}");
        assert!(!shown.contains("scrapetokenvalue"));
        assert!(!shown.contains("topsecretvalue"));
        assert!(!shown.contains(":pw@"));
        assert!(!shown.contains("datakeyvalue"));
    }

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::parse_from(["ironclock", "--bind", "127.0.0.1:9"]);
        match cli.into_command() {
            Command::Serve(args) => assert_eq!(args.bind, "127.0.0.1:9"),
            other => panic!("expected serve, got {other:?}"),
        }
    }
}
