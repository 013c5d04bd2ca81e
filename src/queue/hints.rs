//! `QueueHints`: the in-memory "does this device have work?" view that lets an idle poll be
//! answered without a database round trip.
//!
//! A device is checked against the database when it is unknown (first poll after start),
//! marked busy (a command was queued here or NOTIFYed from another instance, or acks arrived),
//! or when its oldest unacknowledged command reaches its ack timeout. A version counter closes
//! the race where work is queued while a poll is finding "nothing": such a poll cannot mark the
//! device idle, because the version it read is stale.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::DeviceId;

#[derive(Debug, Clone, Copy)]
struct Hint {
    idle: bool,
    recheck_at: Option<DateTime<Utc>>,
    version: u64,
}

/// What a poll must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollDecision {
    /// Nothing to deliver: answer `OK` without touching the database.
    Idle,
    /// Look in the database; pass the version back to `settle`.
    Check(u64),
}

#[derive(Default)]
pub struct QueueHints {
    hints: Mutex<HashMap<DeviceId, Hint>>,
    /// Set once the devices with open commands were loaded at start-up (`warm`): from then on
    /// a device never seen here is known to be idle. Before that, unknown devices are checked.
    warmed: AtomicBool,
}

impl QueueHints {
    pub fn decide(&self, id: DeviceId, now: DateTime<Utc>) -> PollDecision {
        let Ok(hints) = self.hints.lock() else { return PollDecision::Check(0) };
        match hints.get(&id) {
            Some(h) if h.idle && h.recheck_at.is_none_or(|t| now < t) => PollDecision::Idle,
            Some(h) => PollDecision::Check(h.version),
            None if self.warmed.load(Ordering::Acquire) => PollDecision::Idle,
            None => PollDecision::Check(0),
        }
    }

    /// Start-up (and after lost notifications): every device in `open` has work; every other
    /// device is idle until marked busy.
    pub fn warm(&self, open: &[DeviceId]) {
        for id in open {
            self.mark_busy(*id);
        }
        self.warmed.store(true, Ordering::Release);
    }

    /// Records the outcome of a database check made at `version`; ignored when the device was
    /// marked busy meanwhile.
    pub fn settle(&self, id: DeviceId, version: u64, idle: bool, recheck_at: Option<DateTime<Utc>>) {
        if let Ok(mut hints) = self.hints.lock() {
            let current = hints.get(&id).map_or(0, |h| h.version);
            if current == version {
                hints.insert(id, Hint { idle, recheck_at, version });
            }
        }
    }

    /// The device has (or may have) new work.
    pub fn mark_busy(&self, id: DeviceId) {
        if let Ok(mut hints) = self.hints.lock() {
            let version = hints.get(&id).map_or(0, |h| h.version) + 1;
            hints.insert(id, Hint { idle: false, recheck_at: None, version });
        }
    }

    /// Forgets everything (e.g. the notification connection was lost and changes may be missed):
    /// every device is checked on its next poll until `warm` runs again.
    pub fn reset(&self) {
        self.warmed.store(false, Ordering::Release);
        if let Ok(mut hints) = self.hints.lock() {
            for hint in hints.values_mut() {
                hint.idle = false;
                hint.version += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_device_is_checked_then_idle_until_marked_busy() {
        let h = QueueHints::default();
        let id = DeviceId(1);
        let now = Utc::now();
        let PollDecision::Check(v) = h.decide(id, now) else { panic!("unknown devices are checked") };
        h.settle(id, v, true, None);
        assert_eq!(h.decide(id, now), PollDecision::Idle);
        h.mark_busy(id);
        assert!(matches!(h.decide(id, now), PollDecision::Check(_)));
    }

    #[test]
    fn work_queued_during_a_check_is_not_lost() {
        let h = QueueHints::default();
        let id = DeviceId(2);
        let PollDecision::Check(v) = h.decide(id, Utc::now()) else { panic!() };
        h.mark_busy(id); // a command is queued while the poll is looking
        h.settle(id, v, true, None); // the poll found nothing: must not win
        assert!(matches!(h.decide(id, Utc::now()), PollDecision::Check(_)));
    }

    #[test]
    fn an_outstanding_ack_timeout_triggers_a_recheck() {
        let h = QueueHints::default();
        let id = DeviceId(3);
        let now = Utc::now();
        let PollDecision::Check(v) = h.decide(id, now) else { panic!() };
        h.settle(id, v, true, Some(now + chrono::Duration::seconds(60)));
        assert_eq!(h.decide(id, now + chrono::Duration::seconds(59)), PollDecision::Idle);
        assert!(matches!(h.decide(id, now + chrono::Duration::seconds(61)), PollDecision::Check(_)));
        h.reset();
        assert!(matches!(h.decide(id, now), PollDecision::Check(_)));
    }

    #[test]
    fn after_warming_only_devices_with_open_commands_are_checked() {
        let h = QueueHints::default();
        let now = Utc::now();
        assert!(matches!(h.decide(DeviceId(9), now), PollDecision::Check(_)), "cold: check everyone");
        h.warm(&[DeviceId(5)]);
        assert_eq!(h.decide(DeviceId(9), now), PollDecision::Idle);
        assert!(matches!(h.decide(DeviceId(5), now), PollDecision::Check(_)));
    }
}
