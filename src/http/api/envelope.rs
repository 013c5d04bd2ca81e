//! The response envelope every JSON reply uses: `{"success", "message", "data"}` (plus `meta`
//! on lists, `error` and `fields` on errors), because existing school front-ends read that shape.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::admin::{Page, Paged};

/// A successful reply carrying `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `true` here.
    pub success: bool,
    pub message: String,
    pub data: T,
    /// Paging of list replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<PageMeta>,
}

/// Where a list page sits in the whole result.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PageMeta {
    /// 1-based page number.
    pub page: i64,
    pub per_page: i64,
    /// Rows matching the filter across all pages.
    pub total: i64,
}

/// One field-level problem with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the field (`email`, `students[2].pin`), or `body` for the whole body.
    pub field: String,
    pub message: String,
}

/// An error reply: `success: false`, a stable `error` code and the field-level details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    pub message: String,
    /// Stable snake_case code (see docs/api.md): `bad_json`, `not_found`, `validation_failed`, …
    pub error: String,
    #[schema(value_type = Object, nullable)]
    pub data: serde_json::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// 200 with `data`.
pub fn ok<T: Serialize>(message: impl Into<String>, data: T) -> HttpResponse {
    reply(StatusCode::OK, message, data)
}

/// 202 with `data`: accepted, carried out elsewhere or later.
pub fn accepted<T: Serialize>(message: impl Into<String>, data: T) -> HttpResponse {
    reply(StatusCode::ACCEPTED, message, data)
}

/// 201 with the created `data`.
pub fn created<T: Serialize>(message: impl Into<String>, data: T) -> HttpResponse {
    reply(StatusCode::CREATED, message, data)
}

/// 200 with one page of a list as `data` and its position as `meta`.
pub fn page<T: Serialize>(message: impl Into<String>, paged: Paged<T>, page: Page) -> HttpResponse {
    let meta = PageMeta { page: page.offset / page.limit.max(1) + 1, per_page: page.limit, total: paged.total };
    HttpResponse::Ok().json(Envelope { success: true, message: message.into(), data: paged.items, meta: Some(meta) })
}

fn reply<T: Serialize>(status: StatusCode, message: impl Into<String>, data: T) -> HttpResponse {
    HttpResponse::build(status).json(Envelope { success: true, message: message.into(), data, meta: None })
}
