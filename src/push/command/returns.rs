//! What a device's `Return` code means: success or not, in words an admin understands, and whether
//! it marks the verb unsupported on that device (push.md 2.8).

/// Whether a `Return` code means the command did what was asked (push.md 2.8). ENROLL_* use
/// small positive codes for failures; queries and file commands return counts.
pub fn return_is_success(kind: &str, code: i64) -> bool {
    match kind {
        "enroll_fp" | "enroll_bio" => code == 0,
        // `DATA QUERY ATTLOG` answers -1 when the device has no records in the range (capture 09).
        "attlog_query" => code == 0 || code == -1,
        _ => code >= 0,
    }
}

/// What an att-dialect `Return` code means, in words an admin understands (push.md 2.8, ATT-EN App.1).
pub fn att_return_meaning(kind: &str, code: i64) -> &'static str {
    match (kind, code) {
        ("attlog_query", -1) => "no attendance records in that time range",
        ("enroll_fp" | "enroll_bio", 2) => "already enrolled",
        ("enroll_fp" | "enroll_bio", 4) => "enrolment failed: poor quality or inconsistent readings",
        ("enroll_fp" | "enroll_bio", 5) => "this fingerprint is already enrolled for another user",
        ("enroll_fp" | "enroll_bio", 6) => "enrolment cancelled at the device",
        ("enroll_fp" | "enroll_bio", 7) => "device busy",
        (_, 0) => "success",
        (_, c) if c > 0 => "success (count)",
        (_, -1) => "parameter error",
        (_, -2) => "photo data does not match the given size",
        (_, -3) => "device read/write (flash) error",
        (_, -4) => "no matching data",
        (_, -5) => "device storage is full",
        (_, -6) => "data not valid",
        (_, -9) => "template data does not match the given size",
        (_, -10) => "the user (PIN) does not exist on the device",
        (_, -11) => "illegal fingerprint template format",
        (_, -12) => "illegal fingerprint template",
        (_, -22) => "unknown command",
        (_, -30) => "template algorithm version does not match the device",
        (_, -629) => "wrong table name: the device is in access-control (acc) mode",
        (_, -1001) => "device capacity reached",
        (_, -1002) => "not supported by this device (or invalid syntax)",
        (_, -1003) => "command timed out on the device",
        (_, -1004) => "data inconsistent with the device configuration (table not supported)",
        (_, -1005) => "device busy, retry later",
        (_, -1006) => "data too long",
        (_, -1007) => "device memory error",
        (_, -1008) => "the device could not download the file from the server URL",
        _ => "unknown error code",
    }
}

/// What an acc-dialect `return` code means (SEC-CN App.1).
pub fn acc_return_meaning(code: i64) -> &'static str {
    match code {
        c if c >= 0 => "success",
        -1 => "send failed",
        -2 => "no response",
        -3 => "buffer too small",
        -4 => "decompression failed",
        -7 => "duplicate command",
        -8 => "not authorised",
        -9 => "CRC error",
        -10 => "data API parse error",
        -11 => "data parameter error",
        -12 => "execution error",
        -13 => "no such command",
        -14 => "communication password error",
        -19..=-15 => "file I/O error",
        -26 => "fingerprint template length is 0",
        -27 => "fingerprint template PIN not found",
        -30 => "template algorithm version mismatch",
        -108..=-100 => "table structure error",
        -604 => "device out of memory",
        -618 => "bad URL",
        -620 => "bad data format",
        -621 => "field not supported",
        -629 => "wrong table name",
        -630 => "shell command failed",
        -631 => "bad base64 length",
        -632 => "bad file name",
        _ => "unknown error code",
    }
}

/// Codes that mean "this device does not accept this verb at all": the verb is marked
/// unsupported for the device and not queued again.
pub fn marks_unsupported(code: i64) -> bool {
    matches!(code, -1002 | -1004 | -629 | -22)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_codes_have_meanings_and_enroll_codes_are_not_success() {
        assert_eq!(att_return_meaning("user_update", -30), "template algorithm version does not match the device");
        assert!(return_is_success("attlog_query", -1));
        assert!(!return_is_success("user_update", -1));
        assert!(!return_is_success("enroll_fp", 5));
        assert!(return_is_success("user_query", 12));
        assert!(marks_unsupported(-1002) && marks_unsupported(-629) && !marks_unsupported(-10));
        assert_eq!(acc_return_meaning(-629), "wrong table name");
    }
}
