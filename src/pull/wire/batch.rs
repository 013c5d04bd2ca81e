//! The batch upload buffer of cmd 110 type 12 (spec §8.4, SDK BatchUpdate): users with an
//! operation sign, a finger table pointing into a template area, and the templates as
//! `<H len> + bytes`. The device matches users **by uid**, so OpSign 2 on an occupied uid
//! overwrites whoever is there: callers must give target-device uids.

use super::error::{need, WireError};
use super::fields::{u16_at, u32_at};
use super::user::{decode_user, encode_user, User, UserRecordSize};

/// What the device does with one batch entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpSign {
    /// 0: delete.
    Delete,
    /// 1: add only (skip if the uid exists).
    Add,
    /// 2: add or overwrite.
    AddOrOverwrite,
    /// 3: update an existing entry.
    Update,
    /// 4 and anything else: ignore.
    Ignore,
}

impl OpSign {
    /// The wire byte.
    pub fn to_byte(self) -> u8 {
        match self {
            OpSign::Delete => 0,
            OpSign::Add => 1,
            OpSign::AddOrOverwrite => 2,
            OpSign::Update => 3,
            OpSign::Ignore => 4,
        }
    }

    /// From the wire byte.
    pub fn from_byte(b: u8) -> OpSign {
        match b {
            0 => OpSign::Delete,
            1 => OpSign::Add,
            2 => OpSign::AddOrOverwrite,
            3 => OpSign::Update,
            _ => OpSign::Ignore,
        }
    }
}

/// One finger of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFinger {
    /// Operation.
    pub op: OpSign,
    /// Owner uid (target device).
    pub uid: u16,
    /// Finger 0–9 (the firmware masks the byte with 0x0F; pyzk writes 0x10 + fid).
    pub finger: u8,
    /// Template bytes.
    pub template: Vec<u8>,
}

/// A decoded batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Users with their operation.
    pub users: Vec<(OpSign, User)>,
    /// Fingers with their operation.
    pub fingers: Vec<BatchFinger>,
}

/// The cmd 110 payload that applies the upload buffer as a batch: `<I 12><H 0><H 8>` as pyzk
/// sends it (the firmware reads only the type).
pub const BATCH_COMMAND_PAYLOAD: [u8; 8] = [12, 0, 0, 0, 0, 0, 8, 0];

/// Encodes the upload buffer of a batch.
pub fn encode_batch(batch: &Batch, size: UserRecordSize) -> Result<Vec<u8>, WireError> {
    let mut users = Vec::with_capacity(batch.users.len() * (size.record_len() + 1));
    for (op, user) in &batch.users {
        users.push(op.to_byte());
        users.extend_from_slice(&encode_user(user, size)?);
    }
    let mut table = Vec::with_capacity(batch.fingers.len() * 8);
    let mut templates = Vec::new();
    for f in &batch.fingers {
        let len =
            u16::try_from(f.template.len()).map_err(|_| WireError::invalid("template", "longer than 65535 bytes"))?;
        let offset = u32::try_from(templates.len()).map_err(|_| WireError::invalid("batch", "too large"))?;
        table.push(f.op.to_byte());
        table.extend_from_slice(&f.uid.to_le_bytes());
        table.push(0x10 | (f.finger & 0x0F));
        table.extend_from_slice(&offset.to_le_bytes());
        templates.extend_from_slice(&len.to_le_bytes());
        templates.extend_from_slice(&f.template);
    }
    let mut out = Vec::with_capacity(12 + users.len() + table.len() + templates.len());
    for part in [&users, &table, &templates] {
        let n = u32::try_from(part.len()).map_err(|_| WireError::invalid("batch", "too large"))?;
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&users);
    out.extend_from_slice(&table);
    out.extend_from_slice(&templates);
    Ok(out)
}

/// Decodes a batch upload buffer. The user record size is taken from `size` when the user
/// area divides by it, else from whichever of 73/29 divides the area.
pub fn decode_batch(buf: &[u8], size: UserRecordSize) -> Result<Batch, WireError> {
    need("batch header", buf, 12)?;
    let (user_len, table_len, tmpl_len) = (u32_at(buf, 0) as usize, u32_at(buf, 4) as usize, u32_at(buf, 8) as usize);
    let total = 12usize.saturating_add(user_len).saturating_add(table_len).saturating_add(tmpl_len);
    need("batch", buf, total)?;
    let user_area = &buf[12..12 + user_len];
    let table = &buf[12 + user_len..12 + user_len + table_len];
    let tmpl_area = &buf[12 + user_len + table_len..total];

    let size = [size, UserRecordSize::Long72, UserRecordSize::Short28]
        .into_iter()
        .find(|s| user_area.len() % (s.record_len() + 1) == 0)
        .ok_or(WireError::BadLength { what: "batch user area", len: user_area.len() })?;
    let users = user_area
        .chunks_exact(size.record_len() + 1)
        .map(|r| Ok((OpSign::from_byte(r[0]), decode_user(&r[1..], size)?)))
        .collect::<Result<Vec<_>, WireError>>()?;

    if table.len() % 8 != 0 {
        return Err(WireError::BadLength { what: "batch finger table", len: table.len() });
    }
    let mut fingers = Vec::with_capacity(table.len() / 8);
    for e in table.chunks_exact(8) {
        let offset = u32_at(e, 4) as usize;
        let at = tmpl_area.get(offset..).unwrap_or_default();
        need("batch template length", at, 2)?;
        let len = usize::from(u16_at(at, 0));
        need("batch template", at, 2 + len)?;
        fingers.push(BatchFinger {
            op: OpSign::from_byte(e[0]),
            uid: u16_at(e, 1),
            finger: e[3] & 0x0F,
            template: at[2..2 + len].to_vec(),
        });
    }
    Ok(Batch { users, fingers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::test_hex::hex;

    #[test]
    fn pyzk_hr_upload_buffer_decodes_to_its_user_and_finger() {
        // computed_vectors.txt: HR_save_usertemplates User(uid=7,'Ali',pw '12','1007',card 123456),
        // Finger(fid 3, template = bytes 0..16)
        let buf = hex("490000000800000012000000020700003132000000000000416c6900000000000000000000000000000000000000000040e2010001000000000000000031303037000000000000000000000000000000000000000002070013000000001000000102030405060708090a0b0c0d0e0f");
        let b = decode_batch(&buf, UserRecordSize::Long72).unwrap();
        assert_eq!(b.users.len(), 1);
        let (op, u) = &b.users[0];
        assert_eq!(*op, OpSign::AddOrOverwrite);
        assert_eq!(
            (u.uid, u.name.as_str(), u.password.as_str(), u.card, u.group, u.user_id.as_str()),
            (7, "Ali", "12", 123_456, 1, "1007")
        );
        assert_eq!(
            b.fingers,
            vec![BatchFinger { op: OpSign::AddOrOverwrite, uid: 7, finger: 3, template: (0..16).collect() }]
        );
        // and we produce the same bytes for the same batch
        assert_eq!(encode_batch(&b, UserRecordSize::Long72).unwrap(), buf);
    }

    #[test]
    fn a_finger_offset_past_the_template_area_is_an_error() {
        let mut buf = vec![0, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0];
        buf.extend_from_slice(&[2, 1, 0, 0x10, 9, 0, 0, 0]);
        buf.extend_from_slice(&[0, 0]);
        assert!(decode_batch(&buf, UserRecordSize::Long72).is_err());
    }
}
