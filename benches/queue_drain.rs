//! Draining 5,000 queued USERINFO commands to one simulated device (issue "Reliable command
//! queue", point 9): polls needed, commands and bytes per reply, wall time.
//!
//!   cargo bench --bench queue_drain        (PostgreSQL when IRONCLOCK_TEST_POSTGRES_URL is set,
//!                                           and SQLite always)

use std::time::Instant;

use ironclock::app::Application;
use ironclock::config::ServeArgs;
use ironclock::push::command::{Command, UserInfo};
use ironclock::queue::{EnqueueOptions, Planned};

const COMMANDS: usize = 5_000;

async fn database_urls(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    use sqlx::Connection;
    let mut urls = vec![("sqlite", format!("sqlite://{}", dir.join("drain.db").display()))];
    if let Ok(admin) = std::env::var("IRONCLOCK_TEST_POSTGRES_URL") {
        let name = format!("ironclock_drain_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
        sqlx::query(&format!("create database {name}")).execute(&mut conn).await.expect("create database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin).to_string();
        urls.push(("postgres", format!("{base}/{name}")));
    }
    urls
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (backend, url) in database_urls(dir.path()).await {
        let mut args = ServeArgs::for_tests(&url);
        args.auto_approve_devices = true;
        args.data_key_file = dir.path().join(format!("{backend}.key"));
        let app = Application::build(args).await.expect("build");
        let base = format!("http://127.0.0.1:{}", app.port());
        let ctx = app.context();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let serial = "DRAIN0001";
        client
            .get(format!("{base}/iclock/cdata?SN={serial}&options=all&pushver=2.4.1"))
            .send()
            .await
            .expect("handshake");
        let device = ctx.store.find_device(serial).await.expect("store").expect("device");

        let planned: Vec<Planned> = (0..COMMANDS)
            .map(|i| Planned {
                command: Command::UserUpdate(UserInfo::student(
                    &format!("{}", 100_000 + i),
                    &format!("Student Number {i:05}"),
                    Some(&format!("{}", 4_000_000 + i)),
                )),
                options: EnqueueOptions::default(),
                after: None,
            })
            .collect();
        let t0 = Instant::now();
        ctx.queue.enqueue_all(&device, planned).await.expect("enqueue");
        let enqueue_ms = t0.elapsed().as_millis();

        let t1 = Instant::now();
        let (mut polls, mut acked, mut bytes, mut max_bytes, mut max_cmds) = (0usize, 0usize, 0usize, 0usize, 0usize);
        while acked < COMMANDS && polls < 10 * COMMANDS {
            polls += 1;
            let reply = client
                .get(format!("{base}/iclock/getrequest?SN={serial}"))
                .send()
                .await
                .expect("poll")
                .text()
                .await
                .expect("body");
            let ids: Vec<&str> = reply.lines().filter_map(|l| l.strip_prefix("C:")?.split(':').next()).collect();
            if ids.is_empty() {
                continue;
            }
            bytes += reply.len();
            max_bytes = max_bytes.max(reply.len());
            max_cmds = max_cmds.max(ids.len());
            let acks: Vec<String> = ids.iter().map(|id| format!("ID={id}&Return=0&CMD=DATA")).collect();
            client
                .post(format!("{base}/iclock/devicecmd?SN={serial}"))
                .body(acks.join("\n"))
                .send()
                .await
                .expect("ack");
            acked += ids.len();
        }
        let replies = polls.max(1);
        println!(
            "RESULT drain backend={backend} commands={COMMANDS} acked={acked} polls={polls} max_commands_per_reply={max_cmds} \
             avg_bytes_per_reply={} max_bytes_per_reply={max_bytes} enqueue_ms={enqueue_ms} drain_ms={} \
             device_time_at_delay5_s={}",
            bytes / replies,
            t1.elapsed().as_millis(),
            polls * 5
        );
    }
}
