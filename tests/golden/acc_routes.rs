//! Captures 04, 07, 16 and 17 replayed against the real server's acc ROUTES: each request as the
//! firmware sent it, and the exact reply bytes the capture shows (values the server chooses,
//! RegistryCode and SessionID, are read from its replies and substituted into the capture's text).
//!
//! Known difference, by design: capture 04's very first handshake (`options=all` without
//! `DeviceType`) is answered `OK` there; ironclock cannot tell an unknown serial without
//! `DeviceType` is acc (push.md 2.1, rule 1: no DeviceType ⇒ att), so it answers the att block
//! until the device registers. Capture 17's handshake carries `DeviceType=acc` and gets `OK`.

use super::capture::load;
use crate::support::{backends, spawn_app_with, TestApp};
use ironclock::push::acc_token::expected_token;

/// The app as the captures' servers ran: RequestDelay 10 (capture 17), devices auto-approved.
async fn app(db: crate::support::TestDb) -> TestApp {
    spawn_app_with(db, |args| {
        args.device_poll_delay = 10;
        args.auto_approve_devices = true;
    })
    .await
}

async fn send(app: &TestApp, method: &str, path_and_query: &str, body: &str, cookie: Option<&str>) -> (u16, String) {
    let url = format!("{}{}", app.base, path_and_query);
    let mut request = if method == "GET" { app.client.get(url) } else { app.client.post(url).body(body.to_string()) };
    if let Some(token) = cookie {
        request = request.header("Cookie", format!("token={token}"));
    }
    let resp = request.send().await.expect("request");
    let status = resp.status().as_u16();
    let length = resp.headers().get("content-length").map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    assert_eq!(length, Some(text.len().to_string()), "every device reply has its Content-Length");
    (status, text)
}

fn value_of<'a>(block: &'a str, key: &str) -> &'a str {
    block.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_else(|| panic!("no {key} in {block}"))
}

#[tokio::test]
async fn capture_04_registry_push_uploads_querydata_and_acks_get_the_captured_replies() {
    let capture = load("04");
    let sn = "3383154200002";
    for db in backends().await {
        let app = app(db).await;
        let registry = format!("/iclock/registry?SN={sn}");
        let (status, reply) =
            send(&app, "POST", &registry, &capture.request_body(&format!("POST {registry}")), None).await;
        assert_eq!(status, 200);
        let code = reply.strip_prefix("RegistryCode=").expect("exactly RegistryCode=<code>");
        assert!(code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric()), "{reply:?}");
        assert_eq!(app.device(sn).await.firmware.as_deref(), Some("Ver 8.0.1.3-20151229"), "{}", app.backend);

        // The spec prose says GET, the example POST: both answer the block.
        let (_, block) = send(&app, "POST", &format!("/iclock/push?SN={sn}"), "", None).await;
        let session = value_of(&block, "SessionID").to_string();
        let token = expected_token(code, sn, &session);
        let (status, again) = send(&app, "GET", &format!("/iclock/push?SN={sn}"), "", Some(&token)).await;
        assert_eq!((status, again.as_str()), (200, block.as_str()), "{}: stable, and the token accepted", app.backend);

        for request in [
            format!("POST /iclock/cdata?SN={sn}&table=rtlog"),
            format!("POST /iclock/cdata?SN={sn}&table=rtstate"),
            format!("POST /iclock/cdata?SN={sn}&table=tabledata&tablename=user&count=1"),
            format!(
                "POST /iclock/querydata?SN={sn}&type=tabledata&cmdid=415&tablename=user&count=3&packcnt=1&packidx=1"
            ),
            format!("POST /iclock/devicecmd?SN={sn}"),
        ] {
            let path = request.trim_start_matches("POST ");
            let (status, reply) = send(&app, "POST", path, &capture.request_body(&request), Some(&token)).await;
            let expected = capture.reply(&request).body;
            assert_eq!((status, reply.as_str()), (200, expected.as_str()), "{}: {request}", app.backend);
        }
        let users: Vec<(String,)> = app.query_rows("select pin from device_users order by pin").await;
        assert_eq!(users, [("1",), ("2",), ("3",), ("4",)].map(|(p,)| (p.to_string(),)), "{}", app.backend);

        let (_, time) = send(&app, "GET", &format!("/iclock/rtdata?SN={sn}&type=time"), "", Some(&token)).await;
        let captured = capture.line_starting("< DateTime=").trim_start_matches("< ");
        let shape = |s: &str| s.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect::<String>();
        assert_eq!(shape(&time), shape(captured), "{}: {time}", app.backend);
    }
}

#[tokio::test]
async fn capture_07_senseface_registers_and_its_crlf_rtlog_punch_is_stored_once_with_events_apart() {
    let capture = load("07");
    let sn = "NYU7251601501";
    for db in backends().await {
        let app = app(db).await;
        let body = capture.section("POST /iclock/registry")[0];
        let (_, reply) = send(&app, "POST", &format!("/iclock/registry?SN={sn}"), body, None).await;
        assert!(reply.starts_with("RegistryCode=") && !reply.contains('\n'), "{reply:?}");
        let device = app.device(sn).await;
        assert_eq!(device.firmware.as_deref(), Some("ZAM70-NF24HA-Ver3.0.15"), "{}", app.backend);

        let punch = capture.section("table=rtlog  (punch")[0].replace("\\r\\n", "\r\n");
        let door = capture.section("door-state row")[0].replace("\\r\\n", "\r\n");
        // The capture elides the rest of this row with "\t...".
        let clock = capture.section("pre-NTP clock")[0].trim_end_matches("\t...").to_string();
        for upload in [&punch, &door, &punch, &clock] {
            let (status, reply) = send(&app, "POST", &format!("/iclock/cdata?SN={sn}&table=rtlog"), upload, None).await;
            assert_eq!((status, reply.as_str()), (200, "OK"), "{}", app.backend);
        }
        let punches: Vec<(String, String, Option<String>)> =
            app.query_rows("select pin, local_time, clock_flag from attendance_logs order by id").await;
        assert_eq!(
            punches,
            vec![
                ("445966".into(), "2026-09-09 12:09:10".into(), None),
                ("445966".into(), "1971--10--29 -23:-27:-54".into(), Some("unparsable".into())),
            ],
            "{}: the punch once, the pre-NTP row kept and flagged, the door row never a punch",
            app.backend
        );
    }
}

#[tokio::test]
async fn capture_16_acc_querydata_bodies_are_answered_with_their_table_counts() {
    let capture = load("16");
    let sn = "THAI0001";
    for db in backends().await {
        let app = app(db).await;
        send(&app, "POST", &format!("/iclock/registry?SN={sn}"), "DeviceType=acc", None).await;
        let rows = capture.section("querydata?...&type=tabledata");
        let fill = |row: &str| {
            row.replace("<n>", "1")
                .replace("<c>", "")
                .replace("<pin>", "21")
                .replace("<pw>", "")
                .replace("<g>", "1")
                .replace("<name>", "Ada")
                .replace("<pri>", "0")
                .replace("<i>", "0")
                .replace("<t>", "9")
                .replace("<M>", "5")
                .replace("<m>", "8")
                .replace("<f>", "0")
                .replace("<b64>", "QUJD")
                .replace("\\r\\n", "")
        };
        for (table, cmd) in [("user", 5), ("biodata", 6)] {
            let row = rows.iter().find(|r| r.starts_with(&format!("{table} "))).map(|r| fill(r)).expect("row");
            let url = format!(
                "/iclock/querydata?SN={sn}&type=tabledata&cmdid={cmd}&tablename={table}&count=1&packcnt=1&packidx=1"
            );
            let (_, reply) = send(&app, "POST", &url, &row, None).await;
            let expected = capture
                .lines_starting("< ")
                .into_iter()
                .find(|l| l.starts_with(&format!("< {table}=")))
                .expect("reply");
            assert_eq!(
                reply,
                expected.trim_start_matches("< ").replace("<count of rows>", "1").replace("<count>", "1")
            );
        }
        let templates: Vec<(String, i64)> =
            app.query_rows("select pin, cast(bio_type as bigint) from biometric_templates").await;
        assert_eq!(templates, vec![("21".to_string(), 9)], "{}", app.backend);
    }
}

#[tokio::test]
async fn capture_17_acc_handshake_registry_and_refusal_replies_are_byte_exact() {
    let capture = load("17");
    let sn = "VGU6254600603";
    for db in backends().await {
        let app = app(db).await;
        let handshake = format!("/iclock/cdata?SN={sn}&options=all&pushver=3.1.2&DeviceType=acc&PushOptionsFlag=1");
        assert_eq!(send(&app, "GET", &handshake, "", None).await, (200, "OK".to_string()), "not registered yet");
        let (_, reply) = send(&app, "POST", &format!("/iclock/registry?SN={sn}"), "DeviceType=acc", None).await;
        let code = reply.strip_prefix("RegistryCode=").expect("exactly the code").to_string();
        let (status, block) = send(&app, "GET", &handshake, "", None).await;
        let session = value_of(&block, "SessionID").to_string();
        assert!(session.len() == 32 && session.chars().all(|c| c.is_ascii_hexdigit()), "{session}");
        let expected =
            capture.section("acc handshake").join("\n").replace("<code>", &code).replace("<32 hex>", &session);
        assert_eq!((status, block), (200, expected), "{}", app.backend);

        use ironclock::store::admin::SchoolScope;
        let blocked = ironclock::store::DeviceUpdate {
            approval: Some(ironclock::domain::Approval::Blocked),
            ..Default::default()
        };
        app.ctx.store.change_device(SchoolScope::all(), app.device(sn).await.id.0, &blocked, None).await.unwrap();
        app.ctx.devices.invalidate(sn);
        let refused = send(&app, "POST", &format!("/iclock/registry?SN={sn}"), "DeviceType=acc", None).await;
        assert_eq!(refused, (406, String::new()), "{}: refused: 406, empty body", app.backend);
    }
}
