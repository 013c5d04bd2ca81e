//! `/audit-log`: who did what and when (logins, deletes, device approvals, imports, syncs).
//! Super admins only.

use actix_web::{web, HttpResponse};
use chrono::{Days, NaiveTime};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::SuperAdmin;
use super::envelope::{page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::ApiQuery;
use super::params::{self, Bound};
use crate::domain::SchoolId;
use crate::http::State;
use crate::store::admin::{AuditFilter, AuditRecord};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `auth.login`, `auth.login_failed`, `student.delete`, `device.approve`.
    pub action: Option<String>,
    pub actor_id: Option<i64>,
    pub school_id: Option<SchoolId>,
    /// A UTC date (inclusive) or an RFC 3339 instant.
    pub from: Option<String>,
    /// A UTC date (inclusive) or an RFC 3339 instant (exclusive).
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Audit entries, newest first (super admin).
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of audit entries", body = Envelope<Vec<AuditRecord>>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, _: SuperAdmin, q: ApiQuery<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let instant = |b: Option<Bound>, next_day: bool| match b {
        Some(Bound::Instant(t)) => Some(t),
        Some(Bound::Date(d)) => {
            let d = if next_day { d.checked_add_days(Days::new(1))? } else { d };
            Some(d.and_time(NaiveTime::MIN).and_utc())
        }
        None => None,
    };
    let page_of = params::page(q.page, q.per_page)?;
    let filter = AuditFilter {
        action: q.action,
        actor_id: q.actor_id,
        school_id: q.school_id,
        from: instant(params::bound("from", q.from.as_deref())?, false),
        to: instant(params::bound("to", q.to.as_deref())?, true),
        page: page_of,
    };
    Ok(page("audit log", ctx.store.list_audit(&filter).await?, page_of))
}
