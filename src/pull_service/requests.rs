//! What callers (the admin API, the dashboard) ask of pull devices, from any instance: a
//! collection now, a connection test, a collection of every device. A device in service is
//! reached through the command queue (the instance holding its session carries the job out and
//! writes the result on the command); a device no instance holds is tested directly.

use std::time::Duration;

use serde::Serialize;

use super::connect::{self, Unreachable};
use super::work::{self, Collected, COLLECT, TEST};
use crate::core::Core;
use crate::domain::{CommandState, DeviceId, DeviceMode};
use crate::pull::Client;
use crate::store::admin::{DeviceFilter, Page, SchoolScope, Sort};
use crate::store::pull::{PullDevice, PullFacts};
use crate::store::StoreError;

/// Why a request could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("device {0} is not a pull device")]
    NotPull(i64),
    #[error("device {0} not found")]
    NotFound(i64),
    #[error("{0}")]
    NotInService(String),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `POST /api/v1/devices/{id}/test-connection`.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ConnectionTest {
    pub success: bool,
    pub serial_number: Option<String>,
    pub firmware: Option<String>,
    pub platform: Option<String>,
    pub users: Option<i32>,
    pub fingerprints: Option<i32>,
    pub faces: Option<i32>,
    pub records: Option<i32>,
    pub fp_version: Option<String>,
    pub face_version: Option<String>,
    pub message: String,
}

impl ConnectionTest {
    fn reached(f: PullFacts) -> Self {
        Self {
            success: true,
            message: format!(
                "connected: {} users, {} fingerprints, {} faces, {} records",
                f.users, f.fingerprints, f.faces, f.records
            ),
            serial_number: f.serial_number,
            firmware: f.firmware,
            platform: f.platform,
            users: Some(f.users),
            fingerprints: Some(f.fingerprints),
            faces: Some(f.faces),
            records: Some(f.records),
            fp_version: f.fp_version,
            face_version: f.face_version,
        }
    }

    fn failed(message: String) -> Self {
        Self { success: false, message, ..Default::default() }
    }
}

async fn pull_device(core: &Core, id: i64) -> Result<PullDevice, RequestError> {
    let device = core.store.pull_device(DeviceId(id)).await?.ok_or(RequestError::NotFound(id))?;
    Ok(device)
}

/// Whether the id names a pull device (callers check scope first).
pub async fn is_pull(core: &Core, id: i64) -> Result<bool, StoreError> {
    Ok(core.store.get_device(DeviceId(id)).await?.is_some_and(|d| d.mode == DeviceMode::Pull))
}

/// Queues a job for the device's session holder and waits (at most `wait`) for its result.
async fn run_job(
    core: &Core,
    id: DeviceId,
    verb: &str,
    by: &str,
    wait: Duration,
) -> Result<Option<String>, RequestError> {
    let ids = core.store.enqueue_commands(&[work::job_command(id, verb, by)]).await?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let command = core.store.get_command(id, ids[0]).await?;
        match command {
            Some(c) if c.state == CommandState::Acked => return Ok(c.result),
            Some(c) if c.state.is_final() => {
                return Err(RequestError::Failed(c.error.unwrap_or_else(|| format!("the job {}", c.state.as_str()))))
            }
            _ if tokio::time::Instant::now() >= deadline => {
                let _ = core.queue.cancel(id, ids[0], "nobody answered in time").await;
                return Err(RequestError::Failed(format!(
                    "the device's session did not finish the job within {} s (it may be busy; try again)",
                    wait.as_secs()
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Collects the device's attendance now (through the instance holding its session).
pub async fn collect(core: &Core, id: i64, by: &str, wait: Duration) -> Result<Collected, RequestError> {
    let device = pull_device(core, id).await?;
    if !device.in_service() {
        return Err(RequestError::NotInService(format!("device {id} is not in service (disabled or not approved)")));
    }
    if core.store.lease_holder(device.id, core.clock.now()).await?.is_none() {
        return Err(RequestError::NotInService(
            "no pull service holds this device's session yet (it is picked up within a minute of being added; \
             is the pull service running?)"
                .into(),
        ));
    }
    let result = run_job(core, device.id, COLLECT, by, wait).await?;
    serde_json::from_str(result.as_deref().unwrap_or("{}"))
        .map_err(|e| RequestError::Failed(format!("unreadable collection result: {e}")))
}

/// A connection test answers within this long, whatever the device does.
pub const TEST_BUDGET: Duration = Duration::from_secs(10);
/// A collection on demand waits this long for the device's session (50,000 records take seconds).
pub const COLLECT_WAIT: Duration = Duration::from_secs(120);

/// Every pull device in `scope` ("Refresh all logs", `POST /attendance/sync-all`), and those of
/// them a collection was queued on (the ones in service), without waiting.
pub async fn collect_all_in(core: &Core, scope: SchoolScope, by: &str) -> Result<(Vec<i64>, Vec<i64>), RequestError> {
    let filter = DeviceFilter {
        scope,
        approval: None,
        school_id: None,
        area_id: None,
        mode: Some(DeviceMode::Pull),
        search: None,
        sort: Sort::default(),
        page: Page::everything(),
    };
    let devices: Vec<i64> = core.store.list_device_records(&filter).await?.items.iter().map(|d| d.id).collect();
    let mut queued = Vec::new();
    let mut commands = Vec::new();
    for &id in &devices {
        if let Some(device) = core.store.pull_device(DeviceId(id)).await? {
            if device.in_service() {
                commands.push(work::job_command(device.id, COLLECT, by));
                queued.push(id);
            }
        }
    }
    if !commands.is_empty() {
        core.store.enqueue_commands(&commands).await?;
    }
    Ok((devices, queued))
}

/// Tests the connection within `budget` (10 s for the API): through the session holder when
/// an instance holds the device, directly otherwise. Learned facts are recorded.
pub async fn test_connection(core: &Core, id: i64, by: &str, budget: Duration) -> Result<ConnectionTest, RequestError> {
    let device = pull_device(core, id).await?;
    if core.store.lease_holder(device.id, core.clock.now()).await?.is_some() {
        return Ok(match run_job(core, device.id, TEST, by, budget).await {
            Ok(result) => match serde_json::from_str::<PullFacts>(result.as_deref().unwrap_or("")) {
                Ok(f) => ConnectionTest::reached(f),
                Err(_) => ConnectionTest::failed("the session answered without the device's facts".into()),
            },
            Err(RequestError::Failed(m)) => ConnectionTest::failed(m),
            Err(e) => return Err(e),
        });
    }
    let addr = format!("{}:{}", device.host, device.port);
    let direct = async {
        // Two short tries per reply fit the budget whatever fails.
        let opts = connect::options(&device, &core.cipher, budget / 4, 1).await.map_err(|Unreachable(m)| m)?;
        let mut client = Client::connect(opts).await.map_err(|e| connect::explain(&e, &addr))?;
        let facts = work::facts(&mut client).await.map_err(|e| connect::explain(&e, &addr));
        let _ = client.close().await;
        facts
    };
    let outcome = match tokio::time::timeout(budget, direct).await {
        Ok(Ok(facts)) => {
            core.store.record_pull_contact(device.id, &facts, core.clock.now()).await?;
            ConnectionTest::reached(facts)
        }
        Ok(Err(message)) => ConnectionTest::failed(message),
        Err(_) => ConnectionTest::failed(format!("no answer from {addr} within {} s", budget.as_secs())),
    };
    Ok(outcome)
}
