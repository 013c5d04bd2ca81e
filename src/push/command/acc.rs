//! The access-control (acc, push 3.x) command grammar (push.md 2.7.2, SEC-CN §12; captures 04,
//! 16): lower-case table names, `key=value` fields of the acc tables, `DATA QUERY
//! tablename=…`, `SET OPTIONS` (plural), `CONTROL DEVICE`. An acc device answers the att forms
//! (`DATA UPDATE USERINFO`, `DATA QUERY USERINFO`) with -629, so a command without an acc form
//! is refused here rather than sent.
//!
//! Key spelling: the official SEC V4.8 examples (`CardNo`, `Pin`, `StartTime`, `MajorVer`) are
//! emitted; capture 16's server writes `Cardno`/`Majorver` and firmware reads keys
//! case-insensitively there, but which spelling every firmware takes is unverified.

use super::values::{biodata_delete_fields, biodata_fields, clean, clean_name, non_empty, option_key, pin};
use super::{Command, CommandError};

/// Why a command cannot be sent to an acc device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    Invalid(#[from] CommandError),
    /// The command has no acc form (ATTLOG queries, CHECK, ENROLL_FP, SHELL, …).
    #[error("the {0} command has no access-control (acc) form; acc devices are never sent att commands")]
    NoAccForm(&'static str),
    /// `SET OPTIONS` separates pairs with commas: a value holding one would become two options.
    #[error("option value {0:?} holds a comma, which SET OPTIONS cannot carry")]
    CommaInValue(String),
}

/// A command as an acc device receives it: the verb it accepts or rejects as a whole (learned
/// per device, like the att verbs) and the text after `C:<id>:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccCommand {
    pub verb: &'static str,
    pub payload: String,
}

/// The keys `GET OPTIONS` asks for in place of the att `INFO` (counts the verifier compares).
pub const INFO_KEYS: &str = "~SerialNumber,FirmVer,~DeviceName,UserCount,TransactionCount,FPCount,FaceCount,IPAddress";

/// The acc form of `command`.
pub fn encode(command: &Command) -> Result<AccCommand, EncodeError> {
    let (verb, payload) = match command {
        Command::UserUpdate(u) => (
            "DATA UPDATE user",
            format!(
                "DATA UPDATE user CardNo={}\tPin={}\tPassword={}\tGroup={}\tStartTime=0\tEndTime=0\tName={}\tPrivilege={}",
                clean(&u.card),
                pin(&u.pin)?,
                clean(&u.password),
                u.group,
                clean_name(&u.name),
                u.privilege
            ),
        ),
        Command::UserDelete { pin: p } => ("DATA DELETE user", format!("DATA DELETE user Pin={}", pin(p)?)),
        Command::UserQuery { pin: None } => {
            ("DATA QUERY user", "DATA QUERY tablename=user,fielddesc=*,filter=*".to_owned())
        }
        Command::UserQuery { pin: Some(p) } => {
            ("DATA QUERY user", format!("DATA QUERY tablename=user,fielddesc=*,filter=Pin={}", pin(p)?))
        }
        Command::BioDataUpdate(b) => ("DATA UPDATE biodata", format!("DATA UPDATE biodata {}", biodata_fields(b)?)),
        Command::BioDataDelete { pin: p, bio_type, no } => {
            ("DATA DELETE biodata", format!("DATA DELETE biodata {}", biodata_delete_fields(p, *bio_type, *no)?))
        }
        Command::UserPicUpdate { pin: p, content_base64 } => {
            let content = non_empty(content_base64, "photo")?;
            ("DATA UPDATE userpic", format!("DATA UPDATE userpic pin={}\tsize={}\tcontent={content}", pin(p)?, content.len()))
        }
        Command::UserPicDelete { pin: p } => ("DATA DELETE userpic", format!("DATA DELETE userpic pin={}", pin(p)?)),
        Command::BioPhotoUrl { pin: p, bio_type, url, post_back } => (
            "DATA UPDATE biophoto",
            format!(
                "DATA UPDATE biophoto PIN={}\tType={bio_type}\tFormat=1\tPostBackTmpFlag={}\tUrl={}",
                pin(p)?,
                u8::from(*post_back),
                non_empty(url, "url")?
            ),
        ),
        Command::BioPhotoDelete { pin: p } => ("DATA DELETE biophoto", format!("DATA DELETE biophoto PIN={}", pin(p)?)),
        Command::SetOption { key, value } => {
            let value = clean(value);
            if value.contains(',') {
                return Err(EncodeError::CommaInValue(value));
            }
            let (key, value) = super::options::settable_acc(option_key(key.trim())?, &value)?;
            ("SET OPTIONS", format!("SET OPTIONS {key}={value}"))
        }
        Command::SetTime { local } => ("SET OPTIONS", super::options::acc_time_sync_payload(*local)),
        Command::Info => ("GET OPTIONS", format!("GET OPTIONS {INFO_KEYS}")),
        Command::Reboot => ("REBOOT", "REBOOT".to_owned()),
        Command::Unlock => return Ok(control_door(1, 5)),
        other => return Err(EncodeError::NoAccForm(other.kind())),
    };
    Ok(AccCommand { verb, payload })
}

/// Door access for a user (`DATA UPDATE userauthorize`): acc firmware lets a user through only
/// with it. `doors` is the AuthorizeDoorId bitmask (1 = lock 1, 2 = lock 2, 3 = both); time
/// zone 1 is the firmware's built-in "always".
pub fn user_authorize(user_pin: &str, doors: u8) -> Result<AccCommand, EncodeError> {
    Ok(AccCommand {
        verb: "DATA UPDATE userauthorize",
        payload: format!(
            "DATA UPDATE userauthorize Pin={}\tAuthorizeTimezoneId=1\tAuthorizeDoorId={doors}\tDevID=1",
            pin(user_pin)?
        ),
    })
}

/// `CONTROL DEVICE 01<door>01<seconds>`: open a door's lock output for `seconds` (SEC-CN §12:
/// operation 01 = output, address = door, 01 = lock, duration; `01010105` = door 1 for 5 s).
pub fn control_door(door: u8, seconds: u8) -> AccCommand {
    AccCommand { verb: "CONTROL DEVICE", payload: format!("CONTROL DEVICE 01{door:02}01{seconds:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::command::{BioTemplate, UserInfo};

    #[test]
    fn user_update_renders_the_official_sec_example_form() {
        let u = UserInfo { password: "234".into(), group: 0, ..UserInfo::student("1", "", None) };
        let c = encode(&Command::UserUpdate(u)).unwrap();
        assert_eq!(c.verb, "DATA UPDATE user");
        // SEC-CN V4.8: C:295:DATA UPDATE user CardNo=\tPin=1\tPassword=234\tGroup=0\tStartTime=0\tEndTime=0\tName=\tPrivilege=0
        assert_eq!(
            c.payload,
            "DATA UPDATE user CardNo=\tPin=1\tPassword=234\tGroup=0\tStartTime=0\tEndTime=0\tName=\tPrivilege=0"
        );
    }

    #[test]
    fn query_delete_and_authorize_use_the_acc_tables() {
        let q = encode(&Command::UserQuery { pin: None }).unwrap();
        assert_eq!(q.payload, "DATA QUERY tablename=user,fielddesc=*,filter=*");
        assert_eq!(encode(&Command::UserDelete { pin: "7".into() }).unwrap().payload, "DATA DELETE user Pin=7");
        assert_eq!(
            user_authorize("7", 1).unwrap().payload,
            "DATA UPDATE userauthorize Pin=7\tAuthorizeTimezoneId=1\tAuthorizeDoorId=1\tDevID=1"
        );
        assert_eq!(encode(&Command::Unlock).unwrap().payload, "CONTROL DEVICE 01010105");
    }

    #[test]
    fn templates_and_photos_use_lower_case_table_names() {
        let bio = BioTemplate {
            pin: "2".into(),
            no: 0,
            index: 0,
            valid: 1,
            duress: 0,
            bio_type: 9,
            major_ver: "5".into(),
            minor_ver: "8".into(),
            format: 0,
            template: "AAAA".into(),
        };
        let c = encode(&Command::BioDataUpdate(bio)).unwrap();
        assert_eq!(
            c.payload,
            "DATA UPDATE biodata Pin=2\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9\tMajorVer=5\tMinorVer=8\tFormat=0\tTmp=AAAA"
        );
        let photo =
            Command::BioPhotoUrl { pin: "2".into(), bio_type: 9, url: "iclock/doc/x/2.jpg".into(), post_back: true };
        assert_eq!(
            encode(&photo).unwrap().payload,
            "DATA UPDATE biophoto PIN=2\tType=9\tFormat=1\tPostBackTmpFlag=1\tUrl=iclock/doc/x/2.jpg"
        );
    }

    #[test]
    fn set_options_is_plural_and_refuses_a_comma_in_a_value() {
        let c = encode(&Command::SetOption { key: "Delay".into(), value: "5".into() }).unwrap();
        assert_eq!((c.verb, c.payload.as_str()), ("SET OPTIONS", "SET OPTIONS RequestDelay=5"));
        let comma = Command::SetOption { key: "TransTimes".into(), value: "00:00,12:00".into() };
        assert!(matches!(encode(&comma), Err(EncodeError::CommaInValue(_))));
        // The att allow-list holds here too: the network and server settings stay the installer's.
        let ip = Command::SetOption { key: "IPAddress".into(), value: "10.0.0.9".into() };
        assert!(matches!(encode(&ip), Err(EncodeError::Invalid(CommandError::OptionNotAllowed(_)))));
        let local = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap().and_hms_opt(8, 0, 0).unwrap();
        let time = encode(&Command::SetTime { local }).unwrap();
        assert_eq!(time.payload, super::super::options::acc_time_sync_payload(local));
        assert!(time.payload.starts_with("SET OPTIONS DateTime="), "{}", time.payload);
    }

    #[test]
    fn att_only_commands_have_no_acc_form_and_values_stay_clean() {
        for c in [Command::Check, Command::ClearLog, Command::Log, Command::Shell { command: "ls".into() }] {
            assert!(matches!(encode(&c), Err(EncodeError::NoAccForm(_))), "{c:?}");
        }
        let u = UserInfo::student("42", "Eve\tPri=14\r\nC:9:CLEAR DATA", Some("12\n3"));
        let line = encode(&Command::UserUpdate(u)).unwrap().payload;
        assert_eq!(line.matches('\t').count(), 7, "{line:?}");
        assert!(!line.contains('\n') && !line.contains('\r'));
        assert!(encode(&Command::UserDelete { pin: "1\t2".into() }).is_err());
    }
}
