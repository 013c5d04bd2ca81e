//! The audit log records logins, deletes and device approvals with who, when and what.

use ironclock::store::admin::AdminRole;
use reqwest::Method;
use serde_json::json;

use super::{backends, call, fixture, make_admin, spawn_app};

#[tokio::test]
async fn sensitive_actions_are_audited_with_who_when_and_what() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let failed = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "a@example.org", "password": "nope nope"})),
        )
        .await;
        assert_eq!(failed.status, 401);
        let student =
            call(&app, Method::POST, "/api/v1/students", Some(&fx.admin_a), Some(json!({"full_name": "Gone Soon"})))
                .await;
        let id = student.body["data"]["id"].as_i64().unwrap();
        call(&app, Method::DELETE, &format!("/api/v1/students/{id}"), Some(&fx.admin_a), None).await;
        app.handshake("AUDIT001").await;
        let device = app.device("AUDIT001").await.id.0;
        let approve = json!({"school_id": fx.school_b});
        assert_eq!(
            call(&app, Method::POST, &format!("/api/v1/devices/{device}/approve"), Some(&fx.root), Some(approve))
                .await
                .status,
            200
        );
        let other = make_admin(&app, "temp@example.org", AdminRole::SchoolAdmin, Some(fx.school_b)).await;
        call(&app, Method::DELETE, &format!("/api/v1/admin-users/{other}"), Some(&fx.root), None).await;

        let log = call(&app, Method::GET, "/api/v1/audit-log?per_page=100", Some(&fx.root), None).await;
        assert_eq!(log.status, 200, "{}", app.backend);
        let entries = log.body["data"].as_array().unwrap();
        let find = |action: &str| {
            entries
                .iter()
                .find(|e| e["action"] == action)
                .unwrap_or_else(|| panic!("{}: no {action} in {entries:?}", app.backend))
        };
        let root_login = entries.iter().any(|e| e["action"] == "auth.login" && e["actor_email"] == "root@example.org");
        assert!(root_login, "{}: {entries:?}", app.backend);
        let fail = find("auth.login_failed");
        assert_eq!((fail["actor_email"].as_str(), fail["ip"].as_str()), (Some("a@example.org"), Some("127.0.0.1")));
        let delete = find("student.delete");
        assert_eq!((delete["actor_email"].as_str(), delete["target_id"].as_i64()), (Some("a@example.org"), Some(id)));
        assert_eq!(delete["detail"]["full_name"], "Gone Soon");
        assert!(delete["at"].is_string());
        assert_eq!(find("device.approve")["school_id"].as_i64(), Some(fx.school_b.0));
        assert_eq!(find("admin.delete")["target_id"].as_i64(), Some(other));

        let only = call(&app, Method::GET, "/api/v1/audit-log?action=student.delete", Some(&fx.root), None).await;
        assert_eq!(only.body["meta"]["total"], 1, "{}", app.backend);
    }
}
