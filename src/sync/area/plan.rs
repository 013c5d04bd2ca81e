//! PURE: what an area sync writes to each device, from what every device holds and what the
//! roster says. The union is keyed by PIN (never the device-local uid); the primary device's
//! copy wins a conflict (reported); fingerprints travel only between devices of the same
//! ZKFinger version, faces only between face-capable devices of the same ZKFace version, photos
//! only to devices that keep photos; every copy that cannot go somewhere is a reported skip.
//! The roster wins: deleted or deactivated students are removed everywhere and never re-added;
//! nobody is deleted because one device lacks them; users who are no student are unioned and
//! listed for adoption.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::device::{AreaFinger, AreaUser, DeviceCounts};
use crate::domain::DeviceId;

/// A face blob or photo as read from a device. Shared, not copied: identical copies read from
/// several devices are one allocation (see `steps::Interner`), and the plan hands the same
/// bytes to every device that lacks them (3 devices × 3,000 users × ~47 KB would otherwise be
/// held several times over).
pub type Blob = std::sync::Arc<[u8]>;

/// What one device holds, as read at the start of the sync (faces normalised).
#[derive(Debug, Clone)]
pub struct Holdings {
    pub id: DeviceId,
    pub label: String,
    pub counts: DeviceCounts,
    pub users: BTreeMap<String, AreaUser>,
    pub fingers: BTreeMap<(String, u8), AreaFinger>,
    pub faces: BTreeMap<String, Blob>,
    /// `None`: the device keeps no photos.
    pub photos: Option<BTreeMap<String, Blob>>,
}

/// The roster's say: PINs of current active students, and PINs to remove everywhere.
#[derive(Debug, Clone, Default)]
pub struct RosterView {
    pub students: HashSet<String>,
    pub removed: HashSet<String>,
}

/// What to write to one device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    pub delete: Vec<String>,
    pub users: Vec<AreaUser>,
    pub fingers: Vec<AreaFinger>,
    pub faces: Vec<(String, Blob)>,
    pub photos: Vec<(String, Blob)>,
}

impl Holdings {
    /// A device known by its counts only (nothing read yet).
    pub fn new(id: DeviceId, label: String, counts: DeviceCounts) -> Self {
        Self {
            id,
            label,
            counts,
            users: BTreeMap::new(),
            fingers: BTreeMap::new(),
            faces: BTreeMap::new(),
            photos: None,
        }
    }
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty()
            && self.users.is_empty()
            && self.fingers.is_empty()
            && self.faces.is_empty()
            && self.photos.is_empty()
    }
}

/// Something that was not copied to a device, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Skip {
    pub device_id: i64,
    pub device: String,
    /// `fingerprint`, `face`, `photo` or `user`.
    pub what: String,
    pub count: usize,
    pub reason: String,
}

/// Two devices holding different copies of the same thing: the winner's was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Conflict {
    pub pin: String,
    /// `fingerprint 3`, `face`, `photo`.
    pub what: String,
    pub kept_from: i64,
    pub overridden_on: i64,
}

/// A device user who is no student of the school: unioned, for the admin to adopt or delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Adoptable {
    pub pin: String,
    pub name: String,
}

/// The plan: writes per device (in the order of the holdings), and what the report says.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub writes: Vec<Writes>,
    pub skipped: Vec<Skip>,
    pub conflicts: Vec<Conflict>,
    pub adoptable: Vec<Adoptable>,
    /// The union of users (PIN → record) every device should end with.
    pub users: BTreeMap<String, AreaUser>,
}

/// The primary: most users + fingerprints; ties go to the lowest device id.
pub fn primary(counts: &[(DeviceId, &DeviceCounts)]) -> Option<usize> {
    (0..counts.len()).max_by(|&a, &b| {
        let (ida, ca) = counts[a];
        let (idb, cb) = counts[b];
        (ca.users + ca.fingerprints).cmp(&(cb.users + cb.fingerprints)).then(idb.0.cmp(&ida.0))
    })
}

/// Devices in the order their copies are preferred: the primary, then by size, then id.
fn preference(devices: &[Holdings], primary: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..devices.len()).collect();
    order.sort_by_key(|&i| {
        let c = &devices[i].counts;
        (i != primary, std::cmp::Reverse(c.users + c.fingerprints), devices[i].id.0)
    });
    order
}

/// A union of copies keyed by `K` among `group` (in preference order): the first holder's copy
/// wins, a different copy elsewhere is a conflict.
fn union<K: Ord + Clone, V: Clone + PartialEq>(
    devices: &[Holdings],
    group: &[usize],
    held: impl Fn(&Holdings) -> Vec<(K, V)>,
    conflict: impl Fn(&K, i64, i64) -> Conflict,
    conflicts: &mut Vec<Conflict>,
) -> BTreeMap<K, (usize, V)> {
    let mut out: BTreeMap<K, (usize, V)> = BTreeMap::new();
    for &i in group {
        for (k, v) in held(&devices[i]) {
            match out.get(&k) {
                None => {
                    out.insert(k, (i, v));
                }
                Some((winner, kept)) if *kept != v => {
                    conflicts.push(conflict(&k, devices[*winner].id.0, devices[i].id.0))
                }
                Some(_) => {}
            }
        }
    }
    out
}

fn skip(d: &Holdings, what: &str, count: usize, reason: String) -> Option<Skip> {
    (count > 0).then(|| Skip { device_id: d.id.0, device: d.label.clone(), what: what.into(), count, reason })
}

/// Plans the sync. `primary` indexes `devices`.
pub fn plan(devices: &[Holdings], primary: usize, roster: &RosterView) -> Plan {
    let order = preference(devices, primary);
    let mut p = Plan { writes: vec![Writes::default(); devices.len()], ..Default::default() };
    // Users: the union minus the roster's removals; the preferred holder's record.
    for &i in &order {
        for (pin, u) in &devices[i].users {
            if !roster.removed.contains(pin) && !p.users.contains_key(pin) {
                p.users.insert(pin.clone(), u.clone());
            }
        }
    }
    p.adoptable = p
        .users
        .values()
        .filter(|u| !roster.students.contains(&u.pin))
        .map(|u| Adoptable { pin: u.pin.clone(), name: u.name.clone() })
        .collect();
    for (i, d) in devices.iter().enumerate() {
        let w = &mut p.writes[i];
        w.delete = d.users.keys().filter(|pin| roster.removed.contains(*pin)).cloned().collect();
        w.users = p.users.values().filter(|u| !d.users.contains_key(&u.pin)).cloned().collect();
    }
    plan_fingers(devices, &order, &mut p);
    plan_faces(devices, &order, &mut p);
    plan_photos(devices, &order, &mut p);
    p
}

/// A version's fingerprints: (PIN, finger) → (winning device, copy).
type FingerUnion = BTreeMap<(String, u8), (usize, AreaFinger)>;

fn plan_fingers(devices: &[Holdings], order: &[usize], p: &mut Plan) {
    let versions: BTreeSet<Option<String>> = devices.iter().map(|d| d.counts.fp_version.clone()).collect();
    let mut desired: BTreeMap<Option<String>, FingerUnion> = BTreeMap::new();
    for v in versions {
        let group: Vec<usize> = order.iter().copied().filter(|&i| devices[i].counts.fp_version == v).collect();
        let held = |d: &Holdings| {
            d.fingers
                .iter()
                .filter(|((pin, _), _)| p.users.contains_key(pin))
                .map(|(k, f)| (k.clone(), f.clone()))
                .collect()
        };
        let conflict = |k: &(String, u8), kept: i64, over: i64| Conflict {
            pin: k.0.clone(),
            what: format!("fingerprint {}", k.1),
            kept_from: kept,
            overridden_on: over,
        };
        let fingers = union(devices, &group, held, conflict, &mut p.conflicts);
        desired.insert(v, fingers);
    }
    for (i, d) in devices.iter().enumerate() {
        let mine = d.counts.fp_version.clone();
        if let Some(v) = &mine {
            for (key, (_, f)) in &desired[&mine] {
                if d.fingers.get(key).is_none_or(|held| held.data != f.data) {
                    p.writes[i].fingers.push(f.clone());
                }
            }
            for (other, fingers) in desired.iter().filter(|(o, _)| **o != mine) {
                let missing = fingers.keys().filter(|k| !desired[&mine].contains_key(*k)).count();
                let from = other.as_deref().unwrap_or("an unknown version");
                let reason = format!("{}: ZKFinger {from} templates cannot go to a ZKFinger {v} device", d.label);
                p.skipped.extend(skip(d, "fingerprint", missing, reason));
            }
        } else {
            let missing = desired.iter().filter(|(o, _)| o.is_some()).map(|(_, f)| f.len()).sum();
            let reason = format!("{}: its fingerprint algorithm version is unknown", d.label);
            p.skipped.extend(skip(d, "fingerprint", missing, reason));
        }
    }
}

fn plan_faces(devices: &[Holdings], order: &[usize], p: &mut Plan) {
    let versions: BTreeSet<String> = devices.iter().filter_map(|d| d.counts.face_version.clone()).collect();
    let mut desired: BTreeMap<String, BTreeMap<String, (usize, Blob)>> = BTreeMap::new();
    for v in versions {
        let group: Vec<usize> =
            order.iter().copied().filter(|&i| devices[i].counts.face_version.as_ref() == Some(&v)).collect();
        let held = |d: &Holdings| {
            d.faces.iter().filter(|(pin, _)| p.users.contains_key(*pin)).map(|(k, f)| (k.clone(), f.clone())).collect()
        };
        let conflict = |k: &String, kept: i64, over: i64| Conflict {
            pin: k.clone(),
            what: "face".into(),
            kept_from: kept,
            overridden_on: over,
        };
        let faces = union(devices, &group, held, conflict, &mut p.conflicts);
        desired.insert(v, faces);
    }
    let all: BTreeSet<&String> = desired.values().flat_map(|f| f.keys()).collect();
    for (i, d) in devices.iter().enumerate() {
        match &d.counts.face_version {
            Some(v) => {
                for (pin, (_, blob)) in &desired[v] {
                    if d.faces.get(pin) != Some(blob) {
                        p.writes[i].faces.push((pin.clone(), blob.clone()));
                    }
                }
                for (other, faces) in desired.iter().filter(|(o, _)| *o != v) {
                    let missing = faces.keys().filter(|k| !desired[v].contains_key(*k)).count();
                    let reason = format!("{}: ZKFace {other} faces cannot go to a ZKFace {v} device", d.label);
                    p.skipped.extend(skip(d, "face", missing, reason));
                }
            }
            None => {
                let reason =
                    d.counts.faceless_reason.clone().unwrap_or_else(|| format!("{}: no face support", d.label));
                p.skipped.extend(skip(d, "face", all.len(), reason));
            }
        }
    }
}

fn plan_photos(devices: &[Holdings], order: &[usize], p: &mut Plan) {
    let group: Vec<usize> = order.iter().copied().filter(|&i| devices[i].photos.is_some()).collect();
    let held = |d: &Holdings| {
        d.photos
            .iter()
            .flatten()
            .filter(|(pin, _)| p.users.contains_key(*pin))
            .map(|(k, j)| (k.clone(), j.clone()))
            .collect()
    };
    let conflict = |k: &String, kept: i64, over: i64| Conflict {
        pin: k.clone(),
        what: "photo".into(),
        kept_from: kept,
        overridden_on: over,
    };
    let desired = union(devices, &group, held, conflict, &mut p.conflicts);
    for (i, d) in devices.iter().enumerate() {
        match &d.photos {
            Some(held) => {
                for (pin, (_, jpeg)) in &desired {
                    if held.get(pin) != Some(jpeg) {
                        p.writes[i].photos.push((pin.clone(), jpeg.clone()));
                    }
                }
            }
            None => {
                let reason = format!("{}: no photo support", d.label);
                p.skipped.extend(skip(d, "photo", desired.len(), reason));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(users: i64, fingerprints: i64) -> DeviceCounts {
        DeviceCounts { users, fingerprints, fp_version: Some("10".into()), ..Default::default() }
    }

    fn device(id: i64, pins: &[&str], finger_bytes: &[(&str, &[u8])]) -> Holdings {
        let mut h = Holdings::new(DeviceId(id), format!("D{id}"), counts(pins.len() as i64, finger_bytes.len() as i64));
        for pin in pins {
            let u = AreaUser {
                pin: pin.to_string(),
                name: format!("U{pin}"),
                privilege: 0,
                password: String::new(),
                card: 0,
                group: 1,
            };
            h.users.insert(pin.to_string(), u);
        }
        for (pin, data) in finger_bytes {
            let f = AreaFinger { pin: pin.to_string(), finger: 0, flag: 1, data: data.to_vec() };
            h.fingers.insert((pin.to_string(), 0), f);
        }
        h
    }

    #[test]
    fn the_primary_has_the_most_users_and_templates_and_a_tie_goes_to_the_lowest_id() {
        let (a, b, c) = (counts(100, 80), counts(20, 15), counts(100, 80));
        assert_eq!(primary(&[(DeviceId(7), &b), (DeviceId(5), &a), (DeviceId(3), &c)]), Some(2));
        assert_eq!(primary(&[(DeviceId(1), &b), (DeviceId(2), &a)]), Some(1));
        assert_eq!(primary(&[]), None);
    }

    #[test]
    fn the_primary_wins_a_conflicting_finger_and_the_conflict_is_reported() {
        let a = device(1, &["1"], &[("1", b"primary")]);
        let b = device(2, &["1"], &[("1", b"other")]);
        let p = plan(&[a, b], 0, &RosterView::default());
        assert!(p.writes[0].fingers.is_empty(), "the primary keeps its own");
        assert_eq!(p.writes[1].fingers[0].data, b"primary");
        assert_eq!(p.conflicts.len(), 1);
        assert_eq!((p.conflicts[0].kept_from, p.conflicts[0].overridden_on), (1, 2));
    }

    #[test]
    fn a_removed_student_is_deleted_where_held_and_never_written_and_absence_deletes_nobody() {
        let a = device(1, &["1", "2"], &[("2", b"t")]);
        let b = device(2, &["1"], &[]);
        let roster = RosterView { students: ["1".to_string()].into(), removed: ["2".to_string()].into() };
        let p = plan(&[a, b], 0, &roster);
        assert_eq!(p.writes[0].delete, ["2"]);
        assert!(p.writes[1].delete.is_empty() && p.writes[1].users.is_empty() && p.writes[1].fingers.is_empty());
        assert!(p.writes[0].users.is_empty(), "A lacks nobody");
    }
}
