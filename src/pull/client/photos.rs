//! User photos by user id (`<user_id>.jpg`): read (10010), write through the hash-checked
//! upload buffer (10009), delete (10011).

use super::{Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::wire::command::{DELETE_USER_PHOTO, GET_USER_PHOTO, SET_USER_PHOTO};
use crate::pull::wire::photo::{encode_photo_name, encode_photo_set};
use crate::pull::wire::reply::{classify, ReplyKind};

impl Client {
    /// The JPEG of `user_id`, or `None` when there is none.
    pub async fn read_photo(&mut self, user_id: &str) -> Result<Option<Vec<u8>>> {
        let r = self.call(GET_USER_PHOTO, &encode_photo_name(user_id)?, Retry::NewId).await?;
        match classify(r.code) {
            ReplyKind::Ok | ReplyKind::Data if !r.data.is_empty() => {
                self.payload_bytes += r.data.len() as u64;
                Ok(Some(r.data))
            }
            ReplyKind::Unknown => Err(Error::Unsupported { command: GET_USER_PHOTO }),
            _ => Ok(None),
        }
    }

    /// Stores `jpeg` as the photo of `user_id`.
    pub async fn write_photo(&mut self, user_id: &str, jpeg: &[u8]) -> Result<()> {
        if jpeg.is_empty() {
            return Err(Error::Protocol("empty photo".into()));
        }
        self.upload(jpeg, "photo").await?;
        self.call_ok(SET_USER_PHOTO, &encode_photo_set(user_id)?, Retry::SameId).await?;
        self.free_buffer().await?;
        self.refresh().await
    }

    /// Deletes the photo of `user_id`; false when there was none.
    pub async fn delete_photo(&mut self, user_id: &str) -> Result<bool> {
        let r = self.call(DELETE_USER_PHOTO, &encode_photo_name(user_id)?, Retry::SameId).await?;
        match classify(r.code) {
            ReplyKind::Ok => Ok(true),
            ReplyKind::Unknown => Err(Error::Unsupported { command: DELETE_USER_PHOTO }),
            _ => Ok(false),
        }
    }
}
