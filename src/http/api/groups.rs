//! Shared handling of the three kinds of named groups in a school (areas, classes, sections):
//! listing, creating, reading, renaming and deleting, always within the caller's scope.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::ApiError;
use super::params;
use super::validate::{self, nullable};
use crate::domain::SchoolId;
use crate::http::State;
use crate::store::admin::{Group, GroupFilter, GroupKind, GroupPatch, NewGroup, Page, Paged};

/// Longest group name.
const NAME_MAX: usize = 100;

/// List filters for areas and classes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// Only this school (super admins; a school admin naming another school gets 404).
    pub school_id: Option<SchoolId>,
    /// Only sections of this class (sections only).
    #[param(nullable = false)]
    pub class_id: Option<i64>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// `id` or `name`; prefix `-` for descending.
    pub sort: Option<String>,
}

/// A new area, class or section.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// Required for super admins; a school admin's groups go to their school.
    pub school_id: Option<SchoolId>,
    pub name: String,
    /// Sections only: the class the section belongs to.
    pub class_id: Option<i64>,
}

/// Changes to an area, class or section.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    pub name: Option<String>,
    /// Sections only: another class of the same school, or `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub class_id: Option<Option<i64>>,
}

fn only_sections(kind: GroupKind, present: bool) -> Result<(), ApiError> {
    if present && kind != GroupKind::Section {
        return Err(ApiError::invalid("class_id", "only sections belong to a class"));
    }
    Ok(())
}

/// One page of groups of `kind` in the caller's scope.
pub async fn list(
    ctx: &State,
    caller: &Caller,
    kind: GroupKind,
    q: GroupQuery,
) -> Result<(Paged<Group>, Page), ApiError> {
    if q.class_id.is_some() && kind != GroupKind::Section {
        return Err(ApiError::parameter("class_id", "only sections can be filtered by class"));
    }
    let page = params::page(q.page, q.per_page)?;
    let filter = GroupFilter {
        scope: caller.scope(),
        school_id: caller.school_filter(q.school_id)?,
        class_id: q.class_id,
        name: q.name,
        sort: params::sort(q.sort.as_deref())?,
        page,
    };
    Ok((ctx.store.list_groups(kind, &filter).await?, page))
}

/// Creates a group in the caller's school (or the named one, for a super admin).
pub async fn create(ctx: &State, caller: &Caller, kind: GroupKind, body: CreateGroup) -> Result<Group, ApiError> {
    only_sections(kind, body.class_id.is_some())?;
    let school_id = caller.target_school(body.school_id)?;
    let group = NewGroup { school_id, name: validate::name("name", &body.name, NAME_MAX)?, class_id: body.class_id };
    Ok(ctx.store.add_group(kind, &group).await?)
}

/// A group in the caller's scope, else 404.
pub async fn get(ctx: &State, caller: &Caller, kind: GroupKind, id: i64) -> Result<Group, ApiError> {
    ctx.store.get_group(kind, caller.scope(), id).await?.ok_or_else(|| not_found(kind))
}

/// Renames a group (or moves a section to another class).
pub async fn update(
    ctx: &State,
    caller: &Caller,
    kind: GroupKind,
    id: i64,
    body: UpdateGroup,
) -> Result<Group, ApiError> {
    only_sections(kind, body.class_id.is_some())?;
    let patch = GroupPatch {
        name: body.name.as_deref().map(|n| validate::name("name", n, NAME_MAX)).transpose()?,
        class_id: body.class_id,
    };
    Ok(ctx.store.update_group(kind, caller.scope(), id, &patch).await?)
}

/// Deletes a group (audited). Deleting a class deletes its sections; students keep their rows.
pub async fn delete(ctx: &State, caller: &Caller, kind: GroupKind, id: i64) -> Result<Group, ApiError> {
    let current = get(ctx, caller, kind, id).await?;
    let audit = caller.audit(&format!("{}.delete", kind.noun()), kind.noun(), Some(id), Some(current.school_id));
    Ok(ctx.store.delete_group(kind, caller.scope(), id, &audit).await?)
}

fn not_found(kind: GroupKind) -> ApiError {
    ApiError::NotFound(format!("{} not found", kind.noun()))
}
