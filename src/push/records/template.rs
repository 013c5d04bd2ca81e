//! Biometric template lines: `FP`, `FACE`, `FVEIN` (OPERLOG) and `BIODATA` (OPERLOG or
//! `table=BIODATA`), read by key (ATT-EN §11.9–11.12). Templates stay base64 text.

use super::fields::KeyValues;

/// `FP PIN=…\tFID=…\tSize=…\tValid=…\tTMP=…`: fingerprint, algorithm ≤ 10 (or FINGERTMP reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintRecord {
    /// User PIN.
    pub pin: String,
    /// Finger 0–9.
    pub fid: i32,
    /// `Size`: length of the base64 text, as declared.
    pub size: Option<usize>,
    /// 0 invalid, 1 normal, 3 duress.
    pub valid: Option<i32>,
    /// `TMP`: base64 template (v10 starts `…TUzIx…`, v9 starts `oco`).
    pub template: String,
}

/// `FACE PIN=…\tFID=…\tSIZE=…\tVALID=…\tTMP=…`: legacy NIR face (FaceVersion 7), ~12 FIDs per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceRecord {
    /// User PIN.
    pub pin: String,
    /// Face template number; 0 when the line has no FID (PUSHSDK 3.2.0 example, capture 15).
    pub fid: i32,
    /// `SIZE` / `Size`.
    pub size: Option<usize>,
    /// `VALID` / `Valid`.
    pub valid: Option<i32>,
    /// `TMP`: base64 (16 arbitrary bytes + raw template).
    pub template: String,
}

/// `FVEIN Pin=…\tFID=…\tIndex=…\tSize=…\tValid=…\tTmp=…`: finger vein.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerVeinRecord {
    /// User PIN.
    pub pin: String,
    /// Finger 0–9.
    pub fid: i32,
    /// Template number within the finger (0–2).
    pub index: Option<i32>,
    /// Declared base64 length.
    pub size: Option<usize>,
    /// Validity flag.
    pub valid: Option<i32>,
    /// `Tmp`: base64 template.
    pub template: String,
}

/// `BIODATA Pin=…\tNo=…\tIndex=…\tValid=…\tDuress=…\tType=…\tMajorVer=…\tMinorVer=…\tFormat=…\tTmp=…`:
/// unified template (push.md 2.6, 2.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BioDataRecord {
    /// User PIN.
    pub pin: String,
    /// Biometric number: finger 0–9, face 0, iris/palm 0 left 1 right.
    pub no: i32,
    /// Template number within one biometric (NIR face rows 0..14).
    pub index: i32,
    /// 0/1.
    pub valid: Option<i32>,
    /// 0/1.
    pub duress: Option<i32>,
    /// Bio type (2.13): 1 fingerprint, 2 NIR face, 7 finger vein, 8 palm vein, 9 VL face …
    pub bio_type: i32,
    /// Algorithm major version as sent (`13`, `39`, `12`).
    pub major_ver: Option<String>,
    /// Algorithm minor version as sent.
    pub minor_ver: Option<String>,
    /// 0 ZK, 1 ISO, 2 ANSI. Numeric only (`Format=ZK` is a server bug that devices refuse, capture 10).
    pub format: Option<i32>,
    /// `Tmp`: base64 template.
    pub template: String,
}

const TEMPLATE: &[&str] = &["TMP"];

/// Parses the fields of an `FP` line.
pub(crate) fn parse_fingerprint_fields(fields: &str) -> Result<FingerprintRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(FingerprintRecord {
        pin: kv.pin()?,
        fid: kv.required_number(&["FID"])?,
        size: kv.number(&["Size"])?,
        valid: kv.number(&["Valid"])?,
        template: kv.required_non_empty(TEMPLATE)?,
    })
}

/// Parses the fields of a `FACE` line.
pub(crate) fn parse_face_fields(fields: &str) -> Result<FaceRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(FaceRecord {
        pin: kv.pin()?,
        // Capture 15 (PUSHSDK 3.2.0) shows `FACE PIN=1002\tSize=3052\tValid=1\tTMP=…` with no FID.
        fid: kv.number(&["FID"])?.unwrap_or(0),
        size: kv.number(&["Size"])?,
        valid: kv.number(&["Valid"])?,
        template: kv.required_non_empty(TEMPLATE)?,
    })
}

/// Parses the fields of an `FVEIN` line.
pub(crate) fn parse_finger_vein_fields(fields: &str) -> Result<FingerVeinRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(FingerVeinRecord {
        pin: kv.pin()?,
        fid: kv.required_number(&["FID"])?,
        index: kv.number(&["Index"])?,
        size: kv.number(&["Size"])?,
        valid: kv.number(&["Valid"])?,
        template: kv.required_non_empty(TEMPLATE)?,
    })
}

/// Parses the fields of a `BIODATA` line (tag already removed).
pub(crate) fn parse_biodata_fields(fields: &str) -> Result<BioDataRecord, String> {
    let kv = KeyValues::parse(fields)?;
    Ok(BioDataRecord {
        pin: kv.pin()?,
        no: kv.required_number(&["No"])?,
        index: kv.required_number(&["Index"])?,
        valid: kv.number(&["Valid"])?,
        duress: kv.number(&["Duress"])?,
        bio_type: kv.required_number(&["Type"])?,
        major_ver: kv.text(&["MajorVer"]),
        minor_ver: kv.text(&["MinorVer"]),
        format: kv.number(&["Format"])?,
        template: kv.required_non_empty(TEMPLATE)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_line_reads_pin_fid_size_valid_and_template() {
        let r = parse_fingerprint_fields("PIN=2\tFID=0\tSize=1124\tValid=1\tTMP=SghTUzIxAAADS00E").expect("valid");
        assert_eq!(
            r,
            FingerprintRecord {
                pin: "2".into(),
                fid: 0,
                size: Some(1124),
                valid: Some(1),
                template: "SghTUzIxAAADS00E".into()
            }
        );
    }

    #[test]
    fn fingerprint_with_doubled_equals_after_pin_is_rejected() {
        let err = parse_fingerprint_fields("PIN==1\tFID=0\tSize=1120\tValid=1\tTMP=AAAA").expect_err("glitch");
        assert!(err.contains("PIN"), "{err}");
    }

    #[test]
    fn fingerprint_without_fid_or_template_is_rejected() {
        assert!(parse_fingerprint_fields("PIN=2\tSize=1\tValid=1\tTMP=A").is_err());
        assert!(parse_fingerprint_fields("PIN=2\tFID=1\tSize=1\tValid=1\tTMP=").is_err());
        assert!(parse_fingerprint_fields("PIN=2\tFID=one\tTMP=A").is_err());
    }

    #[test]
    fn face_line_with_upper_case_size_and_valid_parses() {
        let r = parse_face_fields("PIN=306\tFID=2\tSIZE=1648\tVALID=1\tTMP=AAAAAAAAAAAA").expect("valid");
        assert_eq!((r.pin.as_str(), r.fid, r.size, r.valid), ("306", 2, Some(1648), Some(1)));
    }

    #[test]
    fn face_line_without_fid_defaults_to_zero() {
        let r = parse_face_fields("PIN=1002\tSize=3052\tValid=1\tTMP=SDFG").expect("valid");
        assert_eq!(r.fid, 0);
    }

    #[test]
    fn finger_vein_line_reads_index() {
        let r = parse_finger_vein_fields("Pin=306\tFID=2\tIndex=0\tSize=1648\tValid=1\tTmp=AAAA").expect("valid");
        assert_eq!((r.fid, r.index, r.size), (2, Some(0), Some(1648)));
    }

    #[test]
    fn biodata_line_with_pin_and_tmp_spelling_parses() {
        let r = parse_biodata_fields(
            "Pin=9995\tNo=7\tIndex=0\tValid=1\tDuress=0\tType=1\tMajorVer=13\tMinorVer=0\tFormat=0\tTmp=apUB",
        )
        .expect("valid");
        assert_eq!(
            r,
            BioDataRecord {
                pin: "9995".into(),
                no: 7,
                index: 0,
                valid: Some(1),
                duress: Some(0),
                bio_type: 1,
                major_ver: Some("13".into()),
                minor_ver: Some("0".into()),
                format: Some(0),
                template: "apUB".into(),
            }
        );
    }

    #[test]
    fn biodata_with_lower_case_acc_keys_parses() {
        let r = parse_biodata_fields(
            "pin=2\tno=0\tindex=3\tvalid=1\tduress=0\ttype=9\tmajorver=5\tminorver=8\tformat=0\ttmp=QQ",
        )
        .expect("valid");
        assert_eq!((r.no, r.index, r.bio_type), (0, 3, 9));
        assert_eq!(r.major_ver.as_deref(), Some("5"));
    }

    #[test]
    fn biodata_with_a_non_numeric_format_or_missing_type_is_rejected() {
        assert!(parse_biodata_fields("Pin=1\tNo=6\tIndex=0\tType=1\tFormat=ZK\tTmp=A").is_err());
        assert!(parse_biodata_fields("Pin=1\tNo=6\tIndex=0\tTmp=A").is_err());
    }
}
