//! Uploads (`POST /iclock/cdata?table=…`): which table a body belongs to, how a body splits
//! into lines, and the replies the device expects (push.md 2.6).

/// The `table=` of an upload. Matching is case-insensitive; anything unknown is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UploadTable {
    /// `ATTLOG`: attendance punches (att dialect).
    AttLog,
    /// `OPERLOG`: operation log, users and templates, any mix of tags.
    OperLog,
    /// `BIODATA`: unified templates.
    BioData,
    /// `USERINFO`: user lines sent by some firmware in answer to `DATA QUERY USERINFO`.
    UserInfo,
    /// `options`: device configuration and capabilities.
    Options,
    /// `ATTPHOTO`: binary attendance photo.
    AttPhoto,
    /// `ERRORLOG`: device-side failures (e.g. a BIOPHOTO it could not turn into a template).
    ErrorLog,
    /// `IDCARD`: ID-card reader data.
    IdCard,
    /// `rtlog`: real-time events and punches (acc dialect).
    RtLog,
    /// `rtstate`: door state (acc dialect).
    RtState,
    /// `tabledata`: acc table upload, named by `tablename=`.
    TableData,
    /// Any other table, as sent.
    Other(String),
}

impl UploadTable {
    /// Classifies a `table=` value, case-insensitively.
    pub fn parse(table: &str) -> UploadTable {
        let table = table.trim();
        match table.to_ascii_lowercase().as_str() {
            "attlog" => UploadTable::AttLog,
            "operlog" => UploadTable::OperLog,
            "biodata" => UploadTable::BioData,
            "userinfo" => UploadTable::UserInfo,
            "options" => UploadTable::Options,
            "attphoto" => UploadTable::AttPhoto,
            "errorlog" => UploadTable::ErrorLog,
            "idcard" => UploadTable::IdCard,
            "rtlog" => UploadTable::RtLog,
            "rtstate" => UploadTable::RtState,
            "tabledata" => UploadTable::TableData,
            _ => UploadTable::Other(table.to_owned()),
        }
    }

    /// The canonical spelling devices use (`ATTLOG`, `options`, `rtlog`, …); `Other` as sent.
    pub fn as_str(&self) -> &str {
        match self {
            UploadTable::AttLog => "ATTLOG",
            UploadTable::OperLog => "OPERLOG",
            UploadTable::BioData => "BIODATA",
            UploadTable::UserInfo => "USERINFO",
            UploadTable::Options => "options",
            UploadTable::AttPhoto => "ATTPHOTO",
            UploadTable::ErrorLog => "ERRORLOG",
            UploadTable::IdCard => "IDCARD",
            UploadTable::RtLog => "rtlog",
            UploadTable::RtState => "rtstate",
            UploadTable::TableData => "tabledata",
            UploadTable::Other(table) => table,
        }
    }

    /// True for the tables only the access-control ("acc") dialect uploads (push.md 2.1,
    /// "Detecting the dialect", rule 2).
    pub fn is_access_control(&self) -> bool {
        matches!(self, UploadTable::RtLog | UploadTable::RtState | UploadTable::TableData)
    }

    /// True when ZKTeco's server answers `OK:<n>`; photos, `options`, `ERRORLOG` and the acc
    /// realtime tables get a plain `OK` (push.md 2.6; capture 02 header).
    pub fn replies_with_count(&self) -> bool {
        matches!(
            self,
            UploadTable::AttLog
                | UploadTable::OperLog
                | UploadTable::BioData
                | UploadTable::UserInfo
                | UploadTable::IdCard
        )
    }
}

/// Body lines: splits on LF, strips one trailing CR, skips empty/whitespace-only lines, 1-based line numbers.
pub fn body_lines(body: &str) -> impl Iterator<Item = (usize, &str)> {
    body.split('\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix('\r').unwrap_or(line)))
        .filter(|(_, line)| !line.trim().is_empty())
}

/// `OK:<n>` reply text for an upload (the form ZKTeco's own server sends).
pub fn ok_count_reply(n: usize) -> String {
    format!("OK:{n}")
}

/// Acc `tabledata` / `querydata` reply `<tablename>=<count>`, e.g. `user=1` (SEC-CN §10, capture 04).
pub fn table_count_reply(tablename: &str, n: usize) -> String {
    format!("{tablename}={n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_matched_case_insensitively() {
        assert_eq!(UploadTable::parse("ATTLOG"), UploadTable::AttLog);
        assert_eq!(UploadTable::parse("attlog"), UploadTable::AttLog);
        assert_eq!(UploadTable::parse("OperLog"), UploadTable::OperLog);
        assert_eq!(UploadTable::parse("OPTIONS"), UploadTable::Options);
        assert_eq!(UploadTable::parse("RTLOG"), UploadTable::RtLog);
        assert_eq!(UploadTable::parse("USERINFO"), UploadTable::UserInfo);
        assert_eq!(UploadTable::parse("tabledata"), UploadTable::TableData);
    }

    #[test]
    fn unknown_tables_are_kept_as_sent() {
        let t = UploadTable::parse("RemoteAtt");
        assert_eq!(t, UploadTable::Other("RemoteAtt".into()));
        assert_eq!(t.as_str(), "RemoteAtt");
    }

    #[test]
    fn canonical_names_round_trip_through_parse() {
        for t in [
            UploadTable::AttLog,
            UploadTable::OperLog,
            UploadTable::BioData,
            UploadTable::UserInfo,
            UploadTable::Options,
            UploadTable::AttPhoto,
            UploadTable::ErrorLog,
            UploadTable::IdCard,
            UploadTable::RtLog,
            UploadTable::RtState,
            UploadTable::TableData,
        ] {
            assert_eq!(UploadTable::parse(t.as_str()), t);
        }
    }

    #[test]
    fn only_rtlog_rtstate_and_tabledata_mark_the_acc_dialect() {
        assert!(UploadTable::RtLog.is_access_control());
        assert!(UploadTable::TableData.is_access_control());
        assert!(!UploadTable::AttLog.is_access_control());
        assert!(!UploadTable::Options.is_access_control());
    }

    #[test]
    fn punches_and_user_data_reply_with_a_count_but_photos_and_options_do_not() {
        assert!(UploadTable::AttLog.replies_with_count());
        assert!(UploadTable::OperLog.replies_with_count());
        assert!(!UploadTable::AttPhoto.replies_with_count());
        assert!(!UploadTable::Options.replies_with_count());
        assert!(!UploadTable::ErrorLog.replies_with_count());
    }

    #[test]
    fn crlf_body_with_blank_lines_yields_numbered_non_blank_lines() {
        let body = "1\t2026-01-01 08:00:00\r\n\r\n  \t \n2\t2026-01-01 09:00:00\t\r\n";
        let lines: Vec<_> = body_lines(body).collect();
        assert_eq!(lines, vec![(1, "1\t2026-01-01 08:00:00"), (4, "2\t2026-01-01 09:00:00\t")]);
    }

    #[test]
    fn only_one_trailing_cr_is_stripped() {
        let lines: Vec<_> = body_lines("a\r\r\nb").collect();
        assert_eq!(lines, vec![(1, "a\r"), (2, "b")]);
    }

    #[test]
    fn empty_body_has_no_lines() {
        assert_eq!(body_lines("").count(), 0);
        assert_eq!(body_lines("\n\r\n").count(), 0);
    }

    #[test]
    fn replies_use_the_vendor_spelling() {
        assert_eq!(ok_count_reply(9), "OK:9");
        assert_eq!(ok_count_reply(0), "OK:0");
        assert_eq!(table_count_reply("user", 1), "user=1");
    }
}
