//! The query string every `/iclock/*` request carries (`SN=…&table=…&Stamp=…`), parsed
//! into the keys the server acts on (push.md 2.2, 2.3).

use super::text::decode_body;

/// Parsed device query string. Never fails: unknown keys land in `other`. Keys matched
/// case-insensitively (`devicetype=ACC` is seen), values percent-decoded (`+` = space), trimmed.
///
/// Every typed field is `None` when the key is missing or its value is empty. When a key
/// repeats, the first value wins and the later ones land in `other`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceQuery {
    /// `SN`: the device serial, as sent (upper-case on real devices).
    pub serial: Option<String>,
    /// `options` (`all` on the handshake).
    pub options: Option<String>,
    /// `pushver`: the protocol version the device speaks (not its firmware `PushVersion`).
    pub pushver: Option<String>,
    /// `language`: ATT-EN App.2 code, `83` = Simplified Chinese (bodies in GB2312).
    pub language: Option<String>,
    /// `DeviceType`, lower-cased (`att` / `acc`).
    pub device_type: Option<String>,
    /// `table`, as sent (`ATTLOG`, `OPERLOG`, `options`, `rtlog`, …).
    pub table: Option<String>,
    /// `tablename` (acc `tabledata` / `querydata`).
    pub tablename: Option<String>,
    /// `Stamp`, else `OpStamp`, else `PhotoStamp` (whichever the firmware uses for this table).
    pub stamp: Option<String>,
    /// `INFO` of a `getrequest` poll (see [`super::info::parse_poll_info`]).
    pub info: Option<String>,
    /// `type` (`time`, `tabledata`, `options`, `PostVerifyData`, …).
    pub kind: Option<String>,
    /// `ContentType` (`tgz` for packed uploads).
    pub content_type: Option<String>,
    /// `PushOptionsFlag` as sent by the device (MB360 sends `2`, capture 11).
    pub push_options_flag: Option<String>,
    /// `PIN` (`table=RemoteAtt`).
    pub pin: Option<String>,
    /// `cmdid` (acc `querydata`).
    pub cmd_id: Option<String>,
    /// Every other key, and repeats of known keys, in query order (values decoded and trimmed).
    pub other: Vec<(String, String)>,
}

impl DeviceQuery {
    /// Parses a raw query string (with or without a leading `?`).
    pub fn parse(raw_query: &str) -> DeviceQuery {
        let mut query = DeviceQuery::default();
        let mut stamps: [Option<String>; 3] = [None, None, None];
        let raw_query = raw_query.strip_prefix('?').unwrap_or(raw_query);
        for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(raw_key).trim().to_owned();
            let value = percent_decode(raw_value).trim().to_owned();
            let slot = match key.to_ascii_lowercase().as_str() {
                "sn" => &mut query.serial,
                "options" => &mut query.options,
                "pushver" => &mut query.pushver,
                "language" => &mut query.language,
                "devicetype" => &mut query.device_type,
                "table" => &mut query.table,
                "tablename" => &mut query.tablename,
                "stamp" => &mut stamps[0],
                "opstamp" => &mut stamps[1],
                "photostamp" => &mut stamps[2],
                "info" => &mut query.info,
                "type" => &mut query.kind,
                "contenttype" => &mut query.content_type,
                "pushoptionsflag" => &mut query.push_options_flag,
                "pin" => &mut query.pin,
                "cmdid" => &mut query.cmd_id,
                _ => {
                    query.other.push((key, value));
                    continue;
                }
            };
            if slot.is_some() || value.is_empty() {
                query.other.push((key, value));
            } else {
                *slot = Some(value);
            }
        }
        query.device_type = query.device_type.map(|t| t.to_ascii_lowercase());
        query.stamp = stamps.into_iter().flatten().next();
        query
    }

    /// The first value of a key in `other`, matched case-insensitively (e.g. `pushcommkey`, `count`).
    pub fn other_value(&self, key: &str) -> Option<&str> {
        self.other.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a `%` not
/// followed by two hex digits stays literal. Bytes that are not UTF-8 are read as GBK.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    decode_body(&out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_query_fills_serial_options_pushver_and_language() {
        let q = DeviceQuery::parse(
            "SN=0316144680030&options=all&pushver=2.2.14&language=83&pushcommkey=4a9594af164f2b9779b59e8554b5df26",
        );
        assert_eq!(q.serial.as_deref(), Some("0316144680030"));
        assert_eq!(q.options.as_deref(), Some("all"));
        assert_eq!(q.pushver.as_deref(), Some("2.2.14"));
        assert_eq!(q.language.as_deref(), Some("83"));
        assert_eq!(q.other_value("PUSHCOMMKEY"), Some("4a9594af164f2b9779b59e8554b5df26"));
        assert_eq!(q.other.len(), 1);
    }

    #[test]
    fn keys_match_case_insensitively_and_device_type_is_lower_cased() {
        let q = DeviceQuery::parse("sn=X1&devicetype=ACC&PUSHOPTIONSFLAG=1&Table=rtlog");
        assert_eq!(q.serial.as_deref(), Some("X1"));
        assert_eq!(q.device_type.as_deref(), Some("acc"));
        assert_eq!(q.push_options_flag.as_deref(), Some("1"));
        assert_eq!(q.table.as_deref(), Some("rtlog"));
    }

    #[test]
    fn values_are_percent_decoded_with_plus_as_space_and_trimmed() {
        let q = DeviceQuery::parse(
            "SN=CEZU202360241&INFO=Ver%208.0.4.2-I113-02,143,1,109,172.16.12.182,10,7,12,141,111&x=a+b%2Bc&y=%20v%20",
        );
        assert_eq!(q.info.as_deref(), Some("Ver 8.0.4.2-I113-02,143,1,109,172.16.12.182,10,7,12,141,111"));
        assert_eq!(q.other_value("x"), Some("a b+c"));
        assert_eq!(q.other_value("y"), Some("v"));
    }

    #[test]
    fn broken_percent_escapes_stay_literal() {
        let q = DeviceQuery::parse("SN=A%2&pin=%zz1&cmdid=%");
        assert_eq!(q.serial.as_deref(), Some("A%2"));
        assert_eq!(q.pin.as_deref(), Some("%zz1"));
        assert_eq!(q.cmd_id.as_deref(), Some("%"));
    }

    #[test]
    fn missing_or_empty_serial_is_none() {
        assert_eq!(DeviceQuery::parse("").serial, None);
        assert_eq!(DeviceQuery::parse("SN=&options=all").serial, None);
        assert_eq!(DeviceQuery::parse("SN=%20%20").serial, None);
        assert_eq!(DeviceQuery::parse("options=all").serial, None);
    }

    #[test]
    fn stamp_falls_back_to_opstamp_and_photostamp() {
        assert_eq!(DeviceQuery::parse("table=ATTLOG&Stamp=9999").stamp.as_deref(), Some("9999"));
        assert_eq!(DeviceQuery::parse("table=OPERLOG&OpStamp=12").stamp.as_deref(), Some("12"));
        assert_eq!(DeviceQuery::parse("table=ATTPHOTO&PhotoStamp=7").stamp.as_deref(), Some("7"));
        assert_eq!(DeviceQuery::parse("OpStamp=2&Stamp=1").stamp.as_deref(), Some("1"));
    }

    #[test]
    fn acc_querydata_query_fills_kind_cmd_id_and_tablename() {
        let q =
            DeviceQuery::parse("SN=3383154200002&type=tabledata&cmdid=415&tablename=user&count=3&packcnt=1&packidx=1");
        assert_eq!(q.kind.as_deref(), Some("tabledata"));
        assert_eq!(q.cmd_id.as_deref(), Some("415"));
        assert_eq!(q.tablename.as_deref(), Some("user"));
        assert_eq!(q.other_value("count"), Some("3"));
        assert_eq!(q.other_value("packidx"), Some("1"));
    }

    #[test]
    fn repeated_keys_keep_the_first_value_and_log_the_rest() {
        let q = DeviceQuery::parse("?SN=A&SN=B&flag&ContentType=tgz&PIN=5");
        assert_eq!(q.serial.as_deref(), Some("A"));
        assert_eq!(q.content_type.as_deref(), Some("tgz"));
        assert_eq!(q.pin.as_deref(), Some("5"));
        assert_eq!(q.other, vec![("SN".into(), "B".into()), ("flag".into(), String::new())]);
    }
}
