//! Protocol-neutral domain types that parse at the boundary: device serials, devices,
//! punches and what devices report about their users, templates and photos.

pub mod command;
pub mod device;
pub mod ids;
pub mod punch;
pub mod report;
pub mod serial;
pub mod sync;

pub use command::{
    AckUpdate, BatchPolicy, Capability, ClaimedBatch, ClaimedCommand, CommandFilter, CommandState, NewCommand,
    QueuedCommand,
};
pub use device::{Approval, Device, DeviceId, DeviceSeen, Dialect, HandshakeFacts, NewDevice, StampTable};
pub use ids::{DeviceMode, Pin, SchoolId};
pub use punch::{ClockFlag, NewPunch, Punch};
pub use report::{DeviceEventReport, OperlogBatch, PhotoReport, RejectedLine, TemplateReport, UserReport};
pub use serial::DeviceSerial;
