//! The per-request observer (an actix middleware over every route): counts the request in
//! `ironclock_http_requests_total{route,status}`, records its latency, and writes an access line
//! (device serial, method, route, status, milliseconds) when `--access-log` asks for one.
//!
//! Off the hot path: device routes use counters and histograms registered once at start-up, so
//! a command poll costs two atomic adds and no lock or database trip. Other routes (the admin
//! API, the dashboard) look their series up in the registry.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use metrics::{Counter, Histogram};

use crate::http::device::Endpoint;
use crate::metrics::{Metrics, HTTP_DURATION, HTTP_REQUESTS};
use crate::telemetry::AccessLog;

/// Statuses device routes answer with, pre-registered for each device route.
const DEVICE_STATUSES: [u16; 7] = [200, 400, 403, 404, 413, 500, 503];

/// The series of one device route, registered at start-up.
struct DeviceSeries {
    route: &'static str,
    duration: Histogram,
    by_status: Vec<(u16, Counter)>,
}

/// What the observer keeps: the metrics, the access-log choice and the device routes' series.
pub struct HttpObserver {
    metrics: Arc<Metrics>,
    access: AccessLog,
    device: Vec<(Endpoint, DeviceSeries)>,
}

impl HttpObserver {
    pub fn new(metrics: Arc<Metrics>, access: AccessLog) -> Self {
        let device = [
            Endpoint::CData,
            Endpoint::FData,
            Endpoint::GetRequest,
            Endpoint::DeviceCmd,
            Endpoint::Ping,
            Endpoint::Registry,
            Endpoint::Push,
            Endpoint::QueryData,
            Endpoint::RtData,
            Endpoint::Other,
        ]
        .into_iter()
        .map(|e| {
            let route = device_route(e);
            let by_status = DEVICE_STATUSES
                .iter()
                .map(|s| (*s, metrics.counter(HTTP_REQUESTS, &[("route", route), ("status", &s.to_string())])))
                .collect();
            (e, DeviceSeries { route, duration: metrics.histogram(HTTP_DURATION, &[("route", route)]), by_status })
        })
        .collect();
        Self { metrics, access, device }
    }

    /// Counts one request and writes its access line when one is wanted.
    fn record(&self, route: Route<'_>, status: u16, seconds: f64, req: &actix_web::HttpRequest) {
        let label = match route {
            Route::Device(endpoint) => {
                let Some((_, series)) = self.device.iter().find(|(e, _)| *e == endpoint) else {
                    return;
                };
                series.duration.record(seconds);
                match series.by_status.iter().find(|(s, _)| *s == status) {
                    Some((_, counter)) => counter.increment(1),
                    None => self.count(series.route, status),
                }
                series.route
            }
            Route::Other(pattern) => {
                self.metrics.histogram(HTTP_DURATION, &[("route", pattern)]).record(seconds);
                self.count(pattern, status);
                pattern
            }
        };
        let millis = seconds * 1000.0;
        if self.access.wants(status, millis) {
            let serial = device_serial(req.query_string());
            tracing::info!(
                target: "ironclock::access",
                sn = serial.as_deref().unwrap_or("-"),
                method = %req.method(),
                route = label,
                status,
                ms = format!("{millis:.1}"),
                "request"
            );
        }
    }

    fn count(&self, route: &str, status: u16) {
        self.metrics.counter(HTTP_REQUESTS, &[("route", route), ("status", &status.to_string())]).increment(1);
    }
}

/// The route label of a request: a device endpoint, or a mounted pattern (bounded cardinality:
/// never a raw path).
enum Route<'a> {
    Device(Endpoint),
    Other(&'a str),
}

/// The middleware: wrap the app with `from_fn(observe)` and give it the [`HttpObserver`] as app data.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let observer = req.app_data::<web::Data<HttpObserver>>().cloned();
    let endpoint = Endpoint::from_path(req.path());
    let res = next.call(req).await?;
    if let Some(observer) = observer {
        let status = res.status().as_u16();
        let seconds = started.elapsed().as_secs_f64();
        match endpoint {
            Some(endpoint) => observer.record(Route::Device(endpoint), status, seconds, res.request()),
            None => {
                let pattern = res.request().match_pattern();
                let route = Route::Other(pattern.as_deref().unwrap_or("other"));
                observer.record(route, status, seconds, res.request());
            }
        }
    }
    Ok(res)
}

/// The label of a device endpoint.
fn device_route(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::CData => "/iclock/cdata",
        Endpoint::FData => "/iclock/fdata",
        Endpoint::GetRequest => "/iclock/getrequest",
        Endpoint::DeviceCmd => "/iclock/devicecmd",
        Endpoint::Ping => "/iclock/ping",
        Endpoint::Registry => "/iclock/registry",
        Endpoint::Push => "/iclock/push",
        Endpoint::QueryData => "/iclock/querydata",
        Endpoint::RtData => "/iclock/rtdata",
        Endpoint::Other => "/iclock/other",
    }
}

/// The `SN` query parameter, for the access line.
fn device_serial(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k.eq_ignore_ascii_case("sn")).map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serial_is_read_from_the_query_in_any_case() {
        assert_eq!(device_serial("SN=ABC123&options=all").as_deref(), Some("ABC123"));
        assert_eq!(device_serial("table=ATTLOG&sn=X%201").as_deref(), Some("X 1"));
        assert_eq!(device_serial("table=ATTLOG"), None);
    }
}
