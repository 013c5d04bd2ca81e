//! `/students`: the roster of the admin's scope (search, class/section/status filters, paging)
//! and the add / edit / deactivate / delete forms. Every write goes through
//! `core::students` (the same functions as the API: they queue the device sync in the
//! student's transaction and wake the devices).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::layout::Layout;
use super::page::{redirect, render, PageError};
use super::session::Session;
use super::student_form::{self, Choices, Errors, StudentForm, Values};
use crate::core::students;
use crate::http::api::auth::Caller;
use crate::http::api::validate;
use crate::http::State;
use crate::store::admin::{Page, StudentFilter, StudentPatch, StudentRecord};

/// Students per page.
pub const PER_PAGE: i64 = 50;

pub struct Row {
    pub id: i64,
    pub full_name: String,
    pub pin: String,
    pub card: String,
    pub class: String,
    pub section: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "students.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    total: i64,
    q: String,
    class_id: Option<i64>,
    section_id: Option<i64>,
    status: String,
    choices: Choices,
    page: i64,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    class_id: Option<String>,
    section_id: Option<String>,
    /// `active`, `inactive` or empty (both).
    status: Option<String>,
    page: Option<String>,
    flash: Option<String>,
}

/// An id from a query or form value; empty or malformed is "none".
pub fn opt_id(raw: Option<&str>) -> Option<i64> {
    raw.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| s.parse().ok())
}

fn list_url(q: &str, class_id: Option<i64>, section_id: Option<i64>, status: &str, page: i64) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("q", q.to_string()), ("status", status.to_string())] {
        if !v.is_empty() {
            s.append_pair(k, &v);
        }
    }
    for (k, v) in [("class_id", class_id), ("section_id", section_id)] {
        if let Some(v) = v {
            s.append_pair(k, &v.to_string());
        }
    }
    s.append_pair("page", &page.to_string());
    format!("/students?{}", s.finish())
}

/// `GET /students`.
pub async fn list(
    ctx: web::Data<State>,
    session: Session,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let caller = &session.caller;
    let q = query.q.as_deref().unwrap_or("").trim().to_string();
    let class_id = opt_id(query.class_id.as_deref());
    let section_id = opt_id(query.section_id.as_deref());
    let status = match query.status.as_deref() {
        Some(s @ ("active" | "inactive")) => s.to_string(),
        _ => String::new(),
    };
    let page = opt_id(query.page.as_deref()).unwrap_or(1).clamp(1, 1_000_000);
    let mut filter = StudentFilter::new(caller.scope());
    filter.class_id = class_id;
    filter.section_id = section_id;
    filter.is_active = (!status.is_empty()).then(|| status == "active");
    filter.page = Page { limit: PER_PAGE, offset: (page - 1) * PER_PAGE };
    // One box searches names (part of), and, on the first page, exact PINs and cards on top.
    let mut exact = Vec::new();
    if !q.is_empty() && page == 1 {
        if let Ok(pin) = validate::pin("q", &q) {
            let f = StudentFilter { pin: Some(pin), page: Page { limit: 10, offset: 0 }, ..filter.clone() };
            exact.extend(ctx.store.list_students(&f).await?.items);
        }
        if let Ok(Some(card)) = validate::card("q", &q) {
            let f = StudentFilter { rfid_card_id: Some(card), page: Page { limit: 10, offset: 0 }, ..filter.clone() };
            exact.extend(ctx.store.list_students(&f).await?.items);
        }
    }
    if !q.is_empty() {
        filter.name = Some(q.clone());
    }
    let found = ctx.store.list_students(&filter).await?;
    let mut students: Vec<StudentRecord> = Vec::new();
    for s in exact {
        if !found.items.iter().chain(&students).any(|t| t.id == s.id) {
            students.push(s);
        }
    }
    // Exact matches whose names do not match are counted on top of the name matches.
    let total = found.total + students.len() as i64;
    students.extend(found.items);
    let choices = Choices::load(&ctx, caller, None).await?;
    let rows = students.into_iter().map(|s| row(s, &choices.class_names, &choices.section_names)).collect();
    let prev = (page > 1).then(|| list_url(&q, class_id, section_id, &status, page - 1));
    let next = (found.total > page * PER_PAGE).then(|| list_url(&q, class_id, section_id, &status, page + 1));
    let layout = Layout::new(&session, "students", query.flash);
    render(&session, &ListPage { layout, rows, total, q, class_id, section_id, status, choices, page, prev, next })
}

fn row(s: StudentRecord, classes: &HashMap<i64, String>, sections: &HashMap<i64, String>) -> Row {
    let name =
        |id: Option<i64>, names: &HashMap<i64, String>| id.and_then(|i| names.get(&i).cloned()).unwrap_or_default();
    Row {
        id: s.id,
        class: name(s.class_id, classes),
        section: name(s.section_id, sections),
        full_name: s.full_name,
        pin: s.pin.0,
        card: s.rfid_card_id.unwrap_or_default(),
        active: s.is_active,
    }
}

/// `GET /students/new`.
pub async fn new_form(
    ctx: web::Data<State>,
    session: Session,
    flash: web::Query<super::layout::FlashQuery>,
) -> Result<HttpResponse, PageError> {
    let values = Values { is_active: true, ..Values::default() };
    let layout = Layout::new(&session, "students", flash.into_inner().flash);
    student_form::show(&ctx, &session, layout, None, values, Errors::default(), StatusCode::OK).await
}

/// `POST /students/new`: creates the student, or shows the form again with the problems.
pub async fn create(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: web::Form<StudentForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let caller = &session.caller;
    let (values, mut errors) = form.into_inner().read();
    let input = student_form::new_student(caller, &values, &mut errors);
    let status = match input.filter(|_| errors.is_empty()) {
        None => StatusCode::UNPROCESSABLE_ENTITY,
        Some(input) => match students::create(&ctx, &caller.actor(), input).await {
            Ok(s) => {
                let flash = format!("Student {} added with PIN {}", s.full_name, s.pin);
                return Ok(redirect(&session, "/students", &flash));
            }
            Err(e) => errors.absorb(e)?,
        },
    };
    let layout = Layout::new(&session, "students", None);
    student_form::show(&ctx, &session, layout, None, values, errors, status).await
}

/// A student of the caller's scope, or the 404 page.
pub async fn find(ctx: &State, caller: &Caller, id: i64) -> Result<StudentRecord, PageError> {
    ctx.store.get_student(caller.scope(), id).await?.ok_or_else(|| PageError::NotFound("No such student.".into()))
}

/// `GET /students/{id}/edit`.
pub async fn edit_form(
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    flash: web::Query<super::layout::FlashQuery>,
) -> Result<HttpResponse, PageError> {
    let student = find(&ctx, &session.caller, path.into_inner()).await?;
    let values = Values::of(&student);
    let layout = Layout::new(&session, "students", flash.into_inner().flash);
    student_form::show(&ctx, &session, layout, Some(&student), values, Errors::default(), StatusCode::OK).await
}

/// `POST /students/{id}/edit`.
pub async fn update(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<StudentForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let caller = &session.caller;
    let student = find(&ctx, caller, path.into_inner()).await?;
    let (mut values, mut errors) = form.into_inner().read();
    values.pin = student.pin.to_string();
    values.school_id = Some(student.school_id);
    let patch = student_form::patch(&values, &mut errors);
    if errors.is_empty() {
        match students::update(&ctx, &caller.actor(), student.id, patch).await {
            Ok(s) => return Ok(redirect(&session, &format!("/students/{}/edit", s.id), "Changes saved")),
            Err(e) => {
                let status = errors.absorb(e)?;
                let layout = Layout::new(&session, "students", None);
                return student_form::show(&ctx, &session, layout, Some(&student), values, errors, status).await;
            }
        }
    }
    let layout = Layout::new(&session, "students", None);
    student_form::show(&ctx, &session, layout, Some(&student), values, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    csrf: String,
    /// `true` reactivates, `false` deactivates.
    active: bool,
}

/// `POST /students/{id}/active`: deactivates (removed from the devices) or reactivates.
pub async fn set_active(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<ActiveForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let id = path.into_inner();
    let patch = StudentPatch { is_active: Some(form.active), ..Default::default() };
    let s = students::update(&ctx, &session.caller.actor(), id, patch).await?;
    let what = if s.is_active { "reactivated" } else { "deactivated" };
    Ok(redirect(&session, &format!("/students/{id}/edit"), &format!("{} {what}", s.full_name)))
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    csrf: String,
    confirm: Option<String>,
}

/// `POST /students/{id}/delete`: needs the confirm box ticked; the PIN stays reserved.
pub async fn delete(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let caller = &session.caller;
    let student = find(&ctx, caller, path.into_inner()).await?;
    if form.confirm.as_deref() != Some("yes") {
        let mut errors = Errors::default();
        errors.add("confirm", "Tick the box to confirm the deletion.");
        let layout = Layout::new(&session, "students", None);
        let values = Values::of(&student);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return student_form::show(&ctx, &session, layout, Some(&student), values, errors, status).await;
    }
    let s = students::delete(&ctx, &caller.actor(), student.id).await?;
    Ok(redirect(&session, "/students", &format!("{} (PIN {}) deleted", s.full_name, s.pin)))
}

/// Mounts the student pages (the import pages are in `student_import`).
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/students").route(web::get().to(list)))
        .service(web::resource("/students/new").route(web::get().to(new_form)).route(web::post().to(create)))
        .service(web::resource("/students/{id}/edit").route(web::get().to(edit_form)).route(web::post().to(update)))
        .service(web::resource("/students/{id}/active").route(web::post().to(set_active)))
        .service(web::resource("/students/{id}/delete").route(web::post().to(delete)));
}
