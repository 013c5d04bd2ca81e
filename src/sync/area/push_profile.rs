//! PURE: what a push device can take in an area sync, from what it told ironclock (its
//! `options` upload and `INFO=` heartbeat), and the fields of the writes already queued to it.
//!
//! - fingerprints: the ZKFinger major version (`MultiBioVersion` type 1 overrides `FPVersion`,
//!   push.md 2.13; then an acc registry's `~ZKFPVersion`; else the heartbeat's); written as `FINGERTMP` on att devices, as `BIODATA`
//!   (same major version only, which the plan's version gating guarantees) on acc devices and
//!   on att devices that refused FINGERTMP;
//! - faces: face templates are not written to push devices yet (the skip says why); a
//!   visible-light device (`MultiBioVersion` type 9, `BioPhotoFun`) enrols the face itself from
//!   the person's photo, sent as `BIOPHOTO` by URL with `PostBackTmpFlag=1`;
//! - photos: `USERPIC` where the device keeps user photos (`PhotoFunOn`, heartbeat bit 3).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::domain::Dialect;

/// How fingerprints reach the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FingerPath {
    /// `DATA UPDATE FINGERTMP` (att).
    FingerTmp,
    /// `DATA UPDATE BIODATA` (acc: `biodata`) with this MajorVer.
    BioData(String),
    /// Not at all, and why.
    None(String),
}

/// A push device's abilities as far as area sync is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushProfile {
    pub fp_version: Option<String>,
    pub finger_path: FingerPath,
    /// Takes photos at all (as `USERPIC`, `BIOPHOTO` or both).
    pub photos: bool,
    pub userpic: bool,
    /// Visible-light face device: the photo goes as `BIOPHOTO` (Type 9) by URL too.
    pub biophoto: bool,
    /// Why faces are not written to it (always set: push face writes are not built yet).
    pub faceless_reason: String,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `10.0` → `10`; `` → `None`; `0` → `None` (type not supported).
fn major(v: &str) -> Option<String> {
    let m = v.trim().split('.').next()?.trim();
    (!m.is_empty() && m != "0" && m.chars().all(|c| c.is_ascii_digit())).then(|| m.to_string())
}

/// The entry of a colon list (`MultiBioVersion`, `MultiBioDataSupport`) for bio type `ty`.
fn bio_entry(v: &Value, key: &str, ty: usize) -> Option<String> {
    text(v, key)?.split(':').nth(ty).map(str::to_string)
}

/// The device's profile. `fingertmp_refused`: it answered FINGERTMP as unsupported before.
pub fn profile(label: &str, dialect: Dialect, options: &Value, poll: &Value, fingertmp_refused: bool) -> PushProfile {
    let fp_version = bio_entry(options, "MultiBioVersion", 1)
        .and_then(|v| major(&v))
        .or_else(|| text(options, "FPVersion").and_then(|v| major(&v)))
        .or_else(|| text(options, "~ZKFPVersion").and_then(|v| major(&v)))
        .or_else(|| text(poll, "fp_version").and_then(|v| major(&v)));
    let functions = text(poll, "functions").unwrap_or_default();
    let bit = |i: usize| functions.chars().nth(i) == Some('1');
    let biodata = text(options, "BioDataFun").as_deref() == Some("1")
        || bio_entry(options, "MultiBioDataSupport", 1).as_deref() == Some("1")
        || bit(4);
    let finger_path = match (&fp_version, dialect) {
        (None, _) => FingerPath::None(format!("{label}: its fingerprint algorithm version is unknown")),
        (Some(v), Dialect::Acc) => FingerPath::BioData(v.clone()),
        (Some(v), Dialect::Att) if fingertmp_refused && biodata => FingerPath::BioData(v.clone()),
        (Some(_), Dialect::Att) if fingertmp_refused => {
            FingerPath::None(format!("{label}: refused FINGERTMP and takes no BIODATA"))
        }
        (Some(_), Dialect::Att) => FingerPath::FingerTmp,
    };
    let userpic = text(options, "PhotoFunOn").as_deref() == Some("1") || bit(2);
    let nir = text(options, "FaceFunOn").as_deref() == Some("1") || text(poll, "face_version").is_some() || bit(1);
    let visible = bio_entry(options, "MultiBioVersion", 9).and_then(|v| major(&v)).is_some()
        || text(options, "BioPhotoFun").as_deref() == Some("1");
    let faceless_reason = if visible {
        format!("{label}: visible-light face templates do not copy; it enrols faces from the photo (BIOPHOTO)")
    } else if nir {
        format!("{label}: faces are not yet written to push devices (FACE)")
    } else {
        format!("{label}: no face support")
    };
    PushProfile { fp_version, finger_path, photos: userpic || visible, userpic, biophoto: visible, faceless_reason }
}

/// The `key=value` fields of a command payload as ironclock rendered it (`DATA UPDATE FINGERTMP
/// PIN=1\tFID=0\t…`), keys lower-cased.
pub fn fields(payload: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, part) in payload.split('\t').enumerate() {
        let Some((key, value)) = part.split_once('=') else { continue };
        let key = if i == 0 { key.rsplit(' ').next().unwrap_or(key) } else { key };
        out.insert(key.trim().to_ascii_lowercase(), value.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn multibioversion_overrides_fpversion_and_acc_devices_take_biodata() {
        let opts = json!({"FPVersion": "10", "MultiBioVersion": "0:12.0:0:0:0:0:0:0:0:0"});
        let p = profile("Y", Dialect::Att, &opts, &Value::Null, false);
        assert_eq!((p.fp_version.as_deref(), &p.finger_path), (Some("12"), &FingerPath::FingerTmp));
        let acc = profile("Y", Dialect::Acc, &json!({"~ZKFPVersion": "10"}), &Value::Null, false);
        assert_eq!(acc.finger_path, FingerPath::BioData("10".into()));
        let refused = profile("Y", Dialect::Att, &json!({"FPVersion": "10", "BioDataFun": "1"}), &Value::Null, true);
        assert_eq!(refused.finger_path, FingerPath::BioData("10".into()));
        let unknown = profile("Y", Dialect::Att, &json!({}), &Value::Null, false);
        assert!(matches!(unknown.finger_path, FingerPath::None(ref r) if r.contains("unknown")));
    }

    #[test]
    fn the_heartbeat_fills_in_and_faces_say_why_they_are_not_sent() {
        let p = profile("Y", Dialect::Att, &json!({}), &json!({"fp_version": "10", "functions": "111"}), false);
        assert_eq!(p.fp_version.as_deref(), Some("10"));
        assert!(p.photos);
        assert!(p.faceless_reason.contains("FACE"), "{}", p.faceless_reason);
        let vl = profile("Y", Dialect::Att, &json!({"MultiBioVersion": "0:10:0:0:0:0:0:0:0:58"}), &Value::Null, false);
        assert!(vl.faceless_reason.contains("BIOPHOTO"));
        assert!(vl.photos && vl.biophoto && !vl.userpic);
        assert_eq!(profile("Y", Dialect::Att, &json!({}), &Value::Null, false).faceless_reason, "Y: no face support");
    }

    #[test]
    fn fields_of_a_rendered_payload() {
        let f = fields("DATA UPDATE FINGERTMP PIN=7\tFID=3\tSize=4\tValid=1\tTMP=AAAA");
        assert_eq!((f["pin"].as_str(), f["fid"].as_str(), f["tmp"].as_str()), ("7", "3", "AAAA"));
        let u = fields("DATA UPDATE USERINFO PIN=9\tName=Ann B=C\tPri=0");
        assert_eq!(u["name"], "Ann B=C");
    }
}
