//! The OpenAPI 3 document, generated from the handlers' annotations (utoipa), served at
//! `/api/v1/openapi.json`, and a self-contained docs page at `/api/v1/docs` that renders it
//! (no CDN, no bundled UI: it works offline and behind strict proxies).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, PathItem};
use utoipa::{Modify, OpenApi};

use super::{
    admins, area_sync, areas, attendance, audit, biometrics, capabilities, classes, commands, device_pinning, devices,
    jobs, pull, schools, sections, sessions, students, sync, sync_school,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "ironclock admin API", description = "School admins' and integrators' API. Every JSON reply is \
        `{\"success\", \"message\", \"data\"}`; errors add a stable `error` code and field details (see docs/api.md)."),
    paths(
        sessions::login, sessions::refresh, sessions::logout, sessions::me, sessions::setup,
        document_json, docs_page,
        schools::list, schools::create, schools::get, schools::update, schools::delete,
        areas::list, areas::create, areas::get, areas::update, areas::delete,
        area_sync::sync_area, area_sync::sync_status, area_sync::sync_device, area_sync::device_sync_status, area_sync::sync_by_address,
        classes::list, classes::create, classes::get, classes::update, classes::delete,
        sections::list, sections::create, sections::get, sections::update, sections::delete,
        students::list, students::create, students::get, students::update, students::delete,
        students::import, students::export, biometrics::get,
        devices::list, devices::create, devices::get, devices::update, devices::delete, devices::approve, devices::block,
        commands::list, commands::create, commands::cancel, commands::retry,
        capabilities::list, capabilities::reset,
        sync::sync_students, sync::sync_status, sync::retry_student,
        pull::test_connection, pull::sync_attendance, pull::sync_all,
        device_pinning::create_path_token, device_pinning::delete_path_token, device_pinning::address_alerts,
        sync_school::summary, sync_school::verify, sync_school::alerts, sync_school::confirm, sync_school::dismiss,
        attendance::list, attendance::export, attendance::daily,
        jobs::list, jobs::get,
        admins::list, admins::create, admins::get, admins::update, admins::delete,
        audit::list,
    ),
    components(schemas(super::envelope::ErrorEnvelope, super::envelope::FieldError, super::envelope::PageMeta,
        crate::domain::RowError)),
    modifiers(&BearerAuth, &OperationIds, &SingularDeviceRoutes),
    tags((name = "auth", description = "Login, tokens, first-run setup"),
         (name = "devices", description = "Also answered under /api/v1/device/{id}/… (singular)"),
         (name = "sync", description = "Student sync: every push device of a school holds exactly its active students \
            (the device routes are also answered under /api/v1/device/{id}/…)"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Operation ids from method and path (`get_students_by_id`): handler names (`list`, `get`)
/// repeat across resources, and OpenAPI wants every id unique (client generators rely on it).
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            let words: Vec<String> = path
                .trim_start_matches("/api/v1/")
                .split('/')
                .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) => format!("by_{param}"),
                    None => seg.replace(['-', '.'], "_"),
                })
                .collect();
            let stem = words.join("_");
            let methods: [(&str, &mut Option<openapi::path::Operation>); 5] = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, op) in methods {
                if let Some(op) = op {
                    op.operation_id = Some(format!("{method}_{stem}"));
                }
            }
        }
    }
}

/// The device routes also answer under `/api/v1/device/{id}…` (existing front-ends call it).
struct SingularDeviceRoutes;

impl Modify for SingularDeviceRoutes {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let aliases: Vec<(String, PathItem)> = doc
            .paths
            .paths
            .iter()
            .filter_map(|(path, item)| {
                let rest = path.strip_prefix("/api/v1/devices/{id}")?;
                let mut item = item.clone();
                for op in operations(&mut item) {
                    op.operation_id = op.operation_id.take().map(|id| format!("{id}_singular"));
                }
                Some((format!("/api/v1/device/{{id}}{rest}"), item))
            })
            .collect();
        doc.paths.paths.extend(aliases);
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// The OpenAPI document.
pub fn document() -> openapi::OpenApi {
    ApiDoc::openapi()
}

fn document_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| document().to_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")))
}

/// The OpenAPI 3 document of this API (not enveloped).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "docs",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json", body = Object)))]
pub async fn document_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document_text())
}

/// A browsable page listing every operation of the document.
#[utoipa::path(get, path = "/api/v1/docs", tag = "docs",
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String)))]
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", docs_policy()))
        .body(DOCS_HTML)
}

/// The docs page's own Content-Security-Policy: the server-wide one (see `http::headers`), with
/// the page's one inline script and style allowed by their SHA-256 (nothing else inline runs).
fn docs_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        let hash = |open: &str, close: &str| {
            use base64::Engine;
            use sha2::Digest;
            let start = DOCS_HTML.find(open).map_or(0, |i| i + open.len());
            let end = DOCS_HTML[start..].find(close).map_or(start, |i| start + i);
            let digest = sha2::Sha256::digest(&DOCS_HTML.as_bytes()[start..end]);
            format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        };
        crate::http::headers::CONTENT_SECURITY_POLICY
            .replace("script-src 'self'", &format!("script-src 'self' {}", hash("<script>", "</script>")))
            .replace("style-src 'self'", &format!("style-src 'self' {}", hash("<style>", "</style>")))
    })
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ironclock API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1.5rem;color:#1d232a}
h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #ddd;text-transform:capitalize}
details{border:1px solid #e3e6ea;border-radius:6px;margin:.4rem 0;padding:.4rem .7rem}
summary{cursor:pointer}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.6rem;overflow:auto}
.m{display:inline-block;min-width:4.2rem;font-weight:700}.get{color:#1f6feb}.post{color:#1a7f37}
.patch{color:#9a6700}.delete{color:#cf222e}.lock{color:#6e7781;font-size:11px;border:1px solid #d0d7de;border-radius:3px;padding:0 3px;margin-left:4px}
</style></head><body>
<h1>ironclock admin API</h1>
<p>Generated from <a href="openapi.json">openapi.json</a>. Send <code>Authorization: Bearer &lt;access_token&gt;</code>
from <code>POST /api/v1/auth/login</code> to operations marked <span class="lock">token</span>.</p>
<div id="ops">Loading…</div>
<script>
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c]));
const ref = s => s && s.$ref ? s.$ref.split("/").pop() : (s && s.type) || "";
fetch("openapi.json").then(r => r.json()).then(doc => {
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get","post","put","patch","delete"]) {
      const op = item[method]; if (!op) continue;
      (byTag[(op.tags || ["other"])[0]] ||= []).push({path, method, op});
    }
  }
  let html = "";
  for (const [tag, ops] of Object.entries(byTag)) {
    html += `<h2>${esc(tag)}</h2>`;
    for (const {path, method, op} of ops) {
      const params = (op.parameters || []).map(p => `<li><code>${esc(p.name)}</code> (${esc(p.in)}) ${esc(p.description)}</li>`).join("");
      const body = op.requestBody ? Object.entries(op.requestBody.content).map(([ct, c]) => `<code>${esc(ct)}</code> ${esc(ref(c.schema))}`).join(", ") : "";
      const replies = Object.entries(op.responses || {}).map(([code, r]) => `<li><b>${esc(code)}</b> ${esc(r.description)}</li>`).join("");
      html += `<details><summary><span class="m ${method}">${method.toUpperCase()}</span><code>${esc(path)}</code>
        ${op.security ? '<span class="lock">token</span>' : ""} — ${esc(op.summary || "")}</summary>
        ${op.description ? `<p>${esc(op.description)}</p>` : ""}
        ${params ? `<p>Parameters</p><ul>${params}</ul>` : ""}${body ? `<p>Body: ${body}</p>` : ""}
        <p>Replies</p><ul>${replies}</ul></details>`;
    }
  }
  html += `<h2>Schemas</h2><pre>${esc(JSON.stringify((doc.components || {}).schemas, null, 2))}</pre>`;
  document.getElementById("ops").innerHTML = html;
}).catch(e => { document.getElementById("ops").textContent = "Could not load openapi.json: " + e; });
</script></body></html>"#;
