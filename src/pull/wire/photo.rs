//! User photo file names (spec §12): `<user_id>.jpg\0` for read (10010) and delete (10011), and
//! the name NUL-padded to 39 bytes + 4 zero bytes (43 B) for write (10009).

use super::error::WireError;
use super::fields::read_text;

/// Length of the cmd 10009 payload.
pub const SET_PHOTO_PAYLOAD_LEN: usize = 43;

fn file_name(user_id: &str) -> Result<String, WireError> {
    if user_id.is_empty() || user_id.contains(['\0', '/']) {
        return Err(WireError::invalid("user_id", "empty or not a plain file name"));
    }
    Ok(format!("{user_id}.jpg"))
}

/// Payload of cmds 10010/10011: `"<user_id>.jpg\0"`.
pub fn encode_photo_name(user_id: &str) -> Result<Vec<u8>, WireError> {
    let mut out = file_name(user_id)?.into_bytes();
    out.push(0);
    Ok(out)
}

/// Payload of cmd 10009: the name padded with NUL to 39 bytes, then 4 zero bytes.
pub fn encode_photo_set(user_id: &str) -> Result<[u8; SET_PHOTO_PAYLOAD_LEN], WireError> {
    let name = file_name(user_id)?;
    if name.len() > 38 {
        return Err(WireError::invalid("user_id", "photo file name longer than 38 bytes"));
    }
    let mut out = [0u8; SET_PHOTO_PAYLOAD_LEN];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

/// The user id named by any of the three payloads (text up to the first NUL, `.jpg` removed).
pub fn decode_photo_name(data: &[u8]) -> Result<String, WireError> {
    let name = read_text(data);
    match name.strip_suffix(".jpg") {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(WireError::invalid("photo name", format!("{name:?} is not <user_id>.jpg"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_payloads_have_the_documented_shapes() {
        assert_eq!(encode_photo_name("1001").unwrap(), b"1001.jpg\0");
        let set = encode_photo_set("1001").unwrap();
        assert_eq!(&set[..9], b"1001.jpg\0");
        assert!(set[8..].iter().all(|&b| b == 0));
        assert_eq!(decode_photo_name(&set).unwrap(), "1001");
        assert_eq!(decode_photo_name(b"1001.jpg\0").unwrap(), "1001");
        assert!(decode_photo_name(b"ad_1.png\0").is_err());
        assert!(encode_photo_name("../x").is_err());
    }
}
