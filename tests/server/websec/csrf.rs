//! Finding 13: a form's CSRF token is bound to the session (an HMAC of the session's id under
//! a server key): a value the attacker plants in the CSRF cookie, another session's token or no
//! token at all is refused with 403, and the action does not happen.

use super::*;

#[tokio::test]
async fn a_planted_csrf_cookie_another_sessions_token_or_none_is_refused() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        people(&app).await;
        let mut victim = Dash::new(&app);
        victim.login("a@example.org", PASSWORD).await;
        let mut other = Dash::new(&app);
        other.login("b@example.org", PASSWORD).await;
        let others_token = other.get("/").await.csrf();

        // A cookie the attacker managed to set (a sibling subdomain, plain HTTP) and the same
        // value in the forged form: a bare double-submit check would accept it.
        let planted = "attacker-chosen-value-attacker-chosen-value";
        victim.cookies.insert("ironclock_csrf".into(), planted.into());
        for token in [planted, others_token.as_str(), ""] {
            let forged = victim.post("/logout", &[("csrf", token)]).await;
            assert_eq!(forged.status, 403, "{}: token {token:?}", app.backend);
            assert_eq!(victim.get("/").await.status, 200, "{}: still logged in", app.backend);
        }
        let own = victim.get("/").await.csrf();
        assert_eq!(victim.post("/logout", &[("csrf", &own)]).await.status, 303, "{}", app.backend);

        // The login form before any session: a planted cookie and matching field are refused too.
        let mut anonymous = Dash::new(&app);
        anonymous.get("/login").await;
        anonymous.cookies.insert("ironclock_csrf".into(), planted.into());
        let login =
            anonymous.post("/login", &[("email", "a@example.org"), ("password", PASSWORD), ("csrf", planted)]).await;
        assert_eq!(login.status, 403, "{}", app.backend);
    }
}
