//! Byte-for-byte tests of the wire layer against every vector file: the published captures
//! (pyzk's test suite, adrobinoga's SDK↔F19 hexdumps), the computed vectors, and the golden
//! frames of pyzk-new and fpmachine. Every complete frame must decode with a correct checksum
//! and re-encode to the same bytes; reassembled streams must decode into the documented records.

use std::path::PathBuf;

use ironclock::pull::wire::batch::decode_batch;
use ironclock::pull::wire::buffer::{pjw_hash, unframe_buffer, QueryData, QueryReply, ReadChunk};
use ironclock::pull::wire::envelope::{split_frame, Split};
use ironclock::pull::wire::template::decode_single_template;
use ironclock::pull::wire::user::{decode_user_table, UserRecordSize};
use ironclock::pull::wire::{Packet, WireError};

fn oracle_file(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/pull").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (section title, [(direction, bytes)]) in file order; `##` lines open sections.
/// One `direction hex` line.
type Line = (String, Vec<u8>);

fn sections(text: &str) -> Vec<(String, Vec<Line>)> {
    let mut out: Vec<(String, Vec<Line>)> = vec![(String::new(), Vec::new())];
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            out.push((title.to_string(), Vec::new()));
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(dir @ ("send" | "recv" | "data")), Some(h)) = (words.next(), words.next()) else {
            continue;
        };
        if let Some(last) = out.last_mut() {
            last.1.push((dir.to_string(), hex(h)));
        }
    }
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// Cuts a byte stream into TCP frames; returns the packets and the error that stopped it, if any.
fn frames(stream: &[u8]) -> (Vec<Packet>, Option<WireError>) {
    let mut out = Vec::new();
    let mut rest = stream;
    loop {
        match split_frame(rest, 1 << 20) {
            Ok(Split::Complete { packet, consumed }) => {
                match Packet::decode(&rest[packet.clone()]) {
                    Ok(p) => {
                        assert_eq!(p.encode_tcp(), rest[..consumed], "re-encoding changes the bytes");
                        out.push(p);
                    }
                    Err(e) => return (out, Some(e)),
                }
                rest = &rest[consumed..];
            }
            Ok(Split::Partial { .. }) => {
                return (out, (!rest.is_empty()).then_some(WireError::BadLength { what: "tail", len: rest.len() }))
            }
            Err(e) => return (out, Some(e)),
        }
    }
}

#[test]
fn every_pyzk_capture_stream_splits_into_checksum_valid_frames() {
    // recv lines of a test are the device's byte stream, cut where socket.recv cut it
    let text = oracle_file("captures/pyzk_test_vectors.txt");
    let mut checked = 0;
    let mut broken = Vec::new();
    for (title, lines) in sections(&text) {
        for dir in ["send", "recv"] {
            let stream: Vec<u8> = lines
                .iter()
                // send lines are whole frames; recv lines may be continuation segments
                .filter(|(d, b)| d == dir && (dir == "recv" || b.starts_with(&[0x50, 0x50, 0x82, 0x7d])))
                .flat_map(|(_, b)| b.clone())
                .collect();
            let udp = lines
                .iter()
                .any(|(d, b)| d == dir && !b.is_empty() && !b.starts_with(&[0x50, 0x50]) && title.contains("udp"));
            if stream.is_empty() || udp {
                continue;
            }
            let (packets, error) = frames(&stream);
            checked += packets.len();
            if let Some(e) = error {
                broken.push(format!("{title} {dir}: {e}"));
            }
        }
    }
    // pyzk's authors hand-edited four tests: their "sizes" frame declares 92 data bytes but
    // carries 86 (the capture README's "truncated 'sizes'"), so the stream loses framing right
    // there; the two live-capture tests also carry 12 junk bytes after a declared length.
    let hand_edited = [
        "test_tcp_get_size ",
        "test_tcp_get_users_small_data ",
        "test_tcp_live_connect ",
        "test_tcp_live_connect_small ",
    ];
    assert_eq!(broken.len(), hand_edited.len(), "{broken:#?}");
    for (b, title) in broken.iter().zip(hand_edited) {
        assert!(b.starts_with(title), "unexpected broken stream: {b}");
    }
    assert!(checked >= 65, "only {checked} frames checked");
}

#[test]
fn udp_captures_and_adrobinoga_frames_decode_and_re_encode_identically() {
    let mut checked = 0;
    for file in [
        "captures/pyzk_test_vectors.txt",
        "captures/adrobinoga_zk_protocol_examples.txt",
        "captures/computed_vectors.txt",
    ] {
        for (title, lines) in sections(&oracle_file(file)) {
            for (dir, bytes) in lines.iter().filter(|(d, _)| d != "data") {
                if bytes.starts_with(&[0x50, 0x50, 0x82, 0x7d]) {
                    let (p, e) = frames(bytes);
                    // a TCP line is a whole frame unless the capture cut it (continued on the next line)
                    assert!(
                        e.is_none() || matches!(e, Some(WireError::BadLength { .. })) || title.contains("live_connect"),
                        "{file} {title} {dir}: {e:?}"
                    );
                    checked += p.len();
                } else if title.contains("udp") || file.contains("adrobinoga") {
                    let p = Packet::decode(bytes).unwrap_or_else(|e| panic!("{file} {title}: {e}"));
                    assert_eq!(&p.encode(), bytes);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked}");
}

#[test]
fn every_golden_frame_of_pyzk_and_fpmachine_decodes_and_re_encodes_identically() {
    for file in ["golden/pyzk_tcp.txt", "golden/pyzk_udp.txt", "golden/pyzk_commkey.txt", "golden/fpmachine_tcp.txt"] {
        let mut n = 0;
        for (title, lines) in sections(&oracle_file(file)) {
            for (dir, bytes) in &lines {
                if bytes.starts_with(&[0x50, 0x50, 0x82, 0x7d]) {
                    let (p, e) = frames(bytes);
                    assert!(e.is_none(), "{file} {title} {dir}: {e:?}");
                    n += p.len();
                } else {
                    let p = Packet::decode(bytes).unwrap_or_else(|e| panic!("{file} {title} {dir}: {e}"));
                    assert_eq!(&p.encode(), bytes);
                    n += 1;
                }
            }
        }
        assert!(n >= 20, "{file}: {n} frames");
    }
}

#[test]
fn the_broken_tcp_user_stream_reassembles_into_seventy_users() {
    // pyzk test_tcp_get_users_broken_tcp: 1503 → 13-byte ACK (5044 bytes), 1504 → PREPARE_DATA +
    // five 1008-byte DATA frames + one 4-byte DATA frame, split at odd places by recv()
    let text = oracle_file("captures/pyzk_test_vectors.txt");
    let (_, lines) = sections(&text).into_iter().find(|(t, _)| t.starts_with("test_tcp_get_users_broken_tcp")).unwrap();
    let stream: Vec<u8> = lines.iter().filter(|(d, _)| d == "recv").flat_map(|(_, b)| b.clone()).collect();
    let (packets, _) = frames(&stream);
    let reply = packets.iter().find(|p| p.command == 2000 && p.data.len() == 13).unwrap();
    let announced = QueryReply::decode(&reply.data).unwrap();
    assert_eq!(announced.buffer_len, 5044);
    let buffer: Vec<u8> =
        packets.iter().filter(|p| p.command == 1501 && p.reply == 0x16).flat_map(|p| p.data.clone()).collect();
    assert_eq!(buffer.len(), 5044);
    // computed_vectors.txt: the firmware's PJW hash of this buffer (the device claimed 0x23efcd: unexplained, advisory)
    assert_eq!(pjw_hash(&buffer), 0x0033_a871);
    let body = unframe_buffer(&buffer).unwrap();
    let (size, users) = decode_user_table(body, Some(70)).unwrap();
    assert_eq!(size, UserRecordSize::Long72);
    assert_eq!(users.len(), 70);
    assert_eq!((users[0].uid, users[0].user_id.as_str(), users[0].name.as_str()), (1, "5147983", "JesusSaldivar"));
    assert_eq!(users[0].privilege, 14);
    assert_eq!((users[1].uid, users[1].user_id.as_str(), users[1].name.as_str()), (2, "3494866", "NievesLopez"));
    // records 3..=9 straddle each other: pyzk's authors pasted the continuation segments of this
    // capture in another order, so only framing, size detection, count and hash are checked
}

#[test]
fn the_captured_single_template_stream_is_a_1243_byte_zkfinger10_template() {
    let text = oracle_file("captures/pyzk_test_vectors.txt");
    let (_, lines) = sections(&text).into_iter().find(|(t, _)| t.starts_with("test_tcp_get_template_1f")).unwrap();
    let stream: Vec<u8> = lines.iter().filter(|(d, _)| d == "recv").flat_map(|(_, b)| b.clone()).collect();
    let (packets, _) = frames(&stream);
    let prepare = packets.iter().find(|p| p.command == 1500).unwrap();
    assert_eq!(ReadChunk::decode(&prepare.data).unwrap(), ReadChunk { offset: 1244, size: 1008 });
    let payload: Vec<u8> = packets.iter().filter(|p| p.command == 1501).flat_map(|p| p.data.clone()).collect();
    assert_eq!(payload.len(), 1244);
    let (template, flag) = decode_single_template(&payload);
    assert_eq!((template.len(), flag), (1243, 1));
    assert_eq!(&template[2..6], b"SS21");
}

#[test]
fn pyzk_request_frames_in_the_computed_vectors_are_what_our_encoders_produce() {
    let text = oracle_file("captures/computed_vectors.txt");
    let sends: Vec<Packet> = sections(&text)
        .into_iter()
        .flat_map(|(_, l)| l)
        .filter(|(d, b)| d == "send" && b.len() >= 16)
        .map(|(_, b)| frames(&b).0.remove(0))
        .collect();
    // the HR upload buffer (CMD_DATA) decodes as a batch and re-encodes identically
    let upload = sends.iter().find(|p| p.command == 1501).unwrap();
    let batch = decode_batch(&upload.data, UserRecordSize::Long72).unwrap();
    assert_eq!(ironclock::pull::wire::batch::encode_batch(&batch, UserRecordSize::Long72).unwrap(), upload.data);
    let cmd110 = sends.iter().find(|p| p.command == 110).unwrap();
    assert_eq!(cmd110.data, ironclock::pull::wire::batch::BATCH_COMMAND_PAYLOAD);
    // CONNECT with session 0 / reply 0 is e8 03 17 fc 00 00 00 00
    assert_eq!(Packet::new(1000, 0, 0, vec![]).encode(), hex("e80317fc00000000"));
    // our 1503 users request is pyzk's
    let golden = sections(&oracle_file("golden/pyzk_tcp.txt"));
    let q = golden.iter().flat_map(|(_, l)| l).flat_map(|(_, b)| frames(b).0).find(|p| p.command == 1503).unwrap();
    assert_eq!(q.data, QueryData::USERS.encode());
}
