//! A burst of first contacts in a few statements. When a district's devices all call at once
//! (a new server, a restart, a network coming back) every device's first request misses the
//! directory and its handshake writes what it told; one statement per device means thousands
//! of round trips queued on the pool, while the devices' connections wait and fill the server's
//! connection cap. Here concurrent lookups, registrations and handshake writes are merged
//! (`core::batch`): one `find_devices`, one `register_devices` (`register_pending_devices`
//! when new serials wait for approval: the pending limit is counted in the same transaction,
//! serialised across instances), one `record_handshakes` per batch. A batch that fails is retried request by request, so each device gets its own error.

use std::collections::HashMap;

use chrono::Utc;

use super::directory::FirstContact;
use super::DeviceError;
use crate::core::batch::Batcher;
use crate::domain::{Approval, Device, DeviceId, Dialect, HandshakeFacts, NewDevice};
use crate::store::DynStore;

/// Requests merged into one statement at most (bounds the statement and its locks).
const MAX_BATCH: usize = 512;
/// Batches in flight at once: one runs while the next collects.
const WORKERS: usize = 2;

/// Who may register on first contact.
#[derive(Debug, Clone, Copy)]
pub struct Admission {
    auto_approve: bool,
    /// New serials are refused while this many devices wait for approval.
    max_pending: i64,
}

impl Admission {
    /// New serials approved at once (`auto_approve`) or pending; refused while `max_pending`
    /// devices already wait for approval (0 = no limit), so anonymous clients cannot fill the
    /// device list and the database with invented serials.
    pub fn new(auto_approve: bool, max_pending: u32) -> Self {
        Self { auto_approve, max_pending: if max_pending == 0 { i64::MAX } else { i64::from(max_pending) } }
    }
}

type Lookup = (String, FirstContact);

pub struct FirstContacts {
    lookups: Batcher<Lookup, Result<Device, DeviceError>>,
    handshakes: Batcher<(DeviceId, HandshakeFacts), Result<Option<Device>, DeviceError>>,
}

impl FirstContacts {
    /// Starts the batch workers on the current runtime (it must outlive the directory's users).
    pub fn start(store: DynStore, admission: Admission) -> Self {
        let s = store.clone();
        let lookups = Batcher::start(WORKERS, MAX_BATCH, move |batch: Vec<Lookup>| {
            let store = s.clone();
            async move { resolve_all(&store, admission, batch).await }
        });
        let handshakes = Batcher::start(WORKERS, MAX_BATCH, move |batch: Vec<(DeviceId, HandshakeFacts)>| {
            let store = store.clone();
            async move { record_all(&store, batch).await }
        });
        Self { lookups, handshakes }
    }

    /// The device with this serial, registered now if it is new and admitted.
    pub async fn resolve(&self, serial: &str, contact: FirstContact) -> Result<Device, DeviceError> {
        self.lookups.call((serial.to_string(), contact)).await.unwrap_or_else(|| Err(gone()))
    }

    /// Records a handshake's facts; the device as it now is (`None`: deleted meanwhile).
    pub async fn record_handshake(&self, id: DeviceId, facts: HandshakeFacts) -> Result<Option<Device>, DeviceError> {
        self.handshakes.call((id, facts)).await.unwrap_or_else(|| Err(gone()))
    }
}

fn gone() -> DeviceError {
    DeviceError::Storage(crate::store::StoreError::Database(sqlx::Error::PoolClosed))
}

/// One answer per lookup, in order.
async fn resolve_all(store: &DynStore, admission: Admission, batch: Vec<Lookup>) -> Vec<Result<Device, DeviceError>> {
    match resolve_batch(store, admission, &batch).await {
        Ok(answers) => answers,
        Err(e) if batch.len() > 1 => {
            tracing::debug!(error = %e, lookups = batch.len(), "first-contact batch failed; one by one");
            let mut answers = Vec::with_capacity(batch.len());
            for lookup in &batch {
                let one = resolve_batch(store, admission, std::slice::from_ref(lookup)).await;
                answers.push(one.and_then(|mut a| a.pop().unwrap_or_else(|| Err(gone()))));
            }
            answers
        }
        Err(e) => vec![Err(e)],
    }
}

async fn resolve_batch(
    store: &DynStore,
    admission: Admission,
    batch: &[Lookup],
) -> Result<Vec<Result<Device, DeviceError>>, DeviceError> {
    let mut serials: Vec<String> = batch.iter().map(|(s, _)| s.clone()).collect();
    serials.sort();
    serials.dedup();
    let mut known: HashMap<String, Device> =
        store.find_devices(&serials).await?.into_iter().map(|d| (d.serial_number.clone(), d)).collect();
    let mut new: Vec<NewDevice> = Vec::new();
    for (serial, contact) in batch {
        if !known.contains_key(serial) && !new.iter().any(|n| &n.serial_number == serial) {
            new.push(new_device(admission, serial, contact));
        }
    }
    let (registered, refused) = if admission.auto_approve || new.is_empty() {
        (store.register_devices(&new).await?, Vec::new())
    } else {
        // Counted and written in one transaction, serialised across instances.
        store.register_pending_devices(&new, admission.max_pending).await?
    };
    for device in registered {
        log_registered(&device, batch);
        known.insert(device.serial_number.clone(), device);
    }
    for serial in &refused {
        let ip = new.iter().find(|d| &d.serial_number == serial).and_then(|d| d.last_ip.clone());
        tracing::warn!(%serial, ?ip, limit = admission.max_pending,
            "new device refused: too many devices are waiting for approval");
    }
    Ok(batch
        .iter()
        .map(|(serial, _)| match known.get(serial) {
            Some(device) => Ok(device.clone()),
            None if refused.contains(serial) => Err(DeviceError::TooManyPending(admission.max_pending)),
            None => Err(DeviceError::Storage(crate::store::StoreError::Conflict(format!(
                "device {serial} was neither found nor registered"
            )))),
        })
        .collect())
}

fn new_device(admission: Admission, serial: &str, contact: &FirstContact) -> NewDevice {
    NewDevice {
        serial_number: serial.to_string(),
        approval: if admission.auto_approve { Approval::Approved } else { Approval::Pending },
        dialect: contact.dialect.unwrap_or(Dialect::Att),
        pushver: contact.pushver.clone(),
        language: contact.language.clone(),
        last_ip: contact.ip.clone(),
        seen_at: Utc::now(),
    }
}

fn log_registered(device: &Device, batch: &[Lookup]) {
    let ip = batch.iter().find(|(s, _)| s == &device.serial_number).and_then(|(_, c)| c.ip.as_deref());
    if device.approval == Approval::Pending {
        tracing::warn!(serial = %device.serial_number, ip = ?ip, "new device is waiting for approval");
    } else {
        tracing::info!(serial = %device.serial_number, ip = ?ip, "new device registered");
    }
}

/// One answer per handshake, in order.
async fn record_all(
    store: &DynStore,
    batch: Vec<(DeviceId, HandshakeFacts)>,
) -> Vec<Result<Option<Device>, DeviceError>> {
    match store.record_handshakes(&batch).await {
        Ok(devices) => {
            let by_id: HashMap<DeviceId, Device> = devices.into_iter().map(|d| (d.id, d)).collect();
            batch.iter().map(|(id, _)| Ok(by_id.get(id).cloned())).collect()
        }
        Err(e) => {
            tracing::debug!(error = %e, handshakes = batch.len(), "handshake batch failed; one by one");
            let mut answers = Vec::with_capacity(batch.len());
            for (id, facts) in batch {
                answers.push(store.record_handshake(id, &facts).await.map_err(DeviceError::from));
            }
            answers
        }
    }
}
