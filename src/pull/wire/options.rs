//! Device options (spec §5.1): CMD_OPTIONS_RRQ `Key\0` → `Key=Value\0`, CMD_OPTIONS_WRQ
//! `Key=Value`. Some clients send keys without the NUL (fpmachine), so readers accept both.

use super::error::WireError;
use super::fields::read_text;

/// Request payload of CMD_OPTIONS_RRQ: the key and a NUL.
pub fn encode_option_request(key: &str) -> Vec<u8> {
    let mut out = key.as_bytes().to_vec();
    out.push(0);
    out
}

/// The key named by a CMD_OPTIONS_RRQ payload (NUL optional).
pub fn decode_option_request(data: &[u8]) -> Result<String, WireError> {
    let key = read_text(data);
    if key.is_empty() {
        return Err(WireError::invalid("option key", "empty"));
    }
    Ok(key)
}

/// Payload `Key=Value\0` (the reply to a read; a write sends the same text, NUL optional).
pub fn encode_option_pair(key: &str, value: &str) -> Vec<u8> {
    let mut out = format!("{key}={value}").into_bytes();
    out.push(0);
    out
}

/// Splits `Key=Value[\0…]` at the first `=`; text stops at the first NUL. A reply without `=`
/// is taken as a bare value with an empty key.
pub fn decode_option_pair(data: &[u8]) -> (String, String) {
    let text = read_text(data);
    match text.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (String::new(), text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::packet::Packet;
    use crate::pull::wire::test_hex::hex;

    #[test]
    fn captured_platform_exchange_decodes_to_key_and_value() {
        // adrobinoga terminal.md: "~Platform\0" -> "~Platform=ZEM760_TFT\0"
        let req = Packet::decode(&hex("0b00b9e6f38d0c007e506c6174666f726d00")).unwrap();
        assert_eq!(req.data, encode_option_request("~Platform"));
        assert_eq!(decode_option_request(&req.data).unwrap(), "~Platform");
        let reply = Packet::decode(&hex("d007714cf38d0c007e506c6174666f726d3d5a454d3736305f54465400")).unwrap();
        assert_eq!(decode_option_pair(&reply.data), ("~Platform".into(), "ZEM760_TFT".into()));
        assert_eq!(reply.data, encode_option_pair("~Platform", "ZEM760_TFT"));
    }

    #[test]
    fn key_without_nul_and_value_with_equals_are_read_whole() {
        assert_eq!(decode_option_request(b"ZKFaceVersion").unwrap(), "ZKFaceVersion");
        assert_eq!(
            decode_option_pair(b"BiometricVersion=0:10.0:7.0=x\0junk"),
            ("BiometricVersion".into(), "0:10.0:7.0=x".into())
        );
        assert!(decode_option_request(b"\0").is_err());
    }
}
