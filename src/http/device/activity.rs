//! `DeviceActivity`: coalesced device facts that change on (almost) every request — last-seen
//! time and IP, the last `INFO=` counters, the last upload stamp per table. Requests note them
//! in memory (a hash-map insert); a background task writes them in batches every 5 seconds.
//!
//! Losing an unflushed entry in a crash is harmless by design: last-seen is refreshed by the
//! next poll, and a stale stamp only makes the device re-send data that is then deduplicated.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::{DeviceId, DeviceSeen, StampTable};
use crate::store::{DynStore, StoreResult};

type StampKey = (DeviceId, StampTable);

/// `INFO=` counters parsed and written per statement at a flush.
const INFO_CHUNK: usize = 500;

#[derive(Default)]
pub struct DeviceActivity {
    pending_seen: Mutex<HashMap<DeviceId, DeviceSeen>>,
    latest_seen: Mutex<HashMap<DeviceId, DateTime<Utc>>>,
    last_info: Mutex<HashMap<DeviceId, String>>,
    /// The raw `INFO=` value and when it came, parsed only at the flush (a few bytes a device).
    pending_info: Mutex<HashMap<DeviceId, (String, DateTime<Utc>)>>,
    pending_stamps: Mutex<HashMap<StampKey, String>>,
    latest_stamps: Mutex<HashMap<StampKey, String>>,
    off_pin_alerts: Mutex<HashMap<(DeviceId, String), std::time::Instant>>,
}

impl DeviceActivity {
    /// Records that `id` made a request now from `ip`.
    pub fn note_seen(&self, id: DeviceId, ip: Option<String>) {
        let at = Utc::now();
        if let Ok(mut pending) = self.pending_seen.lock() {
            pending.insert(id, DeviceSeen { id, at, ip });
        }
        if let Ok(mut latest) = self.latest_seen.lock() {
            latest.insert(id, at);
        }
    }

    /// Last request time this instance saw for a device.
    pub fn last_seen(&self, id: DeviceId) -> Option<DateTime<Utc>> {
        self.latest_seen.lock().ok()?.get(&id).copied()
    }

    /// Records the stamp of an accepted upload (call only after it committed).
    pub fn note_stamp(&self, id: DeviceId, table: StampTable, stamp: &str) {
        if let Ok(mut latest) = self.latest_stamps.lock() {
            if latest.get(&(id, table)).map(String::as_str) == Some(stamp) {
                return;
            }
            latest.insert((id, table), stamp.to_string());
        }
        if let Ok(mut pending) = self.pending_stamps.lock() {
            pending.insert((id, table), stamp.to_string());
        }
    }

    /// The newest stamp this instance accepted for a table, if any (fresher than the database).
    pub fn latest_stamp(&self, id: DeviceId, table: StampTable) -> Option<String> {
        self.latest_stamps.lock().ok()?.get(&(id, table)).cloned()
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

    /// True when a request of `id` from outside its pinned address, from `ip`, should be recorded:
    /// once per device and address every 10 minutes on this instance (a device polls every few
    /// seconds; one event tells the admin, a thousand hide everything else).
    pub fn should_alert_off_pin(&self, id: DeviceId, ip: &str) -> bool {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(600);
        let Ok(mut alerts) = self.off_pin_alerts.lock() else { return true };
        let now = std::time::Instant::now();
        if alerts.len() > 10_000 {
            alerts.retain(|_, at| now.duration_since(*at) < EVERY);
        }
        match alerts.get(&(id, ip.to_string())) {
            Some(at) if now.duration_since(*at) < EVERY => false,
            _ => {
                alerts.insert((id, ip.to_string()), now);
                true
            }
        }
    }

    /// Keeps a device's raw `INFO=` value (parsed at the flush) for the next flush: a poll never waits for the
    /// database, even when its counters changed (the record count changes with every punch).
    pub fn note_poll_info(&self, id: DeviceId, raw: &str, at: DateTime<Utc>) {
        if let Ok(mut pending) = self.pending_info.lock() {
            pending.insert(id, (raw.to_string(), at));
        }
    }

    /// Writes everything pending; what fails to write is put back for the next flush.
    pub async fn flush(&self, store: &DynStore) -> StoreResult<usize> {
        let seen: Vec<DeviceSeen> = drain(&self.pending_seen).into_values().collect();
        let stamps: Vec<(DeviceId, StampTable, String)> =
            drain(&self.pending_stamps).into_iter().map(|((id, table), v)| (id, table, v)).collect();
        let raw_infos: Vec<(DeviceId, (String, DateTime<Utc>))> = drain(&self.pending_info).into_iter().collect();
        let count = seen.len() + stamps.len() + raw_infos.len();
        // Parsed a few hundred at a time: 20,000 parsed documents at once would be tens of MB
        // that the allocator keeps after the flush.
        let mut failed = None;
        for chunk in raw_infos.chunks(INFO_CHUNK) {
            let infos: Vec<(DeviceId, serde_json::Value)> =
                chunk.iter().map(|(id, (raw, at))| (*id, super::poll::info_json(raw, *at))).collect();
            if let Err(e) = store.save_poll_infos(&infos).await {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            // Chunks already written are written again next time: harmless.
            restore(&self.pending_info, raw_infos.into_iter());
            restore(&self.pending_seen, seen.into_iter().map(|s| (s.id, s)));
            restore(&self.pending_stamps, stamps.into_iter().map(|(id, t, v)| ((id, t), v)));
            return Err(e);
        }
        if !seen.is_empty() {
            if let Err(e) = store.touch_devices(&seen).await {
                restore(&self.pending_seen, seen.into_iter().map(|s| (s.id, s)));
                restore(&self.pending_stamps, stamps.into_iter().map(|(id, t, v)| ((id, t), v)));
                return Err(e);
            }
        }
        if !stamps.is_empty() {
            if let Err(e) = store.save_stamps(&stamps).await {
                restore(&self.pending_stamps, stamps.into_iter().map(|(id, t, v)| ((id, t), v)));
                return Err(e);
            }
        }
        Ok(count)
    }
}

fn drain<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>) -> HashMap<K, V> {
    map.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default()
}

/// Puts entries back unless a newer one arrived meanwhile.
fn restore<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, entries: impl Iterator<Item = (K, V)>) {
    if let Ok(mut m) = map.lock() {
        for (k, v) in entries {
            m.entry(k).or_insert(v);
        }
    }
}
