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
use crate::domain::SchoolId;

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
}
