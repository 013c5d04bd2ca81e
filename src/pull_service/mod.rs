//! The pull service: pull devices (port 4370) in service. It runs inside `serve` by default and
//! alone as `ironclock pull-service`.
//!
//! - A supervisor keeps one [`actor`] per device in service that this instance holds the lease
//!   of (a row in `device_leases`, renewed every 10 s, taken over within 40 s when its holder
//!   dies), and drops it when the device leaves service or another instance holds it;
//! - each actor owns the device's one session: realtime punches, queued commands (student sync,
//!   read-backs, collection and connection-test jobs), scheduled collections, facts;
//! - the schedule ([`PullService::collect_all`]) collects every held device, at most
//!   `concurrency` at once, and records the run in `job_executions`;
//! - callers on any instance reach a device through the command queue ([`requests`]): the
//!   store announces the queued command and the holder's actor picks it up.

mod actor;
pub mod backoff;
pub mod connect;
mod punches;
pub mod requests;
mod settings;
pub mod work;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

pub use actor::{Wake, REALTIME_ALERT};
pub use settings::PullSettings;

use crate::core::sessions::{Loan, SessionLender};
use crate::core::Core;
use crate::domain::DeviceId;
use crate::store::admin::JobStatus;
use crate::store::pull::PullDevice;
use crate::store::{ChangeHook, StoreChange};

/// What every actor of this instance shares.
pub(crate) struct Shared {
    pub core: Arc<Core>,
    pub settings: PullSettings,
    /// This instance's name in `device_leases`.
    pub holder: String,
    /// At most `concurrency` collections or command runs at once (realtime listening is free).
    pub busy: Semaphore,
}

impl Shared {
    /// The zone punch times of the device are read in: its own, its school's, else UTC.
    fn zone(&self, device: &PullDevice) -> Tz {
        [device.timezone.as_deref(), device.school_timezone.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|z| z.trim().parse().ok())
            .unwrap_or(self.settings.default_timezone)
    }
}

struct Handle {
    wake: mpsc::Sender<Wake>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// The supervisor and its actors.
pub struct PullService {
    shared: Arc<Shared>,
    actors: Mutex<HashMap<DeviceId, Handle>>,
    rescan: tokio::sync::Notify,
}

/// One device's line of a scheduled collection.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceCollection {
    pub device_id: i64,
    #[serde(flatten)]
    pub collected: Option<work::Collected>,
    pub error: Option<String>,
}

impl PullService {
    pub fn new(core: Arc<Core>, settings: PullSettings) -> Arc<Self> {
        let holder = format!(
            "{}:{}:{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "ironclock".into()),
            std::process::id(),
            rand::random::<u32>()
        );
        let busy = Semaphore::new(settings.concurrency.max(1));
        let service = Arc::new(Self {
            shared: Arc::new(Shared { core: core.clone(), settings, holder, busy }),
            actors: Mutex::new(HashMap::new()),
            rescan: tokio::sync::Notify::new(),
        });
        let weak = Arc::downgrade(&service);
        let lender: std::sync::Weak<dyn SessionLender> = weak;
        core.sessions.install(lender);
        service
    }

    /// This instance's lease holder name.
    pub fn holder(&self) -> &str {
        &self.shared.holder
    }

    /// The hook that wakes actors when their device's commands or row change (here or on
    /// another instance), and the supervisor when a device may have come or gone.
    pub fn change_hook(self: &Arc<Self>) -> ChangeHook {
        let me = Arc::downgrade(self);
        Arc::new(move |change: &StoreChange| {
            let Some(me) = me.upgrade() else { return };
            match change {
                StoreChange::Commands(id) => me.wake(*id, Wake::Work),
                StoreChange::Device(id) => {
                    me.wake(*id, Wake::Reload);
                    me.rescan.notify_one();
                }
                StoreChange::School(_) | StoreChange::Resync => me.rescan.notify_one(),
                StoreChange::AreaSyncRequested => {} // `sync::area::requests` hears it
            }
        })
    }

    fn wake(&self, id: DeviceId, w: Wake) {
        if let Ok(actors) = self.actors.lock() {
            if let Some(h) = actors.get(&id) {
                let _ = h.wake.try_send(w);
            }
        }
    }

    /// Supervises until `stop`: every `scan_every` (or when a device changes), starts an actor
    /// for each device in service whose lease this instance gets, stops those that left
    /// service. On stop every actor closes its session and releases its lease.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        tracing::info!(holder = %self.shared.holder, "pull service started");
        loop {
            self.scan(&stop).await;
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.rescan.notified() => {}
                _ = tokio::time::sleep(self.shared.settings.scan_every) => {}
            }
        }
        let handles: Vec<Handle> =
            self.actors.lock().map(|mut a| a.drain().map(|(_, h)| h).collect()).unwrap_or_default();
        for h in &handles {
            h.stop.cancel();
        }
        for h in handles {
            let _ = h.task.await;
        }
        tracing::info!("pull service stopped: every session closed");
    }

    async fn scan(&self, stop: &CancellationToken) {
        let devices = match self.shared.core.store.pull_devices().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "pull: could not list pull devices; retrying at the next scan");
                return;
            }
        };
        self.reap();
        for device in devices {
            let running = self.actors.lock().map(|a| a.contains_key(&device.id)).unwrap_or(true);
            if running || !device.in_service() {
                continue;
            }
            let now = self.shared.core.clock.now();
            let until = now + chrono::Duration::from_std(self.shared.settings.lease_ttl).unwrap_or_default();
            match self.shared.core.store.try_lease(device.id, &self.shared.holder, now, until).await {
                Ok(true) => self.spawn(device.id, stop),
                Ok(false) => {}
                Err(e) => tracing::warn!(device = device.id.0, error = %e, "pull: could not take the lease"),
            }
        }
    }

    fn spawn(&self, id: DeviceId, stop: &CancellationToken) {
        let (tx, rx) = mpsc::channel(64);
        let token = stop.child_token();
        let task = tokio::spawn(actor::run(self.shared.clone(), id, rx, token.clone()));
        if let Ok(mut actors) = self.actors.lock() {
            actors.insert(id, Handle { wake: tx, stop: token, task });
        }
        tracing::info!(device = id.0, "pull: device in service on this instance");
    }

    /// Forgets actors that ended (device left service, lease lost).
    fn reap(&self) {
        if let Ok(mut actors) = self.actors.lock() {
            actors.retain(|_, h| !h.task.is_finished());
        }
    }

    /// Devices whose session this instance holds.
    pub fn held(&self) -> Vec<DeviceId> {
        self.reap();
        self.actors.lock().map(|a| a.keys().copied().collect()).unwrap_or_default()
    }

    /// The scheduled collection: every held device, at most `concurrency` at once (the actors
    /// share the limit); one `job_executions` row for the run.
    pub async fn collect_all(&self, started_by: &str) -> Vec<DeviceCollection> {
        let store = &self.shared.core.store;
        let job = store.start_job("pull_poll", None, Some(&self.shared.holder), self.shared.core.clock.now()).await;
        let mut waits = Vec::new();
        for id in self.held() {
            let (tx, rx) = oneshot::channel();
            self.wake(id, Wake::Collect(tx));
            waits.push((id, rx));
        }
        let mut out = Vec::new();
        for (id, rx) in waits {
            let line = match tokio::time::timeout(self.shared.settings.collect_timeout, rx).await {
                Ok(Ok(Ok(c))) => DeviceCollection { device_id: id.0, collected: Some(c), error: None },
                Ok(Ok(Err(e))) => DeviceCollection { device_id: id.0, collected: None, error: Some(e) },
                _ => DeviceCollection {
                    device_id: id.0,
                    collected: None,
                    error: Some("no answer from its session".into()),
                },
            };
            out.push(line);
        }
        let failed = out.iter().filter(|l| l.error.is_some()).count();
        let summary = serde_json::json!({
            "started_by": started_by,
            "devices": out.len(),
            "failed": failed,
            "logs_synced": out.iter().filter_map(|l| l.collected.as_ref()).map(|c| c.logs_synced).sum::<usize>(),
            "results": out,
        });
        if let Ok(id) = job {
            let status = if failed == 0 { JobStatus::Succeeded } else { JobStatus::Failed };
            let error = (failed > 0)
                .then(|| format!("{failed} of {} devices failed; each retries in 5, 10, 20 minutes", out.len()));
            if let Err(e) = store.finish_job(id, status, &summary, error.as_deref()).await {
                tracing::warn!(error = %e, "pull: could not record the poll run");
            }
        }
        out
    }

    /// Whether this instance's actor holds the device's session.
    pub fn holds(&self, id: DeviceId) -> bool {
        self.actors.lock().map(|a| a.get(&id).is_some_and(|h| !h.task.is_finished())).unwrap_or(false)
    }

    /// How long the supervisor waits between scans (tests wait for a pick-up with it).
    pub fn scan_every(&self) -> Duration {
        self.shared.settings.scan_every
    }
}

#[async_trait::async_trait]
impl SessionLender for PullService {
    async fn lend(&self, device: DeviceId) -> Option<Result<Loan, String>> {
        let wake = self.actors.lock().ok()?.get(&device).filter(|h| !h.task.is_finished())?.wake.clone();
        let (reply, answer) = oneshot::channel();
        wake.send(Wake::Lend(reply)).await.ok()?;
        Some(answer.await.unwrap_or_else(|_| Err("the device's session owner stopped".into())))
    }
}
