//! Per-client session state inside the simulated device: authentication, the reply-id cache
//! used for retransmits, the session buffer of a buffered read, the upload buffer, and the
//! live-event subscription with its queue.

use std::collections::VecDeque;
use std::time::Instant;

use crate::pull::wire::Packet;

/// One client session (keyed by session id; a TCP connection or a UDP peer address).
#[derive(Debug, Default)]
pub struct SimSession {
    /// Comm key proven (or none configured).
    pub authenticated: bool,
    /// Reply id, command and data of the last request, with the replies sent for it.
    pub last: Option<(u16, u16, Vec<u8>, Vec<Packet>)>,
    /// Requests seen (for the drop-every-Nth fault).
    pub requests: u64,
    /// Table built by CMD_QUERY_DATA, read with CMD_READ_DATA.
    pub read_buffer: Option<Vec<u8>>,
    /// Upload buffer opened by CMD_PREPARE_DATA: (announced size, bytes so far).
    pub upload: Option<(usize, Vec<u8>)>,
    /// Registered event mask (CMD_REG_EVENT).
    pub event_mask: u32,
    /// Event payloads waiting to be pushed: (flag, data).
    pub events: VecDeque<(u16, Vec<u8>)>,
    /// When the last pushed event was sent, until the client acknowledges it.
    pub awaiting_ack: Option<Instant>,
    /// Last activity (UDP sessions expire when idle).
    pub last_seen: Option<Instant>,
}
