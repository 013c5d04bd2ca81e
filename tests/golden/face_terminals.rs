//! Captures 05, 06 and 08: real visible-light face terminals in the att dialect —
//! SpeedFace-V5L (ZAM180), SenseFace 2A and 3A (ZAM70): options bodies, 10-field ATTLOG
//! with trailing TAB, 255 in the status field, `FP PIN==1`, BIODATA, USER extras, INFO acks.

use chrono::{NaiveDate, NaiveDateTime};
use ironclock::push::ack::parse_devicecmd_body;
use ironclock::push::query::DeviceQuery;
use ironclock::push::records::attlog::parse_attlog_body;
use ironclock::push::records::operlog::{parse_biodata_body, parse_operlog_body, BioDataRecord, OperLogRecord};
use ironclock::push::records::parse_options;

use super::capture::load;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, s)).expect("valid literal")
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn biodata(pin: &str, no: i32, bio_type: i32, major: &str, minor: &str, template: &str) -> BioDataRecord {
    BioDataRecord {
        pin: pin.into(),
        no,
        index: 0,
        valid: Some(1),
        duress: Some(0),
        bio_type,
        major_ver: Some(major.into()),
        minor_ver: Some(minor.into()),
        format: Some(0),
        template: template.into(),
    }
}

// ---- 05: SpeedFace-V5L, ZAM180, push "2.0.33S" ----

#[test]
fn capture_05_v5l_options_reattach_the_comma_inside_oem_vendor() {
    let capture = load("05");
    let pairs = parse_options(capture.section("table=options body")[0]);
    assert_eq!(pairs.len(), 43);
    assert_eq!(value(&pairs, "~DeviceName"), Some("SpeedFace-V5L"));
    assert_eq!(value(&pairs, "~OEMVendor"), Some("ZKTECO CO., LTD."));
    assert_eq!(value(&pairs, "FWVersion"), Some("ZAM180-NF50VA-Ver3.4.9"));
    assert_eq!(value(&pairs, "PushVersion"), Some("Ver 2.0.33S-20220623"));
    assert_eq!(value(&pairs, "~Platform"), Some("ZAM180_TFT"));
    assert_eq!(value(&pairs, "Language"), Some("101"));
    assert_eq!(value(&pairs, "FaceVersion"), Some("39"));
    assert_eq!(value(&pairs, "RegDeviceType"), Some(""));
    assert_eq!(pairs.last(), Some(&("RoomStatus".to_owned(), "0".to_owned())));
}

#[test]
fn capture_05_ten_field_attlog_line_with_trailing_tab_and_255_in_field_8() {
    let capture = load("05");
    let parsed = parse_attlog_body(&capture.section("table=ATTLOG line")[0..1].join("\n"));
    let r = &parsed.records[0];
    assert_eq!((r.pin.as_str(), r.local_time), ("9999", Some(at(2026, 8, 12, 8, 53, 23))));
    assert_eq!((r.status, r.verify, r.workcode.as_deref()), (Some(0), Some(15), Some("0")));
    assert_eq!(r.extra, ["0", "0", "255", "0", "0"]);
    assert!(r.raw.ends_with("\t0\t0\t"));
}

#[test]
fn capture_05_operlog_body_keeps_oplog_user_and_fp_and_rejects_pin_doubled_equals() {
    let capture = load("05");
    let body = capture.section("table=OPERLOG body").join("\n");
    let parsed = parse_operlog_body(&body);
    assert_eq!(parsed.records.len(), 3);
    let OperLogRecord::OpLog(op) = &parsed.records[0] else { panic!("OPLOG expected") };
    assert_eq!((op.op_type, op.operator.as_str(), op.time_raw.as_str()), (4, "0", "2026-08-12 08:17:48"));
    let OperLogRecord::User(u) = &parsed.records[1] else { panic!("USER expected") };
    assert_eq!((u.pin.as_str(), u.name.as_deref(), u.privilege), ("9998", Some("PRUEBA REPLICA"), Some(0)));
    assert_eq!((u.password.as_deref(), u.card.as_deref(), u.group.as_deref()), (None, None, Some("1")));
    assert_eq!((u.timezones.as_deref(), u.verify), (Some("0000000100000000"), Some(-1)));
    let OperLogRecord::Fingerprint(fp) = &parsed.records[2] else { panic!("FP expected") };
    assert_eq!((fp.pin.as_str(), fp.fid, fp.size, fp.valid), ("9999", 1, Some(1120), Some(1)));
    assert_eq!(fp.template, "<1120 base64 chars>");
    // The firmware glitch `FP PIN==1` is quarantined, not read as PIN 1.
    assert_eq!(parsed.rejected.len(), 1);
    assert!(parsed.rejected[0].raw.starts_with("FP PIN==1\tFID=0"));
    assert_eq!(parsed.rejected[0].line_no, 4);
}

#[test]
fn capture_05_vl_face_biodata_is_type_9_version_39_3() {
    let capture = load("05");
    let parsed = parse_biodata_body(&capture.section("table=BIODATA line").join("\n"));
    assert_eq!(parsed.records, [biodata("9998", 0, 9, "39", "3", "<~1400 base64 chars>")]);
}

#[test]
fn capture_05_info_ack_puts_every_key_in_the_dump() {
    let capture = load("05");
    let body = capture.section("/iclock/devicecmd reply to C:<id>:INFO").join("\n");
    let parsed = parse_devicecmd_body(body.as_bytes());
    assert!(parsed.rejected.is_empty());
    let ack = &parsed.acks[0];
    assert_eq!((ack.id.as_str(), ack.return_code, ack.cmd.as_deref()), ("1786485203822", Some(0), Some("INFO")));
    assert!(ack.fields.is_empty(), "keys without ~ are not ack fields: {:?}", ack.fields);
    let info: Vec<(&str, &str)> = ack.info.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        info,
        [
            ("~DeviceName", "SpeedFace-V5L"),
            ("MAC", "00:17:61:13:20:21"),
            ("TransactionCount", "0"),
            ("~MaxAttLogCount", "20"),
            ("UserCount", "4"),
            ("~MaxUserCount", "100"),
            ("FPVersion", "10"),
            ("FaceVersion", "39"),
            ("PvVersion", "12"),
            ("FWVersion", "ZAM180-NF50VA-Ver3.4.9"),
            ("PushVersion", "Ver 2.0.33S-20220623"),
        ]
    );
}

// ---- 06: SenseFace 2A, ZAM70, push "3.1.2S", att mode ----

#[test]
fn capture_06_senseface_options_carry_multi_bio_support_lists() {
    let capture = load("06");
    let pairs = parse_options(capture.section("table=options body")[0]);
    assert_eq!(pairs.len(), 48);
    assert_eq!(value(&pairs, "~DeviceName"), Some("SenseFace 2A"));
    assert_eq!(value(&pairs, "~OEMVendor"), Some("ZKTECO CO., LTD."));
    assert_eq!(value(&pairs, "FPVersion"), Some("13"));
    assert_eq!(value(&pairs, "FaceVersion"), Some("40"));
    assert_eq!(value(&pairs, "MultiBioDataSupport"), Some("0:1:0:0:0:0:0:0:0:1"));
    assert_eq!(value(&pairs, "MultiBioPhotoSupport"), Some("0:0:0:0:0:0:0:0:0:1"));
    assert_eq!(value(&pairs, "PushVersion"), Some("Ver 3.1.2S-20250616"));
    assert_eq!(pairs.last(), Some(&("SipEnableUnit".to_owned(), "1".to_owned())));
}

#[test]
fn capture_06_attlog_with_255_in_the_status_field_keeps_status_255() {
    let capture = load("06");
    let parsed = parse_attlog_body(capture.section("table=ATTLOG line")[0]);
    let r = &parsed.records[0];
    assert_eq!((r.pin.as_str(), r.local_time), ("9995", Some(at(2026, 8, 13, 11, 19, 12))));
    assert_eq!((r.status, r.verify, r.workcode.as_deref()), (Some(255), Some(1), Some("0")));
    assert_eq!(r.extra, ["0", "0", "0", "0"]);
}

#[test]
fn capture_06_fingerprint_biodata_is_type_1_version_13() {
    let capture = load("06");
    let parsed = parse_biodata_body(capture.section("table=BIODATA line")[0]);
    assert_eq!(parsed.records, [biodata("9995", 7, 1, "13", "0", "<~1120 base64 chars>")]);
}

// ---- 08: SenseFace 3A, ZAM70-NF28VA, pushver 2.4.1 att ----

#[test]
fn capture_08_handshake_query_announces_att_and_pushver_2_4_1() {
    let capture = load("08");
    let line = capture.line_starting("# Handshake seen: GET /iclock/cdata?");
    let q = DeviceQuery::parse(line.split_once('?').map_or("", |(_, q)| q));
    assert_eq!(q.serial.as_deref(), Some("VGU6262600120"));
    assert_eq!(
        (q.pushver.as_deref(), q.device_type.as_deref(), q.options.as_deref()),
        (Some("2.4.1"), Some("att"), Some("all"))
    );
}

#[test]
fn capture_08_userinfo_answer_keeps_vice_card_expires_and_dates() {
    let capture = load("08");
    let request = "POST /iclock/cdata?SN=VGU6262600120&table=OPERLOG&OpStamp=9999";
    assert_eq!(DeviceQuery::parse(&capture.query(request)).stamp.as_deref(), Some("9999"));
    let parsed = parse_operlog_body(&capture.request_body(request));
    let users: Vec<_> = parsed
        .records
        .iter()
        .map(|r| match r {
            OperLogRecord::User(u) => u.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(users.len(), 2);
    assert_eq!((users[0].pin.as_str(), users[0].name.as_deref(), users[0].privilege), ("1", Some("NIHAL"), Some(14)));
    assert_eq!((users[0].card.as_deref(), users[0].vice_card.as_deref()), (Some("196793"), None));
    assert_eq!(
        (users[1].pin.as_str(), users[1].name.as_deref(), users[1].privilege, users[1].card.as_deref()),
        ("2", Some("RYHAN"), Some(0), None)
    );
    for u in &users {
        let extra: Vec<(&str, &str)> = u.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(extra, [("Expires", "0"), ("StartDatetime", "0"), ("EndDatetime", "0")]);
        assert_eq!(
            (u.timezones.as_deref(), u.verify, u.group.as_deref()),
            (Some("0000000100000000"), Some(-1), Some("1"))
        );
    }
}

#[test]
fn capture_08_oplog_70_and_two_fingerprint_biodata_lines() {
    let capture = load("08");
    let parsed = parse_operlog_body(capture.section("operation log sent on its own")[0]);
    let OperLogRecord::OpLog(op) = &parsed.records[0] else { panic!("OPLOG expected") };
    assert_eq!((op.op_type, op.operator.as_str(), op.time_raw.as_str()), (70, "0", "2026-09-14 19:05:35"));
    assert_eq!(op.values, ["2", "0", "0", "0"]);

    let bio = parse_biodata_body(&capture.section("table=BIODATA (fingerprints").join("\n"));
    assert_eq!(
        bio.records,
        [biodata("1", 6, 1, "13", "0", "apUBEBgEJAsBAA0AAaR"), biodata("2", 6, 1, "13", "0", "apUBEBgEBz8BAA0AAS8b"),]
    );
}

#[test]
fn capture_08_attlog_lines_with_status_255_and_trailing_tab() {
    let capture = load("08");
    let parsed = parse_attlog_body(&capture.section("table=ATTLOG, posted with &Stamp=9999").join("\n"));
    let rows: Vec<_> =
        parsed.records.iter().map(|r| (r.pin.as_str(), r.local_time, r.status, r.verify, r.extra.len())).collect();
    assert_eq!(
        rows,
        [
            ("3", Some(at(2026, 9, 15, 15, 35, 43)), Some(255), Some(1), 5),
            ("1", Some(at(2026, 9, 14, 18, 24, 18)), Some(255), Some(1), 5),
        ]
    );
}
