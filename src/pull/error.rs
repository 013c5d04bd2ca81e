//! `pull::Error`: the one error type of the pull client. Callers branch on the kind — retry
//! later on `Timeout`/`Busy`, fix configuration on `AuthFailed`, switch feature off on
//! `Unsupported`, report a device or firmware problem on `Protocol`/`Refused`.

use std::time::Duration;

use thiserror::Error;

use super::wire::WireError;

/// What went wrong talking to a device.
#[derive(Debug, Error)]
pub enum Error {
    /// No (complete) reply within the timeout, after the retries.
    #[error("timed out after {waited:?} waiting for the reply to command {command}")]
    Timeout {
        /// The command that got no reply.
        command: u16,
        /// How long the last attempt waited.
        waited: Duration,
    },
    /// The device wants a comm key and ours is missing or wrong.
    #[error("authentication failed: {0}")]
    AuthFailed(&'static str),
    /// The device is serving another client (or another task holds our session to it).
    #[error("device busy: {0}")]
    Busy(&'static str),
    /// The device does not know the command (CMD_ACK_UNKNOWN) or lacks the feature.
    #[error("command {command} is not supported by this device")]
    Unsupported {
        /// The command.
        command: u16,
    },
    /// The device refused the command (CMD_ACK_ERROR or another error code).
    #[error("device refused command {command}: reply code {code}, detail {detail}")]
    Refused {
        /// The command.
        command: u16,
        /// The reply code.
        code: u16,
        /// The session-slot detail (1 write error, 2 not found, 3 bad buffer, …).
        detail: u16,
    },
    /// The write would clobber someone else's data on the device (e.g. a uid held by another
    /// user id); nothing was sent.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The device answered something that does not follow the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Bytes that do not decode.
    #[error("malformed data: {0}")]
    Wire(#[from] WireError),
    /// The connection failed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
}

/// Result of the pull client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// True for errors worth retrying later on a fresh connection (timeouts, busy, I/O).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Busy(_) | Error::Io(_))
    }
}
