//! `ApiError`: the admin API's one error type, mapped to the envelope (status, stable `error`
//! code, message, field details) in one place. Storage failures are logged and answered without
//! internals; everything caused by the request is a 4xx.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::envelope::{ErrorEnvelope, FieldError};
use crate::domain::RowError;
use crate::store::admin::AdminError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, or not the JSON this endpoint takes (syntax, type, unknown or missing field).
    #[error("{}", describe(.0))]
    BadJson(Vec<FieldError>),
    /// A path or query parameter is malformed (a non-numeric id, an unknown sort key, …).
    #[error("{}", describe(.0))]
    InvalidParameter(Vec<FieldError>),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Well-formed, but a value is not acceptable.
    #[error("{}", describe(.0))]
    Validation(Vec<FieldError>),
    /// Row-level problems of a CSV import (nothing was written).
    #[error("{} rows have errors; nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    #[error("{0}")]
    Unauthorized(String),
    /// Wrong email or password, or a disabled account: the same answer in every case.
    #[error("wrong email or password")]
    InvalidCredentials,
    /// The caller's role may not do this (never used to hide another school's rows: that is `NotFound`).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{}", describe(.0))]
    Conflict(Vec<FieldError>),
    #[error("too many attempts; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    #[error("storage unavailable")]
    Storage(#[from] StoreError),
    #[error("internal error")]
    Internal(String),
}

fn describe(fields: &[FieldError]) -> String {
    fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
}

/// One field error.
pub fn field(name: impl Into<String>, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError { field: name.into(), message: message.into() }]
}

impl ApiError {
    /// A `validation_failed` error on one field.
    pub fn invalid(name: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(field(name, message))
    }

    /// A 400 on one path or query parameter.
    pub fn parameter(name: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidParameter(field(name, message))
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadJson(_) => "bad_json",
            ApiError::InvalidParameter(_) => "invalid_parameter",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Validation(_) | ApiError::Rows(_) => "validation_failed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Storage(StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_))) => "unavailable",
            ApiError::Storage(_) | ApiError::Internal(_) => "internal_error",
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            ApiError::BadJson(f) | ApiError::InvalidParameter(f) | ApiError::Validation(f) | ApiError::Conflict(f) => {
                f.clone()
            }
            _ => Vec::new(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            AdminError::Conflict { field: name, message } => ApiError::Conflict(field(name, message)),
            AdminError::Invalid { field: name, message } => ApiError::Validation(field(name, message)),
            AdminError::Rows(rows) => ApiError::Rows(rows),
            AdminError::Store(e) => ApiError::Storage(e),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadJson(_) | ApiError::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) | ApiError::Rows(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Storage(_) if self.code() == "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Storage(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Storage(e) => tracing::error!(error = %e, "admin API request failed on storage"),
            ApiError::Internal(e) => tracing::error!(error = %e, "admin API request failed"),
            _ => {}
        }
        let data = match self {
            ApiError::Rows(rows) => serde_json::json!({ "errors": rows }),
            _ => serde_json::Value::Null,
        };
        let body = ErrorEnvelope {
            success: false,
            message: self.to_string(),
            error: self.code().to_string(),
            data,
            fields: self.fields(),
        };
        let mut response = HttpResponse::build(self.status_code()).json(body);
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized(_) | ApiError::InvalidCredentials => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_names_its_field_in_the_message_and_the_fields_list() {
        let e = ApiError::invalid("timezone", "\"Mars/Olympus\" is not an IANA time zone");
        assert_eq!(e.to_string(), "timezone: \"Mars/Olympus\" is not an IANA time zone");
        assert_eq!((e.code(), e.status_code()), ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(e.fields()[0].field, "timezone");
    }

    #[test]
    fn store_outcomes_map_to_404_409_and_422() {
        assert_eq!(ApiError::from(AdminError::NotFound("student")).status_code(), StatusCode::NOT_FOUND);
        let conflict = AdminError::Conflict { field: "rfid_card_id", message: "taken".into() };
        assert_eq!(ApiError::from(conflict).status_code(), StatusCode::CONFLICT);
        let invalid = AdminError::Invalid { field: "class_id", message: "no class 4".into() };
        assert_eq!(ApiError::from(invalid).code(), "validation_failed");
    }
}
