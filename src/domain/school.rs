//! Schools and students (the minimum the device side needs: time zones and PIN resolution).

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct School {
    pub id: i64,
    pub name: String,
    /// IANA time zone; devices without their own zone use it.
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Student {
    pub id: i64,
    pub school_id: i64,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub pin: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewStudent {
    pub school_id: i64,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub pin: String,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub is_active: bool,
}
