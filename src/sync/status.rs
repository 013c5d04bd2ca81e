//! PURE status rules: how a sync row follows its command, and what a user record the device
//! showed (read-back or upload) means for the row.

use chrono::{DateTime, Utc};

use super::plan::{device_card, device_name, retry_backoff};

/// A status row as the command-state refresh sees it.
#[derive(Debug, Clone)]
pub struct RowWithCommand {
    pub device_id: i64,
    pub student_id: i64,
    pub desired_present: bool,
    pub status: String,
    pub sync_retries: i32,
    pub command_state: String,
    pub command_sent_at: Option<DateTime<Utc>>,
    /// Why the command failed or was cancelled, or what the device answered.
    pub command_error: Option<String>,
}

/// The row after its command changed state.
#[derive(Debug, Clone, PartialEq)]
pub struct RowRefresh {
    pub device_id: i64,
    pub student_id: i64,
    pub status: &'static str,
    pub command_state: String,
    pub error_message: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
    pub last_sync_attempt: Option<DateTime<Utc>>,
    /// Set when a delete was acknowledged (deletes need no read-back: the user is gone).
    pub succeeded_at: Option<DateTime<Utc>>,
}

/// `queued` → pending/deleting; `sent` → sent/deleting; `acked` → sent (an update still needs
/// the device to show the user) or deleted; `failed`/`cancelled` → failed, retried after back-off.
pub fn refresh(row: &RowWithCommand, now: DateTime<Utc>) -> RowRefresh {
    let present = row.desired_present;
    let (status, error, retry_at, success) = match row.command_state.as_str() {
        "queued" => (if present { "pending" } else { "deleting" }, None, None, None),
        "sent" => (if present { "sent" } else { "deleting" }, None, None, None),
        "acked" if present => (if row.status == "synced" { "synced" } else { "sent" }, None, None, None),
        "acked" => ("deleted", None, None, Some(now)),
        other => {
            let why = row.command_error.clone().unwrap_or_else(|| format!("command {other}"));
            ("failed", Some(why), Some(now + retry_backoff(row.sync_retries)), None)
        }
    };
    RowRefresh {
        device_id: row.device_id,
        student_id: row.student_id,
        status,
        command_state: row.command_state.clone(),
        error_message: error,
        next_retry_at: retry_at,
        last_sync_attempt: if row.command_state == "sent" { row.command_sent_at } else { None },
        succeeded_at: success,
    }
}

/// What the device showed for one PIN compared with the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The device holds the user exactly as queued: synced.
    Confirms,
    /// The device differs (name/card changed on the device, or a removed student is still there)
    /// and no fix is in flight: reset the row so it is re-sent.
    Drift,
    /// A fix is already in flight, or there is nothing to conclude.
    Nothing,
}

/// Judges one user record from the device against the row's desired state.
pub fn judge(
    desired_present: bool,
    want_name: Option<&str>,
    want_card: Option<&str>,
    in_flight: bool,
    shown_name: &str,
    shown_card: Option<&str>,
) -> Evidence {
    if !desired_present {
        return if in_flight { Evidence::Nothing } else { Evidence::Drift };
    }
    let matches =
        want_name == Some(device_name(shown_name).as_str()) && want_card.map(str::to_string) == device_card(shown_card);
    match (matches, in_flight) {
        (true, _) => Evidence::Confirms,
        (false, true) => Evidence::Nothing,
        (false, false) => Evidence::Drift,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn row(present: bool, status: &str, cmd: &str) -> RowWithCommand {
        RowWithCommand {
            device_id: 1,
            student_id: 2,
            desired_present: present,
            status: status.into(),
            sync_retries: 1,
            command_state: cmd.into(),
            command_sent_at: Some(now()),
            command_error: Some("Return=-1002: not supported".into()),
        }
    }

    #[test]
    fn an_acked_update_waits_for_evidence_and_an_acked_delete_is_done() {
        assert_eq!(refresh(&row(true, "sent", "acked"), now()).status, "sent");
        assert_eq!(refresh(&row(true, "synced", "acked"), now()).status, "synced");
        let deleted = refresh(&row(false, "deleting", "acked"), now());
        assert_eq!((deleted.status, deleted.succeeded_at), ("deleted", Some(now())));
    }

    #[test]
    fn delivery_and_failure_move_the_row() {
        let sent = refresh(&row(true, "pending", "sent"), now());
        assert_eq!((sent.status, sent.last_sync_attempt), ("sent", Some(now())));
        let failed = refresh(&row(true, "sent", "failed"), now());
        assert_eq!(failed.status, "failed");
        assert_eq!(failed.error_message.as_deref(), Some("Return=-1002: not supported"));
        assert_eq!(failed.next_retry_at, Some(now() + chrono::Duration::minutes(20)));
        assert_eq!(refresh(&row(false, "deleting", "sent"), now()).status, "deleting");
    }

    #[test]
    fn evidence_from_the_device() {
        assert_eq!(judge(true, Some("Asha"), None, false, "Asha", Some("0")), Evidence::Confirms);
        assert_eq!(judge(true, Some("Asha"), None, false, "Asha B", None), Evidence::Drift);
        assert_eq!(judge(true, Some("Asha"), Some("77"), true, "Asha", None), Evidence::Nothing);
        assert_eq!(judge(false, None, None, false, "Asha", None), Evidence::Drift);
        assert_eq!(judge(false, None, None, true, "Asha", None), Evidence::Nothing);
    }
}
