//! Live events pushed by the device as command 500 with the event flag in the session slot
//! (spec §9). Attendance payloads come in seven lengths (10, 12, 14, 32, 36, 37, ≥52) that differ
//! by firmware; unknown lengths are returned as [`LiveEvent::Other`], never a panic (pyzk #86).

use chrono::NaiveDateTime;

use super::command::{EF_ATTLOG, EF_ENROLLFINGER, EF_FPFTR, EF_VERIFY};
use super::error::WireError;
use super::fields::{read_text, u16_at, u32_at, write_text};
use super::time::{decode_event_time, encode_event_time};

/// One pushed event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A punch (EF_ATTLOG).
    Attendance(AttendanceEvent),
    /// A finger enrolment finished (EF_ENROLLFINGER).
    Enrolled {
        /// 0 = success (firmware result code otherwise).
        result: u16,
        /// Template length, when reported.
        template_len: Option<u16>,
        /// User id, when reported.
        user_id: Option<String>,
        /// Finger id, when reported.
        finger: Option<u8>,
    },
    /// Fingerprint quality score (EF_FPFTR).
    FingerScore {
        /// 0–100.
        score: u8,
    },
    /// Verification result (EF_VERIFY): the uid, or `None` for "not recognised".
    Verified {
        /// Identified uid.
        uid: Option<u32>,
    },
    /// Any other flag or an attendance payload of unknown length.
    Other {
        /// Event flag (session slot).
        flag: u16,
        /// Raw payload.
        #[serde(with = "super::base64_bytes")]
        data: Vec<u8>,
    },
}

/// A live punch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttendanceEvent {
    /// The person's number (short forms carry a number that is the user id or the uid).
    pub user_id: String,
    /// Verification method.
    pub verify: u8,
    /// Attendance state.
    pub state: u8,
    /// Device local time.
    pub timestamp: NaiveDateTime,
    /// Work code, on forms that carry one (14 and 36 bytes), else 0.
    pub workcode: u32,
}

/// Lengths of the attendance payload forms (pyzk dispatches on exactly these).
const ATT_FORMS: [usize; 7] = [10, 12, 14, 32, 36, 37, 52];

/// Decodes the payload of a cmd-500 packet whose session slot is `flag`. Several attendance
/// events may be concatenated (52- or 32-byte forms).
pub fn decode_events(flag: u16, data: &[u8]) -> Vec<LiveEvent> {
    let other = || vec![LiveEvent::Other { flag, data: data.to_vec() }];
    match flag {
        EF_ATTLOG => {
            let form = if ATT_FORMS.contains(&data.len()) {
                data.len()
            } else if !data.is_empty() && data.len() % 52 == 0 {
                52
            } else if !data.is_empty() && data.len() % 32 == 0 {
                32
            } else {
                return other();
            };
            data.chunks_exact(form)
                .map(|c| match decode_attendance_event(c) {
                    Some(ev) => LiveEvent::Attendance(ev),
                    None => LiveEvent::Other { flag, data: c.to_vec() },
                })
                .collect()
        }
        EF_ENROLLFINGER if data.len() >= 2 => {
            let (template_len, user_id, finger) = if data.len() >= 6 {
                (Some(u16_at(data, 2)), Some(read_text(&data[4..data.len() - 1])), data.last().copied())
            } else {
                (None, None, None)
            };
            vec![LiveEvent::Enrolled { result: u16_at(data, 0), template_len, user_id, finger }]
        }
        EF_FPFTR if !data.is_empty() => vec![LiveEvent::FingerScore { score: data[0] }],
        EF_VERIFY if data.len() >= 4 => {
            let uid = u32_at(data, 0);
            vec![LiveEvent::Verified { uid: (uid != u32::MAX).then_some(uid) }]
        }
        _ => other(),
    }
}

/// One attendance payload of a known length; `None` when its time is not a real date.
fn decode_attendance_event(c: &[u8]) -> Option<AttendanceEvent> {
    let (user_id, rest) = match c.len() {
        10 | 14 => (u16_at(c, 0).to_string(), &c[2..]),
        12 => (u32_at(c, 0).to_string(), &c[4..]),
        _ => (read_text(&c[..24]), &c[24..]),
    };
    let time: [u8; 6] = rest.get(2..8)?.try_into().ok()?;
    let workcode = match c.len() {
        14 | 36 => u32_at(rest, 8),
        _ => 0,
    };
    Some(AttendanceEvent { user_id, verify: rest[0], state: rest[1], timestamp: decode_event_time(&time)?, workcode })
}

/// Encodes the 32-byte attendance form (TFT firmware): user_id[24], verify, state, time[6].
pub fn encode_attendance_event(ev: &AttendanceEvent) -> Result<[u8; 32], WireError> {
    let mut out = [0u8; 32];
    write_text(&mut out[..24], &ev.user_id, "user_id")?;
    out[24] = ev.verify;
    out[25] = ev.state;
    out[26..32].copy_from_slice(&encode_event_time(ev.timestamp)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::packet::Packet;
    use crate::pull::wire::test_hex::hex;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, s).unwrap()
    }

    #[test]
    fn captured_tft_punch_event_decodes() {
        // adrobinoga realtime.md: "999111333", verify 1, 2018-06-25 17:41:05, flag 1 in the session slot
        let frame = hex("f401ac12010000003939393131313333330000000000000000000000000000000100120619112905");
        let p = Packet::decode(&frame).unwrap();
        assert_eq!((p.command, p.session, p.reply), (500, 1, 0));
        let evs = decode_events(p.session, &p.data);
        let want = AttendanceEvent {
            user_id: "999111333".into(),
            verify: 1,
            state: 0,
            timestamp: at(2018, 6, 25, 17, 41, 5),
            workcode: 0,
        };
        assert_eq!(evs, vec![LiveEvent::Attendance(want.clone())]);
        assert_eq!(encode_attendance_event(&want).unwrap().to_vec(), p.data);
    }

    #[test]
    fn captured_fingerprint_score_event_decodes() {
        // adrobinoga realtime.md: EF_FPFTR (0x100) score 0x64
        let p = Packet::decode(&hex("f401a7fc0001000064")).unwrap();
        assert_eq!(decode_events(p.session, &p.data), vec![LiveEvent::FingerScore { score: 100 }]);
    }

    #[test]
    fn pyzk_twelve_byte_event_form_carries_a_numeric_user_id() {
        // pyzk test_tcp_live_connect (synthetic): 12 bytes "01000000 f1 94 490000 00 12 0c 07 13 09 06" is
        // hand-edited and not 12 long; build the 12-byte form directly
        let mut data = 4242u32.to_le_bytes().to_vec();
        data.extend_from_slice(&[1, 0, 24, 3, 5, 8, 30, 0]);
        let evs = decode_events(EF_ATTLOG, &data);
        assert_eq!(
            evs,
            vec![LiveEvent::Attendance(AttendanceEvent {
                user_id: "4242".into(),
                verify: 1,
                state: 0,
                timestamp: at(2024, 3, 5, 8, 30, 0),
                workcode: 0
            })]
        );
    }

    #[test]
    fn two_concatenated_52_byte_events_give_two_punches() {
        let mut one = vec![0u8; 52];
        one[..3].copy_from_slice(b"123");
        one[24] = 15;
        one[26..32].copy_from_slice(&[24, 3, 5, 9, 0, 0]);
        let mut two = one.clone();
        two.extend_from_slice(&one);
        assert_eq!(decode_events(EF_ATTLOG, &two).len(), 2);
    }

    #[test]
    fn unknown_lengths_and_bad_dates_become_other_events() {
        assert!(matches!(decode_events(EF_ATTLOG, &[1, 2, 3])[..], [LiveEvent::Other { flag: 1, .. }]));
        let mut bad = vec![0u8; 32];
        bad[26..32].copy_from_slice(&[24, 13, 5, 9, 0, 0]);
        assert!(matches!(decode_events(EF_ATTLOG, &bad)[..], [LiveEvent::Other { .. }]));
        assert!(matches!(decode_events(4096, &[])[..], [LiveEvent::Other { flag: 4096, .. }]));
        assert_eq!(decode_events(EF_VERIFY, &[0xff, 0xff, 0xff, 0xff, 1]), vec![LiveEvent::Verified { uid: None }]);
    }
}
