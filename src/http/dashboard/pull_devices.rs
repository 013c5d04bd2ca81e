//! Pull devices (port 4370, the server calls them) on the dashboard: the add and edit form,
//! checked with the API's field rules and written through the same store call, and the actions
//! of a pull device's page (test connection, collect now, realtime on/off) plus "Refresh all
//! logs", which queues a collection on every pull device of the admin's school(s). The actions
//! go through `pull_service::requests`, as the API's do, so they work from any instance.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::device::scoped_device;
use super::layout::Layout;
use super::login::CsrfForm;
use super::page::{redirect, render, PageError};
use super::session::Session;
use crate::domain::{Device, DeviceId, DeviceMode, SchoolId};
use crate::http::api::error::ApiError;
use crate::http::api::pull::{NewPullInput, PullFields};
use crate::http::State;
use crate::pull_service::requests::{self, RequestError, COLLECT_WAIT, TEST_BUDGET};
use crate::store::admin::{DeviceRecord, Page, SchoolFilter};
use crate::store::DeviceUpdate;

pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/pull-devices/new").route(web::get().to(new_form)).route(web::post().to(create)))
        .service(web::resource("/devices/{id}/edit").route(web::get().to(edit_form)).route(web::post().to(save)))
        .service(web::resource("/devices/{id}/test-connection").route(web::post().to(test)))
        .service(web::resource("/devices/{id}/collect").route(web::post().to(collect)))
        .service(web::resource("/devices/{id}/realtime").route(web::post().to(realtime)))
        .service(web::resource("/attendance/refresh-all").route(web::post().to(refresh_all)));
}

/// The form as posted: every field a string, so nothing typed is lost to a parse error.
#[derive(Debug, Deserialize)]
pub struct PullForm {
    csrf: String,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    transport: String,
    /// Empty on the edit form: keep the stored key.
    #[serde(default)]
    comm_key: String,
    /// Edit form: remove the stored key.
    remove_comm_key: Option<String>,
    enabled: Option<String>,
    realtime_enabled: Option<String>,
    clear_log_after_collect: Option<String>,
}

/// What the form shows.
pub struct Values {
    pub school_id: Option<i64>,
    pub name: String,
    pub host: String,
    pub port: String,
    pub transport: String,
    pub comm_key: String,
    pub enabled: bool,
    pub realtime_enabled: bool,
    pub clear_log_after_collect: bool,
}

impl Values {
    fn blank() -> Self {
        Values {
            school_id: None,
            name: String::new(),
            host: String::new(),
            port: "4370".into(),
            transport: "auto".into(),
            comm_key: String::new(),
            enabled: true,
            realtime_enabled: true,
            clear_log_after_collect: false,
        }
    }

    fn of(d: &DeviceRecord) -> Self {
        Values {
            school_id: d.school_id.map(|s| s.0),
            name: d.name.clone().unwrap_or_default(),
            host: d.host.clone().unwrap_or_default(),
            port: d.port.map(|p| p.to_string()).unwrap_or_default(),
            transport: d.transport.clone().unwrap_or_else(|| "auto".into()),
            comm_key: String::new(),
            enabled: d.pull.enabled,
            realtime_enabled: d.pull.realtime_enabled,
            clear_log_after_collect: d.pull.clear_log_after_collect,
        }
    }

    fn read(f: &PullForm) -> Self {
        Values {
            school_id: f.school_id.trim().parse().ok(),
            name: f.name.trim().to_string(),
            host: f.host.trim().to_string(),
            port: f.port.trim().to_string(),
            transport: f.transport.trim().to_string(),
            comm_key: f.comm_key.trim().to_string(),
            enabled: f.enabled.is_some(),
            realtime_enabled: f.realtime_enabled.is_some(),
            clear_log_after_collect: f.clear_log_after_collect.is_some(),
        }
    }
}

/// The add or edit page.
#[derive(Template)]
#[template(path = "pull_device_form.html")]
struct FormPage {
    layout: Layout,
    /// (id, label) when editing.
    device: Option<(i64, String)>,
    has_comm_key: bool,
    values: Values,
    /// (field, message); a field the form does not show is listed on top.
    errors: Vec<(String, String)>,
    schools: Vec<(i64, String)>,
}

const FIELDS: [&str; 6] = ["school_id", "name", "host", "port", "transport", "comm_key"];

impl FormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    fn general(&self) -> Vec<&str> {
        self.errors.iter().filter(|(f, _)| !FIELDS.contains(&f.as_str())).map(|(_, m)| m.as_str()).collect()
    }
}

/// A field error of the API's rules as (field, message); anything else is a page error.
fn field_errors(e: ApiError) -> Result<Vec<(String, String)>, PageError> {
    match e {
        ApiError::InvalidParameter(fields) | ApiError::Validation(fields) | ApiError::Conflict(fields) => {
            Ok(fields.into_iter().map(|f| (f.field, f.message)).collect())
        }
        other => Err(other.into()),
    }
}

fn port(raw: &str) -> Result<u16, ApiError> {
    raw.parse::<u16>().map_err(|_| ApiError::parameter("port", "must be a number between 1 and 65535"))
}

fn comm_key(raw: &str) -> Result<Option<u32>, ApiError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<u32>().map(Some).map_err(|_| ApiError::parameter("comm_key", "must be a number between 0 and 999999"))
}

fn optional(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

async fn schools(ctx: &State, session: &Session) -> Result<Vec<(i64, String)>, PageError> {
    if !session.caller.is_super() {
        return Ok(Vec::new());
    }
    let f = SchoolFilter { name: None, sort: Default::default(), page: Page { limit: 500, offset: 0 } };
    Ok(ctx.store.list_schools(session.caller.scope(), &f).await?.items.into_iter().map(|s| (s.id.0, s.name)).collect())
}

async fn show(
    ctx: &State,
    session: &Session,
    device: Option<&DeviceRecord>,
    values: Values,
    errors: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    // The key itself is never shown back; the form says whether one is stored.
    let has_comm_key = match device {
        Some(d) => ctx.store.pull_device(DeviceId(d.id)).await?.is_some_and(|p| p.comm_key_enc.is_some()),
        None => false,
    };
    let page = FormPage {
        layout: Layout::new(session, "overview", None),
        device: device.map(|d| (d.id, d.name.clone().unwrap_or_else(|| d.serial_number.clone()))),
        has_comm_key,
        values,
        schools: if device.is_none() { schools(ctx, session).await? } else { Vec::new() },
        errors,
    };
    let failed = !page.errors.is_empty();
    let mut res = render(session, &page)?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// `GET /pull-devices/new`.
pub async fn new_form(ctx: web::Data<State>, session: Session) -> Result<HttpResponse, PageError> {
    show(&ctx, &session, None, Values::blank(), Vec::new()).await
}

/// `POST /pull-devices/new`: adds the device (approved: an admin added it); the pull service
/// contacts it within a minute.
pub async fn create(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: web::Form<PullForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let values = Values::read(&form);
    let caller = &session.caller;
    let checked = async {
        let school_id = caller.target_school(values.school_id.map(SchoolId))?;
        let input = NewPullInput {
            school_id,
            area_id: None,
            name: optional(&values.name),
            host: values.host.clone(),
            port: port(&values.port)?,
            transport: optional(&values.transport),
            comm_key: comm_key(&values.comm_key)?,
            enabled: values.enabled,
            realtime_enabled: values.realtime_enabled,
            clear_log_after_collect: values.clear_log_after_collect,
        };
        Ok::<_, ApiError>((school_id, input.into_new(&ctx).await?))
    };
    let (school_id, device) = match checked.await {
        Ok(ok) => ok,
        Err(e) => return show(&ctx, &session, None, values, field_errors(e)?).await,
    };
    let mut audit = caller.audit("device.create", "device", None, Some(school_id));
    audit.detail = serde_json::json!({ "host": device.host, "port": device.port, "via": "dashboard" });
    let record = match ctx.store.add_pull_device(&device, &audit).await {
        Ok(r) => r,
        Err(e) => return show(&ctx, &session, None, values, field_errors(ApiError::from(e))?).await,
    };
    let message = format!(
        "Pull device {}:{} added; the server connects to it within a minute (use Test connection to check now).",
        device.host, device.port
    );
    Ok(redirect(&session, &format!("/devices/{}", record.id), &message))
}

/// The device's record if it is a pull device in scope.
async fn pull_record(ctx: &State, session: &Session, id: i64) -> Result<DeviceRecord, PageError> {
    let record = ctx
        .store
        .get_device_record(session.caller.scope(), id)
        .await?
        .ok_or_else(|| PageError::NotFound("There is no such device.".into()))?;
    if record.mode != DeviceMode::Pull {
        return Err(PageError::BadRequest(
            "Only pull devices are edited here: push devices report their own settings.".into(),
        ));
    }
    Ok(record)
}

/// `GET /devices/{id}/edit`.
pub async fn edit_form(
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let record = pull_record(&ctx, &session, path.into_inner()).await?;
    show(&ctx, &session, Some(&record), Values::of(&record), Vec::new()).await
}

/// `POST /devices/{id}/edit`: every field of the form (an empty comm key keeps the stored one).
pub async fn save(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<PullForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let record = pull_record(&ctx, &session, path.into_inner()).await?;
    let values = Values::read(&form);
    let key =
        if form.remove_comm_key.is_some() { Ok(Some(None)) } else { comm_key(&values.comm_key).map(|k| k.map(Some)) };
    let checked = async {
        let pull = PullFields {
            host: Some(values.host.clone()),
            port: Some(port(&values.port)?),
            transport: optional(&values.transport),
            comm_key: key?,
            enabled: Some(values.enabled),
            realtime_enabled: Some(values.realtime_enabled),
            clear_log_after_collect: Some(values.clear_log_after_collect),
        };
        let name = match optional(&values.name) {
            Some(n) => Some(crate::http::api::validate::name("name", &n, 100)?),
            None => None,
        };
        Ok::<_, ApiError>(DeviceUpdate { name: Some(name), pull: pull.into_update(&ctx).await?, ..Default::default() })
    };
    let update = match checked.await {
        Ok(u) => u,
        Err(e) => return show(&ctx, &session, Some(&record), values, field_errors(e)?).await,
    };
    let caller = &session.caller;
    let mut audit = caller.audit("device.edit", "device", Some(record.id), record.school_id);
    audit.detail = serde_json::json!({
        "serial_number": record.serial_number,
        "comm_key_changed": update.pull.comm_key_enc.is_some(),
        "via": "dashboard",
    });
    if let Err(e) = ctx.store.change_device(caller.scope(), record.id, &update, Some(&audit)).await {
        return show(&ctx, &session, Some(&record), values, field_errors(ApiError::from(e))?).await;
    }
    Ok(redirect(&session, &format!("/devices/{}", record.id), "Pull device settings saved"))
}

async fn pull_device(ctx: &State, session: &Session, id: i64) -> Result<Device, PageError> {
    let device = scoped_device(ctx, session, id).await?;
    if device.mode != DeviceMode::Pull {
        return Err(PageError::BadRequest("Only pull devices (port 4370) are called by the server.".into()));
    }
    Ok(device)
}

fn request_error(e: RequestError) -> PageError {
    ApiError::from(e).into()
}

/// `POST /devices/{id}/test-connection`: the outcome is the flash message.
pub async fn test(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = pull_device(&ctx, &session, path.into_inner()).await?;
    let by = format!("dashboard:{}", session.caller.user.email);
    let test = requests::test_connection(&ctx, device.id.0, &by, TEST_BUDGET).await.map_err(request_error)?;
    let message = if test.success {
        let serial = test.serial_number.as_deref().unwrap_or("no serial");
        format!("Connection test: {} ({serial}, firmware {})", test.message, test.firmware.as_deref().unwrap_or("?"))
    } else {
        format!("Connection test failed: {}", test.message)
    };
    Ok(redirect(&session, &format!("/devices/{}", device.id.0), &message))
}

/// `POST /devices/{id}/collect`: collects the device's attendance now and says what was stored.
pub async fn collect(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = pull_device(&ctx, &session, path.into_inner()).await?;
    let by = format!("dashboard:{}", session.caller.user.email);
    let message = match requests::collect(&ctx, device.id.0, &by, COLLECT_WAIT).await {
        Ok(c) => format!(
            "Collected: {} new punches stored of {} records on the device ({} already stored).",
            c.logs_synced, c.total_records, c.duplicates
        ),
        Err(RequestError::Failed(m) | RequestError::NotInService(m)) => format!("Collection failed: {m}"),
        Err(e) => return Err(request_error(e)),
    };
    Ok(redirect(&session, &format!("/devices/{}", device.id.0), &message))
}

#[derive(Debug, Deserialize)]
pub struct RealtimeForm {
    csrf: String,
    /// `on` or `off`.
    realtime: String,
}

/// `POST /devices/{id}/realtime`: live punches on or off (on also forgets a switch-off after
/// long failure, and the device's session is restarted within a minute).
pub async fn realtime(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<RealtimeForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let record = pull_record(&ctx, &session, path.into_inner()).await?;
    let on = match form.realtime.as_str() {
        "on" => true,
        "off" => false,
        other => return Err(PageError::BadRequest(format!("{other:?} is neither on nor off."))),
    };
    let mut update = DeviceUpdate::default();
    update.pull.realtime_enabled = Some(on);
    let caller = &session.caller;
    let action = if on { "device.realtime_on" } else { "device.realtime_off" };
    let mut audit = caller.audit(action, "device", Some(record.id), record.school_id);
    audit.detail = serde_json::json!({ "serial_number": record.serial_number, "via": "dashboard" });
    ctx.store.change_device(caller.scope(), record.id, &update, Some(&audit)).await?;
    let message = if on { "Realtime switched on: live punches within a minute" } else { "Realtime switched off" };
    Ok(redirect(&session, &format!("/devices/{}", record.id), message))
}

/// `POST /attendance/refresh-all`: queues a collection on every pull device in the admin's
/// scope; each device's page shows its outcome as "last poll".
pub async fn refresh_all(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let by = format!("dashboard:{}", session.caller.user.email);
    let (ids, queued) = requests::collect_all_in(&ctx, session.caller.scope(), &by).await.map_err(request_error)?;
    let message = match (ids.len(), queued.len()) {
        (0, _) => "There are no pull devices to collect from.".to_string(),
        (n, q) if q == n => format!("Collection queued on all {n} pull devices; each device's page shows the result."),
        (n, q) => {
            format!("Collection queued on {q} of {n} pull devices (the others are switched off or not in service).")
        }
    };
    Ok(redirect(&session, "/", &message))
}
