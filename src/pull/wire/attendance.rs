//! Attendance records (spec §11) in the four sizes devices use — 8, 16, 40 and 49 bytes — and
//! the attendance table, whose record size is detected from the body length and the count and
//! then validated (every timestamp must be a real date), because newer firmware changed sizes
//! without telling (pyzk issues #126, #170, PR #222).

use chrono::NaiveDateTime;

use super::error::{need, WireError};
use super::fields::{read_text, u16_at, u32_at, write_text};
use super::time::{decode_time, encode_time};

/// One punch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttendanceRecord {
    /// Device-local uid (0 when the format carries none: 16-byte records).
    pub uid: u16,
    /// The person's number; empty in 8-byte records (map the uid through the user table).
    pub user_id: String,
    /// Device local time of the punch.
    pub timestamp: NaiveDateTime,
    /// Verification method (0 password, 1 fingerprint, 2 card, 15 face, …).
    pub verify: u8,
    /// Attendance state (0 in, 1 out, 2 break-out, 3 break-in, 4 OT-in, 5 OT-out).
    pub state: u8,
    /// Work code (0 when none or not carried).
    pub workcode: u32,
}

/// The record layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AttendanceFormat {
    /// 8 bytes: u16 uid, u8 verify, u32 time, u8 state (old firmware).
    Short8,
    /// 16 bytes: u32 numeric user id, u32 time, u8 state, u8 verify, 2 reserved, u32 workcode.
    Extended16,
    /// 40 bytes: u16 uid, 24s user id, u8 verify @26, u32 time @27, u8 state @31, u32 workcode @32.
    Long40,
    /// 49 bytes: the 40-byte layout + 9 bytes of unknown meaning (SpeedFace V5L, ZAM170).
    Long49,
}

impl AttendanceFormat {
    /// Bytes per record.
    pub fn record_len(self) -> usize {
        match self {
            AttendanceFormat::Short8 => 8,
            AttendanceFormat::Extended16 => 16,
            AttendanceFormat::Long40 => 40,
            AttendanceFormat::Long49 => 49,
        }
    }
}

/// Decodes one record of `format` from the start of `bytes`. Fails on a timestamp that names
/// no real date.
pub fn decode_attendance(bytes: &[u8], format: AttendanceFormat) -> Result<AttendanceRecord, WireError> {
    need("attendance record", bytes, format.record_len())?;
    let (uid, user_id, time, verify, state, workcode) = match format {
        AttendanceFormat::Short8 => (u16_at(bytes, 0), String::new(), u32_at(bytes, 3), bytes[2], bytes[7], 0),
        AttendanceFormat::Extended16 => {
            (0, u32_at(bytes, 0).to_string(), u32_at(bytes, 4), bytes[9], bytes[8], u32_at(bytes, 12))
        }
        AttendanceFormat::Long40 | AttendanceFormat::Long49 => {
            (u16_at(bytes, 0), read_text(&bytes[2..26]), u32_at(bytes, 27), bytes[26], bytes[31], u32_at(bytes, 32))
        }
    };
    let timestamp = decode_time(time).ok_or_else(|| WireError::invalid("attendance time", format!("{time:#x}")))?;
    Ok(AttendanceRecord { uid, user_id, timestamp, verify, state, workcode })
}

/// Encodes one record; reserved and unknown bytes are written as zero.
pub fn encode_attendance(rec: &AttendanceRecord, format: AttendanceFormat) -> Result<Vec<u8>, WireError> {
    let time = encode_time(rec.timestamp)?;
    let mut r = vec![0u8; format.record_len()];
    match format {
        AttendanceFormat::Short8 => {
            r[0..2].copy_from_slice(&rec.uid.to_le_bytes());
            r[2] = rec.verify;
            r[3..7].copy_from_slice(&time.to_le_bytes());
            r[7] = rec.state;
        }
        AttendanceFormat::Extended16 => {
            let id: u32 = rec
                .user_id
                .parse()
                .map_err(|_| WireError::invalid("user_id", "the 16-byte layout needs a numeric user id"))?;
            r[0..4].copy_from_slice(&id.to_le_bytes());
            r[4..8].copy_from_slice(&time.to_le_bytes());
            r[8] = rec.state;
            r[9] = rec.verify;
            r[12..16].copy_from_slice(&rec.workcode.to_le_bytes());
        }
        AttendanceFormat::Long40 | AttendanceFormat::Long49 => {
            r[0..2].copy_from_slice(&rec.uid.to_le_bytes());
            write_text(&mut r[2..26], &rec.user_id, "user_id")?;
            r[26] = rec.verify;
            r[27..31].copy_from_slice(&time.to_le_bytes());
            r[31] = rec.state;
            r[32..36].copy_from_slice(&rec.workcode.to_le_bytes());
        }
    }
    Ok(r)
}

/// Decodes an attendance table body (without its u32 length prefix). Candidate sizes are tried
/// in the order 40, 49, 16, 8; a size is taken when it divides the body, matches `expected_count`
/// (AttLogCnt) if given, and every record is plausible: a real date and an identity (a non-empty
/// user id in 40/49-byte records, a non-zero uid in 8-byte ones). An empty body is an empty table.
pub fn decode_attendance_table(
    body: &[u8],
    expected_count: Option<usize>,
) -> Result<(AttendanceFormat, Vec<AttendanceRecord>), WireError> {
    use AttendanceFormat::*;
    if body.is_empty() {
        return Ok((Long40, Vec::new()));
    }
    let mut last_error = WireError::BadLength { what: "attendance table", len: body.len() };
    for format in [Long40, Long49, Extended16, Short8] {
        let n = format.record_len();
        if body.len() % n != 0 || expected_count.is_some_and(|c| c * n != body.len()) {
            continue;
        }
        match body.chunks_exact(n).map(|r| decode_plausible(r, format)).collect() {
            Ok(records) => return Ok((format, records)),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn decode_plausible(bytes: &[u8], format: AttendanceFormat) -> Result<AttendanceRecord, WireError> {
    let rec = decode_attendance(bytes, format)?;
    let has_identity = match format {
        AttendanceFormat::Long40 | AttendanceFormat::Long49 => !rec.user_id.is_empty(),
        AttendanceFormat::Short8 => rec.uid != 0,
        AttendanceFormat::Extended16 => true,
    };
    if !has_identity {
        return Err(WireError::invalid("attendance record", "no user identity"));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::test_hex::hex;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, s).unwrap()
    }

    #[test]
    fn captured_40_byte_record_decodes_every_field() {
        // adrobinoga data-record.md: uid 13, "999111333", verify 1, 2018-06-25 17:50:35, state 0
        let rec = hex("0d00393939313131333333000000000000000000000000000000016bb368230000000000ff000000");
        let (format, records) = decode_attendance_table(&rec, Some(1)).unwrap();
        assert_eq!(format, AttendanceFormat::Long40);
        let r = &records[0];
        assert_eq!((r.uid, r.user_id.as_str(), r.verify, r.state), (13, "999111333", 1, 0));
        assert_eq!(r.timestamp, at(2018, 6, 25, 17, 50, 35));
        assert_eq!(r.workcode, 0);
    }

    #[test]
    fn every_format_round_trips_a_record() {
        let rec = AttendanceRecord {
            uid: 7,
            user_id: "1007".into(),
            timestamp: at(2024, 3, 5, 8, 30, 0),
            verify: 15,
            state: 1,
            workcode: 9,
        };
        for format in [AttendanceFormat::Long40, AttendanceFormat::Long49] {
            let bytes = encode_attendance(&rec, format).unwrap();
            assert_eq!(bytes.len(), format.record_len());
            assert_eq!(decode_attendance(&bytes, format).unwrap(), rec);
        }
        let ext = decode_attendance(
            &encode_attendance(&rec, AttendanceFormat::Extended16).unwrap(),
            AttendanceFormat::Extended16,
        )
        .unwrap();
        assert_eq!(
            (ext.user_id.as_str(), ext.timestamp, ext.verify, ext.state, ext.workcode),
            ("1007", rec.timestamp, 15, 1, 9)
        );
        let short =
            decode_attendance(&encode_attendance(&rec, AttendanceFormat::Short8).unwrap(), AttendanceFormat::Short8)
                .unwrap();
        assert_eq!((short.uid, short.timestamp, short.verify, short.state), (7, rec.timestamp, 15, 1));
    }

    #[test]
    fn table_of_80_bytes_is_read_by_the_count_it_must_have() {
        // 80 = 2×40 = 5×16 = 10×8: the count decides
        let rec = AttendanceRecord {
            uid: 1,
            user_id: "1".into(),
            timestamp: at(2024, 1, 1, 0, 0, 0),
            verify: 1,
            state: 0,
            workcode: 0,
        };
        let mut body = Vec::new();
        for _ in 0..10 {
            body.extend(encode_attendance(&rec, AttendanceFormat::Short8).unwrap());
        }
        assert_eq!(decode_attendance_table(&body, Some(10)).unwrap().0, AttendanceFormat::Short8);
        assert!(decode_attendance_table(&body, Some(3)).is_err());
    }

    #[test]
    fn a_size_whose_records_hold_impossible_dates_is_rejected_for_the_next_one() {
        // 49 records of 16 bytes = 784 = 16×49: the 49-byte reading produces garbage times
        let rec = AttendanceRecord {
            uid: 0,
            user_id: "4242".into(),
            timestamp: at(2023, 11, 30, 23, 59, 59),
            verify: 1,
            state: 0,
            workcode: 0,
        };
        let mut body = Vec::new();
        for _ in 0..49 {
            body.extend(encode_attendance(&rec, AttendanceFormat::Extended16).unwrap());
        }
        let (format, records) = decode_attendance_table(&body, None).unwrap();
        assert_eq!(format, AttendanceFormat::Extended16);
        assert_eq!(records.len(), 49);
    }

    #[test]
    fn empty_table_is_no_records() {
        assert!(decode_attendance_table(&[], Some(0)).unwrap().1.is_empty());
    }
}
