//! Finding 11: every dashboard and API response carries a Content-Security-Policy that forbids
//! framing, `nosniff` and a referrer policy; device replies stay exactly as firmware expects.

use base64::Engine;
use sha2::Digest;

use super::*;

fn assert_protected(res: &reqwest::Response, what: &str) {
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
    assert!(csp.contains("default-src 'self'"), "{what}: CSP {csp:?}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
}

#[tokio::test]
async fn dashboard_and_api_responses_carry_the_security_headers_and_device_replies_do_not() {
    for db in backends().await {
        let app = spawn_app(db, true).await;
        people(&app).await;
        for path in ["/login", "/", "/setup", "/static/app.js", "/api/v1/openapi.json", "/api/v1/schools", "/healthz"] {
            let res = app.get(path).await;
            assert_protected(&res, &format!("{}: GET {path} ({})", app.backend, res.status()));
        }
        let res = app.client.post(format!("{}/api/v1/auth/login", app.base)).body("{").send().await.unwrap();
        assert_protected(&res, "a refused API body");

        // The API's docs page allows exactly its own inline script by hash, and nothing else.
        let docs = app.get("/api/v1/docs").await;
        assert_protected(&docs, "GET /api/v1/docs");
        let csp = docs.headers()["content-security-policy"].to_str().unwrap().to_string();
        let html = docs.text().await.unwrap();
        let script = &html[html.find("<script>").unwrap() + 8..html.find("</script>").unwrap()];
        let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()));
        assert!(csp.contains(&format!("script-src 'self' 'sha256-{digest}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");

        let handshake = app.get("/iclock/cdata?SN=HDR0001&options=all&pushver=2.4.1").await;
        assert_eq!(handshake.status(), 200);
        for name in ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"] {
            assert!(handshake.headers().get(name).is_none(), "{}: a device reply carries {name}", app.backend);
        }
    }
}
