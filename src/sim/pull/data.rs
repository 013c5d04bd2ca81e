//! What the simulated device stores (users, templates, faces, photos, attendance, options,
//! clock) and the deterministic seed data it starts with.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration as ChronoDuration, NaiveDate, NaiveDateTime};

use crate::pull::wire::attendance::AttendanceRecord;
use crate::pull::wire::face::{FACES_PER_USER, FACE_DATA_LEN, FACE_RECORD_LEN};
use crate::pull::wire::user::{User, PRIVILEGE_ADMIN};

/// What to fill a fresh device with.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// User ids to create (uid 1, 2, … in this order).
    pub user_ids: Vec<u32>,
    /// Fingerprint templates per user (fingers 0..K).
    pub fingers_per_user: u8,
    /// Give every user a face (15 ZKFace 7 records).
    pub faces: bool,
    /// Give every user a photo.
    pub photos: bool,
    /// Attendance records, spread over the users.
    pub records: usize,
}

/// The device's tables.
#[derive(Debug, Clone, Default)]
pub struct DeviceData {
    /// Users by uid.
    pub users: BTreeMap<u16, User>,
    /// Templates by (uid, finger): (flag, bytes).
    pub templates: BTreeMap<(u16, u8), (u8, Vec<u8>)>,
    /// Face records by uid (the PIN field is rewritten with the uid when read).
    pub faces: BTreeMap<u16, Arc<Vec<u8>>>,
    /// JPEG photos by user id.
    pub photos: BTreeMap<String, Vec<u8>>,
    /// Attendance log in arrival order.
    pub attendance: Vec<AttendanceRecord>,
    /// Writable options set with CMD_OPTIONS_WRQ.
    pub options: BTreeMap<String, String>,
    /// Device clock minus host clock, in seconds.
    pub clock_offset_secs: i64,
}

impl DeviceData {
    /// Builds the seed data; template sizes follow `fp_version` (9: ≤ 600 B, 10: 1–1.6 KB).
    pub fn seeded(seed: &Seed, fp_version: u8) -> DeviceData {
        let mut d = DeviceData::default();
        for (i, id) in seed.user_ids.iter().enumerate() {
            let Ok(uid) = u16::try_from(i + 1) else { break };
            let mut u = User::new(uid, id.to_string(), format!("User {id}"));
            if i == 0 {
                u.privilege = PRIVILEGE_ADMIN;
                u.password = "1234".into();
            }
            u.card = if i % 3 == 0 { 1_000_000 + *id } else { 0 };
            for finger in 0..seed.fingers_per_user.min(10) {
                d.templates.insert((uid, finger), (1, template_bytes(uid, finger, fp_version)));
            }
            if seed.faces {
                // Each person's own face (as on a real device): a benchmark holding 3,000 copies
                // of one blob would measure nothing about memory.
                d.faces.insert(uid, Arc::new(face_records(uid, &id.to_string())));
            }
            if seed.photos {
                d.photos.insert(u.user_id.clone(), jpeg(&u.user_id));
            }
            d.users.insert(uid, u);
        }
        let ids: Vec<(u16, String)> = d.users.values().map(|u| (u.uid, u.user_id.clone())).collect();
        let start = NaiveDate::from_ymd_opt(2024, 1, 8).and_then(|d| d.and_hms_opt(7, 0, 0)).unwrap_or_default();
        for n in 0..seed.records {
            let Some((uid, user_id)) = ids.get(n % ids.len().max(1)).cloned() else {
                break;
            };
            d.attendance.push(AttendanceRecord {
                uid,
                user_id,
                timestamp: start + ChronoDuration::seconds((n as i64) * 97),
                verify: if n % 5 == 0 { 15 } else { 1 },
                state: (n % 2) as u8,
                workcode: 0,
            });
        }
        d
    }

    /// The user with this user id.
    pub fn user_by_id(&self, user_id: &str) -> Option<&User> {
        self.users.values().find(|u| u.user_id == user_id)
    }

    /// Deletes a user and everything that hangs off it.
    pub fn delete_user(&mut self, uid: u16) -> bool {
        let Some(user) = self.users.remove(&uid) else {
            return false;
        };
        self.templates.retain(|(u, _), _| *u != uid);
        self.faces.remove(&uid);
        self.photos.remove(&user.user_id);
        true
    }

    /// Device local time now.
    pub fn now(&self) -> NaiveDateTime {
        chrono::Local::now().naive_local() + ChronoDuration::seconds(self.clock_offset_secs)
    }
}

/// Deterministic pseudo-random bytes (SplitMix64).
pub fn pseudo_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A template-like byte string for (uid, finger): ZKFinger 10 ones start with "SS21".
pub fn template_bytes(uid: u16, finger: u8, fp_version: u8) -> Vec<u8> {
    let key = (u64::from(uid) << 8) | u64::from(finger);
    let len = if fp_version >= 10 { 1000 + (key * 7919 % 600) as usize } else { 400 + (key * 7919 % 200) as usize };
    let mut t = pseudo_bytes(key, len);
    t[..6].copy_from_slice(b"\x4d\xfdSS21");
    if let Some(last) = t.last_mut() {
        *last |= 1; // never end in 0x00: clients strip zero padding from cmd 88 replies
    }
    t
}

/// 15 ZKFace 7 records for `uid`.
pub fn face_records(uid: u16, salt: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(FACES_PER_USER * FACE_RECORD_LEN);
    let base = salt.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    for face_id in 0..FACES_PER_USER as u8 {
        out.extend_from_slice(&(FACE_RECORD_LEN as u16).to_le_bytes());
        out.extend_from_slice(&uid.to_le_bytes());
        out.extend_from_slice(&[face_id, 1, 0, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&pseudo_bytes(base ^ u64::from(face_id), FACE_DATA_LEN));
    }
    out
}

/// A valid baseline JPEG (8×8 grey) carrying the user id in a comment segment, 8–15 KB like a
/// real user photo (the rest of the size is a second comment segment of the person's own bytes).
pub fn jpeg(user_id: &str) -> Vec<u8> {
    let comment = format!("ironclock simulated photo of user {user_id}");
    let seed = user_id.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let filler = pseudo_bytes(seed, 8_000 + (seed % 7_000) as usize);
    let mut j = vec![0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    j.extend_from_slice(&[0xff, 0xfe]);
    j.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
    j.extend_from_slice(comment.as_bytes());
    j.extend_from_slice(&[0xff, 0xfe]);
    j.extend_from_slice(&((filler.len() + 2) as u16).to_be_bytes());
    j.extend_from_slice(&filler);
    j.extend_from_slice(&[0xff, 0xdb, 0, 0x43, 0]);
    j.extend_from_slice(&[1; 64]);
    j.extend_from_slice(&[0xff, 0xc0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    for class in [0x00u8, 0x10] {
        j.extend_from_slice(&[0xff, 0xc4, 0, 0x14, class, 1]);
        j.extend_from_slice(&[0; 16]);
    }
    j.extend_from_slice(&[0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, 0x3f, 0xff, 0xd9]);
    j
}
