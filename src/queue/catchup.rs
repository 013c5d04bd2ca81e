//! Catch-up after silence: when a device comes back from a gap longer than 3 × Delay (and at
//! least 3 minutes), a bounded `DATA QUERY ATTLOG` for the gap window is queued, so punches it
//! could not upload are fetched (push.md §4 pain point 13; NihalSWE `catch_up_after_gap`).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::DeviceId;
use crate::push::command::Command;

/// The longest window one catch-up query asks for.
pub const MAX_WINDOW: Duration = Duration::days(7);
/// At most one catch-up per device in this interval.
pub const MIN_INTERVAL: Duration = Duration::minutes(10);

#[derive(Default)]
pub struct CatchUp {
    last: Mutex<HashMap<DeviceId, DateTime<Utc>>>,
}

/// Whether a device last seen at `previous` is back from a gap at `now`.
pub fn is_gap(previous: DateTime<Utc>, now: DateTime<Utc>, poll_delay_secs: u32) -> bool {
    let threshold = Duration::seconds(i64::from(poll_delay_secs) * 3).max(Duration::minutes(3));
    now - previous > threshold
}

/// The query for a gap, in device-local time, from a minute before the device went silent.
pub fn gap_query(previous: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Command {
    let start = (previous - Duration::minutes(1)).max(now - MAX_WINDOW);
    Command::AttLogQuery { start: start.with_timezone(&tz).naive_local(), end: now.with_timezone(&tz).naive_local() }
}

impl CatchUp {
    /// The catch-up command to queue for this contact, if any (and remembers it was issued).
    pub fn due(
        &self,
        id: DeviceId,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        poll_delay_secs: u32,
        tz: Tz,
    ) -> Option<Command> {
        let previous = previous?;
        if !is_gap(previous, now, poll_delay_secs) {
            return None;
        }
        let mut last = self.last.lock().ok()?;
        if last.get(&id).is_some_and(|t| now - *t < MIN_INTERVAL) {
            return None;
        }
        last.insert(id, now);
        Some(gap_query(previous, now, tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_short_pause_is_not_a_gap_but_minutes_of_silence_are() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap();
        assert!(!is_gap(t, t + Duration::seconds(20), 5));
        assert!(!is_gap(t, t + Duration::seconds(170), 5));
        assert!(is_gap(t, t + Duration::seconds(200), 5));
        assert!(!is_gap(t, t + Duration::seconds(200), 120), "3 x Delay wins when larger");
    }

    #[test]
    fn the_query_covers_the_gap_in_local_time_bounded_to_a_week_and_not_repeated() {
        let tz: Tz = "Africa/Nairobi".parse().unwrap();
        let gone = Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).unwrap();
        let back = gone + Duration::hours(2);
        let c = CatchUp::default();
        let q = c.due(DeviceId(1), Some(gone), back, 5, tz).unwrap();
        assert_eq!(q.render().unwrap(), "DATA QUERY ATTLOG StartTime=2026-03-02 07:59:00\tEndTime=2026-03-02 10:00:00");
        assert!(
            c.due(DeviceId(1), Some(gone), back + Duration::minutes(1), 5, tz).is_none(),
            "not twice in 10 minutes"
        );
        let long = gap_query(gone - Duration::days(30), back, tz).render().unwrap();
        assert!(long.starts_with("DATA QUERY ATTLOG StartTime=2026-02-23 10:00:00"), "{long}");
        assert!(c.due(DeviceId(2), None, back, 5, tz).is_none(), "never seen: nothing to catch up");
    }
}
