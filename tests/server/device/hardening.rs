//! Issue 15, findings 3 and 9, reproduced over HTTP: unknown and pending serials cannot fill the
//! database, and every raw body and quarantined line is sealed with the data key.

use std::time::{Duration, Instant};

use crate::support::{backends, spawn_app, spawn_app_with, TestApp};

/// Every value of a one-column bytes query on the app's database.
async fn all_bytes(app: &TestApp, sql: &str) -> Vec<Vec<u8>> {
    let url = &app.ctx.config.database_url;
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(&sql.replace("bytea", "blob")).fetch_all(&pool).await.unwrap()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_256_kib_devicecmd_from_an_unknown_serial_stores_nothing_and_answers_quickly() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let body = "x\n".repeat(128 * 1024);
        let started = Instant::now();
        let resp = app.post("/iclock/devicecmd?SN=NEVERSEEN-1", body).await;
        let took = started.elapsed();
        assert_eq!(resp.status(), 403, "{}: a device that was sent no command has nothing to acknowledge", app.backend);
        assert!(took < Duration::from_secs(2), "{}: took {took:?}", app.backend);
        assert_eq!(app.query_one::<i64>("select count(*) from device_messages").await, 0, "{}", app.backend);
        assert_eq!(app.query_one::<i64>("select count(*) from rejected_lines").await, 0, "{}", app.backend);
    }
}

#[tokio::test]
async fn garbage_from_an_approved_device_keeps_a_count_and_a_sample_of_its_lines() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "GRB0001", "UTC").await;
        let started = Instant::now();
        let resp = app.post("/iclock/devicecmd?SN=GRB0001", "x\n".repeat(128 * 1024)).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert!(started.elapsed() < Duration::from_secs(5), "{}: took {:?}", app.backend, started.elapsed());
        assert_eq!(app.query_one::<i64>("select count(*) from rejected_lines").await, 20, "{}: a sample", app.backend);
        assert_eq!(
            app.query_one::<i64>("select cast(rejected as bigint) from device_messages").await,
            128 * 1024,
            "{}: the message keeps the count",
            app.backend
        );
        // The same for an upload: the device is still told every line was processed.
        let body = "not a punch\n".repeat(50);
        let resp = app.post("/iclock/cdata?SN=GRB0001&table=ATTLOG", body).await;
        assert_eq!(resp.text().await.unwrap(), "OK:50", "{}", app.backend);
        assert_eq!(app.query_one::<i64>("select count(*) from rejected_lines").await, 40, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_pending_device_keeps_its_options_but_no_more_than_its_cap() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        app.handshake("PND0001").await;
        let resp = app.post("/iclock/cdata?SN=PND0001&table=options", "~DeviceName=Gate\nFWVersion=Ver 8.0\n").await;
        assert_eq!(resp.status(), 200, "{}: a pending device describes itself", app.backend);
        let big = format!("Junk={}\n", "y".repeat(100 * 1024));
        let resp = app.post("/iclock/cdata?SN=PND0001&table=options", big).await;
        assert_eq!(resp.status(), 413, "{}", app.backend);
        let kept =
            app.query_one::<i64>("select cast(coalesce(sum(length(body)), 0) as bigint) from device_messages").await;
        assert!(kept < 4096, "{}: {kept} bytes kept", app.backend);
        let options = app.query_one::<i64>("select cast(length(cast(options as text)) as bigint) from devices").await;
        assert!(options < 4096, "{}: options of {options} bytes", app.backend);
    }
}

#[tokio::test]
async fn new_serials_are_refused_while_the_pending_list_is_full() {
    for db in backends().await {
        let app = spawn_app_with(db, |args| args.max_pending_devices = 2).await;
        app.handshake("NEW0001").await;
        app.handshake("NEW0002").await;
        let resp = app.get("/iclock/cdata?SN=NEW0003&options=all").await;
        assert_eq!(resp.status(), 403, "{}", app.backend);
        assert!(resp.text().await.unwrap().contains("waiting for approval"), "{}: a clear reason", app.backend);
        assert!(app.ctx.store.find_device("NEW0003").await.unwrap().is_none(), "{}: not registered", app.backend);
        // Known pending devices still talk; approving one makes room.
        app.handshake("NEW0001").await;
        super::approve(&app, "NEW0001", "UTC").await;
        app.handshake("NEW0003").await;
    }
}

#[tokio::test]
async fn raw_bodies_and_quarantined_lines_are_sealed_and_readers_unseal_them() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "SEA0001", "UTC").await;
        let userinfo = "USER PIN=1000\tName=Amina Wanjiru\tPri=0\tPasswd=4321\tCard=99887766\tGrp=1\n";
        let resp = app.post("/iclock/cdata?SN=SEA0001&table=USERINFO", userinfo).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        // The firmware glitch `FP PIN==1` (capture 05) is quarantined with its whole template.
        let operlog =
            "OPLOG 4\t0\t2026-08-12 08:17:48\t0\t0\t0\t0\nFP PIN==1\tFID=0\tSize=1120\tValid=1\tTMP=SECRETTEMPLATE\n";
        let resp = app.post("/iclock/cdata?SN=SEA0001&table=OPERLOG", operlog).await;
        assert_eq!(resp.text().await.unwrap(), "OK:2", "{}", app.backend);
        let resp = app.post("/iclock/devicecmd?SN=SEA0001", "ID=77&Return=0&CMD=DATA\n\t99887766 Amina\n").await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        let bodies = all_bytes(&app, "select body from device_messages").await;
        assert_eq!(bodies.len(), 3, "{}", app.backend);
        let lines = all_bytes(&app, "select cast(raw as bytea) from rejected_lines").await;
        for stored in bodies.iter().chain(&lines) {
            for secret in [&b"Amina"[..], b"99887766", b"4321", b"SECRETTEMPLATE"] {
                assert!(
                    !contains(stored, secret),
                    "{}: plaintext {:?} at rest",
                    app.backend,
                    std::str::from_utf8(secret)
                );
            }
        }
        let id = app.device("SEA0001").await.id;
        let rejected = app.ctx.store.rejected_lines(id).await.unwrap();
        assert_eq!(rejected.len(), lines.len(), "{}", app.backend);
        let texts: Vec<String> = rejected.iter().map(|r| r.text(&app.ctx.cipher).unwrap()).collect();
        assert!(
            texts.iter().any(|t| t.starts_with("FP PIN==1\tFID=0") && t.contains("SECRETTEMPLATE")),
            "{}: {texts:?}",
            app.backend
        );
        assert!(texts.iter().any(|t| t.contains("99887766 Amina")), "{}: the devicecmd line: {texts:?}", app.backend);
    }
}
