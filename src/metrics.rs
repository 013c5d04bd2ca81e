//! The Prometheus metrics of one server instance, through the `metrics` crate and its Prometheus
//! exporter (no hand-written exposition). Each instance owns its recorder (no global state, so
//! several apps in one test process keep separate counts); `render` is what `/metrics` serves.
//!
//! Hot paths hold pre-registered handles (an atomic add, no lock); [`Metrics::counter`] and
//! friends look a series up in the exporter's registry and are for cold paths (uploads, job runs,
//! scrapes). Gauges that describe the database (queue depth, devices online, pool connections)
//! are set when `/metrics` is scraped, never per request.

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Requests served, by `route` and `status`.
pub const HTTP_REQUESTS: &str = "ironclock_http_requests_total";
/// Request latency in seconds, by `route`.
pub const HTTP_DURATION: &str = "ironclock_http_request_duration_seconds";
/// Uploaded lines, by `table` and `result` (`inserted`, `duplicate`, `rejected`).
pub const UPLOAD_LINES: &str = "ironclock_upload_lines_total";
/// Punches stored (new rows in the attendance log), from push uploads.
pub const PUNCHES_STORED: &str = "ironclock_punches_stored_total";
/// Commands in the queue table, by `state`.
pub const COMMANDS: &str = "ironclock_commands";
/// Commands waiting for delivery or acknowledgement (`queued` + `sent`).
pub const QUEUE_DEPTH: &str = "ironclock_queue_depth";
/// Devices seen recently, by `mode` (`push`, `pull`).
pub const DEVICES_ONLINE: &str = "ironclock_devices_online";
/// Scheduled job runs, by `job` and `status`.
pub const JOB_RUNS: &str = "ironclock_job_runs_total";
/// Job run time in seconds, by `job`.
pub const JOB_DURATION: &str = "ironclock_job_duration_seconds";
/// Database pool connections, by `state` (`idle`, `in_use`, `max`).
pub const DB_POOL: &str = "ironclock_db_pool_connections";
/// Punch uploads stored through the group committer.
pub const PUNCH_UPLOADS: &str = "ironclock_punch_uploads_committed_total";
/// Transactions (one fsync each) that stored punch uploads: uploads / commits is the grouping.
pub const PUNCH_COMMITS: &str = "ironclock_punch_commits_total";
/// Groups that failed as a whole and were stored upload by upload.
pub const PUNCH_FALLBACKS: &str = "ironclock_punch_commit_fallbacks_total";

/// Latency buckets (seconds): an idle poll is well under a millisecond, an upload a few.
const SECONDS_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Job buckets (seconds): purges and verifier runs take seconds to minutes.
const JOB_BUCKETS: &[f64] = &[0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0];

static METADATA: Metadata<'static> = Metadata::new("ironclock", Level::INFO, Some(module_path!()));

/// One instance's metrics registry.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Metrics {
    /// A fresh registry with this server's series described and its histograms bucketed.
    pub fn new() -> Arc<Self> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), SECONDS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(JOB_DURATION.into()), JOB_BUCKETS))
            .expect("static, non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self { recorder, handle };
        metrics.describe();
        Arc::new(metrics)
    }

    fn describe(&self) {
        let r = &self.recorder;
        r.describe_counter(HTTP_REQUESTS.into(), None, "HTTP requests served, by route and status".into());
        r.describe_histogram(HTTP_DURATION.into(), Some(Unit::Seconds), "HTTP request latency, by route".into());
        r.describe_counter(UPLOAD_LINES.into(), None, "Device upload lines, by table and result".into());
        r.describe_counter(PUNCHES_STORED.into(), None, "Punches newly stored from device uploads".into());
        r.describe_gauge(COMMANDS.into(), None, "Device commands in the queue table, by state".into());
        r.describe_gauge(QUEUE_DEPTH.into(), None, "Commands waiting for delivery or acknowledgement".into());
        r.describe_gauge(DEVICES_ONLINE.into(), None, "Approved devices seen recently, by mode".into());
        r.describe_counter(JOB_RUNS.into(), None, "Scheduled job runs, by job and status".into());
        r.describe_histogram(JOB_DURATION.into(), Some(Unit::Seconds), "Job run time, by job".into());
        r.describe_gauge(DB_POOL.into(), None, "Database pool connections, by state".into());
        r.describe_counter(PUNCH_UPLOADS.into(), None, "Punch uploads stored through the group committer".into());
        r.describe_counter(PUNCH_COMMITS.into(), None, "Transactions (fsyncs) that stored punch uploads".into());
        r.describe_counter(PUNCH_FALLBACKS.into(), None, "Upload groups retried upload by upload".into());
    }

    /// The counter `name{labels}` (a registry look-up: keep the handle on hot paths).
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Counter {
        self.recorder.register_counter(&key(name, labels), &METADATA)
    }

    /// The gauge `name{labels}`.
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Gauge {
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    /// The histogram `name{labels}`.
    pub fn histogram(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Histogram {
        self.recorder.register_histogram(&key(name, labels), &METADATA)
    }

    /// Counts one finished job run and its duration.
    pub fn job_run(&self, job: &str, succeeded: bool, seconds: f64) {
        let status = if succeeded { "succeeded" } else { "failed" };
        self.counter(JOB_RUNS, &[("job", job), ("status", status)]).increment(1);
        self.histogram(JOB_DURATION, &[("job", job)]).record(seconds);
    }

    /// Counts the lines of one stored upload (`table` as the device names it, e.g. `ATTLOG`);
    /// for `ATTLOG`, the inserted lines are also the punches stored.
    pub fn upload(&self, table: &str, report: &crate::store::IngestReport) {
        let lines = [("inserted", report.inserted), ("duplicate", report.duplicates), ("rejected", report.rejected)];
        for (result, n) in lines {
            if n > 0 {
                self.counter(UPLOAD_LINES, &[("table", table), ("result", result)]).increment(n as u64);
            }
        }
        if table == "ATTLOG" && report.inserted > 0 {
            self.counter(PUNCHES_STORED, &[]).increment(report.inserted as u64);
        }
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    Key::from_parts(name, labels.iter().map(|(k, v)| Label::new(*k, v.to_string())).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_prometheus_text() {
        let metrics = Metrics::new();
        metrics.counter(HTTP_REQUESTS, &[("route", "/iclock/getrequest"), ("status", "200")]).increment(3);
        metrics.histogram(HTTP_DURATION, &[("route", "/iclock/getrequest")]).record(0.0007);
        metrics.job_run("retention", true, 0.2);
        let text = metrics.render();
        assert!(text.contains(r#"ironclock_http_requests_total{route="/iclock/getrequest",status="200"} 3"#), "{text}");
        assert!(
            text.contains(r#"ironclock_http_request_duration_seconds_bucket{route="/iclock/getrequest",le="0.001"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"ironclock_job_runs_total{job="retention",status="succeeded"} 1"#), "{text}");
    }

    #[test]
    fn two_registries_do_not_share_counts() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.counter(PUNCHES_STORED, &[]).increment(5);
        assert!(a.render().contains("ironclock_punches_stored_total 5"));
        assert!(!b.render().contains("ironclock_punches_stored_total 5"));
    }
}
