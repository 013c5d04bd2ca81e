//! ADMS ("push", iclock) protocol: pure parsing and rendering, no I/O.
//!
//! Handlers parse requests with [`query`], [`upload`], [`records`], [`ack`], [`info`] and
//! [`text`], and render replies with [`handshake`], [`registry`], [`upload`] and [`time`].
//! Ground truth is `push.md` and the captures in the shared `protocol/push_captures/`.

pub mod acc_token;
pub mod ack;
pub mod command;
pub mod handshake;
pub mod info;
pub mod query;
pub mod records;
pub mod registry;
pub mod text;
pub mod time;
pub mod upload;

#[cfg(test)]
mod proptests;

pub use ack::{parse_devicecmd_body, CommandAck, ParsedAcks};
pub use handshake::{render_att_handshake, HandshakeConfig, TableStamps, TransFlagStyle};
pub use info::{parse_poll_info, PollInfo};
pub use query::DeviceQuery;
pub use records::{ParsedBody, RejectedLine};
pub use upload::{body_lines, ok_count_reply, UploadTable};
