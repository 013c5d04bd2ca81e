//! The biometric store per student, learned from push uploads: fingerprints (FP and BIODATA
//! type 1) and user photos are kept sealed per student (linked by PIN in the device's school),
//! summarised by the API without bytes, and given as bytes only to a super admin who asks,
//! with an audit entry.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::api::{call, fixture};
use crate::support::{backends, spawn_app};
use ironclock::domain::biometric::sha256_hex;

#[tokio::test]
async fn push_fingerprints_and_photos_become_the_students_sealed_master_copies() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        app.handshake("BIO0001").await;
        app.approve_into("BIO0001", fx.school_a).await;
        let body = json!({"school_id": fx.school_a, "full_name": "Asha Rao", "pin": "4242"});
        let created = call(&app, Method::POST, "/api/v1/students", Some(&fx.root), Some(body)).await;
        assert_eq!(created.status, 201, "{}: {}", app.backend, created.text);
        let student = created.body["data"]["id"].as_i64().unwrap();

        let finger = b"fingerprint template bytes of finger 6".to_vec();
        let duress = b"biodata template of finger 2".to_vec();
        let jpeg = b"\xff\xd8\xff\xe0 a photo \xff\xd9".to_vec();
        let upload = format!(
            "FP PIN=4242\tFID=6\tSize=52\tValid=1\tTMP={}\n\
             BIODATA Pin=4242\tNo=2\tIndex=0\tValid=1\tDuress=1\tType=1\tMajorVer=10\tMinorVer=0\tFormat=0\tTmp={}\n\
             USERPIC PIN=4242\tFileName=4242.jpg\tSize=20\tContent={}\n\
             FP PIN=777\tFID=1\tSize=4\tValid=1\tTMP=AAAA\n\
             FP PIN=4242\tFID=7\tSize=4\tValid=1\tTMP=%%%not base64%%%\n",
            B64.encode(&finger),
            B64.encode(&duress),
            B64.encode(&jpeg)
        );
        for round in 0..2 {
            let resp = app.post("/iclock/cdata?SN=BIO0001&table=OPERLOG&OpStamp=1", upload.clone()).await;
            assert_eq!(resp.status(), 200, "{}", app.backend);
            assert_eq!(resp.text().await.unwrap(), "OK:5", "{}: round {round}", app.backend);
        }

        let path = format!("/api/v1/students/{student}/biometrics");
        let summary = call(&app, Method::GET, &path, Some(&fx.admin_a), None).await;
        assert_eq!(summary.status, 200, "{}: {}", app.backend, summary.text);
        let data = &summary.body["data"];
        assert_eq!((data["fingerprints"].as_i64(), data["photos"].as_i64()), (Some(2), Some(1)), "{}", app.backend);
        let items = data["items"].as_array().unwrap();
        let item = |kind: &str, slot: i64| -> &Value {
            items.iter().find(|i| i["kind"] == kind && i["slot"] == slot).unwrap_or_else(|| panic!("{kind} {slot}"))
        };
        // A device that never said its ZKFinger version: `unknown`, never guessed.
        assert_eq!(item("finger", 6)["version"], "unknown", "{}", app.backend);
        assert_eq!(item("finger", 6)["hash"], sha256_hex(&finger), "{}", app.backend);
        assert_eq!(item("finger", 6)["size"], finger.len(), "{}", app.backend);
        assert_eq!((item("finger", 2)["version"].as_str(), item("finger", 2)["flag"].as_i64()), (Some("10"), Some(3)));
        assert_eq!(item("photo", 0)["hash"], sha256_hex(&jpeg), "{}", app.backend);
        assert_eq!(item("finger", 6)["source"], "push", "{}", app.backend);
        assert!(!summary.text.contains(&B64.encode(&finger)), "{}: no bytes in the summary", app.backend);

        let rows: i64 = app.query_one("select count(*) from student_biometrics").await;
        assert_eq!(
            rows, 3,
            "{}: the unknown PIN and the undecodable template are not kept; a repeat adds nothing",
            app.backend
        );
        let sealed: Vec<u8> = app.query_one("select data_enc from student_biometrics where slot = 6").await;
        assert!(!sealed.windows(finger.len()).any(|w| w == finger), "{}: sealed at rest", app.backend);

        // A device that declared its ZKFinger version: its FP lines (which carry none) are kept
        // as that version.
        app.handshake("BIO0002").await;
        app.approve_into("BIO0002", fx.school_a).await;
        let options = "~DeviceName=Gate 2\nFPVersion=10\nFaceVersion=7\n";
        assert_eq!(app.post("/iclock/cdata?SN=BIO0002&table=options", options).await.status(), 200);
        let upload = format!("FP PIN=4242\tFID=3\tSize=52\tValid=1\tTMP={}\n", B64.encode(&finger));
        let resp = app.post("/iclock/cdata?SN=BIO0002&table=OPERLOG&OpStamp=1", upload).await;
        assert_eq!(resp.text().await.unwrap(), "OK:1", "{}", app.backend);
        let version: String = app.query_one("select version from student_biometrics where slot = 3").await;
        assert_eq!(version, "10", "{}: the declared FPVersion", app.backend);
        app.exec_sql("delete from student_biometrics where slot = 3").await;

        let bytes_path = format!("{path}?include=bytes");
        let refused = call(&app, Method::GET, &bytes_path, Some(&fx.admin_a), None).await;
        assert_eq!(refused.status, 403, "{}: a school admin never gets bytes", app.backend);
        let other = call(&app, Method::GET, &path, Some(&fx.admin_b), None).await;
        assert_eq!(other.status, 404, "{}: another school's student", app.backend);
        const AUDITED: &str = "select count(*) from audit_log where action = 'student.biometrics.bytes'";
        assert_eq!(app.query_one::<i64>(AUDITED).await, 0, "{}", app.backend);
        let full = call(&app, Method::GET, &bytes_path, Some(&fx.root), None).await;
        assert_eq!(full.status, 200, "{}: {}", app.backend, full.text);
        let copies = full.body["data"].as_array().unwrap();
        let six = copies.iter().find(|c| c["kind"] == "finger" && c["slot"] == 6).unwrap();
        assert_eq!(B64.decode(six["data_base64"].as_str().unwrap()).unwrap(), finger, "{}", app.backend);
        assert_eq!(app.query_one::<i64>(AUDITED).await, 1, "{}: the super admin's read is audit-logged", app.backend);
    }
}
