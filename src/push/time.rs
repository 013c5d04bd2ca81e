//! Device time: parsing device-local timestamps, converting them to UTC in the device's
//! IANA zone, the handshake `TimeZone` unit rule, HTTP `Date`, the legacy and acc time
//! replies, and ZKTeco's OldEncodeTime (push.md 2.5).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Parses a device timestamp `YYYY-MM-DD hh:mm:ss` (also with `T` instead of the space).
///
/// Surrounding whitespace is ignored. Anything else (garbage clocks such as
/// `1971--10--29 -23:-27:-54`, impossible dates) gives `None`; callers keep the raw text.
pub fn parse_device_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut date_parts = date.split('-');
    let year = digits(date_parts.next()?, 4, 4)?;
    let month = digits(date_parts.next()?, 1, 2)?;
    let day = digits(date_parts.next()?, 1, 2)?;
    let mut time_parts = time.split(':');
    let hour = digits(time_parts.next()?, 1, 2)?;
    let minute = digits(time_parts.next()?, 1, 2)?;
    let second = digits(time_parts.next()?, 1, 2)?;
    if date_parts.next().is_some() || time_parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?.and_hms_opt(hour, minute, second)
}

/// An unsigned decimal of `min..=max` ASCII digits.
fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Device-local wall time to UTC in the device's IANA zone (DST gap: next valid instant; fold: earlier).
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        chrono::LocalResult::None => end_of_gap(local, tz),
    }
}

/// The first instant after the DST gap that swallowed `local`: the transition itself.
fn end_of_gap(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let day = TimeDelta::days(1);
    let offset_at = |naive: NaiveDateTime| tz.offset_from_utc_datetime(&naive).fix();
    let before = local.checked_sub_signed(day).map(offset_at);
    let after = local.checked_add_signed(day).map(offset_at);
    if let (Some(before), Some(after)) = (before, after) {
        // Inside the gap, `local - after` is before the transition and `local - before` after it.
        let lo = local.checked_sub_signed(TimeDelta::seconds(i64::from(after.local_minus_utc())));
        let hi = local.checked_sub_signed(TimeDelta::seconds(i64::from(before.local_minus_utc())));
        if let (Some(mut lo), Some(mut hi)) = (lo, hi) {
            // Invariant: offset(lo) is the pre-gap offset, offset(hi) is not.
            if lo < hi && offset_at(lo) == before && offset_at(hi) != before {
                while hi - lo > TimeDelta::seconds(1) {
                    let mid = lo + (hi - lo) / 2;
                    if offset_at(mid) == before {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                return hi.and_utc();
            }
        }
    }
    // Unusual zone history: walk forward a minute at a time (bounded) to a valid local time.
    let mut probe = local;
    for _ in 0..(2 * 24 * 60) {
        match probe.checked_add_signed(TimeDelta::minutes(1)) {
            Some(next) => probe = next,
            None => break,
        }
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    local.and_utc()
}

/// Why a clock reading is implausible (year < 2000, more than 1 day in the future), or None.
pub fn implausible_reason(utc: DateTime<Utc>, now: DateTime<Utc>) -> Option<&'static str> {
    if utc.year() < 2000 {
        return Some("device clock before the year 2000");
    }
    if utc > now + TimeDelta::days(1) {
        return Some("device clock more than one day in the future");
    }
    None
}

/// Handshake `TimeZone` value for a zone at an instant: whole hours -> "8"/"-5"/"0"; otherwise minutes "330"/"-210"/"345".
///
/// Firmware reads `-12 < TZ < 12` as hours and anything beyond ±60 as minutes (ATT-EN §5),
/// so whole-hour offsets of ±12 h and more (Pacific/Auckland, Pacific/Kiritimati) are sent
/// in minutes too (`720`, `840`): the hour form would fall outside the documented range.
pub fn timezone_option(tz: Tz, at: DateTime<Utc>) -> String {
    let seconds = tz.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc();
    let minutes = (f64::from(seconds) / 60.0).round() as i32;
    if minutes % 60 == 0 && (minutes / 60).abs() < 12 {
        (minutes / 60).to_string()
    } else {
        minutes.to_string()
    }
}

/// RFC 1123 GMT `Date:` header value.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Legacy `type=time` reply: `Time=2011-05-05T17:40:20-05:00` (device-local with offset).
pub fn legacy_time_reply(at: DateTime<Utc>, tz: Tz) -> String {
    format!("Time={}", at.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z"))
}

/// Acc `GET /iclock/rtdata?type=time` reply: `DateTime=<OldEncodeTime of GMT now>,ServerTZ=+0800`
/// (SEC-CN §12.5.1; capture 04 shows `DateTime=583050990,ServerTZ=+0800`).
pub fn rtdata_time_reply(at: DateTime<Utc>, tz: Tz) -> String {
    let offset = at.with_timezone(&tz).format("%z");
    format!("DateTime={},ServerTZ={offset}", old_encode_time(at.naive_utc()))
}

const SECONDS_PER_DAY: i64 = 86_400;

/// ZKTeco OldEncodeTime (31-day months) and its inverse (spec 2.5, capture 13).
///
/// `((Y-2000)*12*31 + (M-1)*31 + D-1) * 86400 + (h*60 + m)*60 + s` over device-local wall
/// time. The value is a `u32` on the device: times before 2000-01-01 clamp to 0 and times
/// after the end of 2133 clamp to `u32::MAX`.
pub fn old_encode_time(local: NaiveDateTime) -> u32 {
    let days = (i64::from(local.year()) - 2000) * 12 * 31 + i64::from(local.month0()) * 31 + i64::from(local.day0());
    let seconds = days * SECONDS_PER_DAY
        + i64::from(local.hour()) * 3600
        + i64::from(local.minute()) * 60
        + i64::from(local.second());
    u32::try_from(seconds.max(0)).unwrap_or(u32::MAX)
}

/// Inverse of [`old_encode_time`]; `None` when the value names a day that does not exist
/// (the encoding gives every month 31 days, so e.g. February 30th is representable).
pub fn old_decode_time(v: u32) -> Option<NaiveDateTime> {
    let mut t = v;
    let second = t % 60;
    t /= 60;
    let minute = t % 60;
    t /= 60;
    let hour = t % 24;
    t /= 24;
    let day = t % 31 + 1;
    t /= 31;
    let month = t % 12 + 1;
    t /= 12;
    let year = i32::try_from(t).ok()? + 2000;
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test literal")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        naive(s).and_utc()
    }

    #[test]
    fn device_time_with_space_or_t_separator_parses() {
        assert_eq!(parse_device_time("2026-08-12 08:53:23"), Some(naive("2026-08-12 08:53:23")));
        assert_eq!(parse_device_time(" 2011-04-05T17:40:20 "), Some(naive("2011-04-05 17:40:20")));
    }

    #[test]
    fn garbage_clock_from_a_device_without_rtc_is_not_a_time() {
        assert_eq!(parse_device_time("1971--10--29 -23:-27:-54"), None);
    }

    #[test]
    fn impossible_or_malformed_times_are_not_times() {
        for bad in [
            "",
            "2026-02-30 10:00:00",
            "2026-08-12",
            "2026-08-12 25:00:00",
            "2026-08-12 08:53",
            "2026-08-12 08:53:23:11",
            "+2026-08-12 08:53:23",
            "20260812 085323",
            "2026-08-12 08:53:2x",
        ] {
            assert_eq!(parse_device_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn local_time_converts_with_the_device_zone_not_the_server_zone() {
        let tz: Tz = "America/Mexico_City".parse().expect("zone");
        assert_eq!(local_to_utc(naive("2026-08-12 08:53:23"), tz), utc("2026-08-12 14:53:23"));
        assert_eq!(local_to_utc(naive("2026-08-12 08:53:23"), Tz::Asia__Kolkata), utc("2026-08-12 03:23:23"));
    }

    #[test]
    fn local_time_inside_a_spring_forward_gap_maps_to_the_end_of_the_gap() {
        // New York skipped 02:00-03:00 on 2024-03-10; 03:00 EDT is 07:00 UTC.
        let tz = Tz::America__New_York;
        assert_eq!(local_to_utc(naive("2024-03-10 02:30:00"), tz), utc("2024-03-10 07:00:00"));
        assert_eq!(local_to_utc(naive("2024-03-10 02:00:00"), tz), utc("2024-03-10 07:00:00"));
        // Lord Howe jumps by 30 minutes.
        let lord_howe = Tz::Australia__Lord_Howe;
        assert_eq!(local_to_utc(naive("2024-10-06 02:15:00"), lord_howe), utc("2024-10-05 15:30:00"));
    }

    #[test]
    fn local_time_in_an_autumn_fold_takes_the_earlier_instant() {
        // 01:30 happened twice in New York on 2024-11-03: first at EDT (05:30 UTC).
        assert_eq!(local_to_utc(naive("2024-11-03 01:30:00"), Tz::America__New_York), utc("2024-11-03 05:30:00"));
    }

    #[test]
    fn samoa_skipped_day_maps_to_the_first_instant_after_it() {
        // Pacific/Apia skipped 2011-12-30 entirely (UTC-10 -> UTC+14).
        assert_eq!(local_to_utc(naive("2011-12-30 12:00:00"), Tz::Pacific__Apia), utc("2011-12-30 10:00:00"));
    }

    #[test]
    fn clock_readings_before_2000_or_far_in_the_future_are_implausible() {
        let now = utc("2026-08-12 12:00:00");
        assert!(implausible_reason(utc("1999-12-31 23:59:59"), now).is_some());
        assert!(implausible_reason(utc("2026-08-13 12:00:01"), now).is_some());
        assert_eq!(implausible_reason(utc("2026-08-13 11:59:59"), now), None);
        assert_eq!(implausible_reason(utc("2000-01-01 00:00:00"), now), None);
    }

    #[test]
    fn timezone_option_uses_hours_for_whole_hours_and_minutes_otherwise() {
        let winter = utc("2026-01-15 12:00:00");
        let summer = utc("2026-07-15 12:00:00");
        assert_eq!(timezone_option(Tz::Asia__Kolkata, winter), "330");
        assert_eq!(timezone_option(Tz::Asia__Shanghai, winter), "8");
        assert_eq!(timezone_option(Tz::America__St_Johns, winter), "-210");
        assert_eq!(timezone_option(Tz::America__St_Johns, summer), "-150");
        assert_eq!(timezone_option(Tz::Asia__Kathmandu, winter), "345");
        assert_eq!(timezone_option(Tz::UTC, winter), "0");
        assert_eq!(timezone_option(Tz::America__New_York, winter), "-5");
        assert_eq!(timezone_option(Tz::America__New_York, summer), "-4");
        assert_eq!(timezone_option(Tz::Asia__Ho_Chi_Minh, summer), "7");
    }

    #[test]
    fn timezone_option_sends_minutes_for_offsets_of_twelve_hours_or_more() {
        let winter = utc("2026-07-15 12:00:00");
        assert_eq!(timezone_option(Tz::Pacific__Auckland, winter), "720");
        assert_eq!(timezone_option(Tz::Pacific__Kiritimati, winter), "840");
        assert_eq!(timezone_option(Tz::Etc__GMTPlus12, winter), "-720");
        assert_eq!(timezone_option(Tz::Pacific__Chatham, winter), "765");
    }

    #[test]
    fn http_date_is_rfc1123_gmt() {
        assert_eq!(http_date(utc("2015-07-03 06:53:01")), "Fri, 03 Jul 2015 06:53:01 GMT");
        assert_eq!(http_date(utc("2017-01-10 07:42:41")), "Tue, 10 Jan 2017 07:42:41 GMT");
    }

    #[test]
    fn legacy_time_reply_shows_device_local_time_with_offset() {
        assert_eq!(
            legacy_time_reply(utc("2011-05-05 22:40:20"), Tz::America__Bogota),
            "Time=2011-05-05T17:40:20-05:00"
        );
        assert_eq!(legacy_time_reply(utc("2026-01-01 00:00:00"), Tz::Asia__Kolkata), "Time=2026-01-01T05:30:00+05:30");
    }

    #[test]
    fn old_encode_time_follows_the_31_day_month_formula() {
        // ((26*12*31) + 7*31 + 11) * 86400 + 8*3600 + 53*60 + 23, computed by hand.
        assert_eq!(old_encode_time(naive("2026-08-12 08:53:23")), 855_392_003);
        assert_eq!(old_encode_time(naive("2000-01-01 00:00:00")), 0);
        assert_eq!(old_encode_time(naive("2000-01-02 00:00:01")), 86_401);
        assert_eq!(old_encode_time(naive("2000-02-01 00:00:00")), 31 * 86_400);
        assert_eq!(old_encode_time(naive("2001-01-01 00:00:00")), 372 * 86_400);
    }

    #[test]
    fn old_encode_time_clamps_outside_the_u32_range() {
        assert_eq!(old_encode_time(naive("1999-12-31 23:59:59")), 0);
        assert_eq!(old_encode_time(naive("2200-01-01 00:00:00")), u32::MAX);
    }

    #[test]
    fn old_decode_time_inverts_the_encoding() {
        for s in ["2026-08-12 08:53:23", "2000-01-01 00:00:00", "2024-02-29 23:59:59", "2099-12-31 12:34:56"] {
            let t = naive(s);
            assert_eq!(old_decode_time(old_encode_time(t)), Some(t), "{s}");
        }
    }

    #[test]
    fn old_decode_time_rejects_days_that_do_not_exist() {
        // 2026-02-30: day index 29 of month index 1.
        let v = ((26 * 372 + 31 + 29) * 86_400) as u32;
        assert_eq!(old_decode_time(v), None);
        assert_eq!(old_decode_time(u32::MAX).map(|t| t.year()), Some(2133));
    }

    #[test]
    fn rtdata_time_reply_encodes_gmt_and_names_the_zone_offset() {
        assert_eq!(
            rtdata_time_reply(utc("2018-02-22 06:36:30"), Tz::Asia__Shanghai),
            "DateTime=583050990,ServerTZ=+0800"
        );
        assert_eq!(
            rtdata_time_reply(utc("2018-02-22 06:36:30"), Tz::America__St_Johns),
            "DateTime=583050990,ServerTZ=-0330"
        );
    }
}
