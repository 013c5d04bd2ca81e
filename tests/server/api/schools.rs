//! Schools, areas, classes and sections: create, list with paging/filter/sort, update, delete.

use reqwest::Method;
use serde_json::json;

use super::{backends, call, column, fixture, spawn_app};

#[tokio::test]
async fn a_super_admin_creates_lists_pages_sorts_and_renames_schools() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let created = call(
            &app,
            Method::POST,
            "/api/v1/schools",
            Some(&fx.root),
            Some(json!({"name": "  Zebra Academy ", "timezone": "Asia/Kolkata"})),
        )
        .await;
        assert_eq!(created.status, 201, "{}: {created:?}", app.backend);
        let id = created.body["data"]["id"].as_i64().unwrap();
        assert_eq!(
            (created.body["data"]["name"].as_str(), created.body["data"]["pin_start"].as_i64()),
            (Some("Zebra Academy"), Some(1000))
        );

        let sorted = call(&app, Method::GET, "/api/v1/schools?sort=-name&per_page=2", Some(&fx.root), None).await;
        assert_eq!(column(&sorted, "name"), vec![json!("Zebra Academy"), json!("School B")], "{}", app.backend);
        assert_eq!(
            (sorted.body["meta"]["total"].as_i64(), sorted.body["meta"]["per_page"].as_i64()),
            (Some(3), Some(2))
        );
        let second =
            call(&app, Method::GET, "/api/v1/schools?sort=-name&per_page=2&page=2", Some(&fx.root), None).await;
        assert_eq!(column(&second, "name"), vec![json!("School A")], "{}", app.backend);
        let filtered = call(&app, Method::GET, "/api/v1/schools?name=zebra", Some(&fx.root), None).await;
        assert_eq!(column(&filtered, "id"), vec![json!(id)], "{}", app.backend);

        let bad_zone = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/schools/{id}"),
            Some(&fx.root),
            Some(json!({"timezone": "Mars/Olympus"})),
        )
        .await;
        assert_eq!(
            (bad_zone.status.as_u16(), bad_zone.body["fields"][0]["field"].as_str()),
            (422, Some("timezone")),
            "{}",
            app.backend
        );
        let renamed =
            call(&app, Method::PATCH, &format!("/api/v1/schools/{id}"), Some(&fx.root), Some(json!({"name": "Zebra"})))
                .await;
        assert_eq!((renamed.status.as_u16(), renamed.body["data"]["timezone"].as_str()), (200, Some("Asia/Kolkata")));

        let own = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/schools/{}", fx.school_a),
            Some(&fx.admin_a),
            Some(json!({"pin_start": 5000})),
        )
        .await;
        assert_eq!(
            (own.status.as_u16(), own.body["data"]["next_pin"].as_i64()),
            (200, Some(5000)),
            "{}: a school admin edits their school",
            app.backend
        );

        app.handshake("ZEBRA001").await;
        let device = app.device("ZEBRA001").await.id.0;
        let approve = json!({"school_id": id});
        assert_eq!(
            call(&app, Method::POST, &format!("/api/v1/devices/{device}/approve"), Some(&fx.root), Some(approve))
                .await
                .status,
            200
        );
        let deleted = call(&app, Method::DELETE, &format!("/api/v1/schools/{id}"), Some(&fx.root), None).await;
        assert_eq!(deleted.status, 200, "{}", app.backend);
        let orphan = call(&app, Method::GET, &format!("/api/v1/devices/{device}"), Some(&fx.root), None).await;
        assert_eq!(
            (orphan.body["data"]["status"].as_str(), orphan.body["data"]["school_id"].is_null()),
            (Some("pending"), true)
        );
        assert_eq!(
            app.post("/iclock/cdata?SN=ZEBRA001&table=ATTLOG&Stamp=1", "1\t2026-03-02 08:00:00\t0\t1\n").await.status(),
            403
        );
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/schools/{id}"), Some(&fx.root), None).await.status, 404);
    }
}

#[tokio::test]
async fn areas_classes_and_sections_are_managed_within_the_school() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let token = Some(fx.admin_a.as_str());
        let area = call(&app, Method::POST, "/api/v1/areas", token, Some(json!({"name": "Main gate"}))).await;
        assert_eq!(
            (area.status.as_u16(), area.body["data"]["school_id"].as_i64()),
            (201, Some(fx.school_a.0)),
            "{}",
            app.backend
        );
        let dup = call(&app, Method::POST, "/api/v1/areas", token, Some(json!({"name": "Main gate"}))).await;
        assert_eq!((dup.status.as_u16(), dup.assert_error_envelope()), (409, "conflict"), "{}", app.backend);

        let class = call(&app, Method::POST, "/api/v1/classes", token, Some(json!({"name": "Grade 5"}))).await;
        let class_id = class.body["data"]["id"].as_i64().unwrap();
        let section =
            call(&app, Method::POST, "/api/v1/sections", token, Some(json!({"name": "5A", "class_id": class_id})))
                .await;
        assert_eq!(
            (section.status.as_u16(), section.body["data"]["class_id"].as_i64()),
            (201, Some(class_id)),
            "{}",
            app.backend
        );
        let section_id = section.body["data"]["id"].as_i64().unwrap();
        let in_class = call(&app, Method::GET, &format!("/api/v1/sections?class_id={class_id}"), token, None).await;
        assert_eq!(column(&in_class, "id"), vec![json!(section_id)], "{}", app.backend);
        let area_with_class =
            call(&app, Method::POST, "/api/v1/areas", token, Some(json!({"name": "x", "class_id": class_id}))).await;
        assert_eq!(area_with_class.status, 422, "{}: only sections have a class", app.backend);

        let detached = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/sections/{section_id}"),
            token,
            Some(json!({"class_id": null})),
        )
        .await;
        assert_eq!(
            (detached.status.as_u16(), detached.body["data"]["class_id"].is_null()),
            (200, true),
            "{}",
            app.backend
        );
        let super_without_school =
            call(&app, Method::POST, "/api/v1/classes", Some(&fx.root), Some(json!({"name": "Grade 6"}))).await;
        assert_eq!(super_without_school.body["fields"][0]["field"], "school_id", "{}", app.backend);

        let removed = call(&app, Method::DELETE, &format!("/api/v1/classes/{class_id}"), token, None).await;
        assert_eq!(removed.status, 200, "{}", app.backend);
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/classes/{class_id}"), token, None).await.status, 404);
    }
}
