//! The `INFO=` value a device piggy-backs on `GET /iclock/getrequest` (push.md 2.7): a
//! cheap per-poll heartbeat carrying firmware, counters and algorithm versions.

/// The 4..10 comma-separated values of `INFO=`, each `None` when absent, empty or not a number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollInfo {
    /// 1: firmware version, e.g. `Ver 8.0.4.2-I113-02`.
    pub firmware: Option<String>,
    /// 2: enrolled users.
    pub users: Option<u32>,
    /// 3: enrolled fingerprints.
    pub fingerprints: Option<u32>,
    /// 4: attendance records stored.
    pub attlogs: Option<u32>,
    /// 5: device IP address.
    pub ip: Option<String>,
    /// 6: fingerprint algorithm version (`10`).
    pub fp_version: Option<String>,
    /// 7: face algorithm version (`7`).
    pub face_version: Option<String>,
    /// 8: face templates needed per enrolment (`12`, `15`).
    pub faces_per_enroll: Option<u32>,
    /// 9: enrolled faces.
    pub faces: Option<u32>,
    /// 10: function bits: 1 FP, 2 face, 3 user photo, 4 BioPhotoFun, 5 BioDataFun (`111`, `11111`).
    pub functions: Option<String>,
}

/// Parses a (percent-decoded) `INFO=` value. Never fails; extra values past the tenth are ignored.
///
/// The vendor's own server accepted 4, 5 or 6 values (capture 14); modern firmware sends 10.
pub fn parse_poll_info(value: &str) -> PollInfo {
    let mut parts = value.split(',').map(str::trim);
    let mut text = || parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
    let firmware = text();
    let users = text();
    let fingerprints = text();
    let attlogs = text();
    let ip = text();
    let fp_version = text();
    let face_version = text();
    let faces_per_enroll = text();
    let faces = text();
    let functions = text();
    let number = |v: Option<String>| v.and_then(|v| v.parse::<u32>().ok());
    PollInfo {
        firmware,
        users: number(users),
        fingerprints: number(fingerprints),
        attlogs: number(attlogs),
        ip,
        fp_version,
        face_version,
        faces_per_enroll: number(faces_per_enroll),
        faces: number(faces),
        functions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_value_info_from_an_mb360_fills_every_field() {
        let info = parse_poll_info("Ver 8.0.4.2-I113-02,143,1,109,172.16.12.182,10,7,12,141,111");
        assert_eq!(
            info,
            PollInfo {
                firmware: Some("Ver 8.0.4.2-I113-02".into()),
                users: Some(143),
                fingerprints: Some(1),
                attlogs: Some(109),
                ip: Some("172.16.12.182".into()),
                fp_version: Some("10".into()),
                face_version: Some("7".into()),
                faces_per_enroll: Some(12),
                faces: Some(141),
                functions: Some("111".into()),
            }
        );
    }

    #[test]
    fn legacy_four_value_info_leaves_the_rest_empty() {
        let info = parse_poll_info("Ver 6.60,12,30,4000");
        assert_eq!(info.firmware.as_deref(), Some("Ver 6.60"));
        assert_eq!(info.users, Some(12));
        assert_eq!(info.fingerprints, Some(30));
        assert_eq!(info.attlogs, Some(4000));
        assert_eq!(info.ip, None);
        assert_eq!(info.functions, None);
    }

    #[test]
    fn empty_or_non_numeric_counters_are_none() {
        let info = parse_poll_info("Ver 1,,x,-3, ,10");
        assert_eq!(info.users, None);
        assert_eq!(info.fingerprints, None);
        assert_eq!(info.attlogs, None);
        assert_eq!(info.ip, None);
        assert_eq!(info.fp_version.as_deref(), Some("10"));
    }

    #[test]
    fn empty_value_gives_an_empty_info() {
        assert_eq!(parse_poll_info(""), PollInfo::default());
    }
}
