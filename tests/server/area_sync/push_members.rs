//! Push devices take part in area sync: what ironclock knows they hold (their uploads, the
//! students sync has on them, writes already queued) is unioned with the pull devices, and what
//! they lack is QUEUED for them in the write path their firmware takes (FINGERTMP; BIODATA only
//! on the same ZKFinger version; USERPIC), each template after its user's write. The exact
//! command lines are asserted as the device fetches them from `getrequest`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;

use ironclock::domain::media::token_hash;
use ironclock::domain::DeviceId;
use ironclock::sim::pull::SimConfig;
use ironclock::store::admin::SchoolScope;
use ironclock::store::DeviceUpdate;

use super::{empty, fingers, pins, plain, pyzk, pyzk_read, pyzk_templates, sim, skips, Area};
use crate::support::backends;

/// Registers `sn` as a push device with these `options`, approved into the area's school and area.
pub(super) async fn push_device(area: &Area, sn: &str, options: &str) -> i64 {
    area.app.handshake(sn).await;
    let resp = area.app.post(&format!("/iclock/cdata?SN={sn}&table=options"), options.to_string()).await;
    assert_eq!(resp.status(), 200, "{}: options upload", area.app.backend);
    let id = area.app.approve_into(sn, area.school).await;
    let update =
        DeviceUpdate { area_id: Some(Some(area.area)), name: Some(Some(sn.to_string())), ..Default::default() };
    area.app.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.expect("into the area");
    id
}

/// The command texts (after `C:<id>:`) of one `getrequest` reply, in order.
async fn fetch(area: &Area, sn: &str) -> Vec<String> {
    let body = area.app.poll(sn).await;
    body.lines()
        .filter_map(|l| l.strip_prefix("C:"))
        .map(|l| l.split_once(':').expect("C:<id>:<cmd>").1.to_string())
        .collect()
}

fn position(lines: &[String], prefix: &str) -> usize {
    lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in {lines:#?}"))
}

pub(super) fn line(result: &Value, device: i64) -> Value {
    result["devices"].as_array().unwrap().iter().find(|d| d["device_id"] == device).cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fingerprint_uploaded_by_push_x_is_queued_to_push_y_as_fingertmp_and_written_to_pull_z() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        area.student("101").await;
        let x = push_device(&area, "AXPUSH1", "FPVersion=10\nFingerFunOn=1\n").await;
        let y = push_device(&area, "AYPUSH1", "FPVersion=10\nFingerFunOn=1\n").await;
        let z_sim = empty(plain()).await; // ZKFinger 10
        let z = area.add(&z_sim, "Z", false).await;
        let template: Vec<u8> = (0..1100u32).map(|i| (i * 31 % 251) as u8).collect();
        let tmp = B64.encode(&template);
        let upload = format!(
            "USER PIN=101\tName=Student 101\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\n\
             FP PIN=101\tFID=6\tSize={}\tValid=1\tTMP={tmp}\n",
            tmp.len()
        );
        let resp = area.app.post("/iclock/cdata?SN=AXPUSH1&table=OPERLOG&OpStamp=1", upload).await;
        assert_eq!(resp.status(), 200, "{backend}");

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["primary_device"]["id"], x, "{backend}: X holds the most");
        assert_eq!(result["total_templates_synced"], 1, "{backend}: written to Z and read back: {result}");
        assert_eq!(result["templates_queued"], 1, "{backend}: queued for Y, not claimed written: {result}");
        assert_eq!(line(&result, y)["queued"], true, "{backend}");
        assert_eq!(line(&result, z)["queued"], false, "{backend}");

        let lines = fetch(&area, "AYPUSH1").await;
        let fp = format!("DATA UPDATE FINGERTMP PIN=101\tFID=6\tSize={}\tValid=1\tTMP={tmp}", tmp.len());
        let at = lines.iter().position(|l| *l == fp).unwrap_or_else(|| panic!("{backend}: {fp:?} not in {lines:#?}"));
        assert!(position(&lines, "DATA UPDATE USERINFO PIN=101\t") < at, "{backend}: the user before the template");
        assert!(fetch(&area, "AXPUSH1").await.iter().all(|l| !l.contains("FINGERTMP")), "{backend}: X has it");

        assert!(pins(&z_sim).contains("101"), "{backend}");
        assert_eq!(fingers(&z_sim).get(&("101".to_string(), 6)), Some(&template), "{backend}: the same bytes on Z");
        let (users, templates) = pyzk(&z_sim).await;
        assert!(users.contains("101") && templates.contains(&("101".to_string(), 6)), "{backend}: pyzk reads it on Z");

        let again = area.sync().await;
        assert_eq!(again["success"], true, "{backend}: {again}");
        for key in ["total_users_synced", "total_templates_synced", "users_queued", "templates_queued", "photos_queued"]
        {
            assert_eq!(again[key], 0, "{backend}: a second run writes and queues nothing ({key}): {again}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duress_finger_uploaded_by_push_is_a_duress_finger_on_the_pull_device() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        area.student("101").await;
        push_device(&area, "DURESS1", "FPVersion=10\nFingerFunOn=1\n").await;
        let z_sim = empty(plain()).await; // ZKFinger 10
        area.add(&z_sim, "Z", false).await;
        let tmp = |seed: u32| B64.encode((0..1100u32).map(|i| (i * seed % 251) as u8).collect::<Vec<u8>>());
        let (ordinary, duress) = (tmp(31), tmp(37));
        let upload = format!(
            "USER PIN=101\tName=Student 101\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\n\
             FP PIN=101\tFID=5\tSize={}\tValid=1\tTMP={ordinary}\n\
             FP PIN=101\tFID=4\tSize={}\tValid=3\tTMP={duress}\n",
            ordinary.len(),
            duress.len()
        );
        let resp = area.app.post("/iclock/cdata?SN=DURESS1&table=OPERLOG&OpStamp=1", upload).await;
        assert_eq!(resp.status(), 200, "{backend}");

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["total_templates_synced"], 2, "{backend}: {result}");
        let read = pyzk_templates(&pyzk_read(&z_sim).await);
        let flags = |fid: i64| read.get(&("101".to_string(), fid)).copied();
        assert_eq!((flags(5), flags(4)), (Some(1), Some(3)), "{backend}: pyzk reads finger 4 as duress on Z: {read:?}");
        let again = area.sync().await;
        assert_eq!(again["total_templates_synced"], 0, "{backend}: the flag is held, nothing rewritten: {again}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pull_enrolled_template_and_photo_reach_a_push_device_after_its_user_and_faces_are_skipped_with_a_reason() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim([5], 1, SimConfig::default()).await; // ZKFinger 10, ZKFace 7, photos
        area.add(&a, "A", false).await;
        let y = push_device(&area, "PHOTOY1", "FPVersion=10\nFingerFunOn=1\nPhotoFunOn=1\n").await;

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!((result["users_queued"].as_i64(), result["templates_queued"].as_i64()), (Some(1), Some(1)));
        assert_eq!(result["photos_queued"], 1, "{backend}: {result}");
        let face = skips(&result, y, "face");
        assert_eq!(face.len(), 1, "{backend}: {result}");
        assert_eq!(face[0]["reason"], "PHOTOY1: no face support", "{backend}");

        let template = fingers(&a).into_values().next().unwrap();
        let tmp = B64.encode(&template);
        let photo = B64.encode(a.photo("5").expect("A has a photo"));
        let lines = fetch(&area, "PHOTOY1").await;
        let user = position(&lines, "DATA UPDATE USERINFO PIN=5\tName=");
        let fp = format!("DATA UPDATE FINGERTMP PIN=5\tFID=0\tSize={}\tValid=1\tTMP={tmp}", tmp.len());
        let pic = format!("DATA UPDATE USERPIC PIN=5\tSize={}\tContent={photo}", photo.len());
        let (fp_at, pic_at) = (position(&lines, &fp), position(&lines, &pic));
        assert!(user < fp_at && user < pic_at, "{backend}: {lines:#?}");
        let deps: Vec<(String, Option<i64>, i64)> = area
            .app
            .query_rows(&format!("select kind, depends_on, id from device_commands where device_id = {y} order by id"))
            .await;
        let user_id = deps.iter().find(|d| d.0 == "user_update").unwrap().2;
        for kind in ["fingerprint_update", "userpic_update"] {
            let dep = deps.iter().find(|d| d.0 == kind).unwrap().1;
            assert_eq!(dep, Some(user_id), "{backend}: {kind} waits for the user write (queue dependency)");
        }

        let again = area.sync().await;
        for key in ["users_queued", "templates_queued", "photos_queued"] {
            assert_eq!(again[key], 0, "{backend}: queued writes are not queued again ({key}): {again}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn biodata_goes_only_to_a_device_of_the_same_version_and_a_mismatch_is_skipped_with_a_reason() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim([5], 1, plain()).await; // ZKFinger 10
        area.add(&a, "A", false).await;
        let same = push_device(&area, "BIOSAME", "FPVersion=10\nBioDataFun=1\n").await;
        let other = push_device(&area, "BIOOTHER", "FPVersion=12\nBioDataFun=1\n").await;
        for id in [same, other] {
            // Both answered FINGERTMP as unsupported before: BIODATA is their only path.
            area.app.ctx.store.set_capability(DeviceId(id), "DATA UPDATE FINGERTMP", false, Some(-1002)).await.unwrap();
        }

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        let tmp = B64.encode(fingers(&a).into_values().next().unwrap());
        let lines = fetch(&area, "BIOSAME").await;
        let bio = format!(
            "DATA UPDATE BIODATA Pin=5\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=1\tMajorVer=10\tMinorVer=0\tFormat=0\tTmp={tmp}"
        );
        assert!(lines.contains(&bio), "{backend}: {bio:?} not in {lines:#?}");
        let mismatched = fetch(&area, "BIOOTHER").await;
        assert!(
            mismatched.iter().all(|l| !l.contains("BIODATA") && !l.contains("FINGERTMP")),
            "{backend}: {mismatched:#?}"
        );
        let skip = skips(&result, other, "fingerprint");
        assert_eq!(skip.len(), 1, "{backend}: {result}");
        assert_eq!(skip[0]["reason"], "BIOOTHER: ZKFinger 10 templates cannot go to a ZKFinger 12 device", "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visible_light_device_gets_the_photo_as_biophoto_by_a_token_url_served_only_to_it_until_it_expires() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim([5], 1, SimConfig::default()).await; // photos
        area.add(&a, "A", false).await;
        let vl = push_device(&area, "VLFACE1", "FPVersion=10\nMultiBioVersion=0:10:0:0:0:0:0:0:0:58\n").await;
        push_device(&area, "VLOTHER", "FPVersion=10\n").await;

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["photos_queued"], 1, "{backend}: {result}");
        let face = skips(&result, vl, "face");
        assert!(face[0]["reason"].as_str().unwrap().contains("enrols faces from the photo (BIOPHOTO)"), "{face:?}");
        let lines = fetch(&area, "VLFACE1").await;
        let prefix = "DATA UPDATE BIOPHOTO PIN=5\tType=9\tFormat=1\tPostBackTmpFlag=1\tUrl=iclock/doc/biophoto/";
        let bio = &lines[position(&lines, prefix)];
        let url = bio.split_once("Url=").unwrap().1.to_string();
        let token = url.split('/').nth(3).unwrap().to_string();
        assert_eq!(token.len(), 32, "{backend}: 128 random bits in hex: {url}");
        assert!(url.ends_with("/5.jpg"), "{backend}: {url}");
        assert!(!lines.iter().any(|l| l.starts_with("DATA UPDATE USERPIC")), "{backend}: no PhotoFunOn, no USERPIC");
        let stored: i64 =
            area.app.query_one(&format!("select count(*) from media_tokens where token_hash = '{token}'")).await;
        assert_eq!(stored, 0, "{backend}: the token is not stored in clear");
        let hashed = format!("select count(*) from media_tokens where token_hash = '{}'", token_hash(&token));
        assert_eq!(area.app.query_one::<i64>(&hashed).await, 1, "{backend}: only its hash");

        let jpeg = a.photo("5").unwrap();
        let served = area.app.get(&format!("/{url}?SN=VLFACE1")).await;
        assert_eq!(served.status(), 200, "{backend}");
        assert_eq!(served.headers()["content-type"], "image/jpeg", "{backend}");
        assert_eq!(served.bytes().await.unwrap().to_vec(), jpeg, "{backend}: the person's photo");
        assert_eq!(area.app.get(&format!("/{url}")).await.status(), 200, "{backend}: a device that sends no SN");
        assert_eq!(area.app.get(&format!("/{url}?SN=VLOTHER")).await.status(), 404, "{backend}: another device");
        let wrong = url.replace(&token, &"0".repeat(32));
        assert_eq!(area.app.get(&format!("/{wrong}?SN=VLFACE1")).await.status(), 404, "{backend}: unknown token");
        let other_pin = url.replace("/5.jpg", "/6.jpg");
        assert_eq!(area.app.get(&format!("/{other_pin}?SN=VLFACE1")).await.status(), 404, "{backend}: another file");
        area.app.clock.advance(chrono::Duration::hours(49));
        assert_eq!(area.app.get(&format!("/{url}?SN=VLFACE1")).await.status(), 404, "{backend}: expired");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acc_device_gets_the_users_and_templates_in_its_own_grammar_and_never_an_att_command() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim([5], 1, plain()).await; // ZKFinger 10
        area.add(&a, "A", false).await;
        let sn = "ACCAREA1";
        let registry = "DeviceType=acc,~DeviceName=SenseFace 2A,FirmVer=ZAM70-NF24HA-Ver3.0.15,~ZKFPVersion=10";
        let reply = area.app.post(&format!("/iclock/registry?SN={sn}"), registry).await.text().await.unwrap();
        assert!(reply.starts_with("RegistryCode="), "{backend}: {reply}");
        let id = area.app.approve_into(sn, area.school).await;
        let update = DeviceUpdate { area_id: Some(Some(area.area)), ..Default::default() };
        area.app.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.unwrap();

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["templates_queued"], 1, "{backend}: {result}");
        let tmp = B64.encode(fingers(&a).into_values().next().unwrap());
        let lines = fetch(&area, sn).await;
        let user = position(&lines, "DATA UPDATE user CardNo=");
        let bio = format!(
            "DATA UPDATE biodata Pin=5\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=1\tMajorVer=10\tMinorVer=0\tFormat=0\tTmp={tmp}"
        );
        assert!(user < position(&lines, &bio), "{backend}: the user before its template: {lines:#?}");
        for att in ["USERINFO", "FINGERTMP", "BIODATA", "USERPIC"] {
            assert!(
                lines.iter().all(|l| !l.contains(att)),
                "{backend}: no att command ({att}) on an acc device: {lines:#?}"
            );
        }
    }
}
