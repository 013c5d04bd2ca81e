//! Rendering and errors of dashboard pages: every page is an askama template wrapped in the
//! layout; errors are pages too (a 404 page, a 403 page), and "not logged in" redirects to the
//! login form, coming back afterwards.

use crate::store::admin::AdminError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::session::Session;
use crate::http::api::error::ApiError;
use crate::store::StoreError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("log in first")]
    Login { next: Option<String> },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl From<AdminError> for PageError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound(what) => PageError::NotFound(format!("No such {what}.")),
            AdminError::Store(e) => e.into(),
            other @ (AdminError::Invalid { .. } | AdminError::Conflict { .. } | AdminError::Rows(_)) => {
                PageError::BadRequest(other.to_string())
            }
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let status = e.status_code();
        match status {
            StatusCode::NOT_FOUND => PageError::NotFound(e.to_string()),
            StatusCode::FORBIDDEN => PageError::Forbidden(e.to_string()),
            s if s.is_client_error() => PageError::BadRequest(e.to_string()),
            _ => PageError::Internal(e.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Login { .. } => StatusCode::SEE_OTHER,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::Login { next } = self {
            let target = match super::login::safe_next(next.as_deref()) {
                n if n != "/" => format!("/login?next={}", urlencode(&n)),
                _ => "/login".to_string(),
            };
            return HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
        }
        if let PageError::Internal(detail) = self {
            tracing::error!(error = %detail, "dashboard page failed");
        }
        let (title, message) = match self {
            PageError::NotFound(m) => ("Not found", m.as_str()),
            PageError::Forbidden(m) => ("Not allowed", m.as_str()),
            PageError::BadRequest(m) => ("Cannot do that", m.as_str()),
            _ => ("Something went wrong", "The server could not show this page; the error is in its log."),
        };
        let body = ErrorPage { title, message }.render().unwrap_or_else(|_| message.to_string());
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(body)
    }
}

/// Percent-encodes a path for a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Renders a page (200) with the session's cookies.
pub fn render(session: &Session, page: &impl Template) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(|e| PageError::Internal(format!("template: {e}")))?;
    let mut res = HttpResponse::Ok();
    res.content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-store"));
    for c in &session.cookies {
        res.cookie(c.clone());
    }
    Ok(res.body(body))
}

/// After a form: back to `to` (303), with a flash message in the query.
pub fn redirect(session: &Session, to: &str, flash: &str) -> HttpResponse {
    let sep = if to.contains('?') { '&' } else { '?' };
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, format!("{to}{sep}flash={}", urlencode(flash))));
    for c in &session.cookies {
        res.cookie(c.clone());
    }
    res.finish()
}
