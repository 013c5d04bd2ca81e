//! The command-queue storage contract, on every backend.

use crate::support;

use chrono::{Duration, Utc};
use ironclock::domain::{
    AckUpdate, Approval, BatchPolicy, CommandFilter, CommandState, Device, Dialect, NewCommand, NewDevice,
};
use ironclock::store::{self, DynStore};

async fn stores() -> Vec<(&'static str, DynStore, support::TestDb)> {
    let mut out = Vec::new();
    for db in support::backends().await {
        out.push((db.backend, store::connect(&db.url, 8).await.unwrap(), db));
    }
    out
}

async fn device(store: &DynStore, serial: &str) -> Device {
    store
        .register_device(&NewDevice {
            serial_number: serial.into(),
            approval: Approval::Approved,
            dialect: Dialect::Att,
            pushver: None,
            language: None,
            last_ip: None,
            seen_at: Utc::now(),
        })
        .await
        .unwrap()
}

fn cmd(d: &Device, payload: &str) -> NewCommand {
    NewCommand {
        device_id: d.id,
        kind: "info".into(),
        verb: payload.split_whitespace().next().unwrap().into(),
        payload: payload.into(),
        ends_batch: payload == "REBOOT",
        max_attempts: 2,
        student_id: None,
        pin: None,
        depends_on_index: None,
        depends_on: None,
        created_by: None,
    }
}

fn policy() -> BatchPolicy {
    BatchPolicy { max_count: 50, max_bytes: 40_960, ack_timeout: Duration::seconds(60) }
}

fn ack(id: i64, state: CommandState, code: i64) -> AckUpdate {
    AckUpdate { id, state, return_code: Some(code), return_message: "m".into(), result: None, error: None }
}

#[tokio::test]
async fn commands_are_delivered_fifo_once_until_their_ack_times_out() {
    for (backend, store, _db) in stores().await {
        let d = device(&store, "Q1").await;
        let ids = store.enqueue_commands(&[cmd(&d, "INFO"), cmd(&d, "CHECK"), cmd(&d, "LOG")]).await.unwrap();
        let t0 = Utc::now();
        let batch = store.claim_batch(d.id, &policy(), t0).await.unwrap();
        assert_eq!(batch.commands.iter().map(|c| c.id).collect::<Vec<_>>(), ids, "{backend}");
        let recheck = batch.recheck_at.expect("a sent command sets a recheck time");
        assert!((recheck - (t0 + Duration::seconds(60))).num_milliseconds().abs() < 1, "{backend}: {recheck}");
        let again = store.claim_batch(d.id, &policy(), t0 + Duration::seconds(10)).await.unwrap();
        assert!(again.commands.is_empty(), "{backend}: sent commands are not re-sent before the timeout");
        let later = store.claim_batch(d.id, &policy(), t0 + Duration::seconds(61)).await.unwrap();
        assert_eq!(later.commands.len(), 3, "{backend}: re-sent after the timeout");
        let expired = store.claim_batch(d.id, &policy(), t0 + Duration::seconds(200)).await.unwrap();
        assert!(expired.commands.is_empty(), "{backend}");
        let all = store.list_commands(d.id, &CommandFilter::default()).await.unwrap();
        assert!(all.iter().all(|c| c.state == CommandState::Failed && c.attempts == 2), "{backend}: {all:?}");
        assert!(all[0].error.as_deref().unwrap().contains("no acknowledgement after 2"), "{backend}");
    }
}

#[tokio::test]
async fn reboot_ends_a_batch_and_caps_limit_it() {
    for (backend, store, _db) in stores().await {
        let d = device(&store, "Q2").await;
        store.enqueue_commands(&[cmd(&d, "INFO"), cmd(&d, "REBOOT"), cmd(&d, "LOG")]).await.unwrap();
        let batch = store.claim_batch(d.id, &policy(), Utc::now()).await.unwrap();
        assert_eq!(
            batch.commands.iter().map(|c| c.payload.as_str()).collect::<Vec<_>>(),
            ["INFO", "REBOOT"],
            "{backend}"
        );
        assert!(batch.more_waiting, "{backend}");
        let small = BatchPolicy { max_count: 1, ..policy() };
        let rest = store.claim_batch(d.id, &small, Utc::now()).await.unwrap();
        assert_eq!(rest.commands.len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn a_dependent_waits_for_its_dependency_and_fails_with_it() {
    for (backend, store, _db) in stores().await {
        let d = device(&store, "Q3").await;
        let mut template = cmd(&d, "DATA UPDATE FINGERTMP PIN=1");
        template.depends_on_index = Some(0);
        let ids = store.enqueue_commands(&[cmd(&d, "DATA UPDATE USERINFO PIN=1"), template]).await.unwrap();
        let first = store.claim_batch(d.id, &BatchPolicy { max_count: 1, ..policy() }, Utc::now()).await.unwrap();
        assert_eq!(first.commands.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ids[0]], "{backend}");
        let waiting = store.claim_batch(d.id, &policy(), Utc::now()).await.unwrap();
        assert!(waiting.commands.is_empty(), "{backend}: the template waits for the user's ack");
        store.apply_acks(d.id, &[ack(ids[0], CommandState::Failed, -1)], Utc::now()).await.unwrap();
        store.claim_batch(d.id, &policy(), Utc::now()).await.unwrap();
        let t = store.get_command(d.id, ids[1]).await.unwrap().unwrap();
        assert_eq!(t.state, CommandState::Failed, "{backend}");
        assert!(t.error.unwrap().contains(&format!("depends on command {}", ids[0])), "{backend}");
    }
}

#[tokio::test]
async fn acks_are_scoped_to_their_device_and_applied_once() {
    for (backend, store, _db) in stores().await {
        let a = device(&store, "QA").await;
        let b = device(&store, "QB").await;
        let ids = store.enqueue_commands(&[cmd(&a, "INFO")]).await.unwrap();
        store.claim_batch(a.id, &policy(), Utc::now()).await.unwrap();
        let foreign = store.apply_acks(b.id, &[ack(ids[0], CommandState::Acked, 0)], Utc::now()).await.unwrap();
        assert!(foreign.is_empty(), "{backend}: device B cannot ack device A's command");
        let mut info = ack(ids[0], CommandState::Acked, 0);
        info.result = Some("{\"UserCount\":\"4\"}".into());
        let done = store.apply_acks(a.id, &[info], Utc::now()).await.unwrap();
        assert_eq!(done.len(), 1, "{backend}");
        assert_eq!((done[0].state, done[0].return_code), (CommandState::Acked, Some(0)));
        let twice = store.apply_acks(a.id, &[ack(ids[0], CommandState::Failed, -1)], Utc::now()).await.unwrap();
        assert!(twice.is_empty(), "{backend}: an acked command stays acked");
        assert_eq!(
            store.get_command(a.id, ids[0]).await.unwrap().unwrap().result.as_deref(),
            Some("{\"UserCount\":\"4\"}")
        );
    }
}

#[tokio::test]
async fn only_queued_commands_cancel_and_failed_ones_retry() {
    for (backend, store, _db) in stores().await {
        let d = device(&store, "Q4").await;
        let ids = store.enqueue_commands(&[cmd(&d, "INFO"), cmd(&d, "LOG")]).await.unwrap();
        store.claim_batch(d.id, &BatchPolicy { max_count: 1, ..policy() }, Utc::now()).await.unwrap();
        assert!(
            store.cancel_command(d.id, ids[0], "by admin", Utc::now()).await.unwrap().is_none(),
            "{backend}: already sent"
        );
        let cancelled = store.cancel_command(d.id, ids[1], "by admin", Utc::now()).await.unwrap().unwrap();
        assert_eq!(cancelled.state, CommandState::Cancelled);
        store.apply_acks(d.id, &[ack(ids[0], CommandState::Failed, -1002)], Utc::now()).await.unwrap();
        let retried = store.retry_command(d.id, ids[0]).await.unwrap().unwrap();
        assert_eq!((retried.state, retried.attempts), (CommandState::Queued, 0), "{backend}");
        assert!(store.has_open_commands(d.id).await.unwrap());
    }
}

#[tokio::test]
async fn capabilities_are_learned_and_overwritten() {
    for (backend, store, _db) in stores().await {
        let d = device(&store, "Q5").await;
        store.set_capability(d.id, "DATA QUERY USERINFO", false, Some(-1002)).await.unwrap();
        store.set_capability(d.id, "DATA QUERY USERINFO", true, Some(0)).await.unwrap();
        let caps = store.capabilities(d.id).await.unwrap();
        assert_eq!(caps.len(), 1, "{backend}");
        assert!(caps[0].supported);
    }
}

#[tokio::test]
async fn concurrent_claims_never_hand_out_the_same_command_twice() {
    for (backend, store, _db) in stores().await {
        let d = device(&store, "Q6").await;
        let commands: Vec<NewCommand> = (0..300).map(|i| cmd(&d, &format!("SET OPTION K{i}=1"))).collect();
        store.enqueue_commands(&commands).await.unwrap();
        let small = BatchPolicy { max_count: 7, ..policy() };
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                // Bounded: 300 commands need at most 43 successful claims in all.
                for _ in 0..10_000 {
                    let batch = store.claim_batch(d.id, &small, Utc::now()).await.unwrap();
                    if batch.busy {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        continue;
                    }
                    if batch.commands.is_empty() {
                        break; // nothing queued is left
                    }
                    got.extend(batch.commands.into_iter().map(|c| c.id));
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{backend}: a command was claimed twice");
        assert_eq!(all.len(), 300, "{backend}");
    }
}
