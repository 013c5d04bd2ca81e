//! CSRF protection for every dashboard form: a random token in an HttpOnly, SameSite=Strict
//! cookie, repeated in a hidden `csrf` field; a POST whose field does not match is refused.
//! (SameSite=Strict already keeps other sites' forms from carrying the session; the token makes
//! that independent of browser defaults.)

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use base64::Engine;
use rand::RngCore;

pub const CSRF_COOKIE: &str = "ironclock_csrf";

/// The request's CSRF token, or a new one (with the cookie to set) when it has none.
pub fn token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(CSRF_COOKIE).filter(|c| c.value().len() >= 32) {
        return (c.value().to_string(), None);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let cookie = Cookie::build(CSRF_COOKIE, value.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(super::session::secure_cookies(req))
        .finish();
    (value, Some(cookie))
}

/// Whether a submitted form's token matches the cookie (constant time).
pub fn valid(req: &HttpRequest, submitted: &str) -> bool {
    let Some(cookie) = req.cookie(CSRF_COOKIE) else { return false };
    let (a, b) = (cookie.value().as_bytes(), submitted.as_bytes());
    a.len() >= 32 && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
