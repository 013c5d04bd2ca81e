//! Live events: register for them (CMD_REG_EVENT), receive them (each acknowledged with
//! CMD_ACK_OK carrying the event's reply id), unregister. Events that arrive while a request is
//! in flight are queued, not mistaken for its reply.

use std::time::Duration;

use super::{Client, Retry};
use crate::pull::error::Result;
use crate::pull::transport::Received;
use crate::pull::wire::command::{CANCELCAPTURE, EF_ATTLOG, EF_ENROLLFINGER, EF_VERIFY, REG_EVENT, STARTVERIFY};
use crate::pull::wire::event::LiveEvent;

/// Default event mask: punches, finger enrolment, verification.
pub const DEFAULT_EVENT_MASK: u32 = (EF_ATTLOG | EF_ENROLLFINGER | EF_VERIFY) as u32;

impl Client {
    /// Starts live events for `mask` (e.g. [`DEFAULT_EVENT_MASK`]).
    pub async fn listen(&mut self, mask: u32) -> Result<()> {
        // like the SDK: stop any capture in progress and put the sensor in verify mode
        let _ = self.call(CANCELCAPTURE, &[], Retry::SameId).await?;
        let _ = self.call(STARTVERIFY, &[], Retry::SameId).await?;
        self.call_ok(REG_EVENT, &mask.to_le_bytes(), Retry::SameId).await.map(|_| ())
    }

    /// Stops live events.
    pub async fn stop_listening(&mut self) -> Result<()> {
        self.call_ok(REG_EVENT, &0u32.to_le_bytes(), Retry::SameId).await.map(|_| ())
    }

    /// The next event, waiting at most `wait`; `None` when none came.
    pub async fn next_event(&mut self, wait: Duration) -> Result<Option<LiveEvent>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Ok(Some(ev));
            }
            let received = match tokio::time::timeout_at(deadline, self.transport.recv()).await {
                Err(_) => return Ok(None),
                Ok(r) => r?,
            };
            match received {
                Received::Packet(p) if p.command == REG_EVENT => self.on_event(p).await?,
                Received::Packet(p) => {
                    tracing::debug!(command = p.command, "pull: ignoring a stale reply")
                }
                Received::Garbage(e) => {
                    tracing::warn!(error = %e, "pull: dropping an invalid packet")
                }
            }
        }
    }
}
