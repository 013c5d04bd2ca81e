//! The face sets a push device holds as far as area sync knows (its `FACE` uploads, and the
//! `DATA UPDATE FACE` / `DATA DELETE FACE` writes queued, sent or acknowledged to it, which
//! replace what it uploaded for that person), and the commands that give it a face set: one
//! `DATA UPDATE FACE` line per ZKFace record, after a `DATA DELETE FACE` when it holds records
//! the new set does not overwrite (never a mix of two enrolments).

use std::collections::BTreeMap;

use crate::crypto::DataCipher;
use crate::domain::face_lines::{blob, line_from_record, record_from_line, records_by_id};
use crate::push::command::Command;
use crate::store::biometrics::HeldTemplate;

type FaceSet = BTreeMap<u8, Vec<u8>>;

/// Face sets by PIN: uploaded, and written (queued) which win over the uploaded ones.
#[derive(Debug, Default)]
pub(super) struct HeldFaces {
    uploaded: BTreeMap<String, FaceSet>,
    written: BTreeMap<String, FaceSet>,
}

impl HeldFaces {
    /// A `FACE` row it uploaded (other rows and unreadable ones are ignored).
    pub fn learn_upload(&mut self, t: &HeldTemplate, cipher: &DataCipher) {
        if t.kind != "face" || t.bio_type != 2 {
            return;
        }
        let Some(tmp) = cipher.open(&t.template_enc).ok().and_then(|b| String::from_utf8(b).ok()) else { return };
        if let Ok(record) = record_from_line(t.template_index, t.valid, &tmp) {
            self.uploaded.entry(t.pin.clone()).or_default().insert(record[4], record);
        }
    }

    /// A face write queued earlier (its payload's lower-cased fields), in queue order.
    pub fn learn_write(&mut self, kind: &str, pin: &str, f: &BTreeMap<String, String>) {
        match kind {
            "face_delete" => {
                self.written.insert(pin.to_string(), FaceSet::new());
            }
            "face_update" => {
                let fid = f.get("fid").and_then(|v| v.parse::<i32>().ok());
                let valid = f.get("valid").and_then(|v| v.parse::<i32>().ok());
                if let (Some(fid), Some(tmp)) = (fid, f.get("tmp")) {
                    if let Ok(record) = record_from_line(fid, valid, tmp) {
                        let set = self.written.entry(pin.to_string());
                        set.or_insert_with(|| self.uploaded.get(pin).cloned().unwrap_or_default())
                            .insert(record[4], record);
                    }
                }
            }
            _ => {}
        }
    }

    fn set(&self, pin: &str) -> Option<&FaceSet> {
        self.written.get(pin).or_else(|| self.uploaded.get(pin)).filter(|s| !s.is_empty())
    }

    /// The person's records as one blob (face id order), `None` without.
    pub fn blob(&self, pin: &str) -> Option<Vec<u8>> {
        self.set(pin).map(blob)
    }

    /// People with a face set.
    pub fn count(&self) -> usize {
        let mut pins: std::collections::BTreeSet<&String> = self.uploaded.keys().collect();
        pins.extend(self.written.keys());
        pins.into_iter().filter(|p| self.set(p).is_some()).count()
    }

    /// The commands that give the device `records` for `pin` (and notes them as held).
    pub fn commands(&mut self, pin: &str, records: &[u8]) -> Result<Vec<Command>, String> {
        let new = records_by_id(records).filter(|s| !s.is_empty()).ok_or("face data is not whole ZKFace records")?;
        let mut out = Vec::with_capacity(new.len() + 1);
        if self.set(pin).is_some_and(|held| held.keys().any(|id| !new.contains_key(id))) {
            out.push(Command::FaceDelete { pin: pin.to_string() });
        }
        for record in new.values() {
            let (fid, valid, template) = line_from_record(record).ok_or("face record of the wrong size")?;
            out.push(Command::FaceUpdate { pin: pin.to_string(), fid, valid, template });
        }
        self.written.insert(pin.to_string(), new);
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

    #[test]
    fn queued_writes_replace_the_upload_and_a_delete_comes_first_only_when_records_would_be_left() {
        let mut held = HeldFaces::default();
        held.uploaded.insert("7".into(), [(0, record(0, 1)), (1, record(1, 1)), (2, record(2, 1))].into());
        let two = [record(0, 5), record(1, 5)].concat();
        let commands = held.commands("7", &two).unwrap();
        assert_eq!(commands.len(), 3, "a delete (FID 2 would stay), then two FACE lines");
        assert_eq!(commands[0], Command::FaceDelete { pin: "7".into() });
        assert!(matches!(&commands[1], Command::FaceUpdate { fid: 0, valid: 1, .. }));
        assert_eq!(held.blob("7"), Some(two.clone()), "what was queued is what it holds now");
        assert_eq!(held.commands("7", &two).unwrap().len(), 2, "the same ids: overwritten, no delete");
        assert!(held.commands("7", &two[..10]).is_err());
        assert_eq!(held.count(), 1);
    }

    #[test]
    fn a_queued_face_delete_then_updates_read_as_the_new_set() {
        let mut held = HeldFaces::default();
        held.uploaded.insert("7".into(), [(3, record(3, 1))].into());
        held.learn_write("face_delete", "7", &BTreeMap::new());
        assert_eq!(held.blob("7"), None);
        let (fid, valid, tmp) = line_from_record(&record(0, 9)).unwrap();
        let f: BTreeMap<String, String> =
            [("fid", fid.to_string()), ("valid", valid.to_string()), ("tmp", tmp)].map(|(k, v)| (k.into(), v)).into();
        held.learn_write("face_update", "7", &f);
        assert_eq!(held.blob("7"), Some(record(0, 9)));
    }
}
