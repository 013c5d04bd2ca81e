//! Dashboard pages over HTTP (no browser): sessions, CSRF, scoping, and what each page shows.
//! The real-browser tests are in `tests/browser/`.

mod attendance;
mod device;
mod dialect;
mod overview;
mod pull;
mod settings;
mod setup;
mod students;

use std::collections::HashMap;

use crate::support::{self, TestApp};
use ironclock::domain::SchoolId;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

/// A cookie-keeping HTTP client that does not follow redirects (tests look at them).
pub struct Dash {
    pub base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

impl Page {
    /// The first `name="csrf"` value of the page.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form with a csrf field");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl Dash {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        Dash { base: app.base.clone(), client, cookies: HashMap::new() }
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(SET_COOKIE) {
            let s = v.to_str().unwrap_or_default();
            let pair = s.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || s.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, res: reqwest::Response) -> Page {
        self.keep(&res);
        let status = res.status().as_u16();
        let location = res.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        Page { status, body: res.text().await.unwrap_or_default(), location }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let res =
            self.client.get(format!("{}{path}", self.base)).header(COOKIE, self.cookie_header()).send().await.unwrap();
        self.finish(res).await
    }

    /// POSTs a form (urlencoded).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// POSTs a multipart form with one file field.
    pub async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, Vec<u8>)) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(file.0.to_string(), reqwest::multipart::Part::bytes(file.2).file_name(file.1.to_string()));
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// Logs in through the form; panics unless it redirects.
    pub async fn login(&mut self, email: &str, password: &str) {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        let done =
            self.post("/login", &[("email", email), ("password", password), ("csrf", &csrf), ("next", "/")]).await;
        assert_eq!(done.status, 303, "login failed: {}", done.body);
    }
}

pub use support::api::PASSWORD;

/// Two schools with an admin each and a super admin; returns the school ids.
pub async fn people(app: &TestApp) -> (SchoolId, SchoolId) {
    use ironclock::store::admin::{AdminRole, NewSchool};
    let store = &app.ctx.store;
    let school = |name: &str| NewSchool { name: name.into(), timezone: "UTC".into(), pin_start: None };
    let a = store.add_school(&school("School A")).await.unwrap().id;
    let b = store.add_school(&school("School B")).await.unwrap().id;
    for (email, role, school) in [
        ("root@example.org", AdminRole::SuperAdmin, None),
        ("a@example.org", AdminRole::SchoolAdmin, Some(a)),
        ("b@example.org", AdminRole::SchoolAdmin, Some(b)),
    ] {
        support::api::make_admin(app, email, role, school).await;
    }
    (a, b)
}
