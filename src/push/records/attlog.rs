//! `table=ATTLOG` lines: positional TAB-separated punches (push.md 2.6 "ATTLOG").
//!
//! Only PIN and time are stable across firmware; the rest is kept as sent. Layouts seen:
//! 7 fields (spec), 10 fields + trailing TAB (ZAM180, capture 05), 255 in the status
//! field (ZAM70, capture 06), empty workcode (MB560-VL), 16 fields (TFT, capture 15),
//! 4-5 fields (legacy, capture 15).

use chrono::NaiveDateTime;

use super::fields::strip_trailing_tab;
use super::{parse_each_line, ParsedBody};
use crate::push::time::parse_device_time;

/// One punch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttLogRecord {
    /// User PIN (field 1), never empty.
    pub pin: String,
    /// Field 2 exactly as sent, device-local wall time.
    pub time_raw: String,
    /// `time_raw` parsed; `None` when unparsable (garbage clocks are kept, not rejected).
    pub local_time: Option<NaiveDateTime>,
    /// Field 3: 0 check-in, 1 check-out, … ; 255 = no state key (face devices).
    pub status: Option<i32>,
    /// Field 4: verification mode (ATT-EN App.7), 15 = face, 1 = fingerprint.
    pub verify: Option<i32>,
    /// Field 5: work code, `None` when empty.
    pub workcode: Option<String>,
    /// Fields 6.. as sent (firmware-specific: reserved, mask flag, temperature, job codes).
    pub extra: Vec<String>,
    /// The whole line.
    pub raw: String,
}

/// Parses one ATTLOG line. Only PIN and time are required; an empty PIN is rejected.
///
/// Fields are TAB-separated; a single trailing TAB is ignored. Lines without any TAB
/// (a proxy replaced them) are split on runs of 2+ spaces instead, so the single space
/// inside the time survives. Status, verify and workcode that are empty or not numbers
/// become `None`: the punch is kept.
pub fn parse_attlog_line(line: &str) -> Result<AttLogRecord, String> {
    let fields: Vec<&str> =
        if line.contains('\t') { strip_trailing_tab(line).split('\t').collect() } else { split_on_space_runs(line) };
    let pin = fields.first().map(|p| p.trim()).unwrap_or_default();
    if pin.is_empty() {
        return Err("empty PIN".to_owned());
    }
    let time_raw = fields.get(1).copied().unwrap_or_default();
    if time_raw.trim().is_empty() {
        return Err("missing time".to_owned());
    }
    let number = |index: usize| fields.get(index).and_then(|f| f.trim().parse::<i32>().ok());
    Ok(AttLogRecord {
        pin: pin.to_owned(),
        time_raw: time_raw.to_owned(),
        local_time: parse_device_time(time_raw),
        status: number(2),
        verify: number(3),
        workcode: fields.get(4).map(|w| w.trim()).filter(|w| !w.is_empty()).map(str::to_owned),
        extra: fields.iter().skip(5).map(|f| (*f).to_owned()).collect(),
        raw: line.to_owned(),
    })
}

/// Parses a whole `table=ATTLOG` body (LF or CRLF, blank lines ignored).
pub fn parse_attlog_body(body: &str) -> ParsedBody<AttLogRecord> {
    parse_each_line(body, parse_attlog_line)
}

impl AttLogRecord {
    /// Renders the record as a device would send it: PIN, time, status, verify, workcode,
    /// extra, then the trailing TAB of ZAM firmware. `raw` is ignored; TAB, CR and LF inside
    /// values become spaces. Used by simulated devices.
    pub fn render(&self) -> String {
        let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
        let mut fields = vec![
            clean(&self.pin),
            clean(&self.time_raw),
            number(self.status),
            number(self.verify),
            self.workcode.as_deref().map(clean).unwrap_or_default(),
        ];
        fields.extend(self.extra.iter().map(|e| clean(e)));
        let mut line = fields.join("\t");
        line.push('\t');
        line
    }
}

fn clean(value: &str) -> String {
    value.replace(['\t', '\r', '\n'], " ")
}

/// Splits on runs of two or more spaces (fields trimmed), for TAB-less lines.
fn split_on_space_runs(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' && bytes.get(i + 1) == Some(&b' ') {
            fields.push(line[start..i].trim());
            while bytes.get(i) == Some(&b' ') {
                i += 1;
            }
            start = i;
        } else {
            i += 1;
        }
    }
    fields.push(line[start..].trim());
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> Option<NaiveDateTime> {
        parse_device_time(s)
    }

    #[test]
    fn seven_field_spec_line_parses_every_column() {
        let r = parse_attlog_line("1452\t2015-07-30 15:16:28\t0\t1\t0\t0\t0").expect("valid");
        assert_eq!(r.pin, "1452");
        assert_eq!(r.time_raw, "2015-07-30 15:16:28");
        assert_eq!(r.local_time, time("2015-07-30 15:16:28"));
        assert_eq!((r.status, r.verify), (Some(0), Some(1)));
        assert_eq!(r.workcode.as_deref(), Some("0"));
        assert_eq!(r.extra, vec!["0", "0"]);
    }

    #[test]
    fn ten_field_zam180_line_with_trailing_tab_keeps_255_in_extra() {
        let line = "9999\t2026-08-12 08:53:23\t0\t15\t0\t0\t0\t255\t0\t0\t";
        let r = parse_attlog_line(line).expect("valid");
        assert_eq!((r.status, r.verify), (Some(0), Some(15)));
        assert_eq!(r.extra, vec!["0", "0", "255", "0", "0"]);
        assert_eq!(r.raw, line);
    }

    #[test]
    fn zam70_line_with_255_in_the_status_field_keeps_status_255() {
        let r = parse_attlog_line("9995\t2026-08-13 11:19:12\t255\t1\t0\t0\t0\t0\t0\t").expect("valid");
        assert_eq!(r.status, Some(255));
        assert_eq!(r.verify, Some(1));
        assert_eq!(r.extra.len(), 4);
    }

    #[test]
    fn mb560_line_with_empty_fields_keeps_them_in_place() {
        let r = parse_attlog_line("2\t2022-07-12 16:00:20\t1\t15\t\t0\t0\t\t\t43").expect("valid");
        assert_eq!((r.status, r.verify), (Some(1), Some(15)));
        assert_eq!(r.workcode, None);
        assert_eq!(r.extra, vec!["0", "0", "", "", "43"]);
    }

    #[test]
    fn sixteen_field_tft_line_keeps_job_and_tip_codes() {
        let r = parse_attlog_line("982\t2016-02-25 12:08:21\t1\t0\t9001\t0\t0\t1\t2\t3\t4\t5\t6\t1.0\t2.0\t3.0")
            .expect("valid");
        assert_eq!(r.workcode.as_deref(), Some("9001"));
        assert_eq!(r.extra, vec!["0", "0", "1", "2", "3", "4", "5", "6", "1.0", "2.0", "3.0"]);
    }

    #[test]
    fn four_field_legacy_line_has_no_workcode() {
        let r = parse_attlog_line("1001\t2026-08-20 09:15:00\t0\t1").expect("valid");
        assert_eq!((r.status, r.verify, r.workcode), (Some(0), Some(1), None));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn pin_and_time_alone_are_enough() {
        let r = parse_attlog_line("7\t2026-01-01 08:00:00").expect("valid");
        assert_eq!((r.status, r.verify), (None, None));
    }

    #[test]
    fn garbage_clock_is_kept_with_no_local_time() {
        let r = parse_attlog_line("445966\t1971--10--29 -23:-27:-54\t0\t1").expect("kept");
        assert_eq!(r.time_raw, "1971--10--29 -23:-27:-54");
        assert_eq!(r.local_time, None);
    }

    #[test]
    fn empty_pin_or_missing_time_is_rejected() {
        assert!(parse_attlog_line("\t2026-01-01 08:00:00\t0\t1").is_err());
        assert!(parse_attlog_line("  \t2026-01-01 08:00:00").is_err());
        assert!(parse_attlog_line("1452").is_err());
        assert!(parse_attlog_line("1452\t\t0\t1").is_err());
    }

    #[test]
    fn non_numeric_status_is_none_and_the_punch_is_kept() {
        let r = parse_attlog_line("5\t2026-01-01 08:00:00\tIN\tx").expect("kept");
        assert_eq!((r.status, r.verify), (None, None));
    }

    #[test]
    fn tabless_line_splits_on_runs_of_spaces_only() {
        let r = parse_attlog_line("1452  2015-07-30 15:16:28   0  1  0").expect("valid");
        assert_eq!(r.pin, "1452");
        assert_eq!(r.time_raw, "2015-07-30 15:16:28");
        assert_eq!((r.status, r.verify), (Some(0), Some(1)));
        assert_eq!(r.workcode.as_deref(), Some("0"));
    }

    #[test]
    fn single_spaces_without_tabs_cannot_be_split_and_are_rejected() {
        assert!(parse_attlog_line("1452 2015-07-30 15:16:28 0 1").is_err());
    }

    #[test]
    fn crlf_body_with_blank_lines_keeps_good_lines_and_reports_bad_ones() {
        let body = "1\t2026-01-01 08:00:00\t0\t1\r\n\r\n\t2026-01-01 08:01:00\r\n2\t2026-01-01 08:02:00\t1\t15\t\r\n";
        let parsed = parse_attlog_body(body);
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].pin, "2");
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].line_no, 3);
        assert_eq!(parsed.rejected[0].raw, "\t2026-01-01 08:01:00");
        assert_eq!(parsed.line_count(), 3);
    }

    #[test]
    fn render_then_parse_gives_back_the_record() {
        let record = AttLogRecord {
            pin: "9999".into(),
            time_raw: "2026-08-12 08:53:23".into(),
            local_time: time("2026-08-12 08:53:23"),
            status: Some(0),
            verify: Some(15),
            workcode: None,
            extra: vec!["0".into(), "".into(), "255".into(), "".into()],
            raw: String::new(),
        };
        let line = record.render();
        assert_eq!(line, "9999\t2026-08-12 08:53:23\t0\t15\t\t0\t\t255\t\t");
        let back = parse_attlog_line(&line).expect("valid");
        assert_eq!(AttLogRecord { raw: String::new(), ..back }, record);
    }
}
