//! `SeenTracker`: coalesces "device was seen" writes. Every device request notes the device
//! here (a hash-map insert); a background task writes all of them in one statement per second.
//! The in-memory map is also the freshest last-seen view for online/offline decisions.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::{DeviceId, DeviceSeen};
use crate::store::{DynStore, StoreResult};

#[derive(Default)]
pub struct SeenTracker {
    pending: Mutex<HashMap<DeviceId, DeviceSeen>>,
    latest: Mutex<HashMap<DeviceId, DateTime<Utc>>>,
    last_info: Mutex<HashMap<DeviceId, String>>,
}

impl SeenTracker {
    /// Records that `id` made a request now from `ip`.
    pub fn note(&self, id: DeviceId, ip: Option<String>) {
        let at = Utc::now();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, DeviceSeen { id, at, ip });
        }
        if let Ok(mut latest) = self.latest.lock() {
            latest.insert(id, at);
        }
    }

    /// Last request time this instance saw for a device.
    pub fn last_seen(&self, id: DeviceId) -> Option<DateTime<Utc>> {
        self.latest.lock().ok()?.get(&id).copied()
    }

    /// True when a poll's `INFO=` value differs from the last one recorded for the device
    /// (and remembers it), so unchanged counters are not rewritten on every poll.
    pub fn info_changed(&self, id: DeviceId, info: &str) -> bool {
        let Ok(mut last) = self.last_info.lock() else { return true };
        if last.get(&id).map(String::as_str) == Some(info) {
            return false;
        }
        last.insert(id, info.to_string());
        true
    }

    /// Forgets the remembered `INFO=` value (after a failed write, so the next poll retries).
    pub fn forget_info(&self, id: DeviceId) {
        if let Ok(mut last) = self.last_info.lock() {
            last.remove(&id);
        }
    }

    /// Writes all pending observations; on failure they are put back for the next flush.
    pub async fn flush(&self, store: &DynStore) -> StoreResult<usize> {
        let batch: Vec<DeviceSeen> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(_, seen)| seen).collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(e) = store.touch_devices(&batch).await {
            if let Ok(mut pending) = self.pending.lock() {
                for seen in batch {
                    pending.entry(seen.id).or_insert(seen);
                }
            }
            return Err(e);
        }
        Ok(batch.len())
    }
}
