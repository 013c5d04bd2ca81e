//! The retention purge: old raw uploads, quarantined lines, finished commands and job runs go
//! after their configured days, in batches; punches stay unless configured; each run is recorded.

use chrono::{Duration, Utc};
use ironclock::push::command::Command;
use ironclock::queue::EnqueueOptions;
use ironclock::store::admin::{JobFilter, Page, SchoolScope};
use ironclock::store::PurgeTable;

use super::{approved_device, attlog_line};
use crate::support::{backends, spawn_app_with};

#[tokio::test]
async fn old_rows_are_purged_after_their_days_in_batches_and_punches_only_when_configured() {
    for db in backends().await {
        let app = spawn_app_with(db, |args| {
            args.retention.retention_batch = 2;
            args.retention.retention_punches_days = 400;
        })
        .await;
        let b = app.backend;
        approved_device(&app, "RET0001").await;
        let yesterday = Utc::now() - Duration::days(1);
        for pin in 1..=3 {
            let resp = app.post("/iclock/cdata?SN=RET0001&table=ATTLOG", attlog_line(pin, yesterday)).await;
            assert_eq!(resp.text().await.unwrap(), "OK:1");
        }
        // One upload with a bad line: quarantined, with its rejected line.
        app.post("/iclock/cdata?SN=RET0001&table=ATTLOG", format!("{}garbage\n", attlog_line(9, yesterday))).await;
        let device = app.device("RET0001").await;
        let id = app.ctx.queue.enqueue(&device, Command::Info, EnqueueOptions::default()).await.unwrap();
        assert!(app.poll("RET0001").await.contains(&format!("C:{id}:")));
        app.post("/iclock/devicecmd?SN=RET0001", format!("ID={id}&Return=0&CMD=INFO")).await;
        let messages = "select count(*) from device_messages where tbl = 'ATTLOG'";
        assert_eq!(app.query_one::<i64>(messages).await, 4, "{b}");
        assert_eq!(app.query_one::<i64>("select count(*) from rejected_lines").await, 1, "{b}");
        let clean = "select count(*) from device_messages where status = 'processed' and rejected = 0";
        let clean_before = app.query_one::<i64>(clean).await;
        assert!(clean_before >= 3, "{b}: the three clean uploads (and the ack) are kept raw");

        // 31 days on: only the clean raw uploads (30 days) are gone, two per batch.
        app.clock.advance(Duration::days(31));
        let run = ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        assert_eq!(run.deleted(PurgeTable::Messages), clean_before as u64, "{b}: {run:?}");
        assert_eq!(app.query_one::<i64>(clean).await, 0, "{b}");
        assert_eq!(run.deleted(PurgeTable::Quarantine), 0, "{b}");
        assert_eq!(run.deleted(PurgeTable::Commands), 0, "{b}");
        assert_eq!(app.query_one::<i64>(messages).await, 1, "{b}: the quarantined upload stays");
        assert_eq!(app.query_one::<i64>("select count(*) from device_commands").await, 1, "{b}");

        // 181 days on: the quarantine (180), the acknowledged command and the job runs (90) go.
        app.clock.advance(Duration::days(150));
        let run = ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        assert_eq!(run.deleted(PurgeTable::Quarantine), 1, "{b}: {run:?}");
        assert_eq!(run.deleted(PurgeTable::Commands), 1, "{b}");
        assert!(run.deleted(PurgeTable::Jobs) >= 1, "{b}: the first run's record");
        assert_eq!(app.query_one::<i64>(messages).await, 0, "{b}");
        assert_eq!(app.query_one::<i64>("select count(*) from rejected_lines").await, 0, "{b}");
        assert_eq!(app.query_one::<i64>("select count(*) from device_commands").await, 0, "{b}");
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 4, "{b}: punches are kept");

        // Past the punches' 400 days they go too.
        app.clock.advance(Duration::days(230));
        let run = ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        assert_eq!(run.deleted(PurgeTable::Punches), 4, "{b}: {run:?}");
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 0, "{b}");

        let jobs =
            JobFilter { scope: SchoolScope::all(), job: Some("retention".into()), status: None, page: Page::default() };
        let recorded = app.ctx.store.list_jobs(&jobs).await.unwrap().items;
        assert!(!recorded.is_empty(), "{b}: retention runs are recorded in job_executions");
        let last = &recorded[0].summary["deleted"];
        assert_eq!(last[4], serde_json::json!(["punches", 4]), "{b}: {last:?}");
    }
}

#[tokio::test]
async fn punches_are_kept_forever_by_default() {
    for db in backends().await {
        let app = spawn_app_with(db, |_| {}).await;
        approved_device(&app, "RET0002").await;
        app.post("/iclock/cdata?SN=RET0002&table=ATTLOG", attlog_line(5, Utc::now() - Duration::days(1))).await;
        app.clock.advance(Duration::days(3650));
        let run = ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        assert_eq!(run.deleted(PurgeTable::Punches), 0, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 1, "{}", app.backend);
    }
}

#[tokio::test]
async fn expired_photo_urls_go_and_a_run_left_running_is_marked_abandoned() {
    use ironclock::core::Clock;
    use ironclock::domain::media::NewMediaToken;
    for db in backends().await {
        let app = spawn_app_with(db, |_| {}).await;
        let b = app.backend;
        approved_device(&app, "RET0003").await;
        let device = app.device("RET0003").await;
        let now = app.clock.now();
        let sealed = app.ctx.cipher.seal(b"\xff\xd8 a photo \xff\xd9");
        let soon = NewMediaToken::issue(device.id, "userpic", "7", sealed.clone(), now);
        let mut later = NewMediaToken::issue(device.id, "userpic", "8", sealed.clone(), now);
        later.expires_at = now + Duration::days(4);
        let delivered = NewMediaToken::issue(device.id, "biophoto", "9", sealed, now);
        for token in [&soon, &later, &delivered] {
            app.ctx.store.issue_media_token(token, now).await.unwrap();
        }
        // The third URL's command was delivered and acknowledged: the record of a held photo.
        let id = app.ctx.queue.enqueue(&device, Command::Info, EnqueueOptions::default()).await.unwrap();
        app.ctx.store.attach_media_token(&delivered.token_hash, id).await.unwrap();
        assert!(app.poll("RET0003").await.contains(&format!("C:{id}:")));
        app.post("/iclock/devicecmd?SN=RET0003", format!("ID={id}&Return=0&CMD=INFO")).await;
        // A run whose instance died before recording its end, and one that started just now.
        let stuck = app.ctx.store.start_job("area_sync", None, Some("test"), app.clock.now()).await.unwrap();

        app.clock.advance(Duration::hours(49)); // past the URL's 48 hours and the run's 12
        let fresh = app.ctx.store.start_job("verifier", None, Some("test"), app.clock.now()).await.unwrap();
        let run = ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        assert_eq!(run.deleted(PurgeTable::MediaTokens), 1, "{b}: the expired, undelivered URL: {run:?}");
        let left: Vec<(String,)> = app.query_rows("select pin from media_tokens order by pin").await;
        assert_eq!(left, vec![("8".to_string(),), ("9".to_string(),)], "{b}: the valid URL and the delivered one stay");
        assert_eq!(run.abandoned_jobs, 1, "{b}: {run:?}");
        let scope = SchoolScope::all();
        let stuck = app.ctx.store.get_job(scope, stuck).await.unwrap().unwrap();
        assert_eq!(stuck.status, ironclock::store::admin::JobStatus::Failed, "{b}");
        assert!(stuck.error.as_deref().unwrap_or_default().starts_with("abandoned"), "{b}: {:?}", stuck.error);
        let fresh = app.ctx.store.get_job(scope, fresh).await.unwrap().unwrap();
        assert_eq!(fresh.status, ironclock::store::admin::JobStatus::Running, "{b}: a run of 0 hours is left alone");

        // A newer photo of 9 delivered: the older URL is superseded. Past the commands' 90 days,
        // the newest URL and its command are still the record of the held photo.
        let newer = NewMediaToken::issue(device.id, "biophoto", "9", app.ctx.cipher.seal(b"newer"), app.clock.now());
        app.ctx.store.issue_media_token(&newer, app.clock.now()).await.unwrap();
        let newer_id = app.ctx.queue.enqueue(&device, Command::Info, EnqueueOptions::default()).await.unwrap();
        app.ctx.store.attach_media_token(&newer.token_hash, newer_id).await.unwrap();
        assert!(app.poll("RET0003").await.contains(&format!("C:{newer_id}:")));
        app.post("/iclock/devicecmd?SN=RET0003", format!("ID={newer_id}&Return=0&CMD=INFO")).await;
        app.clock.advance(Duration::days(91));
        ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        ironclock::retention::run(&app.ctx.core, "test").await.unwrap();
        let left: Vec<(String,)> = app.query_rows("select token_hash from media_tokens").await;
        assert_eq!(left, vec![(newer.token_hash.clone(),)], "{b}: only the newest delivered URL stays");
        let commands: Vec<(i64,)> = app.query_rows("select id from device_commands order by id").await;
        assert_eq!(commands, vec![(newer_id,)], "{b}: its command stays with it; the superseded one went after");
    }
}
