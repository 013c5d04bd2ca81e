//! What devices report about themselves in uploads: users, biometric templates, photos,
//! operation/error log events, and the lines that could not be parsed.

use serde_json::Value;

/// An upload line that could not be parsed; stored with its reason, never failing the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedLine {
    pub line_no: usize,
    /// The line as sent, or (when `raw_sealed`) base64 of it sealed with the data cipher.
    pub raw: String,
    pub error: String,
    /// True when `raw` is sealed (every line quarantined from a device upload is).
    pub raw_sealed: bool,
}

/// A user as a device reported it (OPERLOG `USER`, `table=USERINFO`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserReport {
    pub pin: String,
    pub name: Option<String>,
    pub privilege: Option<i32>,
    pub card: Option<String>,
    pub group_id: Option<String>,
    pub verify: Option<i32>,
    /// Every other field the firmware sent, by key (passwords are not kept).
    pub attributes: Value,
}

/// A biometric template; `sealed` is the encrypted template (see `crate::crypto`).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateReport {
    pub pin: String,
    /// `fp`, `face`, `fvein` or `biodata`: the upload record it came from.
    pub kind: &'static str,
    pub bio_type: i32,
    pub finger_no: i32,
    pub template_index: i32,
    pub major_ver: Option<String>,
    pub minor_ver: Option<String>,
    pub format: Option<i32>,
    pub valid: Option<i32>,
    pub duress: Option<i32>,
    pub sealed: Vec<u8>,
}

/// A photo (`userpic`, `biophoto` or `attphoto`); `sealed` is the encrypted image.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoReport {
    pub pin: Option<String>,
    pub kind: &'static str,
    pub file_name: String,
    pub bio_type: Option<i32>,
    pub sealed: Vec<u8>,
}

/// An OPLOG or ERRORLOG line, or another device event worth showing to an admin.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEventReport {
    /// `oplog`, `errorlog` or `idcard`.
    pub kind: &'static str,
    pub code: String,
    pub operator: Option<String>,
    pub time_raw: Option<String>,
    pub detail: Value,
    pub raw: String,
}

/// Everything one OPERLOG/BIODATA/USERINFO upload reported, ready to store in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperlogBatch {
    pub users: Vec<UserReport>,
    pub templates: Vec<TemplateReport>,
    pub photos: Vec<PhotoReport>,
    pub events: Vec<DeviceEventReport>,
    /// Fingerprints and photos the upload carried, as master copies for the biometric store
    /// (linked by PIN to the device's school's student; nothing when no student has the PIN).
    pub masters: Vec<crate::domain::biometric::SealedBiometric>,
}

impl OperlogBatch {
    /// Number of records in the batch (what `OK:<n>` reports).
    pub fn len(&self) -> usize {
        self.users.len() + self.templates.len() + self.photos.len() + self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
