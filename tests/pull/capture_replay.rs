//! The client against captured device replies: a scripted device answers each request with
//! the frames a real device sent (pyzk's captures), reply ids rewritten to the request's and the
//! bytes written in the same pieces `recv()` saw them, so the client meets the real framing,
//! splits and quirks (an extra byte on the CONNECT ack, a stream ending without its ACK_OK).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use ironclock::pull::wire::envelope::{split_frame, Split};
use ironclock::pull::wire::Packet;
use ironclock::pull::{Client, ConnectOptions, TransportMode};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// The recv lines of one pyzk test, in order (raw socket reads, frames may span lines).
fn recv_lines(test: &str) -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/pull/captures/pyzk_test_vectors.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text.split(&format!("## {test} ")).nth(1).unwrap().split("\n## ").next().unwrap().to_string();
    section.lines().filter_map(|l| l.strip_prefix("recv ")).map(|l| hex(l.split_whitespace().next().unwrap())).collect()
}

/// Frames of a byte stream (complete ones only).
fn frames(stream: &[u8]) -> Vec<Packet> {
    let mut out = Vec::new();
    let mut rest = stream;
    while let Ok(Split::Complete { packet, consumed }) = split_frame(rest, 1 << 20) {
        out.push(Packet::decode_unchecked(&rest[packet]).unwrap());
        rest = &rest[consumed..];
    }
    out
}

/// Re-encodes captured frames with `reply` as reply id and cuts the bytes where the capture's
/// reads were cut (lengths are unchanged by the rewrite).
fn replay(lines: &[Vec<u8>], reply: u16) -> Vec<Vec<u8>> {
    let stream: Vec<u8> = lines.concat();
    let rewritten: Vec<u8> = frames(&stream)
        .into_iter()
        .flat_map(|mut p| {
            if p.command != 500 {
                p.reply = reply;
            }
            p.encode_tcp()
        })
        .collect();
    assert_eq!(rewritten.len(), stream.len(), "captured lines are whole frames");
    let mut pieces = Vec::new();
    let mut at = 0;
    for l in lines {
        pieces.push(rewritten[at..at + l.len()].to_vec());
        at += l.len();
    }
    pieces
}

type Handler = Box<dyn FnMut(&Packet) -> Vec<Vec<u8>> + Send>;

/// Serves one TCP client with `handler`; records every request.
async fn scripted_device(mut handler: Handler) -> (std::net::SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut buf = Vec::new();
        loop {
            let mut chunk = [0u8; 4096];
            let n = match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Split::Complete { packet, consumed }) = split_frame(&buf, 1 << 20) {
                let request = Packet::decode(&buf[packet]).expect("client checksums are right");
                log.lock().unwrap().push(buf[..consumed].to_vec());
                buf.drain(..consumed);
                for piece in handler(&request) {
                    s.write_all(&piece).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(3)).await; // keep the captured read boundaries
                }
            }
        }
    });
    (addr, seen)
}

fn ack(request: &Packet, session: u16) -> Vec<Vec<u8>> {
    vec![Packet::new(2000, session, request.reply, vec![]).encode_tcp()]
}

fn options(addr: std::net::SocketAddr) -> ConnectOptions {
    let mut o = ConnectOptions::new(addr);
    o.transport = TransportMode::Tcp;
    o.timeout = Duration::from_secs(3);
    o.retries = 0;
    o
}

#[tokio::test]
async fn users_are_read_from_the_captured_k20_stream_split_at_odd_places() {
    // pyzk test_tcp_get_users_broken_tcp: CONNECT ack with an extra data byte, 80-byte sizes,
    // 1503 → 5044-byte buffer, 1504 → PREPARE_DATA + 6 DATA frames cut into 256/24/128-byte reads,
    // and no final ACK_OK with the right reply id (the stream is complete by length)
    let lines = recv_lines("test_tcp_get_users_broken_tcp");
    let session = 0x3c5c;
    let handler: Handler = Box::new(move |req| match req.command {
        1000 => replay(&lines[0..1], req.reply),
        50 => replay(&lines[1..2], req.reply),
        1503 => replay(&lines[2..3], req.reply),
        1504 => {
            assert_eq!(req.data, [0, 0, 0, 0, 0xb4, 0x13, 0, 0], "one chunk: offset 0, 5044 bytes");
            replay(&lines[3..lines.len() - 3], req.reply)
        }
        _ => ack(req, session),
    });
    let (addr, seen) = scripted_device(handler).await;
    let mut c = Client::connect(options(addr)).await.unwrap();
    assert_eq!(c.session_id(), 0x3c5c, "the session id comes from the CONNECT reply");
    let users = c.read_users().await.unwrap();
    assert_eq!(users.len(), 70);
    assert_eq!((users[0].uid, users[0].user_id.as_str(), users[0].name.as_str()), (1, "5147983", "JesusSaldivar"));
    c.close().await.unwrap();
    let commands: Vec<u16> = seen.lock().unwrap().iter().map(|f| u16::from_le_bytes([f[8], f[9]])).collect();
    assert_eq!(commands, [1000, 12, 50, 1503, 1504, 1502, 1001]);
}

#[tokio::test]
async fn a_captured_zkfinger10_template_is_read_with_cmd_88() {
    // pyzk test_tcp_get_template_1f: PREPARE_DATA (1244 bytes, frames of 1008) + 2 DATA + ACK_OK
    let lines = recv_lines("test_tcp_get_template_1f");
    let handler: Handler = Box::new(move |req| match req.command {
        88 => {
            assert_eq!(req.data, [14, 0, 1], "uid 14, finger 1");
            replay(&lines[1..lines.len() - 1], req.reply)
        }
        _ => ack(req, 0x1234),
    });
    let (addr, _) = scripted_device(handler).await;
    let mut c = Client::connect(options(addr)).await.unwrap();
    let t = c.read_template(14, 1).await.unwrap().unwrap();
    assert_eq!((t.uid, t.finger, t.flag, t.data.len()), (14, 1, 1, 1243));
    assert_eq!(&t.data[..6], &hex("4d9853533231")[..]);
    c.close().await.unwrap();
}

#[tokio::test]
async fn comm_key_45_produces_the_captured_auth_frame_byte_for_byte() {
    // pyzk test_tcp_auth: CONNECT → ACK_UNAUTH (session 0x45cf) → AUTH 61c9323c → ACK_OK
    let handler: Handler = Box::new(move |req| match req.command {
        1000 => vec![hex("5050827d08000000d5075bb2cf450000")],
        _ => ack(req, 0x45cf),
    });
    let (addr, seen) = scripted_device(handler).await;
    let mut o = options(addr);
    o.comm_key = 45;
    o.auth_nonce = Some(50); // pyzk's fixed nonce, so the frame is comparable
    let c = Client::connect(o).await.unwrap();
    c.close().await.unwrap();
    let frames = seen.lock().unwrap().clone();
    assert_eq!(frames[0], hex("5050827d08000000e80317fc00000000"), "CONNECT");
    assert_eq!(frames[1], hex("5050827d0c0000004e044db0cf45010061c9323c"), "AUTH");
}

#[tokio::test]
async fn a_device_that_answers_connect_with_unauth_but_no_key_is_configured_fails_as_auth() {
    let handler: Handler = Box::new(move |req| match req.command {
        1000 => vec![hex("5050827d08000000d5075bb2cf450000")],
        _ => ack(req, 0x45cf),
    });
    let (addr, _) = scripted_device(handler).await;
    assert!(matches!(Client::connect(options(addr)).await, Err(ironclock::pull::Error::AuthFailed(_))));
}

#[tokio::test]
async fn a_table_read_no_firmware_command_answers_is_reported_unsupported_not_empty() {
    // a device that counts 70 users but knows neither CMD_QUERY_DATA (1503) nor the legacy
    // user read (cmd 9) the client falls back to
    let lines = recv_lines("test_tcp_get_users_broken_tcp");
    let handler: Handler = Box::new(move |req| match req.command {
        50 => replay(&lines[1..2], req.reply),
        1503 | 9 => vec![Packet::new(0xFFFF, 0x1234, req.reply, vec![]).encode_tcp()],
        _ => ack(req, 0x1234),
    });
    let (addr, _) = scripted_device(handler).await;
    let mut c = Client::connect(options(addr)).await.unwrap();
    let read = c.read_users().await;
    assert!(matches!(read, Err(ironclock::pull::Error::Unsupported { command: 9 })), "{read:?}");
    c.close().await.unwrap();
}
