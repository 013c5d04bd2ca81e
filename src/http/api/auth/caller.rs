//! `Caller`: the authenticated admin behind a request (Bearer access token), with the tenancy
//! rules every handler applies through it: a school admin's scope is their school, and a row
//! of another school is answered 404 exactly like a missing one.

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;

use crate::app::AppContext;
use crate::http::api::error::ApiError;
use crate::store::admin::{AdminRole, AdminUser, NewAudit, SchoolScope};

/// The admin making the request and where it comes from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: AdminUser,
    pub ip: Option<String>,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<AppContext>>().cloned();
        let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let ip = client_ip(req);
        Box::pin(async move {
            let ctx = ctx.ok_or_else(|| ApiError::Internal("application context missing".into()))?;
            let token = authorization
                .as_deref()
                .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::Unauthorized("an `Authorization: Bearer <access token>` header is required".into())
                })?;
            let claims = ctx.api.keys.verify(token)?;
            let id = claims.admin_id().ok_or_else(|| ApiError::Unauthorized("the access token is invalid".into()))?;
            let user = ctx
                .store
                .get_admin(id)
                .await?
                .filter(|u| !u.disabled)
                .ok_or_else(|| ApiError::Unauthorized("this account no longer exists or is disabled".into()))?;
            Ok(Caller { user, ip })
        })
    }
}

impl Caller {
    /// Whether the caller may see every school.
    pub fn is_super(&self) -> bool {
        self.user.role == AdminRole::SuperAdmin
    }

    /// The rows this caller may see: every school, or their own.
    pub fn scope(&self) -> SchoolScope {
        match (self.user.role, self.user.school_id) {
            (AdminRole::SuperAdmin, _) => SchoolScope::all(),
            (AdminRole::SchoolAdmin, Some(id)) => SchoolScope::school(id),
            // A school admin without a school cannot exist (a table constraint); see nothing.
            (AdminRole::SchoolAdmin, None) => SchoolScope::school(0),
        }
    }

    /// 403 unless the caller is a super admin (role-level only: it reveals no row's existence).
    pub fn require_super(&self, action: &str) -> Result<(), ApiError> {
        if self.is_super() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("only a super admin may {action}")))
        }
    }

    /// The school a new row goes to. A super admin must name it; a school admin's rows go to
    /// their own school, and naming another school is a 404 (as if it did not exist).
    pub fn target_school(&self, requested: Option<i64>) -> Result<i64, ApiError> {
        match (self.scope().school_id(), requested) {
            (None, Some(id)) => Ok(id),
            (None, None) => Err(ApiError::invalid("school_id", "is required")),
            (Some(mine), None) => Ok(mine),
            (Some(mine), Some(id)) if id == mine => Ok(mine),
            (Some(_), Some(_)) => Err(ApiError::NotFound("school not found".into())),
        }
    }

    /// A school filter from a query: a school admin naming another school sees nothing (404).
    pub fn school_filter(&self, requested: Option<i64>) -> Result<Option<i64>, ApiError> {
        match (self.scope().school_id(), requested) {
            (Some(mine), Some(id)) if id != mine => Err(ApiError::NotFound("school not found".into())),
            (_, requested) => Ok(requested),
        }
    }

    /// An audit entry for an action by this caller.
    pub fn audit(&self, action: &str, target_type: &str, target_id: Option<i64>, school_id: Option<i64>) -> NewAudit {
        NewAudit {
            actor_id: Some(self.user.id),
            actor_email: Some(self.user.email.clone()),
            action: action.into(),
            target_type: Some(target_type.into()),
            target_id,
            school_id,
            ip: self.ip.clone(),
            detail: serde_json::Value::Null,
        }
    }
}

/// The client's address: the peer, or, when the peer is a proxy on a private or loopback
/// address (the deploy's nginx sets `X-Forwarded-For $remote_addr`), the last forwarded hop.
/// A client on the internet cannot spoof it: its own peer address is public.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    if is_private(peer) {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(last) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|s| s.trim().parse::<IpAddr>().ok()) {
            return Some(last.to_string());
        }
    }
    Some(peer.to_string())
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}
