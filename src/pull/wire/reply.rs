//! Reply codes a device sends (spec §1.6) and their classification.

/// Success (may carry data).
pub const ACK_OK: u16 = 2000;
/// Failure; the session slot often carries a detail code.
pub const ACK_ERROR: u16 = 2001;
/// Data (some firmware answers sizes with it instead of ACK_OK).
pub const ACK_DATA: u16 = 2002;
/// Retry later.
pub const ACK_RETRY: u16 = 2003;
/// Repeat.
pub const ACK_REPEAT: u16 = 2004;
/// Comm key required or wrong.
pub const ACK_UNAUTH: u16 = 2005;
/// Unknown command.
pub const ACK_UNKNOWN: u16 = 0xFFFF;
/// Error variants named by pyzk.
pub const ACK_ERROR_CMD: u16 = 0xFFFD;
/// Error variants named by pyzk.
pub const ACK_ERROR_INIT: u16 = 0xFFFC;
/// Error variants named by pyzk.
pub const ACK_ERROR_DATA: u16 = 0xFFFB;
/// Newer firmware: no user picture (fpmachine `no_pic`).
pub const NO_PICTURE: u16 = 4985;
/// Newer firmware: no record.
pub const NO_RECORD: u16 = 4989;
/// Newer firmware: no fingerprint.
pub const NO_FINGERPRINT: u16 = 4991;
/// Newer firmware: no data (e.g. no face).
pub const NO_DATA: u16 = 4993;
/// Newer firmware: the upload buffer is empty.
pub const EMPTY_UPLOAD_BUFFER: u16 = 4995;
/// Newer firmware: unknown option (fpmachine `no_sys_op`).
pub const NO_SYS_OPTION: u16 = 4999;

/// What a reply code means to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// ACK_OK or ACK_DATA.
    Ok,
    /// The start of a data stream (`CMD_PREPARE_DATA`).
    PrepareData,
    /// A data frame (`CMD_DATA`).
    Data,
    /// ACK_UNAUTH.
    Unauthorized,
    /// ACK_UNKNOWN or ACK_ERROR_CMD: the device does not know the command.
    Unknown,
    /// ACK_RETRY / ACK_REPEAT: the device is busy.
    Busy,
    /// "Nothing there" codes of newer firmware (no picture, no record, no data, …).
    NotFound,
    /// ACK_ERROR and every other code.
    Error,
}

/// Classifies a reply code.
pub fn classify(code: u16) -> ReplyKind {
    match code {
        ACK_OK | ACK_DATA => ReplyKind::Ok,
        super::command::PREPARE_DATA => ReplyKind::PrepareData,
        super::command::DATA => ReplyKind::Data,
        ACK_UNAUTH => ReplyKind::Unauthorized,
        ACK_UNKNOWN | ACK_ERROR_CMD => ReplyKind::Unknown,
        ACK_RETRY | ACK_REPEAT => ReplyKind::Busy,
        NO_PICTURE | NO_RECORD | NO_FINGERPRINT | NO_DATA => ReplyKind::NotFound,
        _ => ReplyKind::Error,
    }
}

/// A readable name for a reply or command code, for logs and errors.
pub fn name(code: u16) -> &'static str {
    match code {
        ACK_OK => "CMD_ACK_OK",
        ACK_ERROR => "CMD_ACK_ERROR",
        ACK_DATA => "CMD_ACK_DATA",
        ACK_RETRY => "CMD_ACK_RETRY",
        ACK_REPEAT => "CMD_ACK_REPEAT",
        ACK_UNAUTH => "CMD_ACK_UNAUTH",
        ACK_UNKNOWN => "CMD_ACK_UNKNOWN",
        NO_PICTURE => "no picture",
        NO_DATA => "no data",
        super::command::PREPARE_DATA => "CMD_PREPARE_DATA",
        super::command::DATA => "CMD_DATA",
        _ => "reply",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_has_the_expected_kind() {
        assert_eq!(classify(2000), ReplyKind::Ok);
        assert_eq!(classify(2002), ReplyKind::Ok);
        assert_eq!(classify(1500), ReplyKind::PrepareData);
        assert_eq!(classify(1501), ReplyKind::Data);
        assert_eq!(classify(2005), ReplyKind::Unauthorized);
        assert_eq!(classify(0xFFFF), ReplyKind::Unknown);
        assert_eq!(classify(2003), ReplyKind::Busy);
        assert_eq!(classify(4985), ReplyKind::NotFound);
        assert_eq!(classify(2001), ReplyKind::Error);
        assert_eq!(classify(1234), ReplyKind::Error);
    }
}
