//! Which gates hold a student's fingerprints and face, from the evidence kept: the biometric
//! store says which gate each master copy was learned from; the latest run of that gate's area
//! says which other gates it reached (synced and read back), which skipped it and why (version,
//! no face support), which failed, and which did not take it (`not_taken`). A gate the run did
//! not cover is not claimed.

use std::collections::HashMap;

use super::live::{latest_run, AreaRun};
use crate::domain::biometric::{BiometricKind, BiometricSummary};
use crate::domain::SchoolId;
use crate::store::{DynStore, StoreResult};

/// One master copy and the gates holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateHolding {
    /// e.g. `fingerprint 3 (ZKFinger 10)`, `face (ZKFace 7)`.
    pub what: String,
    /// Gates holding it: the one it was learned from, then those the last run reached.
    pub holds: Vec<String>,
    /// Gates of the area without it, each with why (the run's skip reason, a failure, not taken).
    pub not_on: Vec<String>,
}

/// Whether a run's skip (by its reason) concerns a copy of this kind and version.
fn skip_applies(kind: BiometricKind, version: &str, reason: &str) -> bool {
    match kind {
        BiometricKind::Finger => {
            reason.contains(&format!("ZKFinger {version} templates")) || reason.contains("version is unknown")
        }
        BiometricKind::Face => {
            reason.contains("no face support") || reason.contains(&format!("ZKFace {version} faces"))
        }
        BiometricKind::Photo => false,
    }
}

/// The gates holding each fingerprint and face of the student with `pin` (their `copies` from
/// the biometric store).
pub async fn holders(
    store: &DynStore,
    school: SchoolId,
    pin: &str,
    copies: &[BiometricSummary],
) -> StoreResult<Vec<GateHolding>> {
    let devices = store.pull_devices().await?;
    let name = |id: i64| {
        devices
            .iter()
            .find(|d| d.id.0 == id)
            .map(|d| d.name.clone().unwrap_or_else(|| d.serial_number.clone()))
            .unwrap_or_else(|| format!("device {id}"))
    };
    let mut runs: HashMap<i64, Option<AreaRun>> = HashMap::new();
    let mut out = Vec::new();
    for c in copies.iter().filter(|c| c.kind != BiometricKind::Photo) {
        let (what, label) = match c.kind {
            BiometricKind::Finger => (format!("fingerprint {} (ZKFinger {})", c.slot, c.version), "fingerprint"),
            _ => (format!("face (ZKFace {})", c.version), "face"),
        };
        let mut line = GateHolding { what, holds: Vec::new(), not_on: Vec::new() };
        let Some(source) = c.source_device_id else {
            out.push(line);
            continue;
        };
        line.holds.push(name(source));
        let area = devices.iter().find(|d| d.id.0 == source).and_then(|d| d.area_id);
        if let Some(area) = area {
            if let std::collections::hash_map::Entry::Vacant(e) = runs.entry(area) {
                e.insert(latest_run(store, school, area).await?);
            }
            let result =
                runs[&area].as_ref().filter(|r| r.finished_at >= Some(c.updated_at)).and_then(|r| r.result.as_ref());
            if let Some(r) = result.filter(|r| r.devices.iter().any(|l| l.device_id == source)) {
                for l in r.devices.iter().filter(|l| l.device_id != source) {
                    let gate = name(l.device_id);
                    if r.errors.iter().any(|e| e.device_id == l.device_id) {
                        line.not_on.push(format!("{gate}: failed in the last sync"));
                    } else if let Some(s) = r.skipped.iter().find(|s| {
                        s.device_id == l.device_id && s.what == label && skip_applies(c.kind, &c.version, &s.reason)
                    }) {
                        line.not_on.push(s.reason.clone());
                    } else if r
                        .not_taken
                        .iter()
                        .any(|n| n.device_id == l.device_id && n.pin == pin && n.what.starts_with(label))
                    {
                        line.not_on.push(format!("{gate}: written, but the device did not take it"));
                    } else {
                        line.holds.push(gate);
                    }
                }
            }
        }
        out.push(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_concerns_copies_of_its_kind_and_version_only() {
        let v9 = "C: ZKFinger 9 templates cannot go to a ZKFinger 10 device";
        assert!(skip_applies(BiometricKind::Finger, "9", v9));
        assert!(!skip_applies(BiometricKind::Finger, "10", v9));
        assert!(skip_applies(BiometricKind::Face, "7", "C: no face support"));
        assert!(!skip_applies(BiometricKind::Face, "7", "C: ZKFace 8 faces cannot go to a ZKFace 7 device"));
    }
}
