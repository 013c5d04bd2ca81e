//! Simulated device: identity, options, counters, clock, enable/disable, event registration
//! and the small control commands that only need an acknowledgement.

use std::time::{Duration, Instant};

use crate::pull::wire::command as cmd;
use crate::pull::wire::options::{decode_option_pair, decode_option_request, encode_option_pair};
use crate::pull::wire::sizes::FreeSizes;
use crate::pull::wire::time::{decode_time, encode_time};
use crate::pull::wire::user::UserRecordSize;
use crate::pull::wire::Packet;

use super::device::Device;
use super::reply::{u32_le, Req};
use super::session::SimSession;

/// Answers the commands this module owns; `None` for any other command.
pub fn handle(dev: &mut Device, s: &mut SimSession, req: &Req<'_>) -> Option<Vec<Packet>> {
    let data = &req.packet.data;
    Some(match req.packet.command {
        cmd::GET_VERSION => {
            let mut v = dev.config.firmware_version.clone().into_bytes();
            v.push(0);
            req.ok_with(v)
        }
        cmd::OPTIONS_RRQ => match decode_option_request(data).ok().and_then(|k| option(dev, &k).map(|v| (k, v))) {
            Some((key, value)) => req.ok_with(encode_option_pair(&key, &value)),
            None => req.error(2),
        },
        cmd::OPTIONS_WRQ => {
            let (key, value) = decode_option_pair(data);
            if key.is_empty() || key.starts_with('~') {
                req.error(1) // read-only or malformed
            } else {
                dev.data.options.insert(key, value);
                req.ok()
            }
        }
        cmd::GET_PINWIDTH => req.ok_with(vec![dev.config.pin_width]),
        cmd::GET_FREE_SIZES => req.ok_with(sizes(dev).encode()),
        cmd::DISABLEDEVICE => {
            dev.enabled = false;
            // optional <I seconds>: re-enable by itself after that long [FW TimeOutSec]
            dev.disabled_until =
                (data.len() >= 4).then(|| Instant::now() + Duration::from_secs(u64::from(u32_le(data))));
            req.ok()
        }
        cmd::ENABLEDEVICE => {
            dev.enabled = true;
            dev.disabled_until = None;
            req.ok()
        }
        cmd::GET_TIME => match encode_time(dev.data.now()) {
            Ok(t) => req.ok_with(t.to_le_bytes().to_vec()),
            Err(_) => req.error(1),
        },
        cmd::SET_TIME => match (data.len() >= 4).then(|| decode_time(u32_le(data))).flatten() {
            Some(t) => {
                let host = chrono::Local::now().naive_local();
                dev.data.clock_offset_secs = (t - host).num_seconds();
                req.ok()
            }
            None => req.error(1),
        },
        cmd::REG_EVENT => {
            s.event_mask = if data.len() >= 4 { u32_le(data) } else { 0 };
            if s.event_mask == 0 {
                s.events.clear();
                s.awaiting_ack = None;
            }
            req.ok()
        }
        cmd::STATE_RRQ => req
            .code(crate::pull::wire::reply::ACK_OK)
            .into_iter()
            .map(|mut p| {
                p.session = 0; // state 0 = waiting, carried in the session slot
                p
            })
            .collect(),
        cmd::FREEID_RRQ => {
            let free = (1..=u16::MAX).find(|uid| !dev.data.users.contains_key(uid)).unwrap_or(0);
            req.ok()
                .into_iter()
                .map(|mut p| {
                    p.session = free; // first free uid in the session slot [FW]
                    p
                })
                .collect()
        }
        cmd::CLEAR_ATTLOG => {
            dev.data.attendance.clear();
            req.ok()
        }
        cmd::CLEAR_DATA => {
            match data.first() {
                None => {
                    dev.data.users.clear();
                    dev.data.templates.clear();
                    dev.data.faces.clear();
                    dev.data.photos.clear();
                    dev.data.attendance.clear();
                }
                Some(&cmd::FCT_ATTLOG) => dev.data.attendance.clear(),
                Some(&cmd::FCT_FINGERTMP) => dev.data.templates.clear(),
                Some(&cmd::FCT_USER) => {
                    let uids: Vec<u16> = dev.data.users.keys().copied().collect();
                    for uid in uids {
                        dev.data.delete_user(uid);
                    }
                }
                Some(_) => {}
            }
            req.ok()
        }
        cmd::REFRESHDATA
        | cmd::REFRESHOPTION
        | cmd::CANCELCAPTURE
        | cmd::STARTVERIFY
        | cmd::TESTVOICE
        | cmd::UNLOCK
        | cmd::DOORSTATE_RRQ
        | cmd::RESTART => req.ok(),
        _ => return None,
    })
}

/// The value of an option, or `None` when this device does not know it.
fn option(dev: &Device, key: &str) -> Option<String> {
    if let Some(v) = dev.data.options.get(key) {
        return Some(v.clone());
    }
    let c = &dev.config;
    let face = c.face_version.is_some();
    Some(match key {
        "~SerialNumber" => c.serial.clone(),
        "~Platform" => c.platform.clone(),
        "~DeviceName" => c.device_name.clone(),
        "~ZKFPVersion" => c.fp_version.to_string(),
        "ZKFaceVersion" => c.face_version?.to_string(),
        "FaceFunOn" => u8::from(face).to_string(),
        "~ExtendFmt" | "~UserExtFmt" | "~SSR" | "~OS" => u8::from(c.user_record == UserRecordSize::Long72).to_string(),
        "~PIN2Width" => c.pin_width.to_string(),
        "CompatOldFirmware" | "WorkCode" | "~IsOnlyRFMachine" | "COMKey" | "TZAdj" => "0".into(),
        "FingerFunOn" | "IsSupportPull" => "1".into(),
        "MAC" => "00:17:61:12:34:56".into(),
        "IPAddress" => "127.0.0.1".into(),
        "NetMask" => "255.0.0.0".into(),
        "GATEIPAddress" => "127.0.0.1".into(),
        "~OEMVendor" => "ironclock".into(),
        "~ProductTime" => "2024-01-01 00:00:00".into(),
        "BiometricVersion" => match c.face_version {
            Some(f) => format!("0:{}.0:{f}.0:::::", c.fp_version),
            None => format!("0:{}.0::::::", c.fp_version),
        },
        _ => return None,
    })
}

/// The counters as CMD_GET_FREE_SIZES reports them.
pub fn sizes(dev: &Device) -> FreeSizes {
    let d = &dev.data;
    let users = d.users.len() as i32;
    let fingers = d.templates.len() as i32;
    let records = d.attendance.len() as i32;
    let users_capacity = (users * 2).max(10_000);
    let fingers_capacity = (fingers * 2).max(10_000);
    let records_capacity = (records * 2).max(200_000);
    let face_fields = dev.config.face_version.map(|_| {
        let faces = d.faces.len() as i32;
        let cap = (faces * 2).max(1_200);
        (faces, cap - faces, cap)
    });
    FreeSizes {
        users,
        fingers,
        records,
        oplogs: 0,
        admins: d.users.values().filter(|u| u.privilege & 14 == 14).count() as i32,
        passwords: d.users.values().filter(|u| !u.password.is_empty()).count() as i32,
        fingers_capacity,
        users_capacity,
        records_capacity,
        fingers_free: fingers_capacity - fingers,
        users_free: users_capacity - users,
        records_free: records_capacity - records,
        faces: face_fields.map(|f| f.0),
        faces_free: face_fields.map(|f| f.1),
        faces_capacity: face_fields.map(|f| f.2),
    }
}
