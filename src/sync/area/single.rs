//! The single-device sync of a device in no area: the school's roster and the biometric store
//! (master copies) play the other devices. The store is presented to the area sync machinery as
//! read-only [`AreaDevice`]s ([`StoreMember`]), one per fingerprint or face version it holds
//! (a device holds one version of each, so the plan's version gating and skip reasons apply
//! unchanged), always the primary, never written: the device gets the active students it lacks,
//! their fingerprints, faces and photos where it lacks them or holds them differently, and loses
//! the deleted or deactivated students it holds, as in an area sync (`run::sync_device`).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use super::device::{Access, AccessError, AreaDevice, AreaFinger, AreaUser, DeviceCounts};
use crate::core::Core;
use crate::domain::biometric::BiometricKind;
use crate::domain::{DeviceId, SchoolId};
use crate::store::StoreError;

/// The label the store's members report under (also the primary device's name in the result).
pub const STORE_LABEL: &str = "store";

/// Whether a device id in a result is one of the store's members (ids 0, -1, -2, …).
pub fn is_store(id: i64) -> bool {
    id <= 0
}

/// A slice of the biometric store (one fingerprint version, one face version) with the roster.
pub struct StoreMember {
    id: DeviceId,
    counts: DeviceCounts,
    users: Vec<AreaUser>,
    fingers: Vec<AreaFinger>,
    faces: BTreeMap<String, Vec<u8>>,
    /// `None`: photos are carried by another member of the store.
    photos: Option<BTreeMap<String, Vec<u8>>>,
}

/// The school's active students and every master copy, as read-only members: the first holds
/// the photos; member `k` holds the `k`-th fingerprint version and the `k`-th face version.
/// A copy that no longer opens with the data cipher is left out with a warning.
pub async fn members(core: &Core, school: SchoolId) -> Result<Vec<Box<dyn AreaDevice>>, StoreError> {
    let users: Vec<AreaUser> = core
        .store
        .roster_standing(school)
        .await?
        .into_iter()
        .filter(|s| s.active && !s.deleted)
        .map(|s| AreaUser {
            card: s.card.as_deref().and_then(|c| c.trim().parse().ok()).unwrap_or(0),
            pin: s.pin,
            name: s.full_name,
            privilege: 0,
            password: String::new(),
            group: 1,
        })
        .collect();
    let mut fingers: BTreeMap<String, Vec<AreaFinger>> = BTreeMap::new();
    let mut faces: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let mut photos = BTreeMap::new();
    for copy in core.store.school_biometrics(school).await? {
        let data = match core.cipher.open(&copy.data_enc) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(student = copy.student_id, error = %e, "biometric copy does not open; left out");
                continue;
            }
        };
        match copy.kind {
            BiometricKind::Finger => {
                let (Ok(finger), Ok(flag)) = (u8::try_from(copy.slot), u8::try_from(copy.flag)) else { continue };
                fingers.entry(copy.version).or_default().push(AreaFinger { pin: copy.pin, finger, flag, data });
            }
            BiometricKind::Face => {
                faces.entry(copy.version).or_default().insert(copy.pin, data);
            }
            BiometricKind::Photo => {
                photos.insert(copy.pin, data);
            }
        }
    }
    let fp_versions: Vec<String> = fingers.keys().cloned().collect();
    let face_versions: Vec<String> = faces.keys().cloned().collect();
    let n = fp_versions.len().max(face_versions.len()).max(1);
    let mut out: Vec<Box<dyn AreaDevice>> = Vec::with_capacity(n);
    let mut photos = Some(photos);
    for k in 0..n {
        let fp_version = fp_versions.get(k).cloned();
        let face_version = face_versions.get(k).cloned();
        let my_fingers = fp_version.as_ref().and_then(|v| fingers.remove(v)).unwrap_or_default();
        let my_faces = face_version.as_ref().and_then(|v| faces.remove(v)).unwrap_or_default();
        let pins: BTreeSet<&str> = users.iter().map(|u| u.pin.as_str()).collect();
        let counts = DeviceCounts {
            users: users.len() as i64,
            fingerprints: my_fingers.iter().filter(|f| pins.contains(f.pin.as_str())).count() as i64,
            faces: my_faces.len() as i64,
            fp_version,
            face_version,
            faceless_reason: Some(format!("{STORE_LABEL}: no faces of this version")),
        };
        out.push(Box::new(StoreMember {
            id: DeviceId(-(k as i64)),
            counts,
            users: users.clone(),
            fingers: my_fingers,
            faces: my_faces,
            photos: photos.take(),
        }));
    }
    Ok(out)
}

#[async_trait]
impl AreaDevice for StoreMember {
    fn id(&self) -> DeviceId {
        self.id
    }

    fn label(&self) -> String {
        STORE_LABEL.into()
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn counts(&mut self) -> Access<DeviceCounts> {
        Ok(self.counts.clone())
    }

    async fn users(&mut self) -> Access<Vec<AreaUser>> {
        Ok(self.users.clone())
    }

    async fn fingers(&mut self) -> Access<Vec<AreaFinger>> {
        Ok(self.fingers.clone())
    }

    async fn faces(&mut self, pin: &str) -> Access<Option<Vec<u8>>> {
        Ok(self.faces.get(pin).cloned())
    }

    async fn photo(&mut self, pin: &str) -> Access<Option<Vec<u8>>> {
        match &self.photos {
            Some(p) => Ok(p.get(pin).cloned()),
            None => Err(AccessError::Unsupported),
        }
    }

    async fn lock(&mut self) -> Access<()> {
        Ok(())
    }

    async fn unlock(&mut self) -> Access<()> {
        Ok(())
    }

    async fn write_users(&mut self, _: &[AreaUser]) -> Access<Vec<Option<String>>> {
        Err(AccessError::Device("the biometric store is never written by a sync".into()))
    }

    async fn write_fingers(&mut self, _: &[AreaFinger]) -> Access<()> {
        Err(AccessError::Device("the biometric store is never written by a sync".into()))
    }

    async fn write_faces(&mut self, _: &str, _: &[u8]) -> Access<()> {
        Err(AccessError::Device("the biometric store is never written by a sync".into()))
    }

    async fn write_photo(&mut self, _: &str, _: &[u8]) -> Access<()> {
        Err(AccessError::Device("the biometric store is never written by a sync".into()))
    }

    async fn delete_user(&mut self, _: &str) -> Access<bool> {
        Err(AccessError::Device("the biometric store is never written by a sync".into()))
    }

    async fn finish(self: Box<Self>, _healthy: bool) {}
}
