//! `/areas`: Areas: devices of a school that share users and templates.
//! Thin handlers over `groups`; another school's areas are 404.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::envelope::{created, ok, page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, PathId};
use super::groups::{self, CreateGroup, GroupQuery, UpdateGroup};
use crate::domain::SchoolId;
use crate::http::State;
use crate::store::admin::{Group, GroupKind, Paged};

const KIND: GroupKind = GroupKind::Area;

/// An area.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaView {
    pub id: i64,
    pub school_id: SchoolId,
    pub name: String,
}

impl From<Group> for AreaView {
    fn from(g: Group) -> Self {
        Self { id: g.id, school_id: g.school_id, name: g.name }
    }
}

/// List areas in your scope.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(GroupQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of areas", body = Envelope<Vec<AreaView>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<GroupQuery>) -> Result<HttpResponse, ApiError> {
    let (paged, page_of) = groups::list(&ctx, &caller, KIND, q.0).await?;
    let paged = Paged { items: paged.items.into_iter().map(AreaView::from).collect(), total: paged.total };
    Ok(page("areas", paged, page_of))
}

/// Create an area.
#[utoipa::path(post, path = "/api/v1/areas", tag = "areas", request_body = CreateGroup, security(("bearer" = [])),
    responses((status = 201, description = "The new area", body = Envelope<AreaView>),
              (status = 404, description = "The school is not in your scope", body = ErrorEnvelope),
              (status = 409, description = "Duplicate name", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    caller: Caller,
    body: ApiJson<CreateGroup>,
) -> Result<HttpResponse, ApiError> {
    let group = groups::create(&ctx, &caller, KIND, body.0).await?;
    Ok(created("area created", AreaView::from(group)))
}

/// One area.
#[utoipa::path(get, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = i64, Path, description = "Area id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The area", body = Envelope<AreaView>),
              (status = 404, description = "No such area in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("area", AreaView::from(groups::get(&ctx, &caller, KIND, id.0).await?)))
}

/// Change an area.
#[utoipa::path(patch, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = i64, Path, description = "Area id")),
    request_body = UpdateGroup, security(("bearer" = [])),
    responses((status = 200, description = "The area", body = Envelope<AreaView>),
              (status = 404, description = "No such area in your scope", body = ErrorEnvelope),
              (status = 409, description = "Duplicate name", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<UpdateGroup>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("area updated", AreaView::from(groups::update(&ctx, &caller, KIND, id.0, body.0).await?)))
}

/// Delete an area (audited).
#[utoipa::path(delete, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = i64, Path, description = "Area id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The deleted area", body = Envelope<AreaView>),
              (status = 404, description = "No such area in your scope", body = ErrorEnvelope)))]
pub async fn delete(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("area deleted", AreaView::from(groups::delete(&ctx, &caller, KIND, id.0).await?)))
}
