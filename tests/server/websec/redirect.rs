//! Finding 7: the login form's `next` never sends the admin to another site.

use super::*;

#[tokio::test]
async fn next_after_login_accepts_only_a_local_path() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        people(&app).await;
        let hostile =
            ["/\t/evil.example/x", "//evil.example", "/\\evil.example", "https://evil.example/", "/\r\n/evil.example"];
        for next in hostile {
            let mut dash = Dash::new(&app);
            let csrf = dash.get("/login").await.csrf();
            let done = dash
                .post("/login", &[("email", "a@example.org"), ("password", PASSWORD), ("csrf", &csrf), ("next", next)])
                .await;
            assert_eq!((done.status, done.location.as_deref()), (303, Some("/")), "{}: next={next:?}", app.backend);
        }
        // The form page does not carry a hostile `next` either.
        let mut dash = Dash::new(&app);
        let form = dash.get("/login?next=/%09/evil.example/x").await;
        assert!(!form.body.contains("evil.example"), "{}", form.body);
        // A local path with its query survives.
        let csrf = form.csrf();
        let done = dash
            .post(
                "/login",
                &[("email", "a@example.org"), ("password", PASSWORD), ("csrf", &csrf), ("next", "/students?page=2")],
            )
            .await;
        assert_eq!(done.location.as_deref(), Some("/students?page=2"), "{}", app.backend);
    }
}
