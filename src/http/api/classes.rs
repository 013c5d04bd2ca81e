//! `/classes`: Classes of a school.
//! Thin handlers over `groups`; another school's classes are 404.

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

const KIND: GroupKind = GroupKind::Class;

/// A class.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassView {
    pub id: i64,
    pub school_id: SchoolId,
    pub name: String,
}

impl From<Group> for ClassView {
    fn from(g: Group) -> Self {
        Self { id: g.id, school_id: g.school_id, name: g.name }
    }
}

/// List classes in your scope.
#[utoipa::path(get, path = "/api/v1/classes", tag = "classes", params(GroupQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of classes", body = Envelope<Vec<ClassView>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<GroupQuery>) -> Result<HttpResponse, ApiError> {
    let (paged, page_of) = groups::list(&ctx, &caller, KIND, q.0).await?;
    let paged = Paged { items: paged.items.into_iter().map(ClassView::from).collect(), total: paged.total };
    Ok(page("classes", paged, page_of))
}

/// Create a class.
#[utoipa::path(post, path = "/api/v1/classes", tag = "classes", request_body = CreateGroup, security(("bearer" = [])),
    responses((status = 201, description = "The new class", body = Envelope<ClassView>),
              (status = 404, description = "The school is not in your scope", body = ErrorEnvelope),
              (status = 409, description = "Duplicate name", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    caller: Caller,
    body: ApiJson<CreateGroup>,
) -> Result<HttpResponse, ApiError> {
    let group = groups::create(&ctx, &caller, KIND, body.0).await?;
    Ok(created("class created", ClassView::from(group)))
}

/// One class.
#[utoipa::path(get, path = "/api/v1/classes/{id}", tag = "classes", params(("id" = i64, Path, description = "Class id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The class", body = Envelope<ClassView>),
              (status = 404, description = "No such class in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("class", ClassView::from(groups::get(&ctx, &caller, KIND, id.0).await?)))
}

/// Change a class.
#[utoipa::path(patch, path = "/api/v1/classes/{id}", tag = "classes", params(("id" = i64, Path, description = "Class id")),
    request_body = UpdateGroup, security(("bearer" = [])),
    responses((status = 200, description = "The class", body = Envelope<ClassView>),
              (status = 404, description = "No such class in your scope", body = ErrorEnvelope),
              (status = 409, description = "Duplicate name", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<UpdateGroup>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("class updated", ClassView::from(groups::update(&ctx, &caller, KIND, id.0, body.0).await?)))
}

/// Delete a class (audited).
#[utoipa::path(delete, path = "/api/v1/classes/{id}", tag = "classes", params(("id" = i64, Path, description = "Class id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The deleted class", body = Envelope<ClassView>),
              (status = 404, description = "No such class in your scope", body = ErrorEnvelope)))]
pub async fn delete(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("class deleted", ClassView::from(groups::delete(&ctx, &caller, KIND, id.0).await?)))
}
