//! Properties of the pure wire layer: every encoder's output decodes back to the same value,
//! and no byte sequence makes any decoder (or the TCP frame splitter, or the reply assembler)
//! panic.

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

use ironclock::pull::session::ReplyAssembler;
use ironclock::pull::wire::attendance::{
    decode_attendance, decode_attendance_table, encode_attendance, AttendanceFormat, AttendanceRecord,
};
use ironclock::pull::wire::batch::{decode_batch, encode_batch, Batch, BatchFinger, OpSign};
use ironclock::pull::wire::buffer::{frame_buffer, unframe_buffer, QueryData, QueryReply, ReadChunk};
use ironclock::pull::wire::commkey::{make_commkey, verify_commkey};
use ironclock::pull::wire::envelope::{split_frame, Split};
use ironclock::pull::wire::event::{decode_events, encode_attendance_event, AttendanceEvent, LiveEvent};
use ironclock::pull::wire::face::{decode_faces, encode_face, FaceRecord, FaceRequest, FACE_DATA_LEN};
use ironclock::pull::wire::options::{decode_option_pair, decode_option_request};
use ironclock::pull::wire::photo::decode_photo_name;
use ironclock::pull::wire::sizes::FreeSizes;
use ironclock::pull::wire::template::{
    decode_single_template, decode_template_table, encode_single_template, encode_template_table, Template,
};
use ironclock::pull::wire::time::{decode_time, encode_time};
use ironclock::pull::wire::user::{
    decode_user, decode_user_id_field, decode_user_table, encode_user, User, UserRecordSize,
};
use ironclock::pull::wire::Packet;

fn text(max_bytes: usize) -> impl Strategy<Value = String> {
    // printable ASCII and some multi-byte letters, never NUL, within the byte budget
    proptest::collection::vec(prop_oneof![4 => 0x20u8..0x7f, 1 => Just(0u8)], 0..=max_bytes)
        .prop_map(|v| v.into_iter().filter(|&b| b != 0).map(char::from).collect::<String>())
        .prop_flat_map(move |ascii| {
            prop_oneof![
                Just(ascii.clone()),
                Just(format!("{}é", &ascii[..ascii.len().min(max_bytes.saturating_sub(2))]))
            ]
        })
        .prop_filter("fits", move |s| s.len() <= max_bytes)
}

fn datetime() -> impl Strategy<Value = NaiveDateTime> {
    (2000i32..=2099, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60)
        .prop_map(|(y, mo, d, h, mi, s)| NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, s).unwrap())
}

fn user72() -> impl Strategy<Value = User> {
    (any::<u16>(), any::<u8>(), text(8), text(24), any::<u32>(), any::<u8>(), any::<[u16; 4]>(), text(24)).prop_map(
        |(uid, privilege, password, name, card, group, timezones, user_id)| User {
            uid,
            privilege,
            password,
            name,
            card,
            group,
            timezones,
            user_id,
        },
    )
}

fn user28() -> impl Strategy<Value = User> {
    (any::<u16>(), any::<u8>(), text(5), text(8), any::<u32>(), any::<u8>(), any::<u16>(), any::<u32>()).prop_map(
        |(uid, privilege, password, name, card, group, tz, id)| User {
            uid,
            privilege,
            password,
            name,
            card,
            group,
            timezones: [tz, 0, 0, 0],
            user_id: id.to_string(),
        },
    )
}

fn record() -> impl Strategy<Value = AttendanceRecord> {
    (any::<u16>(), 1u32.., datetime(), any::<u8>(), any::<u8>(), any::<u32>()).prop_map(
        |(uid, id, timestamp, verify, state, workcode)| AttendanceRecord {
            uid,
            user_id: id.to_string(),
            timestamp,
            verify,
            state,
            workcode,
        },
    )
}

fn template() -> impl Strategy<Value = Template> {
    (any::<u16>(), any::<u8>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..700))
        .prop_map(|(uid, finger, flag, data)| Template { uid, finger, flag, data })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn packets_decode_to_what_was_encoded(command: u16, session: u16, reply: u16, data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let p = Packet::new(command, session, reply, data);
        prop_assert_eq!(Packet::decode(&p.encode()).unwrap(), p.clone());
        let tcp = p.encode_tcp();
        let Split::Complete { packet, consumed } = split_frame(&tcp, 1 << 20).unwrap() else { panic!("complete frame") };
        prop_assert_eq!(consumed, tcp.len());
        prop_assert_eq!(Packet::decode(&tcp[packet]).unwrap(), p);
    }

    #[test]
    fn a_tcp_stream_cut_anywhere_splits_into_the_same_packets(
        packets in proptest::collection::vec((any::<u16>(), any::<u16>(), proptest::collection::vec(any::<u8>(), 0..300)), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let packets: Vec<Packet> = packets.into_iter().map(|(c, r, d)| Packet::new(c, 1, r, d)).collect();
        let stream: Vec<u8> = packets.iter().flat_map(|p| p.encode_tcp()).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(stream.len());
        points.sort_unstable();
        let (mut buf, mut out, mut fed) = (Vec::new(), Vec::new(), 0);
        for point in points {
            buf.extend_from_slice(&stream[fed..point]);
            fed = point;
            while let Split::Complete { packet, consumed } = split_frame(&buf, 1 << 20).unwrap() {
                out.push(Packet::decode(&buf[packet]).unwrap());
                buf.drain(..consumed);
            }
        }
        prop_assert_eq!(out, packets);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn users_in_both_layouts_decode_to_what_was_encoded(u72 in user72(), u28 in user28()) {
        prop_assert_eq!(decode_user(&encode_user(&u72, UserRecordSize::Long72).unwrap(), UserRecordSize::Long72).unwrap(), u72);
        prop_assert_eq!(decode_user(&encode_user(&u28, UserRecordSize::Short28).unwrap(), UserRecordSize::Short28).unwrap(), u28);
    }

    #[test]
    fn a_user_table_with_its_count_decodes_in_its_own_layout(users in proptest::collection::vec(user28(), 0..40), long: bool) {
        let size = if long { UserRecordSize::Long72 } else { UserRecordSize::Short28 };
        let body: Vec<u8> = users.iter().flat_map(|u| encode_user(u, size).unwrap()).collect();
        let (got_size, got) = decode_user_table(&body, Some(users.len())).unwrap();
        prop_assert_eq!(got, users.clone());
        if !users.is_empty() {
            prop_assert_eq!(got_size, size);
        }
    }

    #[test]
    fn attendance_records_decode_to_what_was_encoded(r in record()) {
        for format in [AttendanceFormat::Long40, AttendanceFormat::Long49] {
            prop_assert_eq!(decode_attendance(&encode_attendance(&r, format).unwrap(), format).unwrap(), r.clone());
        }
        let ext = AttendanceRecord { uid: 0, ..r.clone() };
        prop_assert_eq!(decode_attendance(&encode_attendance(&ext, AttendanceFormat::Extended16).unwrap(), AttendanceFormat::Extended16).unwrap(), ext);
        let short = AttendanceRecord { user_id: String::new(), workcode: 0, ..r };
        prop_assert_eq!(decode_attendance(&encode_attendance(&short, AttendanceFormat::Short8).unwrap(), AttendanceFormat::Short8).unwrap(), short);
    }

    #[test]
    fn an_attendance_table_with_its_count_decodes_whole(records in proptest::collection::vec(record(), 1..30)) {
        let body: Vec<u8> = records.iter().flat_map(|r| encode_attendance(r, AttendanceFormat::Long40).unwrap()).collect();
        let (format, got) = decode_attendance_table(&body, Some(records.len())).unwrap();
        prop_assert_eq!(format, AttendanceFormat::Long40);
        prop_assert_eq!(got, records);
    }

    #[test]
    fn template_tables_and_single_replies_decode_to_what_was_encoded(ts in proptest::collection::vec(template(), 0..12), flag: u8) {
        prop_assert_eq!(decode_template_table(&encode_template_table(&ts).unwrap()).unwrap(), ts.clone());
        if let Some(t) = ts.first() {
            let (data, got_flag) = decode_single_template(&encode_single_template(&t.data, flag));
            prop_assert_eq!(got_flag, flag);
            // a template that itself ends in six zero bytes is indistinguishable from padding
            if !(t.data.len() >= 6 && t.data[t.data.len() - 6..].iter().all(|&b| b == 0)) {
                prop_assert_eq!(data, t.data.clone());
            }
        }
    }

    #[test]
    fn batches_decode_to_what_was_encoded(users in proptest::collection::vec(user72(), 0..4), fingers in proptest::collection::vec((any::<u16>(), 0u8..10, proptest::collection::vec(any::<u8>(), 0..400)), 0..6)) {
        let batch = Batch {
            users: users.into_iter().map(|u| (OpSign::AddOrOverwrite, u)).collect(),
            fingers: fingers.into_iter().map(|(uid, finger, template)| BatchFinger { op: OpSign::Add, uid, finger, template }).collect(),
        };
        prop_assert_eq!(decode_batch(&encode_batch(&batch, UserRecordSize::Long72).unwrap(), UserRecordSize::Long72).unwrap(), batch);
    }

    #[test]
    fn face_records_and_requests_decode_to_what_was_encoded(uid: u16, face_id: u8, valid: u8, active: i32, count: i32, seed: u8, user_id in text(24)) {
        let f = FaceRecord { size: 2576, uid, face_id, valid, reserved: 0, active_time: active, verify_count: count, template: vec![seed; FACE_DATA_LEN] };
        prop_assert_eq!(decode_faces(&encode_face(&f).unwrap()).unwrap(), vec![f]);
        let req = FaceRequest { user_id, index: 50, len: 2576 };
        prop_assert_eq!(FaceRequest::decode(&req.encode().unwrap()).unwrap(), req);
    }

    #[test]
    fn sizes_events_times_and_buffer_requests_decode_to_what_was_encoded(
        ints in any::<[i32; 12]>(), faces in any::<Option<(i32, i32, i32)>>(), t in datetime(), id in text(24), verify: u8, state: u8,
        offset: u32, size: u32, data_type: u16, p1: i32, p2: i32,
    ) {
        let s = FreeSizes {
            users: ints[0], fingers: ints[1], records: ints[2], oplogs: ints[3], admins: ints[4], passwords: ints[5],
            fingers_capacity: ints[6], users_capacity: ints[7], records_capacity: ints[8], fingers_free: ints[9],
            users_free: ints[10], records_free: ints[11],
            faces: faces.map(|f| f.0), faces_free: faces.map(|f| f.1), faces_capacity: faces.map(|f| f.2),
        };
        prop_assert_eq!(FreeSizes::decode(&s.encode()).unwrap(), s);
        prop_assert_eq!(decode_time(encode_time(t).unwrap()), Some(t));
        if !id.is_empty() {
            let ev = AttendanceEvent { user_id: id, verify, state, timestamp: t, workcode: 0 };
            prop_assert_eq!(decode_events(1, &encode_attendance_event(&ev).unwrap()), vec![LiveEvent::Attendance(ev)]);
        }
        let chunk = ReadChunk { offset, size };
        prop_assert_eq!(ReadChunk::decode(&chunk.encode()).unwrap(), chunk);
        let q = QueryData { data_type, param1: p1, param2: p2 };
        prop_assert_eq!(QueryData::decode(&q.encode()).unwrap(), q);
        let r = QueryReply { buffer_len: offset, real_len: size, hash: offset ^ size };
        prop_assert_eq!(QueryReply::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn the_device_accepts_every_proof_made_with_the_right_key(key: u32, session: u16, nonce: u8) {
        prop_assert!(verify_commkey(key, session, &make_commkey(key, session, nonce)));
    }

    #[test]
    fn no_input_makes_any_decoder_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), count in proptest::option::of(0usize..50), flag: u16) {
        let _ = Packet::decode(&bytes);
        let _ = Packet::decode_unchecked(&bytes);
        let _ = split_frame(&bytes, 1 << 16);
        let _ = decode_user_table(&bytes, count);
        let _ = decode_user(&bytes, UserRecordSize::Long72);
        let _ = decode_user(&bytes, UserRecordSize::Short28);
        let _ = decode_user_id_field(&bytes);
        let _ = decode_attendance_table(&bytes, count);
        let _ = decode_template_table(&bytes);
        let _ = decode_single_template(&bytes);
        let _ = decode_batch(&bytes, UserRecordSize::Long72);
        let _ = decode_faces(&bytes);
        let _ = FaceRequest::decode(&bytes);
        let _ = FreeSizes::decode(&bytes);
        let _ = decode_events(flag, &bytes);
        let _ = decode_option_pair(&bytes);
        let _ = decode_option_request(&bytes);
        let _ = decode_photo_name(&bytes);
        let _ = QueryData::decode(&bytes);
        let _ = QueryReply::decode(&bytes);
        let _ = ReadChunk::decode(&bytes);
        let _ = unframe_buffer(&bytes);
        let _ = decode_time(u32::from_le_bytes([bytes.first().copied().unwrap_or(0), 0, 0, bytes.last().copied().unwrap_or(0)]));
        let _ = frame_buffer(&bytes);
    }

    #[test]
    fn no_packet_sequence_makes_the_reply_assembler_panic(packets in proptest::collection::vec((0u16..4, any::<u16>(), 0u16..3, proptest::collection::vec(any::<u8>(), 0..40)), 0..12)) {
        let codes = [1500u16, 1501, 2000, 500];
        let mut a = ReplyAssembler::new(1, 4096);
        for (c, session, reply, data) in packets {
            let _ = a.feed(Packet::new(codes[usize::from(c)], session, reply, data));
        }
    }
}
