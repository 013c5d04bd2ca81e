//! What the store keeps, checked after a whole sync story: one text form for every SQLite
//! timestamp (so that comparing them compares times), and corrupt stored JSON reported with
//! the column it came from instead of silently read as nothing.

use ironclock::core::Actor;
use ironclock::sim::push::Faults;
use ironclock::store::admin::{AuditFilter, NewAdminUser};

use super::support::{spawn_app, sqlite_db, TestApp};
use super::*;

/// The timestamp columns of every table, as SQLite describes them.
async fn timestamp_columns(app: &TestApp) -> Vec<(String, String)> {
    let pool = sqlx::SqlitePool::connect(&app.ctx.config.database_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(&format!("select name from pragma_table_info('{table}')"))
            .fetch_all(&pool)
            .await
            .unwrap();
        for column in columns {
            let is_time = column.ends_with("_at")
                || matches!(column.as_str(), "at" | "not_before" | "last_sync_attempt" | "last_sync_success");
            if is_time {
                out.push((table.clone(), column));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_sqlite_timestamp_written_by_a_sync_story_has_the_one_fixed_width_form() {
    let app = spawn_app(sqlite_db(), false).await;
    let (school, mut sims) = school_with_devices(&app, &[("TIME0001", Faults::default())]).await;
    add_student(&app, school, "Asha Rao", Some("7788")).await;
    let (gone, _) = add_student(&app, school, "Ben Okafor", None).await;
    sims[0].poll_until_idle(10).await.unwrap();
    let actor = Actor::shell();
    let audit = actor.audit("student.delete", "student", Some(gone), Some(school));
    app.ctx.store.delete_student(actor.scope, gone, &audit).await.unwrap();
    sims[0].poll_until_idle(10).await.unwrap();
    verify(&app).await;
    sims[0].poll_until_idle(10).await.unwrap();
    let admin = NewAdminUser {
        email: "time@example.org".into(),
        password_hash: "x".into(),
        role: ironclock::store::admin::AdminRole::SuperAdmin,
        school_id: None,
    };
    let admin = app.ctx.store.create_admin(&admin, None).await.unwrap();
    app.ctx.store.record_login(admin.id, chrono::Utc::now()).await.unwrap();
    app.ctx.store.insert_refresh_token(admin.id, "hash", chrono::Utc::now()).await.unwrap();
    app.ctx.activity.flush(&app.ctx.store).await.unwrap();

    let pool = sqlx::SqlitePool::connect(&app.ctx.config.database_url).await.unwrap();
    let mut checked = 0;
    for (table, column) in timestamp_columns(&app).await {
        let bad: Vec<String> = sqlx::query_scalar(&format!(
            "select {column} from {table} where {column} is not null
               and {column} not glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(bad.is_empty(), "{table}.{column} holds other forms: {bad:?}");
        let filled: i64 = sqlx::query_scalar(&format!("select count(*) from {table} where {column} is not null"))
            .fetch_one(&pool)
            .await
            .unwrap();
        checked += usize::from(filled > 0);
    }
    assert!(checked >= 20, "the story must fill most timestamp columns, filled {checked}");
}

#[tokio::test]
async fn migration_0005_rewrites_every_older_timestamp_form_into_the_fixed_width_one() {
    let app = spawn_app(sqlite_db(), false).await;
    let pool = sqlx::SqlitePool::connect(&app.ctx.config.database_url).await.unwrap();
    let forms = [
        ("2026-03-02T06:00:00+00:00", "2026-03-02T06:00:00.000000+00:00"),
        ("2026-03-02T06:00:00.120+00:00", "2026-03-02T06:00:00.120000+00:00"),
        ("2026-03-02T06:00:00.123456789+00:00", "2026-03-02T06:00:00.123456+00:00"),
        ("2026-03-02T06:00:00.123456+00:00", "2026-03-02T06:00:00.123456+00:00"),
    ];
    for (i, (old, _)) in forms.iter().enumerate() {
        sqlx::query("insert into schools (name, timezone, created_at) values ($1, 'UTC', $2)")
            .bind(format!("S{i}"))
            .bind(old)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::raw_sql(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/0005_timestamps.sql")))
        .execute(&pool)
        .await
        .unwrap();
    for (i, (_, new)) in forms.iter().enumerate() {
        let stored: String = sqlx::query_scalar("select created_at from schools where name = $1")
            .bind(format!("S{i}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(&stored, new);
    }
}

#[tokio::test]
async fn corrupt_stored_json_is_an_error_naming_its_column_not_an_empty_value() {
    for db in super::support::backends().await {
        let app = spawn_app(db, false).await;
        let actor = Actor::shell();
        app.ctx.store.record_audit(&actor.audit("test.corrupt", "school", None, None)).await.unwrap();
        let filter = AuditFilter { action: Some("test.corrupt".into()), ..Default::default() };
        assert_eq!(app.ctx.store.list_audit(&filter).await.unwrap().total, 1, "{}", app.backend);
        if app.backend == "sqlite" {
            // PostgreSQL's jsonb cannot hold anything but JSON; SQLite's TEXT can.
            app.exec_sql("update audit_log set detail = '{not json' where action = 'test.corrupt'").await;
            let err = app.ctx.store.list_audit(&filter).await.unwrap_err().to_string();
            assert!(err.contains("detail") && err.contains("not valid"), "{err}");
        }
    }
}
