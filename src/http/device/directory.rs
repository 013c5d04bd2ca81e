//! `DeviceDirectory`: the in-memory view of known devices that keeps the hot device paths
//! (uploads, polls) off the database. Entries are dropped when the store announces a change of
//! their device or school (from this instance at commit, from others by NOTIFY); where other
//! instances cannot be heard (SQLite: another process such as the CLI), they also expire.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono_tz::Tz;

pub use super::first_contact::Admission;
use super::first_contact::FirstContacts;
use super::guard::Pinning;
use super::DeviceError;
use crate::domain::{Approval, Device, DeviceSerial, Dialect, HandshakeFacts};
use crate::store::admin::SchoolScope;
use crate::store::{DynStore, StoreChange, StoreResult};

/// A device with its effective time zone resolved (device zone, else school zone, else default).
#[derive(Debug, Clone)]
pub struct KnownDevice {
    pub device: Device,
    pub tz: Tz,
    /// The school's `device_pinning` policy (`Off` without a school).
    pub pinning: Pinning,
    /// When the device row was read from the store (a cache hit returns an older one).
    pub read_at: Instant,
}

struct Entry {
    known: Arc<KnownDevice>,
    fetched: Instant,
}

/// First-contact facts used when an unknown serial must be registered.
#[derive(Debug, Clone, Default)]
pub struct FirstContact {
    pub ip: Option<String>,
    pub pushver: Option<String>,
    pub language: Option<String>,
    pub dialect: Option<Dialect>,
}

pub struct DeviceDirectory {
    store: DynStore,
    entries: RwLock<HashMap<String, Entry>>,
    ttls: CacheTtls,
    /// Set when every change of an approved device is announced to this instance.
    approved_exact: AtomicBool,
    default_tz: Tz,
    /// Lookups, registrations and handshake writes, batched across concurrent requests.
    batches: FirstContacts,
}

/// How long cached devices are trusted.
#[derive(Debug, Clone, Copy)]
pub struct CacheTtls {
    /// Pending and blocked devices: short, so an approval from any process is seen quickly.
    pub unapproved: Duration,
    /// Approved devices, while other processes' changes cannot be heard (see
    /// `trust_approved_until_changed`).
    pub approved: Option<Duration>,
}

impl DeviceDirectory {
    /// Starts the batch workers of first contacts on the current runtime (the one that serves
    /// the devices).
    pub fn new(store: DynStore, default_tz: Tz, admission: Admission, ttls: CacheTtls) -> Self {
        Self {
            batches: FirstContacts::start(store.clone(), admission),
            store,
            entries: RwLock::new(HashMap::new()),
            ttls,
            approved_exact: AtomicBool::new(false),
            default_tz,
        }
    }

    /// Every change is heard (PostgreSQL notifications): approved devices stay cached until one
    /// is announced, so the hot paths never read the database for them.
    pub fn trust_approved_until_changed(&self) {
        self.approved_exact.store(true, Ordering::Release);
    }

    /// Drops what a store change makes stale.
    pub fn apply(&self, change: &StoreChange) {
        match change {
            StoreChange::Device(id) => self.invalidate_id(*id),
            StoreChange::School(school) => self.retain(|d| d.school_id != Some(*school)),
            StoreChange::Resync => self.clear(),
            StoreChange::Commands(_) | StoreChange::AreaSyncRequested => {}
        }
    }

    /// The device for `serial`, registering it (pending, or approved with auto-approve) on first
    /// contact; `TooManyPending` (nothing stored) when the pending list is full.
    pub async fn resolve(&self, serial: &DeviceSerial, contact: FirstContact) -> Result<Arc<KnownDevice>, DeviceError> {
        if let Some(known) = self.cached(serial.as_str()) {
            return Ok(known);
        }
        let device = self.batches.resolve(serial.as_str(), contact).await?;
        Ok(self.insert(device).await?)
    }

    /// Records what a handshake told and caches the device as it now is (`NotFound` when it was
    /// deleted meanwhile). A device read from the store a moment ago (by this very request's
    /// lookup: its first contact, or its first after a restart) that already holds these facts
    /// is as fresh as a re-read, and nothing is written: a fleet booting at once costs one
    /// batched lookup per device.
    pub async fn record_handshake(
        &self,
        known: &Arc<KnownDevice>,
        facts: HandshakeFacts,
    ) -> Result<Arc<KnownDevice>, DeviceError> {
        if known.read_at.elapsed() < FRESH_READ && facts_held(&known.device, &facts) {
            return Ok(known.clone());
        }
        let id = known.device.id;
        let device = self.batches.record_handshake(id, facts).await?;
        Ok(self.insert(device.ok_or(DeviceError::NotFound)?).await?)
    }

    /// Re-reads a device from the store (after this instance changed it).
    pub async fn refresh(&self, device: Device) -> StoreResult<Arc<KnownDevice>> {
        self.insert(device).await
    }

    /// Drops a cached entry so the next request reads the database.
    pub fn invalidate(&self, serial: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(serial);
        }
    }

    fn invalidate_id(&self, id: crate::domain::DeviceId) {
        self.retain(|d| d.id != id);
    }

    fn retain(&self, keep: impl Fn(&Device) -> bool) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, e| keep(&e.known.device));
        }
    }

    fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    fn cached(&self, serial: &str) -> Option<Arc<KnownDevice>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(serial)?;
        let ttl = if entry.known.device.approval == Approval::Approved {
            if self.approved_exact.load(Ordering::Acquire) {
                None
            } else {
                self.ttls.approved
            }
        } else {
            Some(self.ttls.unapproved)
        };
        ttl.is_none_or(|ttl| entry.fetched.elapsed() < ttl).then(|| entry.known.clone())
    }

    async fn insert(&self, device: Device) -> StoreResult<Arc<KnownDevice>> {
        let (tz, pinning) = self.school_facts(&device).await?;
        let known = Arc::new(KnownDevice { device, tz, pinning, read_at: Instant::now() });
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(known.device.serial_number.clone(), Entry { known: known.clone(), fetched: Instant::now() });
        }
        Ok(known)
    }

    /// The device's effective zone and its school's pinning policy.
    async fn school_facts(&self, device: &Device) -> StoreResult<(Tz, Pinning)> {
        let school = match device.school_id {
            Some(id) => self.store.get_school_record(SchoolScope::all(), id).await?,
            None => None,
        };
        let pinning = school.as_ref().map_or(Pinning::Off, |s| Pinning::parse(&s.device_pinning));
        let tz = device
            .timezone
            .as_deref()
            .and_then(parse_tz)
            .or_else(|| school.as_ref().and_then(|s| parse_tz(&s.timezone)))
            .unwrap_or(self.default_tz);
        Ok((tz, pinning))
    }
}

/// How recent a store read must be to stand in for the handshake's own re-read.
const FRESH_READ: Duration = Duration::from_secs(1);

/// Whether the device row already says what the handshake told (an absent fact changes nothing).
fn facts_held(device: &Device, facts: &HandshakeFacts) -> bool {
    let same = |told: &Option<String>, held: &Option<String>| told.is_none() || told == held;
    same(&facts.pushver, &device.pushver)
        && same(&facts.language, &device.language)
        && facts.device_type.is_none()
        && facts.dialect.is_none_or(|d| d == device.dialect)
}

fn parse_tz(name: &str) -> Option<Tz> {
    Tz::from_str(name.trim()).ok()
}
