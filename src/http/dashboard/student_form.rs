//! The add/edit student form: reading what the admin typed (kept as typed when it is sent
//! back), checking it with the API's field rules, turning service errors into messages next to
//! their fields, and rendering it (on the edit page, with the student's sync on each device).

use crate::domain::SchoolId;
use crate::store::admin::AdminError;
use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use super::layout::Layout;
use super::page::{render, PageError};
use super::session::Session;
use crate::domain::{Approval, DeviceId};
use crate::http::api::auth::Caller;
use crate::http::api::error::ApiError;
use crate::http::api::validate;
use crate::http::State;
use crate::store::admin::{
    GroupFilter, GroupKind, NewStudentInput, Page, SchoolFilter, Sort, StudentPatch, StudentRecord,
};
use crate::store::sync::SyncStatusFilter;

/// The form as posted (every field a string, so nothing typed is lost to a parse error).
#[derive(Debug, Deserialize)]
pub struct StudentForm {
    pub csrf: String,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    rfid_card_id: String,
    #[serde(default)]
    class_id: String,
    #[serde(default)]
    section_id: String,
    /// A checkbox: present when ticked.
    is_active: Option<String>,
}

/// What the form shows.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub school_id: Option<SchoolId>,
    pub full_name: String,
    pub pin: String,
    pub rfid_card_id: String,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub is_active: bool,
}

impl Values {
    /// A stored student's values.
    pub fn of(s: &StudentRecord) -> Self {
        Values {
            school_id: Some(s.school_id),
            full_name: s.full_name.clone(),
            pin: s.pin.to_string(),
            rfid_card_id: s.rfid_card_id.clone().unwrap_or_default(),
            class_id: s.class_id,
            section_id: s.section_id,
            is_active: s.is_active,
        }
    }
}

/// Messages by field name (`full_name`, `rfid_card_id`…; anything else is shown on top).
#[derive(Debug, Default)]
pub struct Errors(Vec<(String, String)>);

/// Fields the form shows messages next to.
const FIELDS: [&str; 7] = ["school_id", "full_name", "pin", "rfid_card_id", "class_id", "section_id", "confirm"];

impl Errors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_string(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    /// Messages about no field of the form.
    pub fn general(&self) -> Vec<&str> {
        self.0.iter().filter(|(f, _)| !FIELDS.contains(&f.as_str())).map(|(_, m)| m.as_str()).collect()
    }

    /// Takes an invalid value (422) or a conflict (409) as a field message; any other error is a page error.
    pub fn absorb(&mut self, e: AdminError) -> Result<StatusCode, PageError> {
        let (field, message, status) = match e {
            AdminError::Invalid { field, message } => (field, message, StatusCode::UNPROCESSABLE_ENTITY),
            AdminError::Conflict { field, message } => (field, message, StatusCode::CONFLICT),
            other => return Err(other.into()),
        };
        self.add(field, message);
        Ok(status)
    }

    /// Keeps the message of a one-field validation error.
    fn take(&mut self, result: Result<(), ApiError>) {
        if let Err(ApiError::Validation(fields)) = result {
            for f in fields {
                self.add(&f.field, f.message);
            }
        }
    }
}

fn id_field(raw: &str, field: &str, errors: &mut Errors) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let id = raw.parse().ok();
    if id.is_none() {
        errors.add(field, "choose one from the list");
    }
    id
}

impl StudentForm {
    /// The values as typed and the problems of the id fields.
    pub fn read(self) -> (Values, Errors) {
        let mut errors = Errors::default();
        let values = Values {
            school_id: id_field(&self.school_id, "school_id", &mut errors).map(SchoolId),
            class_id: id_field(&self.class_id, "class_id", &mut errors),
            section_id: id_field(&self.section_id, "section_id", &mut errors),
            full_name: self.full_name,
            pin: self.pin,
            rfid_card_id: self.rfid_card_id,
            is_active: self.is_active.is_some(),
        };
        (values, errors)
    }
}

/// A new student from the form (the API's field rules); `None` when a field is wrong.
pub fn new_student(caller: &Caller, v: &Values, errors: &mut Errors) -> Option<NewStudentInput> {
    let school_id = match caller.target_school(v.school_id) {
        Ok(id) => Some(id),
        Err(ApiError::Validation(_)) => {
            errors.add("school_id", "choose the school");
            None
        }
        Err(_) => {
            errors.add("school_id", "no such school");
            None
        }
    };
    let full_name = validate::name("full_name", &v.full_name, 100).map_err(|e| errors.take(Err(e))).ok();
    let card = validate::card("rfid_card_id", &v.rfid_card_id).map_err(|e| errors.take(Err(e))).ok();
    let pin = match v.pin.trim() {
        "" => Some(None),
        p => validate::pin("pin", p).map(Some).map_err(|e| errors.take(Err(e))).ok(),
    };
    Some(NewStudentInput {
        school_id: school_id?,
        full_name: full_name?,
        rfid_card_id: card?,
        class_id: v.class_id,
        section_id: v.section_id,
        is_active: v.is_active,
        pin: pin?,
    })
}

/// The change the edit form asks for (every field is sent: unchanged ones are no-ops).
pub fn patch(v: &Values, errors: &mut Errors) -> StudentPatch {
    let full_name = validate::name("full_name", &v.full_name, 100).map_err(|e| errors.take(Err(e))).ok();
    let card = validate::card("rfid_card_id", &v.rfid_card_id).map_err(|e| errors.take(Err(e))).ok();
    StudentPatch {
        full_name,
        rfid_card_id: card,
        class_id: Some(v.class_id),
        section_id: Some(v.section_id),
        is_active: Some(v.is_active),
    }
}

/// One option of a select.
pub struct Choice {
    pub id: i64,
    pub label: String,
}

/// Schools, classes and sections the admin may pick from.
#[derive(Default)]
pub struct Choices {
    /// Super admins only.
    pub schools: Vec<Choice>,
    pub classes: Vec<Choice>,
    pub sections: Vec<Choice>,
    pub class_names: HashMap<i64, String>,
    pub section_names: HashMap<i64, String>,
}

impl Choices {
    /// The choices of the caller's scope, narrowed to `school` when given. A super admin's
    /// labels name the school too.
    pub async fn load(ctx: &State, caller: &Caller, school: Option<SchoolId>) -> Result<Self, PageError> {
        let scope = caller.scope();
        let mut out = Choices::default();
        let mut school_names = HashMap::new();
        if caller.is_super() {
            let f = SchoolFilter { name: None, sort: Default::default(), page: Page { limit: 500, offset: 0 } };
            for s in ctx.store.list_schools(scope, &f).await?.items {
                school_names.insert(s.id, s.name.clone());
                out.schools.push(Choice { id: s.id.0, label: s.name });
            }
        }
        for kind in [GroupKind::Class, GroupKind::Section] {
            let f = GroupFilter {
                scope,
                school_id: school,
                class_id: None,
                name: None,
                sort: Sort::default(),
                page: Page::everything(),
            };
            for g in ctx.store.list_groups(kind, &f).await?.items {
                let label = match school_names.get(&g.school_id) {
                    Some(school) => format!("{school} · {}", g.name),
                    None => g.name.clone(),
                };
                let (list, names) = match kind {
                    GroupKind::Class => (&mut out.classes, &mut out.class_names),
                    _ => (&mut out.sections, &mut out.section_names),
                };
                names.insert(g.id, g.name);
                list.push(Choice { id: g.id, label });
            }
        }
        Ok(out)
    }
}

/// The student's sync on one device of the school.
pub struct SyncLine {
    pub device_id: i64,
    pub device: String,
    /// `synced`, `pending`, `sent`, `failed`, `not synced`…
    pub status: String,
    pub error: String,
}

async fn sync_lines(ctx: &State, caller: &Caller, s: &StudentRecord) -> Result<Vec<SyncLine>, PageError> {
    let mut filter = super::overview::devices_filter(caller.scope(), Approval::Approved, 50);
    filter.school_id = Some(s.school_id);
    let mut out = Vec::new();
    for d in ctx.store.list_device_records(&filter).await?.items {
        let f = SyncStatusFilter { search: Some(s.pin.to_string()), limit: 20, ..Default::default() };
        let page = ctx.store.sync_status(DeviceId(d.id), &f).await?;
        let row = page.students.into_iter().find(|r| r.id == s.id);
        out.push(SyncLine {
            device_id: d.id,
            device: d.name.unwrap_or_else(|| d.serial_number.clone()),
            status: row.as_ref().map_or_else(|| "not synced".to_string(), |r| r.sync_status.replace('_', " ")),
            error: row.and_then(|r| r.error_message).unwrap_or_default(),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "students_form.html")]
struct FormPage<'a> {
    layout: Layout,
    /// `None` on the add form.
    student: Option<&'a StudentRecord>,
    values: Values,
    errors: Errors,
    choices: Choices,
    sync: Vec<SyncLine>,
    /// Which gates hold the student's fingerprints and face.
    gates: Vec<crate::sync::area::holders::GateHolding>,
}

/// Renders the add form (`student: None`) or the edit page with `status`.
pub async fn show(
    ctx: &State,
    session: &Session,
    layout: Layout,
    student: Option<&StudentRecord>,
    values: Values,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = &session.caller;
    let choices = Choices::load(ctx, caller, student.map(|s| s.school_id)).await?;
    let sync = match student {
        Some(s) => sync_lines(ctx, caller, s).await?,
        None => Vec::new(),
    };
    let gates = match student {
        Some(s) => {
            let copies = ctx.store.student_biometrics(caller.scope(), s.id).await?.unwrap_or_default();
            crate::sync::area::holders::holders(&ctx.store, s.school_id, s.pin.as_str(), &copies).await?
        }
        None => Vec::new(),
    };
    let mut res = render(session, &FormPage { layout, student, values, errors, choices, sync, gates })?;
    *res.status_mut() = status;
    Ok(res)
}
