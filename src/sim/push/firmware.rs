//! `SimFirmware`: the part of a simulated push device that executes server commands against
//! its own user table, the way att firmware does (push.md 2.7-2.9): USERINFO writes and
//! deletes, `DATA QUERY USERINFO` answered by a separate OPERLOG upload of `USER` lines, INFO
//! answered with counters. Faults make it misbehave like real units do.

use std::collections::BTreeMap;

use crate::push::records::operlog::{parse_userinfo_body, UserRecord};

/// Ways the simulated firmware misbehaves.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every Nth USERINFO write is acknowledged with `Return=0` but not stored (the "acked but
    /// not stored" behaviour GrupoSTI measured).
    pub drop_every_nth_write: Option<u32>,
    /// Verbs answered with -1002 (e.g. `DATA QUERY USERINFO` on PushLite firmware).
    pub unsupported: Vec<String>,
}

/// An upload the firmware will send on its own (query results, keypad changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub table: &'static str,
    pub body: String,
}

#[derive(Debug, Clone, Default)]
pub struct SimFirmware {
    pub users: BTreeMap<String, UserRecord>,
    pub faults: Faults,
    writes: u32,
    uploads: Vec<PendingUpload>,
    /// Every command text executed, in order (for tests).
    pub executed: Vec<String>,
}

impl SimFirmware {
    pub fn new(faults: Faults) -> Self {
        Self { faults, ..Default::default() }
    }

    /// Executes one `C:<id>:<command>` and returns the devicecmd ack body for it.
    pub fn execute(&mut self, id: &str, command: &str) -> String {
        self.executed.push(command.to_string());
        let verb: String = command
            .split_whitespace()
            .take(if command.starts_with("DATA") { 3 } else { 1 })
            .collect::<Vec<_>>()
            .join(" ");
        if self.faults.unsupported.contains(&verb) {
            return format!("ID={id}&Return=-1002&CMD=DATA");
        }
        let rest = command.get(verb.len()..).unwrap_or("").trim_start();
        let code = match verb.as_str() {
            "DATA UPDATE USERINFO" => self.update_user(rest),
            "DATA DELETE USERINFO" => {
                let pin = field(rest, "PIN").unwrap_or_default();
                if self.users.remove(&pin).is_some() {
                    0
                } else {
                    -4
                }
            }
            "DATA QUERY USERINFO" => {
                let only = field(rest, "PIN");
                let body: String = self
                    .users
                    .values()
                    .filter(|u| only.as_ref().is_none_or(|p| *p == u.pin))
                    .map(|u| format!("{}\n", u.render()))
                    .collect();
                if !body.is_empty() {
                    self.uploads.push(PendingUpload { table: "OPERLOG", body });
                }
                0
            }
            "INFO" => {
                return format!(
                    "ID={id}&Return=0&CMD=INFO\nUserCount={}\nFPCount=0\nFaceCount=0\nTransactionCount=0\n",
                    self.users.len()
                );
            }
            _ => 0,
        };
        let class = if command.starts_with("DATA") { "DATA" } else { verb.as_str() };
        format!("ID={id}&Return={code}&CMD={class}")
    }

    fn update_user(&mut self, record: &str) -> i64 {
        let parsed = parse_userinfo_body(record);
        let Some(user) = parsed.records.into_iter().next() else { return -1 };
        self.writes += 1;
        if self.faults.drop_every_nth_write.is_some_and(|n| n > 0 && self.writes % n == 0) {
            return 0; // acknowledged, not stored
        }
        self.users.insert(user.pin.clone(), user);
        0
    }

    /// Someone deletes a user at the keypad: the firmware uploads `OPLOG 9` (delete user).
    pub fn keypad_delete(&mut self, pin: &str, local_time: &str) -> bool {
        if self.users.remove(pin).is_none() {
            return false;
        }
        self.uploads
            .push(PendingUpload { table: "OPERLOG", body: format!("OPLOG 9\t0\t{local_time}\t{pin}\t0\t0\t0\n") });
        true
    }

    /// Uploads waiting to be sent, oldest first.
    pub fn take_uploads(&mut self) -> Vec<PendingUpload> {
        std::mem::take(&mut self.uploads)
    }
}

/// `KEY=value` of a TAB-separated command tail.
fn field(rest: &str, key: &str) -> Option<String> {
    rest.split('\t')
        .find_map(|f| f.split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_written_queried_and_deleted_like_firmware() {
        let mut fw = SimFirmware::default();
        let ack = fw.execute("1", "DATA UPDATE USERINFO PIN=7\tName=Otieno\tPri=0\tPasswd=\tCard=99\tGrp=1\tTZ=0000000100000000\tVerify=-1\tViceCard=");
        assert_eq!(ack, "ID=1&Return=0&CMD=DATA");
        assert_eq!(fw.users["7"].name.as_deref(), Some("Otieno"));
        fw.execute("2", "DATA QUERY USERINFO");
        let up = fw.take_uploads();
        assert_eq!(up.len(), 1);
        assert!(up[0].body.starts_with("USER PIN=7\tName=Otieno\t"), "{}", up[0].body);
        assert!(fw.execute("3", "INFO").contains("UserCount=1"));
        assert_eq!(fw.execute("4", "DATA DELETE USERINFO PIN=7"), "ID=4&Return=0&CMD=DATA");
        assert!(fw.users.is_empty());
    }

    #[test]
    fn faults_drop_writes_and_refuse_verbs() {
        let mut fw =
            SimFirmware::new(Faults { drop_every_nth_write: Some(2), unsupported: vec!["DATA QUERY USERINFO".into()] });
        for pin in 1..=4 {
            fw.execute("x", &format!("DATA UPDATE USERINFO PIN={pin}\tName=n"));
        }
        assert_eq!(fw.users.keys().cloned().collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(fw.execute("q", "DATA QUERY USERINFO"), "ID=q&Return=-1002&CMD=DATA");
        assert!(fw.keypad_delete("1", "2026-03-02 08:00:00"));
        assert_eq!(fw.take_uploads()[0].body, "OPLOG 9\t0\t2026-03-02 08:00:00\t1\t0\t0\t0\n");
    }
}
