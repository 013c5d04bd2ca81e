//! The face sets a push device holds as far as area sync knows, record by record: its `FACE`
//! uploads (each row at the time it was last uploaded) and the `DATA UPDATE FACE` /
//! `DATA DELETE FACE` writes queued, sent or acknowledged to it (at the time they were queued);
//! for each face id the newest wins, and a delete drops every record older than it. So a face
//! written by ironclock reads as written, and one re-enrolled at the device afterwards (its
//! upload is newer) reads as re-enrolled. Also the commands that give it a face set: one
//! `DATA UPDATE FACE` line per ZKFace record, after a `DATA DELETE FACE` when it holds records the
//! new set does not overwrite (never a mix of two enrolments).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::crypto::DataCipher;
use crate::domain::face_lines::{line_from_record, record_from_line, records_by_id};
use crate::push::command::Command;
use crate::store::biometrics::HeldTemplate;

/// Records by face id, each with the time it was uploaded or queued.
type Timed = BTreeMap<u8, (DateTime<Utc>, Vec<u8>)>;

/// Face records by PIN, and the time of the latest face delete queued per PIN.
#[derive(Debug, Default)]
pub(super) struct HeldFaces {
    records: BTreeMap<String, Timed>,
    cleared: BTreeMap<String, DateTime<Utc>>,
}

impl HeldFaces {
    /// Keeps `record` unless a newer one of its face id is held (the same time: the later call wins).
    fn put(&mut self, pin: &str, at: DateTime<Utc>, record: Vec<u8>) {
        let set = self.records.entry(pin.to_string()).or_default();
        if set.get(&record[4]).is_none_or(|(held, _)| *held <= at) {
            set.insert(record[4], (at, record));
        }
    }

    /// A `FACE` row it uploaded (other rows and unreadable ones are ignored).
    pub fn learn_upload(&mut self, t: &HeldTemplate, cipher: &DataCipher) {
        if t.kind != "face" || t.bio_type != 2 {
            return;
        }
        let Some(tmp) = cipher.open(&t.template_enc).ok().and_then(|b| String::from_utf8(b).ok()) else { return };
        if let Ok(record) = record_from_line(t.template_index, t.valid, &tmp) {
            self.put(&t.pin, t.reported_at, record);
        }
    }

    /// A face write queued at `at` (its payload's lower-cased fields), in queue order.
    pub fn learn_write(&mut self, kind: &str, pin: &str, f: &BTreeMap<String, String>, at: DateTime<Utc>) {
        match kind {
            "face_delete" => {
                let cleared = self.cleared.entry(pin.to_string()).or_insert(at);
                *cleared = (*cleared).max(at);
            }
            "face_update" => {
                let fid = f.get("fid").and_then(|v| v.parse::<i32>().ok());
                let valid = f.get("valid").and_then(|v| v.parse::<i32>().ok());
                if let (Some(fid), Some(tmp)) = (fid, f.get("tmp")) {
                    if let Ok(record) = record_from_line(fid, valid, tmp) {
                        self.put(pin, at, record);
                    }
                }
            }
            _ => {}
        }
    }

    /// The person's records held now: those not older than their latest delete.
    fn set(&self, pin: &str) -> BTreeMap<u8, &Vec<u8>> {
        let cleared = self.cleared.get(pin);
        let Some(records) = self.records.get(pin) else { return BTreeMap::new() };
        records.iter().filter(|(_, (at, _))| cleared.is_none_or(|c| at >= c)).map(|(id, (_, r))| (*id, r)).collect()
    }

    /// The person's records as one blob (face id order), `None` without.
    pub fn blob(&self, pin: &str) -> Option<Vec<u8>> {
        let set = self.set(pin);
        (!set.is_empty()).then(|| set.values().flat_map(|r| r.iter().copied()).collect())
    }

    /// People with a face set.
    pub fn count(&self) -> usize {
        self.records.keys().filter(|p| !self.set(p).is_empty()).count()
    }

    /// The commands that give the device `records` for `pin`, queued at `now` (and notes them
    /// as held).
    pub fn commands(&mut self, pin: &str, records: &[u8], now: DateTime<Utc>) -> Result<Vec<Command>, String> {
        let new = records_by_id(records).filter(|s| !s.is_empty()).ok_or("face data is not whole ZKFace records")?;
        let mut out = Vec::with_capacity(new.len() + 1);
        if self.set(pin).keys().any(|id| !new.contains_key(id)) {
            out.push(Command::FaceDelete { pin: pin.to_string() });
            self.cleared.insert(pin.to_string(), now);
        }
        for record in new.into_values() {
            let (fid, valid, template) = line_from_record(&record).ok_or("face record of the wrong size")?;
            out.push(Command::FaceUpdate { pin: pin.to_string(), fid, valid, template });
            self.put(pin, now, record);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::face_lines::RECORD_LEN;

    fn record(id: u8, fill: u8) -> Vec<u8> {
        let mut r = vec![fill; RECORD_LEN];
        r[0..2].copy_from_slice(&(RECORD_LEN as u16).to_le_bytes());
        (r[2], r[3], r[4], r[5]) = (0, 0, id, 1);
        r
    }

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minute)
    }

    fn update(record: &[u8]) -> BTreeMap<String, String> {
        let (fid, valid, tmp) = line_from_record(record).unwrap();
        [("fid", fid.to_string()), ("valid", valid.to_string()), ("tmp", tmp)].map(|(k, v)| (k.into(), v)).into()
    }

    #[test]
    fn a_delete_comes_first_only_when_held_records_would_stay_and_the_new_set_is_held() {
        let mut held = HeldFaces::default();
        for id in 0..3 {
            held.put("7", at(1), record(id, 1));
        }
        let two = [record(0, 5), record(1, 5)].concat();
        let commands = held.commands("7", &two, at(2)).unwrap();
        assert_eq!(commands.len(), 3, "a delete (FID 2 would stay), then two FACE lines");
        assert_eq!(commands[0], Command::FaceDelete { pin: "7".into() });
        assert!(matches!(&commands[1], Command::FaceUpdate { fid: 0, valid: 1, .. }));
        assert!(held.blob("7") == Some(two.clone()), "what was queued is what it holds now");
        assert_eq!(held.commands("7", &two, at(3)).unwrap().len(), 2, "the same ids: overwritten, no delete");
        assert!(held.commands("7", &two[..10], at(4)).is_err());
        assert_eq!(held.count(), 1);
    }

    #[test]
    fn queued_writes_override_older_uploads_and_a_newer_upload_overrides_them() {
        let mut held = HeldFaces::default();
        held.put("7", at(1), record(3, 1));
        held.learn_write("face_delete", "7", &BTreeMap::new(), at(2));
        assert_eq!(held.blob("7"), None, "the delete drops the older upload");
        held.learn_write("face_update", "7", &update(&record(0, 9)), at(2));
        assert!(held.blob("7") == Some(record(0, 9)), "the update queued with the delete stays");
        held.put("7", at(5), record(0, 4)); // re-enrolled at the device, uploaded later
        assert!(held.blob("7") == Some(record(0, 4)), "the newer upload wins");
        held.learn_write("face_update", "7", &update(&record(0, 8)), at(3));
        assert!(held.blob("7") == Some(record(0, 4)), "an older write does not");
    }
}
