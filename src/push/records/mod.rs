//! Upload bodies, one parser per record kind. Each body is parsed line by line: a bad
//! line becomes a [`RejectedLine`] with a human-readable error and never fails the batch.

pub mod attlog;
pub mod errorlog;
mod fields;
pub mod idcard;
pub mod operlog;
pub mod oplog;
pub mod options;
pub mod photo;
pub mod rtlog;
pub mod tabledata;
pub mod template;
pub mod user;
pub mod user_photo;

pub use attlog::{parse_attlog_body, parse_attlog_line, AttLogRecord};
pub use operlog::{
    parse_biodata_body, parse_operlog_body, parse_operlog_line, parse_userinfo_body, ErrorLogRecord, IdCardRecord,
    OperLogRecord,
};
pub use oplog::OpLogRecord;
pub use options::parse_options;
pub use photo::{parse_attphoto, AttPhoto};
pub use rtlog::{parse_rtlog_body, parse_rtlog_line, parse_rtstate_body, RtLogRecord, RtStateRecord};
pub use tabledata::{parse_tabledata_body, TableRow};
pub use template::{BioDataRecord, FaceRecord, FingerVeinRecord, FingerprintRecord};
pub use user::UserRecord;
pub use user_photo::{BioPhotoRecord, UserPicRecord};

use super::upload::body_lines;

/// A body line that could not be parsed; stored for review, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedLine {
    /// 1-based line number in the body (blank lines count).
    pub line_no: usize,
    /// The line as sent (without its line ending).
    pub raw: String,
    /// Why it was rejected, for a human.
    pub error: String,
}

/// The records of a body plus the lines that were rejected, in body order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedBody<T> {
    /// Parsed records.
    pub records: Vec<T>,
    /// Rejected lines.
    pub rejected: Vec<RejectedLine>,
}

impl<T> Default for ParsedBody<T> {
    fn default() -> Self {
        ParsedBody { records: Vec::new(), rejected: Vec::new() }
    }
}

impl<T> ParsedBody<T> {
    /// Non-blank lines consumed: parsed plus rejected. Acknowledging this count tells the
    /// device the whole batch was taken (rejected lines are quarantined, not retried).
    pub fn line_count(&self) -> usize {
        self.records.len() + self.rejected.len()
    }
}

/// Runs `parse_line` over every non-blank line of `body` (see [`body_lines`]).
pub(crate) fn parse_each_line<T>(body: &str, parse_line: impl Fn(&str) -> Result<T, String>) -> ParsedBody<T> {
    let mut parsed = ParsedBody::default();
    for (line_no, line) in body_lines(body) {
        match parse_line(line) {
            Ok(record) => parsed.records.push(record),
            Err(error) => parsed.rejected.push(RejectedLine { line_no, raw: line.to_owned(), error }),
        }
    }
    parsed
}
