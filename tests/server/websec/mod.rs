//! The security review's web-side findings (issue 15, findings 5–8 and 10–13), each as the
//! attack it describes, over HTTP against the real app on every backend: login throttling and
//! the client address, first-run setup, the login redirect, session revocation, the JWT
//! secret's home, security headers, CSV formula cells (in `api::csv`) and CSRF tokens.

mod csrf;
mod headers;
mod jwt_secret;
mod redirect;
mod sessions;
mod setup;
mod throttle;

pub use crate::dashboard::{people, Dash, PASSWORD};
pub use crate::support::api::{call, login, make_admin};
pub use crate::support::{backends, spawn_app, spawn_app_with, TestApp};
