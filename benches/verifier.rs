//! One verifier pass over 1,000 devices × 2,000 students on PostgreSQL (issue "Student sync",
//! point 9): wall time, and the number of SQL statements it issues, counted by PostgreSQL itself
//! (`log_statement = all` on the bench database, lines between two markers in the server log).
//!
//!   benches/sync/verifier.sh        (starts the throwaway cluster, then runs this)
//!
//! Environment: IRONCLOCK_TEST_POSTGRES_URL (admin URL of the cluster), IRONCLOCK_BENCH_PG_LOG
//! (its server log; default /tmp/ironclock-pg/server.log), BENCH_DEVICES, BENCH_STUDENTS.
//!
//! Scenario per size: every device online and holding every student (rows `synced`, seen by an
//! earlier read-back), then drift: 5 students added while the devices were pending (no rows)
//! and 1 student deactivated behind ironclock's back. Pass 1 finds and queues the drift on every
//! device plus a read-back each; pass 2 is the steady state right after.

use std::time::Instant;

use std::sync::Arc;

use ironclock::core::{Core, Settings, SystemClock};
use ironclock::crypto::DataCipher;
use ironclock::sync::verifier::{self, VerifyOptions, VerifyRun};
use sqlx::{Connection, PgConnection};

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::query(sql).execute(&mut *conn).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
}

async fn seed(url: &str, devices: usize, students: usize) {
    let mut c = PgConnection::connect(url).await.expect("connect");
    exec(&mut c, "insert into schools (id, name, timezone) values (1, 'Bench School', 'UTC')").await;
    exec(
        &mut c,
        &format!(
            "insert into students (school_id, full_name, rfid_card_id, pin)
             select 1, 'Student ' || g, (5000000 + g)::text, (1000 + g)::text from generate_series(1, {students}) g"
        ),
    )
    .await;
    exec(
        &mut c,
        &format!(
            "insert into devices (serial_number, school_id, approval, mode, last_seen_at, options)
             select 'BENCH' || lpad(g::text, 5, '0'), 1, 'approved', 'push', now(),
                    jsonb_build_object('UserCount', '{students}')
             from generate_series(1, {devices}) g"
        ),
    )
    .await;
    // An earlier full read-back, acked an hour ago, in which every student showed up.
    exec(
        &mut c,
        "insert into device_commands (device_id, kind, verb, payload, state, sent_at, acked_at, finished_at)
         select id, 'user_query', 'DATA QUERY USERINFO', 'DATA QUERY USERINFO', 'acked',
                now() - interval '61 minutes', now() - interval '60 minutes', now() - interval '60 minutes'
         from devices",
    )
    .await;
    exec(
        &mut c,
        "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status, want_name,
                 want_card, command_state, last_sync_attempt, last_sync_success, verified_at, confirmed_by)
         select d.id, s.id, s.pin, 'present', 'synced', s.full_name, s.rfid_card_id, 'acked',
                now() - interval '3 hours', now() - interval '59 minutes', now() - interval '59 minutes', 'device'
         from devices d cross join students s",
    )
    .await;
    // What that read-back uploaded: every device's user list (the unknown-user check reads it).
    exec(
        &mut c,
        "insert into device_users (device_id, pin, name, card)
         select d.id, s.pin, s.full_name, s.rfid_card_id from devices d cross join students s",
    )
    .await;
    // Drift: five students the devices never got, one who left behind ironclock's back.
    exec(
        &mut c,
        "insert into students (school_id, full_name, pin) select 1, 'Newcomer ' || g, (900000 + g)::text
         from generate_series(1, 5) g",
    )
    .await;
    exec(&mut c, "update students set is_active = false where pin = '1001'").await;
    exec(&mut c, "vacuum analyze").await;
}

fn statements_in_log(log: &str, start: &str, end: &str) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (Some(a), Some(b)) = (text.find(start), text.rfind(end)) else { return 0 };
    text[a..b].lines().filter(|l| l.contains("LOG:  statement:") || l.contains("LOG:  execute")).count()
}

/// The service core alone (no web application): the store, its migrations and the queue.
async fn core(url: &str) -> Arc<Core> {
    let store = ironclock::store::connect(url, 16).await.expect("connect (runs migrations)");
    let (core, _) =
        Core::open(store, DataCipher::random(), Arc::new(SystemClock), Settings::default()).await.expect("core");
    core
}

async fn pass(ctx: &Core) -> (f64, VerifyRun) {
    let mut opts = VerifyOptions::new("bench", ctx.clock.now());
    opts.online_within = chrono::Duration::hours(1);
    let t0 = Instant::now();
    let run = verifier::run(ctx, opts).await.expect("verifier run");
    (t0.elapsed().as_secs_f64(), run)
}

fn totals(run: &VerifyRun) -> (usize, usize, usize, usize) {
    let devices = run.schools.iter().flat_map(|s| &s.devices);
    devices.fold((0, 0, 0, 0), |t, d| {
        (t.0 + 1, t.1 + d.missing, t.2 + d.extra, t.3 + usize::from(d.read_back == "queued"))
    })
}

#[tokio::main]
async fn main() {
    let admin = std::env::var("IRONCLOCK_TEST_POSTGRES_URL")
        .expect("IRONCLOCK_TEST_POSTGRES_URL (run benches/sync/verifier.sh)");
    let log = std::env::var("IRONCLOCK_BENCH_PG_LOG").unwrap_or_else(|_| "/tmp/ironclock-pg/server.log".into());
    let devices: usize = std::env::var("BENCH_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    println!("| devices | students | pass | seconds | statements | devices checked | adds queued | deletes queued | read-backs queued |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    let sizes: Vec<usize> = match std::env::var("BENCH_STUDENTS") {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => vec![2000, 500],
    };
    for students in sizes {
        let name = format!("ironclock_bench_verify_{}", uuid::Uuid::new_v4().simple());
        let mut admin_conn = PgConnection::connect(&admin).await.expect("connect admin");
        exec(&mut admin_conn, &format!("create database {name}")).await;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin).to_string();
        let url = format!("{base}/{name}");
        let ctx = core(&url).await;
        let t0 = Instant::now();
        seed(&url, devices, students).await;
        eprintln!("seeded {devices} devices × {students} students in {:.1} s", t0.elapsed().as_secs_f64());

        // The physical-limit reference: reading every sync row and every device user once.
        let mut c0 = PgConnection::connect(&url).await.expect("connect");
        let t = Instant::now();
        exec(&mut c0, "select count(*) from device_user_sync_status").await;
        exec(&mut c0, "select count(*) from device_users").await;
        let bare = t.elapsed().as_secs_f64();
        println!(
            "| {devices} | {students} | bare scan of the {} sync rows and device users | {bare:.2} | 2 | | | | |",
            devices * students
        );
        // Timed passes, no statement logging.
        for label in ["1: drift", "2: steady"] {
            let (secs, run) = pass(&ctx).await;
            let (checked, adds, deletes, readbacks) = totals(&run);
            println!(
                "| {devices} | {students} | {label} | {secs:.2} | | {checked} | {adds} | {deletes} | {readbacks} |"
            );
        }
        // Counted pass: the same drift again (five more newcomers), statements logged by PostgreSQL.
        let mut c = PgConnection::connect(&url).await.expect("connect");
        exec(&mut c, "insert into students (school_id, full_name, pin) select 1, 'Late ' || g, (950000 + g)::text from generate_series(1, 5) g").await;
        exec(&mut c, "update device_commands set state = 'acked', acked_at = now() - interval '30 minutes' where state in ('queued', 'sent')").await;
        exec(&mut admin_conn, &format!("alter database {name} set log_statement = 'all'")).await;
        let marker = uuid::Uuid::new_v4().simple().to_string();
        // New pool connections pick the setting up; the app's existing ones are refreshed by a
        // fresh app on the same database.
        let cctx = core(&url).await;
        // A connection opened after the setting, so that the markers are logged too.
        let mut logged = PgConnection::connect(&url).await.expect("connect");
        exec(&mut logged, &format!("select 'bench-start-{marker}'")).await;
        let (secs, run) = pass(&cctx).await;
        exec(&mut logged, &format!("select 'bench-end-{marker}'")).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let statements = statements_in_log(&log, &format!("bench-start-{marker}"), &format!("bench-end-{marker}"));
        let (checked, adds, deletes, readbacks) = totals(&run);
        println!(
            "| {devices} | {students} | 3: drift, statements logged | {secs:.2} | {statements} | {checked} | {adds} | {deletes} | {readbacks} |"
        );
        exec(&mut admin_conn, &format!("alter database {name} reset log_statement")).await;
    }
}
