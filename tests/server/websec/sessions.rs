//! Finding 8: a dashboard session ends for good on logout, password change, role change and
//! disabling, on every copy of its cookie, and the live attendance stream ends with it.

use std::time::Duration;

use reqwest::header::COOKIE;
use reqwest::Method;
use serde_json::json;

use super::*;

async fn admin_id(app: &TestApp, email: &str) -> i64 {
    app.ctx.store.find_credentials(email).await.unwrap().expect("admin exists").user.id
}

/// A second client holding a copy of `dash`'s cookies (a stolen or second-tab session).
fn copy_of(app: &TestApp, dash: &Dash) -> Dash {
    let mut copy = Dash::new(app);
    copy.cookies = dash.cookies.clone();
    copy
}

#[tokio::test]
async fn logout_ends_every_copy_of_the_session_cookie() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        people(&app).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let mut stolen = copy_of(&app, &dash);
        assert_eq!(stolen.get("/").await.status, 200, "{}", app.backend);
        let csrf = dash.get("/").await.csrf();
        assert_eq!(dash.post("/logout", &[("csrf", &csrf)]).await.status, 303);
        let after = stolen.get("/").await;
        assert_eq!((after.status, after.location.as_deref()), (303, Some("/login")), "{}", app.backend);
    }
}

#[tokio::test]
async fn a_password_or_role_change_ends_the_admins_dashboard_sessions() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (_, school_b) = people(&app).await;
        let root = login(&app, "root@example.org").await;
        let id = admin_id(&app, "a@example.org").await;
        let changes = [json!({"password": "a brand new password"}), json!({"school_id": school_b.0})];
        for (n, change) in changes.into_iter().enumerate() {
            let mut dash = Dash::new(&app);
            let password = if n == 0 { PASSWORD } else { "a brand new password" };
            dash.login("a@example.org", password).await;
            assert_eq!(dash.get("/").await.status, 200);
            let path = format!("/api/v1/admin-users/{id}");
            let reply = call(&app, Method::PATCH, &path, Some(&root), Some(change.clone())).await;
            assert_eq!(reply.status, 200, "{}: {reply:?}", app.backend);
            assert_eq!(dash.get("/").await.status, 303, "{}: after {change}", app.backend);
        }
    }
}

#[tokio::test]
async fn the_attendance_stream_ends_soon_after_logout() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        people(&app).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let cookies = dash.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut stream = app
            .client
            .get(format!("{}/attendance/stream", app.base))
            .header(COOKIE, cookies)
            .send()
            .await
            .expect("stream");
        assert_eq!(stream.status(), 200, "{}", app.backend);
        let first = stream.chunk().await.expect("first chunk").expect("the stream opens");
        assert!(String::from_utf8_lossy(&first).contains("retry:"));
        let csrf = dash.get("/").await.csrf();
        assert_eq!(dash.post("/logout", &[("csrf", &csrf)]).await.status, 303);
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(chunk) = stream.chunk().await.expect("chunk") {
                assert!(!String::from_utf8_lossy(&chunk).contains("event: punch"));
            }
        })
        .await;
        assert!(ended.is_ok(), "{}: the stream outlived the session", app.backend);
    }
}
