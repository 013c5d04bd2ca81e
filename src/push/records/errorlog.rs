//! `ERRORLOG` lines: device-side failures, e.g. a BIOPHOTO that could not become a
//! template (ErrCode `D01E0001`…`06`), matched to the command by `CmdId` (ATT-EN §11.16).

use super::fields::KeyValues;

/// `ERRORLOG ErrCode=…\tErrMsg=…\tDataOrigin=dev|cmd\tCmdId=…\tAdditional=<base64 json>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLogRecord {
    /// `ErrCode`, e.g. `D01E0001` (generator D/S, module 01–07, `E`, 4-digit value). Never empty.
    pub err_code: String,
    /// `ErrMsg`, possibly empty.
    pub err_msg: String,
    /// `DataOrigin`: `dev` or `cmd`.
    pub data_origin: Option<String>,
    /// `CmdId` of the command that failed, when `DataOrigin=cmd`.
    pub cmd_id: Option<String>,
    /// `Additional`: base64 JSON, as sent.
    pub additional: Option<String>,
}

/// Parses the fields of an `ERRORLOG` line.
pub(crate) fn parse_error_log_fields(fields: &str) -> Result<ErrorLogRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(ErrorLogRecord {
        err_code: kv.required_non_empty(&["ErrCode"])?,
        err_msg: kv.get(&["ErrMsg"]).unwrap_or_default().to_owned(),
        data_origin: kv.text(&["DataOrigin"]),
        cmd_id: kv.text(&["CmdId"]),
        additional: kv.text(&["Additional"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_log_line_reads_code_origin_and_command_id() {
        let r =
            parse_error_log_fields("ErrCode=D01E0001\tErrMsg=\tDataOrigin=cmd\tCmdId=123\tAdditional=").expect("valid");
        assert_eq!(
            r,
            ErrorLogRecord {
                err_code: "D01E0001".into(),
                err_msg: String::new(),
                data_origin: Some("cmd".into()),
                cmd_id: Some("123".into()),
                additional: None,
            }
        );
    }

    #[test]
    fn error_log_without_code_is_rejected() {
        assert!(parse_error_log_fields("ErrMsg=x\tDataOrigin=dev").is_err());
    }
}
