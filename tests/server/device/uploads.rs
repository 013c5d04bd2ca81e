//! ATTLOG ingestion: exactly once, bad lines quarantined, clocks converted and flagged, and a
//! storage failure answered with a 5xx so the device re-sends.

use crate::support::{backends, spawn_app};
use ironclock::store::PunchFilter;

/// Capture 02: the official 9-line ATTLOG upload, answered `OK:9`.
const OFFICIAL: &str = "1452\t2015-07-30 15:16:28\t0\t1\t0\t0\t0\n1452\t2015-07-30 15:16:29\t0\t1\t0\t0\t0\n\
1452\t2015-07-30 15:16:30\t0\t1\t0\t0\t0\n1452\t2015-07-30 15:16:31\t0\t1\t0\t0\t0\n1452\t2015-07-30 15:16:33\t0\t1\t0\t0\t0\n\
1452\t2015-07-30 15:16:34\t0\t1\t0\t0\t0\n1452\t2015-07-30 15:16:35\t0\t1\t0\t0\t0\n8965\t2015-07-30 15:16:36\t0\t1\t0\t0\t0\n\
8965\t2015-07-30 15:16:37\t0\t1\t0\t0\t0\n";

#[tokio::test]
async fn attlog_upload_of_the_official_capture_is_acknowledged_ok_9_and_a_resend_stores_nothing_new() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "0316144680030", "Asia/Shanghai").await;
        for _ in 0..2 {
            let resp = app.post("/iclock/cdata?SN=0316144680030&table=ATTLOG&Stamp=9999", OFFICIAL).await;
            assert_eq!(resp.status(), 200, "{}", app.backend);
            assert_eq!(resp.text().await.unwrap(), "OK:9", "{}", app.backend);
        }
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 9, "{}", app.backend);
    }
}

#[tokio::test]
async fn local_times_are_converted_to_utc_in_the_devices_zone_and_the_original_kept() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "ZONE001", "Africa/Nairobi").await;
        app.post("/iclock/cdata?SN=ZONE001&table=ATTLOG", "77\t2026-03-02 07:45:00\t0\t15\t0\t0\t0\t255\t0\t0\t\n")
            .await;
        let punches = app.ctx.store.list_punches(&PunchFilter::default()).await.unwrap();
        assert_eq!(punches.len(), 1, "{}", app.backend);
        let p = &punches[0];
        assert_eq!(p.local_time, "2026-03-02 07:45:00");
        assert_eq!(p.punched_at.unwrap().to_rfc3339(), "2026-03-02T04:45:00+00:00", "{}", app.backend);
        assert_eq!((p.status, p.verify), (Some(0), Some(15)));
        assert_eq!(p.raw, "77\t2026-03-02 07:45:00\t0\t15\t0\t0\t0\t255\t0\t0\t");
    }
}

#[tokio::test]
async fn a_bad_line_is_quarantined_and_never_fails_its_batch() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "BAD0001", "UTC").await;
        let body = "1\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\r\n\t2026-03-02 08:00:03\t0\t1\r\n2\t2026-03-02 08:00:05\t0\t1\t0\t0\t0\r\n";
        let resp = app.post("/iclock/cdata?SN=BAD0001&table=ATTLOG", body).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert_eq!(resp.text().await.unwrap(), "OK:3", "stored and quarantined lines are all acknowledged");
        let device = app.device("BAD0001").await;
        let rejected = app.ctx.store.rejected_lines(device.id).await.unwrap();
        assert_eq!(rejected.len(), 1, "{}", app.backend);
        assert_eq!(rejected[0].line_no, 2);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn garbage_and_implausible_clocks_are_kept_raw_and_flagged() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "CLK0001", "UTC").await;
        let body = "5\t1971--10--29 -23:-27:-54\t0\t1\t0\t0\t0\n6\t1999-12-31 23:59:59\t0\t1\t0\t0\t0\n7\t2099-01-01 00:00:00\t0\t1\t0\t0\t0\n";
        let resp = app.post("/iclock/cdata?SN=CLK0001&table=ATTLOG", body).await;
        assert_eq!(resp.text().await.unwrap(), "OK:3", "{}", app.backend);
        let punches = app.ctx.store.list_punches(&PunchFilter::default()).await.unwrap();
        let flag = |pin: &str| punches.iter().find(|p| p.pin == pin).and_then(|p| p.clock_flag.clone());
        assert_eq!(flag("5").as_deref(), Some("unparsable"), "{}", app.backend);
        assert_eq!(flag("6").as_deref(), Some("too_old"));
        assert_eq!(flag("7").as_deref(), Some("future"));
        let garbage = punches.iter().find(|p| p.pin == "5").unwrap();
        assert_eq!(garbage.local_time, "1971--10--29 -23:-27:-54");
        assert!(garbage.punched_at.is_none());
    }
}

#[tokio::test]
async fn a_storage_failure_answers_5xx_and_the_resend_is_stored_once() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "FLT0001", "UTC").await;
        let url = app.ctx.config.database_url.clone();
        // Inject the fault: the punch table disappears under the running server.
        exec(&url, "alter table attendance_logs rename to attendance_logs_away").await;
        let resp = app.post("/iclock/cdata?SN=FLT0001&table=ATTLOG", OFFICIAL).await;
        assert!(resp.status().is_server_error(), "{}: {}", app.backend, resp.status());
        assert!(resp.text().await.unwrap().starts_with("ERROR"));
        exec(&url, "alter table attendance_logs_away rename to attendance_logs").await;
        assert_eq!(app.ctx.store.count_messages(None).await.unwrap(), 0, "{}: nothing half-written", app.backend);
        let resp = app.post("/iclock/cdata?SN=FLT0001&table=ATTLOG", OFFICIAL).await;
        assert_eq!(resp.text().await.unwrap(), "OK:9", "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 9);
    }
}

pub async fn exec(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

#[tokio::test]
async fn unknown_tables_are_stored_raw_and_acknowledged() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "UNK0001", "UTC").await;
        let resp = app.post("/iclock/cdata?SN=UNK0001&table=WORKCODE&Stamp=1", "CODE=1\tNAME=x\n").await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert_eq!(resp.text().await.unwrap(), "OK");
        let device = app.device("UNK0001").await;
        assert_eq!(app.ctx.store.count_messages(Some(device.id)).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn names_from_a_chinese_language_device_are_decoded_as_gbk() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        app.get("/iclock/cdata?SN=GBK0001&options=all&pushver=2.4.1&language=83").await;
        super::approve(&app, "GBK0001", "Asia/Shanghai").await;
        let (gbk, _, _) = encoding_rs::GBK.encode("USER PIN=8\tName=张伟\tPri=0\n");
        let resp = app.post("/iclock/cdata?SN=GBK0001&table=OPERLOG", gbk.into_owned()).await;
        assert_eq!(resp.text().await.unwrap(), "OK:1", "{}", app.backend);
        let name: String =
            query_text(&app.ctx.config.database_url, "select name from device_users where pin = '8'").await;
        assert_eq!(name, "张伟", "{}", app.backend);
    }
}

pub async fn query_text(url: &str, sql: &str) -> String {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    }
}

#[tokio::test]
async fn an_upload_over_the_size_limit_is_answered_ok_recorded_and_the_limit_is_advertised() {
    for db in backends().await {
        let app = crate::support::spawn_app_with(db, |a| a.max_upload_bytes = 64 * 1024).await;
        super::approved_device(&app, "BIG0001", "UTC").await;
        let block = app.handshake("BIG0001").await;
        assert!(block.lines().any(|l| l == "MaxPostSize=65536"), "{}: {block}", app.backend);
        // Answered 200: firmware re-sends any other reply forever (push.md 2.2).
        let line = "1\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\n";
        let big = line.repeat(100 * 1024 / line.len());
        let resp = app.post("/iclock/cdata?SN=BIG0001&table=ATTLOG&Stamp=1", big.clone()).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert_eq!(resp.text().await.unwrap(), "OK", "{}", app.backend);
        let device = app.device("BIG0001").await;
        let events = app.ctx.store.recent_device_events(device.id, "upload", 10).await.unwrap();
        assert_eq!(events.len(), 1, "{}: the loss is recorded", app.backend);
        assert_eq!(events[0].code, "TOO_LARGE");
        assert!(events[0].detail.contains(&big.len().to_string()), "{}: {}", app.backend, events[0].detail);
        // The next, normal upload is stored as usual.
        let resp = app.post("/iclock/cdata?SN=BIG0001&table=ATTLOG&Stamp=2", line).await;
        assert_eq!(resp.text().await.unwrap(), "OK:1", "{}", app.backend);
    }
}
