//! What an acknowledgement means: the command's new state and message, and what the device
//! taught us (an unsupported verb, a template-version mismatch, a missing user).

use serde_json::{Map, Value};

use crate::domain::{AckUpdate, CommandState, Dialect, QueuedCommand};
use crate::push::ack::CommandAck;
use crate::push::command::{acc_return_meaning, att_return_meaning, marks_unsupported, return_is_success};

/// The capability an ack teaches about: the verb, narrowed to the option for `SET OPTION`
/// (`SET OPTION Delay`): a -1002/-1004 on one option key says nothing about another, and the
/// data verbs already name their table (`DATA QUERY USERINFO`, `DATA UPDATE BIODATA`).
pub fn capability_of(verb: &str, payload: &str) -> String {
    if verb == "SET OPTION" {
        let key = payload.strip_prefix("SET OPTION ").and_then(|rest| rest.split('=').next()).unwrap_or("");
        if !key.is_empty() {
            return format!("{verb} {key}");
        }
    }
    verb.to_string()
}

/// Something to remember about the device after an ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lesson {
    /// The device rejects this capability ([`capability_of`]: a verb, or one option key) with
    /// -1002, -1004, -629 or -22: do not queue it again until an admin resets what was learned.
    Unsupported { verb: String, code: i64 },
    /// The device accepted the verb.
    Supported { verb: String },
    /// -30: the device's template algorithm differs for this biometric type.
    TemplateVersionMismatch { bio_type: String },
    /// -10: the user is missing on the device; re-queue the user, then this command.
    UserMissing { pin: String },
}

/// The state change and lessons for one ack of a known command.
pub fn interpret(command: &QueuedCommand, ack: &CommandAck, dialect: Dialect) -> (AckUpdate, Vec<Lesson>) {
    let code = ack.return_code;
    let success = code.is_some_and(|c| return_is_success(&command.kind, c));
    let message = match (code, dialect) {
        (None, _) => "the device answered without a Return code".to_string(),
        (Some(c), Dialect::Acc) => acc_return_meaning(c).to_string(),
        (Some(c), Dialect::Att) => att_return_meaning(&command.kind, c).to_string(),
    };
    let mut lessons = Vec::new();
    let capability = || capability_of(&command.verb, &command.payload);
    match code {
        Some(_) if success => lessons.push(Lesson::Supported { verb: capability() }),
        Some(c) if marks_unsupported(c) => lessons.push(Lesson::Unsupported { verb: capability(), code: c }),
        Some(-30) => lessons.push(Lesson::TemplateVersionMismatch { bio_type: bio_type_of(command) }),
        Some(-10) if is_template_write(&command.kind) => {
            if let Some(pin) = &command.pin {
                lessons.push(Lesson::UserMissing { pin: pin.clone() });
            }
        }
        _ => {}
    }
    let update = AckUpdate {
        id: command.id,
        state: if success { CommandState::Acked } else { CommandState::Failed },
        return_code: code,
        return_message: message.clone(),
        result: result_json(ack),
        error: (!success)
            .then(|| format!("the device answered {}: {message}", code.map_or("nothing".into(), |c| c.to_string()))),
    };
    (update, lessons)
}

fn is_template_write(kind: &str) -> bool {
    matches!(kind, "fingerprint_update" | "face_update" | "biodata_update" | "userpic_update" | "biophoto_update")
}

/// `Type=<n>` of a BIODATA/BIOPHOTO payload; fingerprints and faces have their own tables.
fn bio_type_of(command: &QueuedCommand) -> String {
    match command.kind.as_str() {
        "fingerprint_update" => "1".into(),
        "face_update" => "2".into(),
        _ => command.payload.split('\t').find_map(|f| f.strip_prefix("Type=")).unwrap_or("unknown").to_string(),
    }
}

/// What the device answered beyond the code: INFO dumps, counts (`AttlogSum`), shell output.
fn result_json(ack: &CommandAck) -> Option<String> {
    let mut map = Map::new();
    for (k, v) in ack.fields.iter().chain(ack.info.iter()) {
        map.insert(k.clone(), Value::String(v.clone()));
    }
    if let Some(content) = &ack.content {
        map.insert("Content".into(), Value::String(String::from_utf8_lossy(content).into_owned()));
    }
    (!map.is_empty()).then(|| Value::Object(map).to_string())
}

/// After a device changed dialect (att ⇄ acc), what it refused in the old grammar says nothing
/// about the new one (an acc device answers `DATA QUERY USERINFO` with -629): every verb learned
/// as unsupported is forgotten, so the new dialect's commands are tried. Returns how many.
pub async fn forget_unsupported(
    store: &crate::store::DynStore,
    device: crate::domain::DeviceId,
) -> crate::store::StoreResult<u64> {
    store.forget_unsupported(device).await
}

#[cfg(test)]
mod tests {
    use super::capability_of;

    #[test]
    fn set_option_is_learned_per_key_and_data_verbs_per_table() {
        assert_eq!(capability_of("SET OPTION", "SET OPTION Delay=5"), "SET OPTION Delay");
        assert_eq!(capability_of("SET OPTION", "SET OPTION DateTime=834261234"), "SET OPTION DateTime");
        assert_eq!(capability_of("DATA QUERY USERINFO", "DATA QUERY USERINFO PIN=1"), "DATA QUERY USERINFO");
        assert_eq!(capability_of("SET OPTION", "garbage"), "SET OPTION");
    }
}
