//! Area sync: every device of an area ends with the same users, fingerprints, faces and photos
//! (the union by PIN, the roster deciding removals), the biometric store learning the
//! students' copies on the way. Service code: no `http`, no `app`.
//!
//! - [`device`]: the seam devices are reached through ([`AreaDevice`]);
//! - [`pull`]: pull devices behind it, over the session their actor lends (never a second one);
//! - [`push`]: push devices behind it, read from what ironclock knows they hold, written through
//!   the command queue ([`push_profile`]: the write path each firmware takes);
//! - [`plan`] (PURE): union, conflicts, version gating, skips, per-device writes;
//! - [`run`]: the async function ([`sync_area`], [`sync_devices`], [`sync_device`]) and its
//!   `job_executions` row;
//!   `steps`: what it does on each device (counts; people read; faces and photos read, people
//!   written; faces and photos written, read back);
//! - [`schedule`]: every area, hourly by default, one instance at a time; [`interval`]: the
//!   interval set on the settings page (stored; replaces the cron without a restart);
//! - [`single`]: a device in no area synced from the roster and the biometric store (read-only
//!   members standing in for the other devices);
//! - [`holders`]: which gates hold a student's fingerprints and face (store + last runs);
//! - [`report`]: the result; [`requests`]: on-demand runs handed to the instance running the
//!   pull service (from one running `--pull-service off`);
//! - [`progress`]: live progress with an ETA (phase, devices, items), kept in the run's job row
//!   by `live` while it runs.

pub mod device;
pub mod holders;
pub mod interval;
pub mod live;
pub mod plan;
pub mod progress;
pub mod pull;
pub mod push;
pub mod push_profile;
pub mod report;
pub mod requests;
pub mod run;
pub mod schedule;
pub mod single;
mod steps;

pub use device::AreaDevice;
pub use live::{latest_device_run, latest_run, AreaRun};
pub use progress::{AreaProgress, Phase, ProgressSink};
pub use report::AreaSyncResult;
pub use run::{sync_area, sync_device, sync_devices, AreaSyncOptions};
pub use schedule::{sync_all_areas, sync_by_cron, ScheduledRun, AREA_SYNC_LOCK_KEY};
