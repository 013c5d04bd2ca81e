//! `GET /metrics`: the Prometheus text exposition. Gauges that describe the database (commands
//! per state, queue depth, devices online, pool connections) are read here, once per scrape,
//! never on a request path; so are the group committer's counts (atomics it keeps anyway).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use std::sync::atomic::Ordering;

use crate::http::State;
use crate::metrics::{COMMANDS, DB_POOL, DEVICES_ONLINE, PUNCH_COMMITS, PUNCH_FALLBACKS, PUNCH_UPLOADS, QUEUE_DEPTH};

/// A device seen this recently counts as online (the dashboard's rule).
const ONLINE_SECS: i64 = 300;

const COMMAND_STATES: [&str; 5] = ["queued", "sent", "acked", "failed", "cancelled"];

pub async fn metrics(req: HttpRequest, ctx: web::Data<State>) -> HttpResponse {
    if let Some(expected) = ctx.config.ops.metrics_token.as_deref() {
        if !bearer_is(&req, expected) {
            return HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer realm=\"metrics\""))
                .content_type("text/plain")
                .body("/metrics needs the bearer token set by --metrics-token\n");
        }
    }
    refresh_gauges(&ctx).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(ctx.metrics.render())
}

/// The request carries `Authorization: Bearer <expected>` (compared by SHA-256 digests in
/// constant time: neither the length nor the matching prefix shows in the timing).
fn bearer_is(req: &HttpRequest, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (a, b) = (Sha256::digest(given.trim().as_bytes()), Sha256::digest(expected.as_bytes()));
    crate::http::device::guard::constant_time_eq(&a, &b) && !given.is_empty()
}

/// Sets the database gauges; when the database does not answer they keep their last values
/// (`/readyz` reports the outage) and the scrape still succeeds.
async fn refresh_gauges(ctx: &State) {
    let m = &ctx.metrics;
    let stats = &ctx.punches.stats;
    for (name, n) in
        [(PUNCH_UPLOADS, &stats.uploads), (PUNCH_COMMITS, &stats.commits), (PUNCH_FALLBACKS, &stats.fallbacks)]
    {
        m.counter(name, &[]).absolute(n.load(Ordering::Relaxed));
    }
    let pool = ctx.store.pool_stats();
    for (state, n) in [("idle", pool.idle), ("in_use", pool.in_use), ("max", pool.max)] {
        m.gauge(DB_POOL, &[("state", state)]).set(f64::from(n));
    }
    match ctx.store.command_counts().await {
        Ok(counts) => {
            let count = |state: &str| counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            for state in COMMAND_STATES {
                m.gauge(COMMANDS, &[("state", state)]).set(count(state) as f64);
            }
            m.gauge(QUEUE_DEPTH, &[]).set((count("queued") + count("sent")) as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count commands"),
    }
    let since = Utc::now() - chrono::Duration::seconds(ONLINE_SECS);
    match ctx.store.devices_seen_since(since).await {
        Ok(counts) => {
            for mode in ["push", "pull"] {
                let n = counts.iter().find(|(m, _)| m == mode).map_or(0, |(_, n)| *n);
                m.gauge(DEVICES_ONLINE, &[("mode", mode)]).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count online devices"),
    }
}
