//! Dashboard sessions: a signed session token (audience `ironclock-dashboard`, so it is not an
//! API token) in an HttpOnly, SameSite=Strict cookie, valid 8 hours and renewed while in use.
//! The token carries a random session id (the forms' CSRF tokens are bound to it) and the
//! admin's session version. The admin's row is re-read on every request: a disabled admin, or
//! one whose version moved on (logout, a password or role change), is out at once, on every
//! copy of the cookie.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, FromRequest, HttpRequest};

use super::page::PageError;
use crate::http::api::auth::caller::{caller_from_claims, client_ip};
use crate::http::api::auth::tokens::new_token;
use crate::http::api::auth::Caller;
use crate::http::State;
use crate::store::admin::AdminUser;

pub const SESSION_COOKIE: &str = "ironclock_session";
/// A session lasts this long after the last renewal.
pub const SESSION_SECS: u64 = 8 * 3600;
/// A session with less than this left is renewed by the next page.
const RENEW_BELOW_SECS: i64 = 4 * 3600;

/// The logged-in admin of a dashboard request, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    /// The session's id (from the signed cookie).
    pub sid: String,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    /// Cookies the response must set (a renewed session, a new CSRF token).
    pub cookies: Vec<Cookie<'static>>,
}

/// Cookies are `Secure` when the request came over HTTPS (directly or, when trusted, via the proxy).
pub fn secure_cookies(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// The session cookie for a new or renewed session.
pub fn session_cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookies(req))
        .max_age(time::Duration::seconds(SESSION_SECS as i64))
        .finish()
}

/// Signs a new session (a fresh session id) for `user`.
pub fn start(ctx: &State, req: &HttpRequest, user: &AdminUser) -> Result<Cookie<'static>, PageError> {
    sign(ctx, req, user, &new_token())
}

fn sign(ctx: &State, req: &HttpRequest, user: &AdminUser, sid: &str) -> Result<Cookie<'static>, PageError> {
    let (token, _) =
        ctx.api.keys.issue_session(user, sid, SESSION_SECS).map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(session_cookie(req, token))
}

/// A cookie that deletes the session.
pub fn end(req: &HttpRequest) -> Cookie<'static> {
    let mut c = session_cookie(req, String::new());
    c.make_removal();
    c
}

impl FromRequest for Session {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = req.app_data::<web::Data<State>>().cloned().ok_or(PageError::Internal("no context".into()))?;
            let login = || PageError::Login { next: req.uri().path_and_query().map(|p| p.to_string()) };
            let cookie = req.cookie(SESSION_COOKIE).ok_or_else(login)?;
            let claims = ctx.api.keys.verify_session(cookie.value()).map_err(|_| login())?;
            let sid = claims.sid.clone().filter(|s| !s.is_empty()).ok_or_else(login)?;
            let caller = caller_from_claims(&ctx, &claims, client_ip(&req)).await.map_err(|_| login())?;
            let mut cookies = Vec::new();
            if claims.exp - chrono::Utc::now().timestamp() < RENEW_BELOW_SECS {
                cookies.push(sign(&ctx, &req, &caller.user, &sid)?);
            }
            let csrf = ctx.api.keys.csrf_token(&super::csrf::session_binding(&sid));
            Ok(Session { caller, sid, csrf, cookies })
        })
    }
}

impl Session {
    /// Refuses a form whose CSRF token is not this session's (403).
    pub fn check_csrf(&self, req: &HttpRequest, submitted: &str) -> Result<(), PageError> {
        if super::csrf::valid_for_session(req, &self.sid, submitted) {
            Ok(())
        } else {
            Err(PageError::Forbidden(
                "the form expired or came from another site; reload the page and try again".into(),
            ))
        }
    }
}
