//! `/readyz` answers 200 only when the database answers and every migration is applied, with
//! the reason otherwise; `/healthz` stays a process check.

use crate::support::{backends, spawn_app};

#[tokio::test]
async fn readyz_is_ready_on_a_migrated_database_and_healthz_is_ok() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 200, "{}", app.backend);
        assert_eq!(ready.text().await.unwrap(), "ready");
        let health = app.get("/healthz").await;
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().await.unwrap(), "ok");
    }
}

#[tokio::test]
async fn readyz_names_a_migration_missing_from_the_database_with_503_while_healthz_stays_ok() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        // The database now looks like an older schema than this build expects.
        app.exec_sql("delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)").await;
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 503, "{}", app.backend);
        let body = ready.text().await.unwrap();
        assert!(body.starts_with("not ready: migrations not applied: "), "{}: {body}", app.backend);
        assert!(body.contains("ironclock migrate"), "{body}");
        assert_eq!(app.get("/healthz").await.status(), 200, "{}", app.backend);
    }
}
