//! Students: PINs (automatic, explicit, stable, never reused), cards unique per school, soft
//! delete, filters and paging.

use reqwest::Method;
use serde_json::json;

use super::{backends, call, column, fixture, spawn_app};

#[tokio::test]
async fn students_get_the_next_free_pin_and_keep_it_for_life() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let token = Some(fx.admin_a.as_str());
        let add = |body| call(&app, Method::POST, "/api/v1/students", token, Some(body));
        let first = add(json!({"full_name": "Amina W.", "rfid_card_id": "0012345"})).await;
        assert_eq!(first.status, 201, "{}: {first:?}", app.backend);
        assert_eq!(
            (first.body["data"]["pin"].as_str(), first.body["data"]["is_active"].as_bool()),
            (Some("1000"), Some(true))
        );
        let explicit = add(json!({"full_name": "Brian K.", "pin": "1001"})).await;
        assert_eq!(explicit.body["data"]["pin"], "1001", "{}", app.backend);
        let third = add(json!({"full_name": "Chloe N."})).await;
        assert_eq!(third.body["data"]["pin"], "1002", "{}", app.backend);

        let id = third.body["data"]["id"].as_i64().unwrap();
        let change_pin =
            call(&app, Method::PATCH, &format!("/api/v1/students/{id}"), token, Some(json!({"pin": "9"}))).await;
        assert_eq!((change_pin.status.as_u16(), change_pin.body["fields"][0]["field"].as_str()), (422, Some("pin")));
        let deleted = call(&app, Method::DELETE, &format!("/api/v1/students/{id}"), token, None).await;
        assert_eq!(deleted.status, 200, "{}", app.backend);
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/students/{id}"), token, None).await.status, 404);
        let reuse = add(json!({"full_name": "Dan", "pin": "1002"})).await;
        assert_eq!(
            (reuse.status.as_u16(), reuse.code()),
            (409, "conflict"),
            "{}: a deleted student's PIN stays reserved",
            app.backend
        );
        let next = add(json!({"full_name": "Dan"})).await;
        assert_eq!(next.body["data"]["pin"], "1003", "{}", app.backend);

        let same_card = add(json!({"full_name": "Eve", "rfid_card_id": "0012345"})).await;
        assert_eq!(same_card.status, 409, "{}", app.backend);
        let message = same_card.body["message"].as_str().unwrap();
        assert!(message.contains("Amina W.") && message.contains(&first.body["data"]["id"].to_string()), "{message}");
        for bad in [
            json!({"full_name": "X", "pin": "0123"}),
            json!({"full_name": "X", "pin": "1234567890"}),
            json!({"full_name": " "}),
        ] {
            let reply = add(bad.clone()).await;
            assert_eq!((reply.status.as_u16(), reply.code()), (422, "validation_failed"), "{}: {bad}", app.backend);
        }
    }
}

#[tokio::test]
async fn students_are_listed_with_filters_sorting_and_paging() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let token = Some(fx.admin_a.as_str());
        let class = call(&app, Method::POST, "/api/v1/classes", token, Some(json!({"name": "Grade 5"}))).await;
        let class_id = class.body["data"]["id"].as_i64().unwrap();
        for (name, in_class, active) in [("Cora", true, true), ("abel", true, false), ("Bea", false, true)] {
            let body = json!({"full_name": name, "class_id": in_class.then_some(class_id), "is_active": active});
            assert_eq!(call(&app, Method::POST, "/api/v1/students", token, Some(body)).await.status, 201);
        }
        let by_name = call(&app, Method::GET, "/api/v1/students?sort=full_name", token, None).await;
        assert_eq!(column(&by_name, "full_name"), vec![json!("abel"), json!("Bea"), json!("Cora")], "{}", app.backend);
        let in_class =
            call(&app, Method::GET, &format!("/api/v1/students?class_id={class_id}&is_active=true"), token, None).await;
        assert_eq!(column(&in_class, "full_name"), vec![json!("Cora")], "{}", app.backend);
        let page = call(&app, Method::GET, "/api/v1/students?sort=-pin&per_page=1&page=2", token, None).await;
        assert_eq!(
            (column(&page, "pin"), page.body["meta"]["total"].as_i64()),
            (vec![json!("1001")], Some(3)),
            "{}",
            app.backend
        );
        let search = call(&app, Method::GET, "/api/v1/students?name=OR", token, None).await;
        assert_eq!(column(&search, "full_name"), vec![json!("Cora")], "{}", app.backend);
        let wildcard = call(&app, Method::GET, "/api/v1/students?name=%25", token, None).await;
        assert_eq!(wildcard.body["meta"]["total"], 0, "{}: % is a literal, not a wildcard", app.backend);
        let bad_sort = call(&app, Method::GET, "/api/v1/students?sort=password", token, None).await;
        assert_eq!((bad_sort.status.as_u16(), bad_sort.body["fields"][0]["field"].as_str()), (400, Some("sort")));
    }
}
