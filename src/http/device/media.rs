//! `GET /iclock/doc/{kind}/{token}/{pin}.jpg`: the photo a BIOPHOTO (or USERPIC) command names
//! by URL. The token is unguessable (128 random bits, stored hashed) and expires; it serves only
//! the photo it was issued for, and when the request names a device (`SN=`) only to the device
//! the command was queued for. Anything else (unknown, expired, another device, another file)
//! is a plain 404 that says nothing about why.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use crate::domain::media::token_hash;
use crate::http::State;
use crate::push::query::DeviceQuery;

/// Serves the photo behind a download token (see the module doc).
pub async fn serve(req: HttpRequest, path: web::Path<(String, String, String)>, ctx: web::Data<State>) -> HttpResponse {
    let (kind, token, file) = path.into_inner();
    match photo(&req, &ctx, &kind, &token, &file).await {
        Some(jpeg) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "image/jpeg"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(jpeg),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn photo(req: &HttpRequest, ctx: &State, kind: &str, token: &str, file: &str) -> Option<Vec<u8>> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let found = ctx.store.media_by_token(&token_hash(token), ctx.clock.now()).await;
    let media = found.inspect_err(|e| tracing::error!(error = %e, "photo download: storage")).ok()??;
    if media.kind != kind || file != format!("{}.jpg", media.pin) {
        return None;
    }
    if let Some(sn) = DeviceQuery::parse(req.query_string()).serial {
        let device = ctx.store.find_device(&sn).await.ok()??;
        if device.id.0 != media.device_id {
            tracing::warn!(serial = %sn, "photo download refused: the token was issued for another device");
            return None;
        }
    }
    ctx.cipher.open(&media.image_enc).inspect_err(|e| tracing::error!(error = %e, "photo download: unsealing")).ok()
}
