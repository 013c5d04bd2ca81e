//! The steps a sync takes on one device ([`Member`]): read its counts; read its users and
//! fingerprints; read its faces and photos, then write its people (removals, users,
//! fingerprints); write its faces and photos; read it back. Writes go with the keypad locked. A device failure marks
//! the member failed (reported, left out of the rest); an item the device refuses or does not
//! show afterwards is a [`NotTaken`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::device::{AccessError, AreaDevice, AreaFinger};
use super::plan::{Blob, Holdings, Writes};
use super::progress::{self, Tracker};
use super::report::{DeviceFailure, DeviceLine, NotTaken};
use crate::domain::biometric::normalise_faces;

/// Fingerprints per batch upload.
const FINGER_BATCH: usize = 500;

/// One allocation per distinct face blob or photo among all the devices of a sync: the same
/// student's face read from three gates is held once (the sync's memory is then about one
/// copy of the area's biometrics, not one per device).
#[derive(Clone, Default)]
pub(super) struct Interner(Arc<Mutex<Buckets>>);

/// Blobs by (length, sampled hash).
type Buckets = HashMap<(usize, u64), Vec<Blob>>;

impl Interner {
    pub fn intern(&self, bytes: Vec<u8>) -> Blob {
        let key = (bytes.len(), sample_hash(&bytes));
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = seen.entry(key).or_default();
        if let Some(same) = bucket.iter().find(|b| ***b == *bytes) {
            return same.clone();
        }
        let blob: Blob = bytes.into();
        bucket.push(blob.clone());
        blob
    }
}

/// A cheap hash of up to 64 evenly spaced bytes (the bucket; equality is then checked in full):
/// hashing every byte of ~140 MB of faces per device would cost more than it saves.
fn sample_hash(bytes: &[u8]) -> u64 {
    let step = (bytes.len() / 64).max(1);
    bytes.iter().step_by(step).fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

pub(super) struct Member {
    pub dev: Box<dyn AreaDevice>,
    pub line: DeviceLine,
    pub holdings: Holdings,
    pub failed: Option<String>,
    pub not_taken: Vec<NotTaken>,
}

impl Member {
    pub fn fail(&mut self, step: &str, e: AccessError) {
        self.failed = Some(format!("{step}: {e}"));
    }
}

/// Reads the counts of a reached device.
pub(super) async fn count_member(mut dev: Box<dyn AreaDevice>) -> Result<Member, DeviceFailure> {
    let (id, label) = (dev.id(), dev.label());
    match dev.counts().await {
        Ok(counts) => {
            let line = DeviceLine {
                device_id: id.0,
                device: label.clone(),
                users_before: counts.users,
                fingerprints_before: counts.fingerprints,
                faces_before: counts.faces,
                ..Default::default()
            };
            let holdings = Holdings::new(id, label, counts);
            Ok(Member { dev, line, holdings, failed: None, not_taken: Vec::new() })
        }
        Err(e) => {
            dev.finish(false).await;
            Err(DeviceFailure { device_id: id.0, device: label, error: format!("reading its counts: {e}") })
        }
    }
}

/// Stage 1: reads the users and fingerprints (bulk table reads: a few round trips).
pub(super) async fn read_people(mut m: Member) -> Member {
    if let Err(e) = people(&mut m).await {
        m.fail("reading", e);
    }
    m
}

/// Stage 2, in one device's lane: reads its faces and photos (one request per user: the long
/// part of a read), then writes its share of the people plan (removals, users, fingerprints),
/// which does not depend on anyone's faces or photos. Doing both in the device's own lane lets
/// one device's per-user reads overlap another's writes instead of every write waiting for the
/// slowest read.
/// The people writes are handed back with the member (stage 3 reads them back).
pub(super) async fn media_then_people(mut m: Member, blobs: Interner, people: Writes, t: &Tracker) -> (Member, Writes) {
    if let Err(e) = media(&mut m, &blobs).await {
        m.fail("reading", e);
        t.wrote(progress::items(&people));
        return (m, people);
    }
    write(&mut m, &people, t).await;
    (m, people)
}

/// Stage 3: writes the device's faces and photos (planned once every device's were read),
/// then reads back everything written in stages 2 and 3 (a device whose writes are queued
/// commands is counted instead).
pub(super) async fn media_then_read_back(mut m: Member, media: Writes, all: Writes, t: &Tracker) -> Member {
    if m.failed.is_none() {
        write(&mut m, &media, t).await;
    } else {
        t.wrote(progress::items(&media));
    }
    t.writes_sent();
    if m.failed.is_none() && m.dev.queues_writes() {
        m.line.queued = true;
        match m.dev.counts().await {
            Ok(after) => (m.line.users_after, m.line.fingerprints_after) = (after.users, after.fingerprints),
            Err(e) => m.fail("counting", e),
        }
    } else if m.failed.is_none() {
        if let Err(e) = read_back(&mut m, &all).await {
            m.fail("reading back", e);
        }
    }
    t.device_done();
    m
}

/// Users and fingerprints.
async fn people(m: &mut Member) -> Result<(), AccessError> {
    let h = &mut m.holdings;
    let dev = &mut m.dev;
    h.users = dev.users().await?.into_iter().map(|u| (u.pin.clone(), u)).collect();
    if h.counts.fingerprints > 0 {
        h.fingers = dev.fingers().await?.into_iter().map(|f| ((f.pin.clone(), f.finger), f)).collect();
    }
    Ok(())
}

/// Faces (face-capable devices) and photos (where kept) of the users read in stage 1.
async fn media(m: &mut Member, blobs: &Interner) -> Result<(), AccessError> {
    let h = &mut m.holdings;
    let dev = &mut m.dev;
    if h.counts.face_version.is_some() && h.counts.faces > 0 {
        for pin in h.users.keys() {
            match dev.faces(pin).await {
                Ok(Some(blob)) => {
                    if let Some(normal) = normalise_faces(&blob) {
                        h.faces.insert(pin.clone(), blobs.intern(normal));
                    }
                }
                Ok(None) | Err(AccessError::Item(_)) => {}
                Err(AccessError::Unsupported) => {
                    h.counts.face_version = None;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    let mut photos = BTreeMap::new();
    let probe = vec!["0".to_string()];
    let pins: Vec<String> = if h.users.is_empty() { probe } else { h.users.keys().cloned().collect() };
    let mut supported = true;
    for pin in &pins {
        match dev.photo(pin).await {
            Ok(Some(jpeg)) => {
                photos.insert(pin.clone(), blobs.intern(jpeg));
            }
            Ok(None) | Err(AccessError::Item(_)) => {}
            Err(AccessError::Unsupported) => {
                supported = false;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    h.photos = supported.then_some(photos);
    Ok(())
}

/// Writes the device's share of the plan with the keypad locked: removals, users, fingerprints
/// (of users on the device), faces, photos.
async fn write(m: &mut Member, w: &Writes, t: &Tracker) {
    if w.is_empty() {
        return;
    }
    let mut sent = 0;
    let outcome = match m.dev.lock().await {
        Ok(()) => {
            let outcome = write_locked(m, w, &mut |n| {
                sent += n;
                t.wrote(n);
            })
            .await;
            let unlocked = m.dev.unlock().await;
            outcome.and(unlocked).map_err(|e| ("writing", e))
        }
        Err(e) => Err(("locking the keypad", e)),
    };
    // What a failed device did not get is through the writing all the same (the total holds).
    t.wrote(progress::items(w).saturating_sub(sent));
    if let Err((step, e)) = outcome {
        m.fail(step, e);
    }
}

/// Writes with the keypad locked; `tick(n)` after every `n` items through (written or refused).
async fn write_locked(m: &mut Member, w: &Writes, tick: &mut (dyn FnMut(usize) + Send)) -> Result<(), AccessError> {
    let (id, label) = (m.holdings.id.0, m.holdings.label.clone());
    let not_taken = |what: &str, pin: &str, reason: String| NotTaken {
        device_id: id,
        device: label.clone(),
        what: what.into(),
        pin: pin.into(),
        reason,
    };
    for pin in &w.delete {
        match m.dev.delete_user(pin).await {
            Ok(_) => m.line.users_removed += 1,
            Err(AccessError::Device(e)) => return Err(AccessError::Device(e)),
            Err(e) => m.not_taken.push(not_taken("delete", pin, e.to_string())),
        }
        tick(1);
    }
    // users the device refused, here or in an earlier stage: nothing of theirs is sent
    let mut refused: std::collections::HashSet<String> =
        m.not_taken.iter().filter(|n| n.what == "user").map(|n| n.pin.clone()).collect();
    if !w.users.is_empty() {
        let outcome = m.dev.write_users(&w.users).await?;
        for (u, error) in w.users.iter().zip(outcome) {
            match error {
                None => m.line.users_written += 1,
                Some(reason) => {
                    refused.insert(u.pin.clone());
                    m.not_taken.push(not_taken("user", &u.pin, reason));
                }
            }
        }
        tick(w.users.len());
    }
    let fingers: Vec<AreaFinger> = w.fingers.iter().filter(|f| !refused.contains(&f.pin)).cloned().collect();
    for chunk in fingers.chunks(FINGER_BATCH) {
        match m.dev.write_fingers(chunk).await {
            Ok(()) => m.line.fingerprints_written += chunk.len(),
            Err(AccessError::Device(e)) => return Err(AccessError::Device(e)),
            Err(e) => m
                .not_taken
                .extend(chunk.iter().map(|f| not_taken(&format!("fingerprint {}", f.finger), &f.pin, e.to_string()))),
        }
        tick(chunk.len());
    }
    for (pin, blob) in w.faces.iter().filter(|(pin, _)| !refused.contains(pin)) {
        match m.dev.write_faces(pin, blob).await {
            Ok(()) => m.line.faces_written += 1,
            Err(AccessError::Device(e)) => return Err(AccessError::Device(e)),
            Err(e) => m.not_taken.push(not_taken("face", pin, e.to_string())),
        }
        tick(1);
    }
    for (pin, jpeg) in w.photos.iter().filter(|(pin, _)| !refused.contains(pin)) {
        match m.dev.write_photo(pin, jpeg).await {
            Ok(()) => m.line.photos_written += 1,
            Err(AccessError::Device(e)) => return Err(AccessError::Device(e)),
            Err(e) => m.not_taken.push(not_taken("photo", pin, e.to_string())),
        }
        tick(1);
    }
    Ok(())
}

/// Reads the device back (counts, users, fingerprints, and the faces and photos written) and
/// reports every written item it does not show.
async fn read_back(m: &mut Member, w: &Writes) -> Result<(), AccessError> {
    let (id, label) = (m.holdings.id.0, m.holdings.label.clone());
    let mut missing = Vec::new();
    if !w.is_empty() {
        let users: std::collections::HashSet<String> = m.dev.users().await?.into_iter().map(|u| u.pin).collect();
        for pin in &w.delete {
            if users.contains(pin) {
                missing.push(("delete".to_string(), pin.clone()));
            }
        }
        for u in w.users.iter().filter(|u| !users.contains(&u.pin)) {
            missing.push(("user".into(), u.pin.clone()));
        }
        if !w.fingers.is_empty() {
            let held: BTreeMap<(String, u8), Vec<u8>> =
                m.dev.fingers().await?.into_iter().map(|f| ((f.pin, f.finger), f.data)).collect();
            for f in &w.fingers {
                if held.get(&(f.pin.clone(), f.finger)) != Some(&f.data) {
                    missing.push((format!("fingerprint {}", f.finger), f.pin.clone()));
                }
            }
        }
        for (pin, blob) in &w.faces {
            let back = m.dev.faces(pin).await?.and_then(|b| normalise_faces(&b));
            if back.as_deref() != Some(&**blob) {
                missing.push(("face".into(), pin.clone()));
            }
        }
        for (pin, jpeg) in &w.photos {
            if m.dev.photo(pin).await?.as_deref() != Some(&**jpeg) {
                missing.push(("photo".into(), pin.clone()));
            }
        }
    }
    let already: std::collections::HashSet<(String, String)> =
        m.not_taken.iter().map(|n| (n.what.clone(), n.pin.clone())).collect();
    for (what, pin) in missing {
        if !already.contains(&(what.clone(), pin.clone())) {
            let reason = "written, but the device's read-back does not show it".to_string();
            m.not_taken.push(NotTaken { device_id: id, device: label.clone(), what, pin, reason });
        }
    }
    let after = m.dev.counts().await?;
    m.line.users_after = after.users;
    m.line.fingerprints_after = after.fingerprints;
    m.line.faces_after = after.faces;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_read_from_two_devices_are_held_once() {
        let blobs = Interner::default();
        let face = vec![7u8; 37_000];
        let a = blobs.intern(face.clone());
        let b = blobs.intern(face.clone());
        assert!(Arc::ptr_eq(&a, &b));
        let mut other = face;
        other[36_999] = 8; // same length, same sampled bytes but one: still told apart
        let c = blobs.intern(other);
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c[36_999], 8);
        assert_eq!(&*blobs.intern(vec![1, 2, 3]), &[1, 2, 3]);
    }
}
