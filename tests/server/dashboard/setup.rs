//! The first-run page: the setup token creates the first super admin once and logs them in.

use super::support::{backends, spawn_app};
use super::*;

#[tokio::test]
async fn setup_creates_the_first_admin_once_logs_them_in_and_refuses_afterwards() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let token = app.ctx.api.setup_token().expect("a setup token while no admin exists").to_string();
        let mut dash = Dash::new(&app);
        let form = dash.get(&format!("/setup?token={token}")).await;
        assert_eq!(form.status, 200, "{}", app.backend);
        assert!(form.body.contains("id=\"setup-form\"") && form.body.contains(&format!("value=\"{token}\"")));
        let csrf = form.csrf();
        let differ = [
            ("csrf", csrf.as_str()),
            ("email", "first@example.org"),
            ("password", PASSWORD),
            ("password2", "something else"),
            ("token", token.as_str()),
        ];
        let page = dash.post("/setup", &differ).await;
        assert_eq!(page.status, 422, "{}", app.backend);
        assert!(page.body.contains("id=\"password2-error\"") && page.body.contains("value=\"first@example.org\""));
        let wrong = [
            ("csrf", csrf.as_str()),
            ("email", "first@example.org"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
            ("token", "not-the-token"),
        ];
        let page = dash.post("/setup", &wrong).await;
        assert_eq!(page.status, 401, "{}", app.backend);
        assert!(page.body.contains("id=\"token-error\""));
        assert_eq!(app.ctx.store.count_admins().await.unwrap(), 0, "{}", app.backend);

        let good = [
            ("csrf", csrf.as_str()),
            ("email", "first@example.org"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
            ("token", token.as_str()),
        ];
        let done = dash.post("/setup", &good).await;
        assert_eq!((done.status, done.location.as_deref()), (303, Some("/")), "{}: {}", app.backend, done.body);
        let home = dash.get("/").await;
        assert_eq!(home.status, 200, "{}: logged in", app.backend);
        assert!(home.body.contains("first@example.org") && home.body.contains("super admin"));
        assert_eq!(app.ctx.store.count_admins().await.unwrap(), 1);

        let mut again = Dash::new(&app);
        let page = again.get(&format!("/setup?token={token}")).await;
        assert_eq!(page.status, 410, "{}", app.backend);
        assert!(page.body.contains("id=\"setup-done\"") && page.body.contains("href=\"/login\""), "{}", page.body);
        assert!(!page.body.contains("id=\"setup-form\""));
        let csrf = again.cookies["ironclock_csrf"].clone();
        let second = [
            ("csrf", csrf.as_str()),
            ("email", "second@example.org"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
            ("token", token.as_str()),
        ];
        assert_eq!(again.post("/setup", &second).await.status, 410, "{}", app.backend);
        assert_eq!(app.ctx.store.count_admins().await.unwrap(), 1, "{}", app.backend);
    }
}

#[tokio::test]
async fn setup_without_the_csrf_token_is_refused_and_creates_nobody() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let token = app.ctx.api.setup_token().unwrap().to_string();
        let mut dash = Dash::new(&app);
        let fields = [
            ("csrf", "x"),
            ("email", "first@example.org"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
            ("token", token.as_str()),
        ];
        assert_eq!(dash.post("/setup", &fields).await.status, 403, "{}", app.backend);
        assert_eq!(app.ctx.store.count_admins().await.unwrap(), 0, "{}", app.backend);
    }
}
