//! Unknown serials wait for approval; their data is refused with a non-200 so the device keeps it.

use crate::support::{backends, spawn_app};
use ironclock::store::admin::SchoolScope;

const BODY: &str = "1452\t2015-07-30 15:16:28\t0\t1\t0\t0\t0\n1452\t2015-07-30 15:16:29\t0\t1\t0\t0\t0\n";

#[tokio::test]
async fn a_pending_device_is_refused_until_approved_then_its_resend_is_stored() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let block = app.handshake("PEND0001").await;
        assert!(block.starts_with("GET OPTION FROM: PEND0001\n"), "{}: {block}", app.backend);
        assert_eq!(app.device("PEND0001").await.approval, ironclock::domain::Approval::Pending);

        let refused = app.post("/iclock/cdata?SN=PEND0001&table=ATTLOG&Stamp=9999", BODY).await;
        assert_eq!(refused.status(), 403, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 0);

        super::approve(&app, "PEND0001", "UTC").await;
        let accepted = app.post("/iclock/cdata?SN=PEND0001&table=ATTLOG&Stamp=9999", BODY).await;
        assert_eq!(accepted.status(), 200, "{}", app.backend);
        assert_eq!(accepted.text().await.unwrap(), "OK:2");
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 2, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_pending_device_may_describe_itself_with_its_options() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        app.handshake("PEND0002").await;
        let body = "~DeviceName=SpeedFace-V5L,MAC=00:17:61:13:20:21,FWVersion=ZAM180-NF50VA-Ver3.4.9,~OEMVendor=ZKTECO CO., LTD.,";
        let resp = app.post("/iclock/cdata?SN=PEND0002&table=options", body).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        let device = app.device("PEND0002").await;
        assert_eq!(device.firmware.as_deref(), Some("ZAM180-NF50VA-Ver3.4.9"), "{}", app.backend);
        // What it says its name is stays in its options until an admin approves it (issue 15, 14).
        assert_eq!(device.name, None, "{}: a pending device does not name itself", app.backend);
    }
}

#[tokio::test]
async fn auto_approve_accepts_a_new_device_at_once() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        let resp = app.post("/iclock/cdata?SN=AUTO0001&table=ATTLOG&Stamp=1", BODY).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn a_blocked_device_is_refused_everywhere() {
    use ironclock::domain::Approval;
    use ironclock::store::DeviceUpdate;
    for db in backends().await {
        let app = spawn_app(db, false).await;
        app.handshake("BLK00001").await;
        let id = app.device("BLK00001").await.id;
        let block = DeviceUpdate { approval: Some(Approval::Blocked), ..Default::default() };
        // No cache poking: the store's change announcement drops the cached device.
        app.ctx.store.change_device(SchoolScope::all(), id.0, &block, None).await.unwrap();
        for path in ["/iclock/cdata?SN=BLK00001&options=all", "/iclock/getrequest?SN=BLK00001"] {
            assert_eq!(app.get(path).await.status(), 403, "{} {path}", app.backend);
        }
    }
}

#[tokio::test]
async fn requests_without_a_serial_get_a_clear_400() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        let resp = app.post("/iclock/cdata?table=ATTLOG", BODY).await;
        assert_eq!(resp.status(), 400);
        assert!(resp.text().await.unwrap().contains("missing device serial number"));
        assert_eq!(app.get("/iclock/getrequest?SN=bad%20serial").await.status(), 400);
    }
}

#[tokio::test]
async fn the_forwarded_address_is_used_only_when_the_proxy_is_trusted() {
    // The device is behind two proxies (172.16.0.1, then one on loopback): the client is the
    // right-most entry that is not a trusted proxy.
    let cases = [
        (false, "127.0.0.0/8", "127.0.0.1"),
        (true, "127.0.0.0/8", "172.16.0.1"),
        (true, "127.0.0.0/8,172.16.0.0/12", "10.20.30.40"),
    ];
    for (trusted, proxies, expected) in cases {
        let app = crate::support::spawn_app_with(crate::support::sqlite_db(), |a| {
            a.trust_forwarded_for = trusted;
            a.trusted_proxies = proxies.into();
        })
        .await;
        let url = format!("{}/iclock/cdata?SN=XFF00001&options=all", app.base);
        app.client.get(url).header("X-Forwarded-For", "10.20.30.40, 172.16.0.1").send().await.unwrap();
        let ip = app.device("XFF00001").await.last_ip;
        assert_eq!(ip.as_deref(), Some(expected), "trusted={trusted} proxies={proxies}");
    }
}
