//! Operations endpoints: `/readyz` (can this instance serve: database answering, migrations
//! applied), `/metrics` (Prometheus text), and the per-request observer that counts requests and
//! writes access lines. `/healthz` (process only) stays in `app.rs`.

mod metrics;
pub mod observe;
mod readyz;

use actix_web::web;

pub use metrics::metrics;
pub use observe::HttpObserver;
pub use readyz::readyz;

/// Mounts `/readyz`, and `/metrics` unless it is served on its own address (`--metrics-bind`).
pub fn mount(cfg: &mut web::ServiceConfig, with_metrics: bool) {
    cfg.route("/readyz", web::get().to(readyz));
    if with_metrics {
        cfg.route("/metrics", web::get().to(metrics));
    }
}
