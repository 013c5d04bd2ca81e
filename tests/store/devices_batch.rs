//! The batched device writes a burst of first contacts goes through (`find_devices`,
//! `register_devices`, `record_handshakes`), the chunked last-seen flush and the stamp flush, on
//! every backend; and the `INFO=` counters written by the same flush.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use ironclock::domain::{Approval, Device, DeviceId, DeviceSeen, Dialect, HandshakeFacts, NewDevice, StampTable};

use ironclock::store::DynStore;

use crate::stores;

fn new_device(serial: &str, approval: Approval, pushver: &str) -> NewDevice {
    NewDevice {
        serial_number: serial.into(),
        approval,
        dialect: Dialect::Att,
        pushver: Some(pushver.into()),
        language: Some("69".into()),
        last_ip: Some(format!("10.1.0.{}", serial.len())),
        seen_at: Utc::now(),
    }
}

/// `n` approved devices `<prefix>0000`, `<prefix>0001`…, registered in one call.
async fn register_approved(store: &DynStore, prefix: &str, n: usize) -> Vec<Device> {
    let batch: Vec<NewDevice> =
        (0..n).map(|i| new_device(&format!("{prefix}{i:04}"), Approval::Approved, "2.4.1")).collect();
    store.register_devices(&batch).await.unwrap()
}

#[tokio::test]
async fn many_serials_register_in_one_call_and_known_ones_come_back_unchanged() {
    for (backend, store, _db) in stores().await {
        let known = store.register_device(&new_device("KNOWN", Approval::Pending, "2.2.14")).await.unwrap();
        let mut batch: Vec<NewDevice> =
            (0..700).map(|i| new_device(&format!("NEW{i:04}"), Approval::Approved, "2.4.1")).collect();
        // The known serial (asked as approved, with another push version) and a serial twice.
        batch.push(new_device("KNOWN", Approval::Approved, "3.1.1"));
        batch.push(new_device("NEW0007", Approval::Pending, "9.9.9"));
        let rows = store.register_devices(&batch).await.unwrap();
        assert_eq!(rows.len(), 701, "{backend}: one row per distinct serial");
        let by_serial: HashMap<&str, _> = rows.iter().map(|d| (d.serial_number.as_str(), d)).collect();
        let k = by_serial["KNOWN"];
        assert_eq!(
            (k.id, k.approval, k.pushver.as_deref()),
            (known.id, Approval::Pending, Some("2.2.14")),
            "{backend}"
        );
        let n = by_serial["NEW0007"];
        assert_eq!(
            (n.approval, n.pushver.as_deref()),
            (Approval::Approved, Some("2.4.1")),
            "{backend}: first entry wins"
        );
        assert_eq!(store.list_devices().await.unwrap().len(), 701, "{backend}");
        assert!(store.register_devices(&[]).await.unwrap().is_empty(), "{backend}");

        let mut asked: Vec<String> = (0..700).step_by(100).map(|i| format!("NEW{i:04}")).collect();
        asked.push("KNOWN".into());
        asked.push("NEVER-SEEN".into());
        let mut found: Vec<String> =
            store.find_devices(&asked).await.unwrap().into_iter().map(|d| d.serial_number).collect();
        found.sort();
        asked.pop();
        asked.sort();
        assert_eq!(found, asked, "{backend}: the existing ones, an unknown serial is simply absent");
        assert!(store.find_devices(&[]).await.unwrap().is_empty(), "{backend}");
    }
}

#[tokio::test]
async fn handshakes_of_many_devices_are_one_write_and_a_deleted_device_is_left_out() {
    for (backend, store, _db) in stores().await {
        let rows = register_approved(&store, "H", 300).await;
        let mut ids: Vec<DeviceId> = rows.iter().map(|d| d.id).collect();
        ids.sort();
        let facts = |pushver: Option<&str>| HandshakeFacts {
            pushver: pushver.map(str::to_string),
            language: None,
            device_type: Some("att".into()),
            dialect: None,
        };
        let mut batch: Vec<(DeviceId, HandshakeFacts)> = ids.iter().map(|id| (*id, facts(Some("2.4.2")))).collect();
        // The first device told nothing new; the last one twice (its last facts win); a device
        // that does not exist (deleted meanwhile) is simply absent from the answer.
        batch[0].1 = facts(None);
        batch.push((ids[299], facts(Some("3.0.1"))));
        batch.push((DeviceId(ids[299].0 + 10_000), facts(Some("2.4.2"))));
        let written = store.record_handshakes(&batch).await.unwrap();
        assert_eq!(written.len(), 300, "{backend}");
        let by_id: HashMap<DeviceId, _> = written.into_iter().map(|d| (d.id, d)).collect();
        assert_eq!(by_id[&ids[0]].pushver.as_deref(), Some("2.4.1"), "{backend}: an absent fact changes nothing");
        assert_eq!(by_id[&ids[1]].pushver.as_deref(), Some("2.4.2"), "{backend}");
        assert_eq!(by_id[&ids[299]].pushver.as_deref(), Some("3.0.1"), "{backend}");
        let stored = store.get_device(ids[150]).await.unwrap().unwrap();
        assert_eq!(stored.pushver.as_deref(), Some("2.4.2"), "{backend}: written, not only returned");
        assert!(store.record_handshakes(&[]).await.unwrap().is_empty(), "{backend}");
    }
}

#[tokio::test]
async fn the_last_seen_flush_and_the_stamp_flush_write_every_device_of_a_large_batch() {
    for (backend, store, _db) in stores().await {
        let rows = register_approved(&store, "T", 1200).await;
        let at = Utc::now() + Duration::minutes(5);
        let seen: Vec<DeviceSeen> =
            rows.iter().map(|d| DeviceSeen { id: d.id, at, ip: Some("10.9.9.9".into()) }).collect();
        store.touch_devices(&seen).await.unwrap();
        let stamps: Vec<(DeviceId, StampTable, String)> = rows
            .iter()
            .flat_map(|d| {
                [
                    (d.id, StampTable::AttLog, format!("a{}", d.id.0)),
                    (d.id, StampTable::OperLog, format!("o{}", d.id.0)),
                ]
            })
            .chain([(rows[0].id, StampTable::AttLog, "last".to_string())])
            .collect();
        store.save_stamps(&stamps).await.unwrap();
        let infos: Vec<(DeviceId, serde_json::Value)> = rows
            .iter()
            .map(|d| (d.id, serde_json::json!({ "attlogs": d.id.0, "raw": "Ver 8.0.4.2,1,0,5" })))
            .chain([(rows[1].id, serde_json::json!({ "attlogs": -1 }))])
            .collect();
        store.save_poll_infos(&infos).await.unwrap();
        for device in store.list_devices().await.unwrap() {
            let seen_at = device.last_seen_at.unwrap();
            assert!((seen_at - at).num_milliseconds().abs() < 5, "{backend}: {} seen {seen_at}", device.serial_number);
            assert_eq!(device.last_ip.as_deref(), Some("10.9.9.9"), "{backend}");
            let attlog = if device.id == rows[0].id { "last".to_string() } else { format!("a{}", device.id.0) };
            assert_eq!(device.attlog_stamp, Some(attlog), "{backend}: the last stamp of a device given twice wins");
            assert_eq!(device.operlog_stamp, Some(format!("o{}", device.id.0)), "{backend}");
            let info = store.push_holdings(device.id).await.unwrap().poll_info;
            let attlogs = if device.id == rows[1].id { -1 } else { device.id.0 };
            assert_eq!(info["attlogs"], attlogs, "{backend}: the last counters of a device given twice win");
        }
    }
}
