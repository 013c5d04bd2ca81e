//! The OpenAPI document lists exactly the mounted routes, and the docs page is served.

use std::collections::BTreeSet;

use ironclock::http::api::{mounted_routes, Access};
use reqwest::Method;

use super::{backends, call, method_of, spawn_app};

#[tokio::test]
async fn the_openapi_document_lists_every_mounted_route_and_nothing_else() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let reply = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
        assert_eq!(reply.status, 200, "{}", app.backend);
        assert!(reply.body["openapi"].as_str().unwrap_or("").starts_with("3."), "{}: OpenAPI 3", app.backend);
        let mut documented = BTreeSet::new();
        let mut operation_ids = BTreeSet::new();
        for (path, item) in reply.body["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(op) = item.get(method) {
                    documented.insert(format!("{} {path}", method.to_uppercase()));
                    let id = op["operationId"].as_str().expect("every operation has an id").to_string();
                    assert!(operation_ids.insert(id.clone()), "{}: duplicate operationId {id}", app.backend);
                }
            }
        }
        let mounted: BTreeSet<String> = mounted_routes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        let undocumented: Vec<_> = mounted.difference(&documented).collect();
        let unmounted: Vec<_> = documented.difference(&mounted).collect();
        assert!(undocumented.is_empty(), "{}: mounted but not documented: {undocumented:?}", app.backend);
        assert!(unmounted.is_empty(), "{}: documented but not mounted: {unmounted:?}", app.backend);
        assert!(mounted.len() >= 50, "{} routes", mounted.len());
    }
}

#[tokio::test]
async fn every_mounted_route_answers_and_protected_ones_demand_a_token() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        for route in mounted_routes() {
            let path = route.path.replace("{id}", "1");
            let reply = call(&app, method_of(&route), &path, None, None).await;
            match route.access {
                Access::Public => assert_ne!(reply.status, 404, "{}: {} {path}", app.backend, route.method),
                Access::Admin | Access::SuperAdmin => {
                    assert_eq!(reply.status, 401, "{}: {} {path}: {}", app.backend, route.method, reply.text);
                    assert_eq!(reply.assert_error_envelope(), "unauthorized");
                }
            }
        }
        let unknown = call(&app, Method::GET, "/api/v1/no-such-thing", None, None).await;
        assert_eq!((unknown.status.as_u16(), unknown.assert_error_envelope()), (404, "not_found"), "{}", app.backend);
        let wrong_method = call(&app, Method::PUT, "/api/v1/schools", None, None).await;
        assert_eq!((wrong_method.status.as_u16(), wrong_method.code()), (405, "method_not_allowed"), "{}", app.backend);
        assert_eq!(
            app.get("/iclock/ping?SN=X1").await.status(),
            200,
            "{}: the device surface still answers",
            app.backend
        );
    }
}

#[tokio::test]
async fn the_docs_page_renders_the_document_without_external_assets() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let reply = call(&app, Method::GET, "/api/v1/docs", None, None).await;
        assert_eq!(reply.status, 200, "{}", app.backend);
        assert!(reply.content_type.starts_with("text/html"), "{}", reply.content_type);
        assert!(reply.text.contains("openapi.json"), "{}: it loads the document", app.backend);
        assert!(
            !reply.text.contains("http://") && !reply.text.contains("https://"),
            "no external assets (offline sites)"
        );
    }
}
