//! Simulated device: the upload buffer (CMD_PREPARE_DATA / CMD_DATA / CMD_HASH_DATA), ZKFace 7
//! faces (cmds 150/151/152, spec §10) and user photos (10009/10010/10011, spec §12).

use std::sync::Arc;

use crate::pull::wire::buffer::{decode_prepare, pjw_hash};
use crate::pull::wire::command as cmd;
use crate::pull::wire::face::{FaceRequest, FACE_RECORD_LEN};
use crate::pull::wire::photo::decode_photo_name;
use crate::pull::wire::reply::NO_PICTURE;
use crate::pull::wire::Packet;

use super::device::Device;
use super::reply::{u32_le, Req};
use super::session::SimSession;

/// Largest upload the simulator accepts (a face blob is 38 640 B; a batch of thousands of users
/// with templates a few MB).
const MAX_UPLOAD: usize = 64 << 20;

/// Answers the commands this module owns; `None` for any other command.
pub fn handle(dev: &mut Device, s: &mut SimSession, req: &Req<'_>) -> Option<Vec<Packet>> {
    let data = &req.packet.data;
    let faces_on = dev.config.face_version.is_some();
    let photos_on = dev.config.photos_supported;
    Some(match req.packet.command {
        cmd::PREPARE_DATA => match decode_prepare(data) {
            Ok(size) if (size as usize) <= MAX_UPLOAD => {
                s.upload = Some((size as usize, Vec::with_capacity(size as usize)));
                req.ok()
            }
            _ => req.error(1),
        },
        cmd::DATA => match s.upload.as_mut() {
            Some((size, buf)) if buf.len() + data.len() <= *size => {
                buf.extend_from_slice(data);
                req.ok()
            }
            _ => req.error(3),
        },
        cmd::HASH_DATA => match s.upload.as_ref() {
            Some((_, buf)) => {
                let hash = pjw_hash(buf);
                if data.len() >= 4 && u32_le(data) != hash {
                    req.error(3)
                } else {
                    req.ok_with(hash.to_le_bytes().to_vec())
                }
            }
            None => req.error(3),
        },
        cmd::USERFACE_RRQ if faces_on => {
            let uid = face_owner(dev, data);
            match uid.and_then(|uid| dev.data.faces.get(&uid).map(|blob| with_uid(blob, uid))) {
                Some(blob) => req.stream(&blob),
                None => req.error(2),
            }
        }
        cmd::USERFACE_WRQ if faces_on => {
            let Some(uid) = face_owner(dev, data) else {
                return Some(req.error(2));
            };
            match s.upload.as_ref() {
                Some((_, buf)) if !buf.is_empty() && buf.len() % FACE_RECORD_LEN == 0 => {
                    // the device rewrites PIN with its own uid, so blobs copy across devices
                    dev.data.faces.insert(uid, Arc::new(with_uid(buf, uid)));
                    req.ok()
                }
                _ => req.error(3),
            }
        }
        cmd::DELETE_USERFACE if faces_on => match face_owner(dev, data) {
            Some(uid) if dev.data.faces.remove(&uid).is_some() => req.ok(),
            _ => req.error(2),
        },
        cmd::GET_USER_PHOTO if photos_on => {
            match decode_photo_name(data).ok().and_then(|id| dev.data.photos.get(&id)) {
                Some(photo) => req.stream(photo),
                None => req.code(NO_PICTURE),
            }
        }
        cmd::SET_USER_PHOTO if photos_on => match (decode_photo_name(data), s.upload.as_ref()) {
            (Ok(user_id), Some((_, buf))) if !buf.is_empty() => {
                dev.data.photos.insert(user_id, buf.clone());
                req.ok()
            }
            _ => req.error(3),
        },
        cmd::DELETE_USER_PHOTO if photos_on => match decode_photo_name(data) {
            Ok(id) if dev.data.photos.remove(&id).is_some() => req.ok(),
            _ => req.code(NO_PICTURE),
        },
        _ => return None,
    })
}

/// The uid a face request names: 28-byte form by user id, 3-byte form `<H uid><B index>`.
fn face_owner(dev: &Device, data: &[u8]) -> Option<u16> {
    if data.len() == 3 {
        let uid = u16::from_le_bytes([data[0], data[1]]);
        return dev.data.users.contains_key(&uid).then_some(uid);
    }
    let request = FaceRequest::decode(data).ok()?;
    dev.data.user_by_id(&request.user_id).map(|u| u.uid)
}

/// A copy of `blob` with the PIN field of every record set to `uid`.
fn with_uid(blob: &[u8], uid: u16) -> Vec<u8> {
    let mut out = blob.to_vec();
    for record in out.chunks_exact_mut(FACE_RECORD_LEN) {
        record[2..4].copy_from_slice(&uid.to_le_bytes());
    }
    out
}
