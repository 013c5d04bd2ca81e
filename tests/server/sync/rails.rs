//! Safety rails: the delete cap (a broken roster never wipes the gates), quiet hours, the
//! instance lock, and the schedule that runs the verifier.

use ironclock::sim::push::Faults;
use ironclock::sync::verifier::VERIFY_LOCK_KEY;

use super::support::{backends, spawn_app, spawn_app_with};
use super::*;

#[tokio::test]
async fn a_roster_that_loses_everyone_is_capped_and_waits_for_an_admin() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, mut sims) = school_with_devices(&app, &[("CAP00001", Faults::default())]).await;
        for i in 0..60 {
            add_student(&app, school, &format!("Pupil {i}"), None).await;
        }
        sims[0].poll_until_idle(20).await.unwrap();
        assert_eq!(summary(&app, "CAP00001").await.synced, 60, "{}", app.backend);

        // A broken sync from the school's MIS deactivates everyone behind ironclock's back.
        app.exec_sql("update students set is_active = false").await;
        let run = verify(&app).await;
        let findings = &run.schools[0].devices[0];
        assert_eq!((findings.extra, findings.deletes_capped), (0, 60), "{}: nothing deleted", app.backend);
        let alert = findings.alert_id.expect("an alert is raised");
        sims[0].poll_until_idle(20).await.unwrap();
        assert_eq!(sims[0].firmware.users.len(), 60, "{}: the gate still knows everyone", app.backend);

        // Another run does not raise a second alert.
        let again = verify(&app).await;
        assert_eq!(again.schools[0].devices[0].alert_id, Some(alert));
        assert_eq!(app.ctx.store.list_alerts(Some(school), true).await.unwrap().len(), 1);

        // The admin confirms: the deletes go.
        app.ctx.store.resolve_alert(alert, "confirmed", "test").await.unwrap().unwrap();
        let device = device_id(&app, "CAP00001").await;
        let queued = verifier::confirm_cap_alert(&app.ctx, school, device.0, "test").await.unwrap();
        assert_eq!(queued, 60, "{}", app.backend);
        sims[0].poll_until_idle(20).await.unwrap();
        assert!(sims[0].firmware.users.is_empty(), "{}", app.backend);
    }
}

#[tokio::test]
async fn quiet_hours_defer_bulk_sync_and_the_verifier() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, mut sims) = school_with_devices(&app, &[("QUIET001", Faults::default())]).await;
        add_student(&app, school, "Early Bird", None).await;
        sims[0].poll_until_idle(10).await.unwrap();
        add_student(&app, school, "Second", None).await; // a single edit is not bulk: delivered at once
        let now = chrono::Utc::now();
        let window = format!(
            "{}-{}",
            (now - chrono::Duration::minutes(30)).format("%H:%M"),
            (now + chrono::Duration::minutes(30)).format("%H:%M")
        );
        app.exec_sql(&format!("update schools set quiet_hours = '{window}' where id = {school}")).await;

        let device = app.device("QUIET001").await;
        let report = ironclock::sync::full_sync(&app.ctx, &device, "test").await.unwrap();
        let until = report.deferred_until.expect("deferred");
        assert!(until > now && until <= now + chrono::Duration::minutes(31), "{until}");
        assert!(report.commands_queued >= 1, "{}: queued now, delivered later", app.backend);
        assert!(report.message.contains("quiet hours"), "{}", report.message);
        sims[0].poll_until_idle(10).await.unwrap();
        let executed_before = sims[0].firmware.executed.len();
        sims[0].poll_once().await.unwrap();
        assert_eq!(
            sims[0].firmware.executed.len(),
            executed_before,
            "{}: nothing delivered in quiet hours",
            app.backend
        );

        let run = verify(&app).await;
        assert_eq!(run.schools[0].deferred_until, Some(until), "{}", app.backend);
        assert!(run.schools[0].devices.is_empty());
    }
}

#[tokio::test]
async fn a_full_sync_clicked_twice_queues_each_student_once() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (school, mut sims) = school_with_devices(&app, &[("FULL0001", Faults::default())]).await;
        for i in 0..5 {
            add_student(&app, school, &format!("Kid {i}"), None).await;
        }
        sims[0].poll_until_idle(10).await.unwrap();
        let device = app.device("FULL0001").await;
        let first = ironclock::sync::full_sync(&app.ctx, &device, "test").await.unwrap();
        let second = ironclock::sync::full_sync(&app.ctx, &device, "test").await.unwrap();
        assert_eq!((first.total_students, first.commands_queued, second.commands_queued), (5, 5, 0), "{}", app.backend);
        assert_eq!(second.progress.queued, 5);
        sims[0].poll_until_idle(10).await.unwrap();
        let done = app.ctx.store.sync_progress(device.id, chrono::Utc::now()).await.unwrap();
        assert_eq!((done.confirmed, done.percent), (5, 100.0), "{}: and the progress reaches 100 %", app.backend);
    }
}

#[tokio::test]
async fn only_one_holder_of_the_verifier_lock_at_a_time() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let held = app.ctx.store.try_job_lock(VERIFY_LOCK_KEY).await.unwrap().expect("free at first");
        assert!(app.ctx.store.try_job_lock(VERIFY_LOCK_KEY).await.unwrap().is_none(), "{}", app.backend);
        let run = verify(&app).await;
        assert!(run.skipped && run.job_id.is_none(), "{}: a second run skips", app.backend);
        held.release().await;
        assert!(app.ctx.store.try_job_lock(VERIFY_LOCK_KEY).await.unwrap().is_some(), "{}", app.backend);
    }
}

#[tokio::test]
async fn the_scheduler_runs_the_verifier_on_its_cron_and_records_each_run() {
    for db in backends().await {
        let app = spawn_app_with(db, |args| args.verify_cron = "*/1 * * * * *".into()).await;
        let filter = ironclock::store::admin::JobFilter {
            scope: ironclock::store::admin::SchoolScope::all(),
            job: Some("verifier".into()),
            status: None,
            page: Default::default(),
        };
        let mut runs = 0;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            runs = app.ctx.store.list_jobs(&filter).await.unwrap().total;
            if runs > 0 {
                break;
            }
        }
        assert!(runs > 0, "{}: a verifier run within 5 s of a per-second schedule", app.backend);
        app.handle.stop(true).await;
    }
}
