//! Plain data passed into and out of the store.

use crate::domain::SchoolId;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Approval, DeviceId};

/// A raw device message, stored before anything is derived from it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub device_id: Option<DeviceId>,
    pub serial_number: String,
    pub path: String,
    pub query: String,
    pub body: Vec<u8>,
    /// True when `body` is sealed with the data cipher (uploads carrying biometrics).
    pub body_sealed: bool,
    /// Lines rejected in the whole body; the rejected lines passed with the message may be only
    /// a sample of them (the store keeps at most [`REJECTED_SAMPLE`] per message).
    pub rejected: usize,
    pub table: Option<String>,
    /// `processed`, `refused` (device not approved), `unknown_table`, `stored`.
    pub status: &'static str,
    pub records: usize,
    pub note: Option<String>,
}

/// Result of an ingestion transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestReport {
    pub message_id: i64,
    /// Records newly stored.
    pub inserted: usize,
    /// Records already present (re-sent by the device) and skipped.
    pub duplicates: usize,
    pub rejected: usize,
}

/// Admin changes to a device. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DeviceUpdate {
    pub approval: Option<Approval>,
    pub school_id: Option<Option<SchoolId>>,
    pub area_id: Option<Option<i64>>,
    pub timezone: Option<Option<String>>,
    pub name: Option<Option<String>>,
    /// The pinned address (`Some(None)` unpins); approval pins the device's last address itself.
    pub pinned_ip: Option<Option<String>>,
    /// The pinned subnet width (`Some(None)`: the address only).
    pub pin_prefix: Option<Option<i32>>,
    /// SHA-256 (hex) of a new secret path token (`Some(None)` removes it).
    pub path_token_hash: Option<Option<String>>,
    /// Pull devices only (a push device with any of these is `Invalid`).
    pub pull: PullSettingsUpdate,
}

/// Changes to a pull device's address and switches. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PullSettingsUpdate {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub transport: Option<crate::domain::PullTransport>,
    /// The comm key sealed with the data cipher; `Some(None)` removes it.
    pub comm_key_enc: Option<Option<Vec<u8>>>,
    pub enabled: Option<bool>,
    /// Switching realtime on also forgets an earlier switch-off after long failure.
    pub realtime_enabled: Option<bool>,
    pub clear_log_after_collect: Option<bool>,
}

impl PullSettingsUpdate {
    pub fn is_empty(&self) -> bool {
        self.host.is_none()
            && self.port.is_none()
            && self.transport.is_none()
            && self.comm_key_enc.is_none()
            && self.enabled.is_none()
            && self.realtime_enabled.is_none()
            && self.clear_log_after_collect.is_none()
    }
}

/// Punch query; all filters optional.
#[derive(Debug, Clone, Default)]
pub struct PunchFilter {
    pub device_id: Option<DeviceId>,
    pub pin: Option<String>,
    pub student_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Rejected lines kept per message: a sample for the admin to read; the message keeps the count.
pub const REJECTED_SAMPLE: usize = 20;

/// A quarantined line as stored: `raw` is sealed when `raw_sealed` (read it with [`Self::text`]).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredRejectedLine {
    pub message_id: i64,
    pub line_no: i64,
    pub raw: String,
    pub error: String,
    pub raw_sealed: bool,
}

impl StoredRejectedLine {
    /// The line as the device sent it, unsealed with the data cipher; an error when the stored
    /// value is not sealed with this key.
    pub fn text(&self, cipher: &crate::crypto::DataCipher) -> Result<String, crate::crypto::CipherError> {
        if !self.raw_sealed {
            return Ok(self.raw.clone());
        }
        use base64::Engine;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&self.raw)
            .map_err(|_| crate::crypto::CipherError::Open)?;
        Ok(String::from_utf8_lossy(&cipher.open(&sealed)?).into_owned())
    }
}

/// Identity fields lifted out of a device's options (`table=options`, INFO dumps) into columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiftedOptions {
    pub json: serde_json::Value,
    pub firmware: Option<String>,
    pub platform: Option<String>,
    pub push_version: Option<String>,
    pub device_name: Option<String>,
}

impl LiftedOptions {
    pub fn from_pairs(options: &[(String, String)]) -> Self {
        let mut map = serde_json::Map::new();
        let mut lifted = LiftedOptions::default();
        for (key, value) in options {
            map.insert(key.clone(), serde_json::Value::String(value.clone()));
            let slot = match key.as_str() {
                "FWVersion" | "FirmVer" => &mut lifted.firmware,
                "~Platform" => &mut lifted.platform,
                "PushVersion" => &mut lifted.push_version,
                "~DeviceName" => &mut lifted.device_name,
                _ => continue,
            };
            if !value.trim().is_empty() {
                *slot = Some(value.trim().to_string());
            }
        }
        lifted.json = serde_json::Value::Object(map);
        lifted
    }
}

/// An event a device reported (OPLOG or ERRORLOG line), newest first in lists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDeviceEvent {
    /// `oplog`, `errorlog` or `idcard`.
    pub kind: String,
    pub code: String,
    /// The device's own clock reading, as sent.
    pub time_raw: Option<String>,
    /// The parsed fields as JSON text (e.g. `{"message": …, "cmd_id": …}` for ERRORLOG).
    pub detail: String,
    pub received_at: DateTime<Utc>,
}
