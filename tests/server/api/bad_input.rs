//! Bad input of every kind gets a 4xx with the envelope and the offending field: malformed
//! JSON, wrong types, unknown fields, oversized bodies, wrong content types, bad ids. Never a
//! 500, never a partial write (property test over arbitrary JSON values and bytes).

use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use super::{backends, call, call_raw, fixture, spawn_app, Reply};

fn field(reply: &Reply) -> &str {
    reply.body["fields"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn malformed_bodies_wrong_types_and_unknown_fields_name_the_field() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let token = Some(fx.admin_a.as_str());
        let raw = |body: &'static str| {
            call_raw(&app, Method::POST, "/api/v1/students", token, "application/json", body.into())
        };
        for (body, expected_field) in [
            ("{\"full_name\": ", "body"),
            ("", "body"),
            ("[1, 2]", "body"),
            ("{\"full_name\": 5}", "full_name"),
            ("{\"full_name\": \"A\", \"is_active\": \"yes\"}", "is_active"),
            ("{\"full_name\": \"A\", \"class_id\": \"x\"}", "class_id"),
            ("{\"full_name\": \"A\", \"fullname\": \"B\"}", "fullname"),
            ("{\"full_name\": \"A\"} trailing", "body"),
            ("{}", "full_name"),
        ] {
            let reply = raw(body).await;
            assert_eq!(
                (reply.status.as_u16(), reply.assert_error_envelope()),
                (400, "bad_json"),
                "{}: {body}",
                app.backend
            );
            assert_eq!(field(&reply), expected_field, "{}: {body}: {reply:?}", app.backend);
            assert!(reply.body["message"].as_str().unwrap().starts_with(expected_field), "{reply:?}");
        }
        let listed = call(&app, Method::GET, "/api/v1/students", token, None).await;
        assert_eq!(listed.body["meta"]["total"], 0, "{}: nothing written", app.backend);
    }
}

#[tokio::test]
async fn oversized_bodies_wrong_content_types_and_bad_ids_are_4xx() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let token = Some(fx.admin_a.as_str());
        let big = json!({"full_name": "x".repeat(70 * 1024)});
        let too_big = call(&app, Method::POST, "/api/v1/students", token, Some(big)).await;
        assert_eq!(
            (too_big.status.as_u16(), too_big.assert_error_envelope()),
            (413, "payload_too_large"),
            "{}",
            app.backend
        );
        let form = call_raw(
            &app,
            Method::POST,
            "/api/v1/students",
            token,
            "application/x-www-form-urlencoded",
            b"full_name=x".to_vec(),
        )
        .await;
        assert_eq!((form.status.as_u16(), form.code()), (415, "unsupported_media_type"), "{}", app.backend);
        for id in ["abc", "-1", "0", "1.5", "99999999999999999999", "%20"] {
            let reply = call(&app, Method::GET, &format!("/api/v1/students/{id}"), token, None).await;
            assert_eq!(
                (reply.status.as_u16(), reply.assert_error_envelope()),
                (400, "invalid_parameter"),
                "{}: {id}",
                app.backend
            );
            assert_eq!(field(&reply), "id", "{}: {id}", app.backend);
        }
        let missing = call(&app, Method::GET, "/api/v1/students/424242", token, None).await;
        assert_eq!((missing.status.as_u16(), missing.code()), (404, "not_found"), "{}", app.backend);
        for query in ["page=0", "per_page=10000", "is_active=maybe", "school_idd=1", "class_id="] {
            let reply = call(&app, Method::GET, &format!("/api/v1/students?{query}"), token, None).await;
            assert_eq!(
                (reply.status.as_u16(), reply.code()),
                (400, "invalid_parameter"),
                "{}: {query}: {reply:?}",
                app.backend
            );
            assert!(!field(&reply).is_empty(), "{query}");
        }
        let unknown_patch =
            call(&app, Method::PATCH, &format!("/api/v1/schools/{}", fx.school_a), token, Some(json!({"nmae": "x"})))
                .await;
        assert_eq!((unknown_patch.status.as_u16(), field(&unknown_patch)), (400, "nmae"), "{}", app.backend);
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!("1000")),
        Just(json!("")),
    ];
    let keys = prop_oneof![
        Just("full_name".to_string()),
        Just("pin".to_string()),
        Just("rfid_card_id".to_string()),
        Just("class_id".to_string()),
        Just("section_id".to_string()),
        Just("is_active".to_string()),
        Just("school_id".to_string()),
        Just("name".to_string()),
        Just("timezone".to_string()),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Input {
    Json(Value),
    Bytes(Vec<u8>),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        arbitrary_json().prop_map(Input::Json),
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(Input::Bytes),
    ]
}

/// Bodies sent to every JSON write route: whatever arrives, the answer is a 2xx or a 4xx
/// with the envelope, and a rejected request leaves the data exactly as it was.
#[test]
fn arbitrary_json_values_and_bytes_never_produce_a_500_or_a_partial_write() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for db in runtime.block_on(backends()) {
        let (app, fx) = runtime.block_on(async {
            let app = spawn_app(db, false).await;
            let fx = fixture(&app).await;
            (app, fx)
        });
        let routes = [
            (Method::POST, "/api/v1/students".to_string()),
            (Method::POST, "/api/v1/areas".to_string()),
            (Method::POST, "/api/v1/sections".to_string()),
            (Method::PATCH, format!("/api/v1/schools/{}", fx.school_a)),
            (Method::POST, "/api/v1/auth/login".to_string()),
            (Method::POST, "/api/v1/devices".to_string()),
        ];
        let config = ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() };
        proptest!(config, |(inputs in proptest::collection::vec(input(), 6))| {
            runtime.block_on(async {
                for ((method, path), input) in routes.iter().zip(&inputs) {
                    let before = state(&app, &fx.root).await;
                    let reply = match input {
                        Input::Json(v) => call(&app, method.clone(), path, Some(&fx.admin_a), Some(v.clone())).await,
                        Input::Bytes(b) => {
                            call_raw(&app, method.clone(), path, Some(&fx.admin_a), "application/json", b.clone()).await
                        }
                    };
                    let what = format!("{}: {method} {path} {input:?} -> {} {}", app.backend, reply.status, reply.text);
                    assert!(reply.status.as_u16() < 500, "{what}");
                    if !reply.status.is_success() {
                        assert!(reply.status.is_client_error(), "{what}");
                        assert_eq!(reply.body["success"], false, "{what}");
                        assert!(reply.body["error"].is_string(), "{what}");
                        assert_eq!(state(&app, &fx.root).await, before, "{what}: a rejected request wrote something");
                    }
                }
            });
        });
    }
}

async fn state(app: &super::TestApp, root: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/students?per_page=500",
        "/api/v1/areas?per_page=500",
        "/api/v1/sections?per_page=500",
        "/api/v1/schools",
        "/api/v1/devices",
    ] {
        out.push(call(app, Method::GET, path, Some(root), None).await.body["data"].clone());
    }
    out
}
