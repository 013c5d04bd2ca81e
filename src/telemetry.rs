//! Tracing subscriber setup: `pretty` for people, `json` for log collectors.
//! Secrets never reach the logs: configuration is printed through its redacting `Debug`.

use tracing_subscriber::{fmt, EnvFilter};

/// Log output format, selected by `--log-format` / `IRONCLOCK_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Installs the global subscriber for the server. `RUST_LOG` overrides the default filter.
/// Safe to call twice (the second call is ignored), which tests rely on.
pub fn init(format: LogFormat, dev: bool) {
    let default = if dev { "info,ironclock=debug" } else { "info,sqlx=warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
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
