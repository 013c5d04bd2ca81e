//! `Caller`: the authenticated admin behind a request (Bearer access token, resolved by the
//! `authenticate` middleware), with the tenancy rules every handler applies through it: a school admin's scope is their school, and a row
//! of another school is answered 404 exactly like a missing one.

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures::future::{ready, Ready};

use crate::domain::SchoolId;
use crate::http::api::error::ApiError;
use crate::http::State;
use crate::store::admin::{AdminRole, AdminUser, NewAudit, SchoolScope};

/// The admin making the request and where it comes from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: AdminUser,
    pub ip: Option<String>,
}

/// What the authentication middleware found for a request that carried a token.
#[derive(Debug, Clone)]
enum Authenticated {
    Admin(Caller),
    /// Invalid, expired, or the admin is gone or disabled: the 401 message.
    Refused(String),
    /// The admin could not be looked up (storage failure).
    Failed(String),
}

/// Middleware on `/api/v1`: resolves the bearer token (signature, expiry, then the admin's
/// current row) BEFORE any extractor runs, so authentication and role errors always come
/// before body or query errors, and handlers see the outcome synchronously.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(bearer_token).map(str::to_owned);
        let ctx = req.app_data::<web::Data<State>>().cloned();
        let ip = client_ip(req.request());
        let outcome = match (token, ctx) {
            (None, _) => Authenticated::Refused("the Authorization header must be `Bearer <access token>`".into()),
            (_, None) => Authenticated::Failed("application context missing".into()),
            (Some(token), Some(ctx)) => resolve(&ctx, &token, ip).await,
        };
        req.extensions_mut().insert(outcome);
    }
    next.call(req).await
}

fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn resolve(ctx: &State, token: &str, ip: Option<String>) -> Authenticated {
    let claims = match ctx.api.keys.verify(token) {
        Ok(claims) => claims,
        Err(e) => return Authenticated::Refused(e.to_string()),
    };
    let Some(id) = claims.admin_id() else { return Authenticated::Refused("the access token is invalid".into()) };
    match ctx.store.get_admin(id).await {
        Ok(Some(user)) if !user.disabled && user.session_version == claims.sv => {
            Authenticated::Admin(Caller { user, ip })
        }
        Ok(Some(user)) if !user.disabled => Authenticated::Refused("this session has ended; log in again".into()),
        Ok(_) => Authenticated::Refused("this account no longer exists or is disabled".into()),
        Err(e) => Authenticated::Failed(e.to_string()),
    }
}

/// The admin behind verified claims (the admin's current row: a disabled or deleted admin, or
/// claims of an older session version, are refused at once). Used by the dashboard's session
/// cookie and its live stream.
pub async fn caller_from_claims(
    ctx: &State,
    claims: &super::keys::AccessClaims,
    ip: Option<String>,
) -> Result<Caller, String> {
    let Some(id) = claims.admin_id() else { return Err("the session is invalid".into()) };
    match ctx.store.get_admin(id).await {
        Ok(Some(user)) if !user.disabled && user.session_version == claims.sv => Ok(Caller { user, ip }),
        Ok(Some(user)) if !user.disabled => Err("this session has ended; log in again".into()),
        Ok(_) => Err("this account no longer exists or is disabled".into()),
        Err(e) => Err(e.to_string()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = match req.extensions().get::<Authenticated>() {
            None => Err(ApiError::Unauthorized("an `Authorization: Bearer <access token>` header is required".into())),
            Some(Authenticated::Admin(caller)) => Ok(caller.clone()),
            Some(Authenticated::Refused(message)) => Err(ApiError::Unauthorized(message.clone())),
            Some(Authenticated::Failed(message)) => Err(ApiError::Internal(format!("authenticating: {message}"))),
        };
        ready(outcome)
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
            (AdminRole::SchoolAdmin, None) => SchoolScope::school(SchoolId(0)),
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
    pub fn target_school(&self, requested: Option<SchoolId>) -> Result<SchoolId, ApiError> {
        match (self.scope().school_id(), requested) {
            (None, Some(id)) => Ok(id),
            (None, None) => Err(ApiError::invalid("school_id", "is required")),
            (Some(mine), None) => Ok(mine),
            (Some(mine), Some(id)) if id == mine => Ok(mine),
            (Some(_), Some(_)) => Err(ApiError::NotFound("school not found".into())),
        }
    }

    /// A school filter from a query: a school admin naming another school sees nothing (404).
    pub fn school_filter(&self, requested: Option<SchoolId>) -> Result<Option<SchoolId>, ApiError> {
        match (self.scope().school_id(), requested) {
            (Some(mine), Some(id)) if id != mine => Err(ApiError::NotFound("school not found".into())),
            (_, requested) => Ok(requested),
        }
    }

    /// An audit entry for an action by this caller.
    pub fn audit(
        &self,
        action: &str,
        target_type: &str,
        target_id: Option<i64>,
        school_id: Option<SchoolId>,
    ) -> NewAudit {
        self.actor().audit(action, target_type, target_id, school_id)
    }

    /// The caller as the service core sees it: who, from where, and what they may see.
    pub fn actor(&self) -> crate::core::Actor {
        crate::core::Actor {
            admin_id: Some(self.user.id),
            name: self.user.email.clone(),
            ip: self.ip.clone(),
            scope: self.scope(),
        }
    }
}

/// A `Caller` that must be a super admin: 403 before the body is even read.
#[derive(Debug, Clone)]
pub struct SuperAdmin(pub Caller);

impl FromRequest for SuperAdmin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload).into_inner();
        ready(caller.and_then(|caller| caller.require_super("do this").map(|()| SuperAdmin(caller))))
    }
}

/// The client's address: the server's one rule (see [`crate::http::client_addr`]).
pub use crate::http::client_addr::client_ip;
