//! Drift the device causes: writes it silently drops, users deleted at its keypad, a device
//! offline while the roster changed, users it holds that ironclock does not know. After the
//! verifier runs (and the devices poll), every device holds exactly the expected students.

use std::collections::BTreeSet;

use ironclock::sim::push::Faults;

use super::support::{backends, spawn_app};
use super::*;

#[tokio::test]
async fn after_the_verifier_every_device_holds_exactly_the_expected_students() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let dropping = Faults { drop_every_nth_write: Some(3), ..Default::default() };
        let (school, mut sims) = school_with_devices(
            &app,
            &[("DRIFT001", dropping), ("DRIFT002", Faults::default()), ("DRIFT003", Faults::default())],
        )
        .await;
        let mut students = Vec::new();
        for i in 0..12 {
            students.push(add_student(&app, school, &format!("Student {i:02}"), Some(&format!("{}", 5000 + i))).await);
        }
        // DRIFT003 is offline while the roster is entered; the other two sync.
        sims[0].poll_until_idle(20).await.unwrap();
        sims[1].poll_until_idle(20).await.unwrap();
        assert!(sims[0].firmware.users.len() < 12, "{}: the faulty device dropped some writes", app.backend);

        // Someone deletes a student at DRIFT002's keypad: the OPLOG 9 upload re-queues it at once.
        let victim = students[4].1.clone();
        assert!(sims[1].firmware.keypad_delete(&victim, "2026-11-23 08:00:00"));
        sims[1].poll_once().await.unwrap(); // uploads the OPLOG
        assert!(!sims[1].firmware.users.contains_key(&victim));

        // A user enrolled by hand that is no student: reported, never deleted (policy `report`).
        sims[1].firmware.execute("0", "DATA UPDATE USERINFO PIN=99999\tName=Visitor\tPri=0");
        sims[1]
            .upload(
                "OPERLOG",
                "USER PIN=99999\tName=Visitor\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\n",
            )
            .await
            .unwrap();

        // A student leaves while DRIFT003 is still offline.
        let audit = ironclock::store::admin::NewAudit { action: "student.delete".into(), ..Default::default() };
        app.ctx.store.delete_student(ironclock::store::admin::SchoolScope::all(), students[0].0, &audit).await.unwrap();

        let expected: BTreeSet<String> = students.iter().skip(1).map(|s| s.1.clone()).collect();
        let mut last = None;
        for _round in 0..6 {
            let run = verify(&app).await;
            for sim in sims.iter_mut() {
                sim.poll_until_idle(40).await.unwrap();
            }
            last = Some(run);
            let done = sims.iter().all(|s| {
                s.firmware.users.keys().filter(|p| *p != "99999").cloned().collect::<BTreeSet<_>>() == expected
            });
            if done && summary(&app, "DRIFT001").await.synced == 11 && summary(&app, "DRIFT003").await.synced == 11 {
                break;
            }
        }
        let run = last.unwrap();
        assert!(run.job_id.is_some(), "{}: each run is recorded", app.backend);
        for (sim, serial) in sims.iter().zip(["DRIFT001", "DRIFT002", "DRIFT003"]) {
            let on_device: BTreeSet<String> = sim.firmware.users.keys().filter(|p| *p != "99999").cloned().collect();
            assert_eq!(on_device, expected, "{} {serial}: exactly the expected students", app.backend);
            for (_, pin) in students.iter().skip(1) {
                let name = sim.firmware.users[pin].name.clone().unwrap_or_default();
                assert!(name.starts_with("Student "), "{serial}: {pin} is {name}");
            }
            let s = summary(&app, serial).await;
            assert_eq!(
                (s.total, s.synced, s.pending, s.failed, s.not_synced),
                (11, 11, 0, 0, 0),
                "{} {serial}",
                app.backend
            );
        }
        let unknown = app.ctx.store.unknown_device_users(device_id(&app, "DRIFT002").await, 10).await.unwrap();
        assert_eq!(unknown.0, 1, "{}: the visitor is reported", app.backend);
        assert!(sims[1].firmware.users.contains_key("99999"), "{}: and not deleted", app.backend);

        // The recorded run carries per-device findings.
        let job = app
            .ctx
            .store
            .get_job(ironclock::store::admin::SchoolScope::all(), run.job_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(job.summary["schools"][0]["devices"].as_array().is_some_and(|d| d.len() == 3), "{}", job.summary);
    }
}

#[tokio::test]
async fn a_device_that_cannot_be_read_back_is_confirmed_on_its_acks() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let faults = Faults { unsupported: vec!["DATA QUERY USERINFO".into()], ..Default::default() };
        let (school, mut sims) = school_with_devices(&app, &[("NOREAD01", faults)]).await;
        add_student(&app, school, "Chen Wei", None).await;
        add_student(&app, school, "Dina Haile", None).await;
        sims[0].poll_until_idle(10).await.unwrap();
        // The read-back was refused (-1002) and learned; the next verifier run confirms on acks.
        verify(&app).await;
        let s = summary(&app, "NOREAD01").await;
        assert_eq!((s.total, s.synced), (2, 2), "{}", app.backend);
    }
}
