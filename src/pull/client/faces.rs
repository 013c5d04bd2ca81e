//! ZKFace 7 faces by user id: read (cmd 150), write through the hash-checked upload buffer
//! (cmd 151; the device rewrites the uid inside the records), delete (cmd 152).

use super::{Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::wire::command::{DELETE_USERFACE, USERFACE_RRQ, USERFACE_WRQ};
use crate::pull::wire::face::{decode_faces, FaceRecord, FaceRequest, ALL_FACES, FACE_RECORD_LEN};
use crate::pull::wire::reply::{classify, ReplyKind};

impl Client {
    /// The raw face records of `user_id` (whole 2576-byte records), or `None` without faces.
    pub async fn read_face_blob(&mut self, user_id: &str) -> Result<Option<Vec<u8>>> {
        let request = FaceRequest { user_id: user_id.to_string(), index: ALL_FACES, len: 0 };
        let r = self.call(USERFACE_RRQ, &request.encode()?, Retry::NewId).await?;
        match classify(r.code) {
            ReplyKind::Ok | ReplyKind::Data if !r.data.is_empty() => {
                self.payload_bytes += r.data.len() as u64;
                Ok(Some(r.data))
            }
            ReplyKind::Unknown => Err(Error::Unsupported { command: USERFACE_RRQ }),
            _ => Ok(None),
        }
    }

    /// The face records of `user_id`, decoded.
    pub async fn read_faces(&mut self, user_id: &str) -> Result<Option<Vec<FaceRecord>>> {
        match self.read_face_blob(user_id).await? {
            Some(blob) => Ok(Some(decode_faces(&blob)?)),
            None => Ok(None),
        }
    }

    /// Stores `blob` (whole records, e.g. read from another device with the same
    /// ZKFaceVersion) as the faces of `user_id`, who must exist on this device.
    pub async fn write_faces(&mut self, user_id: &str, blob: &[u8]) -> Result<()> {
        if blob.is_empty() || blob.len() % FACE_RECORD_LEN != 0 {
            return Err(Error::Protocol(format!("face data of {} bytes is not whole 2576-byte records", blob.len())));
        }
        let len = u16::try_from(blob.len()).map_err(|_| Error::Protocol("face data longer than 65535 bytes".into()))?;
        self.upload(blob, "faces").await?;
        let request = FaceRequest { user_id: user_id.to_string(), index: ALL_FACES, len };
        self.call_ok(USERFACE_WRQ, &request.encode()?, Retry::SameId).await?;
        self.free_buffer().await?;
        self.refresh().await
    }

    /// Deletes every face of `user_id`; false when there was none.
    pub async fn delete_faces(&mut self, user_id: &str) -> Result<bool> {
        let request = FaceRequest { user_id: user_id.to_string(), index: ALL_FACES, len: 0 };
        let r = self.call(DELETE_USERFACE, &request.encode()?, Retry::SameId).await?;
        match classify(r.code) {
            ReplyKind::Ok => {
                self.refresh().await?;
                Ok(true)
            }
            ReplyKind::Unknown => Err(Error::Unsupported { command: DELETE_USERFACE }),
            _ => Ok(false),
        }
    }
}
