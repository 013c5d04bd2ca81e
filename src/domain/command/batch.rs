//! Picking a device's next batch, PURE: which of its open commands one `getrequest` reply
//! carries. The store reads the open commands and marks the picked ones `sent` in the claim's
//! transaction.

use super::{BatchPolicy, ClaimedCommand};

/// An open (`queued` or timed-out `sent`) command as the batch picker sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenCommand {
    pub id: i64,
    pub payload: String,
    pub ends_batch: bool,
    pub depends_on: Option<i64>,
    /// State of the dependency, when there is one.
    pub dependency_state: Option<String>,
    /// When it was queued.
    pub queued_at: chrono::DateTime<chrono::Utc>,
}

/// Picks the deliverable prefix of a device's open commands, in id order. A command is
/// deliverable when it has no dependency, its dependency is acked, or its dependency is in this
/// batch. Stops at the count or byte cap (one command always fits) or after a batch terminator.
pub fn pick_batch(open: &[OpenCommand], policy: &BatchPolicy) -> (Vec<ClaimedCommand>, bool) {
    let mut picked: Vec<ClaimedCommand> = Vec::new();
    let mut bytes = 0usize;
    for c in open {
        let ready = match c.depends_on {
            None => true,
            Some(dep) => {
                let state = c.dependency_state.as_deref();
                state == Some("acked") || state.is_none() || picked.iter().any(|p| p.id == dep)
            }
        };
        if !ready {
            continue;
        }
        let line = format!("C:{}:{}\n", c.id, c.payload).len();
        if !picked.is_empty() && (picked.len() >= policy.max_count || bytes + line > policy.max_bytes) {
            return (picked, true);
        }
        bytes += line;
        picked.push(ClaimedCommand { id: c.id, payload: c.payload.clone(), queued_at: c.queued_at });
        if c.ends_batch {
            let more = open.len() > picked.len();
            return (picked, more);
        }
    }
    (picked, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(count: usize, bytes: usize) -> BatchPolicy {
        BatchPolicy { max_count: count, max_bytes: bytes, ack_timeout: chrono::Duration::seconds(60) }
    }

    fn row(id: i64, payload: &str, ends: bool, dep: Option<(i64, &str)>) -> OpenCommand {
        OpenCommand {
            id,
            payload: payload.into(),
            ends_batch: ends,
            depends_on: dep.map(|d| d.0),
            dependency_state: dep.map(|d| d.1.to_string()),
            queued_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_batch_stops_after_reboot_and_reports_more_waiting() {
        let open = vec![row(1, "INFO", false, None), row(2, "REBOOT", true, None), row(3, "INFO", false, None)];
        let (picked, more) = pick_batch(&open, &policy(50, 40_000));
        assert_eq!(picked.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(more);
    }

    #[test]
    fn count_and_byte_caps_are_respected_but_one_command_always_fits() {
        let open: Vec<_> = (1..=10).map(|i| row(i, "DATA UPDATE USERINFO PIN=1\tName=x", false, None)).collect();
        assert_eq!(pick_batch(&open, &policy(3, 40_000)).0.len(), 3);
        let line = "C:1:DATA UPDATE USERINFO PIN=1\tName=x\n".len();
        assert_eq!(pick_batch(&open, &policy(50, line * 2)).0.len(), 2);
        assert_eq!(pick_batch(&open, &policy(50, 1)).0.len(), 1, "an oversized first command still goes");
    }

    #[test]
    fn a_dependent_waits_unless_its_dependency_is_acked_or_in_the_same_batch() {
        let open = vec![row(5, "template", false, Some((4, "sent"))), row(6, "other", false, None)];
        let (picked, _) = pick_batch(&open, &policy(50, 40_000));
        assert_eq!(picked.iter().map(|c| c.id).collect::<Vec<_>>(), vec![6], "4 is sent but not acked");
        let open = vec![row(4, "user", false, None), row(5, "template", false, Some((4, "queued")))];
        assert_eq!(pick_batch(&open, &policy(50, 40_000)).0.len(), 2, "user and template travel together");
        let open = vec![row(5, "template", false, Some((4, "acked")))];
        assert_eq!(pick_batch(&open, &policy(50, 40_000)).0.len(), 1);
    }
}
