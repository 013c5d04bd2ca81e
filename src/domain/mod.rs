//! Protocol-neutral domain types that parse at the boundary: device serials, devices,
//! punches and what devices report about their users, templates and photos.

pub mod command;
pub mod device;
pub mod punch;
pub mod report;
pub mod school;
pub mod serial;
pub mod sync;

pub use command::{
    AckUpdate, BatchPolicy, Capability, ClaimedBatch, ClaimedCommand, CommandFilter, CommandState, NewCommand,
    QueuedCommand,
};
pub use device::{Approval, Device, DeviceId, DeviceSeen, Dialect, HandshakeFacts, NewDevice, StampTable};
pub use punch::{ClockFlag, NewPunch, Punch};
pub use report::{DeviceEventReport, OperlogBatch, PhotoReport, RejectedLine, TemplateReport, UserReport};
pub use school::{NewStudent, School, Student};
pub use serial::DeviceSerial;
