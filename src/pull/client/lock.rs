//! Per-device exclusive sessions: a device serves one client at a time (spec §1.2), so every
//! task in this process that talks to a device first takes its lock here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

/// One async lock per device key (its address). Cheap to clone; share one per process.
#[derive(Debug, Clone, Default)]
pub struct DeviceLocks {
    inner: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl DeviceLocks {
    /// An empty registry.
    pub fn new() -> DeviceLocks {
        DeviceLocks::default()
    }

    fn slot(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(key.to_string()).or_default())
    }

    /// Waits for the device's lock; it is held until the guard drops.
    pub async fn acquire(&self, key: &str) -> OwnedMutexGuard<()> {
        self.slot(key).lock_owned().await
    }

    /// Takes the lock only if nobody holds it.
    pub fn try_acquire(&self, key: &str) -> Option<OwnedMutexGuard<()>> {
        self.slot(key).try_lock_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_session_to_the_same_device_waits_for_the_first() {
        let locks = DeviceLocks::new();
        let first = locks.acquire("10.0.0.5:4370").await;
        assert!(locks.try_acquire("10.0.0.5:4370").is_none());
        assert!(locks.try_acquire("10.0.0.6:4370").is_some(), "other devices are independent");
        drop(first);
        assert!(locks.try_acquire("10.0.0.5:4370").is_some());
    }
}
