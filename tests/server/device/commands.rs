//! The command queue over HTTP: delivery on `getrequest`, acks on `devicecmd`, re-sends,
//! capability learning, and idle polls that never touch the database.

use crate::support::{backends, spawn_app, spawn_app_with, TestApp};
use ironclock::domain::{CommandFilter, CommandState};
use ironclock::push::command::{Command, UserInfo};
use ironclock::queue::{EnqueueOptions, QueueError};

/// (id, text) of each `C:<id>:<text>` line.
fn commands(reply: &str) -> Vec<(i64, String)> {
    reply
        .lines()
        .filter_map(|l| l.strip_prefix("C:"))
        .map(|l| {
            let (id, text) = l.split_once(':').unwrap();
            (id.parse().unwrap(), text.to_string())
        })
        .collect()
}

async fn enqueue(app: &TestApp, serial: &str, command: Command) -> Result<i64, QueueError> {
    let device = app.device(serial).await;
    app.ctx.queue.enqueue(&device, command, EnqueueOptions::default()).await
}

#[tokio::test]
async fn a_queued_user_is_delivered_acknowledged_and_recorded_with_its_meaning() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "CMD0001", "UTC").await;
        assert_eq!(app.poll("CMD0001").await, "OK", "{}", app.backend);
        let id =
            enqueue(&app, "CMD0001", Command::UserUpdate(UserInfo::student("1001", "Amina Wanjiru", Some("123456"))))
                .await
                .unwrap();
        let reply = app.poll("CMD0001").await;
        assert_eq!(
            reply,
            format!("C:{id}:DATA UPDATE USERINFO PIN=1001\tName=Amina Wanjiru\tPri=0\tPasswd=\tCard=123456\tGrp=1\tTZ=0000000100000000\tVerify=-1\tViceCard=\n"),
            "{}",
            app.backend
        );
        assert_eq!(app.poll("CMD0001").await, "OK", "{}: not re-sent before the ack timeout", app.backend);
        let ack = app.post("/iclock/devicecmd?SN=CMD0001", format!("ID={id}&Return=0&CMD=DATA")).await;
        assert_eq!(ack.text().await.unwrap(), "OK");
        let device = app.device("CMD0001").await;
        let stored = app.ctx.queue.list(device.id, &CommandFilter::default()).await.unwrap();
        assert_eq!(stored.len(), 1);
        let c = &stored[0];
        assert_eq!(
            (c.state, c.return_code, c.return_message.as_deref()),
            (CommandState::Acked, Some(0), Some("success")),
            "{}",
            app.backend
        );
        assert_eq!(c.attempts, 1);
    }
}

#[tokio::test]
async fn an_idle_poll_is_answered_without_the_database() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "IDLE001", "UTC").await;
        assert_eq!(app.poll("IDLE001").await, "OK");
        // Fault injection: the queue table disappears. Idle polls must not notice.
        let url = app.ctx.config.database_url.clone();
        super::uploads::exec(&url, "alter table device_commands rename to device_commands_away").await;
        for _ in 0..20 {
            assert_eq!(app.poll("IDLE001").await, "OK", "{}", app.backend);
        }
        super::uploads::exec(&url, "alter table device_commands_away rename to device_commands").await;
        enqueue(&app, "IDLE001", Command::Info).await.unwrap();
        assert!(app.poll("IDLE001").await.starts_with("C:"), "{}: a woken device is checked", app.backend);
    }
}

#[tokio::test]
async fn an_unacknowledged_command_is_re_sent_after_the_timeout_then_fails() {
    for db in backends().await {
        let app = spawn_app_with(db, |a| {
            a.command_ack_timeout = 60;
            a.command_max_attempts = 2;
        })
        .await;
        super::approved_device(&app, "RSND001", "UTC").await;
        let id = enqueue(&app, "RSND001", Command::Check).await.unwrap();
        assert_eq!(commands(&app.poll("RSND001").await), vec![(id, "CHECK".into())]);
        // The ack timeout passes on the server's clock, not in real time.
        app.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(commands(&app.poll("RSND001").await), vec![(id, "CHECK".into())], "{}: re-sent", app.backend);
        app.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(app.poll("RSND001").await, "OK");
        let device = app.device("RSND001").await;
        let c = app.ctx.store.get_command(device.id, id).await.unwrap().unwrap();
        assert_eq!(c.state, CommandState::Failed, "{}", app.backend);
        assert_eq!(c.error.as_deref(), Some("no acknowledgement after 2 deliveries"));
    }
}

#[tokio::test]
async fn an_enrolment_waits_for_the_person_before_it_is_re_sent() {
    for db in backends().await {
        let app = spawn_app_with(db, |a| a.command_ack_timeout = 60).await;
        super::approved_device(&app, "ENRL001", "UTC").await;
        let fp = Command::EnrollFingerprint { pin: "1001".into(), fid: 6, retry: 3, overwrite: true };
        let enroll = enqueue(&app, "ENRL001", fp).await.unwrap();
        let check = enqueue(&app, "ENRL001", Command::Check).await.unwrap();
        let first = commands(&app.poll("ENRL001").await);
        assert_eq!(first.iter().map(|c| c.0).collect::<Vec<_>>(), vec![enroll, check], "{}", app.backend);
        // Past the ordinary ack timeout the CHECK goes again; the enrolment does not restart
        // under the person's finger.
        app.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(commands(&app.poll("ENRL001").await), vec![(check, "CHECK".into())], "{}", app.backend);
        app.post("/iclock/devicecmd?SN=ENRL001", format!("ID={check}&Return=0&CMD=CHECK")).await;
        app.clock.advance(chrono::Duration::seconds(120));
        assert_eq!(app.poll("ENRL001").await, "OK", "{}: still enrolling", app.backend);
        // Five minutes without an answer: the enrolment is offered again.
        app.clock.advance(chrono::Duration::seconds(120));
        let again = commands(&app.poll("ENRL001").await);
        assert_eq!(again.iter().map(|c| c.0).collect::<Vec<_>>(), vec![enroll], "{}: re-sent", app.backend);
    }
}

#[tokio::test]
async fn a_verb_the_device_rejects_with_minus_1002_is_not_queued_again() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "CAP0001", "UTC").await;
        let id = enqueue(&app, "CAP0001", Command::UserQuery { pin: None }).await.unwrap();
        app.poll("CAP0001").await;
        app.post("/iclock/devicecmd?SN=CAP0001", format!("ID={id}&Return=-1002&CMD=DATA")).await;
        let c = app.ctx.store.get_command(app.device("CAP0001").await.id, id).await.unwrap().unwrap();
        assert_eq!(c.state, CommandState::Failed, "{}", app.backend);
        assert_eq!(c.return_message.as_deref(), Some("not supported by this device (or invalid syntax)"));
        let again = enqueue(&app, "CAP0001", Command::UserQuery { pin: None }).await;
        assert!(matches!(again, Err(QueueError::Unsupported { code: -1002, .. })), "{}: {again:?}", app.backend);
        assert!(enqueue(&app, "CAP0001", Command::Info).await.is_ok(), "other verbs still go");
    }
}

#[tokio::test]
async fn a_template_refused_with_minus_10_requeues_the_user_first() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "REQ0001", "UTC").await;
        let user = enqueue(&app, "REQ0001", Command::UserUpdate(UserInfo::student("7", "Otieno", None))).await.unwrap();
        let fp = Command::FingerprintUpdate { pin: "7".into(), fid: 6, valid: 1, template: "SghTUzIxAAAD".into() };
        let tmpl = enqueue(&app, "REQ0001", fp).await.unwrap();
        app.poll("REQ0001").await;
        // The device lost the user (e.g. deleted at the keypad) before the template arrived.
        app.post("/iclock/devicecmd?SN=REQ0001", format!("ID={user}&Return=0&CMD=DATA\nID={tmpl}&Return=-10&CMD=DATA"))
            .await;
        let again = commands(&app.poll("REQ0001").await);
        assert_eq!(again.len(), 2, "{}: {again:?}", app.backend);
        assert!(again[0].1.starts_with("DATA UPDATE USERINFO PIN=7\t"), "{}", app.backend);
        assert!(again[1].1.starts_with("DATA UPDATE FINGERTMP PIN=7\t"));
        let device = app.device("REQ0001").await;
        let requeued = app.ctx.store.get_command(device.id, again[1].0).await.unwrap().unwrap();
        assert_eq!(requeued.depends_on, Some(again[0].0), "the template waits for the re-sent user");
    }
}

#[tokio::test]
async fn reboot_ends_the_reply_and_unknown_ack_ids_are_accepted() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "RBT0001", "UTC").await;
        enqueue(&app, "RBT0001", Command::Info).await.unwrap();
        enqueue(&app, "RBT0001", Command::Reboot).await.unwrap();
        enqueue(&app, "RBT0001", Command::Log).await.unwrap();
        let texts: Vec<String> = commands(&app.poll("RBT0001").await).into_iter().map(|c| c.1).collect();
        assert_eq!(texts, ["INFO", "REBOOT"], "{}", app.backend);
        let resp = app
            .post("/iclock/devicecmd?SN=RBT0001", "ID=info8487&Return=0&CMD=DATA\nID=999999&Return=0&CMD=DATA")
            .await;
        assert_eq!((resp.status().as_u16(), resp.text().await.unwrap()), (200, "OK".to_string()));
    }
}

#[tokio::test]
async fn names_for_a_chinese_language_device_are_sent_in_gbk() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        app.get("/iclock/cdata?SN=GBK0002&options=all&language=83").await;
        super::approve(&app, "GBK0002", "Asia/Shanghai").await;
        enqueue(&app, "GBK0002", Command::UserUpdate(UserInfo::student("8", "张伟", None))).await.unwrap();
        let bytes = app.get("/iclock/getrequest?SN=GBK0002").await.bytes().await.unwrap();
        let (expected, _, _) = encoding_rs::GBK.encode("Name=张伟");
        assert!(bytes.windows(expected.len()).any(|w| w == &expected[..]), "{}: GBK name expected", app.backend);
    }
}

#[tokio::test]
async fn a_device_back_from_a_gap_gets_an_attendance_query_for_the_gap() {
    use chrono::Utc;
    use ironclock::domain::{Approval, Dialect, NewDevice};
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let gone = Utc::now() - chrono::Duration::hours(2);
        app.ctx
            .store
            .register_device(&NewDevice {
                serial_number: "GAP0001".into(),
                approval: Approval::Approved,
                dialect: Dialect::Att,
                pushver: None,
                language: None,
                last_ip: None,
                seen_at: gone,
            })
            .await
            .unwrap();
        let texts: Vec<String> = commands(&app.poll("GAP0001").await).into_iter().map(|c| c.1).collect();
        assert_eq!(texts.len(), 1, "{}: {texts:?}", app.backend);
        assert!(texts[0].starts_with("DATA QUERY ATTLOG StartTime="), "{}", texts[0]);
        assert_eq!(app.poll("GAP0001").await, "OK", "{}: once, not on every poll", app.backend);
    }
}
