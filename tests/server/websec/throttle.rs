//! Finding 5: login throttling holds under concurrency and cannot be dodged with a forged
//! `X-Forwarded-For`; the client address follows one rule (`--trust-forwarded-for` and
//! `--trusted-proxies`) everywhere.

use futures::future::join_all;
use ironclock::store::admin::AdminRole;
use reqwest::Method;
use serde_json::json;

use super::*;

async fn wrong_login(app: &TestApp, email: &str, forwarded_for: Option<&str>) -> u16 {
    let mut request = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .body(json!({"email": email, "password": "not the password"}).to_string());
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.expect("login request").status().as_u16()
}

#[tokio::test]
async fn thirty_parallel_wrong_passwords_get_at_most_the_limit_of_401s_and_the_rest_429() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        let statuses = join_all((0..30).map(|_| wrong_login(&app, "root@example.org", None))).await;
        let unauthorized = statuses.iter().filter(|s| **s == 401).count();
        let limited = statuses.iter().filter(|s| **s == 429).count();
        assert!(unauthorized <= 5, "{}: {unauthorized} wrong passwords were checked: {statuses:?}", app.backend);
        assert_eq!(unauthorized + limited, 30, "{}: {statuses:?}", app.backend);
    }
}

#[tokio::test]
async fn a_forged_x_forwarded_for_does_not_escape_the_per_address_limit() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        // A different account each time (no account lockout) and a new forged address each time.
        let mut statuses = Vec::new();
        for i in 0..25 {
            statuses.push(wrong_login(&app, &format!("user{i}@example.org"), Some(&format!("203.0.113.{i}"))).await);
        }
        assert_eq!(&statuses[..20], &[401; 20], "{}", app.backend);
        assert!(statuses[20..].iter().all(|s| *s == 429), "{}: the header is not trusted: {statuses:?}", app.backend);
    }
}

#[tokio::test]
async fn x_forwarded_for_counts_only_when_the_flag_is_on_and_the_peer_is_a_named_proxy() {
    for db in backends().await {
        // Loopback is a trusted proxy by default: each forwarded address has its own budget.
        let app = spawn_app_with(db, |args| args.trust_forwarded_for = true).await;
        for i in 0..20 {
            assert_eq!(wrong_login(&app, &format!("u{i}@example.org"), Some("198.51.100.7")).await, 401);
        }
        assert_eq!(wrong_login(&app, "next@example.org", Some("198.51.100.7")).await, 429, "{}", app.backend);
        assert_eq!(
            wrong_login(&app, "next@example.org", Some("198.51.100.8")).await,
            401,
            "{}: another client behind the proxy",
            app.backend
        );
        // A spoofed left-most entry is not the client: the proxy's own (right-most) entry is.
        assert_eq!(wrong_login(&app, "n2@example.org", Some("10.9.9.9, 198.51.100.7")).await, 429, "{}", app.backend);
    }
    for db in backends().await {
        // The flag is on but the peer (loopback) is not among the named proxies.
        let app = spawn_app_with(db, |args| {
            args.trust_forwarded_for = true;
            args.trusted_proxies = "192.0.2.10/32".into();
        })
        .await;
        for i in 0..20 {
            wrong_login(&app, &format!("u{i}@example.org"), Some(&format!("198.51.100.{i}"))).await;
        }
        assert_eq!(wrong_login(&app, "x@example.org", Some("198.51.100.99")).await, 429, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_stranger_locks_an_account_only_briefly_and_the_lock_does_not_grow_without_bound() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        for _ in 0..5 {
            wrong_login(&app, "root@example.org", None).await;
        }
        let locked = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "root@example.org", "password": PASSWORD})),
        )
        .await;
        assert_eq!(locked.status, 429, "{}", app.backend);
        let retry_after: u64 = locked.body["message"]
            .as_str()
            .and_then(|m| m.split_whitespace().find_map(|w| w.parse().ok()))
            .expect("seconds in the message");
        assert!(retry_after <= 120, "{}: an account is locked for {retry_after} s", app.backend);
    }
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_limits() {
    for db in backends().await {
        // Instances of one deployment share the data key (docs/security.md), hence the key the
        // throttle's rows are stored under.
        let twin = db.shared();
        let key = || base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32]);
        let a = spawn_app_with(db, |args| args.data_key = Some(key())).await;
        let b = spawn_app_with(twin, |args| args.data_key = Some(key())).await;
        make_admin(&a, "root@example.org", AdminRole::SuperAdmin, None).await;
        // Parallel guesses spread over both instances get the limit of checks in total, not each.
        let guesses = (0..30).map(|i| wrong_login(if i % 2 == 0 { &a } else { &b }, "root@example.org", None));
        let statuses = join_all(guesses).await;
        let unauthorized = statuses.iter().filter(|s| **s == 401).count();
        assert!(unauthorized <= 5, "{}: {unauthorized} checks across two instances: {statuses:?}", a.backend);
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30 - unauthorized, "{}: {statuses:?}", a.backend);
        // The address's budget is shared too: the checks counted so far plus other accounts tried
        // through A and B up to 20, then 429 on both.
        for i in 0..20 - unauthorized {
            let status = wrong_login(if i % 2 == 0 { &a } else { &b }, &format!("u{i}@example.org"), None).await;
            assert_eq!(status, 401, "{}: attempt {i} of the address's 20", a.backend);
        }
        assert_eq!(wrong_login(&a, "fresh@example.org", None).await, 429, "{}", a.backend);
        assert_eq!(wrong_login(&b, "fresh2@example.org", None).await, 429, "{}", a.backend);
        let stored: Vec<(String,)> = a.query_rows("select key from login_counts").await;
        assert!(stored.iter().all(|(k,)| !k.contains('@') && k.len() == 64), "{}: no email in clear", a.backend);
    }
}
