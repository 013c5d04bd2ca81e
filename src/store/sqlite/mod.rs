//! Embedded SQLite backend: the zero-setup default (`sqlite://ironclock.db`).
//!
//! WAL journal, foreign keys on, `synchronous=FULL` (an acknowledged punch survives a power
//! cut, not only a process crash). Writers are serialised by one async mutex instead of
//! SQLite's busy-retry loop: SQLite has one writer anyway, and queueing is fairer than spinning.

mod admin_accounts;
mod admin_attendance;
mod admin_audit;
mod admin_devices;
mod admin_roster;
mod admin_students;
mod commands;
mod devices;
mod reads;
mod schools;
mod sync;
mod uploads;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::Mutex;

use super::{DeviceTable, DeviceUpdate, IngestReport, NewMessage, PunchFilter, Store, StoreResult, StoredRejectedLine};
use crate::domain::{
    Device, DeviceId, DeviceSeen, HandshakeFacts, NewDevice, NewPunch, NewStudent, OperlogBatch, Punch, RejectedLine,
    School, StampTable, Student,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
    /// The instance lock of scheduled jobs (one process owns a SQLite file).
    jobs: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, writer: Arc::new(Mutex::new(())), jobs: Arc::new(Mutex::new(())) })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("select value from settings where key = ?1").bind(key).fetch_optional(&self.pool).await?)
    }

    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        let _w = self.writer.lock().await;
        sqlx::query("insert into settings (key, value) values (?1, ?2) on conflict (key) do nothing")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("select value from settings where key = ?1").bind(key).fetch_one(&self.pool).await?)
    }

    async fn create_school(&self, name: &str, timezone: &str) -> StoreResult<School> {
        let _w = self.writer.lock().await;
        schools::create_school(&self.pool, name, timezone).await
    }

    async fn get_school(&self, id: i64) -> StoreResult<Option<School>> {
        schools::get_school(&self.pool, id).await
    }

    async fn create_student(&self, student: &NewStudent) -> StoreResult<Student> {
        let _w = self.writer.lock().await;
        schools::create_student(&self.pool, student).await
    }

    async fn find_device(&self, serial: &str) -> StoreResult<Option<Device>> {
        devices::find(&self.pool, serial).await
    }

    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>> {
        devices::get(&self.pool, id).await
    }

    async fn register_device(&self, device: &NewDevice) -> StoreResult<Device> {
        let _w = self.writer.lock().await;
        devices::register(&self.pool, device).await
    }

    async fn record_handshake(&self, id: DeviceId, facts: &HandshakeFacts) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        devices::record_handshake(&self.pool, id, facts).await
    }

    async fn merge_device_options(&self, id: DeviceId, options: &[(String, String)]) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        devices::merge_options(&self.pool, id, options).await
    }

    async fn save_poll_info(&self, id: DeviceId, info: &serde_json::Value) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        devices::save_poll_info(&self.pool, id, info).await
    }

    async fn touch_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        devices::touch(&self.pool, seen).await
    }

    async fn update_device(&self, id: DeviceId, update: &DeviceUpdate) -> StoreResult<Option<Device>> {
        let _w = self.writer.lock().await;
        devices::update(&self.pool, id, update).await
    }

    async fn list_devices(&self) -> StoreResult<Vec<Device>> {
        devices::list(&self.pool).await
    }

    async fn ingest_punches(
        &self,
        device: &Device,
        message: &NewMessage,
        rejected: &[RejectedLine],
        punches: &[NewPunch],
    ) -> StoreResult<IngestReport> {
        let _w = self.writer.lock().await;
        uploads::ingest_punches(&self.pool, device, message, rejected, punches).await
    }

    async fn ingest_operlog(
        &self,
        device: &Device,
        message: &NewMessage,
        rejected: &[RejectedLine],
        batch: &OperlogBatch,
    ) -> StoreResult<IngestReport> {
        let _w = self.writer.lock().await;
        uploads::ingest_operlog(&self.pool, device, message, rejected, batch).await
    }

    async fn save_stamps(&self, stamps: &[(DeviceId, StampTable, String)]) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        uploads::save_stamps(&self.pool, stamps).await
    }

    async fn store_message(&self, message: &NewMessage, rejected: &[RejectedLine]) -> StoreResult<i64> {
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let id = uploads::insert_message(&mut tx, message, rejected).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_punches(&self, filter: &PunchFilter) -> StoreResult<Vec<Punch>> {
        reads::list_punches(&self.pool, filter).await
    }

    async fn count_punches(&self, device: Option<DeviceId>) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("select count(*) from attendance_logs where (?1 is null or device_id = ?1)")
            .bind(device.map(|d| d.0))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn rejected_lines(&self, device: DeviceId) -> StoreResult<Vec<StoredRejectedLine>> {
        reads::rejected_lines(&self.pool, device).await
    }

    async fn count_messages(&self, device: Option<DeviceId>) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("select count(*) from device_messages where (?1 is null or device_id = ?1)")
            .bind(device.map(|d| d.0))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn count_device_rows(&self, device: DeviceId, table: DeviceTable) -> StoreResult<i64> {
        let sql = format!("select count(*) from {} where device_id = ?1", table.name());
        Ok(sqlx::query_scalar(&sql).bind(device.0).fetch_one(&self.pool).await?)
    }

    async fn recent_device_events(
        &self,
        device: DeviceId,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<crate::store::StoredDeviceEvent>> {
        Ok(sqlx::query_as(
            "select kind, code, time_raw, detail as detail, received_at from device_events
             where device_id = ?1 and kind = ?2 order by id desc limit ?3",
        )
        .bind(device.0)
        .bind(kind)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
