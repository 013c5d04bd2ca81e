//! `/api/v1/*`: the admin REST API (JSON, JWT bearer, per-school tenancy, OpenAPI).
//!
//! Layout: `routes` is the one route table; one file per resource holds its thin handlers;
//! student writes go through `core::students`, the one path the dashboard and imports share;
//! `error`/`envelope`/`extract` give every reply, good or bad, the same envelope.

mod admins;
mod area_sync;
mod areas;
pub mod attendance;
mod audit;
pub mod auth;
mod biometrics;
pub(crate) mod capabilities;
mod classes;
mod commands;
mod device_pinning;
mod devices;
pub mod envelope;
pub mod error;
pub mod extract;
mod groups;
mod jobs;
pub mod openapi;
mod params;
pub mod pull;
mod routes;
mod schools;
mod sections;
pub mod sessions;
pub mod state;
pub mod student_csv;
mod students;
mod sync;
mod sync_school;
pub mod validate;

pub use error::ApiError;
pub use routes::{mount, mounted_routes, Access, ApiRoute, PREFIX};
pub use state::ApiState;

/// Checks and trims an email address the way the API does (for the shell tools).
pub fn validate_email(raw: &str) -> Result<String, String> {
    validate::email(raw).map_err(|e| match e {
        ApiError::Validation(fields) => fields.into_iter().next().map(|f| f.message).unwrap_or_default(),
        other => other.to_string(),
    })
}
