//! The handshake block, reply headers, time zones, stamps and the legacy clock query.

use crate::support::{backends, spawn_app};

fn option<'a>(block: &'a str, key: &str) -> Option<&'a str> {
    block.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

#[tokio::test]
async fn every_reply_is_plain_text_with_a_gmt_date_and_a_length() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        for path in [
            "/iclock/cdata?SN=HDR0001&options=all&pushver=2.4.1",
            "/iclock/getrequest?SN=HDR0001",
            "/iclock/ping?SN=HDR0001",
        ] {
            let resp = app.get(path).await;
            assert_eq!(resp.status(), 200, "{path}");
            let h = resp.headers();
            let date = h.get("date").expect("Date header").to_str().unwrap().to_string();
            assert!(date.ends_with(" GMT"), "{path}: {date}");
            assert!(httpdate::parse_http_date(&date).is_ok(), "{path}: {date}");
            assert_eq!(h.get("content-type").unwrap(), "text/plain", "{path}");
            assert!(h.get("transfer-encoding").is_none(), "{path}: no chunking");
            assert!(h.get("content-encoding").is_none(), "{path}: no compression");
            let len: usize = h.get("content-length").expect("Content-Length").to_str().unwrap().parse().unwrap();
            assert_eq!(len, resp.bytes().await.unwrap().len(), "{path}");
        }
    }
}

#[tokio::test]
async fn the_handshake_learns_pushver_language_and_dialect_from_the_query() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let resp = app
            .get("/iclock/cdata?SN=LRN0001&options=all&pushver=2.4.0&language=83&DeviceType=att&PushOptionsFlag=2")
            .await;
        assert_eq!(resp.status(), 200);
        let device = app.device("LRN0001").await;
        assert_eq!(device.pushver.as_deref(), Some("2.4.0"), "{}", app.backend);
        assert_eq!(device.language.as_deref(), Some("83"));
        assert_eq!(device.dialect, ironclock::domain::Dialect::Att);
    }
}

#[tokio::test]
async fn timezone_is_sent_in_minutes_when_the_zone_is_not_a_whole_hour() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "TZ00001", "Asia/Kolkata").await;
        let block = app.handshake("TZ00001").await;
        assert_eq!(option(&block, "TimeZone"), Some("330"), "{}: {block}", app.backend);
        super::approved_device(&app, "TZ00002", "Asia/Shanghai").await;
        assert_eq!(option(&app.handshake("TZ00002").await, "TimeZone"), Some("8"));
    }
}

#[tokio::test]
async fn the_handshake_echoes_the_last_accepted_stamp_per_table() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "STP0001", "UTC").await;
        let before = app.handshake("STP0001").await;
        assert_eq!(option(&before, "ATTLOGStamp"), Some("9999"), "{}: a new device starts at 9999", app.backend);
        let resp = app
            .post("/iclock/cdata?SN=STP0001&table=ATTLOG&Stamp=1234567", "1\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\n")
            .await;
        assert_eq!(resp.status(), 200);
        let resp = app
            .post("/iclock/cdata?SN=STP0001&table=OPERLOG&OpStamp=777", "OPLOG 4\t0\t2026-03-02 08:17:48\t0\t0\t0\t0\n")
            .await;
        assert_eq!(resp.status(), 200);
        let after = app.handshake("STP0001").await;
        assert_eq!(option(&after, "ATTLOGStamp"), Some("1234567"), "{}: {after}", app.backend);
        assert_eq!(option(&after, "OPERLOGStamp"), Some("777"));
    }
}

#[tokio::test]
async fn errorlog_and_idcard_uploads_keep_their_own_stamps_and_leave_operlog_alone() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "STP0002", "UTC").await;
        let oplog = "OPLOG 4\t0\t2026-03-02 08:17:48\t0\t0\t0\t0\n";
        assert_eq!(app.post("/iclock/cdata?SN=STP0002&table=OPERLOG&Stamp=100", oplog).await.status(), 200);
        let error = "ERRORLOG ErrCode=D01E0001\tErrMsg=face detection failed\tDataOrigin=cmd\tCmdId=1\tAdditional=\n";
        assert_eq!(app.post("/iclock/cdata?SN=STP0002&table=ERRORLOG&Stamp=555", error).await.status(), 200);
        let card = "IDCARD PIN=1\tSNNum=123\tIDNum=456\tDNNum=\tName=A\n";
        assert_eq!(app.post("/iclock/cdata?SN=STP0002&table=IDCARD&Stamp=777", card).await.status(), 200);
        let block = app.handshake("STP0002").await;
        assert_eq!(option(&block, "OPERLOGStamp"), Some("100"), "{}: {block}", app.backend);
        assert_eq!(option(&block, "ERRORLOGStamp"), Some("555"), "{}: {block}", app.backend);
        assert_eq!(option(&block, "IDCARDStamp"), Some("777"), "{}: {block}", app.backend);
    }
}

#[tokio::test]
async fn digit_transflag_goes_to_pushlite_lx35_only_not_to_every_push_3_0_device() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        // SenseFace 2A (ZAM70, push 3.0.4S, capture 07) in att mode reads the text TransFlag.
        super::approved_device(&app, "TFL0001", "UTC").await;
        let senseface = "~DeviceName=SenseFace 2A,~Platform=ZAM70_TFT,FWVersion=ZAM70-NF24HA-Ver3.0.15,PushVersion=Ver 3.0.4S-20240809";
        assert_eq!(app.post("/iclock/cdata?SN=TFL0001&table=options", senseface).await.status(), 200);
        let block = app.handshake("TFL0001").await;
        assert!(option(&block, "TransFlag").is_some_and(|f| f.starts_with("TransData ")), "{}: {block}", app.backend);
        // PushLite LX35 (AK37xx, FW ZLM31, push 3.0.1, capture 12) reads it with strspn: digits only.
        super::approved_device(&app, "TFL0002", "UTC").await;
        let lx35 = "~DeviceName=LX35,FWVersion=ZLM31-FXO1-3.1.8,PushVersion=Ver 3.0.1-20230519";
        assert_eq!(app.post("/iclock/cdata?SN=TFL0002&table=options", lx35).await.status(), 200);
        let block = app.handshake("TFL0002").await;
        assert_eq!(option(&block, "TransFlag"), Some("1111111111"), "{}: {block}", app.backend);
    }
}

#[tokio::test]
async fn the_legacy_time_query_answers_local_time_with_the_offset() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "TIME001", "Asia/Kolkata").await;
        let text = app.get("/iclock/cdata?SN=TIME001&type=time").await.text().await.unwrap();
        assert!(text.starts_with("Time=") && text.trim_end().ends_with("+05:30"), "{}: {text}", app.backend);
    }
}

#[tokio::test]
async fn a_url_prefix_aspx_suffix_and_post_on_any_route_still_work() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        let block = app.get("/school-a/iclock/cdata.aspx?SN=PFX0001&options=all").await.text().await.unwrap();
        assert!(block.starts_with("GET OPTION FROM: PFX0001"), "{}: {block}", app.backend);
        let resp = app.post("/school-a/iclock/getrequest?SN=PFX0001", "").await;
        assert_eq!(resp.text().await.unwrap(), "OK");
        let other = app.get("/iclock/file/fw/X938/main.tgz?SN=PFX0001").await;
        assert_eq!(other.status(), 200, "catch-all answers OK");
        assert_eq!(app.get("/not-a-device-path").await.status(), 404);
    }
}
