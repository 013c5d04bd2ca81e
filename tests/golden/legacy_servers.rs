//! Captures 11, 14, 15 and 16: an MB360 with its server's block and full INFO ack, the
//! vendor's original iclock server, the PUSH SDK 3.2.0 manual, and thai_zkt's push 2/3
//! server strings.

use chrono::{NaiveDate, NaiveDateTime};
use ironclock::push::ack::parse_devicecmd_body;
use ironclock::push::handshake::{parse_handshake_block, render_att_handshake, HandshakeConfig, PUSH_OPTIONS};
use ironclock::push::info::{parse_poll_info, PollInfo};
use ironclock::push::query::DeviceQuery;
use ironclock::push::records::attlog::parse_attlog_body;
use ironclock::push::records::operlog::{parse_biodata_body, parse_operlog_body, parse_userinfo_body, OperLogRecord};
use ironclock::push::records::parse_options;
use ironclock::push::text::decode_body;
use ironclock::push::time::{legacy_time_reply, parse_device_time, timezone_option};
use ironclock::push::upload::{ok_count_reply, table_count_reply, UploadTable};

use super::capture::{load, unescape, unescape_text};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, s)).expect("valid literal")
}

fn keys(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

// ---- 11: MB360 / ZMM220, push 2.0.36 ----

#[test]
fn capture_11_handshake_query_carries_a_device_push_options_flag() {
    let capture = load("11");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/cdata?PushOptionsFlag=2"));
    assert_eq!(q.serial.as_deref(), Some("CEZU202360241"));
    assert_eq!((q.push_options_flag.as_deref(), q.language.as_deref()), (Some("2"), Some("69")));
    assert_eq!((q.options.as_deref(), q.pushver.as_deref()), (Some("all"), Some("2.4.0")));
}

#[test]
fn capture_11_server_block_sends_india_in_minutes_like_timezone_option() {
    let capture = load("11");
    let block = parse_handshake_block(&capture.section("handshake reply the server returned").join("\n"));
    assert_eq!(block.serial.as_deref(), Some("CEZU202360241"));
    assert_eq!(block.options.len(), 18);
    assert_eq!((block.get("Stamp"), block.get("OpStamp"), block.get("PhotoStamp")), (Some("0"), Some("0"), Some("0")));
    assert_eq!(block.get("TimeZone"), Some(timezone_option(chrono_tz::Asia::Kolkata, chrono::Utc::now()).as_str()));
    assert_eq!(
        block.get("TransFlag"),
        Some("TransData AttLog\tOpLog\tAttPhoto\tEnrollFP\tEnrollUser\tFPImag\tChgUser\tChgFP\tFACE\tUserPic\tFVEIN\tBioPhoto")
    );
    // Our recommended block sends the same TransFlag and TimeZone for this device.
    let ours =
        parse_handshake_block(&render_att_handshake(&HandshakeConfig::recommended("CEZU202360241", "330".into())));
    assert_eq!((ours.get("TransFlag"), ours.get("TimeZone")), (block.get("TransFlag"), block.get("TimeZone")));
}

#[test]
fn capture_11_mb360_options_body_keeps_trailing_space_vendor_trimmed() {
    let capture = load("11");
    let pairs = parse_options(capture.section("table=options body pushed")[0]);
    assert_eq!(pairs.len(), 34);
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(get("~DeviceName"), Some("MB360/ID"));
    assert_eq!(get("~OEMVendor"), Some("ZKTeco Inc."));
    assert_eq!((get("FaceVersion"), get("FaceCount"), get("BioPhotoFun")), (Some("7"), Some("141"), Some("")));
    assert_eq!(pairs.last(), Some(&("~LockFunOn".to_owned(), "15".to_owned())));
}

#[test]
fn capture_11_getrequest_info_matches_the_captures_own_annotation() {
    let capture = load("11");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/getrequest?SN=CEZU202360241"));
    assert_eq!(
        parse_poll_info(q.info.as_deref().unwrap_or_default()),
        PollInfo {
            firmware: Some("Ver 8.0.4.2-I113-02".into()),
            users: Some(143),
            fingerprints: Some(1),
            attlogs: Some(109),
            ip: Some("172.16.12.182".into()),
            fp_version: Some("10".into()),
            face_version: Some("7".into()),
            faces_per_enroll: Some(12),
            faces: Some(141),
            functions: Some("111".into()),
        }
    );
}

#[test]
fn capture_11_full_info_ack_has_53_dump_keys_and_no_ack_fields() {
    let capture = load("11");
    let body = capture.section("reply to C:122:INFO").join("\n");
    let parsed = parse_devicecmd_body(body.as_bytes());
    assert!(parsed.rejected.is_empty());
    let ack = &parsed.acks[0];
    assert_eq!((ack.id.as_str(), ack.return_code, ack.cmd.as_deref()), ("122", Some(0), Some("INFO")));
    assert!(ack.fields.is_empty());
    assert_eq!(ack.info.len(), 53);
    let get = |k: &str| ack.info.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(get("MainTime"), Some("1970-01-01 00:00:00"));
    assert_eq!(get("~OEMVendor"), Some("ZKTeco Inc."));
    assert_eq!(get("~SerialNumber"), Some("CEZU202360241"));
    assert_eq!((get("AccSupportFunList"), get("VisilightFun")), (Some(""), Some("")));
    assert_eq!(ack.info.first().map(|(k, _)| k.as_str()), Some("~DeviceName"));
    assert_eq!(ack.info.last().map(|(k, _)| k.as_str()), Some("VisilightFun"));
}

#[test]
fn capture_11_operlog_upload_uses_the_legacy_opstamp_name() {
    let capture = load("11");
    let q = DeviceQuery::parse(&capture.query("POST /iclock/cdata?SN=CEZU202360241&table=OPERLOG"));
    assert_eq!(UploadTable::parse(q.table.as_deref().unwrap_or_default()), UploadTable::OperLog);
    assert_eq!(q.stamp.as_deref(), Some("9999"));
}

// ---- 14: the vendor's original iclock server ----

#[test]
fn capture_14_recommended_block_keeps_the_vendor_servers_key_order() {
    let capture = load("14");
    let vendor = parse_handshake_block(&capture.section("handshake reply").join("\n"));
    assert_eq!(vendor.serial.as_deref(), Some("<SN>"));
    let vendor_keys = keys(&vendor.options);
    let ours = parse_handshake_block(&render_att_handshake(&HandshakeConfig::recommended("X", "0".into())));
    let ours_in_vendor: Vec<&str> = keys(&ours.options).into_iter().filter(|k| vendor_keys.contains(k)).collect();
    assert_eq!(ours_in_vendor, vendor_keys);
    assert_eq!(vendor.get("ServerVer"), Some("0.0.2 2010-07-22"));
}

#[test]
fn capture_14_upload_acks_are_ok_colon_count() {
    let capture = load("14");
    let acks = capture.section("upload acks");
    assert!(acks[0].starts_with(&format!("{}  ", ok_count_reply(1))));
    assert!(acks[1].starts_with("OK:<okc>"));
}

#[test]
fn capture_14_info_with_five_or_six_values_fills_the_first_fields() {
    let capture = load("14");
    let template = capture.line_starting("# INFO=<FW>,<users>,<fps>,<attlogs>,<ip>[,<fpver>]");
    assert!(template.contains("FWVersion/UserCount/FPCount/TransactionCount/IPAddress/FPVersion"));
    let six = parse_poll_info("Ver 6.60 Oct 29 2012,12,30,4000,192.168.1.201,9");
    assert_eq!(
        six,
        PollInfo {
            firmware: Some("Ver 6.60 Oct 29 2012".into()),
            users: Some(12),
            fingerprints: Some(30),
            attlogs: Some(4000),
            ip: Some("192.168.1.201".into()),
            fp_version: Some("9".into()),
            ..PollInfo::default()
        }
    );
    assert_eq!(parse_poll_info("Ver 6.60,12,30,4000,192.168.1.201").fp_version, None);
}

#[test]
fn capture_14_devicecmd_info_dump_and_multiline_getfile_parse() {
    let capture = load("14");
    let formats = capture.section("devicecmd parsing");
    let info_line = formats[1].split("   ").next().unwrap_or_default().replace("<id>", "5");
    let info = parse_devicecmd_body(format!("{info_line}\nFWVersion=Ver 6.60\nUserCount=12").as_bytes());
    assert_eq!((info.acks[0].cmd.as_deref(), info.acks[0].info.len()), (Some("INFO"), 2));

    let getfile = formats[2].split("   ").next().unwrap_or_default();
    let filled = getfile.replace("<id>", "6").replace("<bytes>", "3").replace("...", "").replace("<data>", "");
    let mut body = unescape(&filled);
    body.extend([0xFF, 0x00, 0x7F]);
    let parsed = parse_devicecmd_body(&body);
    let a = &parsed.acks[0];
    assert_eq!((a.id.as_str(), a.return_code, a.cmd.as_deref()), ("6", Some(3), Some("GetFile")));
    assert_eq!(a.content.as_deref(), Some([0xFF, 0x00, 0x7F].as_slice()));
}

#[test]
fn capture_14_gb18030_era_bodies_decode_gbk_names() {
    let capture = load("14");
    assert!(capture.line_starting("# Body decoded as GB18030 first").contains("GB2312/GBK"));
    // "USER PIN=8\tName=张三" as a Chinese-era device sends it.
    let mut body = b"USER PIN=8\tName=".to_vec();
    body.extend([0xD5, 0xC5, 0xC8, 0xFD]);
    let users = parse_userinfo_body(&decode_body(&body, None));
    assert_eq!(users.records[0].name.as_deref(), Some("张三"));
}

// ---- 15: PUSH SDK 3.2.0 ----

#[test]
fn capture_15_type_time_reply_is_local_time_with_offset() {
    let capture = load("15");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/cdata?SN=%s&type=time"));
    assert_eq!(q.kind.as_deref(), Some("time"));
    let expected = capture.line_starting("< Time=").trim_start_matches("< ");
    // 17:40:20 at -05:00 is 22:40:20 UTC; Bogota has no DST.
    assert_eq!(legacy_time_reply(at(2011, 5, 5, 22, 40, 20).and_utc(), chrono_tz::America::Bogota), expected);
}

#[test]
fn capture_15_handshake_template_stamps_are_t_form_times() {
    let capture = load("15");
    let block = parse_handshake_block(&capture.section("reply template in the manual").join("\n"));
    // `TimeZone=-05:00` is this manual's unit; ATT-EN §5 (hours or minutes) replaced it.
    assert_eq!(block.get("TimeZone"), Some("-05:00"));
    assert_eq!(block.get("ATTLOGStamp").and_then(parse_device_time), Some(at(2011, 4, 5, 17, 40, 20)));
}

#[test]
fn capture_15_five_field_attlog_lines_with_workcode() {
    let capture = load("15");
    let request = "POST /iclock/cdata?SN=12300001&table=ATTLOG";
    let q = DeviceQuery::parse(&capture.query(request));
    assert_eq!(q.stamp.as_deref().and_then(parse_device_time), Some(at(2008, 2, 25, 12, 8, 21)));
    let parsed = parse_attlog_body(&capture.request_body(request));
    // The manual calls these "7 fields"; the lines it prints have 5.
    let rows: Vec<_> = parsed
        .records
        .iter()
        .map(|r| (r.pin.as_str(), r.local_time, r.status, r.verify, r.workcode.as_deref(), r.extra.len()))
        .collect();
    assert_eq!(
        rows,
        [
            ("982", Some(at(2008, 2, 25, 12, 8, 21)), Some(1), Some(0), Some("9001"), 0),
            ("982", Some(at(2008, 2, 25, 18, 1, 9)), Some(1), Some(0), Some("9001"), 0),
        ]
    );
}

#[test]
fn capture_15_sixteen_field_tft_line_keeps_job_and_tip_codes() {
    let capture = load("15");
    let parsed = parse_attlog_body(capture.section("ATTLOG (TFT with job/tip codes")[0]);
    let r = &parsed.records[0];
    assert_eq!((r.pin.as_str(), r.status, r.verify, r.workcode.as_deref()), ("982", Some(1), Some(0), Some("9001")));
    assert_eq!(r.extra, ["0", "0", "1", "2", "3", "4", "5", "6", "1.0", "2.0", "3.0"]);
}

#[test]
fn capture_15_operlog_user_without_pri_fp_v9_and_face_without_fid() {
    let capture = load("15");
    let parsed = parse_operlog_body(&capture.section("--- OPERLOG ---").join("\n"));
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let OperLogRecord::User(u) = &parsed.records[0] else { panic!("USER expected") };
    assert_eq!(
        (u.pin.as_str(), u.name.as_deref(), u.privilege, u.password.as_deref()),
        ("982", Some("Richard"), None, Some("9822"))
    );
    assert_eq!((u.card.as_deref(), u.group.as_deref(), u.timezones.as_deref()), (Some("13375590"), Some("1"), None));
    let OperLogRecord::Fingerprint(fp) = &parsed.records[1] else { panic!("FP expected") };
    assert_eq!((fp.pin.as_str(), fp.fid, fp.size, fp.valid), ("982", 1, Some(680), Some(1)));
    assert!(fp.template.starts_with("oco"), "a v9 template");
    // The manual's FACE line has no FID (capture wins over the spec's FID-bearing layout).
    let OperLogRecord::Face(face) = &parsed.records[2] else { panic!("FACE expected") };
    assert_eq!((face.pin.as_str(), face.fid, face.size, face.valid), ("1002", 0, Some(3052), Some(1)));
}

// ---- 16: thai_zkt push 2 / push 3 ----

#[test]
fn capture_16_push2_block_asks_for_our_push_options_list() {
    let capture = load("16");
    let block = parse_handshake_block(&capture.section("push 2.x handshake reply").join("\n"));
    assert_eq!(block.get("PushOptions"), Some(PUSH_OPTIONS));
    assert_eq!((block.get("Stamp"), block.get("TimeZone")), (Some("1716809648.0"), Some("7")));
    // thai_zkt's lists have 11 entries (index 10 = VL palm); ours stop at 9 = VL face.
    assert_eq!(block.get("MultiBioDataSupport").map(|v| v.split(':').count()), Some(11));
}

#[test]
fn capture_16_biophoto_in_real_firmware_order_parses_by_key() {
    let capture = load("16");
    let line = capture.section("push 2.x BIOPHOTO upload")[0]
        .replace("<pin>", "9995")
        .replace("<n>", "0")
        .replace("<i>", "1")
        .replace("<name>", "9995")
        .replace("<bytes>", "5120")
        .replace("<base64 jpeg>", "/9j/4AAQSkZJRg==");
    let parsed = parse_operlog_body(&line);
    let OperLogRecord::BioPhoto(p) = &parsed.records[0] else { panic!("BIOPHOTO expected: {:?}", parsed.rejected) };
    assert_eq!((p.pin.as_str(), p.no, p.index, p.file_name.as_deref()), ("9995", Some(0), Some(1), Some("9995.jpg")));
    assert_eq!((p.bio_type, p.size, p.content.as_str()), (Some(9), Some(5120), "/9j/4AAQSkZJRg=="));
}

#[test]
fn capture_16_push3_querydata_user_and_biodata_rows_parse() {
    let capture = load("16");
    let rows = capture.section("push 3.x /iclock/querydata");
    let user = rows[0]
        .replace("<n>", "5")
        .replace("<c>", "123")
        .replace("<pin>", "7")
        .replace("<pw>", "")
        .replace("<g>", "1")
        .replace("<name>", "Ana")
        .replace("<pri>", "0");
    let users = parse_userinfo_body(&user);
    let u = &users.records[0];
    assert_eq!(
        (u.pin.as_str(), u.card.as_deref(), u.name.as_deref(), u.privilege, u.group.as_deref()),
        ("7", Some("123"), Some("Ana"), Some(0), Some("1"))
    );
    let reply = capture.line_starting("< user=");
    assert_eq!(
        reply.replace("<count of rows>", &users.records.len().to_string()),
        format!("< {}", table_count_reply("user", 1))
    );

    let biodata = unescape_text(
        &rows[1]
            .replace("<pin>", "7")
            .replace("<n>", "0")
            .replace("<i>", "0")
            .replace("<t>", "9")
            .replace("<M>", "58")
            .replace("<m>", "12")
            .replace("<f>", "0")
            .replace("<b64>", "QUJD"),
    );
    let bio = parse_biodata_body(&biodata);
    assert!(bio.rejected.is_empty(), "{:?}", bio.rejected);
    let b = &bio.records[0];
    assert_eq!((b.pin.as_str(), b.no, b.index, b.bio_type, b.format), ("7", 0, 0, 9, Some(0)));
    assert_eq!((b.major_ver.as_deref(), b.minor_ver.as_deref(), b.template.as_str()), (Some("58"), Some("12"), "QUJD"));
}
