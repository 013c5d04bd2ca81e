//! Fingerprint templates (spec §8): the bulk table entry of a buffered read, the single-template
//! read (cmd 88) reply with its 6-zero + flag trailer, and the small request payloads of cmds
//! 19, 87, 88 and 134. Template bytes are opaque (ZKFinger 9 ≤ 608 B, ZKFinger 10 ~1.2–1.6 KB).

use super::error::{need, WireError};
use super::fields::{read_text, u16_at, write_text};

/// Finger id that cmd 134 reads as "every finger of the user".
pub const ALL_FINGERS: u8 = 13;
/// Bytes of the bulk entry header: size, uid, finger, flag.
pub const ENTRY_HEADER_LEN: usize = 6;

/// One stored fingerprint template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    /// Device-local uid of the owner.
    pub uid: u16,
    /// Finger 0–9.
    pub finger: u8,
    /// 1 valid, 3 duress (bit 1), 0 invalid.
    pub flag: u8,
    /// The template bytes.
    #[serde(with = "super::base64_bytes")]
    pub data: Vec<u8>,
}

/// Appends one bulk-table entry (`<H len+6><H uid><b fid><b flag>` + template) to `out`.
pub fn encode_template_entry(t: &Template, out: &mut Vec<u8>) -> Result<(), WireError> {
    let size = u16::try_from(t.data.len() + ENTRY_HEADER_LEN)
        .map_err(|_| WireError::invalid("template", format!("{} bytes is too long", t.data.len())))?;
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&t.uid.to_le_bytes());
    out.push(t.finger);
    out.push(t.flag);
    out.extend_from_slice(&t.data);
    Ok(())
}

/// Decodes a template table body (without its u32 length prefix): variable-size entries back
/// to back. An entry whose size is under 6 or runs past the end is an error.
pub fn decode_template_table(body: &[u8]) -> Result<Vec<Template>, WireError> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        need("template entry header", rest, ENTRY_HEADER_LEN)?;
        let size = usize::from(u16_at(rest, 0));
        if size < ENTRY_HEADER_LEN {
            return Err(WireError::BadLength { what: "template entry", len: size });
        }
        need("template entry", rest, size)?;
        out.push(Template {
            uid: u16_at(rest, 2),
            finger: rest[4],
            flag: rest[5],
            data: rest[ENTRY_HEADER_LEN..size].to_vec(),
        });
        rest = &rest[size..];
    }
    Ok(out)
}

/// Encodes a template table body.
pub fn encode_template_table(templates: &[Template]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(templates.iter().map(|t| t.data.len() + ENTRY_HEADER_LEN).sum());
    for t in templates {
        encode_template_entry(t, &mut out)?;
    }
    Ok(out)
}

/// The cmd 88 reply payload: template + 6 zero bytes + flag byte (v10 firmware).
pub fn encode_single_template(data: &[u8], flag: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 7);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 6]);
    out.push(flag);
    out
}

/// Splits a cmd 88 reply payload into (template, flag): the last byte is the flag; 6 zero
/// bytes before it are padding when present. The spec (§8.2) says the padding is always there,
/// but the captured ZKFinger 10 reply of pyzk `test_tcp_get_template_1f` (1244 bytes = 1243-byte
/// template + flag 0x01) has none: the capture wins, so the padding is optional.
pub fn decode_single_template(payload: &[u8]) -> (Vec<u8>, u8) {
    let Some((&flag, body)) = payload.split_last() else {
        return (Vec::new(), 0);
    };
    let body = match body.len().checked_sub(6) {
        Some(cut) if body[cut..].iter().all(|&b| b == 0) => &body[..cut],
        _ => body,
    };
    (body.to_vec(), flag)
}

/// A (uid, finger) slot: the 3-byte request of cmds 19 and 88 (`<H uid><B fid>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FingerSlot {
    /// Device-local uid.
    pub uid: u16,
    /// Finger 0–9.
    pub finger: u8,
}

impl FingerSlot {
    /// The 3 request bytes.
    pub fn encode(self) -> [u8; 3] {
        let u = self.uid.to_le_bytes();
        [u[0], u[1], self.finger]
    }

    /// Reads the first 3 bytes.
    pub fn decode(data: &[u8]) -> Result<FingerSlot, WireError> {
        need("finger slot", data, 3)?;
        Ok(FingerSlot { uid: u16_at(data, 0), finger: data[2] })
    }
}

/// The cmd 87 request: store the upload buffer as the template of (uid, finger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateWrite {
    /// Target uid.
    pub uid: u16,
    /// Finger 0–9.
    pub finger: u8,
    /// Valid/duress flag.
    pub flag: u8,
    /// Template length (= the upload buffer length).
    pub len: u16,
}

impl TemplateWrite {
    /// The 6 request bytes `<H uid><B fid><B flag><H len>`.
    pub fn encode(self) -> [u8; 6] {
        let u = self.uid.to_le_bytes();
        let l = self.len.to_le_bytes();
        [u[0], u[1], self.finger, self.flag, l[0], l[1]]
    }

    /// Reads the first 6 bytes.
    pub fn decode(data: &[u8]) -> Result<TemplateWrite, WireError> {
        need("cmd 87 request", data, 6)?;
        Ok(TemplateWrite { uid: u16_at(data, 0), finger: data[2], flag: data[3], len: u16_at(data, 4) })
    }
}

/// The cmd 134 request `24s user_id, B fid` (fid [`ALL_FINGERS`] deletes them all).
pub fn encode_delete_by_user_id(user_id: &str, finger: u8) -> Result<[u8; 25], WireError> {
    let mut out = [0u8; 25];
    write_text(&mut out[..24], user_id, "user_id")?;
    out[24] = finger;
    Ok(out)
}

/// Reads a cmd 134 request into (user_id, finger).
pub fn decode_delete_by_user_id(data: &[u8]) -> Result<(String, u8), WireError> {
    need("cmd 134 request", data, 25)?;
    Ok((read_text(&data[..24]), data[24]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::test_hex::hex;

    #[test]
    fn captured_entry_header_gives_size_uid_finger_and_flag() {
        // adrobinoga: c4040e000401 + "4dfd5353 3231..." (ZKFinger10): size 0x04C4, uid 14, finger 4, valid 1
        let head = hex("c4040e0004014dfd53533231000004bebe0408050709ced0");
        let mut entry = head.clone();
        entry.resize(0x04c4, 0xAB);
        let t = decode_template_table(&entry).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].uid, t[0].finger, t[0].flag, t[0].data.len()), (14, 4, 1, 0x04c4 - 6));
        assert_eq!(&t[0].data[..6], &hex("4dfd53533231")[..]);
    }

    #[test]
    fn table_round_trips_and_a_truncated_entry_is_an_error() {
        let ts = vec![
            Template { uid: 1, finger: 0, flag: 1, data: vec![7; 600] },
            Template { uid: 2, finger: 9, flag: 3, data: vec![8; 5] },
        ];
        let body = encode_template_table(&ts).unwrap();
        assert_eq!(decode_template_table(&body).unwrap(), ts);
        assert!(decode_template_table(&body[..body.len() - 1]).is_err());
        assert!(decode_template_table(&[2, 0, 1, 0, 0, 1]).is_err());
    }

    #[test]
    fn single_read_trailer_is_removed_and_the_flag_kept() {
        let payload = encode_single_template(&[1, 2, 3, 0, 5, 6, 7, 8], 3);
        assert_eq!(decode_single_template(&payload), (vec![1, 2, 3, 0, 5, 6, 7, 8], 3));
        // without the zero padding (captured ZKFinger 10 reply): only the flag goes
        assert_eq!(decode_single_template(&[9, 9, 9, 1]), (vec![9, 9, 9], 1));
        assert_eq!(decode_single_template(&[]), (vec![], 0));
    }

    #[test]
    fn request_payloads_have_the_documented_bytes() {
        // golden pyzk_tcp get_user_template(uid=4, temp_id=1): data 040001
        assert_eq!(FingerSlot { uid: 4, finger: 1 }.encode(), [4, 0, 1]);
        let w = TemplateWrite { uid: 0x0102, finger: 3, flag: 1, len: 1100 };
        assert_eq!(TemplateWrite::decode(&w.encode()).unwrap(), w);
        let d = encode_delete_by_user_id("80005", ALL_FINGERS).unwrap();
        assert_eq!(decode_delete_by_user_id(&d).unwrap(), ("80005".to_string(), 13));
    }
}
