//! Application wiring: `Application::build` binds first (port 0 in tests) and opens the store;
//! `run_until_stopped` serves until SIGINT/SIGTERM (or a test's stop handle), lets in-flight
//! requests finish (uploads are acknowledged only after their commit), then flushes coalesced device activity.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use crate::config::{PullArgs, PullServiceArgs, ServeArgs};
use crate::core::{Clock, Core, Settings, SystemClock};
use crate::crypto::DataCipher;
use crate::domain::BatchPolicy;
use crate::http::device::directory::{Admission, CacheTtls};
use crate::http::device::{self, activity::DeviceActivity, DeviceDirectory};
use crate::http::{ops, State};
use crate::pull_service::{PullService, PullSettings};
use crate::queue::QueueConfig;
use crate::store::{self, StoreChange};

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on its own address (`--metrics-bind`), when configured.
    metrics_server: Option<(Server, u16)>,
    ctx: web::Data<State>,
    pull: Option<Arc<PullService>>,
}

/// Seams for tests: the clock the services read, and the pull service's intervals.
pub struct Hooks {
    pub clock: Arc<dyn Clock>,
    /// Replaces the pull service's settings (the configuration's concurrency still applies).
    pub pull: Option<PullSettings>,
}

impl Default for Hooks {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), pull: None }
    }
}

/// How long cached pending/blocked devices are trusted before they are re-read.
const UNAPPROVED_TTL: Duration = Duration::from_secs(5);
/// How long cached approved devices are trusted when no change notifications exist (SQLite).
const APPROVED_TTL_WITHOUT_NOTIFY: Duration = Duration::from_secs(30);
/// Most bytes per command-poll reply (PUSH SDK 3.2.0: "less 40KB in one message").
const MAX_REPLY_BYTES: usize = 40 * 1024;
/// How often coalesced device activity (last-seen, stamps) is written. Every device polls every
/// few seconds, so each flush rewrites every online device's row: 5 s keeps that load to a
/// fifth of the fleet per second while the stored value stays well inside the online window
/// (3 × Delay); this instance's in-memory last-seen is always exact.
const ACTIVITY_FLUSH_EVERY: Duration = Duration::from_secs(5);
/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE_SECS: u64 = 30;

impl Application {
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        Self::build_with(args, Hooks::default()).await
    }

    /// Like `build`, reading the time from `clock` (tests move it instead of sleeping).
    pub async fn build_with_clock(args: ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::build_with(args, Hooks { clock, pull: None }).await
    }

    /// Like `build`, with the test seams of `hooks`.
    pub async fn build_with(args: ServeArgs, hooks: Hooks) -> anyhow::Result<Self> {
        let clock = hooks.clock;
        tracing::info!(config = ?args, "starting ironclock");
        let default_tz = Tz::from_str(&args.default_timezone)
            .map_err(|_| anyhow::anyhow!("--default-timezone {:?} is not an IANA zone", args.default_timezone))?;
        crate::scheduler::normalise_cron(&args.verify_cron)
            .map_err(|e| anyhow::anyhow!("IRONCLOCK_VERIFY_CRON: {e}"))?;
        crate::scheduler::normalise_cron(&args.pull.pull_poll_cron)
            .map_err(|e| anyhow::anyhow!("IRONCLOCK_PULL_POLL_CRON: {e}"))?;
        crate::scheduler::normalise_cron(&args.pull.area_sync_cron)
            .map_err(|e| anyhow::anyhow!("IRONCLOCK_AREA_SYNC_CRON: {e}"))?;
        crate::scheduler::normalise_cron(&args.retention.retention_cron)
            .map_err(|e| anyhow::anyhow!("IRONCLOCK_RETENTION_CRON: {e}"))?;
        let cipher = data_cipher(args.data_key.as_deref(), &args.data_key_file)?;
        let store = open_store(&args.database_url, args.db_max_connections).await?;
        let settings = Settings {
            queue: QueueConfig {
                policy: BatchPolicy {
                    max_count: args.command_batch_size.max(1) as usize,
                    max_bytes: MAX_REPLY_BYTES,
                    ack_timeout: chrono::Duration::seconds(i64::from(args.ack_timeout_secs())),
                },
                max_attempts: args.command_max_attempts.max(1) as i32,
            },
            verify_cron: args.verify_cron.clone(),
            verify_online: chrono::Duration::minutes(i64::from(args.verify_online_minutes)),
            pull_poll_cron: args.pull.pull_poll_cron.clone(),
            area_sync_cron: args.pull.area_sync_cron.clone(),
            area_sync_concurrency: args.pull.area_sync_concurrency.max(1),
            punch_committers: punch_committers(args.punch_committers, store.backend()),
            retention: args.retention.policy(),
        };
        let (core, hears_others) = Core::open(store.clone(), cipher, clock, settings).await?;
        let pull = match args.pull_service.as_str() {
            "off" => None,
            _ => {
                let settings = hooks.pull.unwrap_or_else(|| pull_settings(&args.pull, default_tz));
                let service = PullService::new(core.clone(), settings);
                store.subscribe(service.change_hook()).await?;
                Some(service)
            }
        };
        let directory = Arc::new(DeviceDirectory::new(
            store.clone(),
            default_tz,
            Admission::new(args.auto_approve(), args.max_pending_devices),
            CacheTtls { unapproved: UNAPPROVED_TTL, approved: Some(APPROVED_TTL_WITHOUT_NOTIFY) },
        ));
        store.subscribe(directory_hook(&directory)).await?;
        if hears_others {
            // Other instances' changes arrive: approved devices stay cached until one does.
            directory.trust_approved_until_changed();
        }
        let proxy_trust = crate::http::client_addr::ProxyTrust::from_config(&args)
            .map_err(|e| anyhow::anyhow!("IRONCLOCK_TRUSTED_PROXIES: {e}"))?;
        let api = crate::http::api::ApiState::build(&args, &store, &core.cipher).await?;
        let listener = crate::http::listener::bind(&args.bind, args.listen_backlog)?;
        let listener_addr = listener.local_addr()?;
        let port = listener_addr.port();
        let ctx = web::Data::new(State {
            core,
            devices: directory,
            activity: DeviceActivity::default(),
            api,
            proxy_trust,
            config: Arc::new(args.clone()),
        });
        let workers =
            if args.workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { args.workers };
        let server_ctx = ctx.clone();
        let max_upload = args.max_upload_bytes;
        let observer = web::Data::new(ops::HttpObserver::new(ctx.metrics.clone(), args.ops.access_log));
        let metrics_here = args.ops.metrics_bind.is_none();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::http::headers::security_headers))
                .wrap(from_fn(ops::observe::observe))
                .app_data(server_ctx.clone())
                .app_data(observer.clone())
                .app_data(web::PayloadConfig::new(max_upload))
                .route("/healthz", web::get().to(healthz))
                .configure(|cfg| ops::mount(cfg, metrics_here))
                .configure(crate::http::api::mount)
                .configure(crate::http::dashboard::mount)
                .route("/iclock/doc/{kind}/{token}/{file}", web::get().to(device::media::serve))
                .default_service(web::to(device::dispatch))
        })
        .workers(workers)
        .max_connections(args.max_connections.div_ceil(workers).max(1))
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)?
        .run();
        let metrics_server = match &args.ops.metrics_bind {
            Some(bind) => Some(metrics_server(bind, ctx.clone())?),
            None => None,
        };
        tracing::info!(
            port,
            backend = ctx.store.backend(),
            metrics_port = metrics_server.as_ref().map(|m| m.1),
            "listening"
        );
        if let Some(token) = ctx.api.setup_token() {
            let link = crate::telemetry::setup_link(listener_addr, token);
            tracing::warn!(
                "no admin exists yet: create the first super admin at {link} (from another machine, use this \
                 server's address in place of the host), or POST /api/v1/setup with the token, or run \
                 `ironclock admin create`; the token works once"
            );
        }
        Ok(Self { port, server, metrics_server, ctx, pull })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the separate `/metrics` listener (`--metrics-bind`), if any.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|m| m.1)
    }

    pub fn context(&self) -> web::Data<State> {
        self.ctx.clone()
    }

    /// A handle that stops the server gracefully (tests).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then flushes what is still buffered in memory.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let flusher = tokio::spawn(flush_activity(self.ctx.clone(), stop.clone()));
        let pull = self.pull.clone().map(|p| tokio::spawn(p.run(stop.clone())));
        let scheduler = crate::scheduler::Scheduler::start(self.ctx.core.clone(), self.pull.clone()).await?;
        let metrics = self.metrics_server.map(|(server, _)| (server.handle(), tokio::spawn(server)));
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        scheduler.shutdown().await;
        stop.cancel();
        let _ = flusher.await;
        if let Some(pull) = pull {
            // Every session closed (keypads unlocked) and every lease released before we go.
            let _ = pull.await;
        }
        if let Err(e) = self.ctx.activity.flush(&self.ctx.store).await {
            tracing::warn!(error = %e, "could not write the last device activity (last-seen, stamps)");
        }
        tracing::info!("stopped");
        result.map_err(Into::into)
    }
}

/// `/metrics` alone on its own address, e.g. loopback or a monitoring network.
fn metrics_server(bind: &str, ctx: web::Data<State>) -> anyhow::Result<(Server, u16)> {
    let listener = crate::http::listener::bind(bind, 1024).context("--metrics-bind")?;
    let port = listener.local_addr()?.port();
    let server =
        HttpServer::new(move || App::new().app_data(ctx.clone()).route("/metrics", web::get().to(ops::metrics)))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run();
    Ok((server, port))
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Applies every store change (this instance's and, on PostgreSQL, the others') to the cached
/// devices. Holds a weak reference: the store (which keeps the hook) must not keep it alive.
fn directory_hook(directory: &Arc<DeviceDirectory>) -> store::ChangeHook {
    let directory = Arc::downgrade(directory);
    Arc::new(move |change: &StoreChange| {
        if let Some(directory) = directory.upgrade() {
            directory.apply(change);
        }
    })
}

async fn flush_activity(ctx: web::Data<State>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(ACTIVITY_FLUSH_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = ctx.activity.flush(&ctx.store).await {
                    tracing::warn!(error = %e, "writing device activity failed; will retry");
                }
            }
        }
    }
}

/// `ironclock serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    Application::build(args).await?.run_until_stopped().await
}

/// The data key: given (base64), else the key file (created on first start).
fn data_cipher(key: Option<&str>, file: &std::path::Path) -> anyhow::Result<DataCipher> {
    match key {
        Some(key) => DataCipher::from_base64(key).context("IRONCLOCK_DATA_KEY"),
        None => Ok(DataCipher::from_key_file(file)?),
    }
}

/// Punch-upload committers: one on SQLite (one writer at a time anyway); on PostgreSQL one per
/// core, at least 2 and at most 8, so one group commits while the next gathers.
fn punch_committers(configured: usize, backend: &str) -> usize {
    if configured > 0 {
        configured
    } else if backend == "postgres" {
        std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8)
    } else {
        1
    }
}

async fn open_store(url: &str, max_connections: u32) -> anyhow::Result<store::DynStore> {
    store::connect(url, max_connections)
        .await
        .with_context(|| format!("opening the database {}", crate::config::redact_url(url)))
}

/// The pull service's settings from the configuration.
fn pull_settings(args: &PullArgs, default_tz: Tz) -> PullSettings {
    PullSettings { concurrency: args.pull_concurrency.max(1), default_timezone: default_tz, ..PullSettings::default() }
}

/// `ironclock pull-service`: the pull service and its schedule alone, until SIGINT/SIGTERM.
pub async fn pull_service(args: PullServiceArgs) -> anyhow::Result<()> {
    // Requests from the web server (collect now, connection tests, device edits, queued user
    // writes) reach the pull service through PostgreSQL notifications; SQLite has none between
    // processes, so a separate pull service would never hear of them.
    if !args.database_url.starts_with("postgres") {
        anyhow::bail!(
            "ironclock pull-service needs PostgreSQL (IRONCLOCK_DATABASE_URL=postgres://…): with SQLite the \
             pull service runs inside `ironclock serve` (the default, --pull-service on)"
        );
    }
    let default_tz = Tz::from_str(&args.default_timezone)
        .map_err(|_| anyhow::anyhow!("--default-timezone {:?} is not an IANA zone", args.default_timezone))?;
    crate::scheduler::normalise_cron(&args.pull.pull_poll_cron)
        .map_err(|e| anyhow::anyhow!("IRONCLOCK_PULL_POLL_CRON: {e}"))?;
    crate::scheduler::normalise_cron(&args.pull.area_sync_cron)
        .map_err(|e| anyhow::anyhow!("IRONCLOCK_AREA_SYNC_CRON: {e}"))?;
    let cipher = data_cipher(args.data_key.as_deref(), &args.data_key_file)?;
    let store = open_store(&args.database_url, args.db_max_connections).await?;
    let settings = Settings {
        verify_cron: "off".into(),
        pull_poll_cron: args.pull.pull_poll_cron.clone(),
        area_sync_cron: args.pull.area_sync_cron.clone(),
        area_sync_concurrency: args.pull.area_sync_concurrency.max(1),
        // The web server's scheduler purges old rows; this process only talks to devices.
        retention: crate::retention::RetentionPolicy { cron: "off".into(), ..Default::default() },
        ..Settings::default()
    };
    let (core, _) = Core::open(store.clone(), cipher, Arc::new(SystemClock), settings).await?;
    let service = PullService::new(core.clone(), pull_settings(&args.pull, default_tz));
    store.subscribe(service.change_hook()).await?;
    let stop = CancellationToken::new();
    let task = tokio::spawn(service.clone().run(stop.clone()));
    let scheduler = crate::scheduler::Scheduler::start(core, Some(service)).await?;
    tracing::info!(backend = store.backend(), "pull service running (no web server)");
    crate::shutdown::signal().await;
    scheduler.shutdown().await;
    stop.cancel();
    let _ = task.await;
    tracing::info!("pull service stopped");
    Ok(())
}

/// `ironclock migrate`: applies migrations (opening the store runs them) and exits.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    let store = store::connect(url, 2).await?;
    tracing::info!(backend = store.backend(), "migrations applied");
    Ok(())
}
