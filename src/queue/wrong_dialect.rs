//! A device whose commands keep failing with -629 ("wrong table name", an acc device sent att
//! tables) or -1004 ("table not supported", an att device sent acc tables) is set to the other
//! push dialect than its commands are written in: its admin is told what to check.

use super::CommandQueue;
use crate::domain::{CommandFilter, Device};
use crate::store::StoreError;

/// Among this many of the device's latest commands …
const WINDOW: i64 = 20;
/// … this many failures with -629/-1004 raise the warning.
const THRESHOLD: usize = 2;

/// The warning for the device, or `None` while its latest commands do not keep failing that way.
/// A success after switching dialect pushes the old failures out of the window.
pub async fn wrong_dialect_warning(queue: &CommandQueue, device: &Device) -> Result<Option<String>, StoreError> {
    let recent = CommandFilter { limit: Some(WINDOW), ..Default::default() };
    let commands = queue.list(device.id, &recent).await?;
    let codes: Vec<i64> = commands.iter().filter_map(|c| c.return_code).collect();
    Ok(warning(device.dialect.as_str(), &codes))
}

/// Pure: the warning for these latest return codes of a device written to in `dialect`.
pub fn warning(dialect: &str, codes: &[i64]) -> Option<String> {
    let failures = codes.iter().filter(|c| matches!(c, -629 | -1004)).count();
    (failures >= THRESHOLD).then(|| {
        format!(
            "{failures} of the device's latest commands failed with -629/-1004: it is not set to the push dialect \
             its commands are written in ({dialect}). On the terminal check Comm → Cloud Server → Device Type \
             (\"T&A PUSH\" = att, \"Access Control PUSH\" = acc); ironclock follows what the device sends next."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_wrong_table_answers_warn_and_other_failures_do_not() {
        assert!(warning("att", &[0, -629, 0, -1004]).is_some_and(|w| w.contains("(att)")));
        assert_eq!(warning("acc", &[-629, 0, -10, -1002]), None);
    }
}
