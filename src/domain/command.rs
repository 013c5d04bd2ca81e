//! Queued device commands as the server tracks them: state machine and delivery policy
//! (which commands one reply carries: [`batch`]).

pub mod batch;
pub mod wire;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::DeviceId;

/// `queued → sent → acked | failed | cancelled` (a `sent` command without an ack is re-sent
/// after the ack timeout, up to `max_attempts`, then `failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    Queued,
    Sent,
    Acked,
    Failed,
    Cancelled,
}

impl CommandState {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandState::Queued => "queued",
            CommandState::Sent => "sent",
            CommandState::Acked => "acked",
            CommandState::Failed => "failed",
            CommandState::Cancelled => "cancelled",
        }
    }

    /// Acked, failed or cancelled: nothing more happens to the command.
    pub fn is_final(self) -> bool {
        matches!(self, CommandState::Acked | CommandState::Failed | CommandState::Cancelled)
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => CommandState::Queued,
            "sent" => CommandState::Sent,
            "acked" => CommandState::Acked,
            "failed" => CommandState::Failed,
            "cancelled" => CommandState::Cancelled,
            _ => return None,
        })
    }
}

impl TryFrom<String> for CommandState {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown command state {s:?}"))
    }
}

/// A command to add to a device's queue (already rendered and sanitised).
#[derive(Debug, Clone)]
pub struct NewCommand {
    pub device_id: DeviceId,
    pub kind: String,
    pub verb: String,
    pub payload: String,
    pub ends_batch: bool,
    pub max_attempts: i32,
    pub student_id: Option<i64>,
    pub pin: Option<String>,
    /// Index into the same `enqueue` call's list (a command queued together with its dependency),
    /// resolved to the dependency's id by the store.
    pub depends_on_index: Option<usize>,
    /// An already stored command this one waits for.
    pub depends_on: Option<i64>,
    pub created_by: Option<String>,
}

/// A stored command.
#[derive(sqlx::FromRow, Debug, Clone, Serialize)]
pub struct QueuedCommand {
    pub id: i64,
    pub device_id: i64,
    pub kind: String,
    pub verb: String,
    pub payload: String,
    pub ends_batch: bool,
    #[sqlx(try_from = "String")]
    pub state: CommandState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub return_code: Option<i64>,
    pub return_message: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub student_id: Option<i64>,
    pub pin: Option<String>,
    pub depends_on: Option<i64>,
    pub created_by: Option<String>,
    /// The school the command was written for (a moved device's earlier commands keep theirs).
    #[sqlx(default)]
    pub school_id: Option<crate::domain::SchoolId>,
}

/// Limits of one `getrequest` reply.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// Most commands per reply.
    pub max_count: usize,
    /// Most bytes per reply (`C:<id>:<payload>\n` lines); one command is always allowed.
    pub max_bytes: usize,
    /// How long a `sent` command waits for its ack before it is re-sent.
    pub ack_timeout: chrono::Duration,
}

/// Command kinds that wait for a person at the device (ENROLL_FP, ENROLL_BIO): the device
/// answers only once the finger or face was presented up to `RETRY` times, or the enrolment
/// was cancelled or timed out (Return 4/5/6). Re-sending one earlier restarts the enrolment
/// under the person's hand, so they wait [`BatchPolicy::enroll_timeout`] instead.
pub const INTERACTIVE_KINDS: [&str; 2] = ["enroll_fp", "enroll_bio"];

/// The least time an interactive enrolment gets before it is re-sent: five minutes, enough to
/// walk to the terminal and present a finger or face three times.
pub const ENROLL_WAIT: chrono::Duration = chrono::Duration::seconds(300);

impl BatchPolicy {
    /// How long a `sent` enrolment ([`INTERACTIVE_KINDS`]) waits for its ack before it is
    /// re-sent: [`ENROLL_WAIT`], or the ordinary ack timeout when that is longer.
    pub fn enroll_timeout(&self) -> chrono::Duration {
        self.ack_timeout.max(ENROLL_WAIT)
    }
}

/// A command picked for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedCommand {
    pub id: i64,
    pub payload: String,
    /// When it was queued (a time sync is advanced by the wait before it goes out).
    pub queued_at: chrono::DateTime<chrono::Utc>,
}

/// Result of claiming a device's next batch.
#[derive(Debug, Clone, Default)]
pub struct ClaimedBatch {
    pub commands: Vec<ClaimedCommand>,
    /// Deliverable commands remained after the caps: the device should be served again soon.
    pub more_waiting: bool,
    /// When the oldest unacknowledged `sent` command times out (the next time a poll must look).
    pub recheck_at: Option<DateTime<Utc>>,
    /// Another instance was serving this device at the same moment; nothing was claimed.
    pub busy: bool,
}

/// How an acknowledgement changes a command.
#[derive(Debug, Clone)]
pub struct AckUpdate {
    pub id: i64,
    pub state: CommandState,
    pub return_code: Option<i64>,
    pub return_message: String,
    pub result: Option<String>,
    pub error: Option<String>,
}

/// Filters for listing a device's commands.
#[derive(Debug, Clone, Default)]
pub struct CommandFilter {
    pub state: Option<CommandState>,
    pub kind: Option<String>,
    pub student_id: Option<i64>,
    pub pin: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Only commands written for this school (admin reads pass the device's current school, so a
    /// moved device's earlier commands are not shown to its new school).
    pub school_id: Option<crate::domain::SchoolId>,
}

/// What the device has shown it accepts or rejects.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Capability {
    pub capability: String,
    pub supported: bool,
    pub return_code: Option<i64>,
}
