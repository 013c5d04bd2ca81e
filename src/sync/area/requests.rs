//! Area syncs asked for on demand (the API, the dashboard) by an instance that does not run the
//! pull service (`--pull-service off`): the sync borrows device sessions, so it must run where
//! they are. The request (an area's sync, or a device's single-device sync) is kept in the
//! `settings` table (`area_sync.request.{area}`, `area_sync.request.device.{id}`: asking twice
//! before it runs asks once), written in one transaction with
//! [`StoreChange::AreaSyncRequested`], so every instance running the pull service hears it at
//! once through the store's notify path and one of them claims it ([`run_requested`]; the
//! minute tick also looks, should a notification be missed). The run is then an ordinary run with
//! its job row, so `GET /api/v1/areas/{id}/sync` (or the device's) follows it from any instance.
//!
//! A request nobody claims does not wait forever: it **expires** [`REQUEST_TTL`] after it was
//! made ([`RequestState::Expired`]: no instance runs the pull service) and is then never run.
//! While an instance running the pull service is up, its minute tick keeps the pending
//! requests alive ([`keep_alive`]), so a request waiting behind a long run does not expire.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::report::AreaSyncResult;
use super::run::{sync_area, sync_device, AreaSyncOptions};
use crate::core::Core;
use crate::domain::{DeviceId, SchoolId};
use crate::store::instances::StoreChange;
use crate::store::StoreError;

/// Keys of pending requests.
pub const REQUEST_PREFIX: &str = "area_sync.request.";

/// How long a request waits for an instance running the pull service to claim it (the minute
/// tick of a live one extends it).
pub const REQUEST_TTL: Duration = Duration::minutes(2);

/// What the message of an expired request says.
pub const NOBODY: &str = "no instance runs the pull service: nobody picked the request up, so it was not run \
                          (start one, `ironclock serve` or `ironclock pull-service`, and ask again)";

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An area's sync.
    Area(i64),
    /// A device's single-device sync (a device in no area).
    Device(DeviceId),
}

impl Target {
    fn key(self) -> String {
        match self {
            Target::Area(area) => format!("{REQUEST_PREFIX}{area}"),
            Target::Device(id) => format!("{REQUEST_PREFIX}device.{}", id.0),
        }
    }
}

/// A pending request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaSyncRequest {
    pub school: SchoolId,
    /// The area to sync (`None`: a device's single-device sync).
    pub area: Option<i64>,
    /// The device of a single-device sync.
    #[serde(default)]
    pub device: Option<i64>,
    /// Who asked (the run is recorded as started by them).
    pub by: String,
    pub at: DateTime<Utc>,
    /// Not claimed by then, it is expired and never run.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl AreaSyncRequest {
    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at.unwrap_or(self.at + REQUEST_TTL)
    }
}

/// A request as the API and the dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RequestStatus {
    /// `pending` (waiting for an instance running the pull service) or `expired`.
    pub status: RequestState,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub expires_at: DateTime<Utc>,
    /// What it means, in words.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Pending,
    Expired,
}

/// Hands a sync to the instances running the pull service (they hear it at once).
pub async fn hand_off(core: &Core, school: SchoolId, target: Target, by: &str) -> Result<(), StoreError> {
    let now = core.clock.now();
    let (area, device) = match target {
        Target::Area(a) => (Some(a), None),
        Target::Device(d) => (None, Some(d.0)),
    };
    let request =
        AreaSyncRequest { school, area, device, by: by.to_string(), at: now, expires_at: Some(now + REQUEST_TTL) };
    let value = serde_json::to_string(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    core.store.put_setting_announced(&target.key(), &value, StoreChange::AreaSyncRequested).await
}

/// The request of `target` still unclaimed (pending or expired), if any, as of now.
pub async fn status(core: &Core, target: Target) -> Result<Option<RequestStatus>, StoreError> {
    let Some(value) = core.store.get_setting(&target.key()).await? else { return Ok(None) };
    let Ok(req) = serde_json::from_str::<AreaSyncRequest>(&value) else { return Ok(None) };
    let expires_at = req.expires_at();
    let (status, message) = if core.clock.now() < expires_at {
        (RequestState::Pending, "waiting for the instance running the pull service to start it".to_string())
    } else {
        (RequestState::Expired, NOBODY.to_string())
    };
    Ok(Some(RequestStatus { status, requested_at: req.at, requested_by: req.by, expires_at, message }))
}

/// Claims every pending request (each claimed by one instance only) and runs it; the results by
/// area (a device's single-device sync under its device id, negated). Expired requests are left
/// as they are (never run; they show as expired until asked again). A request that no longer
/// reads is dropped with a warning.
pub async fn run_requested(core: &Core, opts: &AreaSyncOptions) -> Result<Vec<(i64, AreaSyncResult)>, StoreError> {
    let mut out = Vec::new();
    for (key, value) in core.store.settings_with_prefix(REQUEST_PREFIX).await? {
        let req = serde_json::from_str::<AreaSyncRequest>(&value);
        if matches!(&req, Ok(r) if core.clock.now() >= r.expires_at()) {
            continue;
        }
        if !core.store.delete_setting(&key).await? {
            continue; // another instance claimed it
        }
        let Ok(req) = req else {
            tracing::warn!(%key, "area sync request unreadable; dropped");
            continue;
        };
        let opts = AreaSyncOptions { started_by: req.by.clone(), ..opts.clone() };
        match (req.area, req.device) {
            (Some(area), _) => out.push((area, sync_area(core, req.school, area, &opts).await?)),
            (None, Some(device)) => {
                // Put into an area since it was asked: its Sync is now its area's, as a click
                // now would be (a single-device sync would treat it as a device of no area).
                let now_in = core
                    .store
                    .get_device(DeviceId(device))
                    .await?
                    .and_then(|d| (d.school_id == Some(req.school)).then_some(d.area_id).flatten());
                match now_in {
                    Some(area) => out.push((area, sync_area(core, req.school, area, &opts).await?)),
                    None => out.push((-device, sync_device(core, req.school, DeviceId(device), &opts).await?)),
                }
            }
            (None, None) => tracing::warn!(%key, "area sync request names nothing; dropped"),
        }
    }
    Ok(out)
}

/// Extends every pending (not yet expired) request by [`REQUEST_TTL`] from now: an instance
/// running the pull service is up and will claim them (called by its minute tick).
pub async fn keep_alive(core: &Core) -> Result<(), StoreError> {
    let now = core.clock.now();
    for (key, value) in core.store.settings_with_prefix(REQUEST_PREFIX).await? {
        let Ok(mut req) = serde_json::from_str::<AreaSyncRequest>(&value) else { continue };
        if now >= req.expires_at() {
            continue;
        }
        req.expires_at = Some(now + REQUEST_TTL);
        let new = serde_json::to_string(&req).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // Only while unclaimed: a claimed (deleted) request is not brought back.
        core.store.replace_setting(&key, &value, &new).await?;
    }
    Ok(())
}

/// Wakes [`serve`] for every request handed off (here or on another instance) and after lost
/// notifications (the hook to subscribe to the store).
pub fn wake_hook(wake: std::sync::Arc<tokio::sync::Notify>) -> crate::store::instances::ChangeHook {
    std::sync::Arc::new(move |change: &StoreChange| {
        if matches!(change, StoreChange::AreaSyncRequested | StoreChange::Resync) {
            wake.notify_one();
        }
    })
}

/// Runs the requests on this instance (one that runs the pull service) until `stop`: once at
/// start, then each time `wake` is notified (by [`wake_hook`], or the minute tick as the fallback
/// for a missed notification). One pass at a time; a wake during a pass makes another pass.
pub async fn serve(
    core: std::sync::Arc<Core>,
    wake: std::sync::Arc<tokio::sync::Notify>,
    stop: tokio_util::sync::CancellationToken,
) {
    let opts = AreaSyncOptions { concurrency: core.settings.area_sync_concurrency, ..AreaSyncOptions::default() };
    wake.notify_one();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {}
        }
        match run_requested(&core, &opts).await {
            Ok(runs) if !runs.is_empty() => tracing::info!(runs = runs.len(), "requested area syncs run"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "requested area sync failed"),
        }
    }
}
