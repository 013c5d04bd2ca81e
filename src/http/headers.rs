//! Security headers on every dashboard and API response (and `/healthz`): a Content-Security-
//! Policy that allows only the server's own scripts, styles and images and forbids framing,
//! `X-Content-Type-Options: nosniff`, a same-origin referrer policy, and `X-Frame-Options` for
//! browsers without `frame-ancestors`. Device replies (any path with an `iclock` segment) are
//! left exactly as they were: firmware parses them byte by byte and never renders HTML.
//! A header a handler already set is kept.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The dashboard loads `/static/app.js` and `/static/app.css` only (no inline script or style);
/// the attendance page's live list is an EventSource on the same origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

/// Whether `path` is a device endpoint (`/iclock/…`, also behind a path prefix).
pub fn is_device_path(path: &str) -> bool {
    path.split('/').any(|segment| segment.eq_ignore_ascii_case("iclock"))
}

/// Middleware for the whole app: adds the headers to every response but device replies.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let device = is_device_path(req.path());
    let mut res = next.call(req).await?;
    if !device {
        let headers = res.headers_mut();
        for (name, value) in HEADERS {
            let name = HeaderName::from_static(name);
            if !headers.contains_key(&name) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::is_device_path;

    #[test]
    fn device_paths_are_recognised_with_or_without_a_prefix() {
        for device in ["/iclock/cdata", "/iclock/getrequest", "/s3cr3t/iclock/cdata", "/ICLOCK/cdata"] {
            assert!(is_device_path(device), "{device}");
        }
        for other in ["/", "/login", "/api/v1/schools", "/static/app.js", "/iclocks"] {
            assert!(!is_device_path(other), "{other}");
        }
    }
}
