//! Device replies and `DeviceError`, the device surface's one error type, mapped to responses
//! in one place. Every reply is `text/plain` with a Content-Length; actix adds the GMT `Date`
//! header that devices set their clocks from. Any non-200 makes a device keep and re-send its data.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::store::StoreError;

/// A 200 `text/plain` reply.
pub fn ok_text(body: impl Into<String>) -> HttpResponse {
    text(StatusCode::OK, body.into())
}

/// A 200 `text/plain` reply from bytes (command batches are encoded per device language).
pub fn ok_bytes(body: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::Ok().body(body);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

fn text(status: StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::build(status).body(body);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Known but not approved yet: the device keeps its data and re-sends after approval.
    #[error("device {0} is waiting for approval")]
    NotApproved(String),
    #[error("device {0} is blocked")]
    Blocked(String),
    /// The serial belongs to a pull device (the server calls it on port 4370): nothing may push
    /// as it, or anyone who learns a pull device's serial could post punches for its school.
    #[error("device {0} is a pull device: the server collects from it, it does not push")]
    PullDevice(String),
    /// A new serial while the pending list is full (`--max-pending-devices`): nothing stored.
    #[error("too many devices are waiting for approval (limit {0}): approve or delete pending devices first")]
    TooManyPending(i64),
    /// A pending device sent more than it may keep before approval: nothing stored.
    #[error("device {0} is waiting for approval and may keep no more data until then")]
    PendingFull(String),
    /// The device has a secret path token and the request did not carry it.
    #[error("device {0} must call under its secret path (/<token>/iclock/...)")]
    SecretPathRequired(String),
    /// The device's school refuses requests from outside its pinned address.
    #[error("device {serial} is pinned to {pinned}; a request from {ip} is refused")]
    OffPin { serial: String, ip: String, pinned: String },
    /// A blocked device asked to register (acc `POST /iclock/registry`): 406, empty body.
    #[error("device {0} may not register")]
    RegistryRefused(String),
    /// An acc device's `Cookie: token=` does not match its registration.
    #[error("device {0} sent a token that does not match its registration")]
    BadToken(String),
    #[error("storage unavailable: {0}")]
    Storage(#[from] StoreError),
    #[error("not found")]
    NotFound,
}

impl ResponseError for DeviceError {
    fn status_code(&self) -> StatusCode {
        match self {
            DeviceError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DeviceError::NotApproved(_)
            | DeviceError::Blocked(_)
            | DeviceError::PullDevice(_)
            | DeviceError::TooManyPending(_)
            | DeviceError::SecretPathRequired(_)
            | DeviceError::BadToken(_)
            | DeviceError::OffPin { .. } => StatusCode::FORBIDDEN,
            DeviceError::PendingFull(_) => StatusCode::PAYLOAD_TOO_LARGE,
            DeviceError::RegistryRefused(_) => StatusCode::NOT_ACCEPTABLE,
            DeviceError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            DeviceError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let DeviceError::Storage(e) = self {
            tracing::error!(error = %e, "device request failed on storage; the device will re-send");
        }
        // The message names no internals: devices show nothing, people reading logs see the error above.
        let body = match self {
            DeviceError::Storage(_) => "ERROR: storage unavailable, retry later".to_string(),
            DeviceError::RegistryRefused(_) => String::new(),
            other => format!("ERROR: {other}"),
        };
        text(self.status_code(), body)
    }
}
