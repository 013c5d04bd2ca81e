//! `PullStore`: what the pull service keeps about the devices it calls (port 4370): their
//! address and switches, what each contact taught, how polls and the realtime session are
//! doing, the punches it collected, and a lease per device so that one instance at a time
//! holds a device's session.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{IngestReport, StoreResult};
use crate::domain::{Approval, DeviceId, NewPunch, PullTransport, SchoolId, UserReport};

/// A pull device as the pull service needs it (decoded straight from its row: a pull device
/// without a host or with a port outside 0..=65535 is a decode error, never a default).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PullDevice {
    #[sqlx(try_from = "i64")]
    pub id: DeviceId,
    pub serial_number: String,
    pub name: Option<String>,
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub approval: Approval,
    pub host: String,
    #[sqlx(try_from = "i32")]
    pub port: u16,
    /// `auto` when none is stored.
    #[sqlx(try_from = "String")]
    pub transport: PullTransport,
    /// The comm key sealed with the data cipher (`None`: no key).
    pub comm_key_enc: Option<Vec<u8>>,
    pub enabled: bool,
    pub realtime_enabled: bool,
    pub clear_log_after_collect: bool,
    /// The device's own IANA zone, else its school's (punch times are device-local).
    pub timezone: Option<String>,
    pub school_timezone: Option<String>,
    pub realtime_failures: i32,
    pub realtime_failing_since: Option<DateTime<Utc>>,
    pub realtime_disabled_at: Option<DateTime<Utc>>,
    pub realtime_disabled_reason: Option<String>,
    pub poll_failures: i32,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub last_poll_at: Option<DateTime<Utc>>,
}

impl PullDevice {
    /// Whether the pull service keeps a session with it: enabled, approved and in a school.
    pub fn in_service(&self) -> bool {
        self.enabled && self.approval == Approval::Approved && self.school_id.is_some()
    }

    /// Whether a realtime session is wanted now (on, and not switched off after long failure).
    pub fn wants_realtime(&self) -> bool {
        self.in_service() && self.realtime_enabled && self.realtime_disabled_at.is_none()
    }
}

/// What one contact with a device told (identity and counters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PullFacts {
    pub serial_number: Option<String>,
    pub firmware: Option<String>,
    pub platform: Option<String>,
    pub fp_version: Option<String>,
    pub face_version: Option<String>,
    pub users: i32,
    pub fingerprints: i32,
    pub faces: i32,
    pub records: i32,
}

/// How a realtime session attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealtimeReport {
    /// Listening: failures are forgotten.
    Connected,
    /// The attempt failed; `disable` switches realtime off (with the reason) after long failure.
    Failed { error: String, disable: Option<String> },
    /// The session ended on purpose (shutdown, device disabled).
    Closed,
}

/// A device's realtime bookkeeping after a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeStanding {
    pub failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait PullStore: Send + Sync {
    /// Every pull device (in service or not), by id.
    async fn pull_devices(&self) -> StoreResult<Vec<PullDevice>>;
    async fn pull_device(&self, id: DeviceId) -> StoreResult<Option<PullDevice>>;
    /// Records a successful contact: identity (the serial replaces the placeholder unless another
    /// device has it), counters, `last_contact_at`; and switches realtime back on if it had been
    /// switched off after failures (announced, so the pull service restarts it).
    async fn record_pull_contact(&self, id: DeviceId, facts: &PullFacts, now: DateTime<Utc>) -> StoreResult<()>;
    /// Records an attendance poll: success resets the failure count, failure counts one more.
    async fn record_pull_poll(&self, id: DeviceId, error: Option<&str>, now: DateTime<Utc>) -> StoreResult<i32>;
    /// Records a realtime attempt; returns the failure count and since when it has been failing.
    async fn record_realtime(
        &self,
        id: DeviceId,
        report: &RealtimeReport,
        now: DateTime<Utc>,
    ) -> StoreResult<RealtimeStanding>;
    /// Stores collected punches (source `pull`) with the same dedupe as uploads, (device, PIN,
    /// local time), matching students by PIN within `school`, in one statement.
    async fn store_pulled_punches(
        &self,
        id: DeviceId,
        school: Option<SchoolId>,
        punches: &[NewPunch],
        now: DateTime<Utc>,
    ) -> StoreResult<IngestReport>;
    /// Replaces what the server knows the device holds with a full user list read from it.
    async fn record_pulled_users(&self, id: DeviceId, users: &[UserReport], now: DateTime<Utc>) -> StoreResult<()>;
    /// Takes or renews the device's lease for `holder` until `until`; false when another holder's
    /// lease has not expired.
    async fn try_lease(
        &self,
        id: DeviceId,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The holder of a live lease on the device, if any.
    async fn lease_holder(&self, id: DeviceId, now: DateTime<Utc>) -> StoreResult<Option<String>>;
    async fn release_lease(&self, id: DeviceId, holder: &str) -> StoreResult<()>;
}
