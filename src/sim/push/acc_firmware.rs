//! `AccFirmware`: a simulated access-control (acc, push 3.x) terminal's command side, the way
//! SenseFace firmware in "Access Control PUSH" mode behaves (push.md 2.7.2, 2.9; captures 04,
//! 07): `DATA UPDATE user`/`userauthorize`/`DATA DELETE user` on its user table, `DATA QUERY
//! tablename=user` answered on `/iclock/querydata` before its ack, and the att forms
//! (`DATA UPDATE USERINFO`, `DATA QUERY USERINFO`) refused with -629 as real acc firmware does.

use std::collections::BTreeMap;

use crate::push::records::operlog::{parse_userinfo_body, UserRecord};

/// A `DATA QUERY` answer to post on `/iclock/querydata` before the command's ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    pub cmd_id: String,
    pub tablename: String,
    /// `user uid=…\tpin=…` rows, LF-terminated.
    pub rows: Vec<String>,
}

/// What one command did: the devicecmd ack, and the answer to post first (queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccOutcome {
    pub ack: String,
    pub answer: Option<QueryAnswer>,
}

#[derive(Debug, Clone, Default)]
pub struct AccFirmware {
    pub users: BTreeMap<String, UserRecord>,
    /// PINs with door access (`DATA UPDATE userauthorize`).
    pub authorized: Vec<String>,
    /// Every command text executed, in order (for tests).
    pub executed: Vec<String>,
}

impl AccFirmware {
    /// Executes one `C:<id>:<command>`.
    pub fn execute(&mut self, id: &str, command: &str) -> AccOutcome {
        self.executed.push(command.to_string());
        let ack = |code: i64, cmd: &str| AccOutcome { ack: format!("ID={id}&return={code}&CMD={cmd}"), answer: None };
        if let Some(rest) = command.strip_prefix("DATA UPDATE user ") {
            let Some(user) = parse_userinfo_body(rest).records.into_iter().next() else {
                return ack(-11, "DATA UPDATE");
            };
            self.users.insert(user.pin.clone(), user);
            return ack(0, "DATA UPDATE");
        }
        if let Some(rest) = command.strip_prefix("DATA UPDATE userauthorize ") {
            let Some(pin) = field(rest, "Pin") else { return ack(-11, "DATA UPDATE") };
            self.authorized.push(pin);
            return ack(0, "DATA UPDATE");
        }
        if let Some(rest) = command.strip_prefix("DATA DELETE user ") {
            let pin = field(rest, "Pin").unwrap_or_default();
            self.users.remove(&pin);
            self.authorized.retain(|p| *p != pin);
            return ack(0, "DATA DELETE");
        }
        if command.starts_with("DATA QUERY tablename=user,") {
            let rows: Vec<String> = self.users.values().enumerate().map(|(i, u)| user_row(i + 1, u)).collect();
            let count = rows.len() as i64;
            let answer = QueryAnswer { cmd_id: id.to_string(), tablename: "user".into(), rows };
            return AccOutcome { ack: format!("ID={id}&return={count}&CMD=DATA QUERY"), answer: Some(answer) };
        }
        if command.contains("USERINFO") || command.contains("FINGERTMP") || command.starts_with("DATA QUERY ATTLOG") {
            return ack(-629, "DATA"); // wrong table name: an att command on acc firmware
        }
        let verb = command.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        ack(0, &verb)
    }
}

/// A `user` table row as acc firmware sends it in `querydata` (capture 04).
fn user_row(uid: usize, u: &UserRecord) -> String {
    format!(
        "user uid={uid}\tcardno={}\tpin={}\tpassword=\tgroup={}\tstarttime=0\tendtime=0\tname={}\tprivilege={}\tdisable=0\tverify=0\n",
        u.card.as_deref().unwrap_or_default(),
        u.pin,
        u.group.as_deref().unwrap_or("1"),
        u.name.as_deref().unwrap_or_default(),
        u.privilege.unwrap_or(0)
    )
}

/// `Key=value` of a TAB-separated command tail, key case-insensitive.
fn field(rest: &str, key: &str) -> Option<String> {
    rest.split('\t')
        .find_map(|f| f.split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.to_string()))
}

/// An ATTLOG line of the punch generator as the rtlog row an acc terminal sends (capture 07's
/// field order), with the device's event counter.
pub fn rtlog_row(attlog_line: &str, index: u64) -> String {
    let mut f = attlog_line.split('\t');
    let (pin, time, status) = (f.next().unwrap_or_default(), f.next().unwrap_or_default(), f.next().unwrap_or("0"));
    format!(
        "time={time}\tpin={pin}\tcardno=0\teventaddr=1\tevent=0\tinoutstatus={status}\tverifytype=15\tindex={index}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acc_firmware_writes_authorizes_queries_and_refuses_att_tables() {
        let mut fw = AccFirmware::default();
        let ack = fw.execute(
            "5",
            "DATA UPDATE user CardNo=12\tPin=7\tPassword=\tGroup=1\tStartTime=0\tEndTime=0\tName=Ada\tPrivilege=0",
        );
        assert_eq!(ack.ack, "ID=5&return=0&CMD=DATA UPDATE");
        fw.execute("6", "DATA UPDATE userauthorize Pin=7\tAuthorizeTimezoneId=1\tAuthorizeDoorId=1\tDevID=1");
        assert_eq!(fw.authorized, ["7"]);
        let q = fw.execute("8", "DATA QUERY tablename=user,fielddesc=*,filter=*");
        assert_eq!(q.ack, "ID=8&return=1&CMD=DATA QUERY");
        assert!(q.answer.unwrap().rows[0].starts_with("user uid=1\tcardno=12\tpin=7\t"));
        assert_eq!(fw.execute("9", "DATA QUERY USERINFO").ack, "ID=9&return=-629&CMD=DATA");
        assert_eq!(fw.execute("10", "DATA DELETE user Pin=7").ack, "ID=10&return=0&CMD=DATA DELETE");
        assert!(fw.users.is_empty());
        assert_eq!(
            rtlog_row("1001\t2026-01-01 00:00:07\t0\t1\t0\t0\t0", 2),
            "time=2026-01-01 00:00:07\tpin=1001\tcardno=0\teventaddr=1\tevent=0\tinoutstatus=0\tverifytype=15\tindex=2"
        );
    }
}
