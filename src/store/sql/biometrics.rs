//! The biometric store per student, written once over the dialect seam: master copies upserted
//! by (school, PIN) → student (only when their bytes changed), read back by student or school,
//! and the roster standing area sync decides with. The push upload path stores its copies with
//! [`upsert_copy`] inside the upload's own transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, SqlStore};
use crate::domain::biometric::{BiometricSource, BiometricSummary, SealedBiometric, StoredBiometric};
use crate::domain::media::{MediaToken, NewMediaToken};
use crate::domain::{DeviceId, SchoolId};
use crate::store::admin::SchoolScope;
use crate::store::biometrics::{BiometricStore, PushHoldings, RosterStanding};
use crate::store::StoreResult;

const SUMMARY: &str = "kind, slot, version, flag, records, size, hash, source_device_id, source, updated_at";
const STORED: &str = "b.student_id, s.pin, b.kind, b.slot, b.version, b.flag, b.records, b.size, b.hash, b.data_enc,
    b.source_device_id";

/// Upserts one copy for the current student with its PIN in `school` (NULL: the source
/// device's school). A version the copy does not carry is the source device's known one, else
/// `unknown`. Returns the rows written (0: no such student, or the same bytes already kept).
pub(super) async fn upsert_copy<D: Dialect>(
    conn: &mut D::Connection,
    school: Option<i64>,
    source: BiometricSource,
    copy: &SealedBiometric,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    SqlStore::<D>::sql(
        "insert into student_biometrics (student_id, school_id, kind, slot, version, flag, records, size, hash,
            data_enc, source_device_id, source, updated_at)
         select s.id, s.school_id, $3, $4,
            coalesce($5, case when $3 = 'finger' then (select fp_version from devices where id = $11)
                              when $3 = 'face' then (select face_version from devices where id = $11) end, 'unknown'),
            $6, $7, $8, $9, $10, $11, $12, $13
         from students s
         where s.school_id = coalesce($1, (select school_id from devices where id = $11)) and s.pin = $2
           and s.deleted_at is null
         on conflict (student_id, kind, slot, version) do update set flag = excluded.flag,
            records = excluded.records, size = excluded.size, hash = excluded.hash, data_enc = excluded.data_enc,
            source_device_id = excluded.source_device_id, source = excluded.source, updated_at = excluded.updated_at
         where student_biometrics.hash <> excluded.hash or student_biometrics.flag <> excluded.flag",
    )
    .bind(school)
    .bind(&copy.pin)
    .bind(copy.kind.as_str())
    .bind(i32::from(copy.slot))
    .bind(copy.version.as_deref())
    .bind(i32::from(copy.flag))
    .bind(copy.records)
    .bind(copy.size)
    .bind(&copy.hash)
    .bind(&copy.sealed)
    .bind(source.device.map(|d| d.0))
    .bind(source.via)
    .bind(now)
    .execute(conn)
    .await
}

#[async_trait]
impl<D: Dialect> BiometricStore for SqlStore<D> {
    async fn save_biometrics(
        &self,
        school: SchoolId,
        source: BiometricSource,
        copies: &[SealedBiometric],
        now: DateTime<Utc>,
    ) -> StoreResult<usize> {
        if copies.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write().await?;
        let mut written = 0;
        for copy in copies {
            written += upsert_copy::<D>(&mut tx, Some(school.0), source, copy, now).await?;
        }
        tx.commit().await?;
        Ok(usize::try_from(written).unwrap_or(usize::MAX))
    }

    async fn student_biometrics(&self, scope: SchoolScope, student: i64) -> StoreResult<Option<Vec<BiometricSummary>>> {
        let mut db = self.read().await?;
        let found: Option<i64> = Self::sql(
            "select id from students where id = $1 and deleted_at is null and ($2 is null or school_id = $2)",
        )
        .bind(student)
        .bind(scope.school_id())
        .scalar_optional(&mut *db)
        .await?;
        if found.is_none() {
            return Ok(None);
        }
        let sql =
            format!("select {SUMMARY} from student_biometrics where student_id = $1 order by kind, slot, version");
        Ok(Some(Self::sql(&sql).bind(student).fetch_all(&mut *db).await?))
    }

    async fn student_biometric_copies(
        &self,
        scope: SchoolScope,
        student: i64,
    ) -> StoreResult<Option<Vec<StoredBiometric>>> {
        let mut db = self.read().await?;
        let found: Option<i64> = Self::sql(
            "select id from students where id = $1 and deleted_at is null and ($2 is null or school_id = $2)",
        )
        .bind(student)
        .bind(scope.school_id())
        .scalar_optional(&mut *db)
        .await?;
        if found.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "select {STORED} from student_biometrics b join students s on s.id = b.student_id
             where b.student_id = $1 order by b.kind, b.slot, b.version"
        );
        Ok(Some(Self::sql(&sql).bind(student).fetch_all(&mut *db).await?))
    }

    async fn school_biometrics(&self, school: SchoolId) -> StoreResult<Vec<StoredBiometric>> {
        let sql = format!(
            "select {STORED} from student_biometrics b join students s on s.id = b.student_id
             where b.school_id = $1 and s.deleted_at is null order by s.pin, b.kind, b.slot, b.version"
        );
        Self::sql(&sql).bind(school).fetch_all(&mut *self.read().await?).await
    }

    async fn roster_standing(&self, school: SchoolId) -> StoreResult<Vec<RosterStanding>> {
        Self::sql(
            "select id as student_id, pin, full_name, rfid_card_id as card, is_active as active,
                deleted_at is not null as deleted
             from students where school_id = $1 order by id",
        )
        .bind(school)
        .fetch_all(&mut *self.read().await?)
        .await
    }

    async fn push_holdings(&self, device: DeviceId) -> StoreResult<PushHoldings> {
        super::push_holdings::read::<D>(&mut *self.read().await?, device).await
    }

    async fn push_faces(&self, device: DeviceId, pins: &[String]) -> StoreResult<PushHoldings> {
        super::push_holdings::faces::<D>(&mut *self.read().await?, device, pins).await
    }

    async fn issue_media_token(&self, token: &NewMediaToken, now: DateTime<Utc>) -> StoreResult<()> {
        Self::sql(
            "insert into media_tokens (token_hash, device_id, kind, pin, image_enc, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.token_hash)
        .bind(token.device.0)
        .bind(token.kind)
        .bind(&token.pin)
        .bind(&token.image_enc)
        .bind(now)
        .bind(token.expires_at)
        .run(&mut *self.write_once().await?)
        .await
    }

    async fn attach_media_token(&self, token_hash: &str, command: i64) -> StoreResult<()> {
        Self::sql("update media_tokens set command_id = $2 where token_hash = $1")
            .bind(token_hash)
            .bind(command)
            .run(&mut *self.write_once().await?)
            .await
    }

    async fn media_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<MediaToken>> {
        Self::sql("select device_id, kind, pin, image_enc from media_tokens where token_hash = $1 and expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *self.read().await?)
            .await
    }
}
