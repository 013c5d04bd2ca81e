//! `USER` lines (OPERLOG, `table=USERINFO`) and acc `user` table rows, read by key
//! (ATT-EN §11.5; field sets grow with firmware: ViceCard, Expires, StartDatetime, capture 08).

use super::fields::KeyValues;

/// A user as the device reports it. Empty values are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    /// `PIN` (acc: `pin`), never empty.
    pub pin: String,
    /// `Name` (GB2312 on Chinese-language devices; decode the body first).
    pub name: Option<String>,
    /// `Pri` (acc `Privilege`): 0 user, 2 registrar, 6 admin, 10 user-defined, 14 super admin.
    pub privilege: Option<i32>,
    /// `Passwd` (acc `Password`).
    pub password: Option<String>,
    /// `Card` (acc `CardNo`): decimal, or `[15CD5B07]` hex bytes.
    pub card: Option<String>,
    /// `Grp` (acc `Group`).
    pub group: Option<String>,
    /// `TZ`: 16 digits, e.g. `0000000100000000`.
    pub timezones: Option<String>,
    /// `Verify`: -1 = the group's mode, otherwise ATT-EN App.7.
    pub verify: Option<i32>,
    /// `ViceCard`.
    pub vice_card: Option<String>,
    /// Every other field as sent (`Expires`, `StartDatetime`, acc `uid`, …), in line order.
    pub extra: Vec<(String, String)>,
}

const PIN: &[&str] = &["PIN"];
const NAME: &[&str] = &["Name"];
const PRIVILEGE: &[&str] = &["Pri", "Privilege"];
const PASSWORD: &[&str] = &["Passwd", "Password"];
const CARD: &[&str] = &["Card", "CardNo"];
const GROUP: &[&str] = &["Grp", "Group"];
const TIMEZONES: &[&str] = &["TZ"];
const VERIFY: &[&str] = &["Verify"];
const VICE_CARD: &[&str] = &["ViceCard"];

/// Parses the `key=value` fields of a user line (tag already removed).
///
/// Keys are case-insensitive and the acc `user` table spellings (`CardNo`, `Password`,
/// `Group`, `Privilege`, capture 04) are accepted too. `Pri`/`Verify` must be numbers when present.
pub(crate) fn parse_user_fields(fields: &str) -> Result<UserRecord, String> {
    let kv = KeyValues::parse(fields)?;
    let known: Vec<&str> = [PIN, NAME, PRIVILEGE, PASSWORD, CARD, GROUP, TIMEZONES, VERIFY, VICE_CARD].concat();
    Ok(UserRecord {
        pin: kv.pin()?,
        name: kv.text(NAME),
        privilege: kv.number(PRIVILEGE)?,
        password: kv.text(PASSWORD),
        card: kv.text(CARD),
        group: kv.text(GROUP),
        timezones: kv.text(TIMEZONES),
        verify: kv.number(VERIFY)?,
        vice_card: kv.text(VICE_CARD),
        extra: kv.others(&known),
    })
}

impl UserRecord {
    /// Renders the record as an att device uploads it:
    /// `USER PIN=…\tName=…\tPri=…\tPasswd=…\tCard=…\tGrp=…\tTZ=…\tVerify=…\tViceCard=…` then
    /// the extra fields. `None` renders empty; TAB, CR and LF inside values become spaces.
    /// Used by simulated devices.
    pub fn render(&self) -> String {
        let text = |v: &Option<String>| v.as_deref().map(clean).unwrap_or_default();
        let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
        let mut line = format!(
            "USER PIN={}\tName={}\tPri={}\tPasswd={}\tCard={}\tGrp={}\tTZ={}\tVerify={}\tViceCard={}",
            clean(&self.pin),
            text(&self.name),
            number(self.privilege),
            text(&self.password),
            text(&self.card),
            text(&self.group),
            text(&self.timezones),
            number(self.verify),
            text(&self.vice_card),
        );
        for (key, value) in &self.extra {
            line.push('\t');
            line.push_str(&clean(key).replace('=', " "));
            line.push('=');
            line.push_str(&clean(value));
        }
        line
    }
}

fn clean(value: &str) -> String {
    value.replace(['\t', '\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5l_user_line_reads_every_standard_field() {
        let r = parse_user_fields(
            "PIN=9998\tName=PRUEBA REPLICA\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1",
        )
        .expect("valid");
        assert_eq!(r.pin, "9998");
        assert_eq!(r.name.as_deref(), Some("PRUEBA REPLICA"));
        assert_eq!(r.privilege, Some(0));
        assert_eq!((r.password.as_deref(), r.card.as_deref()), (None, None));
        assert_eq!(r.group.as_deref(), Some("1"));
        assert_eq!(r.timezones.as_deref(), Some("0000000100000000"));
        assert_eq!(r.verify, Some(-1));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn user_with_extra_keys_keeps_them_in_order() {
        let r = parse_user_fields(
            "PIN=1\tName=NIHAL\tPri=14\tPasswd=\tCard=196793\tGrp=1\tTZ=0000000100000000\tVerify=-1\tViceCard=\tExpires=0\tStartDatetime=0\tEndDatetime=0",
        )
        .expect("valid");
        assert_eq!(r.privilege, Some(14));
        assert_eq!(r.card.as_deref(), Some("196793"));
        assert_eq!(r.vice_card, None);
        assert_eq!(
            r.extra,
            vec![
                ("Expires".to_owned(), "0".to_owned()),
                ("StartDatetime".to_owned(), "0".to_owned()),
                ("EndDatetime".to_owned(), "0".to_owned()),
            ]
        );
    }

    #[test]
    fn acc_user_row_spellings_map_to_the_same_fields() {
        let r = parse_user_fields(
            "uid=5\tcardno=123\tpin=4\tpassword=77\tgroup=1\tstarttime=0\tendtime=0\tname=\tprivilege=14\tdisable=0\tverify=0",
        )
        .expect("valid");
        assert_eq!(r.pin, "4");
        assert_eq!(r.card.as_deref(), Some("123"));
        assert_eq!(r.password.as_deref(), Some("77"));
        assert_eq!(r.privilege, Some(14));
        assert_eq!(r.name, None);
        assert_eq!(
            r.extra.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            vec!["uid", "starttime", "endtime", "disable"]
        );
    }

    #[test]
    fn user_without_pin_or_with_bad_privilege_is_rejected() {
        assert!(parse_user_fields("Name=X\tPri=0").is_err());
        assert!(parse_user_fields("PIN=\tName=X").is_err());
        assert!(parse_user_fields("PIN=1\tPri=admin").is_err());
        assert!(parse_user_fields("PIN==1\tName=X").is_err());
    }

    #[test]
    fn render_then_parse_gives_back_the_user() {
        let user = UserRecord {
            pin: "36234".into(),
            name: Some("Juan Pérez".into()),
            privilege: Some(0),
            password: None,
            card: Some("[15CD5B07]".into()),
            group: Some("1".into()),
            timezones: Some("0000000100000000".into()),
            verify: Some(-1),
            vice_card: None,
            extra: vec![("Expires".into(), "0".into())],
        };
        let line = user.render();
        assert_eq!(
            line,
            "USER PIN=36234\tName=Juan Pérez\tPri=0\tPasswd=\tCard=[15CD5B07]\tGrp=1\tTZ=0000000100000000\tVerify=-1\tViceCard=\tExpires=0"
        );
        let fields = line.strip_prefix("USER ").expect("tag");
        assert_eq!(parse_user_fields(fields), Ok(user));
    }

    #[test]
    fn render_never_emits_a_tab_or_newline_inside_a_value() {
        let user = UserRecord { pin: "1".into(), name: Some("A\tB\nC".into()), ..UserRecord::default() };
        let line = user.render();
        assert!(line.contains("Name=A B C\t"));
        assert!(!line.contains('\n'));
    }
}
