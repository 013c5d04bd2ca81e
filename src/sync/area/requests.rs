//! Area syncs asked for on demand (the API, the dashboard) by an instance that does not run the
//! pull service (`--pull-service off`): the sync borrows device sessions, so it must run where
//! they are. The request is kept in the `settings` table (`area_sync.request.{area}`, one per
//! area: asking twice before it runs asks once) and the instance running the pull service claims
//! it at its next minute tick ([`run_requested`]); the run is then an ordinary run with its job
//! row, so `GET /api/v1/areas/{id}/sync` follows it from any instance.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::report::AreaSyncResult;
use super::run::{sync_area, AreaSyncOptions};
use crate::core::Core;
use crate::domain::SchoolId;
use crate::store::StoreError;

/// Keys of pending requests.
pub const REQUEST_PREFIX: &str = "area_sync.request.";

/// A pending request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaSyncRequest {
    pub school: SchoolId,
    pub area: i64,
    /// Who asked (the run is recorded as started by them).
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Hands an area's sync to the instance running the pull service.
pub async fn hand_off(core: &Core, school: SchoolId, area: i64, by: &str) -> Result<(), StoreError> {
    let request = AreaSyncRequest { school, area, by: by.to_string(), at: core.clock.now() };
    let value = serde_json::to_string(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    core.store.put_setting(&format!("{REQUEST_PREFIX}{area}"), &value).await
}

/// Claims every pending request (each claimed by one instance only) and runs it; the results by
/// area. A request that no longer reads is dropped with a warning.
pub async fn run_requested(core: &Core, opts: &AreaSyncOptions) -> Result<Vec<(i64, AreaSyncResult)>, StoreError> {
    let mut out = Vec::new();
    for (key, value) in core.store.settings_with_prefix(REQUEST_PREFIX).await? {
        if !core.store.delete_setting(&key).await? {
            continue; // another instance claimed it
        }
        let Ok(req) = serde_json::from_str::<AreaSyncRequest>(&value) else {
            tracing::warn!(%key, "area sync request unreadable; dropped");
            continue;
        };
        let opts = AreaSyncOptions { started_by: req.by.clone(), ..opts.clone() };
        out.push((req.area, sync_area(core, req.school, req.area, &opts).await?));
    }
    Ok(out)
}
