//! The dashboard: server-rendered HTML for school admins (askama templates in `templates/`,
//! a little vendored CSS/JS in `static/`, nothing fetched from the internet).
//!
//! Same login and school scoping as the API: the session is the API's access token in an
//! HttpOnly, SameSite=Strict cookie, renewed with the refresh token (also a cookie); every
//! form carries a CSRF token (double submit, checked on every POST). Pages are thin: they call
//! the same store, queue and sync functions as the API.

mod areas;
mod assets;
mod attendance;
mod csrf;
mod device;
mod device_actions;
mod device_secret;
mod layout;
mod login;
mod overview;
mod page;
mod pull_devices;
mod session;
mod settings;
mod setup;
mod student_form;
mod student_import;
mod students;
mod sync_page;

pub use page::PageError;
pub use session::Session;

use actix_web::web;

/// Mounts the dashboard pages (call before the app's default service).
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/{file}").route(web::get().to(assets::file)))
        .service(web::resource("/login").route(web::get().to(login::form)).route(web::post().to(login::submit)))
        .service(web::resource("/logout").route(web::post().to(login::logout)))
        .service(web::resource("/").route(web::get().to(overview::page)))
        .service(web::resource("/devices/{id}/approve").route(web::post().to(overview::approve)))
        .configure(areas::mount)
        .configure(device::mount)
        .configure(pull_devices::mount)
        .configure(students::mount)
        .configure(student_import::mount)
        .configure(attendance::mount)
        .configure(settings::mount)
        .configure(setup::mount);
}
