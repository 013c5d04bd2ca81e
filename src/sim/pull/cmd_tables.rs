//! Simulated device: buffered table reads — CMD_QUERY_DATA builds the users, templates or
//! attendance table in the session buffer, CMD_READ_DATA streams chunks of it, CMD_FREE_DATA
//! drops it (spec §4).

use crate::pull::wire::attendance::encode_attendance;
use crate::pull::wire::buffer::{frame_buffer, pjw_hash, QueryData, QueryReply, ReadChunk};
use crate::pull::wire::command as cmd;
use crate::pull::wire::template::{encode_template_entry, Template};
use crate::pull::wire::user::encode_user;
use crate::pull::wire::Packet;

use super::device::Device;
use super::reply::{Req, Transport};
use super::session::SimSession;

/// Largest buffer answered inline to CMD_QUERY_DATA on TCP (firmware: ≤ 1024 bytes).
const INLINE_MAX_TCP: usize = 1024;
/// On UDP pyzk reads that reply with `recv(1024)`, so the whole datagram must fit in 1024
/// bytes: buffer ≤ 1016 (oracle README, pyzk quirk 3; firmware would inline up to 1024).
const INLINE_MAX_UDP: usize = 1016;

/// Answers the commands this module owns; `None` for any other command.
pub fn handle(dev: &mut Device, s: &mut SimSession, req: &Req<'_>) -> Option<Vec<Packet>> {
    let data = &req.packet.data;
    let buffered = dev.config.buffered_reads;
    Some(match req.packet.command {
        cmd::QUERY_DATA | cmd::READ_DATA if !buffered => return None,
        // legacy direct reads (spec §4.5): the whole `u32 len + body` buffer as one stream;
        // cmd 9 with 3 bytes is a single-template read, not handled here
        cmd::USERTEMP_RRQ | cmd::DB_RRQ | cmd::ATTLOG_RRQ if data.len() <= 1 => match table(dev, req.packet.command) {
            Some(body) if !body.is_empty() => req.stream(&frame_buffer(&body)),
            _ => req.error(2),
        },
        cmd::QUERY_DATA => {
            let Ok(query) = QueryData::decode(data) else {
                return Some(req.error(3));
            };
            let Some(body) = table(dev, query.data_type) else {
                return Some(req.error(5));
            };
            if body.is_empty() {
                return Some(req.error(2)); // empty table [FW]
            }
            let buffer = frame_buffer(&body);
            let inline_max = match req.transport {
                Transport::Tcp => INLINE_MAX_TCP,
                Transport::Udp => INLINE_MAX_UDP,
            };
            if buffer.len() <= inline_max {
                s.read_buffer = None;
                req.inline_data(buffer)
            } else {
                let len = buffer.len() as u32;
                let reply = QueryReply { buffer_len: len, real_len: len, hash: pjw_hash(&buffer) };
                s.read_buffer = Some(buffer);
                req.ok_with(reply.encode().to_vec())
            }
        }
        cmd::READ_DATA => {
            let (Ok(chunk), Some(buffer)) = (ReadChunk::decode(data), s.read_buffer.as_ref()) else {
                return Some(req.error(3));
            };
            let (start, size) = (chunk.offset as usize, chunk.size as usize);
            match start.checked_add(size).and_then(|end| buffer.get(start..end)) {
                Some(part) => req.stream(part),
                None => req.error(3),
            }
        }
        cmd::FREE_DATA => {
            s.read_buffer = None;
            s.upload = None;
            req.ok()
        }
        _ => return None,
    })
}

/// The body of table `data_type` (9 users, 7 templates, 13 attendance); `None` if unknown.
fn table(dev: &Device, data_type: u16) -> Option<Vec<u8>> {
    let d = &dev.data;
    let mut out = Vec::new();
    match data_type {
        cmd::USERTEMP_RRQ => {
            for u in d.users.values() {
                // users were validated when stored; a record that cannot encode is skipped
                if let Ok(rec) = encode_user(u, dev.config.user_record) {
                    out.extend_from_slice(&rec);
                }
            }
        }
        cmd::DB_RRQ => {
            for (&(uid, finger), (flag, bytes)) in &d.templates {
                let t = Template { uid, finger, flag: *flag, data: bytes.clone() };
                let _ = encode_template_entry(&t, &mut out);
            }
        }
        cmd::ATTLOG_RRQ => {
            for rec in &d.attendance {
                if let Ok(bytes) = encode_attendance(rec, dev.config.attendance_format) {
                    out.extend_from_slice(&bytes);
                }
            }
        }
        _ => return None,
    }
    Some(out)
}
