//! `BiometricStore`: the biometric store per student (master copies of fingerprints, face sets
//! and photos, sealed with the data cipher), and the roster standing area sync decides with.
//!
//! Contract (both backends): a copy is kept only for a current (not deleted) student of the
//! school with its PIN; a copy replaces the one in its slot (student, kind, slot, version) only
//! when its bytes differ (so a second identical save changes nothing); reads by student are
//! scoped like every school-owned row (another school's student is `None`, as a missing one).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::admin::SchoolScope;
use super::StoreResult;
use crate::domain::biometric::{BiometricSource, BiometricSummary, SealedBiometric, StoredBiometric};
use crate::domain::media::{MediaToken, NewMediaToken};
use crate::domain::{DeviceId, SchoolId};

/// A student as area sync sees the roster: present and active, deactivated, or deleted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RosterStanding {
    pub student_id: i64,
    pub pin: String,
    pub full_name: String,
    pub card: Option<String>,
    pub active: bool,
    pub deleted: bool,
}

#[async_trait]
pub trait BiometricStore: Send + Sync {
    /// Keeps `copies` as the master copies of the students of `school` with their PINs (a PIN
    /// of no current student is skipped); returns how many rows were written or changed.
    async fn save_biometrics(
        &self,
        school: SchoolId,
        source: BiometricSource,
        copies: &[SealedBiometric],
        now: DateTime<Utc>,
    ) -> StoreResult<usize>;
    /// What is kept for the student (no bytes), or `None` when no such student is in `scope`.
    async fn student_biometrics(&self, scope: SchoolScope, student: i64) -> StoreResult<Option<Vec<BiometricSummary>>>;
    /// The student's copies with their sealed bytes, or `None` when not in `scope`.
    async fn student_biometric_copies(
        &self,
        scope: SchoolScope,
        student: i64,
    ) -> StoreResult<Option<Vec<StoredBiometric>>>;
    /// Every master copy of the school's current students, sealed.
    async fn school_biometrics(&self, school: SchoolId) -> StoreResult<Vec<StoredBiometric>>;
    /// Every student of the school, deleted ones included (their PIN stays reserved).
    async fn roster_standing(&self, school: SchoolId) -> StoreResult<Vec<RosterStanding>>;
    /// What ironclock knows a push device holds, for area sync (see [`PushHoldings`]).
    async fn push_holdings(&self, device: DeviceId) -> StoreResult<PushHoldings>;
    /// The face rows (`FACE` uploads, kind `face`, bio type 2) `device` sent for `pins`, with its
    /// profile (`options`, heartbeat); the other fields of [`PushHoldings`] are left empty.
    async fn push_faces(&self, device: DeviceId, pins: &[String]) -> StoreResult<PushHoldings>;
    /// Keeps a photo download token (its hash).
    async fn issue_media_token(&self, token: &NewMediaToken, now: DateTime<Utc>) -> StoreResult<()>;
    /// Records the command that carries the token's URL.
    async fn attach_media_token(&self, token_hash: &str, command: i64) -> StoreResult<()>;
    /// The photo behind a token hash, while it has not expired (`None` otherwise).
    async fn media_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<MediaToken>>;
}

/// What ironclock knows a push device holds: its profile, the users it reported and the
/// students sync has on it or on the way, the templates and photos it uploaded (sealed), and
/// the writes queued to it that have not failed.
#[derive(Debug, Clone, Default)]
pub struct PushHoldings {
    /// The `options` it uploaded (`FPVersion`, `FaceFunOn`, `MultiBioVersion`, …).
    pub options: serde_json::Value,
    /// Its last `INFO=` heartbeat as stored (`fp_version`, `face_version`, `functions`).
    pub poll_info: serde_json::Value,
    pub users: Vec<HeldUser>,
    pub templates: Vec<HeldTemplate>,
    pub photos: Vec<HeldPhoto>,
    /// Photos sent by URL (BIOPHOTO) whose command is queued, sent or acknowledged.
    pub sent_photos: Vec<HeldPhoto>,
    /// Template, photo and user writes queued, sent or acknowledged (not failed or cancelled).
    pub writes: Vec<HeldWrite>,
}

/// A user the device reported, or a student sync has on it or on the way.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldUser {
    pub pin: String,
    pub name: Option<String>,
    pub privilege: Option<i32>,
    pub card: Option<String>,
}

/// A template the device uploaded (`FP`, `FACE`, `BIODATA` lines); `template_enc` seals the
/// base64 text as sent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldTemplate {
    pub pin: String,
    pub kind: String,
    pub bio_type: i32,
    pub finger_no: i32,
    /// The record number within the biometric (a `FACE` line's `FID`).
    pub template_index: i32,
    pub major_ver: Option<String>,
    pub valid: Option<i32>,
    pub duress: Option<i32>,
    pub template_enc: Vec<u8>,
    /// When it was last uploaded (orders it against writes queued to the device).
    pub reported_at: DateTime<Utc>,
}

/// A user photo the device uploaded (sealed image bytes).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldPhoto {
    pub pin: String,
    pub image_enc: Vec<u8>,
}

/// A write queued to the device (its payload as rendered): users, fingerprints, faces
/// (`face_update`, `face_delete`) and photos.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldWrite {
    pub id: i64,
    pub kind: String,
    pub pin: Option<String>,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}
