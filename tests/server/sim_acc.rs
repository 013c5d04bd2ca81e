//! `ironclock sim push --dialect acc` and `SimAccDevice` against the real server, on every
//! backend: simulated access-control terminals register, upload rtlog punches (each stored once),
//! take acc commands and answer `DATA QUERY` on querydata, so their students show `synced`.

use crate::support::{backends, spawn_app};
use crate::sync::{add_student, summary};
use ironclock::domain::Dialect;
use ironclock::sim::push::{run_all, SimAccDevice, SimDialect, SimPushArgs};

#[tokio::test]
async fn the_acc_load_generator_registers_and_every_rtlog_punch_is_stored_once() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        let args = SimPushArgs {
            devices: 2,
            serial_prefix: "SIMACC".into(),
            punches_per_minute: 120.0,
            duration_secs: 3,
            poll_interval_ms: 300,
            error_delay_ms: Some(200),
            drain_timeout_secs: 20,
            dialect: SimDialect::Acc,
            ..SimPushArgs::new(&app.base)
        };
        let report = run_all(args).await.unwrap();
        assert!(report.generated > 0 && report.still_buffered == 0, "{}: {report:?}", app.backend);
        assert_eq!(report.acknowledged, report.generated, "{}", app.backend);
        let stored = app.ctx.store.count_punches(None).await.unwrap();
        assert_eq!(stored as u64, report.generated, "{}: each punch stored once", app.backend);
        let sources: Vec<(String,)> = app.query_rows("select distinct source from attendance_logs").await;
        assert_eq!(sources, vec![("rtlog".to_string(),)], "{}", app.backend);
        assert_eq!(app.device("SIMACC00000").await.dialect, Dialect::Acc, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_simulated_acc_terminal_holds_a_new_student_confirmed_by_its_querydata_answer() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let mut sim = SimAccDevice::new(&app.base, "SIMACC10");
        assert!(sim.register().await.unwrap().is_some(), "{}: registered while pending", app.backend);
        let school = app.school("Sim Acc School", "UTC").await;
        app.approve_into("SIMACC10", school).await;
        let punch =
            "time=2026-09-09 07:50:10\tpin=1001\tcardno=0\teventaddr=1\tevent=0\tinoutstatus=0\tverifytype=15\tindex=1";
        assert_eq!(sim.upload_rtlog(&[punch.to_string()]).await.unwrap(), "OK");

        let (_, pin) = add_student(&app, school, "Wanjiru Kamau", Some("4455")).await;
        sim.poll_until_idle(10).await.unwrap();
        assert_eq!(sim.firmware.users[&pin].name.as_deref(), Some("Wanjiru Kamau"), "{}", app.backend);
        assert_eq!(sim.firmware.authorized, vec![pin.clone()], "{}: door access follows the user row", app.backend);
        assert!(sim.firmware.executed.iter().all(|c| !c.contains("USERINFO")), "{:?}", sim.firmware.executed);
        let s = summary(&app, "SIMACC10").await;
        assert_eq!((s.total, s.synced), (1, 1), "{}", app.backend);
    }
}
