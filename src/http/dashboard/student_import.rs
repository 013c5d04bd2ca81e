//! `/students/import`: a CSV file upload (multipart form) with a "dry run" box, parsed by the
//! API's parser and imported by the API's service function: all or nothing, every bad row
//! listed with its line. `/students/import/example.csv` is a file to start from.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures::TryStreamExt;

use super::layout::{FlashQuery, Layout};
use super::page::{redirect, render, PageError};
use super::session::Session;
use super::student_form::Choice;
use crate::core::students;
use crate::domain::{RowError, SchoolId};
use crate::http::api::error::ApiError;
use crate::http::api::student_csv::parse_import;
use crate::http::State;
use crate::store::admin::AdminError;
use crate::store::admin::{ImportReport, Page, SchoolFilter};

/// Largest file accepted: the API import's limit (`api::students::CSV_LIMIT`, 8 MiB).
const CSV_LIMIT: usize = 8 * 1024 * 1024;

/// The downloadable example (the columns of `student_csv`, one row per way a row can be used).
const EXAMPLE: &str = "full_name,pin,rfid_card_id,class,section,is_active\n\
Amina Wanjiru,,0012345,Grade 5,A,true\n\
Brian Otieno,1042,,Grade 5,B,true\n\
Chloe Mwangi,,,,,false\n";

#[derive(Template)]
#[template(path = "students_import.html")]
struct ImportPage {
    layout: Layout,
    schools: Vec<Choice>,
    school_id: Option<SchoolId>,
    dry_run: bool,
    /// Row problems of the last upload (nothing was written).
    errors: Vec<RowError>,
    /// A whole-file problem (not a CSV, too large, no file).
    problem: Option<String>,
    /// What a dry run would do.
    report: Option<ImportReport>,
}

async fn schools(ctx: &State, session: &Session) -> Result<Vec<Choice>, PageError> {
    if !session.caller.is_super() {
        return Ok(Vec::new());
    }
    let f = SchoolFilter { name: None, sort: Default::default(), page: Page { limit: 500, offset: 0 } };
    let list = ctx.store.list_schools(session.caller.scope(), &f).await?.items;
    Ok(list.into_iter().map(|s| Choice { id: s.id.0, label: s.name }).collect())
}

async fn show(
    ctx: &State,
    session: &Session,
    mut page: ImportPage,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    page.schools = schools(ctx, session).await?;
    let mut res = render(session, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

fn empty(layout: Layout) -> ImportPage {
    ImportPage {
        layout,
        schools: Vec::new(),
        school_id: None,
        dry_run: false,
        errors: Vec::new(),
        problem: None,
        report: None,
    }
}

/// `GET /students/import`.
pub async fn form(
    ctx: web::Data<State>,
    session: Session,
    flash: web::Query<FlashQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = Layout::new(&session, "students", flash.into_inner().flash);
    show(&ctx, &session, empty(layout), StatusCode::OK).await
}

/// The fields of the upload form.
#[derive(Default)]
struct Upload {
    csrf: String,
    school_id: Option<SchoolId>,
    dry_run: bool,
    file: Option<Vec<u8>>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, String> {
    let mut up = Upload::default();
    while let Some(mut field) = form.try_next().await.map_err(|e| format!("the upload could not be read: {e}"))? {
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "file" { CSV_LIMIT } else { 1024 };
        let mut value = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(|e| format!("the upload could not be read: {e}"))? {
            if value.len() + chunk.len() > limit {
                return Err(format!("The file is larger than {} MiB; split it.", CSV_LIMIT / (1024 * 1024)));
            }
            value.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&value).trim().to_string();
        match name.as_str() {
            "csrf" => up.csrf = text(),
            "school_id" => up.school_id = text().parse().ok(),
            "dry_run" => up.dry_run = !value.is_empty(),
            "file" => up.file = Some(value),
            _ => {}
        }
    }
    Ok(up)
}

/// `POST /students/import`: checks every row; with any error nothing is written.
pub async fn upload(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    let up = read_upload(form).await.map_err(PageError::BadRequest)?;
    session.check_csrf(&req, &up.csrf)?;
    let caller = &session.caller;
    let mut page = empty(Layout::new(&session, "students", None));
    page.school_id = up.school_id;
    page.dry_run = up.dry_run;
    let file = up.file.filter(|f| !f.is_empty());
    let problem = file.is_none().then(|| "Choose a CSV file to import.".to_string());
    let school_id = match caller.target_school(up.school_id) {
        Ok(id) => Some(id),
        Err(ApiError::Validation(_)) => {
            page.problem = Some("Choose the school to import into.".into());
            None
        }
        Err(e) => return Err(e.into()),
    };
    let (Some(file), None, Some(school_id)) = (file, &problem, school_id) else {
        page.problem = page.problem.or(problem);
        return show(&ctx, &session, page, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match students::import(&ctx, &caller.actor(), school_id, parse_import(&file), up.dry_run).await {
        Ok(report) if up.dry_run => {
            page.report = Some(report);
            show(&ctx, &session, page, StatusCode::OK).await
        }
        Ok(r) => {
            let flash = format!("Import done: {} rows, {} students created, {} updated", r.rows, r.created, r.updated);
            Ok(redirect(&session, "/students", &flash))
        }
        Err(AdminError::Rows(errors)) => {
            page.errors = errors;
            show(&ctx, &session, page, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ (AdminError::Invalid { .. } | AdminError::Conflict { .. })) => {
            page.problem = Some(e.to_string());
            show(&ctx, &session, page, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /students/import/example.csv`.
pub async fn example(_session: Session) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"students-example.csv\""))
        .body(EXAMPLE)
}

/// Mounts the import pages.
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/students/import").route(web::get().to(form)).route(web::post().to(upload)))
        .service(web::resource("/students/import/example.csv").route(web::get().to(example)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_without_errors_with_the_apis_parser() {
        let parsed = parse_import(EXAMPLE.as_bytes());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 3);
        assert_eq!(parsed.rows[1].pin.as_deref(), Some("1042"));
        assert!(!parsed.rows[2].is_active);
    }
}
