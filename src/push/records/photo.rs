//! `table=ATTPHOTO` uploads (`/iclock/cdata` or `/iclock/fdata`): a few header lines, a NUL,
//! then the JPEG bytes (push.md 2.6 "ATTPHOTO", capture 02). Read as bytes, never as UTF-8.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::fields::preview;
use crate::push::text::decode_body;

/// An attendance photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttPhoto {
    /// `PIN=` header: really a file name, `<YYYYMMDDhhmmss>-<pin>.jpg`.
    pub file_name: String,
    /// User PIN from the file name; `None` for `<YYYYMMDDhhmmss>.jpg` (verification failed).
    pub pin: Option<String>,
    /// The `YYYYMMDDhhmmss` part of the file name (device-local), as sent.
    pub taken_raw: Option<String>,
    /// `SN=` header.
    pub serial: Option<String>,
    /// `size=` header: the byte count the device announced (not enforced).
    pub declared_size: Option<usize>,
    /// `CMD=` header: `uploadphoto`, or `realupload` for the real-time variant.
    pub cmd: Option<String>,
    /// The JPEG bytes (base64-decoded when the device sent `ATTPHOTOBase64=1` text).
    pub jpeg: Vec<u8>,
}

/// Binary ATTPHOTO body (header lines, NUL, bytes); also the base64 variant. Bytes, never UTF-8.
///
/// Headers are `key=value` lines (keys case-insensitive). Without a NUL, the first line that
/// is not a header starts the base64 text. Errors: no `PIN=` file name, or no photo bytes.
pub fn parse_attphoto(body: &[u8]) -> Result<AttPhoto, String> {
    let (header, payload) = match body.iter().position(|&b| b == 0) {
        Some(nul) => (&body[..nul], Payload::Binary(&body[nul + 1..])),
        None => split_text_variant(body),
    };
    let header = decode_body(header, None);
    let mut photo = AttPhoto {
        file_name: String::new(),
        pin: None,
        taken_raw: None,
        serial: None,
        declared_size: None,
        cmd: None,
        jpeg: Vec::new(),
    };
    for line in header.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "pin" => photo.file_name = value.to_owned(),
            "sn" => photo.serial = Some(value.to_owned()).filter(|v| !v.is_empty()),
            "size" => photo.declared_size = value.parse().ok(),
            "cmd" => photo.cmd = Some(value.to_owned()).filter(|v| !v.is_empty()),
            _ => {}
        }
    }
    if photo.file_name.is_empty() {
        return Err("ATTPHOTO without a PIN= file name".to_owned());
    }
    let stem = photo.file_name.rsplit_once('.').map_or(photo.file_name.as_str(), |(stem, _)| stem);
    match stem.split_once('-') {
        Some((taken, pin)) => {
            photo.taken_raw = Some(taken.to_owned()).filter(|t| !t.is_empty());
            photo.pin = Some(pin.to_owned()).filter(|p| !p.is_empty());
        }
        None => photo.taken_raw = Some(stem.to_owned()).filter(|t| !t.is_empty()),
    }
    photo.jpeg = match payload {
        Payload::Binary(bytes) if looks_like_base64(bytes) => decode_base64(bytes)?,
        Payload::Binary(bytes) => bytes.to_vec(),
        Payload::Base64(text) => decode_base64(text)?,
    };
    if photo.jpeg.is_empty() {
        return Err(format!("ATTPHOTO `{}` has no photo bytes", preview(&photo.file_name)));
    }
    Ok(photo)
}

enum Payload<'a> {
    Binary(&'a [u8]),
    Base64(&'a [u8]),
}

/// Without a NUL: header lines while they are `key=value` with a known key, then base64 text.
fn split_text_variant(body: &[u8]) -> (&[u8], Payload<'_>) {
    let mut offset = 0;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let key = text.split_once('=').map(|(k, _)| k.trim().to_ascii_lowercase());
        if !matches!(key.as_deref(), Some("pin" | "sn" | "size" | "cmd")) {
            break;
        }
        offset += line.len();
    }
    (&body[..offset], Payload::Base64(&body[offset..]))
}

/// Text that is all base64 alphabet and whitespace and does not start like a JPEG (`FF D8`).
fn looks_like_base64(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && !bytes.starts_with(&[0xFF, 0xD8])
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n' | b' '))
}

/// Standard alphabet; padding optional (firmware that trims `=` still decodes).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    LENIENT_BASE64.decode(&compact).map_err(|e| format!("ATTPHOTO base64 content is invalid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(len: usize) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x0A, 0x0D, 0x0A, 0x00];
        bytes.resize(len.saturating_sub(2), 0x5A);
        bytes.extend([0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn binary_photo_splits_header_at_the_first_nul_and_keeps_raw_bytes() {
        let photo_bytes = jpeg(64);
        let body =
            [b"PIN=20150731103012-123.jpg\nSN=0316144680030\nsize=64\nCMD=uploadphoto\0".as_slice(), &photo_bytes]
                .concat();
        let photo = parse_attphoto(&body).expect("valid");
        assert_eq!(photo.file_name, "20150731103012-123.jpg");
        assert_eq!(photo.pin.as_deref(), Some("123"));
        assert_eq!(photo.taken_raw.as_deref(), Some("20150731103012"));
        assert_eq!(photo.serial.as_deref(), Some("0316144680030"));
        assert_eq!(photo.declared_size, Some(64));
        assert_eq!(photo.cmd.as_deref(), Some("uploadphoto"));
        assert_eq!(photo.jpeg, photo_bytes);
    }

    #[test]
    fn photo_named_only_by_time_has_no_pin() {
        let body = [b"PIN=20150731103012.jpg\nSN=1\nsize=4\nCMD=realupload\0".as_slice(), &jpeg(4)].concat();
        let photo = parse_attphoto(&body).expect("valid");
        assert_eq!(photo.pin, None);
        assert_eq!(photo.taken_raw.as_deref(), Some("20150731103012"));
        assert_eq!(photo.cmd.as_deref(), Some("realupload"));
    }

    #[test]
    fn base64_photo_without_nul_is_decoded() {
        let photo_bytes = jpeg(30);
        let text = base64::engine::general_purpose::STANDARD.encode(&photo_bytes);
        let body = format!("PIN=20260101080000-7.jpg\r\nSN=X\r\nsize={}\r\nCMD=uploadphoto\r\n{text}\r\n", text.len());
        let photo = parse_attphoto(body.as_bytes()).expect("valid");
        assert_eq!(photo.pin.as_deref(), Some("7"));
        assert_eq!(photo.jpeg, photo_bytes);
    }

    #[test]
    fn base64_photo_after_a_nul_is_decoded() {
        let photo_bytes = jpeg(12);
        let text = base64::engine::general_purpose::STANDARD.encode(&photo_bytes);
        let body = [b"PIN=20260101080000-7.jpg\nCMD=uploadphoto\0".as_slice(), text.as_bytes()].concat();
        assert_eq!(parse_attphoto(&body).expect("valid").jpeg, photo_bytes);
    }

    #[test]
    fn photo_without_file_name_or_bytes_is_an_error() {
        assert!(parse_attphoto(b"SN=1\nsize=3\0abc").is_err());
        assert!(parse_attphoto(b"PIN=20260101080000-7.jpg\nSN=1\nsize=0\0").is_err());
        assert!(parse_attphoto(b"").is_err());
    }
}
