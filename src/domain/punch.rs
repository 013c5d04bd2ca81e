//! Punches: one attendance record per (device, PIN, device-local time).

use super::Pin;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::push::time::{implausible_reason, local_to_utc};

/// Why a punch's clock reading was not trusted. The punch is stored anyway, raw, with this flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockFlag {
    /// The time string could not be parsed at all (`1971--10--29 -23:-27:-54`).
    Unparsable,
    /// Parsed, but before the year 2000 (a clock reset after power loss).
    TooOld,
    /// Parsed, but more than a day in the future.
    Future,
}

impl ClockFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockFlag::Unparsable => "unparsable",
            ClockFlag::TooOld => "too_old",
            ClockFlag::Future => "future",
        }
    }
}

/// A device-local clock reading as UTC in the device's zone, with the reason it is not trusted
/// (unparsable, before 2000, more than a day ahead of `now`), if any. The punch is stored
/// either way: a bad clock is flagged, never a reason to drop a punch (push.md 2.5).
pub fn read_clock(
    local: Option<NaiveDateTime>,
    tz: Tz,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<ClockFlag>) {
    match local {
        None => (None, Some(ClockFlag::Unparsable)),
        Some(local) => {
            let utc = local_to_utc(local, tz);
            let flag =
                implausible_reason(utc, now).map(|_| if utc < now { ClockFlag::TooOld } else { ClockFlag::Future });
            (Some(utc), flag)
        }
    }
}

/// A punch ready to store. `local_time` is exactly the device's string and, with the device and
/// PIN, the idempotency key: a re-sent line never creates a second row.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPunch {
    pub pin: Pin,
    pub local_time: String,
    /// UTC instant in the device's zone; `None` when the clock reading is unparsable.
    pub punched_at: Option<DateTime<Utc>>,
    pub status: Option<i32>,
    pub verify: Option<i32>,
    pub workcode: Option<String>,
    pub clock_flag: Option<ClockFlag>,
    pub raw: String,
    /// Which upload it came from (`attendance_logs.source`).
    pub source: PunchSource,
    /// Acc `rtlog` event counter (`index=`): with the device and the local time, a second
    /// idempotency key (the counter restarts, so never alone).
    pub event_index: Option<i64>,
}

/// Where a punch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PunchSource {
    /// Att `table=ATTLOG`.
    #[default]
    AttLog,
    /// Acc `table=rtlog`.
    RtLog,
    /// Read from a pull device.
    Pull,
}

impl PunchSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PunchSource::AttLog => "attlog",
            PunchSource::RtLog => "rtlog",
            PunchSource::Pull => "pull",
        }
    }
}

/// A stored punch.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Punch {
    pub id: i64,
    pub device_id: i64,
    pub pin: Pin,
    pub student_id: Option<i64>,
    pub local_time: String,
    pub punched_at: Option<DateTime<Utc>>,
    pub status: Option<i32>,
    pub verify: Option<i32>,
    pub workcode: Option<String>,
    pub source: String,
    pub clock_flag: Option<String>,
    pub raw: String,
}
