//! PostgreSQL stopped under load: while it is down, devices get 5xx (never an `OK` for data that
//! was not stored) and `/readyz` answers 503; once it is back everything recovers on its own and
//! every punch is stored exactly once.
//!
//! Runs against its own PostgreSQL cluster (`scripts/test-postgres.sh` with a private directory
//! and port), which the test stops and starts. The outage lasts `IRONCLOCK_FAULT_PG_OUTAGE_SECS`
//! seconds (default 5 in CI; BENCHMARKS.md §7 records the 60 s run). Runs when
//! `IRONCLOCK_TEST_POSTGRES_URL` is set (PostgreSQL's binaries are then installed), like the
//! other PostgreSQL tests.

use std::process::Command;
use std::time::{Duration, Instant};

use ironclock::sim::push::{run_all, SimPushArgs};

use super::{approved_device, attlog_line};
use crate::support::{postgres_db, spawn_app_with};

const DEVICES: usize = 3;

/// A private PostgreSQL cluster; stopped and removed when dropped.
struct Cluster {
    dir: String,
    port: u16,
}

impl Cluster {
    fn script(&self, action: &str) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test-postgres.sh");
        let out = Command::new(script)
            .arg(action)
            .env("PGTEST_DIR", &self.dir)
            .env("PGTEST_PORT", self.port.to_string())
            .output()
            .expect("run scripts/test-postgres.sh");
        assert!(out.status.success(), "test-postgres.sh {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.script("stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn wait_status(client: &reqwest::Client, url: &str, want: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let status = client.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
        if status == want {
            return;
        }
        assert!(Instant::now() < deadline, "{url} did not answer {want} within {within:?} (last {status})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_gives_devices_5xx_readyz_503_and_loses_nothing() {
    if std::env::var("IRONCLOCK_TEST_POSTGRES_URL").map_or(true, |u| u.is_empty()) {
        eprintln!("NOTICE: IRONCLOCK_TEST_POSTGRES_URL is not set; the PostgreSQL outage drill is skipped");
        return;
    }
    let outage: u64 = std::env::var("IRONCLOCK_FAULT_PG_OUTAGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cluster = Cluster { dir: format!("/tmp/ironclock-outage-{}", uuid::Uuid::new_v4().simple()), port };
    cluster.script("start");
    let db = postgres_db(&cluster.url()).await;
    let app = spawn_app_with(db, |args| args.auto_approve_devices = true).await;
    approved_device(&app, "OUT9999").await;
    let client = reqwest::Client::new();

    let punches_per_device = 60 + 10 * outage;
    let sim = SimPushArgs {
        devices: DEVICES,
        punches_per_minute: 600.0,
        serial_prefix: "OUT".into(),
        duration_secs: outage + 60,
        punches_per_device,
        batch_lines: 5,
        poll_interval_ms: 500,
        drain_timeout_secs: outage + 90,
        error_delay_ms: Some(100),
        ..SimPushArgs::new(&app.base)
    };
    let load = tokio::spawn(run_all(sim));
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    cluster.script("stop");
    wait_status(&client, &format!("{}/readyz", app.base), 503, Duration::from_secs(15)).await;
    let line = attlog_line(4242, chrono::Utc::now() - chrono::Duration::hours(1));
    let refused = app.post("/iclock/cdata?SN=OUT9999&table=ATTLOG", line.clone()).await;
    assert!(refused.status().is_server_error(), "an upload while the database is down: {}", refused.status());
    assert!(!refused.text().await.unwrap().starts_with("OK"));
    assert_eq!(app.get("/healthz").await.status(), 200, "the process itself is alive");
    let remaining = Duration::from_secs(outage).saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    let readyz = app.get("/readyz").await;
    assert_eq!(readyz.status(), 503, "still down at the end of the outage");
    cluster.script("start");
    let down_for = started.elapsed();
    wait_status(&client, &format!("{}/readyz", app.base), 200, Duration::from_secs(60)).await;
    let recovered_in = started.elapsed() - down_for;

    // The refused upload, re-sent, is stored once.
    assert_eq!(app.post("/iclock/cdata?SN=OUT9999&table=ATTLOG", line).await.text().await.unwrap(), "OK:1");
    let report = load.await.unwrap().unwrap();
    assert_eq!(report.generated, DEVICES as u64 * punches_per_device);
    assert_eq!(report.still_buffered, 0, "devices still hold unacknowledged punches: {report:?}");
    assert!(report.failed_uploads > 0, "the outage must have refused uploads: {report:?}");

    let unique = crate::support::punches::stored_once(&app.ctx.store, "postgres outage").await;
    let expected = crate::support::punches::generated("OUT", DEVICES, punches_per_device);
    assert_eq!(expected.difference(&unique).count(), 0, "punches were lost");
    assert_eq!(unique.len(), expected.len() + 1, "the generated punches and the one re-sent upload, nothing else");
    eprintln!(
        "postgres outage: down {:.1} s, ready again {:.1} s after restart, {} punches, {} uploads refused and re-sent, 0 lost, 0 doubled",
        down_for.as_secs_f64(),
        recovered_in.as_secs_f64(),
        unique.len(),
        report.failed_uploads
    );
    drop(app);
    drop(cluster);
}
