//! ERRORLOG results correlated to their command: a push device that acknowledged a template or
//! photo write and then reports `ERRORLOG … DataOrigin=cmd CmdId=<id>` has that command marked
//! failed with its code, and the student's sync row on the device shows the error.

use reqwest::Method;
use serde_json::Value;

use ironclock::sim::pull::SimConfig;
use ironclock::store::admin::SchoolScope;
use ironclock::store::DeviceUpdate;

use super::{sim, Area};
use crate::support::backends;

/// `(id, command text)` of one `getrequest` reply.
async fn fetch(area: &Area, sn: &str) -> Vec<(i64, String)> {
    let body = area.app.poll(sn).await;
    body.lines()
        .filter_map(|l| l.strip_prefix("C:"))
        .map(|l| {
            let (id, text) = l.split_once(':').unwrap();
            (id.parse().unwrap(), text.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_errorlog_naming_an_acknowledged_template_write_marks_it_failed_and_shows_on_the_students_status() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        area.student("5").await;
        let a = sim([5], 1, SimConfig::default()).await; // ZKFinger 10, photos
        area.add(&a, "A", false).await;
        let sn = "ERRLOG1";
        area.app.handshake(sn).await;
        let options = "FPVersion=10\nMultiBioVersion=0:10:0:0:0:0:0:0:0:58\n";
        assert_eq!(area.app.post(&format!("/iclock/cdata?SN={sn}&table=options"), options).await.status(), 200);
        let y = area.app.approve_into(sn, area.school).await;
        let update = DeviceUpdate { area_id: Some(Some(area.area)), ..Default::default() };
        area.app.ctx.store.change_device(SchoolScope::all(), y, &update, None).await.unwrap();

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        let lines = fetch(&area, sn).await;
        let find = |prefix: &str| lines.iter().find(|(_, l)| l.starts_with(prefix)).map(|(id, _)| *id);
        let fp = find("DATA UPDATE FINGERTMP PIN=5\t").unwrap_or_else(|| panic!("{backend}: {lines:#?}"));
        let photo = find("DATA UPDATE BIOPHOTO PIN=5\t").unwrap_or_else(|| panic!("{backend}: {lines:#?}"));
        let acks: Vec<String> = lines.iter().map(|(id, _)| format!("ID={id}&Return=0&CMD=DATA")).collect();
        let resp = area.app.post(&format!("/iclock/devicecmd?SN={sn}"), acks.join("\n")).await;
        assert_eq!(resp.status(), 200, "{backend}");

        let errorlog = format!(
            "ERRORLOG ErrCode=D01E0003\tErrMsg=template save failed\tDataOrigin=cmd\tCmdId={fp}\tAdditional=\n"
        );
        let resp = area.app.post(&format!("/iclock/cdata?SN={sn}&table=ERRORLOG&Stamp=1"), errorlog).await;
        assert_eq!(resp.status(), 200, "{backend}");

        let commands = area.call(Method::GET, &format!("/api/v1/devices/{y}/commands"), None).await;
        assert_eq!(commands.status, 200, "{backend}: {}", commands.text);
        let by_id = |id: i64| -> Value {
            commands.body["data"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap()
        };
        let failed = by_id(fp);
        assert_eq!(failed["state"], "failed", "{backend}: {failed}");
        let error = failed["error"].as_str().unwrap();
        assert!(error.contains("D01E0003") && error.contains("template save failed"), "{backend}: {error}");
        assert_eq!(by_id(photo)["state"], "acked", "{backend}: only the command the ERRORLOG names");

        let status = area.call(Method::GET, &format!("/api/v1/devices/{y}/sync-status"), None).await;
        assert_eq!(status.status, 200, "{backend}: {}", status.text);
        let row = status.body["data"]["students"].as_array().unwrap().iter().find(|s| s["device_pin"] == "5").cloned();
        let row = row.unwrap_or_else(|| panic!("{backend}: {}", status.text));
        assert!(row["error_message"].as_str().unwrap_or_default().contains("D01E0003"), "{backend}: {row}");

        let foreign = "ERRORLOG ErrCode=D01E0001\tErrMsg=x\tDataOrigin=cmd\tCmdId=999999\tAdditional=\n";
        let resp = area.app.post(&format!("/iclock/cdata?SN={sn}&table=ERRORLOG&Stamp=2"), foreign).await;
        assert_eq!(resp.status(), 200, "{backend}: a CmdId of no command of this device is only logged");
    }
}
