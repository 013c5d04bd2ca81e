//! Command results: `POST /iclock/devicecmd` bodies (push.md 2.8 formats 1-5; captures 03,
//! 05, 09, 10, 11, 13). Parsed from bytes because `Content=` may be binary.
//!
//! A line starting with `ID=` always opens a new ack: with `&` it is the one-line form
//! (`ID=1&Return=0&CMD=DATA`), without it the key-per-line form (`ID=32\nReturn=0\nCMD=Shell`).
//! Lines after a one-line ack that are not a new ack are its dump (INFO keys, GET OPTION
//! values): GrupoSTI mis-read INFO keys without `~` as ack fields (capture 05 note).

use super::records::RejectedLine;
use super::text::decode_body;

/// One command result. Correlate by `id` only (`cmd` echoes the command class, e.g. `DATA`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandAck {
    /// `ID`: the CmdID the server sent (alphanumeric IDs exist: `info8487`, `OPENDOOR0`). Never empty.
    pub id: String,
    /// `Return` (or acc `return`): 0 success, negative error, byte count for GetFile/Shell/PutFile,
    /// row count for acc queries. `None` when missing or not a number (then kept in `fields`).
    pub return_code: Option<i64>,
    /// `CMD`: `DATA`, `INFO`, `CLEAR_LOG`, `Shell`, `DATA UPDATE BIODATA` …
    pub cmd: Option<String>,
    /// every other ack field (AttlogSum, StartTime, SN, FILENAME ...)
    pub fields: Vec<(String, String)>,
    /// INFO dump keys (one per line after the ack line)
    pub info: Vec<(String, String)>,
    /// Content= to end of body (Shell/GetFile), raw bytes
    pub content: Option<Vec<u8>>,
}

/// The acks of one body plus the lines that belonged to none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedAcks {
    /// Acks in body order.
    pub acks: Vec<CommandAck>,
    /// Lines outside any ack, and acks without an ID.
    pub rejected: Vec<RejectedLine>,
}

/// Parses a devicecmd body in any of the formats of push.md 2.8. `Return` and `return` both
/// accepted. Never fails.
pub fn parse_devicecmd_body(body: &[u8]) -> ParsedAcks {
    let mut parsed = ParsedAcks::default();
    let mut current: Option<Open> = None;
    let mut pos = 0;
    let mut line_no = 0;
    while pos < body.len() {
        line_no += 1;
        let end = body[pos..].iter().position(|&b| b == b'\n').map_or(body.len(), |i| pos + i);
        let raw = &body[pos..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line_start = pos;
        pos = end + 1;
        let text = decode_body(raw, None);
        let line = text.trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once('=').map_or((line, None), |(k, v)| (k.trim(), Some(v)));
        if key.eq_ignore_ascii_case("content") {
            if let Some(open) = current.as_mut() {
                // Content= runs to the end of the body, byte-exact (it may be binary).
                let after_eq = raw.iter().position(|&b| b == b'=').map_or(raw.len(), |i| i + 1);
                open.ack.content = Some(body[line_start + after_eq..].to_vec());
                break;
            }
        }
        if key.eq_ignore_ascii_case("id") {
            finish(current.take(), &mut parsed);
            current = Some(Open::start(line, line_no));
            continue;
        }
        match (current.as_mut(), value) {
            (Some(open), Some(value)) => open.add(key, value.trim()),
            _ => parsed.rejected.push(RejectedLine {
                line_no,
                raw: text.clone(),
                error: if current.is_some() { "ack line is not key=value" } else { "line outside any ack" }.to_owned(),
            }),
        }
    }
    finish(current, &mut parsed);
    parsed
}

/// An ack being read.
struct Open {
    ack: CommandAck,
    /// Later `key=value` lines are a dump (`info`), not ack fields.
    in_dump: bool,
    /// `ID=32\nReturn=0\n…` form, where `CMD=INFO` opens the dump.
    key_per_line: bool,
    first_line: String,
    line_no: usize,
}

impl Open {
    fn start(line: &str, line_no: usize) -> Open {
        let key_per_line = !line.contains('&');
        let mut open =
            Open { ack: CommandAck::default(), in_dump: false, key_per_line, first_line: line.to_owned(), line_no };
        if !key_per_line {
            for pair in line.split('&').filter(|p| !p.trim().is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                open.add(key.trim(), value.trim());
            }
            open.in_dump = true;
        } else {
            let value = line.split_once('=').map_or("", |(_, v)| v);
            open.add("ID", value.trim());
        }
        open
    }

    fn add(&mut self, key: &str, value: &str) {
        if self.in_dump {
            self.ack.info.push((key.to_owned(), value.to_owned()));
            return;
        }
        let ack = &mut self.ack;
        if key.eq_ignore_ascii_case("id") && ack.id.is_empty() {
            ack.id = value.to_owned();
        } else if key.eq_ignore_ascii_case("return") && ack.return_code.is_none() {
            match value.parse() {
                Ok(code) => ack.return_code = Some(code),
                Err(_) => ack.fields.push((key.to_owned(), value.to_owned())),
            }
        } else if key.eq_ignore_ascii_case("cmd") && ack.cmd.is_none() {
            ack.cmd = Some(value.to_owned());
            // Key-per-line INFO: the dump starts after the CMD line.
            if self.key_per_line && value.eq_ignore_ascii_case("INFO") {
                self.in_dump = true;
            }
        } else {
            ack.fields.push((key.to_owned(), value.to_owned()));
        }
    }
}

fn finish(open: Option<Open>, parsed: &mut ParsedAcks) {
    let Some(open) = open else { return };
    if open.ack.id.is_empty() {
        parsed.rejected.push(RejectedLine {
            line_no: open.line_no,
            raw: open.first_line,
            error: "ack without ID".to_owned(),
        });
    } else {
        parsed.acks.push(open.ack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(id: &str, return_code: i64, cmd: &str) -> CommandAck {
        CommandAck { id: id.into(), return_code: Some(return_code), cmd: Some(cmd.into()), ..CommandAck::default() }
    }

    #[test]
    fn one_line_ack_reads_id_return_and_cmd() {
        let parsed = parse_devicecmd_body(b"ID=info8487&Return=0&CMD=DATA");
        assert_eq!(parsed.acks, vec![ack("info8487", 0, "DATA")]);
        assert!(parsed.rejected.is_empty());
    }

    #[test]
    fn batched_acks_in_one_body_are_all_read() {
        let parsed = parse_devicecmd_body(
            b"ID=1&Return=0&CMD=DATA\r\nID=2&Return=-1002&CMD=DATA\r\nID=3&Return=0&CMD=CHECK\r\n",
        );
        assert_eq!(parsed.acks, vec![ack("1", 0, "DATA"), ack("2", -1002, "DATA"), ack("3", 0, "CHECK")]);
    }

    #[test]
    fn acc_lower_case_return_is_accepted() {
        let parsed = parse_devicecmd_body(b"ID=415&return=3&CMD=DATA QUERY");
        assert_eq!(parsed.acks, vec![ack("415", 3, "DATA QUERY")]);
    }

    #[test]
    fn verify_sum_ack_keeps_its_extra_fields() {
        let parsed = parse_devicecmd_body(
            b"ID=9&Return=0&CMD=VERIFY SUM&StartTime=2026-01-01 00:00:00&EndTime=2026-01-31 23:59:59&AttlogSum=1234",
        );
        let a = &parsed.acks[0];
        assert_eq!(a.cmd.as_deref(), Some("VERIFY SUM"));
        assert_eq!(
            a.fields,
            vec![
                ("StartTime".to_owned(), "2026-01-01 00:00:00".to_owned()),
                ("EndTime".to_owned(), "2026-01-31 23:59:59".to_owned()),
                ("AttlogSum".to_owned(), "1234".to_owned()),
            ]
        );
        assert!(a.info.is_empty());
    }

    #[test]
    fn info_dump_keys_with_and_without_tilde_go_to_info_not_fields() {
        let parsed = parse_devicecmd_body(
            b"ID=122&Return=0&CMD=INFO\n~DeviceName=MB360/ID\nUserCount=143\nAccSupportFunList=\n",
        );
        let a = &parsed.acks[0];
        assert_eq!(a.cmd.as_deref(), Some("INFO"));
        assert!(a.fields.is_empty());
        assert_eq!(
            a.info,
            vec![
                ("~DeviceName".to_owned(), "MB360/ID".to_owned()),
                ("UserCount".to_owned(), "143".to_owned()),
                ("AccSupportFunList".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn info_dump_followed_by_another_ack_ends_at_the_next_id_line() {
        let parsed = parse_devicecmd_body(b"ID=1&Return=0&CMD=INFO\nUserCount=4\nID=2&Return=0&CMD=DATA");
        assert_eq!(parsed.acks.len(), 2);
        assert_eq!(parsed.acks[0].info.len(), 1);
        assert_eq!(parsed.acks[1], ack("2", 0, "DATA"));
    }

    #[test]
    fn key_per_line_shell_ack_takes_content_to_the_end_of_the_body() {
        let parsed =
            parse_devicecmd_body(b"ID=32\nReturn=0\nCMD=Shell\nContent=Tue Mar 24 16:12:26 GMT 2026\nsecond line\n");
        let a = &parsed.acks[0];
        assert_eq!((a.id.as_str(), a.return_code, a.cmd.as_deref()), ("32", Some(0), Some("Shell")));
        assert_eq!(a.content.as_deref(), Some(b"Tue Mar 24 16:12:26 GMT 2026\nsecond line\n".as_slice()));
    }

    #[test]
    fn getfile_content_is_kept_as_raw_binary_bytes() {
        let mut body = b"ID=7\nSN=X1\nFILENAME=options.cfg\nCMD=GetFile\nReturn=6\nContent=".to_vec();
        body.extend([0x00, 0xFF, b'\n', 0xC8, b'\r', 0x01]);
        let parsed = parse_devicecmd_body(&body);
        let a = &parsed.acks[0];
        assert_eq!(a.return_code, Some(6));
        assert_eq!(
            a.fields,
            vec![("SN".to_owned(), "X1".to_owned()), ("FILENAME".to_owned(), "options.cfg".to_owned())]
        );
        assert_eq!(a.content.as_deref(), Some([0x00, 0xFF, b'\n', 0xC8, b'\r', 0x01].as_slice()));
    }

    #[test]
    fn key_per_line_ack_for_an_ordinary_command_reads_the_return_code() {
        let parsed = parse_devicecmd_body(b"ID=12\nReturn=-30\nCMD=DATA UPDATE BIODATA");
        assert_eq!(parsed.acks, vec![ack("12", -30, "DATA UPDATE BIODATA")]);
    }

    #[test]
    fn key_per_line_info_ack_puts_later_keys_in_info() {
        let parsed = parse_devicecmd_body(b"ID=5\nReturn=0\nCMD=INFO\nUserCount=3\nFPCount=1");
        let a = &parsed.acks[0];
        assert_eq!(a.info.len(), 2);
        assert!(a.fields.is_empty());
    }

    #[test]
    fn non_numeric_return_is_kept_as_a_field() {
        let parsed = parse_devicecmd_body(b"ID=5&Return=<ret>&CMD=LOG");
        assert_eq!(parsed.acks[0].return_code, None);
        assert_eq!(parsed.acks[0].fields, vec![("Return".to_owned(), "<ret>".to_owned())]);
    }

    #[test]
    fn lines_outside_an_ack_and_acks_without_id_are_rejected() {
        let parsed = parse_devicecmd_body(b"garbage\nReturn=0\nID=&Return=0&CMD=DATA\nID=4&Return=0&CMD=LOG\n");
        assert_eq!(parsed.acks, vec![ack("4", 0, "LOG")]);
        let lines: Vec<usize> = parsed.rejected.iter().map(|r| r.line_no).collect();
        assert_eq!(lines, vec![1, 2, 3]);
    }

    #[test]
    fn empty_body_has_no_acks() {
        assert_eq!(parse_devicecmd_body(b""), ParsedAcks::default());
        assert_eq!(parse_devicecmd_body(b"\r\n\n"), ParsedAcks::default());
    }
}
