//! Black-box tests of the admin API (`/api/v1/*`) on every backend: spawn the app on
//! 127.0.0.1:0 and talk HTTP to it, as school front-ends and integrators do.

mod attendance;
mod audit;
mod auth;
mod bad_input;
mod commands;
mod csv;
mod device_identity;
mod devices;
mod dialect;
mod moved_device;
mod openapi;
mod schools;
mod students;
mod sync;
mod tenancy;

pub use crate::support::api::{call, call_raw, column, fixture, login, make_admin, Fixture, Reply, PASSWORD};
pub use crate::support::{backends, spawn_app, TestApp};

/// The reqwest method for a mounted route's method (actix and reqwest use different `http` versions).
pub fn method_of(route: &ironclock::http::api::ApiRoute) -> reqwest::Method {
    reqwest::Method::from_bytes(route.method.as_str().as_bytes()).expect("a standard method")
}
