//! The verifier: a plain async function (the scheduler runs it every two hours; tests and the
//! API call it directly). One instance at a time (an instance-wide job lock); every run is a
//! `job_executions` row with its findings per device.
//!
//! Per school, outside its quiet hours, for the devices seen recently:
//! 1. rows a finished read-back did not show are reset (missing on the device);
//! 2. a device that cannot be read back but reports fewer users (`UserCount`) than confirmed
//!    gets its confirmed rows re-sent;
//! 3. one set-based reconcile queues adds for missing students, deletes for removed ones (capped
//!    per device: beyond the cap nothing is deleted and an alert waits for an admin), and retries
//!    failed rows whose back-off has passed;
//! 4. every device is asked for its user list (`DATA QUERY USERINFO`) and counters (`INFO`), or,
//!    where it cannot answer, acked rows are confirmed on the ack.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{quiet, SyncError};
use crate::core::Core;
use crate::domain::command::wire::encode;
use crate::domain::sync::SyncMode;
use crate::domain::SchoolId;
use crate::domain::{DeviceId, Dialect, NewCommand};
use crate::push::command::Command;
use crate::store::admin::JobStatus;
use crate::store::sync::{ReconcileOptions, SyncAlert, SyncScope};

/// Kind of the alert raised when the delete cap holds deletes back.
pub const DELETE_CAP: &str = "delete_cap";

/// The advisory-lock key of the verifier (any constant shared by all instances).
pub const VERIFY_LOCK_KEY: i64 = 0x1c_10c4_0001;

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub now: DateTime<Utc>,
    /// Devices seen within this window count as online.
    pub online_within: Duration,
    /// A read-back acked less than this long ago may still be uploading: not judged yet.
    pub readback_grace: Duration,
    /// Only this school (all schools with push devices when `None`).
    pub school_id: Option<SchoolId>,
    /// Who started the run (`scheduler`, `api:<email>`).
    pub started_by: String,
}

impl VerifyOptions {
    /// `now` from the core's clock (tests move it instead of sleeping).
    pub fn new(started_by: &str, now: DateTime<Utc>) -> Self {
        Self {
            now,
            online_within: Duration::minutes(15),
            readback_grace: Duration::minutes(2),
            school_id: None,
            started_by: started_by.into(),
        }
    }
}

/// Findings on one device.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DeviceFindings {
    pub device_id: i64,
    pub serial_number: String,
    /// Adds and updates queued (students missing or different on the device).
    pub missing: usize,
    /// Deletes queued (students removed from the school still on the device).
    pub extra: usize,
    /// Failed rows re-sent after their back-off.
    pub retried: usize,
    /// Rows a read-back did not show (counted in `missing` too once re-queued).
    pub not_on_device: usize,
    /// Deletes refused by the safety cap (an alert is open).
    pub deletes_capped: usize,
    pub alert_id: Option<i64>,
    /// `UserCount` the device last reported, and (for firmware that cannot be read back, where
    /// the count is the evidence) the students confirmed on it.
    pub user_count: Option<i64>,
    pub confirmed: i64,
    /// Users on the device that are no student of the school (reported, deleted only by policy).
    pub unknown_users: i64,
    /// `queued`, `in flight`, `unsupported` (confirmed on ack instead).
    pub read_back: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SchoolFindings {
    pub school_id: SchoolId,
    /// Set when the school was in quiet hours: nothing was written, the next run does it.
    pub deferred_until: Option<DateTime<Utc>>,
    pub devices: Vec<DeviceFindings>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct VerifyRun {
    /// The `job_executions` row of the run; `None` when another instance was running it.
    pub job_id: Option<i64>,
    pub skipped: bool,
    pub schools: Vec<SchoolFindings>,
}

/// Runs the verifier once (skips, reporting `skipped`, when another instance holds the lock).
pub async fn run(core: &Core, opts: VerifyOptions) -> Result<VerifyRun, SyncError> {
    let Some(lock) = core.store.try_job_lock(VERIFY_LOCK_KEY).await? else {
        tracing::info!("verifier already running on another instance; skipped");
        return Ok(VerifyRun { skipped: true, ..Default::default() });
    };
    let started = std::time::Instant::now();
    let job = core.store.start_job("verifier", opts.school_id, Some(&opts.started_by), core.clock.now()).await;
    let result = run_locked(core, &opts).await;
    core.metrics.job_run("verifier", result.is_ok(), started.elapsed().as_secs_f64());
    if let Ok(job) = &job {
        let (status, summary, error) = match &result {
            Ok(schools) => (JobStatus::Succeeded, serde_json::json!({ "schools": schools }), None),
            Err(e) => (JobStatus::Failed, serde_json::json!({}), Some(e.to_string())),
        };
        if let Err(e) = core.store.finish_job(*job, status, &summary, error.as_deref()).await {
            tracing::error!(error = %e, "could not record the verifier run");
        }
    }
    lock.release().await;
    let schools = result?;
    let totals = schools
        .iter()
        .flat_map(|s| &s.devices)
        .fold((0, 0, 0), |a, d| (a.0 + d.missing, a.1 + d.extra, a.2 + d.retried));
    tracing::info!(
        schools = schools.len(),
        missing = totals.0,
        extra = totals.1,
        retried = totals.2,
        "verifier run finished"
    );
    Ok(VerifyRun { job_id: job.ok(), skipped: false, schools })
}

async fn run_locked(core: &Core, opts: &VerifyOptions) -> Result<Vec<SchoolFindings>, SyncError> {
    let mut out = Vec::new();
    for policy in core.store.sync_schools().await? {
        if opts.school_id.is_some_and(|s| s != policy.id) {
            continue;
        }
        let tz = policy.timezone.parse().unwrap_or(chrono_tz::UTC);
        if let Some(until) = quiet::quiet_until(&policy.quiet_hours, tz, opts.now) {
            out.push(SchoolFindings { school_id: policy.id, deferred_until: Some(until), devices: vec![] });
            continue;
        }
        out.push(verify_school(core, opts, policy.id, policy.unknown_user_policy == "delete").await?);
    }
    Ok(out)
}

async fn verify_school(
    core: &Core,
    opts: &VerifyOptions,
    school: SchoolId,
    delete_unknown: bool,
) -> Result<SchoolFindings, SyncError> {
    let devices = core.store.online_devices(school, opts.now - opts.online_within).await?;
    let mut findings: Vec<DeviceFindings> = devices
        .iter()
        .map(|d| DeviceFindings {
            device_id: d.id,
            serial_number: d.serial_number.clone(),
            user_count: d.user_count,
            ..Default::default()
        })
        .collect();
    if devices.is_empty() {
        return Ok(SchoolFindings { school_id: school, deferred_until: None, devices: findings });
    }
    let ids: Vec<i64> = devices.iter().map(|d| d.id).collect();
    for (device, n) in core.store.mark_missing_after_readback(&ids, opts.now - opts.readback_grace).await? {
        if let Some(f) = findings.iter_mut().find(|f| f.device_id == device) {
            f.not_on_device = n;
        }
    }
    let facts = core.store.verify_facts(school, &ids).await?;
    let fact = |id: i64| facts.iter().find(|f| f.device_id == id).cloned().unwrap_or_default();
    for (d, f) in devices.iter().zip(findings.iter_mut()) {
        if !fact(d.id).readback_unsupported {
            continue;
        }
        // No read-back on this firmware: its user count is the only evidence beyond acks.
        f.confirmed = core.store.count_confirmed(DeviceId(d.id)).await?;
        if d.user_count.is_some_and(|count| count < f.confirmed) {
            let n = core.store.reset_confirmed(DeviceId(d.id), "the device reports fewer users than confirmed").await?;
            tracing::warn!(serial = %d.serial_number, count = ?d.user_count, confirmed = f.confirmed, reset = n,
                "user count below the confirmed students; re-sending them");
        }
    }
    let reconcile = ReconcileOptions {
        now: opts.now,
        not_before: None,
        cap_deletes: true,
        max_attempts: core.max_attempts(),
        created_by: format!("verifier ({})", opts.started_by),
    };
    let scope = SyncScope { school_id: school, device_ids: Some(ids.clone()), student_ids: None };
    let report = core.store.reconcile(&scope, SyncMode::Verify, &reconcile).await?;
    for r in &report.devices {
        let Some(f) = findings.iter_mut().find(|f| f.device_id == r.device_id) else { continue };
        f.missing = r.added;
        f.extra = r.deleted;
        f.retried = r.retried;
        f.deletes_capped = r.deletes_capped;
        if r.deletes_capped > 0 {
            f.alert_id = Some(raise_cap_alert(core, school, f).await?);
        }
    }
    // Read-backs, counters and (by policy) deletes of unknown users: one transaction for all.
    // A command that cannot be rendered (a device user's PIN the grammar refuses) is skipped
    // with a warning, never sent empty.
    let mut commands: Vec<NewCommand> = Vec::new();
    let dialects: Vec<(i64, Dialect)> = devices.iter().map(|d| (d.id, d.dialect)).collect();
    let dialect_of = |id: i64| dialects.iter().find(|(d, _)| *d == id).map_or(Dialect::Att, |(_, dialect)| *dialect);
    let command = |device: i64, c: Command, by: &str| match encode(dialect_of(device), &c) {
        Ok(encoded) => Some(NewCommand {
            device_id: DeviceId(device),
            kind: c.kind().to_string(),
            verb: encoded.verb.to_string(),
            payload: encoded.payload,
            ends_batch: false,
            max_attempts: reconcile.max_attempts,
            student_id: None,
            pin: c.pin().map(str::to_string),
            depends_on_index: None,
            depends_on: None,
            created_by: Some(by.to_string()),
        }),
        Err(error) => {
            tracing::warn!(device, %error, by, "verifier command not queued: it cannot be rendered");
            None
        }
    };
    for f in findings.iter_mut() {
        let facts = fact(f.device_id);
        f.unknown_users = facts.unknown_users;
        if delete_unknown && facts.unknown_users > 0 && f.deletes_capped == 0 {
            let (_, users) = core.store.unknown_device_users(DeviceId(f.device_id), 50).await?;
            f.extra += users.len();
            for u in users {
                let delete = Command::UserDelete { pin: u.pin };
                commands.extend(command(f.device_id, delete, "verifier: unknown user (school policy)"));
            }
        }
        if facts.readback_unsupported {
            core.store.confirm_by_ack(DeviceId(f.device_id), opts.now).await?;
            f.read_back = "unsupported".into();
        } else if facts.readback_open {
            f.read_back = "in flight".into();
        } else {
            commands.extend(command(f.device_id, Command::UserQuery { pin: None }, "verifier read-back"));
            commands.extend(command(f.device_id, Command::Info, "verifier"));
            f.read_back = "queued".into();
        }
    }
    if !commands.is_empty() {
        // The store announces the devices' new commands, which wakes them on every instance.
        core.store.enqueue_commands(&commands).await?;
    }
    Ok(SchoolFindings { school_id: school, deferred_until: None, devices: findings })
}

/// One open alert per device: a later run that is capped again updates nothing new.
async fn raise_cap_alert(core: &Core, school: SchoolId, f: &DeviceFindings) -> Result<i64, SyncError> {
    if let Some(open) = core.store.open_alert(f.device_id, DELETE_CAP).await? {
        return Ok(open.id);
    }
    let message = format!(
        "The verifier wanted to delete {} users from device {} — more than the safety cap allows. Nothing was deleted. \
         Check the roster; confirm the alert to delete them, or dismiss it.",
        f.deletes_capped, f.serial_number
    );
    let confirmed = core.store.count_confirmed(DeviceId(f.device_id)).await?;
    let detail = serde_json::json!({ "deletes": f.deletes_capped, "confirmed_on_device": confirmed });
    tracing::warn!(serial = %f.serial_number, deletes = f.deletes_capped, "delete cap reached: alert raised");
    Ok(core.store.create_alert(school, f.device_id, DELETE_CAP, &message, &detail).await?)
}

/// Resolves an open alert for an admin (`confirm` or dismiss); a confirmed delete-cap alert
/// queues the deletes it held back and says how many. `None` when the alert was already
/// resolved, also by a concurrent request: it is resolved first, so of two confirms only one
/// queues (should queueing then fail, the next verifier run is capped again and raises a new
/// alert). The caller checks scope and audits.
pub async fn resolve_alert(
    core: &Core,
    alert: &SyncAlert,
    confirm: bool,
    by: &str,
) -> Result<Option<(SyncAlert, usize)>, SyncError> {
    let resolution = if confirm { "confirmed" } else { "dismissed" };
    let Some(resolved) = core.store.resolve_alert(alert.id, resolution, by).await? else { return Ok(None) };
    let deletes = match resolved.school_id {
        Some(school) if confirm && resolved.kind == DELETE_CAP => {
            confirm_cap_alert(core, school, resolved.device_id, by).await?
        }
        _ => 0,
    };
    Ok(Some((resolved, deletes)))
}

/// An admin confirmed a delete-cap alert: queue the held-back deletes for that device now.
pub async fn confirm_cap_alert(core: &Core, school: SchoolId, device: i64, by: &str) -> Result<usize, SyncError> {
    let opts = ReconcileOptions {
        max_attempts: core.max_attempts(),
        ..ReconcileOptions::new(format!("delete-cap alert confirmed by {by}"))
    };
    let scope = SyncScope { school_id: school, device_ids: Some(vec![device]), student_ids: None };
    let report = core.store.reconcile(&scope, SyncMode::Verify, &opts).await?;
    Ok(report.devices.iter().map(|d| d.deleted).sum())
}
