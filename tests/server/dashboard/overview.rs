//! Login, sessions, CSRF and the overview.

use super::support::{backends, spawn_app};
use super::*;

#[tokio::test]
async fn pages_need_a_login_and_come_back_to_the_page_asked_for() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        people(&app).await;
        let mut dash = Dash::new(&app);
        let page = dash.get("/").await;
        assert_eq!((page.status, page.location.as_deref()), (303, Some("/login")), "{}", app.backend);
        let page = dash.get("/?flash=hello").await;
        assert_eq!(page.location.as_deref(), Some("/login?next=/%3Fflash%3Dhello"));

        let form = dash.get("/login").await;
        let csrf = form.csrf();
        let wrong =
            dash.post("/login", &[("email", "a@example.org"), ("password", "nope nope nope"), ("csrf", &csrf)]).await;
        assert_eq!(wrong.status, 401, "{}", app.backend);
        assert!(wrong.body.contains("Wrong email or password"));
        let ok = dash
            .post(
                "/login",
                &[("email", "a@example.org"), ("password", PASSWORD), ("csrf", &csrf), ("next", "/students")],
            )
            .await;
        assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/students")));
        let cookie = dash.cookies.get("ironclock_session").cloned().expect("session cookie");
        // The session cookie is not an API token.
        let api = reqwest::Client::new()
            .get(format!("{}/api/v1/auth/me", app.base))
            .bearer_auth(&cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 401, "{}", app.backend);
        // Off-site `next` values are ignored.
        let mut other = Dash::new(&app);
        let form = other.get("/login").await;
        let csrf = form.csrf();
        let ok = other
            .post(
                "/login",
                &[("email", "a@example.org"), ("password", PASSWORD), ("csrf", &csrf), ("next", "//evil.example")],
            )
            .await;
        assert_eq!(ok.location.as_deref(), Some("/"));
    }
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_logout_ends_the_session() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        people(&app).await;
        let mut dash = Dash::new(&app);
        // No CSRF cookie/field pair: even the login form is refused.
        let refused = dash.post("/login", &[("email", "a@example.org"), ("password", PASSWORD), ("csrf", "x")]).await;
        assert_eq!(refused.status, 403, "{}", app.backend);
        dash.login("a@example.org", PASSWORD).await;
        let overview = dash.get("/").await;
        assert_eq!(overview.status, 200);
        let forged = dash.post("/logout", &[("csrf", "forged-token-forged-token-forged-token")]).await;
        assert_eq!(forged.status, 403, "{}", app.backend);
        let csrf = overview.csrf();
        let out = dash.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert_eq!(dash.get("/").await.status, 303, "{}: logged out", app.backend);
    }
}

#[tokio::test]
async fn the_overview_shows_the_schools_devices_and_lets_a_super_admin_approve_a_pending_one() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        app.handshake("DASHA001").await;
        app.handshake("DASHNEW1").await;
        let device = app.device("DASHA001").await;
        let update = ironclock::store::DeviceUpdate {
            approval: Some(ironclock::domain::Approval::Approved),
            school_id: Some(Some(a)),
            ..Default::default()
        };
        app.ctx
            .store
            .change_device(ironclock::store::admin::SchoolScope::all(), device.id.0, &update, None)
            .await
            .unwrap();

        let mut school_b = Dash::new(&app);
        school_b.login("b@example.org", PASSWORD).await;
        let page = school_b.get("/").await;
        assert!(
            !page.body.contains("DASHA001") && !page.body.contains("DASHNEW1"),
            "{}: another school's devices",
            app.backend
        );

        let mut root = Dash::new(&app);
        root.login("root@example.org", PASSWORD).await;
        let page = root.get("/").await;
        assert!(page.body.contains("DASHA001") && page.body.contains("data-pending=\"DASHNEW1\""), "{}", page.body);
        let pending = app.device("DASHNEW1").await;
        let csrf = page.csrf();
        let school = a.to_string();
        let done =
            root.post(&format!("/devices/{}/approve", pending.id.0), &[("csrf", &csrf), ("school_id", &school)]).await;
        assert_eq!(done.status, 303, "{}: {}", app.backend, done.body);
        assert_eq!(app.device("DASHNEW1").await.approval, ironclock::domain::Approval::Approved);
        let page = root.get(done.location.as_deref().unwrap()).await;
        assert!(!page.body.contains("data-pending=\"DASHNEW1\""));
        assert!(page.body.contains("Device DASHNEW1 approved"), "flash message");
    }
}
