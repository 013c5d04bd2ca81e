//! `table=OPERLOG` bodies: one `<TAG> fields` record per line, any mix of tags in one body
//! (ATT-EN §11.4–11.16), plus the `table=BIODATA` and `table=USERINFO` bodies that carry
//! the same lines with or without their tag.

pub use super::errorlog::ErrorLogRecord;
pub use super::idcard::IdCardRecord;
pub use super::oplog::OpLogRecord;
pub use super::template::{BioDataRecord, FaceRecord, FingerVeinRecord, FingerprintRecord};
pub use super::user::UserRecord;
pub use super::user_photo::{BioPhotoRecord, UserPicRecord};

use super::errorlog::parse_error_log_fields;
use super::fields::{preview, split_tag, strip_tag};
use super::idcard::parse_id_card_fields;
use super::oplog::parse_oplog_fields;
use super::template::{parse_biodata_fields, parse_face_fields, parse_finger_vein_fields, parse_fingerprint_fields};
use super::user::parse_user_fields;
use super::user_photo::{parse_bio_photo_fields, parse_user_pic_fields};
use super::{parse_each_line, ParsedBody};

/// One OPERLOG line, by tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperLogRecord {
    /// `OPLOG`: operation log entry.
    OpLog(OpLogRecord),
    /// `USER`: user added or changed (or a `DATA QUERY USERINFO` answer).
    User(UserRecord),
    /// `FP`: fingerprint template.
    Fingerprint(FingerprintRecord),
    /// `FACE`: NIR face template.
    Face(FaceRecord),
    /// `FVEIN`: finger vein template.
    FingerVein(FingerVeinRecord),
    /// `USERPIC`: user photo.
    UserPic(UserPicRecord),
    /// `BIOPHOTO`: comparison photo.
    BioPhoto(BioPhotoRecord),
    /// `BIODATA`: unified template.
    BioData(BioDataRecord),
    /// `IDCARD`: ID-card data.
    IdCard(IdCardRecord),
    /// `ERRORLOG`: device-side failure report.
    ErrorLog(ErrorLogRecord),
}

/// Parses one OPERLOG line by its tag (matched case-insensitively).
/// An unknown tag is rejected with the error "unknown OPERLOG tag `X`".
pub fn parse_operlog_line(line: &str) -> Result<OperLogRecord, String> {
    let (tag, fields) = split_tag(line);
    let record = match tag.to_ascii_uppercase().as_str() {
        "OPLOG" => OperLogRecord::OpLog(parse_oplog_fields(fields, line)?),
        "USER" => OperLogRecord::User(parse_user_fields(fields)?),
        "FP" => OperLogRecord::Fingerprint(parse_fingerprint_fields(fields)?),
        "FACE" => OperLogRecord::Face(parse_face_fields(fields)?),
        "FVEIN" => OperLogRecord::FingerVein(parse_finger_vein_fields(fields)?),
        "USERPIC" => OperLogRecord::UserPic(parse_user_pic_fields(fields)?),
        "BIOPHOTO" => OperLogRecord::BioPhoto(parse_bio_photo_fields(fields)?),
        "BIODATA" => OperLogRecord::BioData(parse_biodata_fields(fields)?),
        "IDCARD" => OperLogRecord::IdCard(parse_id_card_fields(fields)?),
        "ERRORLOG" => OperLogRecord::ErrorLog(parse_error_log_fields(fields)?),
        _ => return Err(format!("unknown OPERLOG tag `{}`", preview(tag))),
    };
    Ok(record)
}

/// Parses a `table=OPERLOG` body (also `table=ERRORLOG`, `table=IDCARD`): any mix of tags.
pub fn parse_operlog_body(body: &str) -> ParsedBody<OperLogRecord> {
    parse_each_line(body, parse_operlog_line)
}

/// Parses a `table=BIODATA` body; lines with or without the `BIODATA ` prefix.
pub fn parse_biodata_body(body: &str) -> ParsedBody<BioDataRecord> {
    parse_each_line(body, |line| parse_biodata_fields(strip_tag(line, "BIODATA")))
}

/// Parses a `table=USERINFO` body, or acc `user` table rows; lines with or without the
/// `USER ` / `user ` prefix.
pub fn parse_userinfo_body(body: &str) -> ParsedBody<UserRecord> {
    parse_each_line(body, |line| parse_user_fields(strip_tag(line, "USER")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_body_may_mix_oplog_user_and_fingerprint_lines() {
        let body = "OPLOG 4\t0\t2026-08-12 08:17:48\t0\t0\t0\t0\nUSER PIN=9998\tName=PRUEBA REPLICA\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\nFP PIN=9999\tFID=1\tSize=4\tValid=1\tTMP=AAAA\n";
        let parsed = parse_operlog_body(body);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert!(matches!(&parsed.records[0], OperLogRecord::OpLog(op) if op.op_type == 4));
        assert!(matches!(&parsed.records[1], OperLogRecord::User(u) if u.pin == "9998"));
        assert!(matches!(&parsed.records[2], OperLogRecord::Fingerprint(fp) if fp.fid == 1));
    }

    #[test]
    fn fp_line_with_doubled_equals_is_rejected_and_the_rest_kept() {
        let body = "FP PIN=9999\tFID=1\tSize=4\tValid=1\tTMP=AAAA\nFP PIN==1\tFID=0\tSize=4\tValid=1\tTMP=BBBB";
        let parsed = parse_operlog_body(body);
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].line_no, 2);
    }

    #[test]
    fn unknown_tag_is_rejected_with_its_name() {
        let parsed = parse_operlog_body("WEATHER city=x\n");
        assert_eq!(parsed.rejected[0].error, "unknown OPERLOG tag `WEATHER`");
    }

    #[test]
    fn every_tag_is_dispatched_to_its_record_kind() {
        let lines = [
            "FACE PIN=306\tFID=2\tSIZE=4\tVALID=1\tTMP=AAAA",
            "FVEIN Pin=306\tFID=2\tIndex=0\tSize=4\tValid=1\tTmp=AAAA",
            "USERPIC PIN=123\tFileName=123.jpg\tSize=4\tContent=AAAA",
            "BIOPHOTO PIN=123\tFileName=123.jpg\tType=2\tSize=4\tContent=AAAA",
            "BIODATA Pin=306\tNo=0\tIndex=2\tValid=1\tDuress=0\tType=8\tMajorVer=1\tMinorVer=0\tFormat=0\tTmp=AAAA",
            "IDCARD PIN=1\tIDNum=2",
            "ERRORLOG ErrCode=D01E0001\tErrMsg=\tDataOrigin=cmd\tCmdId=123\tAdditional=",
        ];
        let parsed = parse_operlog_body(&lines.join("\n"));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let kinds: Vec<&str> = parsed
            .records
            .iter()
            .map(|r| match r {
                OperLogRecord::Face(_) => "face",
                OperLogRecord::FingerVein(_) => "fvein",
                OperLogRecord::UserPic(_) => "userpic",
                OperLogRecord::BioPhoto(_) => "biophoto",
                OperLogRecord::BioData(_) => "biodata",
                OperLogRecord::IdCard(_) => "idcard",
                OperLogRecord::ErrorLog(_) => "errorlog",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["face", "fvein", "userpic", "biophoto", "biodata", "idcard", "errorlog"]);
    }

    #[test]
    fn biodata_body_accepts_lines_with_and_without_prefix() {
        let body = "BIODATA Pin=1\tNo=6\tIndex=0\tValid=1\tDuress=0\tType=1\tMajorVer=13\tMinorVer=0\tFormat=0\tTmp=apUB\r\nPin=2\tNo=6\tIndex=0\tType=1\tTmp=apUC\r\n";
        let parsed = parse_biodata_body(body);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert_eq!(parsed.records[0].pin, "1");
        assert_eq!(parsed.records[1].template, "apUC");
    }

    #[test]
    fn userinfo_body_accepts_lines_with_and_without_prefix() {
        let body = "USER PIN=1\tName=A\nPIN=2\tName=B\nuser uid=3\tpin=3\tname=C";
        let parsed = parse_userinfo_body(body);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let pins: Vec<&str> = parsed.records.iter().map(|u| u.pin.as_str()).collect();
        assert_eq!(pins, ["1", "2", "3"]);
    }
}
