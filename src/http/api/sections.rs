//! `/sections`: Sections: parts of a class (or of the school).
//! Thin handlers over `groups`; another school's sections are 404.

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

const KIND: GroupKind = GroupKind::Section;

/// A section.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionView {
    pub id: i64,
    pub school_id: SchoolId,
    /// The class it belongs to, if any.
    pub class_id: Option<i64>,
    pub name: String,
}

impl From<Group> for SectionView {
    fn from(g: Group) -> Self {
        Self { id: g.id, school_id: g.school_id, class_id: g.class_id, name: g.name }
    }
}

/// List sections in your scope.
#[utoipa::path(get, path = "/api/v1/sections", tag = "sections", params(GroupQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of sections", body = Envelope<Vec<SectionView>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<GroupQuery>) -> Result<HttpResponse, ApiError> {
    let (paged, page_of) = groups::list(&ctx, &caller, KIND, q.0).await?;
    let paged = Paged { items: paged.items.into_iter().map(SectionView::from).collect(), total: paged.total };
    Ok(page("sections", paged, page_of))
}

/// Create a section.
#[utoipa::path(post, path = "/api/v1/sections", tag = "sections", request_body = CreateGroup, security(("bearer" = [])),
    responses((status = 201, description = "The new section", body = Envelope<SectionView>),
              (status = 404, description = "The school is not in your scope", body = ErrorEnvelope),
              (status = 409, description = "Duplicate name", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    caller: Caller,
    body: ApiJson<CreateGroup>,
) -> Result<HttpResponse, ApiError> {
    let group = groups::create(&ctx, &caller, KIND, body.0).await?;
    Ok(created("section created", SectionView::from(group)))
}

/// One section.
#[utoipa::path(get, path = "/api/v1/sections/{id}", tag = "sections", params(("id" = i64, Path, description = "Section id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The section", body = Envelope<SectionView>),
              (status = 404, description = "No such section in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("section", SectionView::from(groups::get(&ctx, &caller, KIND, id.0).await?)))
}

/// Change a section.
#[utoipa::path(patch, path = "/api/v1/sections/{id}", tag = "sections", params(("id" = i64, Path, description = "Section id")),
    request_body = UpdateGroup, security(("bearer" = [])),
    responses((status = 200, description = "The section", body = Envelope<SectionView>),
              (status = 404, description = "No such section in your scope", body = ErrorEnvelope),
              (status = 409, description = "Duplicate name", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<UpdateGroup>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("section updated", SectionView::from(groups::update(&ctx, &caller, KIND, id.0, body.0).await?)))
}

/// Delete a section (audited).
#[utoipa::path(delete, path = "/api/v1/sections/{id}", tag = "sections", params(("id" = i64, Path, description = "Section id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The deleted section", body = Envelope<SectionView>),
              (status = 404, description = "No such section in your scope", body = ErrorEnvelope)))]
pub async fn delete(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("section deleted", SectionView::from(groups::delete(&ctx, &caller, KIND, id.0).await?)))
}
