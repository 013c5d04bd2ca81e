//! `IDCARD` lines from ID-card readers (`IDCARD PIN=…\tSNNum=…\tIDNum=…\tDNNum=…\tName=…`,
//! ATT-CN 4.0). Optional feature: fields are kept by key, uninterpreted.

use super::fields::KeyValues;

/// An ID-card record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCardRecord {
    /// User PIN.
    pub pin: String,
    /// Every other field as sent (`SNNum`, `IDNum`, `DNNum`, `Name`, …), in line order.
    pub fields: Vec<(String, String)>,
}

/// Parses the fields of an `IDCARD` line.
pub(crate) fn parse_id_card_fields(fields: &str) -> Result<IdCardRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(IdCardRecord { pin: kv.pin()?, fields: kv.others(&["PIN"]) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_card_line_keeps_every_field_but_the_pin() {
        let r = parse_id_card_fields("PIN=7\tSNNum=11\tIDNum=4401\tDNNum=\tName=Li").expect("valid");
        assert_eq!(r.pin, "7");
        assert_eq!(r.fields.len(), 4);
        assert_eq!(r.fields[1], ("IDNum".to_owned(), "4401".to_owned()));
    }
}
