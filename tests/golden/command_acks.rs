//! Captures 09, 10, 12 and 13: command traffic. Server->device command lines cannot be
//! tested until command rendering exists (a later issue), so these tests read the device's
//! acks (and the few server-side facts the pure module renders: TransFlag digits, TimeZone,
//! ServerVer, OldEncodeTime).

use ironclock::push::ack::parse_devicecmd_body;
use ironclock::push::handshake::{
    parse_handshake_block, render_att_handshake, HandshakeConfig, TransFlagStyle, SERVER_VER,
};
use ironclock::push::records::operlog::parse_biodata_body;
use ironclock::push::time::{old_encode_time, parse_device_time, timezone_option};

use super::capture::load;

fn summary(body: &str) -> Vec<(String, Option<i64>, Option<String>)> {
    let parsed = parse_devicecmd_body(body.as_bytes());
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    parsed.acks.into_iter().map(|a| (a.id, a.return_code, a.cmd)).collect()
}

fn ack(id: &str, return_code: i64, cmd: &str) -> (String, Option<i64>, Option<String>) {
    (id.to_owned(), Some(return_code), Some(cmd.to_owned()))
}

// ---- 09: SpeedFace-V5L-RFID command matrix ----

#[test]
fn capture_09_batched_confirmations_in_one_post() {
    let capture = load("09");
    let body = capture.section("batched confirmations").join("\n");
    assert_eq!(summary(&body), [ack("1", 0, "DATA"), ack("2", 0, "DATA"), ack("3", 0, "CHECK")]);
}

#[test]
fn capture_09_shell_confirmation_is_key_per_line_with_content() {
    let capture = load("09");
    let body = capture.section("Shell confirmation").join("\n");
    let parsed = parse_devicecmd_body(body.as_bytes());
    let a = &parsed.acks[0];
    assert_eq!((a.id.as_str(), a.return_code, a.cmd.as_deref()), ("32", Some(0), Some("Shell")));
    assert_eq!(a.content.as_deref(), Some(b"Tue Mar 24 16:12:26 GMT 2026".as_slice()));
}

// ---- 10: SFAA245100112 BIODATA face and fingerprint writes ----

#[test]
fn capture_10_every_devicecmd_reply_matches_its_command_id() {
    let capture = load("10");
    let command_ids: Vec<&str> = capture
        .lines_starting("> C:")
        .iter()
        .map(|l| l.trim_start_matches("> C:").split(':').next().unwrap_or_default())
        .collect();
    let bodies: Vec<&str> = capture
        .lines_starting("< POST /iclock/devicecmd?SN=SFAA245100112 body: ")
        .iter()
        .map(|l| l.split_once(" body: ").map_or("", |(_, b)| b))
        .collect();
    assert_eq!((command_ids.len(), bodies.len()), (36, 36));
    // Rows 2, 3, 5 and 6 sent a fingerprint with `Format=ZK` and got -12; every other row 0.
    let rejected_rows = [2, 3, 5, 6];
    for (row, (id, body)) in command_ids.iter().zip(&bodies).enumerate() {
        let expected = if rejected_rows.contains(&(row + 1)) { -12 } else { 0 };
        assert_eq!(summary(body), [ack(id, expected, "DATA")], "row {}", row + 1);
    }
    // The same replies batched into one body (ZAM firmware batches) give the same acks.
    assert_eq!(summary(&bodies.join("\n")).len(), 36);
}

#[test]
fn capture_10_format_zk_biodata_is_refused_like_the_device_refused_it() {
    let capture = load("10");
    let updates: Vec<&str> = capture
        .lines_starting("> C:")
        .iter()
        .filter_map(|l| l.split_once(":DATA UPDATE BIODATA ").map(|(_, fields)| fields))
        .collect();
    assert_eq!(updates.len(), 34);
    let parsed = parse_biodata_body(&updates.join("\n"));
    // The four `Format=ZK` rows (device answered -12) are rejected for a non-numeric Format.
    assert_eq!(parsed.rejected.len(), 4);
    assert!(parsed.rejected.iter().all(|r| r.error.contains("Format")), "{:?}", parsed.rejected);
    // The NIR face: Type=2 MajorVer=12, all 15 Index rows, twice (rows 7-21 and 22-36).
    let faces: Vec<i32> = parsed.records.iter().filter(|r| r.bio_type == 2).map(|r| r.index).collect();
    assert_eq!(faces, (0..15).chain(0..15).collect::<Vec<i32>>());
    // Row 7 is the one row whose template the capture keeps whole: 2688 base64 characters.
    assert_eq!(parsed.records[0].template.len(), 2688);
    assert_eq!((parsed.records[0].major_ver.as_deref(), parsed.records[0].format), (Some("12"), Some(0)));
}

// ---- 12: BioTime / agap.top / LX35 ----

#[test]
fn capture_12_ac_unlock_ack_echoes_the_alphanumeric_id() {
    let capture = load("12");
    let body = capture.line_starting("# device ACK: ").trim_start_matches("# device ACK: ");
    assert_eq!(summary(body), [ack("OPENDOOR0", 0, "AC_UNLOCK")]);
}

#[test]
fn capture_12_lx35_digit_trans_flag_is_sent_alone_and_timezone_7_is_vietnam() {
    let capture = load("12");
    // agap.top's block (CRLF line ends per the capture) sends both a digit and a text
    // TransFlag; LX35 reads digits with strspn and a later text line clobbers them.
    let agap = parse_handshake_block(&capture.section("handshake reply shape copied from agap.top").join("\r\n"));
    let agap_flags: Vec<&str> =
        agap.options.iter().filter(|(k, _)| k == "TransFlag").map(|(_, v)| v.as_str()).collect();
    assert_eq!(agap_flags.len(), 2);
    let mut cfg = HandshakeConfig::recommended("LX35", "7".into());
    cfg.trans_flag = TransFlagStyle::Digits;
    let ours = parse_handshake_block(&render_att_handshake(&cfg));
    let our_flags: Vec<&str> = ours.options.iter().filter(|(k, _)| k == "TransFlag").map(|(_, v)| v.as_str()).collect();
    assert_eq!(our_flags, agap_flags[..1]);
    let now = chrono::Utc::now();
    assert_eq!(agap.get("TimeZone"), Some(timezone_option(chrono_tz::Asia::Ho_Chi_Minh, now).as_str()));
}

#[test]
fn capture_12_lx35_query_dates_use_the_space_form() {
    let capture = load("12");
    let line = capture.line_starting("DATA QUERY ATTLOG StartTime=");
    let dates: Vec<_> = line
        .trim_start_matches("DATA QUERY ATTLOG ")
        .split('\t')
        .map(|field| field.split_once('=').map(|(_, v)| parse_device_time(v)))
        .collect();
    let expected = [
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).and_then(|d| d.and_hms_opt(0, 0, 0)),
        chrono::NaiveDate::from_ymd_opt(2026, 10, 3).and_then(|d| d.and_hms_opt(23, 59, 59)),
    ];
    assert_eq!(dates, [Some(expected[0]), Some(expected[1])]);
}

// ---- 13: GrupoSTI measured grammar ----

#[test]
fn capture_13_one_line_and_key_per_line_acks_in_one_body() {
    let capture = load("13");
    let body = capture.section("device->server acks they parse").join("\n");
    assert_eq!(summary(&body), [ack("1788912000123", 0, "DATA"), ack("12", -30, "DATA UPDATE BIODATA")]);
}

#[test]
fn capture_13_old_encode_time_follows_the_recorded_formula() {
    let capture = load("13");
    let formula = capture.line_starting("# value = ");
    assert!(formula.contains("((Y-2000)*12*31 + (M-1)*31 + (D-1))*86400 + h*3600 + m*60 + s"));
    let t = |s: &str| parse_device_time(s).expect("literal");
    // Hand-computed: ((26*372 + 7*31 + 11) * 86400) + 8*3600 + 53*60 + 23.
    assert_eq!(old_encode_time(t("2026-08-12 08:53:23")), 855_392_003);
    // ((25*372 + 11*31 + 30) * 86400) + 23*3600 + 59*60 + 59.
    assert_eq!(old_encode_time(t("2025-12-31 23:59:59")), 835_660_799);
}

#[test]
fn capture_13_v5l_accepted_server_version_is_our_recommended_value() {
    let capture = load("13");
    let block = parse_handshake_block(&capture.section("handshake block accepted by the V5L").join("\n"));
    assert_eq!(block.serial, None, "the V5L took a block without `GET OPTION FROM: <SN>`");
    assert_eq!(block.get("ServerVer"), Some(SERVER_VER));
    assert_eq!(block.get("GET OPTION FROM"), Some("attlog,userinfo"));
}
