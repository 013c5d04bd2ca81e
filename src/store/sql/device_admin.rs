//! Devices as admins manage them. `change_device` is the ONE write path of a device's approval,
//! school, area, zone and name (the API, the dashboard and the CLI all land here), and with
//! `delete_device` it announces `StoreChange::Device`, so every instance drops its cached copy.

use async_trait::async_trait;
use chrono::Utc;

use super::audit::insert_audit;
use super::roster::check_school;
use super::{Dialect, SqlStore};
use crate::domain::{Approval, DeviceId, DeviceMode, PullTransport, SchoolId};
use crate::store::admin::{
    conflict_on_unique, contains_pattern, AdminError, AdminResult, DeviceAdminStore, DeviceFilter, DeviceRecord,
    NewAudit, NewPullDevice, Paged, SchoolScope,
};
use crate::store::{DeviceUpdate, StoreChange, StoreResult};

const COLUMNS: &str = "id, serial_number, name, school_id, area_id, mode, approval, dialect, push_version, firmware,
    platform, timezone, first_seen_at, last_seen_at, last_ip, approved_at, host, port, transport, enabled,
    realtime_enabled, clear_log_after_collect, fp_version, face_version, user_count, fingerprint_count, face_count,
    record_count, last_contact_at, last_poll_at, last_poll_ok, last_poll_error, realtime_state, realtime_failures,
    realtime_disabled_at, realtime_disabled_reason, realtime_error, pinned_ip, pin_prefix,
    path_token_hash is not null as has_path_token";
const WHERE: &str = "where ($1 is null or school_id = $1) and ($2 is null or approval = $2)
    and ($3 is null or school_id = $3) and ($4 is null or area_id = $4) and ($5 is null or mode = $5)
    and ($6 is null or lower(serial_number) like lower($6) escape '\\'
         or lower(coalesce(name, '')) like lower($6) escape '\\')";

/// Checks the school exists and the area (if any) is one of its areas.
async fn check_placement<D: Dialect>(
    conn: &mut D::Connection,
    school_id: Option<SchoolId>,
    area_id: Option<i64>,
) -> AdminResult<()> {
    if let Some(school) = school_id {
        check_school::<D>(&mut *conn, school).await?;
    }
    if let Some(area) = area_id {
        let found: Option<i64> = SqlStore::<D>::sql("select id from areas where id = $1 and school_id = $2")
            .bind(area)
            .bind(school_id)
            .scalar_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(AdminError::Invalid {
                field: "area_id",
                message: format!("no area {area} in the device's school"),
            });
        }
    }
    Ok(())
}

/// A school has one pull device per address (`Conflict` on `host`); other schools' devices are
/// not looked at, so nothing about them leaks.
async fn check_address_free<D: Dialect>(
    conn: &mut D::Connection,
    school: SchoolId,
    host: &str,
    port: u16,
    except: Option<i64>,
) -> AdminResult<()> {
    let taken: Option<i64> = SqlStore::<D>::sql(
        "select id from devices where school_id = $1 and mode = 'pull' and lower(host) = lower($2) and port = $3
           and ($4 is null or id <> $4)",
    )
    .bind(school)
    .bind(host)
    .bind(i32::from(port))
    .bind(except)
    .scalar_optional(conn)
    .await?;
    match taken {
        Some(id) => Err(AdminError::Conflict {
            field: "host",
            message: format!("device {id} of this school is already at {host}:{port}"),
        }),
        None => Ok(()),
    }
}

/// The device in scope, locked for the rest of the transaction.
async fn locked_device<D: Dialect>(conn: &mut D::Connection, scope: SchoolScope, id: i64) -> AdminResult<DeviceRecord> {
    let sql =
        format!("select {COLUMNS} from devices where id = $1 and ($2 is null or school_id = $2) {}", D::FOR_UPDATE);
    SqlStore::<D>::in_scope(conn, &sql, id, scope).await?.ok_or(AdminError::NotFound("device"))
}

#[async_trait]
impl<D: Dialect> DeviceAdminStore for SqlStore<D> {
    async fn list_device_records(&self, f: &DeviceFilter) -> StoreResult<Paged<DeviceRecord>> {
        let pattern = f.search.as_deref().map(contains_pattern);
        let sql = format!("select {COLUMNS} from devices {WHERE} {} limit $7 offset $8", f.sort.order_by("id"));
        let count = format!("select count(*) from devices {WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, f.page, |q| {
            q.bind(f.scope.school_id())
                .bind(f.approval.map(Approval::as_str))
                .bind(f.school_id)
                .bind(f.area_id)
                .bind(f.mode.map(DeviceMode::as_str))
                .bind(&pattern)
        })
        .await
    }

    async fn get_device_record(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<DeviceRecord>> {
        let sql = format!("select {COLUMNS} from devices where id = $1 and ($2 is null or school_id = $2)");
        Self::in_scope(&mut *self.read().await?, &sql, id, scope).await
    }

    async fn add_pull_device(&self, d: &NewPullDevice, audit: &NewAudit) -> AdminResult<DeviceRecord> {
        let mut tx = self.write().await?;
        check_placement::<D>(&mut tx, Some(d.school_id), d.area_id).await?;
        check_address_free::<D>(&mut tx, d.school_id, &d.host, d.port, None).await?;
        let sql = format!(
            "insert into devices (serial_number, name, school_id, area_id, mode, approval, approved_at, first_seen_at,
                                  host, port, transport, comm_key_enc, enabled, realtime_enabled, clear_log_after_collect)
             values ($1, $2, $3, $4, 'pull', 'approved', $8, $8, $5, $6, $9, $7, $10, $11, $12) returning {COLUMNS}"
        );
        let device: DeviceRecord = Self::sql(&sql)
            .bind(&d.serial_number)
            .bind(&d.name)
            .bind(d.school_id)
            .bind(d.area_id)
            .bind(&d.host)
            .bind(i32::from(d.port))
            .bind(&d.comm_key_enc)
            .bind(Utc::now())
            .bind(d.transport.as_str())
            .bind(d.enabled)
            .bind(d.realtime_enabled)
            .bind(d.clear_log_after_collect)
            .fetch_one(&mut tx)
            .await
            .map_err(|e| {
                conflict_on_unique(e, "host", || format!("a device at {}:{} already exists", d.host, d.port))
            })?;
        insert_audit::<D>(&mut tx, &NewAudit { target_id: Some(device.id), ..audit.clone() }).await?;
        tx.changed(StoreChange::Device(DeviceId(device.id)));
        tx.commit().await?;
        Ok(device)
    }

    async fn change_device(
        &self,
        scope: SchoolScope,
        id: i64,
        u: &DeviceUpdate,
        audit: Option<&NewAudit>,
    ) -> AdminResult<DeviceRecord> {
        let mut tx = self.write().await?;
        let current = locked_device::<D>(&mut tx, scope, id).await?;
        let school = u.school_id.unwrap_or(current.school_id);
        if !scope.allows(school) {
            return Err(AdminError::NotFound("school"));
        }
        // Moving a device to another school drops its area unless a new one is given.
        let area = match u.area_id {
            Some(area) => area,
            None if school != current.school_id => None,
            None => current.area_id,
        };
        check_placement::<D>(&mut tx, school, area).await?;
        let approval = u.approval.map(Approval::as_str).unwrap_or(current.approval.as_str());
        if approval == "approved" && school.is_none() {
            return Err(AdminError::Invalid {
                field: "school_id",
                message: "an approved device needs a school".into(),
            });
        }
        let p = &u.pull;
        if current.mode != DeviceMode::Pull && !p.is_empty() {
            return Err(AdminError::Invalid {
                field: "mode",
                message: "only pull devices have an address, a comm key and collection switches".into(),
            });
        }
        if let (Some(school), DeviceMode::Pull) = (school, current.mode) {
            let host = p.host.clone().or(current.host.clone()).unwrap_or_default();
            let port = p.port.or(current.port.and_then(|p| u16::try_from(p).ok())).unwrap_or_default();
            check_address_free::<D>(&mut tx, school, &host, port, Some(id)).await?;
        }
        let sql = format!(
            "update devices set approval = $2,
                approved_at = case when $2 = 'approved' and approval <> 'approved' then $9 else approved_at end,
                school_id = $3, area_id = $4, timezone = case when $5 then $6 else timezone end,
                name = case when $7 then $8 else name end,
                host = coalesce($10, host), port = coalesce($11, port), transport = coalesce($12, transport),
                comm_key_enc = case when $13 then $14 else comm_key_enc end, enabled = coalesce($15, enabled),
                realtime_enabled = coalesce($16, realtime_enabled),
                clear_log_after_collect = coalesce($17, clear_log_after_collect),
                realtime_disabled_at = case when $16 then null else realtime_disabled_at end,
                realtime_disabled_reason = case when $16 then null else realtime_disabled_reason end,
                realtime_failures = case when $16 then 0 else realtime_failures end,
                realtime_failing_since = case when $16 then null else realtime_failing_since end,
                pinned_ip = case when $18 then $19 when $2 = 'approved' and approval <> 'approved' then last_ip
                                 else pinned_ip end,
                pin_prefix = case when $20 then $21 else pin_prefix end,
                path_token_hash = case when $22 then $23 else path_token_hash end
             where id = $1 returning {COLUMNS}"
        );
        let device: DeviceRecord = Self::sql(&sql)
            .bind(id)
            .bind(approval)
            .bind(school)
            .bind(area)
            .bind(u.timezone.is_some())
            .bind(u.timezone.clone().flatten())
            .bind(u.name.is_some())
            .bind(u.name.clone().flatten())
            .bind(Utc::now())
            .bind(&p.host)
            .bind(p.port.map(i32::from))
            .bind(p.transport.map(PullTransport::as_str))
            .bind(p.comm_key_enc.is_some())
            .bind(p.comm_key_enc.clone().flatten())
            .bind(p.enabled)
            .bind(p.realtime_enabled)
            .bind(p.clear_log_after_collect)
            .bind(u.pinned_ip.is_some())
            .bind(u.pinned_ip.clone().flatten())
            .bind(u.pin_prefix.is_some())
            .bind(u.pin_prefix.flatten())
            .bind(u.path_token_hash.is_some())
            .bind(u.path_token_hash.clone().flatten())
            .fetch_one(&mut tx)
            .await?;
        if let Some(audit) = audit {
            insert_audit::<D>(&mut tx, audit).await?;
        }
        tx.changed(StoreChange::Device(DeviceId(id)));
        tx.commit().await?;
        Ok(device)
    }

    async fn delete_device(
        &self,
        scope: SchoolScope,
        id: i64,
        purge: bool,
        audit: &NewAudit,
    ) -> AdminResult<DeviceRecord> {
        let mut tx = self.write().await?;
        let device = locked_device::<D>(&mut tx, scope, id).await?;
        let punches: i64 =
            Self::sql("select count(*) from attendance_logs where device_id = $1").bind(id).scalar(&mut tx).await?;
        if punches > 0 && !purge {
            return Err(AdminError::Conflict {
                field: "purge",
                message: format!(
                    "the device has {punches} punches and deleting it deletes them: block it instead, or pass purge=true"
                ),
            });
        }
        Self::sql("delete from devices where id = $1").bind(id).execute(&mut tx).await?;
        let detail = serde_json::json!({ "serial_number": device.serial_number, "punches_deleted": punches });
        insert_audit::<D>(&mut tx, &NewAudit { detail, ..audit.clone() }).await?;
        tx.changed(StoreChange::Device(DeviceId(id)));
        tx.commit().await?;
        Ok(device)
    }
}
