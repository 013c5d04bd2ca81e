//! What instances sharing one database coordinate through: change notifications for what they
//! cache, and instance-wide job locks.
//!
//! Every write that another instance may cache (a device's approval, school, area, zone, name or
//! deletion; a school's zone; new or unblocked commands) records a [`StoreChange`] in its write
//! transaction. On commit the change is announced once, by one path: PostgreSQL `NOTIFY` inside
//! the transaction (delivered to every instance, this one included, only if it commits), and the
//! hooks of this instance at once, so the next request here already sees it. SQLite has one
//! serving process per file: its hooks are the whole audience.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::domain::{DeviceId, SchoolId};

/// A change made by some instance (or any process) sharing the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreChange {
    /// The device has new (or newly deliverable) commands.
    Commands(DeviceId),
    /// The device's row changed (approval, school, area, zone, name) or it was deleted.
    Device(DeviceId),
    /// The school's row changed (its time zone converts its devices' punches).
    School(SchoolId),
    /// An on-demand area sync (an area's or a device's) was handed to the instances running the
    /// pull service (`sync::area::requests`): one of them claims it now, not at its next tick.
    AreaSyncRequested,
    /// Notifications may have been lost (connection dropped): re-read everything cached.
    Resync,
}

impl StoreChange {
    /// The NOTIFY payload (`c:12`, `d:12`, `s:3`, `a`, `r`).
    pub fn encode(&self) -> String {
        match self {
            StoreChange::Commands(id) => format!("c:{}", id.0),
            StoreChange::Device(id) => format!("d:{}", id.0),
            StoreChange::School(id) => format!("s:{}", id.0),
            StoreChange::AreaSyncRequested => "a".into(),
            StoreChange::Resync => "r".into(),
        }
    }

    pub fn decode(payload: &str) -> Option<Self> {
        match payload {
            "r" => return Some(StoreChange::Resync),
            "a" => return Some(StoreChange::AreaSyncRequested),
            _ => {}
        }
        let (kind, id) = payload.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "c" => Some(StoreChange::Commands(DeviceId(id))),
            "d" => Some(StoreChange::Device(DeviceId(id))),
            "s" => Some(StoreChange::School(SchoolId(id))),
            _ => None,
        }
    }
}

/// Called for every change, from this instance or another. Must be quick and never block.
pub type ChangeHook = Arc<dyn Fn(&StoreChange) + Send + Sync>;

/// The hooks of this instance.
#[derive(Default)]
pub struct ChangeHub {
    hooks: RwLock<Vec<ChangeHook>>,
}

impl ChangeHub {
    pub fn add(&self, hook: ChangeHook) {
        if let Ok(mut hooks) = self.hooks.write() {
            hooks.push(hook);
        }
    }

    pub fn publish(&self, changes: &[StoreChange]) {
        if changes.is_empty() {
            return;
        }
        let hooks = match self.hooks.read() {
            Ok(h) => h.clone(),
            Err(_) => return,
        };
        for change in changes {
            for hook in &hooks {
                hook(change);
            }
        }
    }
}

/// Guard of an instance-wide job lock; `release` frees it (dropping also frees it, later).
#[async_trait]
pub trait JobLock: Send {
    async fn release(self: Box<Self>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_their_notify_payload() {
        for c in
            [StoreChange::Commands(DeviceId(7)), StoreChange::Device(DeviceId(8)), StoreChange::School(SchoolId(3))]
        {
            assert_eq!(StoreChange::decode(&c.encode()), Some(c));
        }
        assert_eq!(StoreChange::decode("r"), Some(StoreChange::Resync));
        assert_eq!(StoreChange::decode(&StoreChange::AreaSyncRequested.encode()), Some(StoreChange::AreaSyncRequested));
        assert_eq!(StoreChange::decode("x:1"), None);
        assert_eq!(StoreChange::decode("d:notanumber"), None);
    }

    #[test]
    fn every_hook_hears_every_published_change() {
        let hub = ChangeHub::default();
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        for _ in 0..2 {
            let heard = heard.clone();
            hub.add(Arc::new(move |c| heard.lock().unwrap().push(*c)));
        }
        hub.publish(&[StoreChange::School(SchoolId(1)), StoreChange::Device(DeviceId(2))]);
        assert_eq!(heard.lock().unwrap().len(), 4);
    }
}
