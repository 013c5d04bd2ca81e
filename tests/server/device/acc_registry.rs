//! Access-control (acc, push 3.x) registration over HTTP on every backend: `/iclock/registry`,
//! `/iclock/push`, the registered device's `options=all` block, the optional cookie token, the
//! dialect detection both ways (captures 04, 07, 17).

use crate::support::{backends, spawn_app, TestApp};
use ironclock::domain::{Approval, Dialect};
use ironclock::push::acc_token::expected_token;

/// Capture 07's SenseFace 2A registry body.
pub const REGISTRY_BODY: &str = "DeviceType=acc,~DeviceName=SenseFace 2A,FirmVer=ZAM70-NF24HA-Ver3.0.15,PushVersion=Ver 3.0.4S-20240809,~SerialNumber=NYU7251601501,FaceFunOn=1,FingerFunOn=1";

/// POSTs the registry body; returns the status and the reply text.
pub async fn register(app: &TestApp, serial: &str) -> (u16, String) {
    let resp = app.post(&format!("/iclock/registry?SN={serial}"), REGISTRY_BODY).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn value_of<'a>(block: &'a str, key: &str) -> Option<&'a str> {
    block.lines().find_map(|l| l.strip_prefix(&format!("{key}=")))
}

#[tokio::test]
async fn an_acc_device_registers_with_a_stable_code_and_gets_a_stable_session() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let unregistered = app.get("/iclock/cdata?SN=ACCREG01&options=all&pushver=3.1.2&DeviceType=acc").await;
        assert_eq!(unregistered.text().await.unwrap(), "OK", "{}: not registered yet", app.backend);

        let (status, reply) = register(&app, "ACCREG01").await;
        assert_eq!(status, 200, "{}", app.backend);
        let code = reply.strip_prefix("RegistryCode=").expect("RegistryCode=<code>").to_string();
        assert!(!code.is_empty() && code.len() <= 32 && !reply.ends_with('\n'), "{reply:?}");
        assert_eq!(register(&app, "ACCREG01").await.1, reply, "{}: the code is stable", app.backend);

        let device = app.device("ACCREG01").await;
        assert_eq!((device.dialect, device.approval), (Dialect::Acc, Approval::Pending), "{}", app.backend);
        assert_eq!(device.firmware.as_deref(), Some("ZAM70-NF24HA-Ver3.0.15"), "{}: body kept as options", app.backend);

        let posted = app.post("/iclock/push?SN=ACCREG01", "").await.text().await.unwrap();
        let got = app.get("/iclock/push?SN=ACCREG01").await.text().await.unwrap();
        assert!(posted.starts_with("ServerVersion=3.1.2\nServerName=ADMS\n"), "{posted}");
        let session = value_of(&posted, "SessionID").expect("SessionID").to_string();
        assert_eq!(value_of(&got, "SessionID"), Some(session.as_str()), "{}: the session is stable", app.backend);
        assert!(posted.ends_with("\nTimeoutSec=10"), "{posted:?}");

        let block = app.get("/iclock/cdata?SN=ACCREG01&options=all&pushver=3.1.2&DeviceType=acc").await;
        let block = block.text().await.unwrap();
        assert!(block.starts_with(&format!("registry=ok\nRegistryCode={code}\nServerVersion=3.1.2\n")), "{block}");
        assert_eq!(value_of(&block, "SessionID"), Some(session.as_str()));
    }
}

#[tokio::test]
async fn a_blocked_device_may_not_register() {
    use ironclock::store::admin::SchoolScope;
    use ironclock::store::DeviceUpdate;
    for db in backends().await {
        let app = spawn_app(db, false).await;
        register(&app, "ACCBLK01").await;
        let id = app.device("ACCBLK01").await.id.0;
        let block = DeviceUpdate { approval: Some(Approval::Blocked), ..Default::default() };
        app.ctx.store.change_device(SchoolScope::all(), id, &block, None).await.unwrap();
        app.ctx.devices.invalidate("ACCBLK01");
        assert_eq!(register(&app, "ACCBLK01").await, (406, String::new()), "{}", app.backend);
    }
}

#[tokio::test]
async fn a_cookie_token_is_checked_when_the_device_sends_one() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        let code = register(&app, "ACCTOK01").await.1.trim_start_matches("RegistryCode=").to_string();
        let block = app.get("/iclock/push?SN=ACCTOK01").await.text().await.unwrap();
        let session = value_of(&block, "SessionID").unwrap().to_string();
        let poll = |token: String| {
            let url = format!("{}/iclock/getrequest?SN=ACCTOK01", app.base);
            app.client.get(url).header("Cookie", format!("token={token}")).send()
        };
        let good = poll(expected_token(&code, "ACCTOK01", &session)).await.unwrap();
        assert_eq!(good.status(), 200, "{}", app.backend);
        let forged = poll(expected_token("guess", "ACCTOK01", &session)).await.unwrap();
        assert_eq!(forged.status(), 403, "{}: a token of another registration is refused", app.backend);
        assert_eq!(
            app.get("/iclock/getrequest?SN=ACCTOK01").await.status(),
            200,
            "{}: no token, no check",
            app.backend
        );
    }
}

#[tokio::test]
async fn attlog_marks_a_device_att_again_and_forgets_the_verbs_it_refused_as_acc() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        register(&app, "ACCSWP01").await;
        let device = app.device("ACCSWP01").await;
        assert_eq!(device.dialect, Dialect::Acc);
        app.ctx.store.set_capability(device.id, "DATA UPDATE user", false, Some(-1002)).await.unwrap();

        let resp =
            app.post("/iclock/cdata?SN=ACCSWP01&table=ATTLOG&Stamp=1", "7\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\n").await;
        assert_eq!(resp.text().await.unwrap(), "OK:1", "{}", app.backend);
        assert_eq!(app.device("ACCSWP01").await.dialect, Dialect::Att, "{}", app.backend);
        let caps = app.ctx.store.capabilities(device.id).await.unwrap();
        assert!(caps.iter().all(|c| c.supported), "{}: {caps:?}", app.backend);

        let resp = app
            .post("/iclock/cdata?SN=ACCSWP01&table=rtlog", "time=2026-03-02 08:01:00\tpin=7\tevent=0\tindex=1\n")
            .await;
        assert_eq!(resp.text().await.unwrap(), "OK", "{}", app.backend);
        assert_eq!(app.device("ACCSWP01").await.dialect, Dialect::Acc, "{}: rtlog means acc", app.backend);
    }
}

#[tokio::test]
async fn rtdata_answers_the_time_in_old_encode_time() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        register(&app, "ACCTIM01").await;
        let reply = app.get("/iclock/rtdata?SN=ACCTIM01&type=time").await.text().await.unwrap();
        let (time, tz) = reply.split_once(",ServerTZ=").expect("DateTime=…,ServerTZ=…");
        let value: u32 = time.strip_prefix("DateTime=").unwrap().parse().unwrap();
        let decoded = ironclock::push::time::old_decode_time(value).expect("a valid OldEncodeTime");
        let now = chrono::Utc::now().naive_utc();
        assert!((decoded - now).num_seconds().abs() < 120, "{}: {decoded} vs {now} ({tz})", app.backend);
    }
}
