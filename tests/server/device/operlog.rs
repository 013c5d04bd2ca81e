//! OPERLOG, BIODATA and photo uploads: users, templates, photos and events are stored per device,
//! and biometric data (templates, photos, the raw bodies carrying them) is encrypted at rest.

use crate::support::{backends, spawn_app};
use ironclock::store::DeviceTable;

const TMP: &str =
    "SghTUzIxAAADS00ECAUHCc7QAAAnSnkBAAAAg/YUfEsyAIEPHgH6ALFHRQBBAPkP8wBAS2UPEwBTACYPe0tYAHkljACuAHdleQBt";

#[tokio::test]
async fn a_mixed_operlog_body_stores_users_templates_and_events_and_quarantines_the_glitch() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "OPL0001", "UTC").await;
        // Capture 05 (SpeedFace-V5L), including the literal `FP PIN==1` firmware glitch.
        let body = format!(
            "OPLOG 4\t0\t2026-08-12 08:17:48\t0\t0\t0\t0\n\
             USER PIN=9998\tName=PRUEBA REPLICA\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\n\
             FP PIN=9999\tFID=1\tSize={}\tValid=1\tTMP={TMP}\n\
             FP PIN==1\tFID=0\tSize=1120\tValid=1\tTMP={TMP}\n",
            TMP.len()
        );
        let resp = app.post("/iclock/cdata?SN=OPL0001&table=OPERLOG&OpStamp=9999", body).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert_eq!(resp.text().await.unwrap(), "OK:4", "{}: 3 stored + 1 quarantined", app.backend);
        let id = app.device("OPL0001").await.id;
        let store = &app.ctx.store;
        assert_eq!(store.count_device_rows(id, DeviceTable::Users).await.unwrap(), 1);
        assert_eq!(store.count_device_rows(id, DeviceTable::Templates).await.unwrap(), 1);
        assert_eq!(store.count_device_rows(id, DeviceTable::Events).await.unwrap(), 1);
        let rejected = store.rejected_lines(id).await.unwrap();
        assert_eq!(rejected.len(), 1, "{}", app.backend);
        assert!(
            rejected[0].text(&app.ctx.cipher).unwrap().starts_with("FP PIN==1"),
            "{}: sealed, opened by the reader",
            app.backend
        );
    }
}

#[tokio::test]
async fn templates_and_the_raw_bodies_carrying_them_are_encrypted_at_rest() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "ENC0001", "UTC").await;
        let body = format!("BIODATA Pin=9998\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9\tMajorVer=39\tMinorVer=3\tFormat=0\tTmp={TMP}\n");
        let resp = app.post("/iclock/cdata?SN=ENC0001&table=BIODATA&Stamp=9999", body).await;
        assert_eq!(resp.text().await.unwrap(), "OK:1", "{}", app.backend);
        let template: Vec<u8> = app.query_one("select template_enc from biometric_templates").await;
        let raw: Vec<u8> = app.query_one("select body from device_messages where tbl = 'BIODATA'").await;
        for (what, stored) in [("template", &template), ("raw body", &raw)] {
            assert!(!contains(stored, TMP.as_bytes()), "{}: plaintext template found in the {what}", app.backend);
            assert!(!contains(stored, b"SghTUz"), "{}: {what}", app.backend);
        }
        assert_eq!(app.ctx.cipher.open(&template).unwrap(), TMP.as_bytes(), "the key opens it again");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_binary_attendance_photo_on_fdata_is_stored_and_answered_ok() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        super::approved_device(&app, "PHO0001", "UTC").await;
        let jpeg: Vec<u8> =
            [0xFFu8, 0xD8, 0xFF, 0xE0].iter().copied().chain((0..500u32).map(|i| (i % 251) as u8)).collect();
        let mut body =
            format!("PIN=20150731103012-123.jpg\nSN=PHO0001\nsize={}\nCMD=uploadphoto\0", jpeg.len()).into_bytes();
        body.extend_from_slice(&jpeg);
        let resp = app.post("/iclock/fdata?SN=PHO0001&table=ATTPHOTO&Stamp=9999", body).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        assert_eq!(resp.text().await.unwrap(), "OK");
        let id = app.device("PHO0001").await.id;
        assert_eq!(app.ctx.store.count_device_rows(id, DeviceTable::Photos).await.unwrap(), 1, "{}", app.backend);
        let sealed: Vec<u8> = app.query_one("select image_enc from device_photos").await;
        assert_eq!(app.ctx.cipher.open(&sealed).unwrap(), jpeg);
    }
}
