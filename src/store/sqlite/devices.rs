//! Devices: registration, handshake facts, options, coalesced last-seen, admin updates.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::domain::{Approval, Device, DeviceId, DeviceSeen, Dialect, HandshakeFacts, NewDevice};
use crate::store::types::DeviceUpdate;
use crate::store::{StoreError, StoreResult};

const COLUMNS: &str = "id, serial_number, name, school_id, area_id, mode, approval, dialect, pushver, push_version,
    firmware, platform, language, timezone, attlog_stamp, operlog_stamp, attphoto_stamp, biodata_stamp,
    first_seen_at, last_seen_at, last_ip";

fn device_from_row(r: &SqliteRow) -> StoreResult<Device> {
    let approval: String = r.get("approval");
    let dialect: String = r.get("dialect");
    Ok(Device {
        id: DeviceId(r.get("id")),
        serial_number: r.get("serial_number"),
        name: r.get("name"),
        school_id: r.get("school_id"),
        area_id: r.get("area_id"),
        mode: r.get("mode"),
        approval: Approval::parse(&approval).ok_or_else(|| StoreError::Corrupt(format!("approval {approval}")))?,
        dialect: Dialect::parse(&dialect).ok_or_else(|| StoreError::Corrupt(format!("dialect {dialect}")))?,
        pushver: r.get("pushver"),
        push_version: r.get("push_version"),
        firmware: r.get("firmware"),
        platform: r.get("platform"),
        language: r.get("language"),
        timezone: r.get("timezone"),
        attlog_stamp: r.get("attlog_stamp"),
        operlog_stamp: r.get("operlog_stamp"),
        attphoto_stamp: r.get("attphoto_stamp"),
        biodata_stamp: r.get("biodata_stamp"),
        first_seen_at: r.get("first_seen_at"),
        last_seen_at: r.get("last_seen_at"),
        last_ip: r.get("last_ip"),
    })
}

pub async fn find(pool: &SqlitePool, serial: &str) -> StoreResult<Option<Device>> {
    let sql = format!("select {COLUMNS} from devices where serial_number = ?1");
    sqlx::query(&sql).bind(serial).fetch_optional(pool).await?.as_ref().map(device_from_row).transpose()
}

pub async fn get(pool: &SqlitePool, id: DeviceId) -> StoreResult<Option<Device>> {
    let sql = format!("select {COLUMNS} from devices where id = ?1");
    sqlx::query(&sql).bind(id.0).fetch_optional(pool).await?.as_ref().map(device_from_row).transpose()
}

pub async fn list(pool: &SqlitePool) -> StoreResult<Vec<Device>> {
    let sql = format!("select {COLUMNS} from devices order by id");
    sqlx::query(&sql).fetch_all(pool).await?.iter().map(device_from_row).collect()
}

pub async fn register(pool: &SqlitePool, d: &NewDevice) -> StoreResult<Device> {
    sqlx::query(
        "insert into devices (serial_number, approval, dialect, pushver, language, last_ip, first_seen_at, last_seen_at,
                              approved_at)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, case when ?2 = 'approved' then ?7 end)
         on conflict (serial_number) do nothing",
    )
    .bind(&d.serial_number)
    .bind(d.approval.as_str())
    .bind(d.dialect.as_str())
    .bind(&d.pushver)
    .bind(&d.language)
    .bind(&d.last_ip)
    .bind(d.seen_at)
    .execute(pool)
    .await?;
    find(pool, &d.serial_number).await?.ok_or_else(|| StoreError::Corrupt("registered device vanished".into()))
}

pub async fn record_handshake(pool: &SqlitePool, id: DeviceId, f: &HandshakeFacts) -> StoreResult<()> {
    sqlx::query(
        "update devices set pushver = coalesce(?2, pushver), language = coalesce(?3, language),
                device_type = coalesce(?4, device_type), dialect = coalesce(?5, dialect)
         where id = ?1",
    )
    .bind(id.0)
    .bind(&f.pushver)
    .bind(&f.language)
    .bind(&f.device_type)
    .bind(f.dialect.map(Dialect::as_str))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn merge_options(pool: &SqlitePool, id: DeviceId, options: &[(String, String)]) -> StoreResult<()> {
    let lifted = crate::store::types::LiftedOptions::from_pairs(options);
    sqlx::query(
        "update devices set options = json_patch(options, ?2),
                firmware = coalesce(?3, firmware), platform = coalesce(?4, platform),
                push_version = coalesce(?5, push_version), name = coalesce(name, ?6)
         where id = ?1",
    )
    .bind(id.0)
    .bind(lifted.json.to_string())
    .bind(lifted.firmware)
    .bind(lifted.platform)
    .bind(lifted.push_version)
    .bind(lifted.device_name)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn save_poll_info(pool: &SqlitePool, id: DeviceId, info: &serde_json::Value) -> StoreResult<()> {
    sqlx::query("update devices set poll_info = ?2 where id = ?1")
        .bind(id.0)
        .bind(info.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn touch(pool: &SqlitePool, seen: &[DeviceSeen]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for s in seen {
        sqlx::query(
            "update devices set last_seen_at = max(coalesce(last_seen_at, ?2), ?2), last_ip = coalesce(?3, last_ip)
             where id = ?1",
        )
        .bind(s.id.0)
        .bind(s.at)
        .bind(&s.ip)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn update(pool: &SqlitePool, id: DeviceId, u: &DeviceUpdate) -> StoreResult<Option<Device>> {
    sqlx::query(
        "update devices set
            approval = coalesce(?2, approval),
            approved_at = case when ?2 = 'approved' and approval <> 'approved' then ?11 else approved_at end,
            school_id = case when ?3 then ?4 else school_id end,
            area_id = case when ?5 then ?6 else area_id end,
            timezone = case when ?7 then ?8 else timezone end,
            name = case when ?9 then ?10 else name end
         where id = ?1",
    )
    .bind(id.0)
    .bind(u.approval.map(Approval::as_str))
    .bind(u.school_id.is_some())
    .bind(u.school_id.flatten())
    .bind(u.area_id.is_some())
    .bind(u.area_id.flatten())
    .bind(u.timezone.is_some())
    .bind(u.timezone.clone().flatten())
    .bind(u.name.is_some())
    .bind(u.name.clone().flatten())
    .bind(chrono::Utc::now())
    .execute(pool)
    .await?;
    get(pool, id).await
}
