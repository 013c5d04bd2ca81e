//! `OPLOG` lines of an OPERLOG body: positional operation-log entries
//! (`OPLOG ${OpType}\t${OpWho}\t${OpTime}\t${Value1}\t${Value2}\t${Value3}\t${Reserved}`, ATT-EN §11.4).

use super::fields::strip_trailing_tab;

/// One operation-log entry. OpType 9 (delete user) and 10 (delete FP) are how deletions
/// made on the device become visible (push.md 2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpLogRecord {
    /// OpType (Appendix 3): 0 startup, 4 menu, 6 enroll FP, 9 delete user, 10 delete FP, 70 …
    pub op_type: i32,
    /// OpWho: the operator (admin PIN, `0` for the device itself).
    pub operator: String,
    /// OpTime exactly as sent (device-local).
    pub time_raw: String,
    /// Value1, Value2, Value3, Reserved… as sent (meaning depends on OpType, Appendix 4).
    pub values: Vec<String>,
    /// The whole line, tag included.
    pub raw: String,
}

/// Parses the fields after the `OPLOG ` tag; `raw` is the whole line.
/// OpType must be a number; operator and time must be present.
pub(crate) fn parse_oplog_fields(fields: &str, raw: &str) -> Result<OpLogRecord, String> {
    let fields: Vec<&str> = strip_trailing_tab(fields).split('\t').collect();
    let op_type_text = fields.first().map(|f| f.trim()).unwrap_or_default();
    let op_type = op_type_text.parse().map_err(|_| format!("OPLOG type `{op_type_text}` is not a number"))?;
    let operator = fields.get(1).map(|f| f.trim()).ok_or("OPLOG without operator")?;
    let time_raw = fields.get(2).filter(|t| !t.trim().is_empty()).ok_or("OPLOG without time")?;
    Ok(OpLogRecord {
        op_type,
        operator: operator.to_owned(),
        time_raw: (*time_raw).to_owned(),
        values: fields.iter().skip(3).map(|v| (*v).to_owned()).collect(),
        raw: raw.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_oplog_line_parses_type_operator_time_and_values() {
        let raw = "OPLOG 4\t14\t2015-07-30 10:22:34\t0\t0\t0\t0";
        let r = parse_oplog_fields("4\t14\t2015-07-30 10:22:34\t0\t0\t0\t0", raw).expect("valid");
        assert_eq!(r.op_type, 4);
        assert_eq!(r.operator, "14");
        assert_eq!(r.time_raw, "2015-07-30 10:22:34");
        assert_eq!(r.values, vec!["0", "0", "0", "0"]);
        assert_eq!(r.raw, raw);
    }

    #[test]
    fn oplog_with_trailing_tab_drops_only_that_tab() {
        let r = parse_oplog_fields("70\t0\t2026-09-14 19:05:35\t2\t0\t0\t0\t", "").expect("valid");
        assert_eq!(r.values, vec!["2", "0", "0", "0"]);
    }

    #[test]
    fn oplog_without_a_numeric_type_or_time_is_rejected() {
        assert!(parse_oplog_fields("x\t0\t2026-01-01 00:00:00", "").is_err());
        assert!(parse_oplog_fields("4\t0", "").is_err());
        assert!(parse_oplog_fields("4\t0\t", "").is_err());
        assert!(parse_oplog_fields("", "").is_err());
    }
}
