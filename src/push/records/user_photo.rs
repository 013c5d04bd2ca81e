//! Photos of a user inside OPERLOG bodies: `USERPIC` (user photo, ATT-EN §11.13) and
//! `BIOPHOTO` (comparison / enrolment photo, §11.15). Content stays base64 text.

use super::fields::KeyValues;

/// `USERPIC PIN=…\tFileName=….jpg\tSize=…\tContent=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPicRecord {
    /// User PIN.
    pub pin: String,
    /// `FileName`, e.g. `123.jpg`.
    pub file_name: Option<String>,
    /// Declared base64 length.
    pub size: Option<usize>,
    /// `Content`: base64 JPEG.
    pub content: String,
}

/// `BIOPHOTO PIN=…\tFileName=…\tType=…\tSize=…\tContent=…`; real firmware also sends
/// `No=` and `Index=` in another order (capture 16), hence parsing by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BioPhotoRecord {
    /// User PIN.
    pub pin: String,
    /// `FileName`.
    pub file_name: Option<String>,
    /// `Type`: bio type (9 = visible-light face).
    pub bio_type: Option<i32>,
    /// `No`.
    pub no: Option<i32>,
    /// `Index`.
    pub index: Option<i32>,
    /// Declared size.
    pub size: Option<usize>,
    /// `Content`: base64 JPEG.
    pub content: String,
}

const CONTENT: &[&str] = &["Content"];

/// Parses the fields of a `USERPIC` line.
pub(crate) fn parse_user_pic_fields(fields: &str) -> Result<UserPicRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(UserPicRecord {
        pin: kv.pin()?,
        file_name: kv.text(&["FileName"]),
        size: kv.number(&["Size"])?,
        content: kv.required_non_empty(CONTENT)?,
    })
}

/// Parses the fields of a `BIOPHOTO` line.
pub(crate) fn parse_bio_photo_fields(fields: &str) -> Result<BioPhotoRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(BioPhotoRecord {
        pin: kv.pin()?,
        file_name: kv.text(&["FileName"]),
        bio_type: kv.number(&["Type"])?,
        no: kv.number(&["No"])?,
        index: kv.number(&["Index"])?,
        size: kv.number(&["Size"])?,
        content: kv.required_non_empty(CONTENT)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_pic_line_reads_file_name_size_and_content() {
        let r = parse_user_pic_fields("PIN=123\tFileName=123.jpg\tSize=10\tContent=AAAAAAAAA=").expect("valid");
        assert_eq!(
            r,
            UserPicRecord {
                pin: "123".into(),
                file_name: Some("123.jpg".into()),
                size: Some(10),
                content: "AAAAAAAAA=".into()
            }
        );
    }

    #[test]
    fn bio_photo_in_real_firmware_field_order_parses_by_key() {
        let r =
            parse_bio_photo_fields("PIN=9995\tNo=0\tIndex=0\tFileName=9995.jpg\tType=9\tSize=5120\tContent=/9j/4AAQ")
                .expect("valid");
        assert_eq!(
            r,
            BioPhotoRecord {
                pin: "9995".into(),
                file_name: Some("9995.jpg".into()),
                bio_type: Some(9),
                no: Some(0),
                index: Some(0),
                size: Some(5120),
                content: "/9j/4AAQ".into(),
            }
        );
    }

    #[test]
    fn photo_without_content_is_rejected() {
        assert!(parse_user_pic_fields("PIN=1\tFileName=1.jpg\tSize=0").is_err());
        assert!(parse_bio_photo_fields("PIN=1\tType=9\tContent=").is_err());
    }
}
