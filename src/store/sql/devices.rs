//! Devices as the device side meets them: registration, handshake facts, options, coalesced
//! last-seen. None of these writes changes what other instances cache (approval, school, zone…),
//! so none announces a change; admin changes are in `device_admin.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, Json, Rows, SqlStore};
use crate::domain::{
    Approval, Device, DeviceId, DeviceMode, DeviceSeen, Dialect as PushDialect, HandshakeFacts, NewDevice, SchoolId,
};
use crate::store::types::LiftedOptions;
use crate::store::{DeviceStore, StoreError, StoreResult};

pub(super) const DEVICE_COLUMNS: &str = "id, serial_number, name, school_id, area_id, mode, approval, dialect, pushver,
    push_version, firmware, platform, language, timezone, attlog_stamp, operlog_stamp, attphoto_stamp, biodata_stamp,
    first_seen_at, last_seen_at, last_ip";

/// A `devices` row as stored; [`DeviceRow::into_device`] checks the enumerated columns.
#[derive(sqlx::FromRow)]
pub(super) struct DeviceRow {
    id: i64,
    serial_number: String,
    name: Option<String>,
    school_id: Option<SchoolId>,
    area_id: Option<i64>,
    mode: String,
    approval: String,
    dialect: String,
    pushver: Option<String>,
    push_version: Option<String>,
    firmware: Option<String>,
    platform: Option<String>,
    language: Option<String>,
    timezone: Option<String>,
    attlog_stamp: Option<String>,
    operlog_stamp: Option<String>,
    attphoto_stamp: Option<String>,
    biodata_stamp: Option<String>,
    first_seen_at: DateTime<Utc>,
    last_seen_at: Option<DateTime<Utc>>,
    last_ip: Option<String>,
}

impl DeviceRow {
    pub(super) fn into_device(self) -> StoreResult<Device> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("device {}: {what} {value:?}", self.id));
        Ok(Device {
            approval: Approval::parse(&self.approval).ok_or_else(|| corrupt("approval", &self.approval))?,
            mode: DeviceMode::parse(&self.mode).ok_or_else(|| corrupt("mode", &self.mode))?,
            dialect: PushDialect::parse(&self.dialect).ok_or_else(|| corrupt("dialect", &self.dialect))?,
            id: DeviceId(self.id),
            serial_number: self.serial_number,
            name: self.name,
            school_id: self.school_id,
            area_id: self.area_id,
            pushver: self.pushver,
            push_version: self.push_version,
            firmware: self.firmware,
            platform: self.platform,
            language: self.language,
            timezone: self.timezone,
            attlog_stamp: self.attlog_stamp,
            operlog_stamp: self.operlog_stamp,
            attphoto_stamp: self.attphoto_stamp,
            biodata_stamp: self.biodata_stamp,
            first_seen_at: self.first_seen_at,
            last_seen_at: self.last_seen_at,
            last_ip: self.last_ip,
        })
    }
}

/// How a single device is looked up.
enum DeviceKey<'a> {
    Id(DeviceId),
    Serial(&'a str),
}

impl<D: Dialect> SqlStore<D> {
    async fn one_device(&self, key: DeviceKey<'_>) -> StoreResult<Option<Device>> {
        let column = match key {
            DeviceKey::Id(_) => "id",
            DeviceKey::Serial(_) => "serial_number",
        };
        let sql = format!("select {DEVICE_COLUMNS} from devices where {column} = $1");
        let query = match key {
            DeviceKey::Id(id) => Self::sql(&sql).bind(id.0),
            DeviceKey::Serial(serial) => Self::sql(&sql).bind(serial),
        };
        let row: Option<DeviceRow> = query.fetch_optional(&mut *self.read().await?).await?;
        row.map(DeviceRow::into_device).transpose()
    }
}

#[async_trait]
impl<D: Dialect> DeviceStore for SqlStore<D> {
    async fn find_device(&self, serial: &str) -> StoreResult<Option<Device>> {
        self.one_device(DeviceKey::Serial(serial)).await
    }

    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>> {
        self.one_device(DeviceKey::Id(id)).await
    }

    async fn list_devices(&self) -> StoreResult<Vec<Device>> {
        let sql = format!("select {DEVICE_COLUMNS} from devices order by id");
        let rows: Vec<DeviceRow> = Self::sql(&sql).fetch_all(&mut *self.read().await?).await?;
        rows.into_iter().map(DeviceRow::into_device).collect()
    }

    async fn register_device(&self, d: &NewDevice) -> StoreResult<Device> {
        let mut tx = self.write().await?;
        Self::sql(
            "insert into devices (serial_number, approval, dialect, pushver, language, last_ip, first_seen_at,
                                  last_seen_at, approved_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7, case when $2 = 'approved' then $7 end)
             on conflict (serial_number) do nothing",
        )
        .bind(&d.serial_number)
        .bind(d.approval.as_str())
        .bind(d.dialect.as_str())
        .bind(&d.pushver)
        .bind(&d.language)
        .bind(&d.last_ip)
        .bind(d.seen_at)
        .execute(&mut tx)
        .await?;
        let sql = format!("select {DEVICE_COLUMNS} from devices where serial_number = $1");
        let row: DeviceRow = Self::sql(&sql).bind(&d.serial_number).fetch_one(&mut tx).await?;
        tx.commit().await?;
        row.into_device()
    }

    async fn record_handshake(&self, id: DeviceId, f: &HandshakeFacts) -> StoreResult<()> {
        let mut db = self.write_once().await?;
        Self::sql(
            "update devices set pushver = coalesce($2, pushver), language = coalesce($3, language),
                    device_type = coalesce($4, device_type), dialect = coalesce($5, dialect)
             where id = $1",
        )
        .bind(id.0)
        .bind(&f.pushver)
        .bind(&f.language)
        .bind(&f.device_type)
        .bind(f.dialect.map(PushDialect::as_str))
        .execute(&mut db)
        .await?;
        Ok(())
    }

    async fn merge_device_options(&self, id: DeviceId, options: &[(String, String)]) -> StoreResult<()> {
        let lifted = LiftedOptions::from_pairs(options);
        let sql = format!(
            "update devices set options = {},
                    firmware = coalesce($3, firmware), platform = coalesce($4, platform),
                    push_version = coalesce($5, push_version), name = coalesce(name, $6)
             where id = $1",
            D::json_merge("options", 2)
        );
        Self::sql(&sql)
            .bind(id.0)
            .bind(Json(&lifted.json))
            .bind(&lifted.firmware)
            .bind(&lifted.platform)
            .bind(&lifted.push_version)
            .bind(&lifted.device_name)
            .execute(&mut *self.write_once().await?)
            .await?;
        Ok(())
    }

    async fn save_poll_info(&self, id: DeviceId, info: &serde_json::Value) -> StoreResult<()> {
        Self::sql("update devices set poll_info = $2 where id = $1")
            .bind(id.0)
            .bind(Json(info))
            .execute(&mut *self.write_once().await?)
            .await?;
        Ok(())
    }

    async fn touch_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        // Sorted by id so that two instances flushing at once lock rows in the same order.
        let mut seen = seen.to_vec();
        seen.sort_by_key(|s| s.id);
        let rows = Rows::new()
            .bigint("id", seen.iter().map(|s| s.id.0))
            .time("at", seen.iter().map(|s| s.at))
            .text("ip", seen.iter().map(|s| s.ip.as_deref()));
        let sql = format!(
            "update devices as d set last_seen_at = {}, last_ip = coalesce(v.ip, d.last_ip)
             from {} where d.id = v.id",
            D::greatest("d.last_seen_at", "v.at"),
            D::rows(&rows, 1, "v")
        );
        Self::sql(&sql).bind_rows(&rows).execute(&mut *self.write_once().await?).await?;
        Ok(())
    }
}
