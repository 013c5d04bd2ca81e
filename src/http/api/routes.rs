//! The route table: the ONE list of admin API routes. `mount` registers it with actix;
//! `mounted_routes` reports it (method, full path, who may call it), so the OpenAPI test and
//! the tenancy suite can check every mounted route and a new route without them fails.

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder};

use super::error::ApiError;
use super::{
    admins, area_sync, areas, attendance, audit, biometrics, capabilities, classes, commands, device_pinning, devices,
    jobs, openapi, pull, schools, sections, sessions, students, sync, sync_school,
};

/// Prefix of every admin API path.
pub const PREFIX: &str = "/api/v1";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed (login, setup, the API description).
    Public,
    /// Any admin; school admins are limited to their school's rows.
    Admin,
    /// Super admins only; school admins get 403.
    SuperAdmin,
}

/// One mounted route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRoute {
    pub method: Method,
    /// Full path with `{id}` placeholders, as in the OpenAPI document.
    pub path: String,
    pub access: Access,
}

struct RouteTable {
    routes: Vec<ApiRoute>,
    resources: Vec<(String, actix_web::Resource)>,
}

impl RouteTable {
    fn add<F, Args>(&mut self, method: Method, path: &str, access: Access, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.routes.push(ApiRoute { method: method.clone(), path: format!("{PREFIX}{path}"), access });
        let route = web::method(method).to(handler);
        match self.resources.iter().position(|(p, _)| p == path) {
            Some(i) => {
                let resource = std::mem::replace(&mut self.resources[i].1, web::resource(""));
                self.resources[i].1 = resource.route(route);
            }
            None => {
                let resource = web::resource(path).route(route).default_service(web::to(method_not_allowed));
                self.resources.push((path.to_string(), resource));
            }
        }
    }

    /// Registers the resources, literal paths before templated ones (`/students/export` before
    /// `/students/{id}`): actix matches in registration order.
    fn register(self, cfg: &mut web::ServiceConfig) {
        let (literal, templated): (Vec<_>, Vec<_>) = self.resources.into_iter().partition(|(p, _)| !p.contains('{'));
        for (_, resource) in literal.into_iter().chain(templated) {
            cfg.service(resource);
        }
    }
}

fn table() -> RouteTable {
    use Access::{Admin, Public, SuperAdmin};
    let (get, post, patch, delete) = (Method::GET, Method::POST, Method::PATCH, Method::DELETE);
    let mut t = RouteTable { routes: Vec::new(), resources: Vec::new() };

    t.add(post.clone(), "/auth/login", Public, sessions::login);
    t.add(post.clone(), "/auth/refresh", Public, sessions::refresh);
    t.add(post.clone(), "/auth/logout", Public, sessions::logout);
    t.add(get.clone(), "/auth/me", Admin, sessions::me);
    t.add(post.clone(), "/setup", Public, sessions::setup);
    t.add(get.clone(), "/openapi.json", Public, openapi::document_json);
    t.add(get.clone(), "/docs", Public, openapi::docs_page);

    t.add(get.clone(), "/schools", Admin, schools::list);
    t.add(post.clone(), "/schools", SuperAdmin, schools::create);
    t.add(get.clone(), "/schools/{id}", Admin, schools::get);
    t.add(patch.clone(), "/schools/{id}", Admin, schools::update);
    t.add(delete.clone(), "/schools/{id}", SuperAdmin, schools::delete);

    t.add(get.clone(), "/areas", Admin, areas::list);
    t.add(post.clone(), "/areas", Admin, areas::create);
    t.add(get.clone(), "/areas/{id}", Admin, areas::get);
    t.add(patch.clone(), "/areas/{id}", Admin, areas::update);
    t.add(delete.clone(), "/areas/{id}", Admin, areas::delete);
    t.add(post.clone(), "/areas/{id}/sync", Admin, area_sync::sync_area);
    t.add(get.clone(), "/areas/{id}/sync", Admin, area_sync::sync_status);

    t.add(get.clone(), "/classes", Admin, classes::list);
    t.add(post.clone(), "/classes", Admin, classes::create);
    t.add(get.clone(), "/classes/{id}", Admin, classes::get);
    t.add(patch.clone(), "/classes/{id}", Admin, classes::update);
    t.add(delete.clone(), "/classes/{id}", Admin, classes::delete);

    t.add(get.clone(), "/sections", Admin, sections::list);
    t.add(post.clone(), "/sections", Admin, sections::create);
    t.add(get.clone(), "/sections/{id}", Admin, sections::get);
    t.add(patch.clone(), "/sections/{id}", Admin, sections::update);
    t.add(delete.clone(), "/sections/{id}", Admin, sections::delete);

    t.add(get.clone(), "/students", Admin, students::list);
    t.add(post.clone(), "/students", Admin, students::create);
    t.add(get.clone(), "/students/export", Admin, students::export);
    t.add(post.clone(), "/students/import", Admin, students::import);
    t.add(get.clone(), "/students/{id}", Admin, students::get);
    t.add(get.clone(), "/students/{id}/biometrics", Admin, biometrics::get);
    t.add(patch.clone(), "/students/{id}", Admin, students::update);
    t.add(delete.clone(), "/students/{id}", Admin, students::delete);

    t.add(get.clone(), "/devices", Admin, devices::list);
    t.add(post.clone(), "/devices", Admin, devices::create);
    t.add(post.clone(), "/devices/sync", Admin, area_sync::sync_by_address);
    // Existing school front-ends call the device routes under /device/{id} (singular) too.
    for base in ["/devices", "/device"] {
        t.add(get.clone(), &format!("{base}/{{id}}"), Admin, devices::get);
        t.add(patch.clone(), &format!("{base}/{{id}}"), Admin, devices::update);
        t.add(delete.clone(), &format!("{base}/{{id}}"), Admin, devices::delete);
        t.add(post.clone(), &format!("{base}/{{id}}/approve"), Admin, devices::approve);
        t.add(post.clone(), &format!("{base}/{{id}}/block"), Admin, devices::block);
        t.add(get.clone(), &format!("{base}/{{id}}/commands"), Admin, commands::list);
        t.add(post.clone(), &format!("{base}/{{id}}/commands"), Admin, commands::create);
        t.add(post.clone(), &format!("{base}/{{id}}/commands/{{command_id}}/cancel"), Admin, commands::cancel);
        t.add(post.clone(), &format!("{base}/{{id}}/commands/{{command_id}}/retry"), Admin, commands::retry);
        t.add(get.clone(), &format!("{base}/{{id}}/capabilities"), Admin, capabilities::list);
        t.add(delete.clone(), &format!("{base}/{{id}}/capabilities"), Admin, capabilities::reset);
        t.add(post.clone(), &format!("{base}/{{id}}/sync-students"), Admin, sync::sync_students);
        t.add(get.clone(), &format!("{base}/{{id}}/sync-status"), Admin, sync::sync_status);
        t.add(post.clone(), &format!("{base}/{{id}}/students/{{student_id}}/retry"), Admin, sync::retry_student);
        t.add(post.clone(), &format!("{base}/{{id}}/test-connection"), Admin, pull::test_connection);
        t.add(post.clone(), &format!("{base}/{{id}}/sync-attendance"), Admin, pull::sync_attendance);
        t.add(post.clone(), &format!("{base}/{{id}}/area-sync"), Admin, area_sync::sync_device);
        t.add(get.clone(), &format!("{base}/{{id}}/area-sync"), Admin, area_sync::device_sync_status);
        t.add(post.clone(), &format!("{base}/{{id}}/path-token"), Admin, device_pinning::create_path_token);
        t.add(delete.clone(), &format!("{base}/{{id}}/path-token"), Admin, device_pinning::delete_path_token);
        t.add(get.clone(), &format!("{base}/{{id}}/address-alerts"), Admin, device_pinning::address_alerts);
    }

    t.add(get.clone(), "/sync/summary", Admin, sync_school::summary);
    t.add(post.clone(), "/sync/verify", Admin, sync_school::verify);
    t.add(get.clone(), "/sync/alerts", Admin, sync_school::alerts);
    t.add(post.clone(), "/sync/alerts/{id}/confirm", Admin, sync_school::confirm);
    t.add(post.clone(), "/sync/alerts/{id}/dismiss", Admin, sync_school::dismiss);

    t.add(get.clone(), "/attendance", Admin, attendance::list);
    t.add(get.clone(), "/attendance/export", Admin, attendance::export);
    t.add(get.clone(), "/attendance/daily", Admin, attendance::daily);
    t.add(post.clone(), "/attendance/sync-all", Admin, pull::sync_all);

    t.add(get.clone(), "/jobs", Admin, jobs::list);
    t.add(get.clone(), "/jobs/{id}", Admin, jobs::get);

    t.add(get.clone(), "/admin-users", SuperAdmin, admins::list);
    t.add(post.clone(), "/admin-users", SuperAdmin, admins::create);
    t.add(get.clone(), "/admin-users/{id}", SuperAdmin, admins::get);
    t.add(patch.clone(), "/admin-users/{id}", SuperAdmin, admins::update);
    t.add(delete, "/admin-users/{id}", SuperAdmin, admins::delete);

    t.add(get, "/audit-log", SuperAdmin, audit::list);
    t
}

/// Mounts the admin API under `/api/v1` (call before the app's default service).
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .wrap(actix_web::middleware::from_fn(super::auth::caller::authenticate))
            .configure(|scope| table().register(scope))
            .default_service(web::to(not_found)),
    );
}

/// Every mounted route (the table `mount` registers).
pub fn mounted_routes() -> Vec<ApiRoute> {
    table().routes
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such API endpoint".into()))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
