//! CSRF protection for every dashboard form: the hidden `csrf` field must carry the HMAC (under
//! a server key, [`AuthKeys::csrf_token`]) of what the form is bound to. A logged-in page's
//! forms are bound to the session's id (inside the signed session cookie); the login and setup
//! forms, before any session, to a random nonce in the `ironclock_csrf` cookie. Knowing or even
//! setting a cookie is not enough to forge a token: the key never leaves the server.
//! (SameSite=Strict already keeps other sites' forms from carrying the session; the token makes
//! that independent of browser defaults.)
//!
//! [`AuthKeys::csrf_token`]: crate::http::api::auth::AuthKeys::csrf_token

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, HttpRequest};

use crate::http::api::auth::tokens::new_token;
use crate::http::State;

/// The cookie holding the pre-login nonce.
pub const CSRF_COOKIE: &str = "ironclock_csrf";

/// What a logged-in session's forms are bound to.
pub fn session_binding(sid: &str) -> String {
    format!("session:{sid}")
}

fn nonce_binding(nonce: &str) -> String {
    format!("pre-login:{nonce}")
}

fn nonce(req: &HttpRequest) -> Option<String> {
    req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() >= 32)
}

/// The token for a form shown before login, and the nonce cookie to set when the request had none.
pub fn token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    let Some(ctx) = req.app_data::<web::Data<State>>() else { return (String::new(), None) };
    if let Some(nonce) = nonce(req) {
        return (ctx.api.keys.csrf_token(&nonce_binding(&nonce)), None);
    }
    let nonce = new_token();
    let cookie = Cookie::build(CSRF_COOKIE, nonce.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(super::session::secure_cookies(req))
        .finish();
    (ctx.api.keys.csrf_token(&nonce_binding(&nonce)), Some(cookie))
}

/// Whether a form submitted before login carries the token of the request's nonce.
pub fn valid(req: &HttpRequest, submitted: &str) -> bool {
    let (Some(ctx), Some(nonce)) = (req.app_data::<web::Data<State>>(), nonce(req)) else { return false };
    ctx.api.keys.csrf_valid(&nonce_binding(&nonce), submitted)
}

/// Whether a logged-in form carries the token of session `sid`.
pub fn valid_for_session(req: &HttpRequest, sid: &str, submitted: &str) -> bool {
    let Some(ctx) = req.app_data::<web::Data<State>>() else { return false };
    ctx.api.keys.csrf_valid(&session_binding(sid), submitted)
}
