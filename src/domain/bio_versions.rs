//! PURE: the biometric algorithm versions a push device declares, read from what it told
//! ironclock (its `options` upload or acc registry, and its last `INFO=` heartbeat as stored).
//! One reading for everyone: area sync gates writes on them, and an upload's templates are
//! kept as master copies of that version (push.md 2.13).

use serde_json::Value;

/// A non-empty option value as text (numbers too).
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `10.0` → `10`; `` → `None`; `0` → `None` (type not supported).
pub fn major(v: &str) -> Option<String> {
    let m = v.trim().split('.').next()?.trim();
    (!m.is_empty() && m != "0" && m.chars().all(|c| c.is_ascii_digit())).then(|| m.to_string())
}

/// The entry of a colon list (`MultiBioVersion`, `MultiBioDataSupport`) for bio type `ty`.
pub fn bio_entry(v: &Value, key: &str, ty: usize) -> Option<String> {
    text(v, key)?.split(':').nth(ty).map(str::to_string)
}

/// The ZKFinger major version: `MultiBioVersion` type 1 overrides `FPVersion`, then an acc
/// registry's `~ZKFPVersion`, else the heartbeat's; `None` when the device never said.
pub fn finger_version(options: &Value, poll: &Value) -> Option<String> {
    bio_entry(options, "MultiBioVersion", 1)
        .and_then(|v| major(&v))
        .or_else(|| text(options, "FPVersion").and_then(|v| major(&v)))
        .or_else(|| text(options, "~ZKFPVersion").and_then(|v| major(&v)))
        .or_else(|| text(poll, "fp_version").and_then(|v| major(&v)))
}

/// The device's NIR face version, if it said: with `MultiBioVersion` its type-2 entry (0: none);
/// else `FaceVersion`, else the heartbeat's, but only on a device that is not a visible-light
/// one (a SpeedFace reports `FaceVersion=39`, its VL algorithm).
pub fn nir_face_version(options: &Value, poll: &Value) -> Option<String> {
    if text(options, "MultiBioVersion").is_some() {
        return bio_entry(options, "MultiBioVersion", 2).and_then(|v| major(&v));
    }
    let visible = text(options, "BioPhotoFun").as_deref() == Some("1");
    let flat = text(options, "FaceVersion").or_else(|| text(poll, "face_version"));
    flat.filter(|_| !visible).and_then(|v| major(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_finger_version_follows_the_order_of_precedence() {
        let none = Value::Null;
        assert_eq!(
            finger_version(&json!({"FPVersion": "10", "MultiBioVersion": "0:12.0:0"}), &none).as_deref(),
            Some("12")
        );
        assert_eq!(finger_version(&json!({"FPVersion": "10.0"}), &none).as_deref(), Some("10"));
        assert_eq!(finger_version(&json!({"~ZKFPVersion": 10}), &none).as_deref(), Some("10"));
        assert_eq!(finger_version(&json!({}), &json!({"fp_version": "9"})).as_deref(), Some("9"));
        assert_eq!(finger_version(&json!({"FPVersion": "0"}), &none), None, "0: no fingerprint algorithm");
        assert_eq!(finger_version(&none, &none), None);
    }
}
