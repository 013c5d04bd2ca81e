//! Student sync rules, PURE and shared by the store (which applies them set-based inside its
//! transactions) and the sync service (which decides when to run them):
//! - [`plan`]: desired vs recorded → which user commands to queue and how each row changes;
//! - [`status`]: how a row follows its command, and what a user record the device showed means.

pub mod plan;
pub mod status;

pub use plan::{
    delete_cap, device_card, device_name, plan, retry_backoff, CommandAction, PlannedSync, RecordedRow, SyncMode,
    SyncTarget,
};
pub use status::{judge, observe, refresh, Evidence, KnownPin, Observation, RowRefresh, RowWithCommand};

/// A user record the device showed (OPERLOG `USER`, `USERINFO` upload, a pull read).
#[derive(Debug, Clone)]
pub struct ObservedUser {
    pub pin: Pin,
    pub name: String,
    pub card: Option<String>,
}
use crate::domain::Pin;
