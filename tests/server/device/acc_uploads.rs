//! Acc uploads over HTTP on every backend: rtlog punches become attendance once (device events
//! never do), tabledata rows are stored and counted, querydata packets are put back together by
//! `cmdid`, and bad rows or packets are quarantined without failing the rest (captures 04, 07, 17).

use super::acc_registry::register;
use crate::support::{backends, spawn_app, TestApp};
use ironclock::domain::CommandState;
use ironclock::push::command::Command;
use ironclock::queue::EnqueueOptions;

/// (pin, local time, source, verify, event index) of a stored punch.
type StoredPunch = (String, String, String, Option<i32>, Option<i64>);

/// An approved acc device of a UTC school.
async fn acc_device(app: &TestApp, serial: &str) {
    register(app, serial).await;
    super::approve(app, serial, "UTC").await;
}

// Capture 07's SenseFace punch, capture 17's start-up event (pin=0), capture 07's door-state row,
// and a row without a time.
const RTLOG: &str = "time=2026-09-09 12:09:10\tpin=445966\tcardno=0\teventaddr=1\tevent=3\tinoutstatus=0\tverifytype=1\tindex=40\tsitecode=0\tlinkid=0\tmaskflag=0\ttemperature=0\tconvtemperature=0\r\n\
time=2026-08-20 08:00:00\tpin=0\tcardno=0\teventaddr=1\tevent=27\tinoutstatus=1\tverifytype=0\tindex=1\r\n\
time=2026-09-09 12:09:11\tsensor=02\trelay=00\talarm=0100000000000000\tdoor=01\r\n\
pin=5\tevent=0\r\n";

#[tokio::test]
async fn rtlog_punches_are_stored_once_as_attendance_and_device_events_are_not_punches() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCLOG01").await;
        for _ in 0..2 {
            let resp = app.post("/iclock/cdata?SN=ACCLOG01&table=rtlog", RTLOG).await;
            assert_eq!((resp.status().as_u16(), resp.text().await.unwrap()), (200, "OK".into()), "{}", app.backend);
        }
        let rows: Vec<StoredPunch> = app
            .query_rows("select pin, local_time, source, verify, cast(event_index as bigint) from attendance_logs")
            .await;
        assert_eq!(
            rows,
            vec![("445966".into(), "2026-09-09 12:09:10".into(), "rtlog".into(), Some(1), Some(40))],
            "{}: one punch, re-sent once, stored once",
            app.backend
        );
        let device = app.device("ACCLOG01").await.id;
        let events = app.ctx.store.recent_device_events(device, "rtlog", 10).await.unwrap();
        let mut codes: Vec<&str> = events.iter().map(|e| e.code.as_str()).collect();
        codes.sort_unstable();
        assert_eq!(codes, ["27", "27", "door", "door"], "{}: pin=0 and door rows are events", app.backend);
        let rejected = app.ctx.store.rejected_lines(device).await.unwrap();
        assert_eq!(rejected.len(), 2, "{}: the row without a time, once per upload", app.backend);
        assert!(rejected[0].error.contains("time"), "{}", rejected[0].error);
    }
}

#[tokio::test]
async fn the_same_event_index_at_the_same_time_is_one_punch_even_under_another_pin() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCLOG02").await;
        let body = "time=2026-08-20 09:15:32\tpin=1001\tevent=0\tverifytype=0000000000000010\tindex=21\n\
                    time=2026-08-20 09:15:32\tpin=1002\tevent=0\tindex=21\n\
                    time=2026-08-21 09:15:32\tpin=1001\tevent=0\tindex=21\n";
        app.post("/iclock/cdata?SN=ACCLOG02&table=rtlog", body).await;
        let rows: Vec<(String, String, Option<i32>)> =
            app.query_rows("select pin, local_time, verify from attendance_logs order by local_time").await;
        assert_eq!(
            rows,
            vec![
                ("1001".into(), "2026-08-20 09:15:32".into(), None),
                ("1001".into(), "2026-08-21 09:15:32".into(), None)
            ],
            "{}: (device, index, time) dedupes; a restarted index on another day is a new punch; a verify bitmask stays raw",
            app.backend
        );
    }
}

#[tokio::test]
async fn rtlog_of_a_pending_device_is_refused_so_it_keeps_its_punches() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        register(&app, "ACCPEN01").await;
        let resp = app.post("/iclock/cdata?SN=ACCPEN01&table=rtlog", RTLOG).await;
        assert_eq!(resp.status(), 403, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn tabledata_user_rows_are_stored_and_answered_with_their_count() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCTAB01").await;
        let body = "user uid=5\tcardno=\tpin=4\tpassword=\tgroup=1\tstarttime=0\tendtime=0\tname=\tprivilege=0\tdisable=0\tverify=0\n\
                    user uid=6\tcardno=\tpin=\tname=broken\n";
        let resp = app.post("/iclock/cdata?SN=ACCTAB01&table=tabledata&tablename=user&count=2", body).await;
        assert_eq!(resp.text().await.unwrap(), "user=2", "{}: stored plus quarantined", app.backend);
        let pins: Vec<(String,)> = app.query_rows("select pin from device_users").await;
        assert_eq!(pins, vec![("4".to_string(),)], "{}", app.backend);
        let device = app.device("ACCTAB01").await.id;
        assert_eq!(app.ctx.store.rejected_lines(device).await.unwrap().len(), 1, "{}", app.backend);
    }
}

#[tokio::test]
async fn querydata_packets_are_put_back_together_by_cmdid() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCQRY01").await;
        // One row split across two packets: neither half alone is a user.
        let (first, second) = ("user uid=1\tcardno=\tpin=11\tname=Ad", "a\tprivilege=0\nuser uid=2\tpin=12\tname=Bo\n");
        let url = |idx: u8| {
            format!(
                "/iclock/querydata?SN=ACCQRY01&type=tabledata&cmdid=77&tablename=user&count=2&packcnt=2&packidx={idx}"
            )
        };
        assert_eq!(app.post(&url(2), second).await.text().await.unwrap(), "user=2", "{}", app.backend);
        assert_eq!(
            app.ctx
                .store
                .count_device_rows(app.device("ACCQRY01").await.id, ironclock::store::DeviceTable::Users)
                .await
                .unwrap(),
            0
        );
        assert_eq!(app.post(&url(1), first).await.text().await.unwrap(), "user=1", "{}", app.backend);
        let users: Vec<(String, Option<String>)> =
            app.query_rows("select pin, name from device_users order by pin").await;
        assert_eq!(users, vec![("11".into(), Some("Ada".into())), ("12".into(), Some("Bo".into()))], "{}", app.backend);
    }
}

#[tokio::test]
async fn a_querydata_packet_without_a_cmdid_is_quarantined_with_the_reason() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCQRY02").await;
        let resp = app
            .post("/iclock/querydata?SN=ACCQRY02&type=tabledata&tablename=user&packcnt=2&packidx=3", "user pin=1\n")
            .await;
        assert_eq!(resp.text().await.unwrap(), "user=0", "{}", app.backend);
        let rejected = app.ctx.store.rejected_lines(app.device("ACCQRY02").await.id).await.unwrap();
        assert!(rejected[0].error.contains("cmdid/packcnt/packidx"), "{}: {:?}", app.backend, rejected[0].error);
    }
}

#[tokio::test]
async fn a_query_whose_answer_never_arrives_whole_fails_its_command() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCQRY03").await;
        let device = app.device("ACCQRY03").await;
        let id =
            app.ctx.queue.enqueue(&device, Command::UserQuery { pin: None }, EnqueueOptions::default()).await.unwrap();
        assert_eq!(app.poll("ACCQRY03").await, format!("C:{id}:DATA QUERY tablename=user,fielddesc=*,filter=*\n"));
        let url = format!(
            "/iclock/querydata?SN=ACCQRY03&type=tabledata&cmdid={id}&tablename=user&count=3&packcnt=2&packidx=1"
        );
        app.post(&url, "user uid=1\tpin=1\n").await;
        app.post("/iclock/devicecmd?SN=ACCQRY03", format!("ID={id}&return=3&CMD=DATA QUERY")).await;
        let command = app.ctx.store.get_command(device.id, id).await.unwrap().unwrap();
        assert_eq!(command.state, CommandState::Failed, "{}", app.backend);
        assert!(command.error.as_deref().unwrap_or_default().contains("incomplete"), "{:?}", command.error);
    }
}

#[tokio::test]
async fn an_acc_device_never_receives_an_att_command() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        acc_device(&app, "ACCCMD01").await;
        let device = app.device("ACCCMD01").await;
        for att_only in [Command::Check, Command::ClearLog, Command::Log] {
            let refused = app.ctx.queue.enqueue(&device, att_only, EnqueueOptions::default()).await;
            assert!(matches!(refused, Err(ironclock::queue::QueueError::NotForDevice { .. })), "{refused:?}");
        }
        let user = ironclock::push::command::UserInfo::student("31", "Ada", Some("123"));
        let id = app.ctx.queue.enqueue(&device, Command::UserUpdate(user), EnqueueOptions::default()).await.unwrap();
        let open = app.ctx.queue.enqueue(&device, Command::Unlock, EnqueueOptions::default()).await.unwrap();
        let reply = app.poll("ACCCMD01").await;
        assert_eq!(
            reply,
            format!("C:{id}:DATA UPDATE user CardNo=123\tPin=31\tPassword=\tGroup=1\tStartTime=0\tEndTime=0\tName=Ada\tPrivilege=0\nC:{open}:CONTROL DEVICE 01010105\n"),
            "{}",
            app.backend
        );
        // The acked user row is followed by its door access.
        app.post("/iclock/devicecmd?SN=ACCCMD01", format!("ID={id}&return=0&CMD=DATA UPDATE")).await;
        let next = app.poll("ACCCMD01").await;
        assert!(
            next.contains(":DATA UPDATE userauthorize Pin=31\tAuthorizeTimezoneId=1\tAuthorizeDoorId=1\tDevID=1\n"),
            "{next}"
        );
    }
}
