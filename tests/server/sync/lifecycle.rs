//! A student's life on the devices: added, edited (coalesced), deleted; each step confirmed
//! by what the device shows, not by the ack alone.

use ironclock::domain::CommandFilter;
use ironclock::sim::push::Faults;
use ironclock::store::admin::{GroupKind, NewAudit, NewGroup, SchoolScope, StudentPatch};

use super::support::{backends, spawn_app};
use super::*;

#[tokio::test]
async fn a_new_student_reaches_every_device_and_is_synced_only_after_the_read_back() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, mut sims) =
            school_with_devices(&app, &[("LIFE0001", Faults::default()), ("LIFE0002", Faults::default())]).await;
        let (_, pin) = add_student(&app, school, "Asha Rao", Some("7788")).await;
        let before = summary(&app, "LIFE0001").await;
        assert_eq!(
            (before.total, before.pending, before.synced),
            (1, 1, 0),
            "{}: queued in the same write",
            app.backend
        );

        // Deliver and ack only: the row is `sent`, not yet `synced`.
        sims[0].poll_once().await.unwrap();
        let acked = summary(&app, "LIFE0001").await;
        assert_eq!((acked.pending, acked.synced), (1, 0), "{}: an ack alone is not evidence", app.backend);

        for sim in sims.iter_mut() {
            sim.poll_until_idle(10).await.unwrap();
            assert_eq!(held(sim), vec![(pin.clone(), "Asha Rao".to_string())], "{}", app.backend);
            assert_eq!(sim.firmware.users[&pin].card.as_deref(), Some("7788"));
        }
        for serial in ["LIFE0001", "LIFE0002"] {
            let s = summary(&app, serial).await;
            assert_eq!((s.total, s.synced, s.pending, s.failed), (1, 1, 0, 0), "{} {serial}", app.backend);
        }
        let queries = CommandFilter { kind: Some("user_query".into()), ..Default::default() };
        let asked = app.ctx.queue.list(device_id(&app, "LIFE0001").await, &queries).await.unwrap();
        assert_eq!(asked.len(), 1, "{}: one read-back of the one user written", app.backend);
        assert_eq!(asked[0].pin.as_deref(), Some(pin.as_str()));
    }
}

#[tokio::test]
async fn repeated_edits_before_delivery_coalesce_into_one_command_with_the_latest_name() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, mut sims) = school_with_devices(&app, &[("LIFE0101", Faults::default())]).await;
        let (id, pin) = add_student(&app, school, "Ben", None).await;
        rename(&app, school, id, "Ben Okafor").await;
        rename(&app, school, id, "Benjamin Okafor").await;
        let writes = CommandFilter { kind: Some("user_update".into()), ..Default::default() };
        let device = device_id(&app, "LIFE0101").await;
        let queued = app.ctx.queue.list(device, &writes).await.unwrap();
        assert_eq!(queued.len(), 1, "{}: three writes, one command", app.backend);
        assert!(queued[0].payload.contains("Name=Benjamin Okafor\t"), "{}", queued[0].payload);

        sims[0].poll_until_idle(10).await.unwrap();
        assert_eq!(held(&sims[0]), vec![(pin, "Benjamin Okafor".to_string())]);
        assert_eq!(summary(&app, "LIFE0101").await.synced, 1);

        // A change the device cannot show (class) queues nothing.
        let grade = NewGroup { school_id: school, name: "Grade 4".into(), class_id: None };
        let class = app.ctx.store.add_group(GroupKind::Class, &grade).await.unwrap().id;
        let patch = StudentPatch { class_id: Some(Some(class)), ..Default::default() };
        app.ctx.store.update_student(SchoolScope::all(), id, &patch).await.unwrap();
        assert_eq!(app.ctx.queue.list(device, &writes).await.unwrap().len(), 1, "{}", app.backend);
    }
}

#[tokio::test]
async fn deleting_or_deactivating_a_student_removes_it_from_the_device() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, mut sims) = school_with_devices(&app, &[("LIFE0201", Faults::default())]).await;
        let (gone, _) = add_student(&app, school, "Leaver", None).await;
        let (paused, _) = add_student(&app, school, "On Leave", None).await;
        let (_, stays) = add_student(&app, school, "Stayer", None).await;
        sims[0].poll_until_idle(10).await.unwrap();
        assert_eq!(sims[0].firmware.users.len(), 3);

        let audit = NewAudit { action: "student.delete".into(), ..Default::default() };
        app.ctx.store.delete_student(SchoolScope::all(), gone, &audit).await.unwrap();
        let patch = StudentPatch { is_active: Some(false), ..Default::default() };
        app.ctx.store.update_student(SchoolScope::all(), paused, &patch).await.unwrap();
        assert_eq!(summary(&app, "LIFE0201").await.deleting, 2, "{}", app.backend);

        sims[0].poll_until_idle(10).await.unwrap();
        assert_eq!(held(&sims[0]), vec![(stays, "Stayer".to_string())], "{}", app.backend);
        let s = summary(&app, "LIFE0201").await;
        assert_eq!((s.total, s.synced, s.deleting), (1, 1, 0), "{}", app.backend);
    }
}
