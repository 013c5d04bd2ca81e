//! Which grammar a command is written in for a device: att devices get the att forms, acc
//! (access-control, push 3.x) devices the acc forms. Every path that queues a command for a push
//! device (the queue, student sync's plan, the verifier) renders through [`encode`], so an acc
//! device never receives an att command.

use crate::domain::Dialect;
use crate::push::command::acc::{self, EncodeError};
use crate::push::command::Command;

/// A command as one device receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The verb the device accepts or rejects as a whole (what a -1002/-629 marks unsupported).
    pub verb: &'static str,
    /// The text after `C:<id>:`.
    pub payload: String,
}

/// `command` in the grammar of `dialect`.
pub fn encode(dialect: Dialect, command: &Command) -> Result<Encoded, EncodeError> {
    match dialect {
        Dialect::Att => Ok(Encoded { verb: command.verb(), payload: command.render()? }),
        Dialect::Acc => acc::encode(command).map(|c| Encoded { verb: c.verb, payload: c.payload }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::command::UserInfo;

    #[test]
    fn the_same_student_is_userinfo_for_att_and_a_user_row_for_acc() {
        let c = Command::UserUpdate(UserInfo::student("5", "Ada", None));
        assert!(encode(Dialect::Att, &c).unwrap().payload.starts_with("DATA UPDATE USERINFO PIN=5\t"));
        let acc = encode(Dialect::Acc, &c).unwrap();
        assert_eq!(acc.verb, "DATA UPDATE user");
        assert!(acc.payload.starts_with("DATA UPDATE user CardNo=\tPin=5\t"));
        assert!(matches!(encode(Dialect::Acc, &Command::Check), Err(EncodeError::NoAccForm("check"))));
    }
}
