//! The vendored static files, compiled into the binary (no build step, no CDN).

use actix_web::{web, HttpResponse};

const CSS: &str = include_str!("../../../static/app.css");
const JS: &str = include_str!("../../../static/app.js");

pub async fn file(name: web::Path<String>) -> HttpResponse {
    let (body, kind) = match name.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return HttpResponse::NotFound().content_type("text/plain").body("not found"),
    };
    HttpResponse::Ok().content_type(kind).insert_header(("Cache-Control", "public, max-age=3600")).body(body)
}
