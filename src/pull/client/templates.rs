//! Fingerprint templates: bulk read, single read (cmd 88 with retries), batch write (cmd 110
//! type 12 through the hash-checked upload buffer, users matched by user id on *this* device),
//! single write (cmd 87), delete (cmd 19).

use super::{is_not_found, Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::wire::batch::{encode_batch, Batch, BatchFinger, OpSign, BATCH_COMMAND_PAYLOAD};
use crate::pull::wire::buffer::QueryData;
use crate::pull::wire::command::{DELETE_USERTEMP, UPDATE_FIREWARE, USERTEMP_EX_RRQ, USERTEMP_EX_WRQ};
use crate::pull::wire::reply::{classify, ReplyKind};
use crate::pull::wire::template::{decode_single_template, decode_template_table, FingerSlot, Template, TemplateWrite};
use crate::pull::wire::user::{User, UserRecordSize};

/// A template to store for the person `user_id` (who must exist on the device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUpload {
    /// The person's number.
    pub user_id: String,
    /// Finger 0–9.
    pub finger: u8,
    /// Valid flag: 1 valid, 3 duress (spec §8.1; [`VALID`], [`DURESS`]).
    pub flag: u8,
    /// Template bytes (same ZKFinger version as the device).
    pub data: Vec<u8>,
}

/// The valid flag of an ordinary template.
pub const VALID: u8 = 1;
/// The valid flag of a duress finger (bit 1 set).
pub const DURESS: u8 = 3;

impl Client {
    /// Every template on the device.
    pub async fn read_templates(&mut self) -> Result<Vec<Template>> {
        if self.sizes().await?.fingers <= 0 {
            return Ok(Vec::new());
        }
        let body = self.read_table(QueryData::TEMPLATES, "templates").await?;
        Ok(decode_template_table(&body)?)
    }

    /// One template, or `None` when the slot is empty.
    pub async fn read_template(&mut self, uid: u16, finger: u8) -> Result<Option<Template>> {
        let r = self.call(USERTEMP_EX_RRQ, &FingerSlot { uid, finger }.encode(), Retry::NewId).await?;
        match classify(r.code) {
            ReplyKind::Ok | ReplyKind::Data if !r.data.is_empty() => {
                self.payload_bytes += r.data.len() as u64;
                let (data, flag) = decode_single_template(&r.data);
                Ok(Some(Template { uid, finger, flag, data }))
            }
            ReplyKind::Unknown => Err(Error::Unsupported { command: USERTEMP_EX_RRQ }),
            _ if is_not_found(&r) || r.data.is_empty() => Ok(None),
            _ => Ok(None),
        }
    }

    /// Stores templates in one batch upload. Every owner is looked up by user id on this
    /// device and addressed by *its* uid there; a missing owner is an error (nothing sent).
    /// The batch format has no flag (spec §8.4: the firmware stores its templates as valid), so
    /// a template with another flag (a duress finger) is written again singly by cmd 87, which
    /// carries it.
    pub async fn write_templates(&mut self, uploads: &[TemplateUpload]) -> Result<()> {
        let users = self.read_users().await?;
        let by_id: std::collections::HashMap<&str, &User> = users.iter().map(|u| (u.user_id.as_str(), u)).collect();
        let mut listed = std::collections::HashSet::new();
        let mut batch = Batch { users: Vec::new(), fingers: Vec::new() };
        for t in uploads {
            let owner = by_id
                .get(t.user_id.as_str())
                .ok_or_else(|| Error::Conflict(format!("user id {:?} is not on the device", t.user_id)))?;
            if listed.insert(owner.uid) {
                // OpSign 3 (update) only for users matched by user id here: never clobbers
                batch.users.push((OpSign::Update, (*owner).clone()));
            }
            batch.fingers.push(BatchFinger {
                op: OpSign::AddOrOverwrite,
                uid: owner.uid,
                finger: t.finger,
                template: t.data.clone(),
            });
        }
        let flagged: Vec<(u16, &TemplateUpload)> =
            uploads.iter().filter(|t| t.flag != VALID).map(|t| (by_id[t.user_id.as_str()].uid, t)).collect();
        let size = self.user_record.unwrap_or(UserRecordSize::Long72);
        let buffer = encode_batch(&batch, size)?;
        self.upload(&buffer, "templates").await?;
        self.call_ok(UPDATE_FIREWARE, &BATCH_COMMAND_PAYLOAD, Retry::SameId).await?;
        self.free_buffer().await?;
        for (uid, t) in flagged {
            self.write_template(uid, t.finger, t.flag, &t.data).await?;
        }
        self.refresh().await
    }

    /// Stores one template at (uid, finger) through the upload buffer and cmd 87.
    pub async fn write_template(&mut self, uid: u16, finger: u8, flag: u8, data: &[u8]) -> Result<()> {
        let len = u16::try_from(data.len()).map_err(|_| Error::Protocol("template longer than 65535 bytes".into()))?;
        self.upload(data, "template").await?;
        let request = TemplateWrite { uid, finger, flag, len };
        self.call_ok(USERTEMP_EX_WRQ, &request.encode(), Retry::SameId).await?;
        self.free_buffer().await?;
        self.refresh().await
    }

    /// Deletes the template at (uid, finger); false when there was none.
    pub async fn delete_template(&mut self, uid: u16, finger: u8) -> Result<bool> {
        let r = self.call(DELETE_USERTEMP, &FingerSlot { uid, finger }.encode(), Retry::SameId).await?;
        match classify(r.code) {
            ReplyKind::Ok => Ok(true),
            ReplyKind::Unknown => Err(Error::Unsupported { command: DELETE_USERTEMP }),
            _ => Ok(false),
        }
    }
}
