//! `/metrics`: Prometheus text from the metrics crate, with request, upload, queue, device,
//! job and pool series; optionally on its own address.

use std::sync::Arc;

use ironclock::app::{Application, Hooks};
use ironclock::config::ServeArgs;

use super::{approved_device, attlog_line};
use crate::support::{backends, spawn_app};

/// The value of the series written exactly as `series` (name and labels) in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_uploads_punches_commands_devices_jobs_and_pool_connections() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        approved_device(&app, "MET0001").await;
        let now = chrono::Utc::now();
        let body = format!("{}{}not a punch\n", attlog_line(1, now), attlog_line(2, now));
        let resp = app.post("/iclock/cdata?SN=MET0001&table=ATTLOG", body).await;
        assert_eq!(resp.text().await.unwrap(), "OK:3");
        assert_eq!(app.poll("MET0001").await, "OK");
        app.ctx.activity.flush(&app.ctx.store).await.unwrap();
        ironclock::retention::run(&app.ctx.core, "test").await.unwrap();

        let resp = app.get("/metrics").await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = resp.text().await.unwrap();
        let b = app.backend;
        let get = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{b}: no {series} in\n{text}"));
        assert_eq!(get(r#"ironclock_http_requests_total{route="/iclock/getrequest",status="200"}"#), 1.0);
        assert_eq!(
            get(r#"ironclock_http_requests_total{route="/iclock/cdata",status="200"}"#),
            2.0,
            "handshake + upload"
        );
        assert_eq!(get(r#"ironclock_http_request_duration_seconds_count{route="/iclock/getrequest"}"#), 1.0);
        assert_eq!(get(r#"ironclock_upload_lines_total{table="ATTLOG",result="inserted"}"#), 2.0);
        assert_eq!(get(r#"ironclock_upload_lines_total{table="ATTLOG",result="rejected"}"#), 1.0);
        assert_eq!(get("ironclock_punches_stored_total"), 2.0);
        // One upload, alone in the committer: one upload, one transaction, no fallback.
        assert_eq!(get("ironclock_punch_uploads_committed_total"), 1.0);
        assert_eq!(get("ironclock_punch_commits_total"), 1.0);
        assert_eq!(get("ironclock_punch_commit_fallbacks_total"), 0.0);
        assert_eq!(get(r#"ironclock_commands{state="queued"}"#), 0.0);
        assert_eq!(get("ironclock_queue_depth"), 0.0);
        assert_eq!(get(r#"ironclock_devices_online{mode="push"}"#), 1.0);
        assert_eq!(get(r#"ironclock_devices_online{mode="pull"}"#), 0.0);
        assert_eq!(get(r#"ironclock_job_runs_total{job="retention",status="succeeded"}"#), 1.0);
        assert_eq!(get(r#"ironclock_job_duration_seconds_count{job="retention"}"#), 1.0);
        assert_eq!(get(r#"ironclock_db_pool_connections{state="max"}"#), 8.0);
        assert!(get(r#"ironclock_db_pool_connections{state="idle"}"#) >= 0.0);
        assert!(text.contains("# TYPE ironclock_http_request_duration_seconds histogram"), "{text}");
        // An API route is labelled with its pattern, never the raw path.
        app.get("/api/v1/schools/12345").await;
        let text = app.get("/metrics").await.text().await.unwrap();
        assert_eq!(
            value(&text, r#"ironclock_http_requests_total{route="/api/v1/schools/{id}",status="401"}"#),
            Some(1.0)
        );
        assert!(!text.contains("12345"), "{text}");
    }
}

#[tokio::test]
async fn with_metrics_bind_the_metrics_are_served_on_their_own_address_only() {
    let db = crate::support::sqlite_db();
    let key_dir = tempfile::tempdir().unwrap();
    let mut args = ServeArgs::for_tests(&db.url);
    args.data_key_file = key_dir.path().join("data.key");
    args.workers = 1;
    args.ops.metrics_bind = Some("127.0.0.1:0".into());
    let app = Application::build_with(args, Hooks { clock: Arc::new(ironclock::core::SystemClock), pull: None })
        .await
        .unwrap();
    let (port, metrics_port) = (app.port(), app.metrics_port().expect("a metrics listener"));
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let main = client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404, "not on the main address");
    let own = client.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("ironclock_db_pool_connections"));
    handle.stop(true).await;
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn with_metrics_token_only_a_scrape_with_that_bearer_token_gets_the_metrics() {
    let db = crate::support::sqlite_db();
    let app = crate::support::spawn_app_with(db, |args| args.ops.metrics_token = Some("scrape-secret-42".into())).await;
    let scrape = |auth: Option<&'static str>| {
        let mut req = app.client.get(format!("{}/metrics", app.base));
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        req.send()
    };
    for (auth, why) in [
        (None, "no token"),
        (Some("Bearer scrape-secret-4"), "a prefix of the token"),
        (Some("Bearer scrape-secret-421"), "a longer token"),
        (Some("Bearer "), "an empty token"),
        (Some("Basic c2NyYXBlLXNlY3JldC00Mg=="), "another scheme"),
    ] {
        let resp = scrape(auth).await.unwrap();
        assert_eq!(resp.status(), 401, "{why}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer realm=\"metrics\"", "{why}");
        assert!(!resp.text().await.unwrap().contains("ironclock_"), "{why}: no series");
    }
    let resp = scrape(Some("Bearer scrape-secret-42")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("ironclock_db_pool_connections"));
    assert_eq!(app.get("/healthz").await.status(), 200, "health stays open");
}
