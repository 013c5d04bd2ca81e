//! Server-to-device commands: typed, sanitised, rendered as the text after `C:<id>:` in a
//! `getrequest` reply (push.md 2.7.1; field-proven forms from captures 10, 12 and 13).
//!
//! No TAB, CR or LF can reach the wire from a value: free text is cleaned (control characters
//! become spaces), identifiers (PINs, option keys) are validated and refused when malformed.

pub mod acc;
pub mod options;
mod returns;
mod values;

use chrono::NaiveDateTime;

pub use returns::{acc_return_meaning, att_return_meaning, marks_unsupported, return_is_success};
use values::{biodata_delete_fields, biodata_fields, digits_or, non_empty, option_key, pin, range};
pub use values::{card_number, clean, clean_name, format_time, NAME_LIMIT};

/// A USERINFO record to write to a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub pin: String,
    pub name: String,
    /// 0 user, 2 registrar, 6 admin, 14 super admin.
    pub privilege: u8,
    pub password: String,
    pub card: String,
    pub group: u8,
    /// 16 digits of time-zone flags; `0000000100000000` is the common default.
    pub timezones: String,
    /// -1 = use the group's verify mode.
    pub verify: i32,
}

impl UserInfo {
    /// A plain user: privilege 0, no password, group 1, default time zones, group verify mode;
    /// the card in decimal ([`card_number`]).
    pub fn student(pin: &str, name: &str, card: Option<&str>) -> Self {
        UserInfo {
            pin: pin.into(),
            name: name.into(),
            privilege: 0,
            password: String::new(),
            card: card.and_then(card_number).unwrap_or_default(),
            group: 1,
            timezones: "0000000100000000".into(),
            verify: -1,
        }
    }
}

/// A unified (BIODATA) template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BioTemplate {
    pub pin: String,
    pub no: u8,
    pub index: u8,
    pub valid: u8,
    pub duress: u8,
    pub bio_type: u8,
    pub major_ver: String,
    pub minor_ver: String,
    /// 0 ZK, 1 ISO, 2 ANSI. Numeric: `Format=ZK` gets -12 (capture 10).
    pub format: u8,
    pub template: String,
}

/// Every command ironclock can queue for a push device (att dialect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    UserUpdate(UserInfo),
    UserDelete {
        pin: String,
    },
    /// All users when `pin` is `None` (rows come back as OPERLOG `USER` uploads).
    UserQuery {
        pin: Option<String>,
    },
    FingerprintUpdate {
        pin: String,
        fid: u8,
        valid: u8,
        template: String,
    },
    FingerprintDelete {
        pin: String,
        fid: Option<u8>,
    },
    FaceUpdate {
        pin: String,
        fid: u8,
        valid: u8,
        template: String,
    },
    FaceDelete {
        pin: String,
    },
    BioDataUpdate(BioTemplate),
    BioDataDelete {
        pin: String,
        bio_type: Option<u8>,
        no: Option<u8>,
    },
    UserPicUpdate {
        pin: String,
        content_base64: String,
    },
    UserPicDelete {
        pin: String,
    },
    /// Visible-light face enrolment from a JPEG the device downloads (URL form: inline gave -1, capture 13).
    BioPhotoUrl {
        pin: String,
        bio_type: u8,
        url: String,
        /// `PostBackTmpFlag=1`: the device uploads the template it extracted (BIODATA), the
        /// evidence that the face took; without, the field is left out (the proven form).
        post_back: bool,
    },
    BioPhotoDelete {
        pin: String,
    },
    AttLogQuery {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    VerifySum {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    Check,
    Log,
    Info,
    /// One option of [`options::SETTABLE_OPTIONS`]; anything else is refused.
    SetOption {
        key: String,
        value: String,
    },
    /// Sets the device clock to `local` (device-local wall time): `SET OPTION DateTime=<n>`
    /// with n the OldEncodeTime; the queue advances it to the moment of delivery.
    SetTime {
        local: NaiveDateTime,
    },
    ReloadOptions,
    ClearLog,
    ClearPhoto,
    ClearData,
    Reboot,
    EnrollFingerprint {
        pin: String,
        fid: u8,
        retry: u8,
        overwrite: bool,
    },
    EnrollBio {
        bio_type: u8,
        pin: String,
        card: String,
        retry: u8,
        overwrite: bool,
    },
    Unlock,
    /// Root shell on Linux firmware: never offered to school admins.
    Shell {
        command: String,
    },
    /// Firmware upgrade: never offered to school admins.
    Upgrade {
        checksum: String,
        url: String,
        size: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("PIN {0:?} is not valid: use 1 to 24 letters or digits")]
    InvalidPin(String),
    #[error("option key {0:?} is not valid: use letters, digits, `~` and `_`")]
    InvalidKey(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("the time range ends before it starts")]
    BadRange,
    #[error("option {0:?} cannot be set from ironclock (settable: Delay, ErrorDelay, TransInterval, TransTimes, Realtime, TimeZone; the clock through the time sync command)")]
    OptionNotAllowed(String),
    #[error("{key} must be {expected}")]
    BadOptionValue { key: &'static str, expected: &'static str },
}

impl Command {
    /// Stable machine name of the command (stored as `device_commands.kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Command::UserUpdate(_) => "user_update",
            Command::UserDelete { .. } => "user_delete",
            Command::UserQuery { .. } => "user_query",
            Command::FingerprintUpdate { .. } => "fingerprint_update",
            Command::FingerprintDelete { .. } => "fingerprint_delete",
            Command::FaceUpdate { .. } => "face_update",
            Command::FaceDelete { .. } => "face_delete",
            Command::BioDataUpdate(_) => "biodata_update",
            Command::BioDataDelete { .. } => "biodata_delete",
            Command::UserPicUpdate { .. } => "userpic_update",
            Command::UserPicDelete { .. } => "userpic_delete",
            Command::BioPhotoUrl { .. } => "biophoto_update",
            Command::BioPhotoDelete { .. } => "biophoto_delete",
            Command::AttLogQuery { .. } => "attlog_query",
            Command::VerifySum { .. } => "verify_sum",
            Command::Check => "check",
            Command::Log => "log",
            Command::Info => "info",
            Command::SetOption { .. } => "set_option",
            Command::SetTime { .. } => "set_time",
            Command::ReloadOptions => "reload_options",
            Command::ClearLog => "clear_log",
            Command::ClearPhoto => "clear_photo",
            Command::ClearData => "clear_data",
            Command::Reboot => "reboot",
            Command::EnrollFingerprint { .. } => "enroll_fp",
            Command::EnrollBio { .. } => "enroll_bio",
            Command::Unlock => "unlock",
            Command::Shell { .. } => "shell",
            Command::Upgrade { .. } => "upgrade",
        }
    }

    /// The verb a device accepts or rejects as a whole; Return codes -1002/-1004/-629 mark it
    /// unsupported on that device.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::UserUpdate(_) => "DATA UPDATE USERINFO",
            Command::UserDelete { .. } => "DATA DELETE USERINFO",
            Command::UserQuery { .. } => "DATA QUERY USERINFO",
            Command::FingerprintUpdate { .. } => "DATA UPDATE FINGERTMP",
            Command::FingerprintDelete { .. } => "DATA DELETE FINGERTMP",
            Command::FaceUpdate { .. } => "DATA UPDATE FACE",
            Command::FaceDelete { .. } => "DATA DELETE FACE",
            Command::BioDataUpdate(_) => "DATA UPDATE BIODATA",
            Command::BioDataDelete { .. } => "DATA DELETE BIODATA",
            Command::UserPicUpdate { .. } => "DATA UPDATE USERPIC",
            Command::UserPicDelete { .. } => "DATA DELETE USERPIC",
            Command::BioPhotoUrl { .. } => "DATA UPDATE BIOPHOTO",
            Command::BioPhotoDelete { .. } => "DATA DELETE BIOPHOTO",
            Command::AttLogQuery { .. } => "DATA QUERY ATTLOG",
            Command::VerifySum { .. } => "VERIFY SUM",
            Command::Check => "CHECK",
            Command::Log => "LOG",
            Command::Info => "INFO",
            Command::SetOption { .. } | Command::SetTime { .. } => "SET OPTION",
            Command::ReloadOptions => "RELOAD OPTIONS",
            Command::ClearLog => "CLEAR LOG",
            Command::ClearPhoto => "CLEAR PHOTO",
            Command::ClearData => "CLEAR DATA",
            Command::Reboot => "REBOOT",
            Command::EnrollFingerprint { .. } => "ENROLL_FP",
            Command::EnrollBio { .. } => "ENROLL_BIO",
            Command::Unlock => "AC_UNLOCK",
            Command::Shell { .. } => "SHELL",
            Command::Upgrade { .. } => "UPGRADE",
        }
    }

    /// REBOOT, CLEAR DATA and UPGRADE must end a reply: "otherwise, the other subsequent
    /// commands will be ignored" (PUSH SDK 3.2.0).
    pub fn ends_batch(&self) -> bool {
        matches!(self, Command::Reboot | Command::ClearData | Command::Upgrade { .. })
    }

    /// Whether a school admin may queue it (SHELL gives root on the device; UPGRADE can brick it).
    pub fn offered_to_admins(&self) -> bool {
        !matches!(self, Command::Shell { .. } | Command::Upgrade { .. })
    }

    /// The user the command concerns, if any.
    pub fn pin(&self) -> Option<&str> {
        match self {
            Command::UserUpdate(u) => Some(&u.pin),
            Command::BioDataUpdate(t) => Some(&t.pin),
            Command::UserQuery { pin } => pin.as_deref(),
            Command::UserDelete { pin }
            | Command::FingerprintUpdate { pin, .. }
            | Command::FingerprintDelete { pin, .. }
            | Command::FaceUpdate { pin, .. }
            | Command::FaceDelete { pin }
            | Command::BioDataDelete { pin, .. }
            | Command::UserPicUpdate { pin, .. }
            | Command::UserPicDelete { pin }
            | Command::BioPhotoUrl { pin, .. }
            | Command::BioPhotoDelete { pin }
            | Command::EnrollFingerprint { pin, .. }
            | Command::EnrollBio { pin, .. } => Some(pin),
            _ => None,
        }
    }

    /// The command text (without `C:<id>:`), validated and sanitised.
    pub fn render(&self) -> Result<String, CommandError> {
        let t = format_time;
        Ok(match self {
            Command::UserUpdate(u) => format!(
                "DATA UPDATE USERINFO PIN={}\tName={}\tPri={}\tPasswd={}\tCard={}\tGrp={}\tTZ={}\tVerify={}\tViceCard=",
                pin(&u.pin)?,
                clean_name(&u.name),
                u.privilege,
                clean(&u.password),
                clean(&u.card),
                u.group,
                digits_or(&u.timezones, "0000000100000000"),
                u.verify
            ),
            Command::UserDelete { pin: p } => format!("DATA DELETE USERINFO PIN={}", pin(p)?),
            Command::UserQuery { pin: None } => "DATA QUERY USERINFO".into(),
            Command::UserQuery { pin: Some(p) } => format!("DATA QUERY USERINFO PIN={}", pin(p)?),
            Command::FingerprintUpdate { pin: p, fid, valid, template } => {
                let tmp = non_empty(template, "template")?;
                format!(
                    "DATA UPDATE FINGERTMP PIN={}\tFID={fid}\tSize={}\tValid={valid}\tTMP={tmp}",
                    pin(p)?,
                    tmp.len()
                )
            }
            Command::FingerprintDelete { pin: p, fid: None } => format!("DATA DELETE FINGERTMP PIN={}", pin(p)?),
            Command::FingerprintDelete { pin: p, fid: Some(f) } => {
                format!("DATA DELETE FINGERTMP PIN={}\tFID={f}", pin(p)?)
            }
            Command::FaceUpdate { pin: p, fid, valid, template } => {
                let tmp = non_empty(template, "template")?;
                format!("DATA UPDATE FACE PIN={}\tFID={fid}\tValid={valid}\tSize={}\tTMP={tmp}", pin(p)?, tmp.len())
            }
            Command::FaceDelete { pin: p } => format!("DATA DELETE FACE PIN={}", pin(p)?),
            Command::BioDataUpdate(b) => format!("DATA UPDATE BIODATA {}", biodata_fields(b)?),
            Command::BioDataDelete { pin: p, bio_type, no } => {
                format!("DATA DELETE BIODATA {}", biodata_delete_fields(p, *bio_type, *no)?)
            }
            Command::UserPicUpdate { pin: p, content_base64 } => {
                let content = non_empty(content_base64, "photo")?;
                format!("DATA UPDATE USERPIC PIN={}\tSize={}\tContent={content}", pin(p)?, content.len())
            }
            Command::UserPicDelete { pin: p } => format!("DATA DELETE USERPIC PIN={}", pin(p)?),
            Command::BioPhotoUrl { pin: p, bio_type, url, post_back } => {
                let flag = if *post_back { "\tPostBackTmpFlag=1" } else { "" };
                format!(
                    "DATA UPDATE BIOPHOTO PIN={}\tType={bio_type}\tFormat=1{flag}\tUrl={}",
                    pin(p)?,
                    non_empty(url, "url")?
                )
            }
            Command::BioPhotoDelete { pin: p } => format!("DATA DELETE BIOPHOTO PIN={}", pin(p)?),
            Command::AttLogQuery { start, end } => {
                range(start, end)?;
                format!("DATA QUERY ATTLOG StartTime={}\tEndTime={}", t(start), t(end))
            }
            Command::VerifySum { start, end } => {
                range(start, end)?;
                format!("VERIFY SUM ATTLOG StartTime={}\tEndTime={}", t(start), t(end))
            }
            Command::Check => "CHECK".into(),
            Command::Log => "LOG".into(),
            Command::Info => "INFO".into(),
            Command::SetOption { key, value } => {
                let (key, value) = options::settable(option_key(key.trim())?, &clean(value))?;
                format!("SET OPTION {key}={value}")
            }
            Command::SetTime { local } => options::time_sync_payload(*local),
            Command::ReloadOptions => "RELOAD OPTIONS".into(),
            Command::ClearLog => "CLEAR LOG".into(),
            Command::ClearPhoto => "CLEAR PHOTO".into(),
            Command::ClearData => "CLEAR DATA".into(),
            Command::Reboot => "REBOOT".into(),
            Command::EnrollFingerprint { pin: p, fid, retry, overwrite } => {
                format!("ENROLL_FP PIN={}\tFID={fid}\tRETRY={retry}\tOVERWRITE={}", pin(p)?, u8::from(*overwrite))
            }
            Command::EnrollBio { bio_type, pin: p, card, retry, overwrite } => format!(
                "ENROLL_BIO TYPE={bio_type}\tPIN={}\tCardNo={}\tRETRY={retry}\tOVERWRITE={}",
                pin(p)?,
                clean(card),
                u8::from(*overwrite)
            ),
            Command::Unlock => "AC_UNLOCK".into(),
            Command::Shell { command } => format!("SHELL {}", non_empty(&clean(command), "command")?),
            Command::Upgrade { checksum, url, size } => {
                format!("UPGRADE checksum={},url={},size={size}", clean(checksum), non_empty(&clean(url), "url")?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn userinfo_renders_the_form_real_devices_acked_in_capture_10() {
        let u = UserInfo { name: String::new(), ..UserInfo::student("1", "", None) };
        assert_eq!(
            Command::UserUpdate(u).render().unwrap(),
            "DATA UPDATE USERINFO PIN=1\tName=\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\tViceCard="
        );
    }

    #[test]
    fn capture_13_hardware_validated_lines_render_byte_exact() {
        assert_eq!(Command::UserDelete { pin: "9999".into() }.render().unwrap(), "DATA DELETE USERINFO PIN=9999");
        let enroll = Command::EnrollFingerprint { pin: "9995".into(), fid: 7, retry: 3, overwrite: true };
        assert_eq!(enroll.render().unwrap(), "ENROLL_FP PIN=9995\tFID=7\tRETRY=3\tOVERWRITE=1");
        let photo = Command::BioPhotoUrl {
            pin: "9995".into(),
            bio_type: 9,
            url: "iclock/doc/biophoto/abc123/9995.jpg".into(),
            post_back: false,
        };
        assert_eq!(
            photo.render().unwrap(),
            "DATA UPDATE BIOPHOTO PIN=9995\tType=9\tFormat=1\tUrl=iclock/doc/biophoto/abc123/9995.jpg"
        );
        assert_eq!(Command::BioPhotoDelete { pin: "9995".into() }.render().unwrap(), "DATA DELETE BIOPHOTO PIN=9995");
        assert_eq!(Command::Check.render().unwrap(), "CHECK");
        let bio = BioTemplate {
            pin: "9996".into(),
            no: 6,
            index: 0,
            valid: 1,
            duress: 0,
            bio_type: 1,
            major_ver: "13".into(),
            minor_ver: "0".into(),
            format: 0,
            template: "apUBEBgE7osBAA0AAcVN".into(),
        };
        assert_eq!(
            Command::BioDataUpdate(bio).render().unwrap(),
            "DATA UPDATE BIODATA Pin=9996\tNo=6\tIndex=0\tValid=1\tDuress=0\tType=1\tMajorVer=13\tMinorVer=0\tFormat=0\tTmp=apUBEBgE7osBAA0AAcVN"
        );
    }

    #[test]
    fn capture_12_enroll_bio_renders_like_biotime() {
        let c = Command::EnrollBio { bio_type: 9, pin: "123".into(), card: String::new(), retry: 3, overwrite: true };
        assert_eq!(c.render().unwrap(), "ENROLL_BIO TYPE=9\tPIN=123\tCardNo=\tRETRY=3\tOVERWRITE=1");
        assert_eq!(Command::Unlock.render().unwrap(), "AC_UNLOCK");
    }

    #[test]
    fn no_tab_cr_or_lf_in_a_value_reaches_the_wire() {
        let u = UserInfo::student("42", "Eve\tPri=14\r\nC:9:CLEAR DATA", Some("123\n4"));
        let line = Command::UserUpdate(u).render().unwrap();
        assert_eq!(line.matches('\t').count(), 8, "only the field separators: {line:?}");
        assert!(!line.contains('\n') && !line.contains('\r'));
        assert!(line.contains("Name=Eve Pri=14  C:9:CLEAR"));
        let opt = Command::SetOption { key: "Delay".into(), value: "5\nC:1:REBOOT".into() }.render();
        assert!(opt.is_err(), "a value with a line break is no number: {opt:?}");
        assert!(Command::SetOption { key: "De lay".into(), value: "1".into() }.render().is_err());
        assert!(Command::UserDelete { pin: "1\t2".into() }.render().is_err());
        assert!(Command::UserDelete { pin: String::new() }.render().is_err());
    }

    #[test]
    fn names_are_cut_to_24_characters_not_bytes() {
        let long = "Nakato Nalwoga Wanjiru Achieng Kamau";
        let u = UserInfo::student("7", long, None);
        let line = Command::UserUpdate(u).render().unwrap();
        let name = line.split('\t').nth(1).unwrap().trim_start_matches("Name=");
        assert_eq!(name, "Nakato Nalwoga Wanjiru A");
        assert_eq!(clean_name("张伟张伟张伟张伟张伟张伟张伟张伟"), "张伟张伟张伟张伟张伟张伟张伟张伟");
        assert_eq!(clean_name(&"é".repeat(30)).chars().count(), 24);
    }

    #[test]
    fn attlog_queries_use_the_space_date_form_and_reject_reversed_ranges() {
        let q = Command::AttLogQuery { start: at(7), end: at(9) };
        assert_eq!(q.render().unwrap(), "DATA QUERY ATTLOG StartTime=2026-03-02 07:00:00\tEndTime=2026-03-02 09:00:00");
        assert_eq!(Command::AttLogQuery { start: at(9), end: at(7) }.render(), Err(CommandError::BadRange));
    }

    #[test]
    fn reboot_clear_data_and_upgrade_end_a_batch_and_shell_is_not_for_admins() {
        assert!(Command::Reboot.ends_batch() && Command::ClearData.ends_batch());
        assert!(!Command::ClearLog.ends_batch());
        assert!(!Command::Shell { command: "ls".into() }.offered_to_admins());
        assert!(!Command::Upgrade { checksum: "x".into(), url: "u".into(), size: 1 }.offered_to_admins());
        assert!(Command::Reboot.offered_to_admins());
    }
}
