//! Acc-dialect realtime uploads: `table=rtlog` events and punches, `table=rtstate` door
//! state. TAB-separated `key=value`, order and field set vary by firmware (SEC-CN §10,
//! captures 04, 07, 17), so everything is read by key and kept.

use chrono::NaiveDateTime;

use super::fields::KeyValues;
use super::{parse_each_line, ParsedBody};
use crate::push::time::parse_device_time;

/// One `rtlog` row: a punch, a device event (`pin=0`), or a door-state row that some
/// firmware sends on rtlog (capture 07: `time=…\tsensor=02\trelay=00\talarm=…\tdoor=01`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtLogRecord {
    /// `time` exactly as sent (device-local).
    pub time_raw: String,
    /// `time` parsed; `None` for garbage clocks (`1971--10--29 -23:-27:-54`, capture 07).
    pub local_time: Option<NaiveDateTime>,
    /// `pin`; `0` is a device event, `None` a door-state row.
    pub pin: Option<String>,
    /// `cardno`.
    pub card_no: Option<String>,
    /// `event` code (SEC-CN App.2): 0 normal verify, 3 seen on SenseFace punches, 27 unregistered …
    pub event: Option<i32>,
    /// `inoutstatus`.
    pub in_out_status: Option<i32>,
    /// `verifytype` as sent: a number, or a 16-char bitmask on push 3.1.2 (never read as an int).
    pub verify_type: Option<String>,
    /// `index`: per-device event counter (dedup key with the serial; it restarts).
    pub index: Option<u64>,
    /// Every field as sent, in line order.
    pub fields: Vec<(String, String)>,
    /// The whole line.
    pub raw: String,
}

impl RtLogRecord {
    /// True for a user punch: a PIN other than `0` (push.md 2.6: `pin=0` is a device event).
    pub fn is_punch(&self) -> bool {
        self.pin.as_deref().is_some_and(|p| p != "0")
    }
}

/// `rtstate` row: `time=…\tsensor=…\trelay=…\talarm=…[\tdoor=…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtStateRecord {
    /// `time` as sent.
    pub time_raw: String,
    /// `time` parsed.
    pub local_time: Option<NaiveDateTime>,
    /// `sensor` (door sensors, hex pairs).
    pub sensor: Option<String>,
    /// `relay`.
    pub relay: Option<String>,
    /// `alarm` bits.
    pub alarm: Option<String>,
    /// `door` (absent in the SEC doc example).
    pub door: Option<String>,
    /// Every field as sent.
    pub fields: Vec<(String, String)>,
}

/// Parses one `rtlog` row. Only `time` is required; numbers that are not numbers reject the row.
pub fn parse_rtlog_line(line: &str) -> Result<RtLogRecord, String> {
    let kv = KeyValues::parse(line)?;
    let time_raw = kv.required_non_empty(&["time"])?;
    Ok(RtLogRecord {
        local_time: parse_device_time(&time_raw),
        time_raw,
        pin: kv.text(&["pin"]),
        card_no: kv.text(&["cardno"]),
        event: kv.number(&["event"])?,
        in_out_status: kv.number(&["inoutstatus"])?,
        verify_type: kv.text(&["verifytype"]),
        index: kv.number(&["index"])?,
        fields: kv.others(&[]),
        raw: line.to_owned(),
    })
}

/// Parses a `table=rtlog` body (LF or CRLF).
pub fn parse_rtlog_body(body: &str) -> ParsedBody<RtLogRecord> {
    parse_each_line(body, parse_rtlog_line)
}

/// Parses a `table=rtstate` body.
pub fn parse_rtstate_body(body: &str) -> ParsedBody<RtStateRecord> {
    parse_each_line(body, |line| {
        let kv = KeyValues::parse(line)?;
        let time_raw = kv.required_non_empty(&["time"])?;
        Ok(RtStateRecord {
            local_time: parse_device_time(&time_raw),
            time_raw,
            sensor: kv.text(&["sensor"]),
            relay: kv.text(&["relay"]),
            alarm: kv.text(&["alarm"]),
            door: kv.text(&["door"]),
            fields: kv.others(&[]),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senseface_punch_row_reads_pin_event_verify_and_index() {
        let line = "time=2026-09-09 12:09:10\tpin=445966\tcardno=0\teventaddr=1\tevent=3\tinoutstatus=0\tverifytype=1\tindex=40\tsitecode=0";
        let r = parse_rtlog_line(line).expect("valid");
        assert_eq!(r.local_time, parse_device_time("2026-09-09 12:09:10"));
        assert_eq!(r.pin.as_deref(), Some("445966"));
        assert_eq!((r.event, r.in_out_status, r.index), (Some(3), Some(0), Some(40)));
        assert_eq!(r.verify_type.as_deref(), Some("1"));
        assert!(r.is_punch());
        assert_eq!(r.fields.len(), 9);
    }

    #[test]
    fn pin_zero_is_a_device_event_not_a_punch() {
        let r = parse_rtlog_line("time=2026-08-20 08:00:00\tpin=0\tevent=27\tindex=1").expect("valid");
        assert!(!r.is_punch());
    }

    #[test]
    fn bitmask_verify_type_stays_text() {
        let r = parse_rtlog_line("time=2026-08-20 08:00:00\tpin=5\tverifytype=0000000000000010").expect("valid");
        assert_eq!(r.verify_type.as_deref(), Some("0000000000000010"));
    }

    #[test]
    fn garbage_clock_row_is_kept_without_local_time() {
        let r = parse_rtlog_line("time=1971--10--29 -23:-27:-54\tpin=445966").expect("kept");
        assert_eq!(r.local_time, None);
        assert_eq!(r.time_raw, "1971--10--29 -23:-27:-54");
    }

    #[test]
    fn door_state_row_on_rtlog_has_no_pin() {
        let r = parse_rtlog_line("time=2026-09-09 12:09:11\tsensor=02\trelay=00\talarm=0100000000000000\tdoor=01")
            .expect("valid");
        assert_eq!(r.pin, None);
        assert!(!r.is_punch());
    }

    #[test]
    fn row_without_time_is_rejected() {
        assert!(parse_rtlog_line("pin=1\tevent=0").is_err());
        assert!(parse_rtlog_line("time=\tpin=1").is_err());
    }

    #[test]
    fn rtstate_body_reads_sensor_relay_alarm_and_door() {
        let parsed = parse_rtstate_body("time=2017-01-10 15:42:40\tsensor=00\trelay=00\talarm=020000000000000\r\n");
        let r = &parsed.records[0];
        assert_eq!(r.sensor.as_deref(), Some("00"));
        assert_eq!(r.alarm.as_deref(), Some("020000000000000"));
        assert_eq!(r.door, None);
    }
}
