//! PostgreSQL backend: the production store, safe for several `ironclock serve` instances.

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
mod settings;
mod sync;
mod uploads;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

use super::{DeviceTable, DeviceUpdate, IngestReport, NewMessage, PunchFilter, Store, StoreResult, StoredRejectedLine};
use crate::domain::{
    Device, DeviceId, DeviceSeen, HandshakeFacts, NewDevice, NewPunch, NewStudent, OperlogBatch, Punch, RejectedLine,
    School, StampTable, Student,
};

pub use commands::{COMMANDS_CHANNEL, DEVICES_CHANNEL};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A pool of connections to one PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and applies pending migrations (concurrent instances serialise on sqlx's lock).
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("ironclock");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The underlying pool (LISTEN/NOTIFY and advisory locks need their own connections).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        settings::get(&self.pool, key).await
    }

    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        settings::init(&self.pool, key, value).await
    }

    async fn create_school(&self, name: &str, timezone: &str) -> StoreResult<School> {
        schools::create_school(&self.pool, name, timezone).await
    }

    async fn get_school(&self, id: i64) -> StoreResult<Option<School>> {
        schools::get_school(&self.pool, id).await
    }

    async fn create_student(&self, student: &NewStudent) -> StoreResult<Student> {
        schools::create_student(&self.pool, student).await
    }

    async fn find_device(&self, serial: &str) -> StoreResult<Option<Device>> {
        devices::find(&self.pool, serial).await
    }

    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>> {
        devices::get(&self.pool, id).await
    }

    async fn register_device(&self, device: &NewDevice) -> StoreResult<Device> {
        devices::register(&self.pool, device).await
    }

    async fn record_handshake(&self, id: DeviceId, facts: &HandshakeFacts) -> StoreResult<()> {
        devices::record_handshake(&self.pool, id, facts).await
    }

    async fn merge_device_options(&self, id: DeviceId, options: &[(String, String)]) -> StoreResult<()> {
        devices::merge_options(&self.pool, id, options).await
    }

    async fn save_poll_info(&self, id: DeviceId, info: &serde_json::Value) -> StoreResult<()> {
        devices::save_poll_info(&self.pool, id, info).await
    }

    async fn touch_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()> {
        devices::touch(&self.pool, seen).await
    }

    async fn update_device(&self, id: DeviceId, update: &DeviceUpdate) -> StoreResult<Option<Device>> {
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
        uploads::ingest_punches(&self.pool, device, message, rejected, punches).await
    }

    async fn ingest_operlog(
        &self,
        device: &Device,
        message: &NewMessage,
        rejected: &[RejectedLine],
        batch: &OperlogBatch,
    ) -> StoreResult<IngestReport> {
        uploads::ingest_operlog(&self.pool, device, message, rejected, batch).await
    }

    async fn save_stamps(&self, stamps: &[(DeviceId, StampTable, String)]) -> StoreResult<()> {
        uploads::save_stamps(&self.pool, stamps).await
    }

    async fn store_message(&self, message: &NewMessage, rejected: &[RejectedLine]) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await?;
        let id = uploads::insert_message(&mut tx, message, rejected).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_punches(&self, filter: &PunchFilter) -> StoreResult<Vec<Punch>> {
        reads::list_punches(&self.pool, filter).await
    }

    async fn count_punches(&self, device: Option<DeviceId>) -> StoreResult<i64> {
        reads::count_punches(&self.pool, device).await
    }

    async fn rejected_lines(&self, device: DeviceId) -> StoreResult<Vec<StoredRejectedLine>> {
        reads::rejected_lines(&self.pool, device).await
    }

    async fn count_messages(&self, device: Option<DeviceId>) -> StoreResult<i64> {
        reads::count_messages(&self.pool, device).await
    }

    async fn count_device_rows(&self, device: DeviceId, table: DeviceTable) -> StoreResult<i64> {
        reads::count_device_rows(&self.pool, device, table.name()).await
    }

    async fn recent_device_events(
        &self,
        device: DeviceId,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<crate::store::StoredDeviceEvent>> {
        Ok(sqlx::query_as(
            "select kind, code, time_raw, detail::text as detail, received_at from device_events
             where device_id = $1 and kind = $2 order by id desc limit $3",
        )
        .bind(device.0)
        .bind(kind)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
