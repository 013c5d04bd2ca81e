//! Faces to and from push devices: the `FACE` lines a NIR ZKFace 7 device uploads (one record
//! per line, across uploads) become the student's face set in the biometric store; area sync
//! queues a face set to a NIR v7 push device as one `DATA UPDATE FACE` line per record after the
//! user's write, writes it to a face-capable pull device, and skips visible-light and face-less
//! push devices with their reason. The command lines are asserted as the device fetches them.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::Method;
use serde_json::Value;

use std::time::Duration;

use ironclock::pull::{Client, ConnectOptions, TransportMode};
use ironclock::sim::pull::SimConfig;

use super::push_members::{line, push_device};
use super::{empty, pins, sim, skips, Area};
use crate::support::backends;

const NIR7: &str = "FPVersion=10\nFingerFunOn=1\nFaceFunOn=1\nFaceVersion=7\n";
const RECORD: usize = 2576;

/// The TMP bytes a NIR device would send for face id `fid`: 16 header bytes of its own, then
/// a template of `len` bytes.
fn sent(fid: u8, len: usize) -> Vec<u8> {
    (0..16 + len).map(|i| ((i * 7 + usize::from(fid) * 13) % 251) as u8 + 1).collect()
}

/// The ZKFace record a line carries: Size 2576, uid 0, FaceID = FID, Valid, bytes 6.. as sent,
/// the template zero-padded to 2560 bytes (pull.md §10; push.md 2.6).
fn record(fid: u8, tmp: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; RECORD];
    r[..tmp.len()].copy_from_slice(tmp);
    r[0..2].copy_from_slice(&(RECORD as u16).to_le_bytes());
    (r[2], r[3], r[4], r[5]) = (0, 0, fid, 1);
    r
}

fn face_line(pin: &str, fid: u8, tmp: &[u8]) -> String {
    let b64 = B64.encode(tmp);
    format!("FACE PIN={pin}\tFID={fid}\tSIZE={}\tVALID=1\tTMP={b64}\n", b64.len())
}

/// The `DATA UPDATE FACE` line that carries `record`.
fn update_line(pin: &str, record: &[u8]) -> String {
    let mut r = record.to_vec();
    (r[2], r[3]) = (0, 0);
    let tmp = B64.encode(&r);
    format!("DATA UPDATE FACE PIN={pin}\tFID={}\tValid={}\tSize={}\tTMP={tmp}", r[4], r[5], tmp.len())
}

/// Every command line the device fetches from `getrequest`, acknowledging each reply (a face
/// line waits for its user's write: in the same reply, or after its ack), in order.
async fn fetch_all(area: &Area, sn: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..20 {
        let body = area.app.poll(sn).await;
        let got: Vec<(String, String)> = body
            .lines()
            .filter_map(|l| l.strip_prefix("C:"))
            .map(|l| l.split_once(':').map(|(id, c)| (id.to_string(), c.to_string())).expect("C:<id>:<cmd>"))
            .collect();
        if got.is_empty() {
            return lines;
        }
        let acks: Vec<String> = got.iter().map(|(id, _)| format!("ID={id}&Return=0&CMD=DATA")).collect();
        let resp = area.app.post(&format!("/iclock/devicecmd?SN={sn}"), acks.join("\n")).await;
        assert_eq!(resp.status(), 200, "{}", area.app.backend);
        lines.extend(got.into_iter().map(|(_, c)| c));
    }
    panic!("{}: {sn} was still fetching commands after 20 polls", area.app.backend);
}

/// Where `wanted` is among `lines` (the panic names only its start: face lines are long).
fn at(lines: &[String], wanted: &str) -> usize {
    let found = lines.iter().position(|l| l == wanted);
    found.unwrap_or_else(|| panic!("{:.90}… not among {} lines", wanted, lines.len()))
}

/// The position of the first line starting with `prefix`.
fn first_line(lines: &[String], prefix: &str) -> usize {
    lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} line"))
}

/// The student's kept face copy with its bytes (super admin, `include=bytes`).
async fn kept_face(area: &Area, student: i64) -> Value {
    let path = format!("/api/v1/students/{student}/biometrics?include=bytes");
    let reply = area.call(Method::GET, &path, None).await;
    assert_eq!(reply.status, 200, "{}: {}", area.app.backend, reply.text);
    let copies = reply.body["data"].as_array().cloned().unwrap_or_default();
    copies.into_iter().find(|c| c["kind"] == "face").unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_face_uploaded_by_push_x_is_kept_queued_to_nir_push_y_as_face_lines_and_written_to_pull_z() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let student = area.student("101").await;
        let x = push_device(&area, "FACEX1", NIR7).await;
        let y = push_device(&area, "FACEY1", NIR7).await;
        let z_sim = empty(SimConfig::default()).await; // ZKFace 7
        let z = area.add(&z_sim, "Z", false).await;

        // Twelve records in two uploads (one FID per line), the second with a line that is no face.
        let tmps: Vec<Vec<u8>> = (0..12u8).map(|fid| sent(fid, 1200 + usize::from(fid))).collect();
        let mut first =
            "USER PIN=101\tName=Student 101\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\n"
                .to_string();
        for fid in 0..6u8 {
            first.push_str(&face_line("101", fid, &tmps[usize::from(fid)]));
        }
        let resp = area.app.post("/iclock/cdata?SN=FACEX1&table=OPERLOG&OpStamp=1", first).await;
        assert_eq!((resp.status().as_u16(), resp.text().await.unwrap()), (200, "OK:7".into()), "{backend}");
        let kept = kept_face(&area, student).await;
        let size = (kept["size"].as_u64(), kept["version"].as_str());
        assert_eq!(size, (Some(6 * 2576), Some("7")), "{backend}: six ZKFace 7 records kept");

        let mut second: String = (6..12u8).map(|fid| face_line("101", fid, &tmps[usize::from(fid)])).collect();
        second.push_str("FACE PIN=101\tFID=12\tSIZE=7\tVALID=1\tTMP=AAAA...\n");
        let resp = area.app.post("/iclock/cdata?SN=FACEX1&table=OPERLOG&OpStamp=2", second).await;
        assert_eq!(resp.text().await.unwrap(), "OK:7", "{backend}: every line taken, the bad one quarantined");
        let why: String = area.app.query_one("select error from rejected_lines order by id desc limit 1").await;
        assert!(why.contains("FACE: TMP is not base64"), "{backend}: quarantined with a reason: {why}");

        let records: Vec<Vec<u8>> = (0..12u8).map(|fid| record(fid, &tmps[usize::from(fid)])).collect();
        let kept = kept_face(&area, student).await;
        assert_eq!(kept["size"], 12 * 2576, "{backend}: the earlier upload's records kept, merged by FID");
        assert_eq!(kept["source_device_id"], x, "{backend}");
        let bytes = B64.decode(kept["data_base64"].as_str().unwrap()).unwrap();
        assert!(bytes == records.concat(), "{backend}: the face set as ZKFace 7 records in FID order");
        let summary = area.call(Method::GET, &format!("/api/v1/students/{student}/biometrics"), None).await;
        assert_eq!(summary.body["data"]["faces"], 1, "{backend}: {}", summary.text.len());

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["faces_queued"], 1, "{backend}: queued for Y, not claimed written: {result}");
        assert_eq!(result["face_templates_synced"], 1, "{backend}: written to Z and read back: {result}");
        assert_eq!(
            (line(&result, y)["queued"].as_bool(), line(&result, y)["faces_written"].as_i64()),
            (Some(true), Some(1))
        );
        assert_eq!(result["not_taken"], serde_json::json!([]), "{backend}: {result}");

        let lines = fetch_all(&area, "FACEY1").await;
        let user = first_line(&lines, "DATA UPDATE USERINFO PIN=101\t");
        for r in &records {
            assert!(user < at(&lines, &update_line("101", r)), "{backend}: the user before its face records");
        }
        assert_eq!(lines.iter().filter(|l| l.starts_with("DATA UPDATE FACE")).count(), 12, "{backend}");
        assert!(!lines.iter().any(|l| l.starts_with("DATA DELETE FACE")), "{backend}: Y held no face to clear");
        let deps: Vec<(String, Option<i64>, i64)> = area
            .app
            .query_rows(&format!("select kind, depends_on, id from device_commands where device_id = {y} order by id"))
            .await;
        let user_id = deps.iter().find(|d| d.0 == "user_update").unwrap().2;
        assert!(
            deps.iter().filter(|d| d.0 == "face_update").all(|d| d.1 == Some(user_id)),
            "{backend}: every face line waits for the user write: {deps:?}"
        );
        assert!(fetch_all(&area, "FACEX1").await.iter().all(|l| !l.contains("FACE")), "{backend}: X has it");

        // Z read back over the wire (a session of its own, ironclock's pull client: the oracles
        // read no faces), and as the simulator holds it.
        assert!(pins(&z_sim).contains("101"), "{backend}");
        let mut opts = ConnectOptions::new(z_sim.addr());
        (opts.transport, opts.timeout, opts.retries) = (TransportMode::Tcp, Duration::from_secs(3), 0);
        let mut client = Client::connect(opts).await.expect("a session on Z");
        let mut read = client.read_face_blob("101").await.expect("cmd 150").expect("Z answers with the face");
        client.close().await.expect("session closed");
        let uid = z_sim.users().into_iter().find(|u| u.user_id == "101").unwrap().uid;
        let mut on_z = z_sim.face_blob(uid).expect("Z holds the face");
        for r in on_z.chunks_exact_mut(RECORD).chain(read.chunks_exact_mut(RECORD)) {
            (r[2], r[3]) = (0, 0);
        }
        assert!(read == records.concat(), "{backend}: the same 12 records read back from Z");
        assert!(on_z == records.concat(), "{backend}: the same 12 records held by Z");
        assert!(line(&result, z)["queued"] == false, "{backend}");

        let again = area.sync().await;
        assert_eq!(again["success"], true, "{backend}: {again}");
        for key in ["faces_queued", "face_templates_synced", "users_queued", "total_users_synced", "templates_queued"] {
            assert_eq!(again[key], 0, "{backend}: a second run writes and queues nothing ({key}): {again}");
        }
        assert_eq!(line(&again, y)["faces_before"], 1, "{backend}: Y's read reports the face queued to it");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pull_enrolled_face_reaches_a_nir_push_device_and_visible_light_and_face_less_ones_say_why_not() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim([5], 1, SimConfig::default()).await; // ZKFace 7: 15 records
        area.add(&a, "A", false).await;
        let y = push_device(&area, "FACEY2", NIR7).await;
        let vl = push_device(&area, "VLFACE2", "FPVersion=10\nMultiBioVersion=0:10:0:0:0:0:0:0:0:58\n").await;
        let none = push_device(&area, "NOFACE2", "FPVersion=10\n").await;
        let v12 = push_device(&area, "NIR12", "FPVersion=10\nMultiBioVersion=0:10:12:0:0:0:0:0:0:0\n").await;

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["faces_queued"], 1, "{backend}: only Y takes the face: {result}");
        let reason = |id: i64| skips(&result, id, "face").first().map(|s| s["reason"].as_str().unwrap().to_string());
        assert_eq!(
            reason(vl).as_deref(),
            Some(
                "VLFACE2: face version 58 (visible light), not 7: visible-light face templates do not copy; it \
                 enrols faces from the photo (BIOPHOTO)"
            ),
            "{backend}"
        );
        assert_eq!(reason(none).as_deref(), Some("NOFACE2: no face support"), "{backend}");
        assert_eq!(
            reason(v12).as_deref(),
            Some("NIR12: face version 12, not 7: only ZKFace 7 faces are written (FACE)"),
            "{backend}"
        );
        assert!(skips(&result, y, "face").is_empty(), "{backend}: {result}");

        let uid = a.users().into_iter().find(|u| u.user_id == "5").unwrap().uid;
        let blob = a.face_blob(uid).expect("A holds a face");
        let lines = fetch_all(&area, "FACEY2").await;
        let user = first_line(&lines, "DATA UPDATE USERINFO PIN=5\t");
        for r in blob.chunks_exact(RECORD) {
            assert!(user < at(&lines, &update_line("5", r)), "{backend}: the user before the face");
        }
        assert_eq!(lines.iter().filter(|l| l.starts_with("DATA UPDATE FACE")).count(), 15, "{backend}");
        for sn in ["VLFACE2", "NOFACE2", "NIR12"] {
            let lines = fetch_all(&area, sn).await;
            assert!(lines.iter().all(|l| !l.contains(" FACE ")), "{backend}: no FACE line to {sn}");
        }

        let again = area.sync().await;
        assert_eq!(again["faces_queued"], 0, "{backend}: queued faces are not queued again: {again}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_of_one_persons_faces_at_once_all_end_in_the_kept_set() {
    const FIDS: u8 = 6;
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        push_device(&area, "FACERACE1", NIR7).await;
        // Each person's face set arrives in two uploads racing each other (a retry beside the
        // next upload, or a balancer spreading one device's requests): each learner rebuilds the
        // set from the rows it sees, and the last to save must not drop the other's record.
        let mut students = Vec::new();
        for pin in 301..311 {
            students.push(area.student(&pin.to_string()).await);
        }
        let uploads = (301..311).flat_map(|pin: u32| {
            (0..FIDS).map(move |fid| {
                let body = face_line(&pin.to_string(), fid, &sent(fid, 1200));
                (pin, body)
            })
        });
        let sends = uploads.map(|(_, body)| area.app.post("/iclock/cdata?SN=FACERACE1&table=OPERLOG&OpStamp=1", body));
        for resp in futures::future::join_all(sends).await {
            assert_eq!(resp.status(), 200, "{backend}");
        }
        for (pin, student) in (301..311).zip(students) {
            let kept = kept_face(&area, student).await;
            let size = kept["size"].as_u64();
            assert_eq!(size, Some(u64::from(FIDS) * 2576), "{backend}: every record of PIN {pin} kept");
        }
    }
}
