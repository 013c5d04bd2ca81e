//! Protocol-neutral domain types that parse at the boundary: device serials, devices,
//! punches, what devices report about their users, templates and photos, and the pure rules
//! the store applies (student sync, roster import planning).

pub mod bio_versions;
pub mod biometric;
pub mod command;
pub mod device;
pub mod face_lines;
pub mod ids;
pub mod login_limits;
pub mod media;
pub mod punch;
pub mod report;
pub mod roster_import;
pub mod serial;
pub mod sync;

pub use command::{
    AckUpdate, BatchPolicy, Capability, ClaimedBatch, ClaimedCommand, CommandFilter, CommandState, NewCommand,
    QueuedCommand,
};
pub use device::{
    Approval, Device, DeviceId, DeviceSeen, Dialect, HandshakeFacts, NewDevice, PullTransport, StampTable,
};
pub use ids::{DeviceMode, Pin, SchoolId};
pub use punch::{ClockFlag, NewPunch, Punch, PunchSource};
pub use report::{DeviceEventReport, OperlogBatch, PhotoReport, RejectedLine, TemplateReport, UserReport};
pub use roster_import::{ImportRow, RowError};
pub use serial::DeviceSerial;
