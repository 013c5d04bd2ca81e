//! ZKTeco binary "pull" protocol (port 4370, TCP and UDP): wire format, client, shell tool.

pub mod shell;
pub mod wire;
