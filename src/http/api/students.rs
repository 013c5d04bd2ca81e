//! `/students`: the roster of the caller's scope, with CSV import and export. Request bodies
//! are checked here; the writes go through `core::students`.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::envelope::{created, ok, page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{read_body, ApiJson, ApiQuery, PathId};
use super::params;
use super::student_csv::{parse_import, write_export, ExportRow};
use super::validate::{self, nullable};
use crate::core::students;
use crate::domain::SchoolId;
use crate::http::State;
use crate::store::admin::{
    GroupFilter, GroupKind, ImportReport, NewStudentInput, Page, Sort, StudentFilter, StudentPatch, StudentRecord,
};

/// Largest CSV import accepted.
pub const CSV_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StudentQuery {
    pub school_id: Option<SchoolId>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub is_active: Option<bool>,
    pub pin: Option<String>,
    pub rfid_card_id: Option<String>,
    /// Case-insensitive part of the full name.
    pub name: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// `id`, `full_name`, `pin`, `created_at`; prefix `-` for descending.
    pub sort: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStudent {
    /// Required for super admins; a school admin's students go to their school.
    pub school_id: Option<SchoolId>,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    /// Default true.
    pub is_active: Option<bool>,
    /// 1 to 9 digits, no leading zero; default: the school's next free PIN.
    pub pin: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStudent {
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub rfid_card_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub class_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub section_id: Option<Option<i64>>,
    pub is_active: Option<bool>,
    /// Refused: a PIN never changes.
    #[schema(value_type = Option<String>)]
    pub pin: Option<serde_json::Value>,
    /// Refused: a student never changes school.
    #[schema(value_type = Option<i64>)]
    pub school_id: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The school to import into (super admins; a school admin imports into their own).
    pub school_id: Option<SchoolId>,
    /// Check every row and report what would happen, without writing.
    pub dry_run: Option<bool>,
}

fn filter(caller: &Caller, q: StudentQuery) -> Result<StudentFilter, ApiError> {
    let page = params::page(q.page, q.per_page)?;
    let sort = params::sort(q.sort.as_deref())?;
    Ok(StudentFilter {
        scope: caller.scope(),
        school_id: caller.school_filter(q.school_id)?,
        class_id: q.class_id,
        section_id: q.section_id,
        is_active: q.is_active,
        pin: q.pin,
        rfid_card_id: q.rfid_card_id,
        name: q.name,
        sort,
        page,
    })
}

/// List students (live ones; deleted students are hidden).
#[utoipa::path(get, path = "/api/v1/students", tag = "students", params(StudentQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of students", body = Envelope<Vec<StudentRecord>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<StudentQuery>) -> Result<HttpResponse, ApiError> {
    let filter = filter(&caller, q.0)?;
    Ok(page("students", ctx.store.list_students(&filter).await?, filter.page))
}

/// Create a student; the reply carries its `id` and `pin`.
#[utoipa::path(post, path = "/api/v1/students", tag = "students", request_body = CreateStudent, security(("bearer" = [])),
    responses((status = 201, description = "The new student", body = Envelope<StudentRecord>),
              (status = 404, description = "The school is not in your scope", body = ErrorEnvelope),
              (status = 409, description = "PIN or card already used (the message names the other student)", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    caller: Caller,
    body: ApiJson<CreateStudent>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let student = NewStudentInput {
        school_id: caller.target_school(body.school_id)?,
        full_name: validate::name("full_name", &body.full_name, 100)?,
        rfid_card_id: body.rfid_card_id.as_deref().map(|c| validate::card("rfid_card_id", c)).transpose()?.flatten(),
        class_id: body.class_id,
        section_id: body.section_id,
        is_active: body.is_active.unwrap_or(true),
        pin: body.pin.as_deref().map(|p| validate::pin("pin", p)).transpose()?,
    };
    Ok(created("student created", students::create(&ctx, &caller.actor(), student).await?))
}

/// One student.
#[utoipa::path(get, path = "/api/v1/students/{id}", tag = "students", params(("id" = i64, Path, description = "Student id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The student", body = Envelope<StudentRecord>),
              (status = 404, description = "No such student in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let student = ctx.store.get_student(caller.scope(), id.0).await?;
    Ok(ok("student", student.ok_or_else(|| ApiError::NotFound("student not found".into()))?))
}

/// Change a student (fields not given stay; `null` clears card, class or section).
#[utoipa::path(patch, path = "/api/v1/students/{id}", tag = "students", params(("id" = i64, Path, description = "Student id")),
    request_body = UpdateStudent, security(("bearer" = [])),
    responses((status = 200, description = "The student", body = Envelope<StudentRecord>),
              (status = 404, description = "No such student in your scope", body = ErrorEnvelope),
              (status = 409, description = "Card already used", body = ErrorEnvelope),
              (status = 422, description = "Invalid field (or an attempt to change the PIN or school)", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<UpdateStudent>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    if body.pin.is_some() {
        return Err(ApiError::invalid("pin", "a student's PIN never changes"));
    }
    if body.school_id.is_some() {
        return Err(ApiError::invalid("school_id", "a student never changes school"));
    }
    let rfid_card_id = match body.rfid_card_id {
        Some(Some(card)) => Some(validate::card("rfid_card_id", &card)?),
        other => other,
    };
    let patch = StudentPatch {
        full_name: body.full_name.as_deref().map(|n| validate::name("full_name", n, 100)).transpose()?,
        rfid_card_id,
        class_id: body.class_id,
        section_id: body.section_id,
        is_active: body.is_active,
    };
    Ok(ok("student updated", students::update(&ctx, &caller.actor(), id.0, patch).await?))
}

/// Delete a student (soft: the PIN stays reserved and punches keep their student; audited).
#[utoipa::path(delete, path = "/api/v1/students/{id}", tag = "students", params(("id" = i64, Path, description = "Student id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The deleted student", body = Envelope<StudentRecord>),
              (status = 404, description = "No such student in your scope", body = ErrorEnvelope)))]
pub async fn delete(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    Ok(ok("student deleted", students::delete(&ctx, &caller.actor(), id.0).await?))
}

/// Import students from CSV, all or nothing (body: the CSV file, `Content-Type: text/csv`).
#[utoipa::path(post, path = "/api/v1/students/import", tag = "students", params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "Header row, then one student per row: full_name, pin, rfid_card_id, class, section, is_active"),
    security(("bearer" = [])),
    responses((status = 200, description = "Imported (or, with dry_run, checked)", body = Envelope<ImportReport>),
              (status = 413, description = "File too large", body = ErrorEnvelope),
              (status = 415, description = "Not a CSV content type", body = ErrorEnvelope),
              (status = 422, description = "Row-level errors in data.errors; nothing was written", body = ErrorEnvelope)))]
pub async fn import(
    req: HttpRequest,
    payload: web::Payload,
    ctx: web::Data<State>,
    caller: Caller,
    q: ApiQuery<ImportQuery>,
) -> Result<HttpResponse, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !matches!(essence.as_str(), "text/csv" | "application/csv" | "text/plain" | "application/vnd.ms-excel") {
        return Err(ApiError::UnsupportedMediaType(format!("Content-Type must be text/csv (got {content_type:?})")));
    }
    let school_id = caller.target_school(q.0.school_id)?;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let body = read_body(payload.into_inner(), declared, CSV_LIMIT).await?;
    let dry_run = q.0.dry_run.unwrap_or(false);
    let report = students::import(&ctx, &caller.actor(), school_id, parse_import(&body), dry_run).await?;
    let message = if dry_run { "import checked; nothing written" } else { "students imported" };
    Ok(ok(message, report))
}

/// Export students as CSV (same filters as the list; no paging). Imports back unchanged.
#[utoipa::path(get, path = "/api/v1/students/export", tag = "students", params(StudentQuery), security(("bearer" = [])),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn export(
    ctx: web::Data<State>,
    caller: Caller,
    q: ApiQuery<StudentQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = filter(&caller, q.0)?;
    filter.page = Page::everything();
    let students = ctx.store.list_students(&filter).await?.items;
    let classes = group_names(&ctx, &caller, filter.school_id, GroupKind::Class).await?;
    let sections = group_names(&ctx, &caller, filter.school_id, GroupKind::Section).await?;
    let rows = students.iter().map(|s| ExportRow {
        pin: s.pin.as_str(),
        full_name: &s.full_name,
        rfid_card_id: s.rfid_card_id.as_deref(),
        class: s.class_id.and_then(|id| classes.get(&id)).map(String::as_str),
        section: s.section_id.and_then(|id| sections.get(&id)).map(String::as_str),
        is_active: s.is_active,
    });
    let csv = write_export(rows).map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"students.csv\""))
        .body(csv))
}

/// Names of the caller's classes or sections by id (for the export).
async fn group_names(
    ctx: &State,
    caller: &Caller,
    school_id: Option<SchoolId>,
    kind: GroupKind,
) -> Result<HashMap<i64, String>, ApiError> {
    let filter = GroupFilter {
        scope: caller.scope(),
        school_id,
        class_id: None,
        name: None,
        sort: Sort::default(),
        page: Page::everything(),
    };
    Ok(ctx.store.list_groups(kind, &filter).await?.items.into_iter().map(|g| (g.id, g.name)).collect())
}
