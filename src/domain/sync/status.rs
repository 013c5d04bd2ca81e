//! PURE status rules: how a sync row follows its command, and what a user record the device
//! showed (read-back or upload) means for the row.

use crate::domain::Pin;
use chrono::{DateTime, Utc};

use super::plan::{device_card, device_name, retry_backoff};
use super::ObservedUser;

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

/// A student of the device's school whose PIN the device showed, with its row for the device.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownPin {
    pub pin: Pin,
    pub student_id: i64,
    /// Live and active: should be on the device.
    pub live: bool,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    /// `present` / `absent`; `None` when ironclock never targeted this device for the student.
    pub desired: Option<String>,
    pub want_name: Option<String>,
    pub want_card: Option<String>,
    pub command_state: Option<String>,
}

/// What a batch of user records from the device means for the rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// Rows confirmed (synced).
    pub confirmed: Vec<i64>,
    /// Rows to reset and re-send (includes `adopt_reset`).
    pub drifted: Vec<i64>,
    /// Students without a row that the device holds exactly as wanted: (student, pin, name, card).
    pub adopt_confirmed: Vec<(i64, String, String, Option<String>)>,
    /// Students without a row that the device holds differently, or should not hold.
    pub adopt_reset: Vec<i64>,
    /// PINs that are no student of the school.
    pub unknown: usize,
}

/// Judges every user record (the first record of a PIN counts) against the known PINs.
pub fn observe(known: &[KnownPin], users: &[ObservedUser]) -> Observation {
    let mut out = Observation::default();
    let mut seen = std::collections::HashSet::new();
    for u in users {
        if !seen.insert(u.pin.as_str()) {
            continue;
        }
        let Some(k) = known.iter().find(|k| k.pin == u.pin) else {
            out.unknown += 1;
            continue;
        };
        let Some(desired) = k.desired.as_deref() else {
            // Held but never queued by ironclock (enrolled by hand, or before ironclock).
            let name = device_name(&k.full_name);
            let card = device_card(k.rfid_card_id.as_deref());
            let same = judge(true, Some(&name), card.as_deref(), false, &u.name, u.card.as_deref());
            if k.live && same == Evidence::Confirms {
                out.adopt_confirmed.push((k.student_id, u.pin.to_string(), name, card));
                out.confirmed.push(k.student_id);
            } else {
                out.adopt_reset.push(k.student_id);
                out.drifted.push(k.student_id);
            }
            continue;
        };
        let in_flight = matches!(k.command_state.as_deref(), Some("queued" | "sent"));
        let shown = (&u.name, u.card.as_deref());
        match judge(desired == "present", k.want_name.as_deref(), k.want_card.as_deref(), in_flight, shown.0, shown.1) {
            Evidence::Confirms => out.confirmed.push(k.student_id),
            Evidence::Drift => out.drifted.push(k.student_id),
            Evidence::Nothing => {}
        }
    }
    out.drifted.sort_unstable();
    out.drifted.dedup();
    out
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

    fn known(pin: &str, desired: Option<&str>, want: Option<&str>) -> KnownPin {
        KnownPin {
            pin: pin.into(),
            student_id: pin.parse().unwrap(),
            live: desired != Some("absent"),
            full_name: "Asha".into(),
            rfid_card_id: None,
            desired: desired.map(str::to_string),
            want_name: want.map(str::to_string),
            want_card: None,
            command_state: Some("acked".into()),
        }
    }

    fn user(pin: &str, name: &str) -> ObservedUser {
        ObservedUser { pin: pin.into(), name: name.into(), card: None }
    }

    #[test]
    fn a_read_back_confirms_adopts_flags_drift_and_counts_strangers() {
        let rows = [
            known("1", Some("present"), Some("Asha")),
            known("2", Some("present"), Some("Asha")),
            known("3", None, None),
            known("4", Some("absent"), None),
        ];
        let users = [
            user("1", "Asha"),
            user("2", "Changed At Keypad"),
            user("3", "Asha"),
            user("4", "Gone"),
            user("9", "Visitor"),
            user("1", "dup"),
        ];
        let o = observe(&rows, &users);
        assert_eq!(o.confirmed, vec![1, 3]);
        assert_eq!(o.adopt_confirmed, vec![(3, "3".into(), "Asha".into(), None)]);
        assert_eq!(o.drifted, vec![2, 4]);
        assert_eq!(o.unknown, 1);
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
