//! Character encoding of text bodies and outgoing values (push.md 2.11).
//!
//! Attendance-dialect firmware sends names in GB2312 when the device language is
//! Simplified Chinese (`language=83`) and UTF-8 otherwise; the vendor's own server
//! decoded GB18030 first (capture 14). GBK is the superset `encoding_rs` offers for both.

use encoding_rs::{EncoderResult, GBK};

/// Device language code of Simplified Chinese (ATT-EN App.2): bodies are GB2312, not UTF-8.
pub const LANGUAGE_SIMPLIFIED_CHINESE: &str = "83";

/// True when `language` is the Simplified Chinese code (surrounding whitespace ignored).
fn is_chinese(language: Option<&str>) -> bool {
    language.is_some_and(|l| l.trim() == LANGUAGE_SIMPLIFIED_CHINESE)
}

/// Decodes a text body: GBK when `language` is "83" (Simplified Chinese devices send GB2312),
/// else UTF-8, falling back to GBK when the bytes are not valid UTF-8 (spec 2.11).
///
/// Never fails: bytes that are invalid in the chosen encoding become U+FFFD.
/// A leading UTF-8 byte-order mark is dropped.
pub fn decode_body(bytes: &[u8], language: Option<&str>) -> String {
    if !is_chinese(language) {
        let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if let Ok(text) = std::str::from_utf8(without_bom) {
            return text.to_owned();
        }
    }
    let (text, _had_errors) = GBK.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// Encodes an outgoing value for a device (GBK for language 83, else UTF-8).
///
/// Characters GBK cannot represent become `?` (never an HTML entity, which a device
/// would show literally).
pub fn encode_for_device(text: &str, language: Option<&str>) -> Vec<u8> {
    if !is_chinese(language) {
        return text.as_bytes().to_vec();
    }
    let mut encoder = GBK.new_encoder();
    // GBK needs at most 2 bytes per char; a `?` replaces anything unmappable.
    let capacity = text.chars().count().saturating_mul(2).saturating_add(8);
    let mut out = vec![0u8; capacity];
    let mut written_total = 0;
    let mut rest = text;
    loop {
        let (result, read, written) =
            encoder.encode_from_utf8_without_replacement(rest, &mut out[written_total..], true);
        written_total += written;
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => break,
            EncoderResult::Unmappable(_) => {
                if written_total >= out.len() {
                    out.resize(out.len() + 8, 0);
                }
                out[written_total] = b'?';
                written_total += 1;
            }
            EncoderResult::OutputFull => out.resize(out.len() * 2 + 8, 0),
        }
    }
    out.truncate(written_total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_name_encoded_with_gbk_decodes_back_for_language_83() {
        let name = "张三丰";
        let (gbk, _, unmappable) = GBK.encode(name);
        assert!(!unmappable);
        assert_eq!(gbk.as_ref(), [0xD5, 0xC5, 0xC8, 0xFD, 0xB7, 0xE1]);
        assert_eq!(decode_body(&gbk, Some("83")), name);
    }

    #[test]
    fn gbk_bytes_from_a_device_without_language_fall_back_to_gbk() {
        let line = [b"USER PIN=7\tName=".as_slice(), &[0xC0, 0xEE, 0xCB, 0xC4]].concat();
        assert_eq!(decode_body(&line, None), "USER PIN=7\tName=李四");
        assert_eq!(decode_body(&line, Some("69")), "USER PIN=7\tName=李四");
    }

    #[test]
    fn valid_utf8_is_decoded_as_utf8_for_non_chinese_languages() {
        let body = "USER PIN=1\tName=José Núñez";
        assert_eq!(decode_body(body.as_bytes(), Some("69")), body);
        assert_eq!(decode_body(body.as_bytes(), None), body);
    }

    #[test]
    fn utf8_byte_order_mark_is_dropped() {
        assert_eq!(decode_body(b"\xEF\xBB\xBFOK", None), "OK");
    }

    #[test]
    fn outgoing_name_is_gbk_for_language_83_and_utf8_otherwise() {
        assert_eq!(encode_for_device("王五", Some("83")), vec![0xCD, 0xF5, 0xCE, 0xE5]);
        assert_eq!(encode_for_device("王五", Some("69")), "王五".as_bytes());
        assert_eq!(encode_for_device("王五", None), "王五".as_bytes());
    }

    #[test]
    fn characters_outside_gbk_become_question_marks_not_entities() {
        let encoded = encode_for_device("A😀B王", Some("83"));
        assert_eq!(encoded, vec![b'A', b'?', b'B', 0xCD, 0xF5]);
    }

    #[test]
    fn gbk_round_trip_of_a_long_name_survives_buffer_growth() {
        let name = "张".repeat(500) + "abc";
        let encoded = encode_for_device(&name, Some(" 83 "));
        assert_eq!(encoded.len(), 1003);
        assert_eq!(decode_body(&encoded, Some("83")), name);
    }
}
