//! Devices: identity, approval state and what the server learned from their requests.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{DeviceMode, SchoolId};

/// Database id of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeviceId(pub i64);

impl From<i64> for DeviceId {
    fn from(id: i64) -> Self {
        DeviceId(id)
    }
}

/// Whether a device's data is accepted. Unknown serials start `Pending` and are shown to admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Pending,
    Approved,
    Blocked,
}

impl TryFrom<String> for Approval {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown approval {s:?}"))
    }
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Pending => "pending",
            Approval::Approved => "approved",
            Approval::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Approval::Pending),
            "approved" => Some(Approval::Approved),
            "blocked" => Some(Approval::Blocked),
            _ => None,
        }
    }
}

/// Push protocol dialect: attendance (`att`, T&A PUSH) or access control (`acc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    Att,
    Acc,
}

impl TryFrom<String> for Dialect {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown dialect {s:?}"))
    }
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Att => "att",
            Dialect::Acc => "acc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "att" => Some(Dialect::Att),
            "acc" => Some(Dialect::Acc),
            _ => None,
        }
    }
}

/// How the server reaches a pull device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PullTransport {
    /// TCP, then UDP when TCP fails (the oldest firmware answers only UDP).
    #[default]
    Auto,
    Tcp,
    Udp,
}

impl PullTransport {
    /// The stored (and JSON) name.
    pub fn as_str(self) -> &'static str {
        match self {
            PullTransport::Auto => "auto",
            PullTransport::Tcp => "tcp",
            PullTransport::Udp => "udp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(PullTransport::Auto),
            "tcp" => Some(PullTransport::Tcp),
            "udp" => Some(PullTransport::Udp),
            _ => None,
        }
    }
}

impl TryFrom<String> for PullTransport {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown pull transport {s:?}"))
    }
}

/// A device row as the server knows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Device {
    #[sqlx(try_from = "i64")]
    pub id: DeviceId,
    pub serial_number: String,
    pub name: Option<String>,
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub mode: DeviceMode,
    #[sqlx(try_from = "String")]
    pub approval: Approval,
    #[sqlx(try_from = "String")]
    pub dialect: Dialect,
    pub pushver: Option<String>,
    pub push_version: Option<String>,
    pub firmware: Option<String>,
    pub platform: Option<String>,
    pub language: Option<String>,
    /// The device's own IANA zone; `None` means "the school's zone".
    pub timezone: Option<String>,
    pub attlog_stamp: Option<String>,
    pub operlog_stamp: Option<String>,
    pub attphoto_stamp: Option<String>,
    pub biodata_stamp: Option<String>,
    /// `ERRORLOGStamp`: ERRORLOG uploads keep their own stamp, never the OPERLOG one.
    pub errorlog_stamp: Option<String>,
    /// `IDCARDStamp`: IDCARD uploads keep their own stamp, never the OPERLOG one.
    pub idcard_stamp: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_ip: Option<String>,
    /// The address the device was approved from (or an admin set): with the school's
    /// `device_pinning` on, requests from elsewhere are alerted on or refused.
    #[sqlx(default)]
    pub pinned_ip: Option<String>,
    /// Width of the pinned subnet (`24` = the /24 around `pinned_ip`); `None` = that address only.
    #[sqlx(default)]
    pub pin_prefix: Option<i32>,
    /// SHA-256 (hex) of the device's secret path token, when it has one: its requests must then
    /// come as `/<token>/iclock/…`.
    #[sqlx(default)]
    pub path_token_hash: Option<String>,
    /// Acc dialect: the `RegistryCode` the device was given at `POST /iclock/registry` (stable).
    #[sqlx(default)]
    #[serde(skip)]
    pub registry_code: Option<String>,
    /// Acc dialect: the `SessionID` of its `/iclock/push` config block (stable).
    #[sqlx(default)]
    #[serde(skip)]
    pub session_id: Option<String>,
}

/// A device seen for the first time.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub serial_number: String,
    pub approval: Approval,
    pub dialect: Dialect,
    pub pushver: Option<String>,
    pub language: Option<String>,
    pub last_ip: Option<String>,
    pub seen_at: DateTime<Utc>,
}

/// Facts a handshake (`GET /iclock/cdata?options=all`) tells about a device.
#[derive(Debug, Clone, Default)]
pub struct HandshakeFacts {
    pub pushver: Option<String>,
    pub language: Option<String>,
    pub device_type: Option<String>,
    pub dialect: Option<Dialect>,
}

/// One coalesced "device was seen" observation.
#[derive(Debug, Clone)]
pub struct DeviceSeen {
    pub id: DeviceId,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
}

/// Which upload table a stamp belongs to (the handshake echoes the last one per table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StampTable {
    AttLog,
    OperLog,
    AttPhoto,
    BioData,
    ErrorLog,
    IdCard,
}

impl StampTable {
    /// The `devices` column that stores this table's stamp.
    pub fn column(self) -> &'static str {
        match self {
            StampTable::AttLog => "attlog_stamp",
            StampTable::OperLog => "operlog_stamp",
            StampTable::AttPhoto => "attphoto_stamp",
            StampTable::BioData => "biodata_stamp",
            StampTable::ErrorLog => "errorlog_stamp",
            StampTable::IdCard => "idcard_stamp",
        }
    }
}
