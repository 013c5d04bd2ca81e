//! The seam area sync talks to devices through: read counts, users, fingerprints, faces and
//! photos; write a user, fingerprints, faces, a photo; delete a user. Pull devices implement it
//! over their session ([`super::pull`]); push devices through the command queue
//! ([`super::push`]: their writes are queued, confirmed later by evidence).

use async_trait::async_trait;

use crate::domain::DeviceId;

/// What a device says about itself before anything is read (cheap).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceCounts {
    pub users: i64,
    pub fingerprints: i64,
    pub faces: i64,
    /// ZKFinger algorithm version (`None`: unknown; fingerprints are then never copied to it).
    pub fp_version: Option<String>,
    /// ZKFace version when faces are supported and on.
    pub face_version: Option<String>,
    /// Without a face version: why faces are not written to it (default: "no face support").
    pub faceless_reason: Option<String>,
}

/// A person on a device, by user id (PIN); the device-local uid is the device's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaUser {
    pub pin: String,
    pub name: String,
    pub privilege: u8,
    pub password: String,
    pub card: u32,
    pub group: u8,
}

/// One fingerprint template of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaFinger {
    pub pin: String,
    pub finger: u8,
    pub flag: u8,
    pub data: Vec<u8>,
}

/// What a device call failed with: the device (its session is gone; the device is reported
/// and retried on the next run) or this one item (reported, the rest goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Device(String),
    #[error("{0}")]
    Item(String),
    #[error("not supported by this device")]
    Unsupported,
}

pub type Access<T> = Result<T, AccessError>;

/// A device taking part in an area sync, held for the length of the sync.
#[async_trait]
pub trait AreaDevice: Send {
    fn id(&self) -> DeviceId;
    /// The name reports use.
    fn label(&self) -> String;
    /// Whether writes are commands queued for the device (a push device): they are reported as
    /// queued, not read back at sync time (evidence confirms them later).
    fn queues_writes(&self) -> bool {
        false
    }
    /// Whether this member only supplies copies and is never written (the biometric store in a
    /// single-device sync): it is the primary, and it is left out of the result's figures.
    fn read_only(&self) -> bool {
        false
    }
    async fn counts(&mut self) -> Access<DeviceCounts>;
    async fn users(&mut self) -> Access<Vec<AreaUser>>;
    async fn fingers(&mut self) -> Access<Vec<AreaFinger>>;
    /// The person's face records (whole records), `None` without.
    async fn faces(&mut self, pin: &str) -> Access<Option<Vec<u8>>>;
    /// The person's photo (JPEG), `None` without; `Unsupported` when the device has no photos.
    async fn photo(&mut self, pin: &str) -> Access<Option<Vec<u8>>>;
    /// Locks the keypad for a batch of writes (unlocked by [`AreaDevice::unlock`]).
    async fn lock(&mut self) -> Access<()>;
    async fn unlock(&mut self) -> Access<()>;
    /// Creates or updates people (a new one gets a uid free on this device); per person, why not.
    async fn write_users(&mut self, users: &[AreaUser]) -> Access<Vec<Option<String>>>;
    /// Stores fingerprints of people already on the device (one batch).
    async fn write_fingers(&mut self, fingers: &[AreaFinger]) -> Access<()>;
    async fn write_faces(&mut self, pin: &str, records: &[u8]) -> Access<()>;
    async fn write_photo(&mut self, pin: &str, jpeg: &[u8]) -> Access<()>;
    /// Deletes the person with their fingerprints and faces; false when absent.
    async fn delete_user(&mut self, pin: &str) -> Access<bool>;
    /// Ends the sync's use of the device (gives a borrowed session back, releases a lease);
    /// `healthy` false after a device failure.
    async fn finish(self: Box<Self>, healthy: bool);
}
