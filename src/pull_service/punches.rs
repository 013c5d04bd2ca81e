//! Records read from a pull device, and live punches it pushed, as punches to store. PURE.
//!
//! The local time is written exactly as the push protocol writes it (`YYYY-MM-DD HH:MM:SS`), so
//! the same punch seen live and again by the next poll has the same key (device, PIN, local
//! time) and is stored once.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::domain::punch::read_clock;
use crate::domain::{NewPunch, Pin, PunchSource};
use crate::pull::wire::attendance::AttendanceRecord;
use crate::pull::wire::event::AttendanceEvent;

const LOCAL_TIME: &str = "%Y-%m-%d %H:%M:%S";

fn punch(
    user_id: &str,
    at: NaiveDateTime,
    state: u8,
    verify: u8,
    workcode: u32,
    tz: Tz,
    now: DateTime<Utc>,
) -> NewPunch {
    let local_time = at.format(LOCAL_TIME).to_string();
    let (punched_at, clock_flag) = read_clock(Some(at), tz, now);
    NewPunch {
        pin: Pin(user_id.to_string()),
        raw: format!("{user_id}\t{local_time}\t{state}\t{verify}\t{workcode}"),
        local_time,
        punched_at,
        status: Some(i32::from(state)),
        verify: Some(i32::from(verify)),
        workcode: (workcode != 0).then(|| workcode.to_string()),
        clock_flag,
        source: PunchSource::Pull,
        event_index: None,
    }
}

/// Stored records as punches; records without a user id (an 8-byte record whose uid matched no
/// user) are returned apart, to be reported rather than stored under an empty PIN.
pub fn from_records(records: &[AttendanceRecord], tz: Tz, now: DateTime<Utc>) -> (Vec<NewPunch>, usize) {
    let mut unnamed = 0;
    let punches = records
        .iter()
        .filter(|r| {
            let named = !r.user_id.trim().is_empty();
            unnamed += usize::from(!named);
            named
        })
        .map(|r| punch(r.user_id.trim(), r.timestamp, r.state, r.verify, r.workcode, tz, now))
        .collect();
    (punches, unnamed)
}

/// A live punch as a punch.
pub fn from_event(e: &AttendanceEvent, tz: Tz, now: DateTime<Utc>) -> Option<NewPunch> {
    let user = e.user_id.trim();
    (!user.is_empty()).then(|| punch(user, e.timestamp, e.state, e.verify, e.workcode, tz, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, LOCAL_TIME).unwrap()
    }

    #[test]
    fn a_record_and_the_same_live_punch_share_the_dedupe_key() {
        let now: DateTime<Utc> = "2026-12-03T06:00:00Z".parse().unwrap();
        let tz: Tz = "Africa/Nairobi".parse().unwrap();
        let record = AttendanceRecord {
            uid: 1,
            user_id: "1001".into(),
            timestamp: at("2026-12-03 08:30:00"),
            verify: 1,
            state: 0,
            workcode: 0,
        };
        let event = AttendanceEvent {
            user_id: "1001".into(),
            verify: 1,
            state: 0,
            timestamp: at("2026-12-03 08:30:00"),
            workcode: 0,
        };
        let (stored, unnamed) = from_records(&[record], tz, now);
        let live = from_event(&event, tz, now).unwrap();
        assert_eq!(unnamed, 0);
        assert_eq!(
            (stored[0].pin.as_str(), stored[0].local_time.as_str()),
            (live.pin.as_str(), live.local_time.as_str())
        );
        assert_eq!(live.punched_at.unwrap().to_rfc3339(), "2026-12-03T05:30:00+00:00", "Nairobi is UTC+3");
        assert_eq!(live.clock_flag, None);
    }

    #[test]
    fn records_without_a_user_id_are_counted_not_stored_and_bad_clocks_are_flagged() {
        let now: DateTime<Utc> = "2026-12-03T06:00:00Z".parse().unwrap();
        let old = AttendanceRecord {
            uid: 9,
            user_id: "7".into(),
            timestamp: at("1999-01-01 00:00:00"),
            verify: 1,
            state: 0,
            workcode: 5,
        };
        let unnamed = AttendanceRecord { uid: 8, user_id: " ".into(), ..old.clone() };
        let (punches, skipped) = from_records(&[old, unnamed], chrono_tz::UTC, now);
        assert_eq!((punches.len(), skipped), (1, 1));
        assert_eq!(punches[0].clock_flag, Some(crate::domain::ClockFlag::TooOld));
        assert_eq!(punches[0].workcode.as_deref(), Some("5"));
    }
}
