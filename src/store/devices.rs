//! `DeviceStore`: devices as the device side meets them (first contact, handshake facts,
//! options, coalesced last-seen). Admin changes to a device (approval, school, zone, name,
//! deletion) have one write path, `DeviceAdminStore::change_device` / `delete_device`.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::{Device, DeviceId, DeviceSeen, HandshakeFacts, NewDevice};

#[async_trait]
pub trait DeviceStore: Send + Sync {
    async fn find_device(&self, serial: &str) -> StoreResult<Option<Device>>;
    /// The devices with these serial numbers (those that exist, in no particular order): one
    /// statement for a burst of first contacts.
    async fn find_devices(&self, serials: &[String]) -> StoreResult<Vec<Device>>;
    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>>;
    async fn list_devices(&self) -> StoreResult<Vec<Device>>;
    /// Inserts a device seen for the first time; when the serial already exists (a race between
    /// two requests or two instances) returns the existing row unchanged.
    async fn register_device(&self, device: &NewDevice) -> StoreResult<Device>;
    /// [`register_device`](Self::register_device) for many serials in one statement: one row per
    /// distinct serial (the first entry of a serial given twice), in no particular order.
    async fn register_devices(&self, devices: &[NewDevice]) -> StoreResult<Vec<Device>>;
    /// [`register_devices`](Self::register_devices) for pending devices while fewer than
    /// `max_pending` devices wait for approval: counted and written in one transaction,
    /// serialised across instances, so a burst on several instances cannot overshoot the limit.
    /// The registered devices (known serials come back as they are), and the serials refused.
    async fn register_pending_devices(
        &self,
        devices: &[NewDevice],
        max_pending: i64,
    ) -> StoreResult<(Vec<Device>, Vec<String>)>;
    /// Bytes kept for a device: its raw messages and its options (capped for pending devices).
    async fn bytes_kept(&self, id: DeviceId) -> StoreResult<i64>;
    /// Notes what a handshake's query told (pushver, language, DeviceType); returns the device as
    /// it now is (`None` when it was deleted meanwhile), so the handshake reads nothing more.
    async fn record_handshake(&self, id: DeviceId, facts: &HandshakeFacts) -> StoreResult<Option<Device>>;
    /// [`record_handshake`](Self::record_handshake) for many devices in one statement: the
    /// devices that still exist, as they now are, in no particular order (the last facts of a
    /// device given twice win).
    async fn record_handshakes(&self, facts: &[(DeviceId, HandshakeFacts)]) -> StoreResult<Vec<Device>>;
    /// Merges `options` (key/value facts from `table=options`, INFO dumps) into the device's
    /// options and lifts identity fields (firmware, platform, push version) into their columns.
    /// The self-reported `~DeviceName` becomes the device's name only once it is approved (and
    /// has no name yet): a pending device cannot name itself in the admin's list.
    async fn merge_device_options(&self, id: DeviceId, options: &[(String, String)]) -> StoreResult<()>;
    /// The `INFO=` counters of many devices (the activity flush), a statement per few hundred.
    async fn save_poll_infos(&self, infos: &[(DeviceId, serde_json::Value)]) -> StoreResult<()>;
    /// Applies coalesced last-seen observations (a statement per few hundred devices).
    async fn touch_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()>;
}
