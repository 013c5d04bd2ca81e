//! `ironclock backup`: a live SQLite database copied while the server runs, restored by putting
//! the file in place (with the same data key), and found whole; PostgreSQL points at pg_dump.

use std::process::Command;

use chrono::{Duration, Utc};

use super::{approved_device, attlog_line};
use crate::support::{spawn_app, spawn_app_with, sqlite_db};

fn backup(database_url: &str, to: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ironclock"))
        .args(["backup", "--database-url", database_url, "--to"])
        .arg(to)
        .env("RUST_LOG", "error")
        .output()
        .expect("run ironclock backup")
}

#[tokio::test]
async fn a_live_sqlite_database_is_backed_up_restored_and_its_data_found() {
    let app = spawn_app(sqlite_db(), false).await;
    approved_device(&app, "BAK0001").await;
    let body: String = (1..=25).map(|pin| attlog_line(pin, Utc::now() - Duration::minutes(pin.into()))).collect();
    assert_eq!(app.post("/iclock/cdata?SN=BAK0001&table=ATTLOG", body).await.text().await.unwrap(), "OK:25");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ironclock-backup.db");

    // While the server runs (and keeps accepting uploads).
    let out = backup(&app.ctx.config.database_url, &file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("data key"), "the output reminds of the key");
    let after = attlog_line(99, Utc::now());
    assert_eq!(app.post("/iclock/cdata?SN=BAK0001&table=ATTLOG", after).await.text().await.unwrap(), "OK:1");

    // A backup never overwrites a file.
    let again = backup(&app.ctx.config.database_url, &file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"), "{}", String::from_utf8_lossy(&again.stderr));

    // Restore: the backup file becomes the database of a server started with the same data key.
    let key = std::fs::read(&app.ctx.config.data_key_file).unwrap();
    let db = sqlite_db();
    std::fs::copy(&file, db.url.strip_prefix("sqlite://").unwrap()).unwrap();
    let key_file = dir.path().join("data.key");
    std::fs::write(&key_file, key).unwrap();
    let restored = spawn_app_with(db, |args| args.data_key_file = key_file.clone()).await;
    assert_eq!(restored.get("/readyz").await.status(), 200);
    assert_eq!(
        restored.ctx.store.count_punches(None).await.unwrap(),
        25,
        "the punches of the backup, not the later one"
    );
    assert_eq!(restored.device("BAK0001").await.approval, ironclock::domain::Approval::Approved);
    assert_eq!(restored.poll("BAK0001").await, "OK", "the restored device is served");
}

#[tokio::test]
async fn backing_up_postgresql_names_the_pg_dump_command() {
    let Ok(admin) = std::env::var("IRONCLOCK_TEST_POSTGRES_URL") else {
        eprintln!("NOTICE: IRONCLOCK_TEST_POSTGRES_URL is not set; PostgreSQL backup message not checked");
        return;
    };
    let db = crate::support::postgres_db(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let out = backup(&db.url, &dir.path().join("x.dump"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump --format=custom"), "{err}");
    assert!(err.contains("pg_restore"), "{err}");
}
