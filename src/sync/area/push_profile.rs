//! PURE: what a push device can take in an area sync, from what it told ironclock (its
//! `options` upload and `INFO=` heartbeat), and the fields of the writes already queued to it.
//!
//! - fingerprints: the ZKFinger major version (`MultiBioVersion` type 1 overrides `FPVersion`,
//!   push.md 2.13; then an acc registry's `~ZKFPVersion`; else the heartbeat's); written as `FINGERTMP` on att devices, as `BIODATA`
//!   (same major version only, which the plan's version gating guarantees) on acc devices and
//!   on att devices that refused FINGERTMP;
//! - faces: ZKFace 7 face sets go as `DATA UPDATE FACE` lines (one per record) to att devices
//!   whose NIR face version is 7 (`MultiBioVersion` type 2 overrides `FaceVersion`, then the
//!   heartbeat's face version; `FaceFunOn=0` turns faces off). Anything else is faceless for area
//!   sync, with the reason: no face support, a face version that is not 7, an unknown version,
//!   an acc device (its face path is `BIODATA` Type=2 rows, which ZKFace 7 records are not), or a
//!   visible-light device (`MultiBioVersion` type 9, `BioPhotoFun`), which enrols the face itself
//!   from the person's photo, sent as `BIOPHOTO` by URL with `PostBackTmpFlag=1`;
//! - photos: `USERPIC` where the device keeps user photos (`PhotoFunOn`, heartbeat bit 3).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::domain::bio_versions::{bio_entry, finger_version, major, nir_face_version, text};
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
    /// The ZKFace version of the face sets it takes as `DATA UPDATE FACE` lines (only ever `7`);
    /// `None`: faces are not written to it, for [`PushProfile::faceless_reason`].
    pub face_version: Option<String>,
    /// Why faces are not written to it (meaningful when `face_version` is `None`).
    pub faceless_reason: String,
}

/// The one face version written to push devices: the `FACE` table's (push.md 2.13).
pub const FACE_TABLE_VERSION: &str = "7";

/// The device's profile. `fingertmp_refused`: it answered FINGERTMP as unsupported before.
pub fn profile(label: &str, dialect: Dialect, options: &Value, poll: &Value, fingertmp_refused: bool) -> PushProfile {
    let fp_version = finger_version(options, poll);
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
    let visible = bio_entry(options, "MultiBioVersion", 9).and_then(|v| major(&v)).is_some()
        || text(options, "BioPhotoFun").as_deref() == Some("1");
    let (face_version, faceless_reason) = faces(label, dialect, options, poll, visible);
    PushProfile {
        fp_version,
        finger_path,
        photos: userpic || visible,
        userpic,
        biophoto: visible,
        face_version,
        faceless_reason,
    }
}

/// The NIR face version it takes `FACE` lines of, or why none.
fn faces(label: &str, dialect: Dialect, options: &Value, poll: &Value, visible: bool) -> (Option<String>, String) {
    let functions = text(poll, "functions").unwrap_or_default();
    let version = nir_face_version(options, poll);
    let vl_version = bio_entry(options, "MultiBioVersion", 9)
        .and_then(|v| major(&v))
        .or_else(|| text(options, "FaceVersion").and_then(|v| major(&v)));
    let off = text(options, "FaceFunOn").as_deref() == Some("0");
    let nir_said = text(options, "FaceFunOn").as_deref() == Some("1") || functions.chars().nth(1) == Some('1');
    let reason = match (&version, dialect) {
        _ if off => format!("{label}: faces are turned off (FaceFunOn=0)"),
        (Some(v), Dialect::Acc) => format!(
            "{label}: an acc device takes NIR faces only as BIODATA Type=2 rows (version {v}), which ZKFace 7 \
             records are not; not written"
        ),
        (Some(v), Dialect::Att) if v == FACE_TABLE_VERSION => return (Some(v.clone()), String::new()),
        (Some(v), Dialect::Att) => {
            format!("{label}: face version {v}, not {FACE_TABLE_VERSION}: only ZKFace 7 faces are written (FACE)")
        }
        (None, _) if visible => format!(
            "{label}: face version {} (visible light), not {FACE_TABLE_VERSION}: visible-light face templates do \
             not copy; it enrols faces from the photo (BIOPHOTO)",
            vl_version.as_deref().unwrap_or("unknown")
        ),
        (None, _) if nir_said => format!("{label}: its face version is unknown (no FaceVersion or MultiBioVersion)"),
        (None, _) => format!("{label}: no face support"),
    };
    (None, reason)
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
        assert_eq!(p.face_version, None);
        assert!(p.faceless_reason.contains("face version is unknown"), "{}", p.faceless_reason);
        let vl = profile("Y", Dialect::Att, &json!({"MultiBioVersion": "0:10:0:0:0:0:0:0:0:58"}), &Value::Null, false);
        assert_eq!(
            vl.faceless_reason,
            "Y: face version 58 (visible light), not 7: visible-light face templates do not copy; it enrols faces \
             from the photo (BIOPHOTO)"
        );
        assert!(vl.photos && vl.biophoto && !vl.userpic && vl.face_version.is_none());
        assert_eq!(profile("Y", Dialect::Att, &json!({}), &Value::Null, false).faceless_reason, "Y: no face support");
    }

    #[test]
    fn nir_face_version_7_devices_take_face_lines_and_the_others_say_why_not() {
        let face = |dialect, options: Value, poll: Value| profile("Y", dialect, &options, &poll, false);
        let mb360 = face(Dialect::Att, json!({"FaceFunOn": "1", "FaceVersion": "7"}), Value::Null);
        assert_eq!(mb360.face_version.as_deref(), Some("7"));
        let multi =
            face(Dialect::Att, json!({"FaceVersion": "9", "MultiBioVersion": "0:10.0:7.0:0:0:0:0:0:0:0"}), Value::Null);
        assert_eq!(multi.face_version.as_deref(), Some("7"), "MultiBioVersion type 2 overrides FaceVersion");
        let beat = face(Dialect::Att, json!({}), json!({"face_version": "7", "functions": "110"}));
        assert_eq!(beat.face_version.as_deref(), Some("7"), "the heartbeat's face version");
        let v12 = face(Dialect::Att, json!({"MultiBioVersion": "0:12:12:0:0:0:0:0:0:0"}), Value::Null);
        assert_eq!(
            (v12.face_version, v12.faceless_reason.as_str()),
            (None, "Y: face version 12, not 7: only ZKFace 7 faces are written (FACE)")
        );
        let acc = face(Dialect::Acc, json!({"FaceVersion": "7"}), Value::Null);
        assert!(acc.face_version.is_none() && acc.faceless_reason.contains("acc device"), "{}", acc.faceless_reason);
        let off = face(Dialect::Att, json!({"FaceFunOn": "0", "FaceVersion": "7"}), Value::Null);
        assert_eq!((off.face_version, off.faceless_reason.as_str()), (None, "Y: faces are turned off (FaceFunOn=0)"));
        let speedface = face(Dialect::Att, json!({"FaceVersion": "39", "BioPhotoFun": "1"}), Value::Null);
        assert!(speedface.faceless_reason.starts_with("Y: face version 39 (visible light), not 7"));
    }

    #[test]
    fn fields_of_a_rendered_payload() {
        let f = fields("DATA UPDATE FINGERTMP PIN=7\tFID=3\tSize=4\tValid=1\tTMP=AAAA");
        assert_eq!((f["pin"].as_str(), f["fid"].as_str(), f["tmp"].as_str()), ("7", "3", "AAAA"));
        let u = fields("DATA UPDATE USERINFO PIN=9\tName=Ann B=C\tPri=0");
        assert_eq!(u["name"], "Ann B=C");
    }
}
