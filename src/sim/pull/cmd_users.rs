//! Simulated device: users and fingerprint templates — single writes and deletes, cmd 88
//! reads, cmd 87 writes from the upload buffer, and the cmd 110 batch (spec §7, §8). Write
//! semantics follow the ZEM firmware: a user id never moves to another uid, an occupied uid is
//! never silently overwritten by CMD_USER_WRQ (only the batch's OpSign 2 does that, as on a
//! real device).

use crate::pull::wire::batch::{decode_batch, OpSign};
use crate::pull::wire::command as cmd;
use crate::pull::wire::photo::decode_photo_name;
use crate::pull::wire::template::{
    decode_delete_by_user_id, encode_single_template, FingerSlot, TemplateWrite, ALL_FINGERS,
};
use crate::pull::wire::user::{decode_user, decode_user_id_field};
use crate::pull::wire::Packet;

use super::device::Device;
use super::reply::{u32_le, Req};
use super::session::SimSession;

/// cmd 110 type: a file from the upload buffer (`<I 1700>` + 40-byte name).
const UPDATE_FILE: u32 = 1700;

/// Answers the commands this module owns; `None` for any other command.
pub fn handle(dev: &mut Device, s: &mut SimSession, req: &Req<'_>) -> Option<Vec<Packet>> {
    let data = &req.packet.data;
    Some(match req.packet.command {
        cmd::USER_WRQ => write_user(dev, req),
        cmd::DELETE_USER => match data.get(..2) {
            Some(b) if dev.data.delete_user(u16::from_le_bytes([b[0], b[1]])) => req.ok(),
            Some(_) => req.error(2),
            None => req.error(1),
        },
        cmd::SSR_DELETE_USER => {
            let Ok(user_id) = decode_user_id_field(data) else {
                return Some(req.error(1));
            };
            match dev.data.user_by_id(&user_id).map(|u| u.uid) {
                Some(uid) => {
                    dev.data.delete_user(uid);
                    req.ok()
                }
                None => req.error(2),
            }
        }
        cmd::DELETE_USERTEMP => match FingerSlot::decode(data) {
            Ok(slot) if dev.data.templates.remove(&(slot.uid, slot.finger)).is_some() => req.ok(),
            Ok(_) => req.error(2),
            Err(_) => req.error(1),
        },
        cmd::SSR_DELETE_USERTEMP => {
            let Ok((user_id, finger)) = decode_delete_by_user_id(data) else {
                return Some(req.error(1));
            };
            let uid = dev.data.user_by_id(&user_id).map(|u| u.uid);
            let before = dev.data.templates.len();
            if let Some(uid) = uid {
                dev.data.templates.retain(|&(u, f), _| u != uid || (finger != ALL_FINGERS && f != finger));
            }
            let mut reply = req.ok();
            if dev.data.templates.len() == before {
                reply[0].session = 2; // "not found" is ACK_OK with detail 2 on this firmware (spec §8.6)
            }
            reply
        }
        cmd::USERTEMP_EX_RRQ => match FingerSlot::decode(data) {
            Ok(slot) => match dev.data.templates.get(&(slot.uid, slot.finger)) {
                Some((flag, bytes)) => req.stream(&encode_single_template(bytes, *flag)),
                None => req.error(2),
            },
            Err(_) => req.error(1),
        },
        cmd::USERTEMP_EX_WRQ => {
            let (Ok(w), Some((_, upload))) = (TemplateWrite::decode(data), s.upload.as_ref()) else {
                return Some(req.error(3));
            };
            if !dev.data.users.contains_key(&w.uid) || upload.is_empty() || usize::from(w.len) > upload.len() {
                return Some(req.error(1));
            }
            let template = upload[..usize::from(w.len)].to_vec();
            dev.data.templates.insert((w.uid, w.finger), (w.flag, template));
            req.ok()
        }
        cmd::UPDATE_FIREWARE => update_from_buffer(dev, s, req),
        _ => return None,
    })
}

fn write_user(dev: &mut Device, req: &Req<'_>) -> Vec<Packet> {
    let size = dev.config.user_record;
    let data = &req.packet.data;
    if data.len() != size.record_len() {
        return req.error(1); // the firmware accepts exactly sizeof(TUser)
    }
    let Ok(user) = decode_user(data, size) else {
        return req.error(1);
    };
    if user.uid == 0 || user.user_id.is_empty() || user.user_id == "0" {
        return req.error(1);
    }
    match dev.data.user_by_id(&user.user_id).map(|u| u.uid) {
        Some(uid) if uid == user.uid => {}
        Some(_) => return req.error(1), // this user id lives at another uid
        None if dev.data.users.contains_key(&user.uid) => return req.error(1), // uid taken by someone else
        None => {}
    }
    dev.data.users.insert(user.uid, user);
    req.ok()
}

/// cmd 110: apply the upload buffer as a batch (type 12) or store it as a file (type 1700).
fn update_from_buffer(dev: &mut Device, s: &mut SimSession, req: &Req<'_>) -> Vec<Packet> {
    let data = &req.packet.data;
    let Some((_, upload)) = s.upload.as_ref() else {
        return req.error(3);
    };
    match u32_le(data) {
        cmd::UPDATE_BATCH_USERDATA => {
            let Ok(batch) = decode_batch(upload, dev.config.user_record) else {
                return req.error(3);
            };
            for (op, user) in batch.users {
                let exists = dev.data.users.contains_key(&user.uid);
                match op {
                    OpSign::Delete => {
                        dev.data.delete_user(user.uid);
                    }
                    OpSign::Add if !exists => {
                        dev.data.users.insert(user.uid, user);
                    }
                    // matched by uid: whoever holds it is overwritten, as on the firmware
                    OpSign::AddOrOverwrite => {
                        dev.data.users.insert(user.uid, user);
                    }
                    OpSign::Update if exists => {
                        dev.data.users.insert(user.uid, user);
                    }
                    _ => {}
                }
            }
            for f in batch.fingers {
                let key = (f.uid, f.finger);
                match f.op {
                    OpSign::Delete if f.finger == 0x0F => dev.data.templates.retain(|&(u, _), _| u != f.uid),
                    OpSign::Delete => {
                        dev.data.templates.remove(&key);
                    }
                    OpSign::Add if dev.data.templates.contains_key(&key) => {}
                    OpSign::Add | OpSign::AddOrOverwrite | OpSign::Update if dev.data.users.contains_key(&f.uid) => {
                        dev.data.templates.insert(key, (1, f.template));
                    }
                    _ => {}
                }
            }
            req.ok()
        }
        UPDATE_FILE => match data.get(4..).map(decode_photo_name) {
            Some(Ok(user_id)) => {
                dev.data.photos.insert(user_id, upload.clone());
                req.ok()
            }
            _ => req.error(5),
        },
        _ => req.error(5),
    }
}
