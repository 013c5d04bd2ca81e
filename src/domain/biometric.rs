//! The biometric store's vocabulary: a master copy of a student's fingerprint (per finger and
//! ZKFinger version), face set (all records of one ZKFace version) or photo, identified by the
//! person's PIN; its SHA-256 (how copies are compared without opening them); and the views the
//! API shows (never bytes unless a super admin asks).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crypto::DataCipher;
use crate::domain::DeviceId;

/// Bytes of one ZKFace 7 record; the device-local uid sits at bytes 2..4 of each.
const FACE_RECORD_LEN: usize = 2576;

/// What a master copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BiometricKind {
    /// A fingerprint template (slot = finger 0–9, version = ZKFinger algorithm version).
    Finger,
    /// Every face record of one ZKFace version (slot 0).
    Face,
    /// The user photo (JPEG; slot 0, version '').
    Photo,
}

impl BiometricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BiometricKind::Finger => "finger",
            BiometricKind::Face => "face",
            BiometricKind::Photo => "photo",
        }
    }
}

impl TryFrom<String> for BiometricKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "finger" => Ok(BiometricKind::Finger),
            "face" => Ok(BiometricKind::Face),
            "photo" => Ok(BiometricKind::Photo),
            other => Err(format!("unknown biometric kind {other:?}")),
        }
    }
}

/// A copy in plain bytes, as read from a device or decoded from an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiometricCopy {
    /// The person's number (user id on devices, the student's PIN).
    pub pin: String,
    pub kind: BiometricKind,
    /// Finger 0–9; 0 for faces and photos.
    pub slot: u8,
    /// ZKFinger / ZKFace version; `None` when the source did not say (the store then uses the
    /// source device's known version, else `unknown`); '' for photos.
    pub version: Option<String>,
    /// Fingerprint flag (1 valid, 3 duress); 1 otherwise.
    pub flag: u8,
    /// Face records in the set; 1 otherwise.
    pub records: i32,
    /// Plain bytes (faces with their uid fields zeroed: see [`normalise_faces`]).
    pub data: Vec<u8>,
}

impl BiometricCopy {
    /// SHA-256 of the plain bytes, lower-case hex.
    pub fn hash(&self) -> String {
        sha256_hex(&self.data)
    }

    /// The copy sealed for the store.
    pub fn seal(&self, cipher: &DataCipher) -> SealedBiometric {
        SealedBiometric {
            pin: self.pin.clone(),
            kind: self.kind,
            slot: self.slot,
            version: self.version.clone(),
            flag: self.flag,
            records: self.records,
            size: i32::try_from(self.data.len()).unwrap_or(i32::MAX),
            hash: self.hash(),
            sealed: cipher.seal(&self.data),
        }
    }
}

/// A copy ready to store: sealed with the data cipher, with the size and hash of its plain bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBiometric {
    pub pin: String,
    pub kind: BiometricKind,
    pub slot: u8,
    pub version: Option<String>,
    pub flag: u8,
    pub records: i32,
    pub size: i32,
    pub hash: String,
    pub sealed: Vec<u8>,
}

/// Where a batch of copies came from (recorded on each row it writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BiometricSource {
    pub device: Option<DeviceId>,
    /// `push` (an upload) or `area_sync` (a pull read).
    pub via: &'static str,
}

/// A master copy as the API shows it: what and where from, never the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BiometricSummary {
    #[sqlx(try_from = "String")]
    pub kind: BiometricKind,
    pub slot: i32,
    pub version: String,
    pub flag: i32,
    pub records: i32,
    pub size: i32,
    pub hash: String,
    pub source_device_id: Option<i64>,
    pub source: String,
    pub updated_at: DateTime<Utc>,
}

/// A master copy with its sealed bytes (area sync, and a super admin asking for bytes).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredBiometric {
    pub student_id: i64,
    pub pin: String,
    #[sqlx(try_from = "String")]
    pub kind: BiometricKind,
    pub slot: i32,
    pub version: String,
    pub flag: i32,
    pub records: i32,
    pub size: i32,
    pub hash: String,
    pub data_enc: Vec<u8>,
    pub source_device_id: Option<i64>,
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Face records with each record's device-local uid (bytes 2..4) zeroed: the same face set read
/// from two devices then has the same bytes (devices rewrite the uid on upload anyway). `None`
/// when the blob is not whole records.
pub fn normalise_faces(blob: &[u8]) -> Option<Vec<u8>> {
    if blob.is_empty() || blob.len() % FACE_RECORD_LEN != 0 {
        return None;
    }
    let mut out = blob.to_vec();
    for record in out.chunks_exact_mut(FACE_RECORD_LEN) {
        record[2] = 0;
        record[3] = 0;
    }
    Some(out)
}

/// Face records in a blob of whole records.
pub fn face_records(blob: &[u8]) -> i32 {
    i32::try_from(blob.len() / FACE_RECORD_LEN).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_face_set_read_at_two_uids_hashes_the_same() {
        let mut a = vec![7u8; FACE_RECORD_LEN * 2];
        let mut b = a.clone();
        a[2] = 5;
        b[2] = 9;
        b[FACE_RECORD_LEN + 3] = 1;
        assert_eq!(normalise_faces(&a), normalise_faces(&b));
        assert!(normalise_faces(&a[..100]).is_none(), "not whole records");
        assert_eq!(face_records(&a), 2);
    }

    #[test]
    fn a_sealed_copy_keeps_the_hash_and_size_of_its_plain_bytes() {
        let cipher = DataCipher::random();
        let copy = BiometricCopy {
            pin: "1001".into(),
            kind: BiometricKind::Finger,
            slot: 3,
            version: Some("10".into()),
            flag: 1,
            records: 1,
            data: b"template".to_vec(),
        };
        let sealed = copy.seal(&cipher);
        assert_eq!(sealed.size, 8);
        assert_eq!(sealed.hash, sha256_hex(b"template"));
        assert_eq!(cipher.open(&sealed.sealed).unwrap(), b"template");
    }
}
