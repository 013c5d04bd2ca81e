//! Conversion from parsed push records to domain values ready to store: local times to UTC in
//! the device's zone with implausible clocks flagged, templates and photos sealed.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use crate::crypto::DataCipher;
use crate::domain::biometric::{BiometricCopy, BiometricKind, SealedBiometric};
use crate::domain::face_lines::record_from_line;
use crate::domain::punch::read_clock;
use crate::domain::{DeviceEventReport, NewPunch, OperlogBatch, PhotoReport, RejectedLine, TemplateReport, UserReport};
use crate::domain::{Pin, PunchSource};
use crate::push::records::attlog::AttLogRecord;
use crate::push::records::operlog::{parse_operlog_line, BioDataRecord, OperLogRecord, UserRecord};
use crate::push::records::photo::AttPhoto;
use crate::push::records::{ParsedBody, RejectedLine as PushRejected};
use crate::store::REJECTED_SAMPLE;

/// Parser rejections as domain lines (not sealed yet: see [`quarantine`]).
pub fn rejected(lines: Vec<PushRejected>) -> Vec<RejectedLine> {
    lines
        .into_iter()
        .map(|r| RejectedLine { line_no: r.line_no, raw: r.raw, error: r.error, raw_sealed: false })
        .collect()
}

/// What is kept of a body's rejected lines: their count, and the first [`REJECTED_SAMPLE`] of
/// them sealed with the data cipher (a quarantined line can be a whole template or a child's
/// record). Lines past the sample are counted, never stored, so a garbage body costs little.
pub fn quarantine(mut lines: Vec<RejectedLine>, cipher: &DataCipher) -> (usize, Vec<RejectedLine>) {
    let total = lines.len();
    lines.truncate(REJECTED_SAMPLE);
    for line in &mut lines {
        if !line.raw_sealed {
            line.raw = B64.encode(cipher.seal(line.raw.as_bytes()));
            line.raw_sealed = true;
        }
    }
    (total, lines)
}

/// ATTLOG records to punches. Every parsed line becomes a punch: a garbage or implausible clock
/// is kept raw and flagged, never dropped (push.md 2.5).
pub fn punches(parsed: ParsedBody<AttLogRecord>, tz: Tz, now: DateTime<Utc>) -> (Vec<NewPunch>, Vec<RejectedLine>) {
    let punches = parsed
        .records
        .into_iter()
        .map(|r| {
            let (punched_at, clock_flag) = read_clock(r.local_time, tz, now);
            NewPunch {
                pin: Pin(r.pin),
                local_time: r.time_raw,
                punched_at,
                status: r.status,
                verify: r.verify,
                workcode: r.workcode.filter(|w| !w.is_empty()),
                clock_flag,
                raw: r.raw,
                source: PunchSource::AttLog,
                event_index: None,
            }
        })
        .collect();
    (punches, rejected(parsed.rejected))
}

/// An `OPERLOG` body parsed line by line; a `FACE` line that is no ZKFace face record (TMP not
/// base64, too short or long, a FID or VALID out of range) is quarantined with why.
pub fn operlog_body(text: &str) -> ParsedBody<OperLogRecord> {
    crate::push::records::parse_each_line(text, |line| {
        let record = parse_operlog_line(line)?;
        if let OperLogRecord::Face(f) = &record {
            record_from_line(f.fid, f.valid, &f.template)?;
        }
        Ok(record)
    })
}

/// `table=BIODATA` bodies, as OPERLOG records.
pub fn from_biodata(parsed: ParsedBody<BioDataRecord>) -> ParsedBody<OperLogRecord> {
    ParsedBody { records: parsed.records.into_iter().map(OperLogRecord::BioData).collect(), rejected: parsed.rejected }
}

/// `table=USERINFO` bodies, as OPERLOG records.
pub fn from_userinfo(parsed: ParsedBody<UserRecord>) -> ParsedBody<OperLogRecord> {
    ParsedBody { records: parsed.records.into_iter().map(OperLogRecord::User).collect(), rejected: parsed.rejected }
}

fn template(
    pin: String,
    kind: &'static str,
    bio_type: i32,
    no: i32,
    index: i32,
    tmpl: &str,
    cipher: &DataCipher,
) -> TemplateReport {
    TemplateReport {
        pin,
        kind,
        bio_type,
        finger_no: no,
        template_index: index,
        major_ver: None,
        minor_ver: None,
        format: None,
        valid: None,
        duress: None,
        sealed: cipher.seal(tmpl.as_bytes()),
    }
}

/// A fingerprint upload as a master copy for the biometric store: the template decoded from
/// base64 (a template that does not decode, or a finger outside 0–9, is not a master copy; the
/// upload's own row keeps it as sent). `version` `None`: the device's known ZKFinger version.
fn master_finger(
    pin: &str,
    finger: i32,
    version: Option<String>,
    flag: u8,
    tmpl: &str,
    cipher: &DataCipher,
) -> Option<SealedBiometric> {
    let slot = u8::try_from(finger).ok().filter(|f| *f <= 9)?;
    let data = B64.decode(tmpl.trim()).ok().filter(|d| !d.is_empty())?;
    let copy =
        BiometricCopy { pin: pin.to_string(), kind: BiometricKind::Finger, slot, version, flag, records: 1, data };
    Some(copy.seal(cipher))
}

/// Photo bytes: the decoded JPEG when the content is valid base64, else the text as sent.
fn photo_bytes(content: &str) -> Vec<u8> {
    B64.decode(content.trim()).unwrap_or_else(|_| content.as_bytes().to_vec())
}

/// OPERLOG records to what the device reported, templates and photos sealed.
pub fn operlog_batch(parsed: ParsedBody<OperLogRecord>, cipher: &DataCipher) -> (OperlogBatch, Vec<RejectedLine>) {
    let mut batch = OperlogBatch::default();
    for record in parsed.records {
        match record {
            OperLogRecord::User(u) => batch.users.push(user_report(u)),
            OperLogRecord::Fingerprint(f) => {
                let flag = if f.valid == Some(3) { 3 } else { 1 };
                batch.masters.extend(master_finger(&f.pin, f.fid, None, flag, &f.template, cipher));
                let mut t = template(f.pin, "fp", 1, f.fid, 0, &f.template, cipher);
                t.valid = f.valid;
                batch.templates.push(t);
            }
            OperLogRecord::Face(f) => {
                let mut t = template(f.pin, "face", 2, 0, f.fid, &f.template, cipher);
                t.valid = f.valid;
                batch.templates.push(t);
            }
            OperLogRecord::FingerVein(f) => {
                let mut t = template(f.pin, "fvein", 7, f.fid, f.index.unwrap_or(0), &f.template, cipher);
                t.valid = f.valid;
                batch.templates.push(t);
            }
            OperLogRecord::BioData(b) => {
                if b.bio_type == 1 {
                    let flag = if b.duress == Some(1) { 3 } else { 1 };
                    let version = b.major_ver.clone();
                    batch.masters.extend(master_finger(&b.pin, b.no, version, flag, &b.template, cipher));
                }
                let mut t = template(b.pin, "biodata", b.bio_type, b.no, b.index, &b.template, cipher);
                t.major_ver = b.major_ver;
                t.minor_ver = b.minor_ver;
                t.format = b.format;
                t.valid = b.valid;
                t.duress = b.duress;
                batch.templates.push(t);
            }
            OperLogRecord::UserPic(p) => batch.photos.push({
                if let Ok(jpeg) = B64.decode(p.content.trim()) {
                    let copy = BiometricCopy {
                        pin: p.pin.clone(),
                        kind: BiometricKind::Photo,
                        slot: 0,
                        version: Some(String::new()),
                        flag: 1,
                        records: 1,
                        data: jpeg,
                    };
                    batch.masters.push(copy.seal(cipher));
                }
                PhotoReport {
                    file_name: p.file_name.unwrap_or_else(|| format!("{}.jpg", p.pin)),
                    pin: Some(p.pin),
                    kind: "userpic",
                    bio_type: None,
                    sealed: cipher.seal(&photo_bytes(&p.content)),
                }
            }),
            OperLogRecord::BioPhoto(p) => batch.photos.push(PhotoReport {
                file_name: p.file_name.unwrap_or_else(|| format!("{}.jpg", p.pin)),
                pin: Some(p.pin),
                kind: "biophoto",
                bio_type: p.bio_type,
                sealed: cipher.seal(&photo_bytes(&p.content)),
            }),
            OperLogRecord::OpLog(o) => batch.events.push(DeviceEventReport {
                kind: "oplog",
                code: o.op_type.to_string(),
                operator: Some(o.operator),
                time_raw: Some(o.time_raw),
                detail: json!({ "values": o.values }),
                raw: o.raw,
            }),
            OperLogRecord::ErrorLog(e) => batch.events.push(DeviceEventReport {
                kind: "errorlog",
                code: e.err_code,
                operator: None,
                time_raw: None,
                detail: json!({ "message": e.err_msg, "origin": e.data_origin, "cmd_id": e.cmd_id,
                                "additional": e.additional }),
                raw: String::new(),
            }),
            OperLogRecord::IdCard(c) => batch.events.push(DeviceEventReport {
                kind: "idcard",
                code: c.pin.clone(),
                operator: None,
                time_raw: None,
                detail: Value::Object(c.fields.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
                raw: String::new(),
            }),
        }
    }
    (batch, rejected(parsed.rejected))
}

fn user_report(u: UserRecord) -> UserReport {
    // Keypad passwords are deliberately not kept.
    let attributes: Map<String, Value> = u.extra.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let attributes = {
        let mut a = attributes;
        if let Some(tz) = u.timezones {
            a.insert("TZ".into(), Value::String(tz));
        }
        if let Some(vice) = u.vice_card {
            a.insert("ViceCard".into(), Value::String(vice));
        }
        Value::Object(a)
    };
    UserReport {
        pin: u.pin,
        name: u.name,
        privilege: u.privilege,
        card: u.card.filter(|c| !c.is_empty()),
        group_id: u.group,
        verify: u.verify,
        attributes,
    }
}

/// An attendance photo, sealed.
pub fn attendance_photo(p: AttPhoto, cipher: &DataCipher) -> PhotoReport {
    PhotoReport { pin: p.pin, kind: "attphoto", file_name: p.file_name, bio_type: None, sealed: cipher.seal(&p.jpeg) }
}
