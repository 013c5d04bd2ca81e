//! The device JSON shows the push dialect, and warns when the device keeps answering its
//! commands with -629/-1004 (it is set to the other dialect on the terminal).

use reqwest::Method;

use super::{backends, call, fixture, spawn_app};
use ironclock::push::command::{Command, UserInfo};
use ironclock::queue::EnqueueOptions;

#[tokio::test]
async fn a_device_that_keeps_answering_wrong_table_gets_a_dialect_warning() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        app.handshake("DIAL0001").await;
        let id = app.approve_into("DIAL0001", fx.school_a).await;
        let path = format!("/api/v1/devices/{id}");
        let before = call(&app, Method::GET, &path, Some(&fx.root), None).await;
        assert_eq!(before.body["data"]["dialect"], "att", "{}", app.backend);
        assert!(before.body["data"].get("dialect_warning").is_none(), "{}", app.backend);

        let device = app.device("DIAL0001").await;
        let mut ids = Vec::new();
        for pin in ["1", "2"] {
            let user = Command::UserUpdate(UserInfo::student(pin, "A", None));
            ids.push(app.ctx.queue.enqueue(&device, user, EnqueueOptions::default()).await.unwrap());
        }
        app.poll("DIAL0001").await;
        let acks: String = ids.iter().map(|i| format!("ID={i}&Return=-629&CMD=DATA\n")).collect();
        app.post("/iclock/devicecmd?SN=DIAL0001", acks).await;

        let after = call(&app, Method::GET, &path, Some(&fx.root), None).await;
        let warning = after.body["data"]["dialect_warning"].as_str().unwrap_or_default();
        assert!(warning.contains("-629/-1004") && warning.contains("Device Type"), "{}: {warning:?}", app.backend);
    }
}
