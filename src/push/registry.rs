//! Acc-dialect ("access control PUSH") registration replies: `POST /iclock/registry` gets
//! `RegistryCode=<code>` and `/iclock/push` (or a registered device's `options=all`) gets
//! the config block (push.md 2.4 "Reply, acc dialect"; SEC-CN 7.1-7.5; captures 04, 17).

/// The `/iclock/push` config block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccPushConfig {
    /// When `Some`, the block starts `registry=ok\nRegistryCode=<code>` (the `options=all`
    /// reply to an already registered device, capture 17).
    pub registry_code: Option<String>,
    /// `ServerVersion`.
    pub server_version: String,
    /// `ServerName`.
    pub server_name: String,
    /// `PushProtVer`, written when `Some` (capture 17 has it, the SEC doc example of capture 04 not).
    pub push_prot_ver: Option<String>,
    /// `PushVersion`.
    pub push_version: String,
    /// `ErrorDelay` seconds.
    pub error_delay: u32,
    /// `RequestDelay` seconds between polls.
    pub request_delay: u32,
    /// `TransTimes`.
    pub trans_times: String,
    /// `TransInterval` minutes.
    pub trans_interval: u32,
    /// `TransTables`, e.g. `User Transaction`.
    pub trans_tables: String,
    /// `Realtime`.
    pub realtime: bool,
    /// `SessionID`: keep it stable per device, the cookie token derives from it.
    pub session_id: String,
    /// `TimeoutSec`.
    pub timeout_sec: u32,
}

impl AccPushConfig {
    /// The values a live push 3.1.2 device runs on (capture 17): ServerVersion 3.1.2, ADMS,
    /// ErrorDelay 30, RequestDelay 10, TransTimes `00:00;14:05`, TransInterval 1, Realtime 1,
    /// TimeoutSec 10.
    pub fn new(registry_code: Option<&str>, session_id: &str) -> AccPushConfig {
        AccPushConfig {
            registry_code: registry_code.map(str::to_owned),
            server_version: "3.1.2".to_owned(),
            server_name: "ADMS".to_owned(),
            push_prot_ver: Some("3.1.2".to_owned()),
            push_version: "3.1.2".to_owned(),
            error_delay: 30,
            request_delay: 10,
            trans_times: "00:00;14:05".to_owned(),
            trans_interval: 1,
            trans_tables: "User Transaction".to_owned(),
            realtime: true,
            session_id: session_id.to_owned(),
            timeout_sec: 10,
        }
    }
}

/// Renders the config block: LF line ends, no trailing newline; CR/LF inside values removed.
pub fn render_acc_push_config(cfg: &AccPushConfig) -> String {
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(code) = &cfg.registry_code {
        lines.push(("registry", "ok".to_owned()));
        lines.push(("RegistryCode", code.clone()));
    }
    lines.push(("ServerVersion", cfg.server_version.clone()));
    lines.push(("ServerName", cfg.server_name.clone()));
    if let Some(version) = &cfg.push_prot_ver {
        lines.push(("PushProtVer", version.clone()));
    }
    lines.extend([
        ("PushVersion", cfg.push_version.clone()),
        ("ErrorDelay", cfg.error_delay.to_string()),
        ("RequestDelay", cfg.request_delay.to_string()),
        ("TransTimes", cfg.trans_times.clone()),
        ("TransInterval", cfg.trans_interval.to_string()),
        ("TransTables", cfg.trans_tables.clone()),
        ("Realtime", if cfg.realtime { "1" } else { "0" }.to_owned()),
        ("SessionID", cfg.session_id.clone()),
        ("TimeoutSec", cfg.timeout_sec.to_string()),
    ]);
    lines.iter().map(|(key, value)| format!("{key}={}", value.replace(['\r', '\n'], ""))).collect::<Vec<_>>().join("\n")
}

/// `POST /iclock/registry` reply: exactly `RegistryCode=<code>`, no newline. A bare `OK`
/// makes the firmware re-register every ~15 s and never send data (captures 07, 17).
pub fn registry_code_reply(code: &str) -> String {
    format!("RegistryCode={}", code.replace(['\r', '\n'], ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_reply_has_no_trailing_newline() {
        assert_eq!(registry_code_reply("Uy47fxftP3"), "RegistryCode=Uy47fxftP3");
        assert_eq!(registry_code_reply("Uy47fxftP3").len(), 23);
    }

    #[test]
    fn registered_device_block_starts_with_registry_ok() {
        let block = render_acc_push_config(&AccPushConfig::new(Some("abc"), "S1"));
        assert!(block.starts_with("registry=ok\nRegistryCode=abc\nServerVersion=3.1.2\n"));
        assert!(block.ends_with("\nSessionID=S1\nTimeoutSec=10"));
    }

    #[test]
    fn push_block_without_registry_code_starts_with_server_version() {
        let mut cfg = AccPushConfig::new(None, "S1");
        cfg.push_prot_ver = None;
        let block = render_acc_push_config(&cfg);
        assert!(block.starts_with("ServerVersion=3.1.2\nServerName=ADMS\nPushVersion=3.1.2\n"));
    }
}
