//! PURE desired-vs-recorded diff for student sync: given, per (device, student) pair, what the
//! roster wants and what the status table records, decide which USERINFO commands to queue and
//! how each status row changes. Every sync path (a student write, full sync, the verifier, drift
//! repair, a manual retry) goes through [`plan`], so they cannot disagree about the rules.
//!
//! Rules:
//! - a pair whose desired user record (name and card, as the device shows them) is unchanged and
//!   not failed needs nothing, so edits that the device cannot see (class, section) queue nothing;
//! - repeated edits coalesce: when the row's last command is still `queued` (not delivered), that
//!   command is rewritten in place with the latest state instead of queueing another one;
//! - a row with a command in flight (`queued`/`sent`) is never given a duplicate.

use crate::domain::Pin;
use chrono::{DateTime, Utc};

use crate::push::command::{card_number, clean_name, Command, UserInfo};

/// Why the plan runs; decides which rows beyond real changes are (re)sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// A student was created, changed, deactivated or deleted: send real changes; a failed row
    /// is re-sent because the admin just touched the student.
    StudentChanged,
    /// The verifier: real changes, rows reset to `pending`/`deleting` without a command in flight,
    /// and failed rows whose back-off has passed.
    Verify,
    /// Manual full sync / manual retry: every pair without a command in flight is (re)sent.
    Force,
}

/// One (device, student) pair as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncTarget {
    pub device_id: i64,
    pub student_id: i64,
    pub pin: Pin,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    /// The student should be on the device (live, active, device approved in the school).
    pub should_hold: bool,
    pub row: Option<RecordedRow>,
    /// The device's push dialect: the command is written in its grammar.
    pub dialect: crate::domain::Dialect,
}

/// The status row of a pair, with the state of its last command.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRow {
    pub desired_present: bool,
    pub status: String,
    pub want_name: Option<String>,
    pub want_card: Option<String>,
    pub last_command_id: Option<i64>,
    pub command_state: Option<String>,
    pub sync_retries: i32,
    pub next_retry_at: Option<DateTime<Utc>>,
}

impl RecordedRow {
    fn in_flight(&self) -> bool {
        matches!(self.command_state.as_deref(), Some("queued" | "sent"))
    }
}

/// What to do with a command for a pair.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandAction {
    /// Rewrite the still-queued command `id` (coalescing).
    Rewrite { id: i64 },
    /// Queue a new command.
    Insert,
    /// The command cannot be rendered (e.g. a PIN the device cannot hold): nothing is queued and
    /// the row fails with the reason, for an admin to fix.
    Refused { reason: String },
}

/// One planned change: a command and the status row after it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSync {
    pub device_id: i64,
    pub student_id: i64,
    pub pin: Pin,
    pub present: bool,
    pub command: Command,
    /// The verb in the device's dialect (what a -1002/-629 marks unsupported).
    pub verb: &'static str,
    /// The command as the device receives it (empty when `Refused`).
    pub payload: String,
    pub action: CommandAction,
    pub want_name: Option<String>,
    pub want_card: Option<String>,
    /// `sync_retries` after this change (a failed row being re-sent counts one retry).
    pub retries: i32,
    /// The row had failed: this is a retry.
    pub was_failed: bool,
}

impl PlannedSync {
    /// The status the row takes when this change is queued.
    pub fn status(&self) -> &'static str {
        if matches!(self.action, CommandAction::Refused { .. }) {
            "failed"
        } else if self.present {
            "pending"
        } else {
            "deleting"
        }
    }
}

/// The card as the device shows it: in decimal ([`card_number`]: `0x…`/`00BC614E` hex
/// converted, leading zeros dropped); empty and `0` mean no card.
pub fn device_card(card: Option<&str>) -> Option<String> {
    card.and_then(card_number)
}

/// The name as the device shows it (cleaned, cut to the device limit).
pub fn device_name(name: &str) -> String {
    clean_name(name)
}

/// Plans the commands for `targets`. Pure: `now` decides which failed rows are due.
pub fn plan(targets: &[SyncTarget], mode: SyncMode, now: DateTime<Utc>) -> Vec<PlannedSync> {
    targets.iter().filter_map(|t| plan_one(t, mode, now)).collect()
}

fn plan_one(t: &SyncTarget, mode: SyncMode, now: DateTime<Utc>) -> Option<PlannedSync> {
    let name = device_name(&t.full_name);
    let card = device_card(t.rfid_card_id.as_deref());
    let row = t.row.as_ref();
    let in_flight = row.is_some_and(RecordedRow::in_flight);
    let failed = row.is_some_and(|r| r.status == "failed");
    let retry_due = failed && row.and_then(|r| r.next_retry_at).is_none_or(|at| at <= now);
    let needed = if t.should_hold {
        let same = row
            .is_some_and(|r| r.desired_present && r.want_name.as_deref() == Some(name.as_str()) && r.want_card == card);
        let stalled = row.is_some_and(|r| r.status == "pending" || r.status == "deleting") && !in_flight;
        match mode {
            SyncMode::StudentChanged => !same || failed,
            SyncMode::Verify => !same || stalled || retry_due,
            SyncMode::Force => !same || !in_flight,
        }
    } else {
        let r = row?;
        let changed = r.desired_present;
        let stalled = (r.status == "deleting" || r.status == "failed") && !in_flight;
        match mode {
            SyncMode::StudentChanged => changed || failed,
            SyncMode::Verify => changed || (stalled && (r.status != "failed" || retry_due)),
            SyncMode::Force => changed || stalled,
        }
    };
    if !needed {
        return None;
    }
    let action = match row {
        Some(r) if r.command_state.as_deref() == Some("queued") => match r.last_command_id {
            Some(id) => CommandAction::Rewrite { id },
            None => CommandAction::Insert,
        },
        _ => CommandAction::Insert,
    };
    let command = if t.should_hold {
        Command::UserUpdate(UserInfo::student(t.pin.as_str(), &t.full_name, t.rfid_card_id.as_deref()))
    } else {
        Command::UserDelete { pin: t.pin.to_string() }
    };
    let retries = row.map_or(0, |r| r.sync_retries) + i32::from(failed);
    let (verb, payload, action) = match crate::domain::command::wire::encode(t.dialect, &command) {
        Ok(encoded) => (encoded.verb, encoded.payload, action),
        Err(e) => (command.verb(), String::new(), CommandAction::Refused { reason: e.to_string() }),
    };
    Some(PlannedSync {
        device_id: t.device_id,
        student_id: t.student_id,
        pin: t.pin.clone(),
        present: t.should_hold,
        command,
        verb,
        payload,
        action,
        want_name: t.should_hold.then_some(name),
        want_card: if t.should_hold { card } else { None },
        retries,
        was_failed: failed,
    })
}

/// Back-off before the verifier re-sends a failed row: 10 min doubling per retry, at most 24 h.
pub fn retry_backoff(retries: i32) -> chrono::Duration {
    let minutes = 10i64.saturating_mul(1i64 << retries.clamp(0, 8));
    chrono::Duration::minutes(minutes.min(24 * 60))
}

/// The most deletes the verifier may queue for a device in one run: 10 % of the students it
/// holds or 50, whichever is larger. More than that looks like a broken roster, not real leavers.
pub fn delete_cap(held: usize) -> usize {
    (held / 10).max(50)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn target(hold: bool, row: Option<RecordedRow>) -> SyncTarget {
        SyncTarget {
            device_id: 1,
            student_id: 7,
            pin: "1007".into(),
            full_name: "Asha Rao".into(),
            rfid_card_id: Some("123".into()),
            should_hold: hold,
            row,
            dialect: crate::domain::Dialect::Att,
        }
    }

    fn row(status: &str, cmd: Option<(&str, i64)>) -> RecordedRow {
        RecordedRow {
            desired_present: status != "deleting" && status != "deleted",
            status: status.into(),
            want_name: Some("Asha Rao".into()),
            want_card: Some("123".into()),
            last_command_id: cmd.map(|c| c.1),
            command_state: cmd.map(|c| c.0.to_string()),
            sync_retries: 0,
            next_retry_at: None,
        }
    }

    #[test]
    fn a_new_student_gets_one_update_and_a_pending_row() {
        let p = plan(&[target(true, None)], SyncMode::StudentChanged, now());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].action, CommandAction::Insert);
        assert_eq!(p[0].status(), "pending");
        assert_eq!(p[0].payload.split('\t').next().unwrap(), "DATA UPDATE USERINFO PIN=1007");
    }

    #[test]
    fn a_command_that_cannot_be_rendered_fails_the_row_with_the_reason_and_queues_nothing() {
        let mut t = target(true, None);
        t.pin = "not a pin!".into();
        let p = plan(&[t], SyncMode::StudentChanged, now());
        assert!(matches!(&p[0].action, CommandAction::Refused { reason } if reason.contains("not valid")));
        assert_eq!(p[0].status(), "failed");
        assert!(p[0].payload.is_empty());
    }

    #[test]
    fn an_unchanged_synced_student_needs_nothing_unless_forced() {
        let t = target(true, Some(row("synced", Some(("acked", 4)))));
        assert!(plan(std::slice::from_ref(&t), SyncMode::StudentChanged, now()).is_empty());
        assert!(plan(std::slice::from_ref(&t), SyncMode::Verify, now()).is_empty());
        assert_eq!(plan(&[t], SyncMode::Force, now()).len(), 1);
    }

    #[test]
    fn edits_coalesce_into_the_still_queued_command() {
        let mut t = target(true, Some(row("pending", Some(("queued", 9)))));
        t.full_name = "Asha R. Rao".into();
        let p = plan(std::slice::from_ref(&t), SyncMode::StudentChanged, now());
        assert_eq!(p[0].action, CommandAction::Rewrite { id: 9 });
        assert_eq!(p[0].want_name.as_deref(), Some("Asha R. Rao"));
        // Once delivered, a change needs a new command after it.
        t.row = Some(row("sent", Some(("sent", 9))));
        assert_eq!(plan(&[t], SyncMode::StudentChanged, now())[0].action, CommandAction::Insert);
    }

    #[test]
    fn a_forced_sync_never_duplicates_a_command_in_flight() {
        let t = target(true, Some(row("pending", Some(("queued", 9)))));
        assert!(plan(&[t], SyncMode::Force, now()).is_empty());
    }

    #[test]
    fn removal_queues_a_delete_only_for_students_the_device_may_hold() {
        assert!(plan(&[target(false, None)], SyncMode::Verify, now()).is_empty(), "never sent: nothing to delete");
        let p = plan(&[target(false, Some(row("synced", Some(("acked", 3)))))], SyncMode::StudentChanged, now());
        assert_eq!(p[0].command, Command::UserDelete { pin: "1007".into() });
        assert_eq!(p[0].status(), "deleting");
        let gone = target(false, Some(row("deleted", Some(("acked", 5)))));
        assert!(plan(&[gone], SyncMode::Verify, now()).is_empty());
        // A delete whose command was already queued is replaced, not doubled.
        let p = plan(&[target(false, Some(row("pending", Some(("queued", 8)))))], SyncMode::StudentChanged, now());
        assert_eq!(p[0].action, CommandAction::Rewrite { id: 8 });
    }

    #[test]
    fn the_verifier_retries_failed_rows_only_after_their_back_off() {
        let mut r = row("failed", Some(("failed", 3)));
        r.sync_retries = 2;
        r.next_retry_at = Some(now() + chrono::Duration::minutes(5));
        assert!(plan(&[target(true, Some(r.clone()))], SyncMode::Verify, now()).is_empty());
        r.next_retry_at = Some(now() - chrono::Duration::minutes(1));
        let p = plan(&[target(true, Some(r))], SyncMode::Verify, now());
        assert_eq!(p[0].retries, 3);
    }

    #[test]
    fn drift_reset_rows_are_resent_by_the_verifier() {
        let mut r = row("pending", Some(("acked", 3)));
        r.want_name = None;
        assert_eq!(plan(&[target(true, Some(r))], SyncMode::Verify, now()).len(), 1);
    }

    #[test]
    fn names_and_cards_compare_as_the_device_shows_them() {
        assert_eq!(device_card(Some("0")), None);
        assert_eq!(device_card(Some("")), None);
        assert_eq!(device_card(Some("0042")), Some("42".into()), "the device keeps a number");
        assert_eq!(device_card(Some("00BC614E")), Some("12345678".into()), "hex goes out in decimal");
        assert_eq!(device_name("A\tvery long name that is longer than the limit"), "A very long name that is");
    }

    #[test]
    fn the_delete_cap_is_ten_percent_or_fifty() {
        assert_eq!(delete_cap(100), 50);
        assert_eq!(delete_cap(2000), 200);
        assert_eq!(retry_backoff(0), chrono::Duration::minutes(10));
        assert_eq!(retry_backoff(30), chrono::Duration::hours(24));
    }

    #[test]
    fn an_acc_device_is_planned_the_acc_user_row_never_userinfo() {
        let acc = SyncTarget { dialect: crate::domain::Dialect::Acc, ..target(true, None) };
        let p = plan(&[acc], SyncMode::StudentChanged, now());
        assert_eq!(p[0].verb, "DATA UPDATE user");
        assert!(p[0].payload.starts_with("DATA UPDATE user CardNo=123\tPin=1007\t"), "{}", p[0].payload);
        let gone = SyncTarget { dialect: crate::domain::Dialect::Acc, ..target(false, Some(row("synced", None))) };
        assert_eq!(plan(&[gone], SyncMode::StudentChanged, now())[0].payload, "DATA DELETE user Pin=1007");
    }
}
