//! Shared test helpers: one fresh database per test on every backend, and `spawn_app`.
#![allow(dead_code)]

pub mod api;
pub mod punches;

use std::sync::Once;

use std::sync::Arc;

use ironclock::app::Application;
use ironclock::config::ServeArgs;
use ironclock::core::OffsetClock;
use ironclock::domain::SchoolId;
use ironclock::http::State;

static POSTGRES_NOTICE: Once = Once::new();

/// A database for one test: a fresh SQLite file, or a fresh PostgreSQL database. Dropping the
/// handle that created it removes it (the SQLite file's directory, or the PostgreSQL database).
pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// `(admin URL, database name)` of a PostgreSQL database this handle created and drops.
    owned_pg: Option<(String, String)>,
}

/// Every backend to run a test on: SQLite always; PostgreSQL when `IRONCLOCK_TEST_POSTGRES_URL`
/// is set (otherwise a notice is printed once and the Postgres half is skipped).
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db()];
    match std::env::var("IRONCLOCK_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => dbs.push(postgres_db(&admin).await),
        _ => POSTGRES_NOTICE
            .call_once(|| eprintln!("NOTICE: IRONCLOCK_TEST_POSTGRES_URL is not set; PostgreSQL tests are skipped")),
    }
    dbs
}

impl TestDb {
    /// A second handle on the same database (two app instances sharing one PostgreSQL database).
    /// Only the handle that created the database drops it.
    pub fn shared(&self) -> TestDb {
        TestDb { backend: self.backend, url: self.url.clone(), _dir: None, owned_pg: None }
    }
}

impl Drop for TestDb {
    /// Drops the PostgreSQL database this handle created, `with (force)`: the app's pool (and a
    /// shared twin's) may still be open. Runs on its own thread and runtime, since `Drop` cannot
    /// await and usually runs inside the test's runtime. Failures are reported, never panicked on
    /// (this also runs while a failed test unwinds).
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.owned_pg.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut conn).await?;
                conn.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("WARNING: test database {} not dropped: {e:#}", self.url),
            Err(_) => eprintln!("WARNING: test database {} not dropped: the dropping thread panicked", self.url),
        }
    }
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    TestDb { backend: "sqlite", url, _dir: Some(dir), owned_pg: None }
}

/// Creates `ironclock_t_<uuid>` on the server of `admin_url` and returns a URL to it; the
/// database is dropped when the returned handle is.
pub async fn postgres_db(admin_url: &str) -> TestDb {
    use sqlx::Connection;
    let name = format!("ironclock_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to IRONCLOCK_TEST_POSTGRES_URL");
    sqlx::query(&format!("create database {name}")).execute(&mut conn).await.expect("create test database");
    let _ = conn.close().await;
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
    TestDb {
        backend: "postgres",
        url: format!("{base}/{name}"),
        _dir: None,
        owned_pg: Some((admin_url.to_string(), name)),
    }
}

pub struct TestApp {
    pub base: String,
    pub ctx: actix_web::web::Data<State>,
    /// The server's clock: `clock.advance(..)` moves time forward instead of sleeping.
    pub clock: Arc<OffsetClock>,
    pub handle: actix_web::dev::ServerHandle,
    pub client: reqwest::Client,
    pub backend: &'static str,
    _db: TestDb,
    _key_dir: tempfile::TempDir,
}

/// Builds and starts the app on 127.0.0.1:0 (bound before it is spawned: no sleeping).
pub async fn spawn_app(db: TestDb, auto_approve: bool) -> TestApp {
    spawn_app_with(db, |args| args.auto_approve_devices = auto_approve).await
}

/// Like `spawn_app`, with a hook to adjust the configuration first.
pub async fn spawn_app_with(db: TestDb, configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
    spawn_app_hooked(db, configure, None).await
}

/// The pull service's intervals shortened for tests: leases of 2 s renewed every 0.3 s, a scan
/// every 0.2 s, replies waited for 1 s, realtime back-off from 0.1 s.
pub fn fast_pull() -> ironclock::pull_service::PullSettings {
    use std::time::Duration;
    let defaults = ironclock::pull_service::PullSettings::default();
    ironclock::pull_service::PullSettings {
        lease_ttl: Duration::from_secs(2),
        lease_renew: Duration::from_millis(300),
        scan_every: Duration::from_millis(200),
        reply_timeout: Duration::from_secs(1),
        retries: 2,
        event_wait: Duration::from_millis(100),
        retry_after: vec![Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)],
        claim_every: Duration::from_millis(300),
        backoff: ironclock::pull_service::backoff::Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_millis(400),
            ..defaults.backoff
        },
        ..defaults
    }
}

/// An app whose pull service runs with [`fast_pull`] settings.
pub async fn spawn_pull_app(db: TestDb) -> TestApp {
    spawn_app_hooked(db, |_| {}, Some(fast_pull())).await
}

/// Builds and starts the app with the configuration hook and, when given, pull settings.
pub async fn spawn_app_hooked(
    db: TestDb,
    configure: impl FnOnce(&mut ServeArgs),
    pull: Option<ironclock::pull_service::PullSettings>,
) -> TestApp {
    let key_dir = tempfile::tempdir().expect("tempdir");
    let mut args = ServeArgs::for_tests(&db.url);
    args.data_key_file = key_dir.path().join("data.key");
    args.workers = 2;
    args.db_max_connections = 8;
    configure(&mut args);
    let clock = Arc::new(OffsetClock::default());
    let hooks = ironclock::app::Hooks { clock: clock.clone(), pull };
    let app = Application::build_with(args, hooks).await.expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let ctx = app.context();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        ctx,
        clock,
        handle,
        client: reqwest::Client::new(),
        backend: db.backend,
        _db: db,
        _key_dir: key_dir,
    }
}

impl TestApp {
    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.base, path_and_query)).send().await.expect("GET")
    }

    pub async fn post(&self, path_and_query: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client.post(format!("{}{}", self.base, path_and_query)).body(body).send().await.expect("POST")
    }

    /// Handshakes `serial` (registering it) and returns the reply text.
    pub async fn handshake(&self, serial: &str) -> String {
        let resp = self.get(&format!("/iclock/cdata?SN={serial}&options=all&pushver=2.4.1&language=69")).await;
        assert_eq!(resp.status(), 200, "handshake status");
        resp.text().await.expect("handshake body")
    }

    /// Polls for commands and returns the reply text.
    pub async fn poll(&self, serial: &str) -> String {
        let resp = self.get(&format!("/iclock/getrequest?SN={serial}")).await;
        assert_eq!(resp.status(), 200, "poll status");
        resp.text().await.expect("poll body")
    }

    pub async fn device(&self, serial: &str) -> ironclock::domain::Device {
        self.ctx.store.find_device(serial).await.expect("store").expect("device exists")
    }

    /// Creates a school through the store's one write path; returns its id.
    pub async fn school(&self, name: &str, timezone: &str) -> SchoolId {
        let school =
            ironclock::store::admin::NewSchool { name: name.into(), timezone: timezone.into(), pin_start: None };
        self.ctx.store.add_school(&school).await.expect("add school").id
    }

    /// Approves a known device into `school`, as an admin would; returns its id.
    pub async fn approve_into(&self, serial: &str, school: SchoolId) -> i64 {
        use ironclock::store::admin::SchoolScope;
        use ironclock::store::DeviceUpdate;
        let id = self.device(serial).await.id.0;
        let update = DeviceUpdate {
            approval: Some(ironclock::domain::Approval::Approved),
            school_id: Some(Some(school)),
            ..Default::default()
        };
        self.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.expect("approve");
        id
    }

    /// Rows of `sql` on the app's database, read behind the server's back (either backend).
    pub async fn query_rows<T>(&self, sql: &str) -> Vec<T>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    {
        let url = &self.ctx.config.database_url;
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        } else {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }

    /// The first column of the first row of `sql` on the app's database (see [`Self::query_rows`]).
    pub async fn query_one<T>(&self, sql: &str) -> T
    where
        (T,): Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    {
        self.query_rows::<(T,)>(sql).await.into_iter().next().expect("the query returns a row").0
    }

    /// Runs raw SQL on the app's database (fault injection and "behind ironclock's back" changes).
    pub async fn exec_sql(&self, sql: &str) {
        let url = &self.ctx.config.database_url;
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        } else {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    }
}
