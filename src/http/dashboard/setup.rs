//! `/setup?token=…`: the first-run page. While no admin exists, a form creates the first super
//! admin with the one-time setup token from the server log (the same function as
//! `POST /api/v1/setup`) and logs them in; afterwards the page answers 410 Gone (pointing to
//! `/login`) to every request, before reading the form.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session;
use crate::http::api::auth::caller::client_ip;
use crate::http::api::error::ApiError;
use crate::http::api::sessions::complete_setup;
use crate::http::State;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    csrf: String,
    token: String,
    email: String,
    /// An admin exists: setup is over.
    done: bool,
    /// `(field, message)`: `email`, `password`, `password2` or `token`.
    error: Option<(&'static str, String)>,
}

impl SetupPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    csrf: String,
    token: String,
    email: String,
    password: String,
    password2: String,
}

fn respond(req: &HttpRequest, status: StatusCode, mut page: SetupPage) -> HttpResponse {
    let (csrf, cookie) = super::csrf::token(req);
    page.csrf = csrf;
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(c) = cookie {
        res.cookie(c);
    }
    match page.render() {
        Ok(body) => res.body(body),
        Err(e) => {
            tracing::error!(error = %e, "setup page template");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn setup_done(ctx: &State) -> bool {
    // A storage failure shows the form; submitting it fails safely in `complete_setup`.
    ctx.api.setup_closed(&ctx.store).await.unwrap_or(false)
}

/// Setup is over: 410 with a link to the login page.
fn gone(req: &HttpRequest) -> HttpResponse {
    respond(req, StatusCode::GONE, page(String::new(), String::new(), true, None))
}

fn page(token: String, email: String, done: bool, error: Option<(&'static str, String)>) -> SetupPage {
    SetupPage { csrf: String::new(), token, email, done, error }
}

/// `GET /setup`: the form, or "already set up".
pub async fn form(req: HttpRequest, ctx: web::Data<State>, q: web::Query<TokenQuery>) -> HttpResponse {
    if setup_done(&ctx).await {
        return gone(&req);
    }
    let token = q.into_inner().token.unwrap_or_default();
    respond(&req, StatusCode::OK, page(token, String::new(), false, None))
}

/// `POST /setup`: creates the first super admin, logs them in and opens the overview.
pub async fn submit(
    req: HttpRequest,
    ctx: web::Data<State>,
    form: Result<web::Form<SetupForm>, actix_web::Error>,
) -> HttpResponse {
    if setup_done(&ctx).await {
        return gone(&req);
    }
    let Ok(form) = form else {
        return respond(&req, StatusCode::BAD_REQUEST, page(String::new(), String::new(), false, None));
    };
    let SetupForm { csrf, token, email, password, password2 } = form.into_inner();
    let again = |status, field, message: String| {
        respond(&req, status, page(token.clone(), email.clone(), false, Some((field, message))))
    };
    if !super::csrf::valid(&req, &csrf) {
        return again(StatusCode::FORBIDDEN, "token", "The form expired; please try again.".into());
    }
    if password != password2 {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "password2", "The two passwords differ.".into());
    }
    match complete_setup(&ctx, &token, &email, password, client_ip(&req)).await {
        Ok(user) => match session::start(&ctx, &req, &user) {
            Ok(cookie) => HttpResponse::SeeOther().cookie(cookie).insert_header((header::LOCATION, "/")).finish(),
            Err(e) => {
                tracing::error!(error = %e, "setup: could not start a session");
                HttpResponse::SeeOther().insert_header((header::LOCATION, "/login")).finish()
            }
        },
        Err(ApiError::Validation(fields)) => {
            let first = fields.into_iter().next();
            let field = match first.as_ref().map(|f| f.field.as_str()) {
                Some("email") => "email",
                _ => "password",
            };
            again(StatusCode::UNPROCESSABLE_ENTITY, field, first.map(|f| f.message).unwrap_or_default())
        }
        Err(ApiError::NotFound(_)) => gone(&req),
        Err(ApiError::Unauthorized(message)) => {
            // Lost the race to another setup: the admin exists now.
            if setup_done(&ctx).await {
                return gone(&req);
            }
            again(StatusCode::UNAUTHORIZED, "token", format!("{message}; use the link from the server log."))
        }
        Err(e) => {
            tracing::error!(error = %e, "setup failed");
            again(StatusCode::INTERNAL_SERVER_ERROR, "token", "The server could not complete the setup.".into())
        }
    }
}

/// Mounts `/setup`.
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/setup").route(web::get().to(form)).route(web::post().to(submit)));
}
