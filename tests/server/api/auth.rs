//! Login, tokens, roles, the rate limiter, first-run setup and the JWT secret rules.

use ironclock::store::admin::AdminRole;
use reqwest::Method;
use serde_json::json;

use super::{backends, call, fixture, login, make_admin, spawn_app, PASSWORD};

#[tokio::test]
async fn login_returns_a_short_lived_bearer_token_that_opens_the_api() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        let reply = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ROOT@example.org", "password": PASSWORD})),
        )
        .await;
        assert_eq!(reply.status, 200, "{}: {reply:?}", app.backend);
        let data = &reply.body["data"];
        assert_eq!(
            (reply.body["success"].as_bool(), data["expires_in"].as_u64()),
            (Some(true), Some(900)),
            "{}",
            app.backend
        );
        assert_eq!(data["token_type"], "Bearer");
        let token = data["access_token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3, "a JWT");
        let me = call(&app, Method::GET, "/api/v1/auth/me", Some(token), None).await;
        assert_eq!(
            (me.status.as_u16(), me.body["data"]["role"].as_str()),
            (200, Some("super_admin")),
            "{}",
            app.backend
        );
        let anonymous = call(&app, Method::GET, "/api/v1/schools", None, None).await;
        assert_eq!((anonymous.status.as_u16(), anonymous.assert_error_envelope()), (401, "unauthorized"));
        let forged = call(&app, Method::GET, "/api/v1/schools", Some(&format!("{token}x")), None).await;
        assert_eq!(forged.status, 401, "{}", app.backend);
    }
}

#[tokio::test]
async fn wrong_credentials_get_the_same_answer_whether_or_not_the_account_exists() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        let attempt = |email: &'static str, password: &'static str| {
            call(&app, Method::POST, "/api/v1/auth/login", None, Some(json!({"email": email, "password": password})))
        };
        let wrong_password = attempt("root@example.org", "not the password").await;
        let unknown_user = attempt("nobody@example.org", "not the password").await;
        assert_eq!(wrong_password.status, 401, "{}", app.backend);
        assert_eq!(wrong_password.status, unknown_user.status);
        assert_eq!(wrong_password.body, unknown_user.body, "{}: identical bodies", app.backend);
        assert_eq!(wrong_password.code(), "invalid_credentials");
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_but_not_other_accounts() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        make_admin(&app, "other@example.org", AdminRole::SuperAdmin, None).await;
        for _ in 0..5 {
            let r = call(
                &app,
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": "root@example.org", "password": "wrong password"})),
            )
            .await;
            assert_eq!(r.status, 401, "{}", app.backend);
        }
        let locked = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "root@example.org", "password": PASSWORD})),
        )
        .await;
        assert_eq!((locked.status.as_u16(), locked.assert_error_envelope()), (429, "rate_limited"), "{}", app.backend);
        login(&app, "other@example.org").await;
    }
}

#[tokio::test]
async fn a_refresh_token_is_single_use_and_logout_revokes_it() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        let first = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "root@example.org", "password": PASSWORD})),
        )
        .await;
        let refresh = first.body["data"]["refresh_token"].as_str().unwrap().to_string();
        let rotated =
            call(&app, Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
        assert_eq!(rotated.status, 200, "{}: {rotated:?}", app.backend);
        let next = rotated.body["data"]["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(next, refresh);
        let access = rotated.body["data"]["access_token"].as_str().unwrap();
        assert_eq!(call(&app, Method::GET, "/api/v1/auth/me", Some(access), None).await.status, 200);

        let replay =
            call(&app, Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
        assert_eq!(replay.status, 401, "{}: a used token", app.backend);
        let after_replay =
            call(&app, Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": next}))).await;
        assert_eq!(after_replay.status, 401, "{}: reuse revoked the whole family", app.backend);

        let fresh = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "root@example.org", "password": PASSWORD})),
        )
        .await;
        let token = fresh.body["data"]["refresh_token"].as_str().unwrap().to_string();
        let out = call(&app, Method::POST, "/api/v1/auth/logout", None, Some(json!({"refresh_token": token}))).await;
        assert_eq!((out.status.as_u16(), out.body["data"]["revoked"].as_bool()), (200, Some(true)), "{}", app.backend);
        let gone = call(&app, Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": token}))).await;
        assert_eq!(gone.status, 401, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_disabled_or_demoted_admin_loses_access_at_once() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let other = make_admin(&app, "two@example.org", AdminRole::SuperAdmin, None).await;
        let token = login(&app, "two@example.org").await;
        let path = format!("/api/v1/admin-users/{other}");
        let demote = json!({"role": "school_admin", "school_id": fx.school_a});
        assert_eq!(call(&app, Method::PATCH, &path, Some(&fx.root), Some(demote)).await.status, 200, "{}", app.backend);
        let denied = call(&app, Method::GET, "/api/v1/admin-users", Some(&token), None).await;
        // A role change ends the admin's sessions: the old token is refused outright (no stale role).
        assert_eq!(denied.status, 401, "{}: the old token carries no stale role", app.backend);
        let disable = json!({"disabled": true});
        assert_eq!(call(&app, Method::PATCH, &path, Some(&fx.root), Some(disable)).await.status, 200);
        assert_eq!(call(&app, Method::GET, "/api/v1/auth/me", Some(&token), None).await.status, 401, "{}", app.backend);
        let relogin = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "two@example.org", "password": PASSWORD})),
        )
        .await;
        assert_eq!(relogin.code(), "invalid_credentials", "{}", app.backend);
    }
}

#[tokio::test]
async fn the_setup_token_creates_the_first_super_admin_exactly_once() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let token = app.ctx.api.setup_token().expect("a setup token while no admin exists").to_string();
        let body = |token: &str| json!({"token": token, "email": "first@example.org", "password": PASSWORD});
        let wrong = call(&app, Method::POST, "/api/v1/setup", None, Some(body("not-the-token"))).await;
        assert_eq!(wrong.status, 401, "{}", app.backend);
        let weak = call(
            &app,
            Method::POST,
            "/api/v1/setup",
            None,
            Some(json!({"token": token, "email": "a@b.org", "password": "short"})),
        )
        .await;
        assert_eq!(
            (weak.status.as_u16(), weak.body["fields"][0]["field"].as_str()),
            (422, Some("password")),
            "{}",
            app.backend
        );
        let created = call(&app, Method::POST, "/api/v1/setup", None, Some(body(&token))).await;
        assert_eq!(created.status, 201, "{}: {created:?}", app.backend);
        assert_eq!(created.body["data"]["role"], "super_admin");
        let again = call(&app, Method::POST, "/api/v1/setup", None, Some(body(&token))).await;
        assert_eq!(again.status, 404, "{}: setup is over", app.backend);
        login(&app, "first@example.org").await;
    }
}

#[tokio::test]
async fn a_short_jwt_secret_refuses_to_start_outside_dev_and_none_is_derived_from_the_data_key() {
    use ironclock::app::Application;
    use ironclock::config::ServeArgs;
    for db in backends().await {
        let keys = tempfile::tempdir().unwrap();
        let mut args = ServeArgs::for_tests(&db.url);
        args.data_key_file = keys.path().join("k");
        args.jwt_secret = Some("too-short".into());
        let err = Application::build(args.clone()).await.err().expect("refused");
        assert!(format!("{err:#}").contains("at least 32"), "{}: {err:#}", db.backend);
        args.dev = true;
        assert!(Application::build(args.clone()).await.is_ok(), "{}: --dev accepts it", db.backend);

        args.dev = false;
        args.jwt_secret = None;
        let app = Application::build(args.clone()).await.unwrap();
        assert!(app.context().store.get_setting("jwt_secret").await.unwrap().is_none(), "{}: not stored", db.backend);
        let again = Application::build(args).await.unwrap();
        let (first, second) = (app.context(), again.context());
        assert_eq!(
            first.api.keys.csrf_token("x"),
            second.api.keys.csrf_token("x"),
            "{}: the same data key gives the same keys",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_school_admin_cannot_reach_super_admin_routes() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        for (method, path) in [(Method::GET, "/api/v1/admin-users"), (Method::GET, "/api/v1/audit-log")] {
            let reply = call(&app, method, path, Some(&fx.admin_a), None).await;
            assert_eq!(
                (reply.status.as_u16(), reply.assert_error_envelope()),
                (403, "forbidden"),
                "{}: {path}",
                app.backend
            );
        }
        let create = json!({"name": "Sneaky", "timezone": "UTC"});
        assert_eq!(call(&app, Method::POST, "/api/v1/schools", Some(&fx.admin_a), Some(create)).await.status, 403);
    }
}

#[tokio::test]
async fn admin_create_on_the_shell_prints_the_id_of_an_admin_who_can_log_in() {
    use std::process::Command;
    for db in backends().await {
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_ironclock"))
                .args(["admin", "--database-url", &db.url, "create"])
                .args(args)
                .env("IRONCLOCK_ADMIN_PASSWORD", PASSWORD)
                .output()
                .unwrap()
        };
        let out = run(&["--email", "first@example.org", "--role", "super_admin"]);
        assert!(out.status.success(), "{}: {}", db.backend, String::from_utf8_lossy(&out.stderr));
        let id: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("prints the id");
        let school_admin = run(&["--email", "x@example.org", "--role", "school_admin"]);
        assert!(!school_admin.status.success());
        assert!(String::from_utf8_lossy(&school_admin.stderr).contains("--school"), "{}", db.backend);
        let duplicate = run(&["--email", "FIRST@example.org", "--role", "super_admin"]);
        assert!(!duplicate.status.success(), "{}: emails are unique ignoring case", db.backend);

        let app = spawn_app(db, false).await;
        assert!(app.ctx.api.setup_token().is_none(), "{}: no setup link once an admin exists", app.backend);
        login(&app, "first@example.org").await;
        assert_eq!(app.ctx.store.get_admin(id).await.unwrap().unwrap().email, "first@example.org");
    }
}
