//! Attendance: read the whole log (record size detected and validated, 8-byte records given
//! their user id from the user table) and clear it.

use super::{Client, Retry};
use crate::pull::error::Result;
use crate::pull::wire::attendance::{decode_attendance_table, AttendanceRecord};
use crate::pull::wire::buffer::QueryData;
use crate::pull::wire::command::CLEAR_ATTLOG;

impl Client {
    /// Every attendance record on the device. Disable the device first if punches must not
    /// arrive between the count and the read (the count only disambiguates the record size).
    pub async fn read_attendance(&mut self) -> Result<Vec<AttendanceRecord>> {
        let count = self.sizes().await?.records;
        if count <= 0 {
            return Ok(Vec::new());
        }
        let body = self.read_table(QueryData::ATTENDANCE, "attendance").await?;
        let (_, mut records) =
            decode_attendance_table(&body, Some(count as usize)).or_else(|_| decode_attendance_table(&body, None))?;
        if records.iter().any(|r| r.user_id.is_empty()) {
            // 8-byte records carry only the uid: map it through the user table
            let users = self.read_users().await?;
            for r in records.iter_mut().filter(|r| r.user_id.is_empty()) {
                if let Some(u) = users.iter().find(|u| u.uid == r.uid) {
                    r.user_id = u.user_id.clone();
                }
            }
        }
        Ok(records)
    }

    /// Deletes every attendance record on the device.
    pub async fn clear_attendance(&mut self) -> Result<()> {
        self.call_ok(CLEAR_ATTLOG, &[], Retry::SameId).await.map(|_| ())
    }
}
