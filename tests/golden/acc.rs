//! Captures 04, 07 and 17: the access-control ("acc", security PUSH) dialect — registry,
//! /iclock/push config, options, rtlog/rtstate, tabledata/querydata, acks, DateTime sync —
//! and direct-axis's byte-exact legacy att block that two live devices depend on.

use chrono::{NaiveDate, NaiveDateTime};
use ironclock::push::ack::parse_devicecmd_body;
use ironclock::push::handshake::{render_att_handshake, HandshakeConfig};
use ironclock::push::query::DeviceQuery;
use ironclock::push::records::operlog::parse_userinfo_body;
use ironclock::push::records::{parse_options, parse_rtlog_body, parse_rtstate_body, parse_tabledata_body};
use ironclock::push::registry::{registry_code_reply, render_acc_push_config, AccPushConfig};
use ironclock::push::time::{old_decode_time, rtdata_time_reply};
use ironclock::push::upload::{table_count_reply, UploadTable};
use sha2::{Digest, Sha256};

use super::capture::{load, unescape};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, s)).expect("valid literal")
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

// ---- 04: SEC-CN 4.8 official examples ----

#[test]
fn capture_04_unregistered_acc_handshake_gets_a_bare_ok() {
    let capture = load("04");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/cdata?SN=3383154200002&pushver=3.0.1"));
    assert_eq!(
        (q.serial.as_deref(), q.pushver.as_deref(), q.options.as_deref()),
        (Some("3383154200002"), Some("3.0.1"), Some("all"))
    );
    assert!(capture.reply("GET /iclock/cdata?SN=3383154200002").body.starts_with("OK "));
}

#[test]
fn capture_04_registry_body_lists_65_capabilities_and_gets_a_registry_code() {
    let capture = load("04");
    let request = "POST /iclock/registry?SN=3383154200002";
    let pairs = parse_options(&capture.request_body(request));
    assert_eq!(pairs.len(), 65);
    assert_eq!(pairs[0], ("DeviceType".to_owned(), "acc".to_owned()));
    assert_eq!(value(&pairs, "~DeviceName"), Some("F20/M"));
    assert_eq!(value(&pairs, "FirmVer"), Some("Ver 8.0.1.3-20151229"));
    assert_eq!(value(&pairs, "MaxPackageSize"), Some("2048000"));
    assert_eq!(value(&pairs, "AccSupportFunList"), Some("0101010000111000000111010100011010"));
    assert_eq!(pairs.last(), Some(&("authKey".to_owned(), "dassas".to_owned())));
    let reply = capture.reply(request);
    assert_eq!(registry_code_reply("Uy47fxftP3"), reply.body);
    assert_eq!(reply.header("Content-Length"), Some(reply.body.len().to_string().as_str()));
}

#[test]
fn capture_04_push_config_block_renders_byte_exact() {
    let capture = load("04");
    let reply = capture.reply("POST /iclock/push?SN=3383154200002");
    let cfg = AccPushConfig {
        server_version: "3.0.1".into(),
        push_prot_ver: None,
        push_version: "3.0.1".into(),
        error_delay: 60,
        request_delay: 2,
        // Verbatim doc typo for "00:00;14:00" (see the capture's note).
        trans_times: "00:0014:00".into(),
        ..AccPushConfig::new(None, "30BFB04B2C8AECC72C01C03BFD549D15")
    };
    assert_eq!(render_acc_push_config(&cfg), reply.body);
    // Content-Length 218 = these 217 bytes plus one trailing LF in the doc's example; capture 17
    // shows live devices without one, so the renderer writes none.
    assert_eq!(reply.header("Content-Length"), Some((reply.body.len() + 1).to_string().as_str()));
}

#[test]
fn capture_04_probio_options_keep_the_docs_typo_inside_oem_vendor() {
    let capture = load("04");
    let pairs = parse_options(&capture.request_body("POST /iclock/cdata?SN=AJI6181160001&table=options"));
    assert_eq!(pairs.len(), 29);
    assert_eq!(value(&pairs, "~DeviceName"), Some("ProBio"));
    assert_eq!(value(&pairs, "~MaxPvCount"), Some(""));
    // The doc has "." where a "," belongs, so FWVersion is swallowed by the vendor value.
    assert_eq!(value(&pairs, "~OEMVendor"), Some("ZKTeco Inc. .FWVersion=Ver 8.0.4.1-20180102"));
    assert_eq!(value(&pairs, "FWVersion"), None);
    assert_eq!(pairs.last(), Some(&("PushVersion".to_owned(), "Ver 2.0.34-20180822".to_owned())));
}

#[test]
fn capture_04_rtlog_event_and_rtstate_rows_parse_by_key() {
    let capture = load("04");
    let request = "POST /iclock/cdata?SN=3383154200002&table=rtlog";
    let table = DeviceQuery::parse(&capture.query(request)).table.unwrap_or_default();
    assert!(UploadTable::parse(&table).is_access_control());
    let rtlog = parse_rtlog_body(&capture.request_body(request));
    let r = &rtlog.records[0];
    assert_eq!(r.local_time, Some(at(2017, 1, 10, 11, 49, 32)));
    assert_eq!(
        (r.pin.as_deref(), r.card_no.as_deref(), r.event, r.in_out_status),
        (Some("0"), Some("0"), Some(27), Some(1))
    );
    assert_eq!((r.verify_type.as_deref(), r.index), (Some("0"), Some(21)));
    assert!(!r.is_punch(), "pin=0 is a device event");
    assert_eq!(capture.reply(request).body, "OK");

    let rtstate = parse_rtstate_body(&capture.request_body("POST /iclock/cdata?SN=3383154200002&table=rtstate"));
    let s = &rtstate.records[0];
    assert_eq!(s.local_time, Some(at(2017, 1, 10, 15, 42, 40)));
    assert_eq!(
        (s.sensor.as_deref(), s.relay.as_deref(), s.alarm.as_deref(), s.door.as_deref()),
        (Some("00"), Some("00"), Some("020000000000000"), None)
    );
}

#[test]
fn capture_04_acc_acks_include_lower_case_return_and_row_counts() {
    let capture = load("04");
    let first = parse_devicecmd_body(capture.request_body("POST /iclock/devicecmd?SN=3383154200002 HTTP").as_bytes());
    let queries = capture.request_bodies("POST /iclock/devicecmd?SN=3383154200002");
    let second = parse_devicecmd_body(queries[1].as_bytes());
    // The third ack is printed on its request line: `> POST /iclock/devicecmd   ID=99&…`.
    let inline =
        capture.line_starting("> POST /iclock/devicecmd   ").split_once("   ").map_or("", |(_, ack)| ack.trim());
    let third = parse_devicecmd_body(inline.as_bytes());
    let acks: Vec<(&str, Option<i64>, Option<&str>)> = [&first, &second, &third]
        .iter()
        .flat_map(|p| p.acks.iter().map(|a| (a.id.as_str(), a.return_code, a.cmd.as_deref())))
        .collect();
    assert_eq!(
        acks,
        [
            ("1", Some(0), Some("DATA UPDATE")),
            ("415", Some(3), Some("DATA QUERY")),
            ("99", Some(2), Some("DATA QUERY"))
        ]
    );
}

#[test]
fn capture_04_tabledata_user_upload_parses_and_replies_user_1() {
    let capture = load("04");
    let request = "POST /iclock/cdata?SN=3383154200002&table=tabledata";
    let q = DeviceQuery::parse(&capture.query(request));
    assert_eq!((q.tablename.as_deref(), q.other_value("count")), (Some("user"), Some("1")));
    let body = capture.request_body(request);
    let users = parse_userinfo_body(&body);
    assert!(users.rejected.is_empty(), "{:?}", users.rejected);
    let u = &users.records[0];
    assert_eq!(
        (u.pin.as_str(), u.card.as_deref(), u.password.as_deref(), u.group.as_deref()),
        ("4", None, None, Some("1"))
    );
    assert_eq!((u.name.as_deref(), u.privilege, u.verify), (None, Some(0), Some(0)));
    let extra: Vec<&str> = u.extra.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(extra, ["uid", "starttime", "endtime", "disable"]);
    let rows = parse_tabledata_body(&body);
    assert_eq!((rows.records[0].table.as_str(), rows.records[0].get("uid")), ("user", Some("5")));
    assert_eq!(table_count_reply("user", rows.records.len()), capture.reply(request).body);
}

#[test]
fn capture_04_querydata_rows_parse_and_reply_user_3() {
    let capture = load("04");
    let request = "POST /iclock/querydata?SN=3383154200002";
    let q = DeviceQuery::parse(&capture.query(request));
    assert_eq!(
        (q.kind.as_deref(), q.cmd_id.as_deref(), q.tablename.as_deref()),
        (Some("tabledata"), Some("415"), Some("user"))
    );
    assert_eq!(
        (q.other_value("count"), q.other_value("packcnt"), q.other_value("packidx")),
        (Some("3"), Some("1"), Some("1"))
    );
    let users = parse_userinfo_body(&capture.request_body(request));
    let pins: Vec<(&str, Option<&str>)> =
        users.records.iter().map(|u| (u.pin.as_str(), u.password.as_deref())).collect();
    assert_eq!(pins, [("1", None), ("2", Some("1")), ("3", None)]);
    assert_eq!(table_count_reply("user", users.records.len()), capture.reply(request).body);
}

#[test]
fn capture_04_set_options_datetime_and_rtdata_reply_use_old_encode_time() {
    let capture = load("04");
    let command = capture.line_starting("< C:401:SET OPTIONS DateTime=");
    let value: u32 = command.rsplit('=').next().unwrap_or_default().parse().expect("number");
    // 583080894 = ((18*12*31 + 1*31 + 21) * 86400) + 14*3600 + 54*60 + 54, decoded by hand.
    assert_eq!(old_decode_time(value), Some(at(2018, 2, 22, 14, 54, 54)));
    let reply = capture.line_starting("< DateTime=").trim_start_matches("< ");
    // 583050990 is 2018-02-22 06:36:30 GMT; the server's zone is +0800.
    assert_eq!(rtdata_time_reply(at(2018, 2, 22, 6, 36, 30).and_utc(), chrono_tz::Asia::Shanghai), reply);
}

// ---- 07: SenseFace 2A in acc mode ----

#[test]
fn capture_07_registry_body_of_a_senseface_2a() {
    let capture = load("07");
    let pairs = parse_options(capture.section("POST /iclock/registry")[0]);
    let expected = [
        ("DeviceType", "acc"),
        ("~DeviceName", "SenseFace 2A"),
        ("FirmVer", "ZAM70-NF24HA-Ver3.0.15"),
        ("PushVersion", "Ver 3.0.4S-20240809"),
        ("~SerialNumber", "NYU7251601501"),
        ("FaceFunOn", "1"),
        ("FingerFunOn", "1"),
    ];
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(pairs, expected);
}

#[test]
fn capture_07_crlf_rtlog_punch_and_door_rows_parse_by_key() {
    let capture = load("07");
    let punch_line = capture.section("table=rtlog  (punch")[0];
    let door_line = capture.section("door-state row")[0];
    // The capture prints the CRLF terminators as "\r\n".
    let body = String::from_utf8([unescape(punch_line), unescape(door_line)].concat()).expect("ascii");
    let parsed = parse_rtlog_body(&body);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let punch = &parsed.records[0];
    assert_eq!(punch.local_time, Some(at(2026, 9, 9, 12, 9, 10)));
    assert_eq!((punch.pin.as_deref(), punch.event, punch.in_out_status), (Some("445966"), Some(3), Some(0)));
    assert_eq!((punch.verify_type.as_deref(), punch.index, punch.fields.len()), (Some("1"), Some(40), 13));
    assert!(punch.is_punch());
    let door = &parsed.records[1];
    assert_eq!(door.pin, None);
    assert!(!door.is_punch());
    let door_fields: Vec<(&str, &str)> = door.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        door_fields,
        [
            ("time", "2026-09-09 12:09:11"),
            ("sensor", "02"),
            ("relay", "00"),
            ("alarm", "0100000000000000"),
            ("door", "01")
        ]
    );
}

#[test]
fn capture_07_pre_ntp_clock_row_is_kept_with_no_local_time() {
    let capture = load("07");
    let line = capture.section("pre-NTP clock")[0];
    // The capture elides the rest of the row with "\t...".
    let line = line.strip_suffix("\t...").expect("elided row");
    let parsed = parse_rtlog_body(line);
    let r = &parsed.records[0];
    assert_eq!(
        (r.time_raw.as_str(), r.local_time, r.pin.as_deref()),
        ("1971--10--29 -23:-27:-54", None, Some("445966"))
    );
}

// ---- 17: direct-axis live devices ----

#[test]
fn capture_17_legacy_block_renders_byte_exact_with_the_recorded_sha256() {
    let capture = load("17");
    let block = capture.section("legacy (attendance) handshake reply").join("\n");
    let rendered = render_att_handshake(&HandshakeConfig::legacy("ESY4241100079", "0".into()));
    assert_eq!(rendered, block);
    assert_eq!(rendered.len(), 202, "the capture title says 202 bytes");
    let recorded = capture.line_starting("# sha256 ").trim_start_matches("# sha256 ").trim();
    let digest: String = Sha256::digest(rendered.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, recorded);
}

#[test]
fn capture_17_acc_handshake_block_renders_byte_exact() {
    let capture = load("17");
    let section = capture.section("acc handshake");
    let code = "Uy47fxftP3";
    let session = "0123456789abcdef0123456789abcdef";
    let expected = section.join("\n").replace("<code>", code).replace("<32 hex>", session);
    assert_eq!(render_acc_push_config(&AccPushConfig::new(Some(code), session)), expected);
    let title = capture.line_starting("--- acc handshake");
    let query = title.split_once('?').map(|(_, q)| q.split(')').next().unwrap_or_default()).unwrap_or_default();
    let q = DeviceQuery::parse(query);
    assert_eq!(
        (q.device_type.as_deref(), q.pushver.as_deref(), q.push_options_flag.as_deref()),
        (Some("acc"), Some("3.1.2"), Some("1"))
    );
}

#[test]
fn capture_17_registry_reply_is_exactly_the_code() {
    let capture = load("17");
    let note = capture.line_starting("--- POST /iclock/registry reply");
    assert!(note.contains("exactly \"RegistryCode=<code>\" (no newline)"));
    assert_eq!(registry_code_reply("<code>"), "RegistryCode=<code>");
}

#[test]
fn capture_17_rtlog_rows_separate_punches_from_device_events() {
    let capture = load("17");
    let parsed = parse_rtlog_body(&capture.section("rtlog rows").join("\n"));
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let rows: Vec<_> = parsed.records.iter().map(|r| (r.pin.as_deref(), r.event, r.index, r.is_punch())).collect();
    assert_eq!(rows, [(Some("1001"), Some(0), Some(21), true), (Some("0"), Some(27), Some(1), false)]);
    assert_eq!(parsed.records[0].local_time, Some(at(2026, 8, 20, 9, 15, 32)));
    assert_eq!(parsed.records[0].fields.len(), 10);
}
