//! The device page shows the push dialect and warns when the device keeps answering its commands
//! with -629/-1004 (the terminal is set to the other Device Type).

use super::{people, Dash};
use crate::support::api::PASSWORD;
use crate::support::{backends, spawn_app};
use ironclock::push::command::{Command, UserInfo};
use ironclock::queue::EnqueueOptions;

#[tokio::test]
async fn the_device_page_warns_when_commands_keep_failing_with_wrong_table() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, _) = people(&app).await;
        app.handshake("DASHDL01").await;
        let id = app.approve_into("DASHDL01", school).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let before = dash.get(&format!("/devices/{id}")).await;
        assert_eq!(before.status, 200, "{}: {}", app.backend, before.body);
        assert!(before.body.contains("att / push") && !before.body.contains("dialect-warning"), "{}", app.backend);

        let device = app.device("DASHDL01").await;
        let mut ids = Vec::new();
        for pin in ["1", "2"] {
            let user = Command::UserUpdate(UserInfo::student(pin, "A", None));
            ids.push(app.ctx.queue.enqueue(&device, user, EnqueueOptions::default()).await.unwrap());
        }
        app.poll("DASHDL01").await;
        let acks: String = ids.iter().map(|i| format!("ID={i}&Return=-1004&CMD=DATA\n")).collect();
        app.post("/iclock/devicecmd?SN=DASHDL01", acks).await;
        let after = dash.get(&format!("/devices/{id}")).await;
        assert!(after.body.contains("id=\"dialect-warning\""), "{}: {}", app.backend, after.body);
        assert!(after.body.contains("Access Control PUSH"), "{}", app.backend);
    }
}
