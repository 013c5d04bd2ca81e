//! PURE quiet hours: windows of a school day (local time) when devices must not be kept busy
//! with bulk work (a device locks its keypad while it writes users, and the gate queue grows).
//!
//! Format: comma-separated `HH:MM-HH:MM` windows in the school's time zone, e.g.
//! `07:00-08:30,14:30-15:30`. A window may cross midnight (`22:00-05:00`). Empty = none.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// Parses the windows; the error names the bad part.
pub fn parse(spec: &str) -> Result<Vec<Window>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').ok_or_else(|| format!("{part:?} is not HH:MM-HH:MM"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format!("{t:?} in {part:?} is not a time (HH:MM)"))
        };
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(format!("{part:?} is empty"));
        }
        out.push(Window { start, end });
    }
    Ok(out)
}

/// When `now` falls in a quiet window of `spec` (in `tz`), the UTC time it ends; else `None`.
/// Unparseable specs are treated as no quiet hours (they are validated when saved).
pub fn quiet_until(spec: &str, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let windows = parse(spec).ok()?;
    let local = now.with_timezone(&tz);
    let t = local.time();
    let today = local.date_naive();
    let mut end: Option<DateTime<Utc>> = None;
    for w in windows {
        let (inside, end_date) = if w.start < w.end {
            (t >= w.start && t < w.end, today)
        } else if t >= w.start {
            (true, today + Duration::days(1))
        } else {
            (t < w.end, today)
        };
        if !inside {
            continue;
        }
        let naive = end_date.and_time(w.end);
        let at = tz.from_local_datetime(&naive).earliest().map(|d| d.with_timezone(&Utc))?;
        end = Some(end.map_or(at, |e: DateTime<Utc>| e.max(at)));
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn inside_a_window_the_end_is_returned_in_utc() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let spec = "07:00-08:30, 14:30-15:30";
        // 02:00 UTC = 07:30 IST.
        assert_eq!(quiet_until(spec, tz, utc("2026-11-23T02:00:00Z")), Some(utc("2026-11-23T03:00:00Z")));
        // 04:00 UTC = 09:30 IST: not quiet.
        assert_eq!(quiet_until(spec, tz, utc("2026-11-23T04:00:00Z")), None);
        assert_eq!(quiet_until("", tz, utc("2026-11-23T02:00:00Z")), None);
    }

    #[test]
    fn a_window_may_cross_midnight() {
        let tz: Tz = "UTC".parse().unwrap();
        assert_eq!(quiet_until("22:00-05:00", tz, utc("2026-11-23T23:00:00Z")), Some(utc("2026-11-24T05:00:00Z")));
        assert_eq!(quiet_until("22:00-05:00", tz, utc("2026-11-23T04:00:00Z")), Some(utc("2026-11-23T05:00:00Z")));
        assert_eq!(quiet_until("22:00-05:00", tz, utc("2026-11-23T12:00:00Z")), None);
    }

    #[test]
    fn bad_specs_are_named() {
        assert!(parse("07:00").unwrap_err().contains("HH:MM-HH:MM"));
        assert!(parse("7am-8am").unwrap_err().contains("not a time"));
        assert!(parse("08:00-08:00").unwrap_err().contains("empty"));
        assert_eq!(parse(" ").unwrap(), vec![]);
    }
}
