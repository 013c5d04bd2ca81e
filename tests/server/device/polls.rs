//! Command polls, pings and command results.

use crate::support::{backends, spawn_app};

#[tokio::test]
async fn a_poll_with_info_records_the_device_counters() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        let resp = app
            .get("/iclock/getrequest?SN=POLL001&INFO=Ver%208.0.4.2-I113-02,143,1,109,172.16.12.182,10,7,12,141,111")
            .await;
        assert_eq!(resp.text().await.unwrap(), "OK");
        let device = app.device("POLL001").await;
        let backend = app.backend;
        // The poll does not wait for the database: the activity flush writes the counters.
        app.ctx.activity.flush(&app.ctx.store).await.unwrap();
        let stored = read_poll_info(&app.ctx.config.database_url, device.id.0).await;
        let info: serde_json::Value = serde_json::from_str(&stored.expect("poll_info stored")).unwrap();
        assert_eq!(info["users"], 143, "{backend}");
        assert_eq!(info["attlogs"], 109);
        assert_eq!(info["faces"], 141);
        assert_eq!(info["firmware"], "Ver 8.0.4.2-I113-02");
        // A punch later the record count changed: the newest counters win at the next flush.
        app.get("/iclock/getrequest?SN=POLL001&INFO=Ver%208.0.4.2-I113-02,143,1,110,172.16.12.182,10,7,12,141,111")
            .await;
        app.ctx.activity.flush(&app.ctx.store).await.unwrap();
        let stored = read_poll_info(&app.ctx.config.database_url, device.id.0).await.unwrap();
        let info: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(info["attlogs"], 110, "{backend}");
    }
}

async fn read_poll_info(url: &str, id: i64) -> Option<String> {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar("select poll_info::text from devices where id = $1").bind(id).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar("select poll_info from devices where id = ?1").bind(id).fetch_one(&pool).await.unwrap()
    }
}

#[tokio::test]
async fn an_info_command_result_updates_the_device_facts_and_unknown_ids_are_accepted() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        app.handshake("ACK0001").await;
        // Capture 05: ack line with '&', then one key per line (keys without '~' are info, not ack fields).
        let body = "ID=1786485203822&Return=0&CMD=INFO\n~DeviceName=SpeedFace-V5L\nMAC=00:17:61:13:20:21\nUserCount=4\nFWVersion=ZAM180-NF50VA-Ver3.4.9\nPushVersion=Ver 2.0.33S-20220623\n";
        let resp = app.post("/iclock/devicecmd?SN=ACK0001", body).await;
        assert_eq!(resp.text().await.unwrap(), "OK", "{}", app.backend);
        let device = app.device("ACK0001").await;
        assert_eq!(device.firmware.as_deref(), Some("ZAM180-NF50VA-Ver3.4.9"), "{}", app.backend);
        assert_eq!(device.push_version.as_deref(), Some("Ver 2.0.33S-20220623"));
        let batched = "ID=info8487&Return=0&CMD=DATA\nID=info8488&Return=0&CMD=DATA\nID=fp7464&Return=-1002&CMD=DATA\n";
        assert_eq!(app.post("/iclock/devicecmd?SN=ACK0001", batched).await.text().await.unwrap(), "OK");
        assert_eq!(app.ctx.store.count_messages(Some(device.id)).await.unwrap(), 2, "raw ack bodies are kept");
    }
}

#[tokio::test]
async fn pings_count_as_contact_and_last_seen_is_written_in_the_background() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        app.handshake("PING001").await;
        assert_eq!(app.get("/iclock/ping?SN=PING001").await.text().await.unwrap(), "OK");
        let id = app.device("PING001").await.id;
        assert!(app.ctx.activity.last_seen(id).is_some());
        app.ctx.activity.flush(&app.ctx.store).await.unwrap();
        assert!(app.device("PING001").await.last_seen_at.is_some(), "{}", app.backend);
    }
}
