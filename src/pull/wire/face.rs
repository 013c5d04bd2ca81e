//! ZKFace 7 face templates (spec §10): the 2576-byte `TFaceTmp` record and the 28-byte
//! requests of cmds 150 (read), 151 (write from the upload buffer) and 152 (delete), which name
//! the user by user id (PIN2) and the face index 50 = "all of this user's faces".

use super::error::{need, WireError};
use super::fields::{i32_at, read_text, u16_at, write_text};

/// sizeof(TFaceTmp).
pub const FACE_RECORD_LEN: usize = 2576;
/// Bytes of face template data inside one record.
pub const FACE_DATA_LEN: usize = 2560;
/// Face index meaning "all faces of the user".
pub const ALL_FACES: u8 = 50;
/// Face records per user on ZKFace 7 firmware (FaceID 0–14).
pub const FACES_PER_USER: usize = 15;

/// One face record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaceRecord {
    /// Size field (2576 on the devices seen).
    pub size: u16,
    /// Owner uid; the device rewrites it with its own uid on upload.
    pub uid: u16,
    /// Face id 0–14.
    pub face_id: u8,
    /// Valid flag.
    pub valid: u8,
    /// Reserved word.
    pub reserved: u16,
    /// Activation time (device-defined).
    pub active_time: i32,
    /// Verification counter.
    pub verify_count: i32,
    /// The 2560 template bytes.
    #[serde(with = "super::base64_bytes")]
    pub template: Vec<u8>,
}

/// Encodes one record; the template must be exactly 2560 bytes.
pub fn encode_face(face: &FaceRecord) -> Result<[u8; FACE_RECORD_LEN], WireError> {
    if face.template.len() != FACE_DATA_LEN {
        return Err(WireError::invalid("face template", format!("{} bytes, expected 2560", face.template.len())));
    }
    let mut r = [0u8; FACE_RECORD_LEN];
    r[0..2].copy_from_slice(&face.size.to_le_bytes());
    r[2..4].copy_from_slice(&face.uid.to_le_bytes());
    r[4] = face.face_id;
    r[5] = face.valid;
    r[6..8].copy_from_slice(&face.reserved.to_le_bytes());
    r[8..12].copy_from_slice(&face.active_time.to_le_bytes());
    r[12..16].copy_from_slice(&face.verify_count.to_le_bytes());
    r[16..].copy_from_slice(&face.template);
    Ok(r)
}

/// Decodes a blob of whole records (a cmd 150 reply or a cmd 151 upload).
pub fn decode_faces(blob: &[u8]) -> Result<Vec<FaceRecord>, WireError> {
    if blob.len() % FACE_RECORD_LEN != 0 {
        return Err(WireError::BadLength { what: "face records", len: blob.len() });
    }
    Ok(blob
        .chunks_exact(FACE_RECORD_LEN)
        .map(|r| FaceRecord {
            size: u16_at(r, 0),
            uid: u16_at(r, 2),
            face_id: r[4],
            valid: r[5],
            reserved: u16_at(r, 6),
            active_time: i32_at(r, 8),
            verify_count: i32_at(r, 12),
            template: r[16..].to_vec(),
        })
        .collect())
}

/// A face request naming the user by user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceRequest {
    /// The person's number.
    pub user_id: String,
    /// Face index (50 = all).
    pub index: u8,
    /// For cmd 151: the upload length; 0 otherwise.
    pub len: u16,
}

impl FaceRequest {
    /// The 28 bytes `user_id[24], 0, index, <H len>` of cmds 150/151/152.
    pub fn encode(&self) -> Result<[u8; 28], WireError> {
        let mut out = [0u8; 28];
        write_text(&mut out[..24], &self.user_id, "user_id")?;
        out[25] = self.index;
        out[26..28].copy_from_slice(&self.len.to_le_bytes());
        Ok(out)
    }

    /// Reads the 28-byte form.
    pub fn decode(data: &[u8]) -> Result<FaceRequest, WireError> {
        need("face request", data, 26)?;
        Ok(FaceRequest { user_id: read_text(&data[..24]), index: data[25], len: u16_at(data, 26) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_request_layout_is_user_id_then_zero_then_index_then_length() {
        let r = FaceRequest { user_id: "80004".into(), index: ALL_FACES, len: 38_640 }.encode().unwrap();
        assert_eq!(&r[..6], b"80004\0");
        assert_eq!((r[24], r[25]), (0, 50));
        assert_eq!(u16::from_le_bytes([r[26], r[27]]), 38_640);
        assert_eq!(FaceRequest::decode(&r).unwrap().user_id, "80004");
    }

    #[test]
    fn fifteen_records_round_trip_and_a_partial_record_is_refused() {
        let faces: Vec<_> = (0..15u8)
            .map(|id| FaceRecord {
                size: FACE_RECORD_LEN as u16,
                uid: 3,
                face_id: id,
                valid: 1,
                reserved: 0,
                active_time: 0,
                verify_count: 0,
                template: vec![id; FACE_DATA_LEN],
            })
            .collect();
        let blob: Vec<u8> = faces.iter().flat_map(|f| encode_face(f).unwrap()).collect();
        assert_eq!(blob.len(), 38_640);
        assert_eq!(decode_faces(&blob).unwrap(), faces);
        assert!(decode_faces(&blob[..2575]).is_err());
    }
}
