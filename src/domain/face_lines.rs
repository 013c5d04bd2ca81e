//! PURE: ZKFace 7 face records (the 2576-byte `TFaceTmp` of pull devices, what the biometric
//! store keeps) ↔ the push `FACE` lines of NIR v7 devices (`FACE PIN=…\tFID=…\tSIZE=…\tVALID=…\tTMP=…`
//! uploads, `DATA UPDATE FACE …` writes).
//!
//! A `FACE` line's `TMP` is base64 of a 16-byte header ("16 arbitrary bytes", push.md 2.6) and
//! the raw template: the layout of a `TFaceTmp` record (`u16 Size; u16 uid; u8 FaceID; u8 Valid;
//! u16 Reserve; i32 ActiveTime; i32 VfCount; u8 Face[2560]`, pull.md §10) with the template cut
//! short or not. A line becomes one record: `Size` 2576 (as on every device seen), uid 0 (each
//! device writes its own), `FaceID` the line's `FID`, `Valid` its `VALID` (1 when absent),
//! bytes 6..16 as sent, and the template zero-padded to 2560 bytes. A record goes back as its
//! 16 header bytes (uid zeroed) and its 2560 template bytes, so a record sent and read back as a
//! line is the same record.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// sizeof(TFaceTmp).
pub const RECORD_LEN: usize = 2576;
const HEADER_LEN: usize = 16;

/// One face record of a `FACE` line, or why the line is not one (a sentence naming the line's
/// fault, for the quarantine).
pub fn record_from_line(fid: i32, valid: Option<i32>, tmp: &str) -> Result<Vec<u8>, String> {
    let face_id = u8::try_from(fid).map_err(|_| format!("FACE: FID {fid} is not a face id (0-255)"))?;
    let valid = valid.unwrap_or(1);
    let valid = u8::try_from(valid).map_err(|_| format!("FACE: VALID {valid} is not a flag (0-255)"))?;
    let bytes = B64.decode(tmp.trim()).map_err(|e| format!("FACE: TMP is not base64 ({e})"))?;
    if bytes.len() <= HEADER_LEN || bytes.len() > RECORD_LEN {
        return Err(format!(
            "FACE: TMP holds {} bytes; a ZKFace 7 record is a 16-byte header and 1 to 2560 template bytes",
            bytes.len()
        ));
    }
    let mut record = vec![0u8; RECORD_LEN];
    record[0..2].copy_from_slice(&(RECORD_LEN as u16).to_le_bytes());
    record[4] = face_id;
    record[5] = valid;
    record[6..bytes.len()].copy_from_slice(&bytes[6..]);
    Ok(record)
}

/// A record as a `DATA UPDATE FACE` line's fields: (FID, Valid, TMP base64). `None` when
/// `record` is not one whole record.
pub fn line_from_record(record: &[u8]) -> Option<(u8, u8, String)> {
    if record.len() != RECORD_LEN {
        return None;
    }
    let mut out = record.to_vec();
    out[2] = 0;
    out[3] = 0;
    Some((record[4], record[5], B64.encode(out)))
}

/// The records of a blob of whole records by face id (a later record of the same id wins);
/// `None` when the blob is not whole records.
pub fn records_by_id(blob: &[u8]) -> Option<BTreeMap<u8, Vec<u8>>> {
    if blob.len() % RECORD_LEN != 0 {
        return None;
    }
    Some(blob.chunks_exact(RECORD_LEN).map(|r| (r[4], r.to_vec())).collect())
}

/// A face set as one blob, records in face id order.
pub fn blob(records: &BTreeMap<u8, Vec<u8>>) -> Vec<u8> {
    records.values().flatten().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(len: usize) -> String {
        B64.encode((0..len).map(|i| (i % 251) as u8 + 1).collect::<Vec<u8>>())
    }

    #[test]
    fn a_line_becomes_a_whole_record_with_its_fid_and_valid_and_the_template_padded() {
        let r = record_from_line(3, Some(1), &tmp(1236)).expect("a face");
        assert_eq!(r.len(), RECORD_LEN);
        assert_eq!((u16::from_le_bytes([r[0], r[1]]), r[2], r[3], r[4], r[5]), (2576, 0, 0, 3, 1));
        let sent = B64.decode(tmp(1236)).unwrap();
        assert_eq!(&r[6..1236], &sent[6..], "header bytes 6..16 and the template as sent");
        assert!(r[1236..].iter().all(|b| *b == 0), "zero-padded to 2560 template bytes");
        assert_eq!(record_from_line(0, None, &tmp(40)).unwrap()[5], 1, "VALID absent: 1");
    }

    #[test]
    fn a_record_sent_as_a_line_reads_back_as_the_same_record() {
        let mut record: Vec<u8> = (0..RECORD_LEN).map(|i| (i % 253) as u8).collect();
        record[0..2].copy_from_slice(&2576u16.to_le_bytes());
        record[2] = 9; // a device-local uid: not sent
        record[4] = 11;
        let (fid, valid, tmp) = line_from_record(&record).unwrap();
        assert_eq!((fid, valid), (11, record[5]));
        let back = record_from_line(i32::from(fid), Some(i32::from(valid)), &tmp).unwrap();
        (record[2], record[3]) = (0, 0);
        assert!(back == record, "the same record, uid zeroed");
        assert!(line_from_record(&record[..100]).is_none());
    }

    #[test]
    fn lines_that_are_no_face_record_say_why() {
        assert!(record_from_line(0, Some(1), "AAAA...").unwrap_err().contains("not base64"));
        assert!(record_from_line(0, Some(1), &tmp(16)).unwrap_err().contains("16 bytes"));
        assert!(record_from_line(0, Some(1), &tmp(2577)).unwrap_err().contains("2577 bytes"));
        assert!(record_from_line(300, Some(1), &tmp(40)).unwrap_err().contains("FID 300"));
        assert!(record_from_line(-1, Some(1), &tmp(40)).is_err());
    }

    #[test]
    fn records_merge_by_face_id_in_order() {
        let a = record_from_line(2, None, &tmp(40)).unwrap();
        let b = record_from_line(0, None, &tmp(50)).unwrap();
        let mut set = records_by_id(&[a.clone(), b.clone()].concat()).unwrap();
        assert_eq!(set.keys().copied().collect::<Vec<_>>(), [0, 2]);
        set.insert(2, b.clone());
        assert_eq!(blob(&set), [b.clone(), b].concat());
        assert!(records_by_id(&a[..10]).is_none());
    }
}
