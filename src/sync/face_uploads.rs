//! Faces learned from push uploads: the `FACE` lines a NIR device sends (one record per line,
//! `FID` its face id, possibly across several uploads) become the student's face set in the
//! biometric store. After an upload is stored, the face set of each PIN it named is rebuilt
//! from every `FACE` row that device holds for the PIN (each upload keeps its rows by FID, so an
//! earlier upload's records are never lost), as ZKFace records ([`crate::domain::face_lines`])
//! of the device's NIR face version (`MultiBioVersion` type 2, else `FaceVersion`, else its
//! heartbeat's; `unknown` when it never said). A line that is no face record was quarantined by
//! the upload; a row stored before that check and unreadable now is left out.
//!
//! Not learned here: `BIODATA` Type=2 rows (NIR face v12, 15 rows of another format) are kept
//! as uploaded only.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::Core;
use crate::domain::biometric::{face_records, BiometricCopy, BiometricKind, BiometricSource};
use crate::domain::face_lines::{blob, record_from_line};
use crate::domain::{Device, OperlogBatch};
use crate::store::StoreError;

/// How often a learner re-reads and saves again when the rows changed under it.
const ROUNDS: usize = 5;

/// Face sets by PIN: each person's records by face id.
type FaceSets = BTreeMap<String, BTreeMap<u8, Vec<u8>>>;

/// Rebuilds the face sets of the PINs whose `FACE` lines `batch` carried; returns the master
/// copies written or changed (0 for a device of no school, or PINs of no student).
///
/// Uploads of one person's faces can be learned at the same moment (a retry beside the next
/// upload, requests spread over instances), each from the rows it sees; the last to save could
/// drop a record only the other saw. So after saving, a learner reads the rows again and saves
/// again until what it saved is what they say: whoever saves last has then seen every row
/// stored before it (each upload's rows are stored before its learner starts).
pub async fn learn(core: &Core, device: &Device, batch: &OperlogBatch) -> Result<usize, StoreError> {
    let Some(school) = device.school_id else { return Ok(0) };
    let pins: BTreeSet<String> =
        batch.templates.iter().filter(|t| t.kind == "face" && t.bio_type == 2).map(|t| t.pin.clone()).collect();
    if pins.is_empty() {
        return Ok(0);
    }
    let pins: Vec<String> = pins.into_iter().collect();
    let mut written = 0;
    let mut saved: Option<(Option<String>, FaceSets)> = None;
    for _ in 0..ROUNDS {
        let seen = read_sets(core, device, &pins).await?;
        if saved.as_ref() == Some(&seen) {
            break;
        }
        written += save(core, device, school, &seen).await?;
        saved = Some(seen);
    }
    Ok(written)
}

/// The device's NIR face version and the face sets its stored `FACE` rows make for `pins`.
async fn read_sets(core: &Core, device: &Device, pins: &[String]) -> Result<(Option<String>, FaceSets), StoreError> {
    let held = core.store.push_faces(device.id, pins).await?;
    let version = crate::domain::bio_versions::nir_face_version(&held.options, &held.poll_info);
    let mut sets = FaceSets::new();
    for row in &held.templates {
        let Some(tmp) = core.cipher.open(&row.template_enc).ok().and_then(|t| String::from_utf8(t).ok()) else {
            continue;
        };
        if let Ok(record) = record_from_line(row.template_index, row.valid, &tmp) {
            sets.entry(row.pin.clone()).or_default().insert(record[4], record);
        }
    }
    Ok((version, sets))
}

async fn save(
    core: &Core,
    device: &Device,
    school: crate::domain::SchoolId,
    (version, sets): &(Option<String>, FaceSets),
) -> Result<usize, StoreError> {
    let copies: Vec<_> = sets
        .iter()
        .map(|(pin, records)| {
            let data = blob(records);
            let copy = BiometricCopy {
                pin: pin.clone(),
                kind: BiometricKind::Face,
                slot: 0,
                version: Some(version.clone().unwrap_or_else(|| "unknown".into())),
                flag: 1,
                records: face_records(&data),
                data,
            };
            copy.seal(&core.cipher)
        })
        .collect();
    let source = BiometricSource { device: Some(device.id), via: "push" };
    core.store.save_biometrics(school, source, &copies, core.clock.now()).await
}
