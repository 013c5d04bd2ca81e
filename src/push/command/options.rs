//! `SET OPTION`: the keys ironclock may change on a device (an allow-list; anything else, from
//! the network address to the server URL, stays as the installer set it), their value checks,
//! and the typed clock set `SET OPTION DateTime=<OldEncodeTime>` (push.md 2.4 option keys, 2.5).

use chrono::{Duration, NaiveDateTime};

use super::CommandError;
use crate::push::time::{old_decode_time, old_encode_time};

/// The options a `SET OPTION` may carry, with what their value must be: the poll and upload
/// schedule of the handshake block (push.md 2.4). `DateTime` goes only through the typed time
/// sync, which computes the encoding (a hand-made value moved clocks by 180 days, capture 13).
pub const SETTABLE_OPTIONS: [(&str, &str); 6] = [
    ("Delay", "seconds between polls, 1 to 3600"),
    ("ErrorDelay", "seconds before reconnecting after an error, 1 to 3600"),
    ("TransInterval", "minutes between upload checks, 0 to 1440"),
    ("TransTimes", "up to 10 times hh:mm separated by ;"),
    ("Realtime", "0 or 1"),
    ("TimeZone", "hours (-12 to 14) or minutes (-720 to 840)"),
];

/// The allowed option named `key` (any case) in its canonical spelling, once its value passes
/// the key's check. Errors: a key outside [`SETTABLE_OPTIONS`], or a bad value.
pub(super) fn settable(key: &str, value: &str) -> Result<(&'static str, String), CommandError> {
    let Some((name, expected)) = SETTABLE_OPTIONS.iter().find(|(k, _)| k.eq_ignore_ascii_case(key.trim())) else {
        return Err(CommandError::OptionNotAllowed(key.trim().to_string()));
    };
    let value = value.trim();
    let number = |lo: i64, hi: i64| value.parse::<i64>().is_ok_and(|n| (lo..=hi).contains(&n));
    let ok = match *name {
        "Delay" | "ErrorDelay" => number(1, 3600),
        "TransInterval" => number(0, 1440),
        "Realtime" => value == "0" || value == "1",
        "TimeZone" => number(-720, 840),
        _ => {
            let times: Vec<&str> = value.split(';').collect();
            times.len() <= 10 && times.iter().all(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").is_ok())
        }
    };
    if !ok {
        return Err(CommandError::BadOptionValue { key: name, expected });
    }
    Ok((name, value.to_string()))
}

/// The same allow-list for an acc device's `SET OPTIONS`: its poll interval is `RequestDelay`
/// (the `/iclock/push` block, push.md 2.4), so `Delay` (or `RequestDelay`) goes out as that.
pub(super) fn settable_acc(key: &str, value: &str) -> Result<(&'static str, String), CommandError> {
    let key = if key.trim().eq_ignore_ascii_case("RequestDelay") { "Delay" } else { key };
    let (name, value) = settable(key, value)?;
    Ok((if name == "Delay" { "RequestDelay" } else { name }, value))
}

/// Prefix of the typed clock set's payload.
pub const TIME_SYNC_PREFIX: &str = "SET OPTION DateTime=";
/// Prefix of the acc dialect's clock set (`SET OPTIONS`, plural; push.md 2.5, capture 04).
pub const ACC_TIME_SYNC_PREFIX: &str = "SET OPTIONS DateTime=";

/// `SET OPTION DateTime=<n>`: `n` is ZKTeco's OldEncodeTime of the device-local wall time.
pub fn time_sync_payload(local: NaiveDateTime) -> String {
    format!("{TIME_SYNC_PREFIX}{}", old_encode_time(local))
}

/// `SET OPTIONS DateTime=<n>`, the acc form of [`time_sync_payload`].
pub fn acc_time_sync_payload(local: NaiveDateTime) -> String {
    format!("{ACC_TIME_SYNC_PREFIX}{}", old_encode_time(local))
}

/// A clock set (either dialect's) queued `waited` ago, brought up to the moment it is
/// delivered: the device gets the time of delivery, not of queueing. `None` for any other payload.
pub fn advance_time_sync(payload: &str, waited: Duration) -> Option<String> {
    [TIME_SYNC_PREFIX, ACC_TIME_SYNC_PREFIX].into_iter().find_map(|prefix| {
        let encoded: u32 = payload.strip_prefix(prefix)?.parse().ok()?;
        let local = old_decode_time(encoded)? + waited.max(Duration::zero());
        Some(format!("{prefix}{}", old_encode_time(local)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_keys_with_valid_values_pass() {
        assert_eq!(settable("delay", " 5 ").unwrap(), ("Delay", "5".to_string()));
        assert_eq!(settable("TransTimes", "00:00;14:05").unwrap().1, "00:00;14:05");
        assert_eq!(settable("TimeZone", "330").unwrap().1, "330");
        for key in ["ICLOCKSVRURL", "IPAddress", "DateTime", "~SerialNumber", "ComKey"] {
            assert!(matches!(settable(key, "1"), Err(CommandError::OptionNotAllowed(_))), "{key}");
        }
        for (key, value) in
            [("Delay", "0"), ("Delay", "x"), ("Realtime", "2"), ("TransTimes", "25:00"), ("TimeZone", "999")]
        {
            assert!(matches!(settable(key, value), Err(CommandError::BadOptionValue { .. })), "{key}={value}");
        }
    }

    #[test]
    fn the_time_sync_carries_old_encode_time_and_is_advanced_across_a_month_end() {
        let local = chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap().and_hms_opt(23, 59, 30).unwrap();
        let payload = time_sync_payload(local);
        assert_eq!(payload, format!("SET OPTION DateTime={}", old_encode_time(local)));
        let later = advance_time_sync(&payload, Duration::seconds(45)).unwrap();
        let expected = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_opt(0, 0, 15).unwrap();
        assert_eq!(later, time_sync_payload(expected));
        assert_eq!(advance_time_sync("SET OPTION Delay=5", Duration::seconds(1)), None);
        let acc = advance_time_sync(&acc_time_sync_payload(local), Duration::seconds(45)).unwrap();
        assert_eq!(acc, acc_time_sync_payload(expected), "the acc form keeps its own prefix");
    }

    #[test]
    fn acc_devices_get_the_same_allow_list_with_their_poll_interval_key() {
        assert_eq!(settable_acc("Delay", "5").unwrap(), ("RequestDelay", "5".to_string()));
        assert_eq!(settable_acc("requestdelay", "5").unwrap(), ("RequestDelay", "5".to_string()));
        assert_eq!(settable_acc("ErrorDelay", "60").unwrap(), ("ErrorDelay", "60".to_string()));
        for key in ["IPAddress", "ICLOCKSVRURL", "DateTime", "LockCount"] {
            assert!(matches!(settable_acc(key, "1"), Err(CommandError::OptionNotAllowed(_))), "{key}");
        }
        assert!(matches!(settable_acc("RequestDelay", "0"), Err(CommandError::BadOptionValue { .. })));
    }
}
