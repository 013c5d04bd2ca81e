//! Many users in one batch upload (cmd 110 type 12, spec §8.4, pyzk's `HR_save_usertemplates`
//! path) instead of one CMD_USER_WRQ round trip each: the area sync writes thousands of users
//! to a new gate, and over a network every round trip costs the device's reply latency.
//!
//! Placement is decided here as in [`Client::upsert_users`] (a person keeps their uid, a new one
//! gets a uid free on this device), but the firmware does not answer per record: a new person is
//! sent as "add only" (skipped if someone took the uid since the read) and an existing one as
//! "update", so nobody else is ever overwritten, and the caller must read the device back to
//! learn what took (the area sync does).

use std::collections::{HashMap, HashSet};

use super::{Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::wire::batch::{encode_batch, Batch, OpSign, BATCH_COMMAND_PAYLOAD};
use crate::pull::wire::command::UPDATE_FIREWARE;
use crate::pull::wire::user::{User, UserRecordSize};

use super::users::UserSpec;

impl Client {
    /// Creates or updates `specs` in one batch upload after ONE read of the user table. Per
    /// person: the user as sent, or why it was not (no free uid). When the device's user record
    /// size is unknown (an empty device), the first person goes alone through CMD_USER_WRQ,
    /// which detects it. Refreshes the device. What the firmware actually stored is known only
    /// from a read-back.
    pub async fn upsert_users_batched(&mut self, specs: &[UserSpec]) -> Result<Vec<Result<User>>> {
        let mut out = Vec::with_capacity(specs.len());
        let mut rest = specs;
        if self.user_record.is_none() {
            let Some((first, others)) = specs.split_first() else { return Ok(out) };
            out.extend(self.upsert_users(std::slice::from_ref(first)).await?);
            rest = others;
        }
        if rest.is_empty() {
            return Ok(out);
        }
        let users = self.read_users().await?;
        let mut places = Places::new(&users);
        let mut batch = Batch { users: Vec::with_capacity(rest.len()), fingers: Vec::new() };
        for spec in rest {
            match places.place(spec) {
                Some((op, user)) => {
                    batch.users.push((op, user.clone()));
                    out.push(Ok(user));
                }
                None => out.push(Err(Error::Conflict("no free uid on the device".into()))),
            }
        }
        if !batch.users.is_empty() {
            let size = self.user_record.unwrap_or(UserRecordSize::Long72);
            self.upload(&encode_batch(&batch, size)?, "users").await?;
            self.call_ok(UPDATE_FIREWARE, &BATCH_COMMAND_PAYLOAD, Retry::SameId).await?;
            self.free_buffer().await?;
        }
        self.refresh().await?;
        Ok(out)
    }
}

/// Uids on a device as placements are decided (linear in the users, not quadratic).
struct Places {
    by_id: HashMap<String, u16>,
    used: HashSet<u16>,
    next: u32,
}

impl Places {
    fn new(users: &[User]) -> Self {
        let max = users.iter().map(|u| u32::from(u.uid)).max().unwrap_or(0);
        Self {
            by_id: users.iter().map(|u| (u.user_id.clone(), u.uid)).collect(),
            used: users.iter().map(|u| u.uid).collect(),
            next: max + 1,
        }
    }

    /// The operation and record for `spec`: its own uid ("update"), else a free one ("add
    /// only": one past the highest, then the lowest gap, as [`super::allocate_uid`]).
    fn place(&mut self, spec: &UserSpec) -> Option<(OpSign, User)> {
        let (op, uid) = match self.by_id.get(&spec.user_id) {
            Some(&uid) => (OpSign::Update, uid),
            None => (OpSign::Add, self.free()?),
        };
        self.by_id.insert(spec.user_id.clone(), uid);
        self.used.insert(uid);
        Some((op, spec.at(uid)))
    }

    fn free(&mut self) -> Option<u16> {
        if self.next <= 65_534 {
            self.next += 1;
            return u16::try_from(self.next - 1).ok();
        }
        (1..=65_534).find(|uid| !self.used.contains(uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str) -> UserSpec {
        UserSpec { user_id: id.into(), name: id.into(), privilege: 0, password: String::new(), card: 0, group: 1 }
    }

    #[test]
    fn a_known_person_keeps_their_uid_and_new_ones_get_free_uids_without_clobbering() {
        let users = vec![User::new(1, "10", "a"), User::new(7, "11", "b")];
        let mut places = Places::new(&users);
        let (op, u) = places.place(&spec("11")).unwrap();
        assert_eq!((op, u.uid), (OpSign::Update, 7));
        let (op, u) = places.place(&spec("12")).unwrap();
        assert_eq!((op, u.uid), (OpSign::Add, 8));
        let (op, u) = places.place(&spec("13")).unwrap();
        assert_eq!((op, u.uid), (OpSign::Add, 9));
        // the same person twice in one batch keeps the uid given the first time
        assert_eq!(places.place(&spec("12")).unwrap().1.uid, 8);
    }

    #[test]
    fn at_the_top_of_the_uid_range_gaps_are_filled_and_a_full_device_says_so() {
        let users = vec![User::new(65_534, "x", "x"), User::new(1, "y", "y")];
        let mut places = Places::new(&users);
        assert_eq!(places.place(&spec("z")).unwrap().1.uid, 2);
        assert_eq!(places.place(&spec("w")).unwrap().1.uid, 3);
        let full: Vec<User> = (1..=65_534).map(|uid| User::new(uid, uid.to_string(), "n")).collect();
        assert!(Places::new(&full).place(&spec("new")).is_none());
    }
}
