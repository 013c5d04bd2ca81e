//! The device clock encoding (spec §6): seconds in a calendar of 12 months × 31 days since
//! 2000-01-01, as u32 LE; and the 6-byte `YY MM DD hh mm ss` form used in live events.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::error::WireError;

/// Encodes a local time. Only years 2000–2099 exist in this encoding.
pub fn encode_time(t: NaiveDateTime) -> Result<u32, WireError> {
    let year = t.year();
    if !(2000..=2099).contains(&year) {
        return Err(WireError::invalid("time", format!("year {year} outside 2000..=2099")));
    }
    let days = ((year as u32 % 100) * 12 + (t.month() - 1)) * 31 + (t.day() - 1);
    Ok(days * 86_400 + (t.hour() * 60 + t.minute()) * 60 + t.second())
}

/// Decodes a device time; `None` when the value names no real date (e.g. 31 February), which
/// is how corrupt records are recognised.
pub fn decode_time(value: u32) -> Option<NaiveDateTime> {
    let second = value % 60;
    let mut t = value / 60;
    let minute = t % 60;
    t /= 60;
    let hour = t % 24;
    t /= 24;
    let day = t % 31 + 1;
    t /= 31;
    let month = t % 12 + 1;
    let year = t / 12 + 2000;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?.and_hms_opt(hour, minute, second)
}

/// Decodes the 6-byte event time `YY-2000, MM, DD, hh, mm, ss`.
pub fn decode_event_time(b: &[u8; 6]) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(2000 + i32::from(b[0]), u32::from(b[1]), u32::from(b[2]))?.and_hms_opt(
        u32::from(b[3]),
        u32::from(b[4]),
        u32::from(b[5]),
    )
}

/// Encodes the 6-byte event time (years 2000–2255).
pub fn encode_event_time(t: NaiveDateTime) -> Result<[u8; 6], WireError> {
    let yy = u8::try_from(t.year() - 2000)
        .map_err(|_| WireError::invalid("event time", format!("year {} outside 2000..=2255", t.year())))?;
    // month, day, hour, minute and second always fit in a byte
    Ok([yy, t.month() as u8, t.day() as u8, t.hour() as u8, t.minute() as u8, t.second() as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, s).unwrap()
    }

    #[test]
    fn time_encoding_matches_the_computed_vectors() {
        // computed_vectors.txt
        assert_eq!(encode_time(at(2000, 1, 1, 0, 0, 0)).unwrap(), 0);
        assert_eq!(encode_time(at(2018, 6, 25, 17, 41, 5)).unwrap(), 594_063_665);
        assert_eq!(encode_time(at(2024, 2, 29, 23, 59, 59)).unwrap(), 776_563_199);
        assert_eq!(encode_time(at(2099, 12, 31, 23, 59, 59)).unwrap(), 3_214_079_999);
    }

    #[test]
    fn captured_record_times_decode_to_the_documented_dates() {
        assert_eq!(decode_time(0x2368_B36B), Some(at(2018, 6, 25, 17, 50, 35)));
        assert_eq!(decode_time(0x2368_9BC2), Some(at(2018, 6, 25, 16, 9, 38)));
    }

    #[test]
    fn a_value_naming_the_31st_of_february_decodes_to_none() {
        let feb31 = ((24 * 12 + 1) * 31 + 30) * 86_400;
        assert_eq!(decode_time(feb31), None);
    }

    #[test]
    fn years_outside_the_encoding_are_refused() {
        assert!(encode_time(at(1999, 12, 31, 0, 0, 0)).is_err());
        assert!(encode_time(at(2100, 1, 1, 0, 0, 0)).is_err());
    }

    #[test]
    fn event_time_bytes_are_the_calendar_fields() {
        // computed_vectors.txt live event: 18 03 05 08 1e 00 = 2024-03-05 08:30:00
        let t = decode_event_time(&[0x18, 0x03, 0x05, 0x08, 0x1e, 0x00]).unwrap();
        assert_eq!(t, at(2024, 3, 5, 8, 30, 0));
        assert_eq!(encode_event_time(t).unwrap(), [0x18, 0x03, 0x05, 0x08, 0x1e, 0x00]);
        assert_eq!(decode_event_time(&[0, 13, 1, 0, 0, 0]), None);
    }
}
