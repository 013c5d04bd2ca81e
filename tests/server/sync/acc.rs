//! Student sync with an access-control (acc, push 3.x) terminal end to end, on every backend,
//! speaking the acc dialect over HTTP exactly as the firmware does (captures 04, 07, 17): it
//! registers, is approved, uploads rtlog punches, receives a new student as `DATA UPDATE user`,
//! is read back through `querydata`, and the student shows `synced`.

use super::support::{backends, spawn_app, TestApp};
use super::*;

const SN: &str = "ACCE2E01";

/// The `C:<id>:` lines of a poll reply whose text starts with `prefix`: `(id, text)`.
fn commands<'a>(reply: &'a str, prefix: &str) -> Vec<(i64, &'a str)> {
    reply
        .lines()
        .filter_map(|l| l.strip_prefix("C:")?.split_once(':'))
        .filter(|(_, text)| text.starts_with(prefix))
        .map(|(id, text)| (id.parse().expect("numeric CmdID"), text))
        .collect()
}

async fn ack(app: &TestApp, id: i64, code: i64, cmd: &str) {
    let resp = app.post(&format!("/iclock/devicecmd?SN={SN}"), format!("ID={id}&return={code}&CMD={cmd}")).await;
    assert_eq!(resp.text().await.unwrap(), "OK");
}

#[tokio::test]
async fn an_acc_terminal_registers_uploads_punches_and_holds_a_new_student_confirmed_by_querydata() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let registry =
            "DeviceType=acc,~DeviceName=SenseFace 2A,FirmVer=ZAM70-NF24HA-Ver3.0.15,PushVersion=Ver 3.0.4S-20240809";
        let reply = app.post(&format!("/iclock/registry?SN={SN}"), registry).await.text().await.unwrap();
        assert!(reply.starts_with("RegistryCode="), "{reply}");
        assert!(app.get(&format!("/iclock/push?SN={SN}")).await.text().await.unwrap().contains("\nSessionID="));
        let school = app.school("Acc School", "UTC").await;
        app.approve_into(SN, school).await;

        let punches = "time=2026-09-09 07:50:10\tpin=1001\tcardno=0\teventaddr=1\tevent=0\tinoutstatus=0\tverifytype=15\tindex=40\r\n\
                       time=2026-09-09 07:50:11\tsensor=01\trelay=00\talarm=0000000000000000\tdoor=01\r\n\
                       time=2026-09-09 15:30:00\tpin=1001\tcardno=0\teventaddr=1\tevent=0\tinoutstatus=1\tverifytype=15\tindex=41\r\n";
        for _ in 0..2 {
            let resp = app.post(&format!("/iclock/cdata?SN={SN}&table=rtlog"), punches).await;
            assert_eq!(resp.text().await.unwrap(), "OK", "{}", app.backend);
        }
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 2, "{}: two punches, once each", app.backend);

        let (_, pin) = add_student(&app, school, "Asha Rao", Some("7788")).await;
        let poll = app.poll(SN).await;
        let writes = commands(&poll, "DATA UPDATE user ");
        assert_eq!(writes.len(), 1, "{}: {poll}", app.backend);
        assert!(!poll.contains("USERINFO"), "{}: no att command reaches an acc device: {poll}", app.backend);
        let expected = format!("DATA UPDATE user CardNo=7788\tPin={pin}\tPassword=\tGroup=1\tStartTime=0\tEndTime=0\tName=Asha Rao\tPrivilege=0");
        assert_eq!(writes[0].1, expected, "{}", app.backend);
        ack(&app, writes[0].0, 0, "DATA UPDATE").await;
        assert_eq!(summary(&app, SN).await.synced, 0, "{}: an ack alone is not evidence", app.backend);

        let poll = app.poll(SN).await;
        let authorize = commands(&poll, "DATA UPDATE userauthorize ");
        let queries = commands(&poll, "DATA QUERY tablename=user,fielddesc=*,filter=*");
        assert_eq!((authorize.len(), queries.len()), (1, 1), "{}: {poll}", app.backend);
        ack(&app, authorize[0].0, 0, "DATA UPDATE").await;

        let query = queries[0].0;
        let row = format!(
            "user uid=1\tcardno=7788\tpin={pin}\tpassword=\tgroup=1\tstarttime=0\tendtime=0\tname=Asha Rao\tprivilege=0\tdisable=0\tverify=0\r\n"
        );
        let url = format!(
            "/iclock/querydata?SN={SN}&type=tabledata&cmdid={query}&tablename=user&count=1&packcnt=1&packidx=1"
        );
        assert_eq!(app.post(&url, row).await.text().await.unwrap(), "user=1", "{}", app.backend);
        ack(&app, query, 1, "DATA QUERY").await;

        let s = summary(&app, SN).await;
        assert_eq!((s.total, s.synced, s.pending, s.failed), (1, 1, 0, 0), "{}", app.backend);
        assert_eq!(app.poll(SN).await, "OK", "{}: nothing more to send", app.backend);
    }
}
