//! Group commit of punch uploads: concurrent uploads share transactions yet each device is
//! answered `OK:<n>` for exactly its own lines; a group is all-or-nothing in the store, and a
//! failing upload in a group fails alone (the others are stored one by one).

use crate::support;

use std::sync::atomic::Ordering;

use ironclock::core::PunchCommitter;
use ironclock::domain::{Device, DeviceId, NewPunch, Pin};
use ironclock::store::{NewMessage, PunchUpload};

fn upload(device: &Device, lines: u32) -> PunchUpload {
    let punches: Vec<NewPunch> = (0..lines)
        .map(|i| NewPunch {
            pin: Pin(format!("{}", 100 + i)),
            local_time: format!("2026-03-02 08:00:{i:02}"),
            punched_at: None,
            status: Some(0),
            verify: Some(1),
            workcode: None,
            clock_flag: None,
            raw: format!("{}\t2026-03-02 08:00:{i:02}", 100 + i),
            source: Default::default(),
            event_index: None,
        })
        .collect();
    PunchUpload {
        device: device.clone(),
        message: NewMessage {
            device_id: Some(device.id),
            serial_number: device.serial_number.clone(),
            path: "/iclock/cdata".into(),
            query: format!("SN={}&table=ATTLOG", device.serial_number),
            body: b"raw".to_vec(),
            body_sealed: false,
            rejected: 0,
            table: Some("ATTLOG".into()),
            status: "processed",
            records: punches.len(),
            note: None,
        },
        rejected: vec![],
        punches,
    }
}

/// Registers (auto-approved) devices by handshake and returns them as stored.
async fn devices(app: &support::TestApp, serials: &[&str]) -> Vec<Device> {
    for sn in serials {
        app.client.get(format!("{}/iclock/cdata?SN={sn}&options=all", app.base)).send().await.unwrap();
    }
    let all = app.ctx.store.list_devices().await.unwrap();
    serials.iter().map(|sn| all.iter().find(|d| d.serial_number == *sn).unwrap().clone()).collect()
}

#[tokio::test]
async fn concurrent_uploads_share_commits_and_each_device_is_told_its_own_count() {
    for db in support::backends().await {
        let app = support::spawn_app(db, true).await;
        let serials: Vec<String> = (0..40).map(|i| format!("GRP{i:03}")).collect();
        let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
        devices(&app, &refs).await;
        let posts = serials.iter().enumerate().map(|(i, sn)| {
            let lines = 1 + i % 3;
            let body: String =
                (0..lines).map(|l| format!("{}\t2026-03-02 07:{i:02}:{l:02}\t0\t1\t0\t0\t0\n", 1000 + l)).collect();
            let request = app.client.post(format!("{}/iclock/cdata?SN={sn}&table=ATTLOG&Stamp=1", app.base)).body(body);
            async move { (lines, request.send().await.unwrap().text().await.unwrap()) }
        });
        let replies = futures::future::join_all(posts).await;
        for (lines, reply) in &replies {
            assert_eq!(reply, &format!("OK:{lines}"), "{}", app.backend);
        }
        let expected: usize = replies.iter().map(|(l, _)| l).sum();
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), expected as i64, "{}", app.backend);
        let stats = &app.ctx.punches.stats;
        let (uploads, commits) = (stats.uploads.load(Ordering::Relaxed), stats.commits.load(Ordering::Relaxed));
        assert_eq!(uploads, 40, "{}", app.backend);
        assert!(
            commits < uploads,
            "{}: {uploads} uploads in {commits} commits: concurrent uploads must share",
            app.backend
        );
    }
}

#[tokio::test]
async fn a_group_is_stored_whole_or_not_at_all() {
    for db in support::backends().await {
        let app = support::spawn_app(db, true).await;
        let found = devices(&app, &["WHOLE1", "WHOLE2"]).await;
        let mut ghost = found[0].clone();
        ghost.id = DeviceId(987_654);
        let good = vec![upload(&found[0], 3), upload(&found[1], 2)];
        let reports = app.ctx.store.ingest_punch_group(&good).await.unwrap();
        assert_eq!(reports.iter().map(|r| r.inserted).collect::<Vec<_>>(), vec![3, 2], "{}", app.backend);
        assert_ne!(reports[0].message_id, reports[1].message_id);

        let with_ghost = vec![upload(&found[0], 5), upload(&ghost, 1), upload(&found[1], 4)];
        assert!(app.ctx.store.ingest_punch_group(&with_ghost).await.is_err(), "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 5, "{}: nothing of the failed group", app.backend);
    }
}

/// One test runtime thread: the three uploads are queued before the committer runs, so they
/// form one group.
#[tokio::test(flavor = "current_thread")]
async fn a_failing_upload_in_a_group_fails_alone() {
    for db in support::backends().await {
        let app = support::spawn_app(db, true).await;
        let found = devices(&app, &["ALONE1", "ALONE2"]).await;
        let mut ghost = found[0].clone();
        ghost.id = DeviceId(987_654);
        let committer = PunchCommitter::start(app.ctx.store.clone(), 1);
        let (a, g, b) = tokio::join!(
            committer.ingest(upload(&found[0], 3)),
            committer.ingest(upload(&ghost, 2)),
            committer.ingest(upload(&found[1], 1)),
        );
        assert_eq!(a.unwrap().inserted, 3, "{}", app.backend);
        assert_eq!(b.unwrap().inserted, 1, "{}", app.backend);
        assert!(g.is_err(), "{}: the upload of a device that no longer exists is refused", app.backend);
        assert_eq!(committer.stats.fallbacks.load(Ordering::Relaxed), 1, "{}: they were one group", app.backend);
        assert_eq!(app.ctx.store.count_punches(Some(found[0].id)).await.unwrap(), 3);
        assert_eq!(app.ctx.store.count_punches(Some(found[1].id)).await.unwrap(), 1);
    }
}

/// The group is written with one statement per table: each upload's punches, rejected lines and
/// raw body still land under its own message, byte for byte, and a line re-sent within the
/// group or after it counts as a duplicate of the upload that re-sent it.
#[tokio::test]
async fn each_upload_of_a_group_keeps_its_own_message_lines_and_counts() {
    use ironclock::domain::RejectedLine;
    for db in support::backends().await {
        let app = support::spawn_app(db, true).await;
        let b = app.backend;
        let found = devices(&app, &["APART1", "APART2"]).await;
        let mut first = upload(&found[0], 3);
        // Not UTF-8 (a GBK name, say): the raw body must come back byte for byte.
        first.message.body = vec![0x31, 0x09, 0xc4, 0xe3, 0x00, 0xff, 0x0a];
        first.message.rejected = 25;
        first.rejected = (0..25)
            .map(|i| RejectedLine { line_no: i, raw: format!("bad {i}"), error: "no time".into(), raw_sealed: false })
            .collect();
        let second = upload(&found[1], 2);
        // The same three lines again from the first device, in the same group: duplicates.
        let again = upload(&found[0], 3);
        let reports = app.ctx.store.ingest_punch_group(&[first, second, again]).await.unwrap();
        let counts: Vec<_> = reports.iter().map(|r| (r.inserted, r.duplicates, r.rejected)).collect();
        assert_eq!(counts, vec![(3, 0, 25), (2, 0, 0), (0, 3, 0)], "{b}");
        let ids: Vec<i64> = reports.iter().map(|r| r.message_id).collect();
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{b}: {ids:?}");

        let per_message: Vec<(i64, i64)> = app
            .query_rows("select message_id, count(*) from attendance_logs group by message_id order by message_id")
            .await;
        assert_eq!(per_message, vec![(ids[0], 3), (ids[1], 2)], "{b}");
        let devices_of_punches: Vec<(i64, i64)> =
            app.query_rows("select distinct message_id, device_id from attendance_logs order by message_id").await;
        assert_eq!(devices_of_punches, vec![(ids[0], found[0].id.0), (ids[1], found[1].id.0)], "{b}");
        let body: Vec<u8> = app.query_one(&format!("select body from device_messages where id = {}", ids[0])).await;
        assert_eq!(body, vec![0x31, 0x09, 0xc4, 0xe3, 0x00, 0xff, 0x0a], "{b}");
        let kept: i64 =
            app.query_one(&format!("select count(*) from rejected_lines where message_id = {}", ids[0])).await;
        assert_eq!(kept, ironclock::store::REJECTED_SAMPLE as i64, "{b}: a sample of the rejected lines is kept");
        let declared: i32 = app.query_one(&format!("select rejected from device_messages where id = {}", ids[0])).await;
        assert_eq!(declared, 25, "{b}: the message keeps the full count");

        // Ids are never handed out twice, even after the newest message is deleted.
        let newest = *ids.iter().max().unwrap();
        app.exec_sql(&format!("delete from device_messages where id = {newest}")).await;
        let later = app.ctx.store.ingest_punch_group(&[upload(&found[1], 1), upload(&found[0], 1)]).await.unwrap();
        assert!(later.iter().all(|r| r.message_id > newest), "{b}: {later:?} after {newest}");
    }
}
