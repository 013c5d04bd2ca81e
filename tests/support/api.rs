//! Helpers for the admin API tests: JSON requests with a bearer token, logins, and a fixture
//! of two schools with a super admin and one school admin each.

use ironclock::domain::SchoolId;
use ironclock::http::api::auth::password::hash_password;
use ironclock::store::admin::{AdminRole, NewAdminUser, NewSchool};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::TestApp;

/// Password of every fixture admin.
pub const PASSWORD: &str = "correct horse battery";

/// A reply: status and parsed body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub content_type: String,
}

impl Reply {
    /// The `error` code of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    /// Asserts the full error envelope shape and returns the code.
    pub fn assert_error_envelope(&self) -> &str {
        assert_eq!(self.body["success"], false, "{self:?}");
        assert!(self.body["message"].is_string(), "{self:?}");
        assert!(self.body.get("data").is_some(), "{self:?}");
        assert!(self.body["error"].is_string(), "{self:?}");
        self.code()
    }
}

/// Sends `method path` with an optional bearer token and JSON body.
pub async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    let mut request = app.client.request(method, format!("{}{}", app.base, path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    finish(request).await
}

/// Sends raw bytes with a content type.
pub async fn call_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let mut request =
        app.client.request(method, format!("{}{}", app.base, path)).header("content-type", content_type).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    finish(request).await
}

async fn finish(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request");
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, body, text, content_type }
}

/// Creates an admin straight in the store (fast fixture setup) and returns its id.
pub async fn make_admin(app: &TestApp, email: &str, role: AdminRole, school_id: Option<SchoolId>) -> i64 {
    let admin = NewAdminUser { email: email.into(), password_hash: hash_password(PASSWORD).unwrap(), role, school_id };
    app.ctx.store.create_admin(&admin, None).await.expect("create admin").id
}

/// Logs in and returns the access token.
pub async fn login(app: &TestApp, email: &str) -> String {
    let reply =
        call(app, Method::POST, "/api/v1/auth/login", None, Some(json!({"email": email, "password": PASSWORD}))).await;
    assert_eq!(reply.status, 200, "{}: login {email}: {reply:?}", app.backend);
    reply.body["data"]["access_token"].as_str().expect("access_token").to_string()
}

/// Two schools, a super admin and a school admin per school, all logged in.
pub struct Fixture {
    pub school_a: SchoolId,
    pub school_b: SchoolId,
    pub root: String,
    pub admin_a: String,
    pub admin_b: String,
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let store = &app.ctx.store;
    let school = |name: &str| NewSchool { name: name.into(), timezone: "Africa/Nairobi".into(), pin_start: None };
    let school_a = store.add_school(&school("School A")).await.unwrap().id;
    let school_b = store.add_school(&school("School B")).await.unwrap().id;
    make_admin(app, "root@example.org", AdminRole::SuperAdmin, None).await;
    make_admin(app, "a@example.org", AdminRole::SchoolAdmin, Some(school_a)).await;
    make_admin(app, "b@example.org", AdminRole::SchoolAdmin, Some(school_b)).await;
    Fixture {
        school_a,
        school_b,
        root: login(app, "root@example.org").await,
        admin_a: login(app, "a@example.org").await,
        admin_b: login(app, "b@example.org").await,
    }
}

/// `data[].field` of a list reply.
pub fn column(reply: &Reply, field: &str) -> Vec<Value> {
    reply.body["data"].as_array().map(|items| items.iter().map(|i| i[field].clone()).collect()).unwrap_or_default()
}
