//! What a session with a pull device does: read its facts, collect its attendance, and carry
//! out the commands queued for it (the same command rows push devices get, so student sync,
//! full sync, retry, the verifier and their status rows work unchanged for pull devices).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::punches;
use crate::core::Core;
use crate::domain::sync::ObservedUser;
use crate::domain::{AckUpdate, CommandState, DeviceId, NewCommand, Pin, UserReport};
use crate::pull::client::UserSpec;
use crate::pull::{Client, Error};
use crate::push::records::user::parse_user_fields;
use crate::store::pull::{PullDevice, PullFacts};
use crate::store::sync::ReconcileOptions;
use crate::store::StoreError;

/// The verb of the collection job a caller queues for a pull device (`POST …/sync-attendance`,
/// the scheduled poll on another instance).
pub const COLLECT: &str = "PULL COLLECT";
/// The verb of a connection test run by the instance holding the device's session.
pub const TEST: &str = "PULL TEST";

/// What went wrong in a session: the device (retry later) or the server's own storage.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("{0}")]
    Device(#[from] Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One collection's figures (`POST /api/v1/devices/{id}/sync-attendance` answers with them).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Collected {
    /// Records on the device.
    pub total_records: usize,
    /// Newly stored punches.
    pub logs_synced: usize,
    /// Records already stored (read again).
    pub duplicates: usize,
    /// Records without a user id (not stored; reported).
    pub unnamed: usize,
    /// Whether the device's log was cleared afterwards (admin opt-in, every record stored).
    pub cleared: bool,
}

/// Identity and counters of the device.
pub async fn facts(client: &mut Client) -> Result<PullFacts, Error> {
    let info = client.info().await?;
    Ok(PullFacts {
        serial_number: info.serial.filter(|s| !s.trim().is_empty()),
        firmware: Some(info.firmware).filter(|f| !f.is_empty()),
        platform: info.platform,
        fp_version: info.fp_version.map(|v| v.to_string()),
        face_version: info.face_enabled.then_some(info.face_version).flatten().map(|v| v.to_string()),
        users: info.sizes.users,
        fingerprints: info.sizes.fingers,
        faces: info.sizes.faces.unwrap_or(0),
        records: info.sizes.records,
    })
}

/// Reads every record, stores those the server does not have (one set-based statement that
/// skips the rest), and clears the device's log only when the admin opted in and every record
/// is stored.
pub async fn collect(
    core: &Core,
    client: &mut Client,
    device: &PullDevice,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Collected, WorkError> {
    let records = client.read_attendance().await?;
    let (punches, unnamed) = punches::from_records(&records, tz, now);
    let report = core.store.store_pulled_punches(device.id, device.school_id, &punches, now).await?;
    let mut out = Collected {
        total_records: records.len(),
        logs_synced: report.inserted,
        duplicates: report.duplicates,
        unnamed,
        cleared: false,
    };
    let all_stored = unnamed == 0 && report.inserted + report.duplicates == punches.len();
    if device.clear_log_after_collect && all_stored && !records.is_empty() {
        // Punches made between the read and the clear would be lost: refused while we clear.
        client.disable(std::time::Duration::from_secs(30)).await?;
        let again = client.read_attendance().await?;
        if again.len() == records.len() {
            client.clear_attendance().await?;
            out.cleared = true;
        }
        client.enable().await?;
    }
    Ok(out)
}

/// A command carried out over the pull session, with its result.
pub fn done(id: i64, result: Option<String>) -> AckUpdate {
    AckUpdate {
        id,
        state: CommandState::Acked,
        return_code: Some(0),
        return_message: "done over the pull session".into(),
        result,
        error: None,
    }
}

/// A command that failed over the pull session (or could not reach the device).
pub fn failed(id: i64, error: String) -> AckUpdate {
    AckUpdate {
        id,
        state: CommandState::Failed,
        return_code: None,
        return_message: "failed over the pull session".into(),
        result: None,
        error: Some(error),
    }
}

fn ack(id: i64, outcome: Result<Option<String>, String>) -> AckUpdate {
    match outcome {
        Ok(result) => done(id, result),
        Err(error) => failed(id, error),
    }
}

/// A USERINFO update as the pull client writes it.
fn user_spec(fields: &str) -> Result<UserSpec, String> {
    let user = parse_user_fields(fields)?;
    let card = match user.card.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<u32>().map_err(|_| format!("card {c:?} is not a number this device can hold"))?,
    };
    Ok(UserSpec {
        user_id: user.pin,
        name: user.name.unwrap_or_default(),
        privilege: u8::try_from(user.privilege.unwrap_or(0)).unwrap_or(0),
        password: user.password.unwrap_or_default(),
        card,
        group: user.group.and_then(|g| g.parse().ok()).unwrap_or(1),
    })
}

/// Carries out claimed commands in order; returns their acks. User writes are applied in ONE
/// batch (one read of the user table) with the keypad locked for just that batch; a read-back
/// (`DATA QUERY USERINFO`) reads the whole user list and confirms the sync rows on evidence.
pub async fn execute(
    core: &Core,
    client: &mut Client,
    device: &PullDevice,
    commands: &[(i64, String)],
) -> Result<Vec<AckUpdate>, WorkError> {
    let mut acks = Vec::new();
    let mut updates: Vec<(i64, UserSpec)> = Vec::new();
    let mut read_back = false;
    for (id, payload) in commands {
        if let Some(fields) = payload.strip_prefix("DATA UPDATE USERINFO ") {
            match user_spec(fields) {
                Ok(spec) => updates.push((*id, spec)),
                Err(e) => acks.push(ack(*id, Err(e))),
            }
        } else if let Some(pin) = payload.strip_prefix("DATA DELETE USERINFO PIN=") {
            let outcome = client.delete_user(pin.trim()).await;
            acks.push(ack(*id, outcome.map(|_| None).map_err(|e| e.to_string())));
        } else if payload.starts_with("DATA QUERY USERINFO") {
            read_back = true;
            acks.push(ack(*id, Ok(None)));
        } else if payload == "INFO" || payload == TEST {
            let f = facts(client).await?;
            core.store.record_pull_contact(device.id, &f, core.clock.now()).await?;
            acks.push(ack(*id, Ok(serde_json::to_string(&f).ok())));
        } else {
            acks.push(ack(*id, Err(format!("not a command a pull device can carry out: {payload}"))));
        }
    }
    if !updates.is_empty() {
        client.disable(std::time::Duration::from_secs(60)).await?;
        let specs: Vec<UserSpec> = updates.iter().map(|(_, s)| s.clone()).collect();
        let written = client.upsert_users(&specs).await;
        client.enable().await?;
        for ((id, _), outcome) in updates.iter().zip(written?) {
            acks.push(ack(*id, outcome.map(|_| None).map_err(|e| e.to_string())));
        }
        read_back = true;
    }
    if read_back {
        read_users_back(core, client, device.id).await?;
    }
    Ok(acks)
}

/// Reads the device's user list: it replaces what the server knows the device holds, and
/// confirms (or re-queues) the students' sync rows on that evidence.
pub async fn read_users_back(core: &Core, client: &mut Client, device: DeviceId) -> Result<usize, WorkError> {
    let users = client.read_users().await?;
    let reports: Vec<UserReport> = users
        .iter()
        .map(|u| UserReport {
            pin: u.user_id.clone(),
            name: Some(u.name.clone()),
            privilege: Some(i32::from(u.privilege)),
            card: (u.card != 0).then(|| u.card.to_string()),
            group_id: Some(u.group.to_string()),
            verify: None,
            attributes: serde_json::json!({ "uid": u.uid }),
        })
        .collect();
    let now = core.clock.now();
    core.store.record_pulled_users(device, &reports, now).await?;
    let observed: Vec<ObservedUser> = users
        .iter()
        .map(|u| ObservedUser {
            pin: Pin(u.user_id.clone()),
            name: u.name.clone(),
            card: (u.card != 0).then(|| u.card.to_string()),
        })
        .collect();
    let opts = ReconcileOptions { now, max_attempts: core.max_attempts(), ..ReconcileOptions::new("pull read-back") };
    core.store.observe_users(device, &observed, &opts).await?;
    Ok(users.len())
}

/// A job command (collection, connection test) queued for a pull device.
pub fn job_command(device: DeviceId, verb: &str, by: &str) -> NewCommand {
    NewCommand {
        device_id: device,
        kind: verb.to_ascii_lowercase().replace(' ', "_"),
        verb: verb.into(),
        payload: verb.into(),
        ends_batch: true,
        max_attempts: 1,
        student_id: None,
        pin: None,
        depends_on_index: None,
        depends_on: None,
        created_by: Some(by.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_userinfo_update_becomes_the_pull_write_of_the_same_person() {
        let spec =
            user_spec("PIN=1007\tName=Asha Rao\tPri=0\tPasswd=\tCard=7788\tGrp=1\tTZ=0000000100000000\tVerify=0")
                .unwrap();
        assert_eq!((spec.user_id.as_str(), spec.name.as_str(), spec.card, spec.group), ("1007", "Asha Rao", 7788, 1));
        assert!(user_spec("PIN=1\tName=x\tCard=[AB12]").unwrap_err().contains("not a number"));
    }
}
