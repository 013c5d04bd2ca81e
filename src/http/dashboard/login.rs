//! `/login` and `/logout`: the same credentials check as the API (rate limit, audit, equal
//! answers for unknown and wrong), then a session cookie.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::page::PageError;
use super::session::{self, Session};
use crate::http::api::auth::caller::client_ip;
use crate::http::api::error::ApiError;
use crate::http::api::sessions::check_login;
use crate::http::State;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// Only local paths: `next` never sends the admin to another site. Accepted: a path starting
/// with one `/`, with no authority (`//host`), no backslash (browsers read `/\host` as
/// `//host`) and no control character or space (browsers drop TAB, CR and LF from URLs, so
/// `/\t/host` is `//host` to them). Anything else is `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n)).unwrap_or("/").to_string()
}

fn is_local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !n.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

fn login_page(req: &HttpRequest, status: u16, email: &str, next: &str, error: Option<String>) -> HttpResponse {
    let (csrf, cookie) = super::csrf::token(req);
    let page = LoginPage { csrf, next: next.to_string(), email: email.to_string(), error };
    let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    res.content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(c) = cookie {
        res.cookie(c);
    }
    res.body(page.render().unwrap_or_default())
}

pub async fn form(req: HttpRequest, query: web::Query<NextQuery>) -> HttpResponse {
    login_page(&req, 200, "", &safe_next(query.next.as_deref()), None)
}

pub async fn submit(req: HttpRequest, ctx: web::Data<State>, form: web::Form<LoginForm>) -> HttpResponse {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    if !super::csrf::valid(&req, &form.csrf) {
        return login_page(&req, 403, &form.email, &next, Some("The form expired; please try again.".into()));
    }
    match check_login(&ctx, &form.email, form.password, client_ip(&req)).await {
        Ok(user) => match session::start(&ctx, &req, &user) {
            Ok(cookie) => HttpResponse::SeeOther().cookie(cookie).insert_header((header::LOCATION, next)).finish(),
            Err(e) => {
                tracing::error!(error = %e, "could not start a dashboard session");
                login_page(&req, 500, &form.email, &next, Some("The server could not log you in.".into()))
            }
        },
        Err(ApiError::RateLimited { retry_after }) => login_page(
            &req,
            429,
            &form.email,
            &next,
            Some(format!("Too many failed attempts; try again in {retry_after} seconds.")),
        ),
        Err(ApiError::InvalidCredentials) => {
            login_page(&req, 401, &form.email, &next, Some("Wrong email or password.".into()))
        }
        Err(e) => {
            tracing::error!(error = %e, "dashboard login failed");
            login_page(&req, 500, &form.email, &next, Some("The server could not log you in.".into()))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// Ends every session of the admin (every copy of the cookie, other browsers too, the live
/// stream) by bumping the admin's session version, and deletes this browser's cookie.
pub async fn logout(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    ctx.store.end_sessions(session.caller.user.id).await?;
    Ok(HttpResponse::SeeOther().cookie(session::end(&req)).insert_header((header::LOCATION, "/login")).finish())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_keeps_local_paths_and_drops_everything_else() {
        for local in ["/", "/students?page=2", "/devices/3", "/a//b"] {
            assert_eq!(safe_next(Some(local)), local);
        }
        let hostile = [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example/x",
            "/\r\n/evil.example",
            "https://evil.example/",
            "evil.example",
            "/ /evil.example",
            "/x\\y",
            "",
        ];
        for next in hostile {
            assert_eq!(safe_next(Some(next)), "/", "{next:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
