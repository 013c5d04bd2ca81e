//! The acc dialect's request token: after registration the firmware sends
//! `Cookie: token=hex(MD5(RegistryCode + SN + SessionID))` (SEC-CN 7.4-7.5; capture 04).

use md5::{Digest, Md5};

/// `hex(MD5(registry_code + serial + session_id))`, lower-case.
pub fn expected_token(registry_code: &str, serial: &str, session_id: &str) -> String {
    let digest = Md5::new().chain_update(registry_code).chain_update(serial).chain_update(session_id).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `token` of a `Cookie` header (`token=…`, among other cookies or alone), if any.
pub fn cookie_token(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("token"))
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether `sent` is the token of this registration (hex compared case-insensitively).
pub fn token_matches(sent: &str, registry_code: &str, serial: &str, session_id: &str) -> bool {
    let expected = expected_token(registry_code, serial, session_id);
    sent.len() == expected.len()
        && sent.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a.to_ascii_lowercase() ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_the_md5_of_code_serial_and_session() {
        // md5("abc") is the RFC 1321 test vector.
        assert_eq!(expected_token("a", "b", "c"), "900150983cd24fb0d6963f7d28e17f72");
        assert!(token_matches("900150983CD24FB0D6963F7D28E17F72", "a", "b", "c"));
        assert!(!token_matches("900150983cd24fb0d6963f7d28e17f73", "a", "b", "c"));
    }

    #[test]
    fn the_token_is_read_among_other_cookies() {
        assert_eq!(cookie_token("token=9d41643bfba01fe8b49143c21defc20a"), Some("9d41643bfba01fe8b49143c21defc20a"));
        assert_eq!(cookie_token("JSESSIONID=30BF; token=abc"), Some("abc"));
        assert_eq!(cookie_token("JSESSIONID=30BF"), None);
        assert_eq!(cookie_token("token="), None);
    }
}
