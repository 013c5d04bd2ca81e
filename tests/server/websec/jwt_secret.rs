//! Finding 10: a database dump holds no key that signs admin tokens. The generated secret is
//! derived from the data key (which never enters the database); an installation whose database
//! still holds the old `settings.jwt_secret` loses that row on the next start.

use base64::Engine;
use ironclock::store::admin::AdminRole;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use super::*;
use crate::support::TestDb;

/// An access token for admin `id` signed with `key`, as someone holding a dump would make it.
fn forge(key: &[u8], id: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": id.to_string(), "iss": "ironclock", "aud": "ironclock-admin-api", "iat": now,
        "exp": now + 600, "role": "super_admin", "school_id": null});
    encode(&Header::default(), &claims, &EncodingKey::from_secret(key)).unwrap()
}

fn fixed_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

async fn spawn_with_key(db: TestDb) -> TestApp {
    spawn_app_with(db, |args| args.data_key = Some(fixed_key())).await
}

#[tokio::test]
async fn no_value_in_a_database_dump_signs_an_admin_token() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let id = make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
        login(&app, "root@example.org").await;
        let settings = app.query_rows::<(String, String)>("select key, value from settings").await;
        assert!(!settings.iter().any(|(k, _)| k == "jwt_secret"), "{}: {settings:?}", app.backend);
        for (key, value) in &settings {
            let me = call(&app, Method::GET, "/api/v1/auth/me", Some(&forge(value.as_bytes(), id)), None).await;
            assert_eq!(me.status, 401, "{}: the setting {key} signs admin tokens", app.backend);
        }
    }
}

#[tokio::test]
async fn an_old_stored_secret_is_removed_on_start_and_refresh_tokens_survive_the_move() {
    for db in backends().await {
        let first = spawn_with_key(db.shared()).await;
        let id = make_admin(&first, "root@example.org", AdminRole::SuperAdmin, None).await;
        let pair = call(
            &first,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "root@example.org", "password": PASSWORD})),
        )
        .await;
        let refresh = pair.body["data"]["refresh_token"].as_str().unwrap().to_string();
        let access = pair.body["data"]["access_token"].as_str().unwrap().to_string();
        // What an older version left in the database.
        let old_secret = "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQtb2xkLXNlY3JldA==";
        first.exec_sql("delete from settings where key = 'jwt_secret'").await;
        first.exec_sql(&format!("insert into settings (key, value) values ('jwt_secret', '{old_secret}')")).await;
        first.handle.stop(true).await;

        let second = spawn_with_key(db).await;
        let settings = second.query_rows::<(String, String)>("select key, value from settings").await;
        assert!(!settings.iter().any(|(k, _)| k == "jwt_secret"), "{}: {settings:?}", second.backend);
        let forged = call(&second, Method::GET, "/api/v1/auth/me", Some(&forge(old_secret.as_bytes(), id)), None).await;
        assert_eq!(forged.status, 401, "{}", second.backend);
        let me = call(&second, Method::GET, "/api/v1/auth/me", Some(&access), None).await;
        assert_eq!(me.status, 200, "{}: the same data key gives the same secret", second.backend);
        let renewed =
            call(&second, Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
        assert_eq!(renewed.status, 200, "{}: {renewed:?}", second.backend);
    }
}
