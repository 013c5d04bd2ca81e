//! `ironclock devices`: pending devices are listed and can be approved from a shell.

use crate::support;

use std::process::Command;

use chrono::Utc;
use ironclock::domain::{Approval, Dialect, NewDevice};
use ironclock::store::admin::{AuditFilter, NewSchool};

fn cli(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ironclock"))
        .arg("devices")
        .arg("--database-url")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_pending_device_is_listed_and_approved_with_its_zone_from_the_shell() {
    for db in support::backends().await {
        let store = ironclock::store::connect(&db.url, 2).await.unwrap();
        store
            .register_device(&NewDevice {
                serial_number: "CLI00001".into(),
                approval: Approval::Pending,
                dialect: Dialect::Att,
                pushver: None,
                language: None,
                last_ip: Some("192.168.1.59".into()),
                seen_at: Utc::now(),
            })
            .await
            .unwrap();
        let out = cli(&db.url, &["list", "--status", "pending", "--json"]);
        assert!(out.status.success(), "{}: {}", db.backend, String::from_utf8_lossy(&out.stderr));
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(listed[0]["serial_number"], "CLI00001", "{}", db.backend);
        assert_eq!(listed[0]["last_ip"], "192.168.1.59");

        let bad = cli(&db.url, &["approve", "CLI00001", "--timezone", "Mars/Olympus"]);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("not an IANA time zone"));
        // The shell goes through the API's write path: an approved device belongs to a school.
        let homeless = cli(&db.url, &["approve", "CLI00001"]);
        assert!(!homeless.status.success(), "{}", db.backend);
        assert!(String::from_utf8_lossy(&homeless.stderr).contains("belongs to a school"), "{}", db.backend);
        let school = NewSchool { name: "Shell School".into(), timezone: "UTC".into(), pin_start: None };
        let school = store.add_school(&school).await.unwrap().id;

        let ok = cli(&db.url, &["approve", "CLI00001", "--timezone", "Asia/Kolkata"]);
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        let device = store.find_device("CLI00001").await.unwrap().unwrap();
        assert_eq!(device.approval, Approval::Approved, "{}", db.backend);
        assert_eq!(device.timezone.as_deref(), Some("Asia/Kolkata"));
        assert_eq!(device.school_id, Some(school), "{}: the only school", db.backend);
        let filter = AuditFilter { action: Some("device.approve".into()), ..Default::default() };
        let audit = store.list_audit(&filter).await.unwrap().items;
        assert_eq!(audit[0].actor_email.as_deref(), Some("cli"), "{}: audited like the API", db.backend);
        let pending = cli(&db.url, &["list", "--status", "pending", "--json"]);
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&pending.stdout).unwrap(), serde_json::json!([]));
    }
}
