//! `POST /devices/{id}/path-token` from the device page: gives a push device a new secret path
//! (`/<token>/iclock/…`, issue 15 finding 2) and shows the token on the reply page, once. The
//! token is never put in a redirect, a flash message or a log; the store keeps its SHA-256.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::device::scoped_device;
use super::layout::Layout;
use super::login::CsrfForm;
use super::page::{render, PageError};
use super::session::Session;
use crate::http::device::guard::{hash_token, new_path_token};
use crate::http::State;
use crate::store::DeviceUpdate;

#[derive(Template)]
#[template(path = "device_token.html")]
pub struct TokenPage {
    pub layout: Layout,
    pub id: i64,
    pub serial: String,
    pub token: String,
}

pub async fn create(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let token = new_path_token();
    let update = DeviceUpdate { path_token_hash: Some(Some(hash_token(&token))), ..Default::default() };
    let caller = &session.caller;
    let mut audit = caller.audit("device.path_token", "device", Some(device.id.0), device.school_id);
    audit.detail = serde_json::json!({ "serial_number": device.serial_number, "via": "dashboard" });
    // The store announces the change: every instance drops its cached copy of the device.
    ctx.store.change_device(caller.scope(), device.id.0, &update, Some(&audit)).await?;
    let page = TokenPage {
        layout: Layout::new(&session, "overview", None),
        id: device.id.0,
        serial: device.serial_number.clone(),
        token,
    };
    render(&session, &page)
}
