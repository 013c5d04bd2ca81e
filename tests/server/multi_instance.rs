//! Two `ironclock serve` instances on one PostgreSQL database: devices poll either at random;
//! every command is delivered exactly once and acknowledged exactly once, and a command queued
//! through instance A is delivered by instance B on B's next poll (LISTEN/NOTIFY).

use crate::support;

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

    // Queued through A, delivered by B on the first poll after A's notification reaches it
    // (without it B would answer its idle device from memory for good).
    let probe = a.ctx.queue.enqueue(&devices[0], Command::Info, EnqueueOptions::default()).await.unwrap();
    let mut got = Vec::new();
    let took = within(std::time::Duration::from_secs(5), async || {
        got = parse(&b.poll(&devices[0].serial_number).await);
        !got.is_empty()
    })
    .await;
    assert!(took.is_some(), "B did not deliver A's command within 5 s");
    assert_eq!(got, vec![(probe, "INFO".to_string())], "B must see A's command");
    b.post(&format!("/iclock/devicecmd?SN={}", devices[0].serial_number), format!("ID={probe}&Return=0&CMD=INFO"))
        .await;

    // Many commands, queued through either instance, drained by devices polling both at random.
    for (i, d) in devices.iter().enumerate() {
        for k in 0..COMMANDS_PER_DEVICE {
            let via = if (i + k) % 2 == 0 { &a } else { &b };
            let c = Command::SetOption { key: "Delay".into(), value: format!("{}", 1 + (i + k) % 60) };
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

/// Polls `check` every 20 ms until it holds or `limit` passes; returns how long it took.
async fn within(limit: std::time::Duration, mut check: impl AsyncFnMut() -> bool) -> Option<std::time::Duration> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

/// Uploads one ATTLOG line to `app`; returns the HTTP status and body.
async fn upload(app: &TestApp, serial: &str, line: &str) -> (u16, String) {
    let resp = app.post(&format!("/iclock/cdata?SN={serial}&table=ATTLOG&Stamp=1"), line.to_string()).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approval_block_and_a_school_zone_changed_on_one_instance_hold_on_the_other_within_a_second() {
    use reqwest::Method;
    use serde_json::json;
    use support::api::{call, login, make_admin};
    let Some((a, b)) = shared_pair().await else { return };
    let second = std::time::Duration::from_secs(1);
    make_admin(&a, "root@multi.example", ironclock::store::admin::AdminRole::SuperAdmin, None).await;
    let token = login(&a, "root@multi.example").await;
    let school =
        call(&a, Method::POST, "/api/v1/schools", Some(&token), Some(json!({"name": "Twin", "timezone": "UTC"})))
            .await
            .body["data"]["id"]
            .as_i64()
            .unwrap();

    // The device talks to B only; B caches it as pending.
    b.handshake("TWIN0001").await;
    let (status, _) = upload(&b, "TWIN0001", "1\t2026-03-02 08:00:00\t0\t1\t0").await;
    assert_eq!(status, 403, "pending on B");
    let id = b.device("TWIN0001").await.id.0;

    // Approved through A's API: B accepts the device's upload within a second.
    let approve = json!({"school_id": school});
    let reply = call(&a, Method::POST, &format!("/api/v1/devices/{id}/approve"), Some(&token), Some(approve)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let mut line = 0;
    let took = within(second, async || {
        line += 1;
        upload(&b, "TWIN0001", &format!("{line}\t2026-03-02 08:00:00\t0\t1\t0")).await == (200, "OK:1".to_string())
    })
    .await;
    assert!(took.is_some(), "B did not accept the device within 1 s of its approval on A");

    // The school's zone changes on A: B converts the next punch with the new zone.
    let zone = json!({"timezone": "Asia/Kolkata"});
    let reply = call(&a, Method::PATCH, &format!("/api/v1/schools/{school}"), Some(&token), Some(zone)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let mut minute = 0;
    let took = within(second, async || {
        minute += 1;
        let local = format!("2026-03-02 09:{minute:02}:00");
        assert_eq!(upload(&b, "TWIN0001", &format!("77\t{local}\t0\t1\t0")).await.0, 200);
        let filter = ironclock::store::PunchFilter { pin: Some("77".into()), ..Default::default() };
        let punches = b.ctx.store.list_punches(&filter).await.unwrap();
        let p = punches.iter().find(|p| p.local_time == local).expect("stored");
        // 09:mm in Kolkata (UTC+5:30) is 03:(mm+30) UTC.
        p.punched_at.map(|t| t.format("%H:%M").to_string()) == Some(format!("03:{:02}", minute + 30))
    })
    .await;
    assert!(took.is_some(), "B still converted with the old zone 1 s after the change on A");

    // Blocked through A's API: B refuses the device within a second.
    let reply = call(&a, Method::POST, &format!("/api/v1/devices/{id}/block"), Some(&token), Some(json!({}))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let took = within(second, async || b.get("/iclock/getrequest?SN=TWIN0001").await.status() == 403).await;
    assert!(took.is_some(), "B still served the device 1 s after it was blocked on A");
}
