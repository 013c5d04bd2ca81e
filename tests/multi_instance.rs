//! Two `ironclock serve` instances on one PostgreSQL database: devices poll either at random;
//! every command is delivered exactly once and acknowledged exactly once, and a command queued
//! through instance A is delivered by instance B on B's next poll (LISTEN/NOTIFY).

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use ironclock::domain::{Approval, CommandFilter, CommandState, Dialect, NewDevice};
use ironclock::push::command::Command;
use ironclock::queue::EnqueueOptions;
use rand::Rng;
use support::{postgres_db, spawn_app, TestApp};

const DEVICES: usize = 24;
const COMMANDS_PER_DEVICE: usize = 40;

async fn shared_pair() -> Option<(TestApp, TestApp)> {
    let Ok(admin) = std::env::var("IRONCLOCK_TEST_POSTGRES_URL") else {
        eprintln!(
            "NOTICE: IRONCLOCK_TEST_POSTGRES_URL is not set; the multi-instance test needs PostgreSQL and is skipped"
        );
        return None;
    };
    let db = postgres_db(&admin).await;
    let twin = db.shared();
    let a = spawn_app(db, false).await;
    let b = spawn_app(twin, false).await;
    Some((a, b))
}

fn parse(reply: &str) -> Vec<(i64, String)> {
    reply
        .lines()
        .filter_map(|l| l.strip_prefix("C:")?.split_once(':').map(|(id, t)| (id.parse().unwrap(), t.to_string())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_are_delivered_and_acked_exactly_once_across_two_instances() {
    let Some((a, b)) = shared_pair().await else { return };
    let mut devices = Vec::new();
    for i in 0..DEVICES {
        let d = a
            .ctx
            .store
            .register_device(&NewDevice {
                serial_number: format!("MI{i:05}"),
                approval: Approval::Approved,
                dialect: Dialect::Att,
                pushver: None,
                language: None,
                last_ip: None,
                seen_at: Utc::now(),
            })
            .await
            .unwrap();
        devices.push(d);
    }
    // Both instances know every device is idle.
    for d in &devices {
        assert_eq!(a.poll(&d.serial_number).await, "OK");
        assert_eq!(b.poll(&d.serial_number).await, "OK");
    }

    // Queued through A, delivered by B within one poll.
    let probe = a.ctx.queue.enqueue(&devices[0], Command::Info, EnqueueOptions::default()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        parse(&b.poll(&devices[0].serial_number).await),
        vec![(probe, "INFO".to_string())],
        "B must see A's command"
    );
    b.post(&format!("/iclock/devicecmd?SN={}", devices[0].serial_number), format!("ID={probe}&Return=0&CMD=INFO"))
        .await;

    // Many commands, queued through either instance, drained by devices polling both at random.
    for (i, d) in devices.iter().enumerate() {
        for k in 0..COMMANDS_PER_DEVICE {
            let via = if (i + k) % 2 == 0 { &a } else { &b };
            let c = Command::SetOption { key: format!("K{k}"), value: format!("{i}") };
            via.ctx.queue.enqueue(d, c, EnqueueOptions::default()).await.unwrap();
        }
    }
    let apps = Arc::new([a, b]);
    // Two pollers per device run at once (a device retrying while its first request is still
    // being served), so the per-device claim is really contended across instances.
    let total_acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for d in devices.iter().flat_map(|d| [d.clone(), d.clone()]) {
        let apps = apps.clone();
        let total_acked = total_acked.clone();
        tasks.push(tokio::spawn(async move {
            let mut received: Vec<i64> = Vec::new();
            for _ in 0..2_000 {
                let app = &apps[rand::thread_rng().gen_range(0..2)];
                let got = parse(&app.poll(&d.serial_number).await);
                if got.is_empty() {
                    let all_done =
                        total_acked.load(std::sync::atomic::Ordering::SeqCst) >= DEVICES * COMMANDS_PER_DEVICE;
                    if all_done {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                }
                let body: Vec<String> = got.iter().map(|(id, _)| format!("ID={id}&Return=0&CMD=SET OPTION")).collect();
                let ack_via = &apps[rand::thread_rng().gen_range(0..2)];
                let resp = ack_via.post(&format!("/iclock/devicecmd?SN={}", d.serial_number), body.join("\n")).await;
                assert_eq!(resp.status(), 200);
                total_acked.fetch_add(got.len(), std::sync::atomic::Ordering::SeqCst);
                received.extend(got.into_iter().map(|(id, _)| id));
            }
            (d.id, received)
        }));
    }
    let mut delivered: HashMap<i64, usize> = HashMap::new();
    for t in tasks {
        let (_, received) = t.await.unwrap();
        for id in received {
            *delivered.entry(id).or_default() += 1;
        }
    }
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(delivered.len(), DEVICES * COMMANDS_PER_DEVICE, "every command delivered");
    for d in &devices {
        let all =
            apps[0].ctx.queue.list(d.id, &CommandFilter { limit: Some(1000), ..Default::default() }).await.unwrap();
        for c in all {
            assert_eq!((c.state, c.attempts), (CommandState::Acked, 1), "command {} of {}", c.id, d.serial_number);
        }
    }
}
