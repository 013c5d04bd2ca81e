//! Captures 01-03: ZKTeco's official attendance PUSH examples (handshake, getrequest INFO,
//! ping, every upload kind, devicecmd acks and the reply format of every command).

use chrono::{NaiveDate, NaiveDateTime};
use ironclock::push::ack::parse_devicecmd_body;
use ironclock::push::handshake::{render_att_handshake, HandshakeConfig, HandshakeStyle, TableStamps, TransFlagStyle};
use ironclock::push::info::{parse_poll_info, PollInfo};
use ironclock::push::query::DeviceQuery;
use ironclock::push::records::attlog::parse_attlog_body;
use ironclock::push::records::operlog::{parse_biodata_body, parse_operlog_body, OperLogRecord};
use ironclock::push::records::{parse_attphoto, parse_options};
use ironclock::push::time::{http_date, timezone_option};
use ironclock::push::upload::{ok_count_reply, UploadTable};

use super::capture::{load, unescape};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, s)).expect("valid literal")
}

// ---- 01: handshake, options push, getrequest INFO, ping ----

#[test]
fn capture_01_handshake_query_names_serial_pushver_language_and_commkey() {
    let capture = load("01");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/cdata?SN=0316144680030&options=all"));
    assert_eq!(q.serial.as_deref(), Some("0316144680030"));
    assert_eq!(q.options.as_deref(), Some("all"));
    assert_eq!(q.pushver.as_deref(), Some("2.2.14"));
    assert_eq!(q.language.as_deref(), Some("83"));
    assert_eq!(q.other_value("pushcommkey"), Some("4a9594af164f2b9779b59e8554b5df26"));
}

#[test]
fn capture_01_official_handshake_block_renders_byte_exact_from_its_config() {
    let capture = load("01");
    let reply = capture.reply("GET /iclock/cdata?SN=0316144680030&options=all");
    // The reply's Date header is what the device syncs its clock to.
    let date = at(2015, 7, 3, 6, 53, 1).and_utc();
    assert_eq!(reply.header("Date"), Some(http_date(date).as_str()));
    let cfg = HandshakeConfig {
        stamps: TableStamps {
            attlog: Some("None".into()),
            operlog: Some("9999".into()),
            attphoto: Some("None".into()),
            biodata: None,
            errorlog: None,
            idcard: None,
        },
        delay: 10,
        trans_flag: TransFlagStyle::Custom(
            "TransData AttLog\tOpLog\tAttPhoto\tEnrollUser\tChgUser\tEnrollFP\tChgFP\tUserPic".into(),
        ),
        encrypt: "None".into(),
        style: HandshakeStyle::Legacy,
        // ZKTeco's example server is in China: TimeZone=8.
        ..HandshakeConfig::recommended("0316144680030", timezone_option(chrono_tz::Asia::Shanghai, date))
    };
    // The doc's `Content-Length: 190` does not match its own 12-line block (265 bytes);
    // the block text is the evidence, the header a transcription slip of the PDF.
    assert_eq!(render_att_handshake(&cfg), reply.body);
    assert_eq!(reply.body.len(), 265);
}

#[test]
fn capture_01_options_push_body_lists_three_capabilities() {
    let capture = load("01");
    let query = DeviceQuery::parse(&capture.query("POST /iclock/cdata?SN=0316144680030&table=options"));
    assert_eq!(UploadTable::parse(query.table.as_deref().unwrap_or_default()), UploadTable::Options);
    let body = capture.request_body("POST /iclock/cdata?SN=0316144680030&table=options");
    assert_eq!(
        parse_options(&body),
        vec![
            ("FingerFunOn".to_owned(), "1".to_owned()),
            ("FaceFunOn".to_owned(), "1".to_owned()),
            ("UserPicURLFunOn".to_owned(), "1".to_owned()),
        ]
    );
    assert_eq!(capture.reply("POST /iclock/cdata?SN=0316144680030&table=options").body, "OK");
}

#[test]
fn capture_01_getrequest_info_carries_ten_values() {
    let capture = load("01");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/getrequest?SN=0316144680030"));
    assert_eq!(
        parse_poll_info(q.info.as_deref().unwrap_or_default()),
        PollInfo {
            firmware: Some("Ver 2.0.12-20150625".into()),
            users: Some(0),
            fingerprints: Some(0),
            attlogs: Some(0),
            ip: Some("192.168.16.27".into()),
            fp_version: Some("10".into()),
            face_version: Some("7".into()),
            faces_per_enroll: Some(15),
            faces: Some(0),
            functions: Some("111".into()),
        }
    );
    let reply = capture.reply("GET /iclock/getrequest?SN=0316144680030");
    assert_eq!(reply.body, "OK");
    assert_eq!(reply.header("Date"), Some(http_date(at(2015, 6, 30, 1, 24, 26).and_utc()).as_str()));
}

#[test]
fn capture_01_ping_names_its_device_and_gets_ok() {
    let capture = load("01");
    let q = DeviceQuery::parse(&capture.query("GET /iclock/ping"));
    assert_eq!(q.serial.as_deref(), Some("3383154200002"));
    let reply = capture.reply("GET /iclock/ping");
    assert_eq!(reply.body, "OK");
    assert_eq!(reply.header("Date"), Some(http_date(at(2017, 1, 10, 7, 42, 41).and_utc()).as_str()));
}

// ---- 02: uploads ----

#[test]
fn capture_02_nine_attlog_lines_parse_and_reply_ok_9() {
    let capture = load("02");
    let request = "POST /iclock/cdata?SN=0316144680030&table=ATTLOG&Stamp=9999";
    let q = DeviceQuery::parse(&capture.query(request));
    assert_eq!((q.table.as_deref(), q.stamp.as_deref()), (Some("ATTLOG"), Some("9999")));
    let parsed = parse_attlog_body(&capture.request_body(request));
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let pins: Vec<&str> = parsed.records.iter().map(|r| r.pin.as_str()).collect();
    assert_eq!(pins, ["1452", "1452", "1452", "1452", "1452", "1452", "1452", "8965", "8965"]);
    let seconds: Vec<u32> = parsed.records.iter().map(|r| r.time_raw[17..].parse().expect("ss")).collect();
    assert_eq!(seconds, [28, 29, 30, 31, 33, 34, 35, 36, 37]);
    for r in &parsed.records {
        assert_eq!(r.local_time.map(|t| t.date()), NaiveDate::from_ymd_opt(2015, 7, 30));
        assert_eq!((r.status, r.verify, r.workcode.as_deref()), (Some(0), Some(1), Some("0")));
        assert_eq!(r.extra, ["0", "0"]);
    }
    assert_eq!(parsed.records[0].local_time, Some(at(2015, 7, 30, 15, 16, 28)));
    assert_eq!(ok_count_reply(parsed.records.len()), capture.reply(request).body);
}

#[test]
fn capture_02_operlog_uploads_parse_every_tag_and_count_replies_match() {
    let capture = load("02");
    let request = "POST /iclock/cdata?SN=0316144680030&table=OPERLOG&Stamp=9999";
    let bodies = capture.request_bodies(request);
    assert_eq!(bodies.len(), 7);
    let parsed: Vec<Vec<OperLogRecord>> = bodies
        .iter()
        .map(|b| {
            let p = parse_operlog_body(b);
            assert!(p.rejected.is_empty(), "{:?}", p.rejected);
            p.records
        })
        .collect();

    let OperLogRecord::OpLog(op) = &parsed[0][0] else { panic!("OPLOG expected") };
    assert_eq!((op.op_type, op.operator.as_str(), op.time_raw.as_str()), (4, "14", "2015-07-30 10:22:34"));
    assert_eq!(op.values, ["0", "0", "0", "0"]);

    let users: Vec<_> = parsed[1]
        .iter()
        .map(|r| match r {
            OperLogRecord::User(u) => u.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(users[0].pin, "36234");
    assert_eq!(users[0].name.as_deref(), Some("36234"));
    assert_eq!(users[0].privilege, Some(0));
    assert_eq!(users[0].password, None);
    assert_eq!(users[0].card.as_deref(), Some("133440"));
    assert_eq!(users[0].group.as_deref(), Some("1"));
    assert_eq!(users[0].timezones.as_deref(), Some("0001000000000000"));
    assert_eq!((users[0].verify, users[0].vice_card.as_deref()), (None, None));
    assert_eq!((users[1].pin.as_str(), users[1].card.as_deref()), ("36235", Some("133441")));

    let fps: Vec<_> = parsed[2]
        .iter()
        .map(|r| match r {
            OperLogRecord::Fingerprint(f) => f.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let summary: Vec<(&str, i32, Option<usize>, Option<i32>)> =
        fps.iter().map(|f| (f.pin.as_str(), f.fid, f.size, f.valid)).collect();
    assert_eq!(summary, [("2", 0, Some(1124), Some(1)), ("2", 1, Some(2120), Some(1)), ("3", 0, Some(1592), Some(1))]);
    assert_eq!(
        fps[0].template,
        "SghTUzIxAAADS00ECAUHCc7QAAAnSnkBAAAAg/YUfEsyAIEPHgH6ALFHRQBBAPkP8wBAS2UPEwBTACYPe0tYAHkljACuAHdleQBt..."
    );
    assert!(fps.iter().all(|f| f.template[3..].starts_with("TUzIx")), "v10 templates decode to ..SS21");

    let OperLogRecord::Face(face) = &parsed[3][0] else { panic!("FACE expected") };
    assert_eq!((face.pin.as_str(), face.fid, face.size, face.valid), ("306", 2, Some(1648), Some(1)));
    assert!(face.template.starts_with("AAAAAAAAAAAAAAAAAAAAAAAAFpLrMYATFLFL"));

    let OperLogRecord::FingerVein(vein) = &parsed[4][0] else { panic!("FVEIN expected") };
    assert_eq!(
        (vein.pin.as_str(), vein.fid, vein.index, vein.size, vein.valid),
        ("306", 2, Some(0), Some(1648), Some(1))
    );
    assert_eq!(vein.template, "AAAA...");

    let OperLogRecord::UserPic(pic) = &parsed[5][0] else { panic!("USERPIC expected") };
    assert_eq!((pic.pin.as_str(), pic.file_name.as_deref(), pic.size), ("123", Some("123.jpg"), Some(10)));
    assert_eq!(pic.content, "AAAAAAAAA......");

    let OperLogRecord::BioPhoto(photo) = &parsed[6][0] else { panic!("BIOPHOTO expected") };
    assert_eq!(
        (photo.pin.as_str(), photo.file_name.as_deref(), photo.bio_type, photo.size, photo.no, photo.index),
        ("123", Some("123.jpg"), Some(2), Some(95040), None, None)
    );

    // Replies: OK:<n> per body, except BIOPHOTO which the capture answers with a plain OK.
    let replies: Vec<String> = capture.replies(request).into_iter().map(|r| r.body).collect();
    let expected: Vec<String> = parsed[..6].iter().map(|records| ok_count_reply(records.len())).collect();
    assert_eq!(replies[..6], expected[..]);
    assert_eq!(replies[6], "OK");
}

#[test]
fn capture_02_biodata_table_upload_parses_a_palm_template() {
    let capture = load("02");
    let request = "POST /iclock/cdata?SN=0316144680030&table=BIODATA";
    let parsed = parse_biodata_body(&capture.request_body(request));
    assert!(parsed.rejected.is_empty());
    let r = &parsed.records[0];
    assert_eq!((r.pin.as_str(), r.no, r.index, r.valid, r.duress, r.bio_type), ("306", 0, 2, Some(1), Some(0), 8));
    assert_eq!((r.major_ver.as_deref(), r.minor_ver.as_deref(), r.format), (Some("1"), Some("0"), Some(0)));
    assert_eq!(r.template, "AAAAAAAAAAAAAAAAAAAAAAAFpRLmIYATFLFToAUQ...");
    assert_eq!(capture.reply(request).body, ok_count_reply(1));
}

#[test]
fn capture_02_binary_attphoto_reads_header_and_jpeg_bytes() {
    let capture = load("02");
    let request = "POST /iclock/cdata?SN=0316144680030&table=ATTPHOTO";
    let line = capture.request_body(request);
    // The capture prints the header with \n / \0 escapes and elides the JPEG; rebuild it.
    let (header, elided) = line.split_once("<9512 bytes").expect("elided photo");
    assert!(elided.contains("raw JPEG"));
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.resize(9510, 0x00);
    jpeg.extend([0xFF, 0xD9]);
    let body = [unescape(header), jpeg.clone()].concat();
    let photo = parse_attphoto(&body).expect("valid photo");
    assert_eq!(photo.file_name, "20150731103012-123.jpg");
    assert_eq!(photo.pin.as_deref(), Some("123"));
    assert_eq!(photo.taken_raw.as_deref(), Some("20150731103012"));
    assert_eq!(photo.serial.as_deref(), Some("0316144680030"));
    assert_eq!(photo.declared_size, Some(9512));
    assert_eq!(photo.cmd.as_deref(), Some("uploadphoto"));
    assert_eq!(photo.jpeg, jpeg);
    assert_eq!(capture.reply(request).body, "OK");
}

#[test]
fn capture_02_errorlog_names_the_failed_command() {
    let capture = load("02");
    let request = "POST /iclock/cdata?SN=0316144680030&table=ERRORLOG";
    let parsed = parse_operlog_body(&capture.request_body(request));
    let OperLogRecord::ErrorLog(e) = &parsed.records[0] else { panic!("ERRORLOG expected") };
    assert_eq!(e.err_code, "D01E0001");
    assert_eq!(e.err_msg, "");
    assert_eq!(
        (e.data_origin.as_deref(), e.cmd_id.as_deref(), e.additional.as_deref()),
        (Some("cmd"), Some("123"), None)
    );
    assert_eq!(capture.reply(request).body, "OK");
}

#[test]
fn capture_02_tgz_packet_lines_parse_as_operlog() {
    let capture = load("02");
    let lines = capture.lines();
    let start = lines.iter().position(|l| l.starts_with("<tar.gz containing")).expect("tgz section") + 1;
    let body: Vec<&str> = lines[start..].iter().take_while(|l| !l.starts_with('<')).copied().collect();
    let parsed = parse_operlog_body(&body.join("\n"));
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    let OperLogRecord::User(u) = &parsed.records[0] else { panic!("USER expected") };
    assert_eq!(
        (u.pin.as_str(), u.name.as_deref(), u.privilege, u.password.as_deref()),
        ("1", None, Some(0), Some("0"))
    );
    assert_eq!(
        (u.card.as_deref(), u.group.as_deref(), u.timezones.as_deref()),
        (Some("89776433"), Some("1"), Some("0001000100000000"))
    );
    assert_eq!((u.verify, u.vice_card.as_deref()), (Some(-1), Some("123456789")));
    let OperLogRecord::Fingerprint(fp) = &parsed.records[1] else { panic!("FP expected") };
    assert_eq!((fp.pin.as_str(), fp.fid, fp.size, fp.valid), ("1", 1, Some(1336), Some(1)));
}

// ---- 03: devicecmd ----

#[test]
fn capture_03_five_batched_acks_with_alphanumeric_ids() {
    let capture = load("03");
    let request = "POST /iclock/devicecmd?SN=0316144680030";
    let parsed = parse_devicecmd_body(capture.request_body(request).as_bytes());
    assert!(parsed.rejected.is_empty());
    let acks: Vec<(&str, Option<i64>, Option<&str>)> =
        parsed.acks.iter().map(|a| (a.id.as_str(), a.return_code, a.cmd.as_deref())).collect();
    assert_eq!(
        acks,
        [
            ("info8487", Some(0), Some("DATA")),
            ("info8488", Some(0), Some("DATA")),
            ("info8489", Some(0), Some("DATA")),
            ("info7464", Some(0), Some("DATA")),
            ("fp7464", Some(0), Some("DATA")),
        ]
    );
    let reply = capture.reply(request);
    assert_eq!(reply.body, "OK");
    assert_eq!(reply.header("Date"), Some(http_date(at(2015, 6, 30, 1, 24, 48).and_utc()).as_str()));
}

#[test]
fn capture_03_every_reply_format_of_the_spec_parses() {
    let capture = load("03");
    let formats = capture.section("reply formats defined per command");
    assert_eq!(formats.len(), 16);
    let mut seen = Vec::new();
    for format in formats {
        // Drop the capture's trailing "(also …)" notes, fill the placeholders.
        let format = format.split("   ").next().unwrap_or_default();
        let filled = format
            .replace("<id>", "77")
            .replace("<ret>", "0")
            .replace("<size>", "6")
            .replace("<rc>", "0")
            .replace("<n>", "42")
            .replace("<sn>", "0316144680030")
            .replace("<file>", "options.cfg");
        let mut body = unescape(&filled.replace("<binary>", "").replace("<stdout>", "uptime 5 days"));
        if filled.ends_with("<binary>") {
            body.extend([0x00, 0xFF, 0x0A, 0x0D, 0x80, 0x01]);
        }
        let parsed = parse_devicecmd_body(&body);
        assert!(parsed.rejected.is_empty(), "{format}: {:?}", parsed.rejected);
        assert_eq!(parsed.acks.len(), 1, "{format}");
        let ack = &parsed.acks[0];
        assert_eq!(ack.id, "77", "{format}");
        seen.push((ack.cmd.clone().unwrap_or_default(), ack.return_code));
        match ack.cmd.as_deref() {
            Some("VERIFY SUM") => assert_eq!(
                ack.fields,
                [
                    ("StartTime".into(), "<t>".into()),
                    ("EndTime".into(), "<t>".into()),
                    ("AttlogSum".into(), "42".into())
                ]
            ),
            Some("INFO") => {
                assert_eq!(ack.info, [("<Key>".into(), "<Value>".into()), ("<Key>".into(), "<Value>...".into())])
            }
            Some("GetFile") => {
                assert_eq!(
                    ack.fields,
                    [("SN".into(), "0316144680030".into()), ("FILENAME".into(), "options.cfg".into())]
                );
                assert_eq!(ack.content.as_deref(), Some([0x00, 0xFF, 0x0A, 0x0D, 0x80, 0x01].as_slice()));
            }
            Some("Shell") => {
                assert_eq!(
                    ack.fields,
                    [("SN".into(), "0316144680030".into()), ("FILENAME".into(), "shellout.txt".into())]
                );
                assert_eq!(ack.content.as_deref(), Some(b"uptime 5 days".as_slice()));
            }
            _ => assert!(ack.fields.is_empty() && ack.info.is_empty() && ack.content.is_none(), "{format}"),
        }
    }
    let cmds: Vec<&str> = seen.iter().map(|(cmd, _)| cmd.as_str()).collect();
    assert_eq!(
        cmds,
        [
            "CLEAR_LOG",
            "CLEAR PHOTO",
            "CLEAR_DATA",
            "CLEAR_BIODATA",
            "CHECK",
            "LOG",
            "VERIFY SUM",
            "SET OPTION",
            "RELOAD OPTIONS",
            "INFO",
            "GetFile",
            "PutFile",
            "Shell",
            "ENROLL_FP",
            "REBOOT",
            "UPGRADE",
        ]
    );
    let byte_counts: Vec<Option<i64>> =
        seen.iter().filter(|(c, _)| c == "GetFile" || c == "PutFile").map(|(_, r)| *r).collect();
    assert_eq!(byte_counts, [Some(6), Some(6)]);
}
