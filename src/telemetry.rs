//! Tracing subscriber setup: `pretty` for people, `json` for log collectors, and the choice of
//! access lines (written by `http::ops::observe`, target `ironclock::access`).
//! Secrets never reach the logs: configuration is printed through its redacting `Debug`.
//! Other crates log warnings and errors only by default (their INFO lines, such as the job
//! scheduler's `Job creator created` or the HTTP server's worker start-up, say nothing an
//! operator needs); `RUST_LOG` turns them back on.

use tracing_subscriber::{fmt, EnvFilter};

/// Log output format, selected by `--log-format` / `IRONCLOCK_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Which requests get an access line (device serial, route, status, milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum AccessLog {
    /// No access lines.
    Off,
    /// Requests answered with status 400 or above, or slower than [`SLOW_REQUEST_MS`].
    #[default]
    Errors,
    /// Every request (a fleet polling every few seconds makes many lines).
    All,
}

/// A request this slow gets an access line under [`AccessLog::Errors`].
pub const SLOW_REQUEST_MS: f64 = 1000.0;

impl AccessLog {
    /// Whether a request with this outcome gets an access line.
    pub fn wants(self, status: u16, millis: f64) -> bool {
        match self {
            AccessLog::Off => false,
            AccessLog::Errors => status >= 400 || millis >= SLOW_REQUEST_MS,
            AccessLog::All => true,
        }
    }
}

/// The filter used when `RUST_LOG` is unset: ironclock at INFO (DEBUG in dev mode), every other
/// crate at WARN.
pub fn default_filter(dev: bool) -> &'static str {
    if dev {
        "warn,ironclock=debug"
    } else {
        "warn,ironclock=info"
    }
}

/// The first-run link as a full URL for the address the server listens on. An unspecified
/// address (`0.0.0.0`, `::`) is shown as loopback: the link works on the server itself.
pub fn setup_link(bound: std::net::SocketAddr, token: &str) -> String {
    let host = match bound.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/setup?token={token}", bound.port())
}

/// Installs the global subscriber for the server. `RUST_LOG` overrides the default filter.
/// Safe to call twice (the second call is ignored), which tests rely on.
pub fn init(format: LogFormat, dev: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter(dev)));
    let result = match format {
        LogFormat::Pretty => fmt().with_env_filter(filter).with_target(false).try_init(),
        LogFormat::Json => fmt().json().with_env_filter(filter).with_current_span(false).try_init(),
    };
    let _ = result;
}

/// Subscriber for the shell tools (`sim`, `pull`): warnings to stderr, stdout left for output.
pub fn init_cli() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_follow_the_chosen_mode() {
        assert!(!AccessLog::Off.wants(500, 5000.0));
        assert!(!AccessLog::Errors.wants(200, 3.0));
        assert!(AccessLog::Errors.wants(503, 3.0));
        assert!(AccessLog::Errors.wants(200, 1500.0));
        assert!(AccessLog::All.wants(200, 0.1));
    }

    #[test]
    fn the_setup_link_is_a_full_url() {
        let at = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(setup_link(at("0.0.0.0:8080"), "t1"), "http://127.0.0.1:8080/setup?token=t1");
        assert_eq!(setup_link(at("192.168.1.5:80"), "t2"), "http://192.168.1.5:80/setup?token=t2");
        assert_eq!(setup_link(at("[::]:8080"), "t3"), "http://[::1]:8080/setup?token=t3");
    }

    #[test]
    fn the_default_filter_keeps_other_crates_at_warn() {
        for dev in [false, true] {
            let filter = default_filter(dev);
            assert!(filter.starts_with("warn,"), "{filter}");
            assert!(EnvFilter::try_new(filter).is_ok());
        }
    }
}
