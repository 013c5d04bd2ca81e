//! Property tests for the whole `push` module: no parser panics on arbitrary input, the
//! per-line parsers account for every non-blank line, and render -> parse round trips hold.

use chrono::{NaiveDate, NaiveDateTime, TimeZone as _};
use proptest::prelude::*;

use super::ack::parse_devicecmd_body;
use super::handshake::{parse_handshake_block, render_att_handshake, HandshakeConfig};
use super::info::parse_poll_info;
use super::query::DeviceQuery;
use super::records::attlog::{parse_attlog_body, parse_attlog_line, AttLogRecord};
use super::records::operlog::{parse_biodata_body, parse_operlog_body, parse_userinfo_body};
use super::records::user::UserRecord;
use super::records::{parse_attphoto, parse_options, parse_rtlog_body, parse_rtstate_body, parse_tabledata_body};
use super::text::{decode_body, encode_for_device};
use super::time::{local_to_utc, old_decode_time, old_encode_time, parse_device_time, timezone_option};
use super::upload::body_lines;

/// Text made of the characters the grammars care about, so generated input reaches deep paths.
fn protocol_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![
                "\t", "\n", "\r\n", "=", "==", "&", ",", " ", "  ", "%", "%2", "%20", "+", "\0",
                "PIN=", "Pin=", "FID=", "TMP=", "Tmp=", "No=", "Index=", "Type=", "Size=", "Content=",
                "USER ", "FP ", "FACE ", "FVEIN ", "BIODATA ", "BIOPHOTO ", "USERPIC ", "OPLOG ",
                "ERRORLOG ", "IDCARD ", "ID=", "Return=", "return=", "CMD=", "INFO", "time=", "pin=",
                "2026-08-12 08:53:23", "1971--10--29 -23:-27:-54", "255", "-1", "9999", "~OEMVendor=",
                "GET OPTION FROM: ", "SN=", "size=", "é", "张", "\u{FFFD}",
            ]).prop_map(str::to_owned),
            1 => any::<String>(),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn protocol_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        protocol_text().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..300),
        (protocol_text(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(text, tail)| [text.into_bytes(), tail].concat()),
    ]
}

/// A value that survives a TAB-separated line unchanged (no TAB/CR/LF, no edge whitespace).
fn field_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 .:/+=\\-\\[\\]éñ张]{0,12}".prop_map(|s| s.trim().to_owned())
}

fn non_empty_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.:\\-]{1,10}"
}

fn device_time() -> impl Strategy<Value = NaiveDateTime> {
    (2000i32..2133, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60).prop_map(|(y, mo, d, h, mi, s)| {
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|date| date.and_hms_opt(h, mi, s)).unwrap_or_default()
    })
}

proptest! {
    #[test]
    fn attlog_body_accounts_for_every_non_blank_line(body in protocol_text()) {
        let parsed = parse_attlog_body(&body);
        prop_assert_eq!(parsed.line_count(), body_lines(&body).count());
        prop_assert!(parsed.records.iter().all(|r| !r.pin.trim().is_empty()));
    }

    #[test]
    fn operlog_biodata_and_userinfo_bodies_never_panic(body in protocol_text()) {
        let lines = body_lines(&body).count();
        prop_assert_eq!(parse_operlog_body(&body).line_count(), lines);
        prop_assert_eq!(parse_biodata_body(&body).line_count(), lines);
        let users = parse_userinfo_body(&body);
        prop_assert_eq!(users.line_count(), lines);
        prop_assert!(users.records.iter().all(|u| !u.pin.is_empty() && !u.pin.starts_with('=')));
    }

    #[test]
    fn acc_bodies_never_panic(body in protocol_text()) {
        let lines = body_lines(&body).count();
        prop_assert_eq!(parse_rtlog_body(&body).line_count(), lines);
        prop_assert_eq!(parse_rtstate_body(&body).line_count(), lines);
        prop_assert_eq!(parse_tabledata_body(&body).line_count(), lines);
    }

    #[test]
    fn options_never_panic_and_never_yield_an_empty_key(body in protocol_text()) {
        prop_assert!(parse_options(&body).iter().all(|(k, _)| !k.is_empty()));
    }

    #[test]
    fn attphoto_never_panics(body in protocol_bytes()) {
        if let Ok(photo) = parse_attphoto(&body) {
            prop_assert!(!photo.file_name.is_empty());
            prop_assert!(!photo.jpeg.is_empty());
        }
    }

    #[test]
    fn devicecmd_body_never_panics_and_every_ack_has_an_id(body in protocol_bytes()) {
        let parsed = parse_devicecmd_body(&body);
        prop_assert!(parsed.acks.iter().all(|a| !a.id.is_empty()));
    }

    #[test]
    fn query_and_poll_info_never_panic(raw in protocol_text()) {
        let query = DeviceQuery::parse(&raw);
        prop_assert!(query.serial.as_deref() != Some(""));
        let _ = parse_poll_info(&raw);
        let _ = parse_handshake_block(&raw);
        let _ = parse_device_time(&raw);
    }

    #[test]
    fn decode_body_never_panics(bytes in protocol_bytes(), language in prop::option::of(prop::sample::select(vec!["83", "69", ""]))) {
        let text = decode_body(&bytes, language);
        if language != Some("83") {
            if let Ok(utf8) = std::str::from_utf8(&bytes) {
                prop_assert_eq!(text.as_str(), utf8.strip_prefix('\u{FEFF}').unwrap_or(utf8));
            }
        }
    }

    #[test]
    fn gbk_encode_then_decode_gives_back_the_name(name in "[a-zA-Z0-9 \u{4e00}-\u{9fa5}]{0,24}") {
        prop_assert_eq!(decode_body(&encode_for_device(&name, Some("83")), Some("83")), name);
    }

    #[test]
    fn attlog_render_then_parse_round_trips(
        pin in non_empty_value(),
        time in device_time(),
        status in prop::option::of(-1i32..300),
        verify in prop::option::of(0i32..30),
        workcode in prop::option::of(non_empty_value()),
        extra in prop::collection::vec(field_value(), 0..12),
    ) {
        let time_raw = time.format("%Y-%m-%d %H:%M:%S").to_string();
        let record = AttLogRecord { pin, local_time: Some(time), time_raw, status, verify, workcode, extra, raw: String::new() };
        let line = record.render();
        let back = parse_attlog_line(&line).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&back.raw, &line);
        prop_assert_eq!(AttLogRecord { raw: String::new(), ..back }, record);
    }

    #[test]
    fn user_render_then_parse_round_trips(
        pin in non_empty_value(),
        name in prop::option::of(non_empty_value()),
        privilege in prop::option::of(prop::sample::select(vec![0, 2, 6, 10, 14])),
        password in prop::option::of(non_empty_value()),
        card in prop::option::of(non_empty_value()),
        group in prop::option::of(non_empty_value()),
        timezones in prop::option::of("[01]{16}"),
        verify in prop::option::of(-1i32..30),
        vice_card in prop::option::of(non_empty_value()),
        extra in prop::collection::vec(("X[A-Za-z]{1,8}", field_value()), 0..4),
    ) {
        let user = UserRecord { pin, name, privilege, password, card, group, timezones, verify, vice_card, extra };
        let parsed = parse_userinfo_body(&user.render());
        prop_assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        prop_assert_eq!(parsed.records, vec![user]);
    }

    #[test]
    fn handshake_render_then_parse_keeps_serial_timezone_and_stamps(
        serial in "[A-Z0-9]{1,20}",
        timezone in "-?[0-9]{1,3}",
        stamp in prop::option::of("[0-9]{1,10}"),
    ) {
        let mut cfg = HandshakeConfig::recommended(&serial, timezone.clone());
        cfg.stamps.operlog = stamp.clone();
        let block = parse_handshake_block(&render_att_handshake(&cfg));
        prop_assert_eq!(block.serial.as_deref(), Some(serial.as_str()));
        prop_assert_eq!(block.get("TimeZone"), Some(timezone.as_str()));
        prop_assert_eq!(block.get("OPERLOGStamp"), Some(stamp.as_deref().unwrap_or("9999")));
    }

    #[test]
    fn old_encode_time_round_trips_for_every_second_of_its_range(time in device_time()) {
        prop_assert_eq!(old_decode_time(old_encode_time(time)), Some(time));
    }

    #[test]
    fn old_decode_time_never_panics(v in any::<u32>()) {
        if let Some(time) = old_decode_time(v) {
            prop_assert_eq!(old_encode_time(time), v);
        }
    }

    #[test]
    fn local_to_utc_gives_an_instant_at_or_after_the_earliest_reading(
        time in device_time(),
        zone in prop::sample::select(chrono_tz::TZ_VARIANTS.to_vec()),
    ) {
        let utc = local_to_utc(time, zone);
        let _ = timezone_option(zone, utc);
        // Read back in the zone, the instant shows the same wall time unless it fell in a gap,
        // in which case it shows a later one.
        let shown = zone.from_utc_datetime(&utc.naive_utc()).naive_local();
        prop_assert!(shown >= time, "{} in {} -> {} shown as {}", time, zone, utc, shown);
        if zone.from_local_datetime(&time).earliest().is_some() {
            prop_assert_eq!(shown, time);
        }
    }
}
