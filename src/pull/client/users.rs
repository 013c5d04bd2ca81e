//! Users: read the table (record size detected and cross-checked with UserCnt), write with uid
//! allocation on the target device (a person keeps their uid; a new person gets a uid that is
//! free *on this device*; nobody else's uid is ever overwritten), delete by user id.

use super::{check, Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::wire::buffer::QueryData;
use crate::pull::wire::command::{DELETE_USER, DELETE_USERFACE, SSR_DELETE_USERTEMP, USER_WRQ};
use crate::pull::wire::face::{FaceRequest, ALL_FACES};
use crate::pull::wire::template::{encode_delete_by_user_id, ALL_FINGERS};
use crate::pull::wire::user::{decode_user_table, encode_user, User, UserRecordSize};

/// A person to put on a device, identified by user id; the device-local uid is chosen by
/// [`Client::upsert_user`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserSpec {
    /// The person's number (PIN2).
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// Raw privilege byte (0 user, 14 admin, bit 0 disabled).
    pub privilege: u8,
    /// Password.
    pub password: String,
    /// Card number.
    pub card: u32,
    /// Access group.
    pub group: u8,
}

impl UserSpec {
    /// The user record of this person at `uid` on a device.
    pub fn at(&self, uid: u16) -> User {
        User {
            uid,
            privilege: self.privilege,
            password: self.password.clone(),
            name: self.name.clone(),
            card: self.card,
            group: self.group,
            timezones: [0; 4],
            user_id: self.user_id.clone(),
        }
    }
}

/// The uid a new user gets on a device holding `users`: one past the highest, or the lowest
/// free one when the highest is 65534. `None` when the device is full.
pub fn allocate_uid(users: &[User]) -> Option<u16> {
    let max = users.iter().map(|u| u.uid).max().unwrap_or(0);
    if max < 65_534 {
        return Some(max + 1);
    }
    let used: std::collections::HashSet<u16> = users.iter().map(|u| u.uid).collect();
    (1..=65_534).find(|uid| !used.contains(uid))
}

impl Client {
    /// All users. Reads the count first so the record size (72 or 28) is unambiguous.
    pub async fn read_users(&mut self) -> Result<Vec<User>> {
        let count = self.sizes().await?.users;
        if count <= 0 {
            return Ok(Vec::new());
        }
        let body = self.read_table(QueryData::USERS, "users").await?;
        // a user enrolled between the count and the read shifts the count: retry without it
        let (size, users) =
            decode_user_table(&body, Some(count as usize)).or_else(|_| decode_user_table(&body, None))?;
        self.user_record = Some(size);
        Ok(users)
    }

    /// Creates or updates the person `spec.user_id`, keeping their uid if they exist and
    /// allocating a free uid otherwise. Returns the user as written. Refreshes the device.
    pub async fn upsert_user(&mut self, spec: &UserSpec) -> Result<User> {
        let users = self.read_users().await?;
        let user = placed(spec, &users)?;
        self.write_user_checked(&user, &users).await?;
        self.refresh().await?;
        Ok(user)
    }

    /// Creates or updates several people with ONE read of the user table (a batch of roster
    /// writes is linear, not one full read per person), each checked and given a free uid as in
    /// [`Client::upsert_user`]; one refresh at the end. Per person: the user as written, or why not.
    pub async fn upsert_users(&mut self, specs: &[UserSpec]) -> Result<Vec<Result<User>>> {
        let mut users = self.read_users().await?;
        let mut out = Vec::with_capacity(specs.len());
        for spec in specs {
            let user = match placed(spec, &users) {
                Ok(user) => user,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            match self.write_user_checked(&user, &users).await {
                Ok(()) => {
                    users.retain(|u| u.uid != user.uid);
                    users.push(user.clone());
                    out.push(Ok(user));
                }
                // the session itself failed: later writes would fail the same way
                Err(e @ (Error::Timeout { .. } | Error::Io(_))) => return Err(e),
                Err(e) => out.push(Err(e)),
            }
        }
        self.refresh().await?;
        Ok(out)
    }

    /// Writes `user` at its uid after checking a fresh user list: refuses (nothing sent) when
    /// that uid belongs to another user id, or the user id lives at another uid.
    pub async fn write_user(&mut self, user: &User) -> Result<()> {
        let users = self.read_users().await?;
        self.write_user_checked(user, &users).await?;
        self.refresh().await
    }

    async fn write_user_checked(&mut self, user: &User, users: &[User]) -> Result<()> {
        if let Some(other) = users.iter().find(|u| u.uid == user.uid && u.user_id != user.user_id) {
            return Err(Error::Conflict(format!("uid {} belongs to user id {:?}", user.uid, other.user_id)));
        }
        if let Some(other) = users.iter().find(|u| u.user_id == user.user_id && u.uid != user.uid) {
            return Err(Error::Conflict(format!("user id {:?} lives at uid {}", user.user_id, other.uid)));
        }
        let size = self.user_record.unwrap_or(UserRecordSize::Long72);
        let r = self.call(USER_WRQ, &encode_user(user, size)?, Retry::SameId).await?;
        match check(USER_WRQ, r) {
            // an empty device gave no hint of its record size: old firmware takes 28 bytes
            Err(Error::Refused { .. }) if self.user_record.is_none() && user.user_id.parse::<u32>().is_ok() => {
                let r = self.call(USER_WRQ, &encode_user(user, UserRecordSize::Short28)?, Retry::SameId).await?;
                check(USER_WRQ, r)?;
                self.user_record = Some(UserRecordSize::Short28);
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Deletes the person `user_id` and, explicitly, their templates and faces (whether the
    /// firmware cascades is model-dependent). Returns false when no such user exists.
    pub async fn delete_user(&mut self, user_id: &str) -> Result<bool> {
        let users = self.read_users().await?;
        let Some(uid) = users.iter().find(|u| u.user_id == user_id).map(|u| u.uid) else {
            return Ok(false);
        };
        // best effort: unsupported on some firmware, and "nothing to delete" is fine
        let _ = self.call(SSR_DELETE_USERTEMP, &encode_delete_by_user_id(user_id, ALL_FINGERS)?, Retry::SameId).await?;
        let face = FaceRequest { user_id: user_id.to_string(), index: ALL_FACES, len: 0 };
        let _ = self.call(DELETE_USERFACE, &face.encode()?, Retry::SameId).await?;
        self.call_ok(DELETE_USER, &uid.to_le_bytes(), Retry::SameId).await?;
        self.refresh().await?;
        Ok(true)
    }
}

/// The user `spec` describes, at the uid its user id already has on the device, else the first
/// free one (none free: a conflict, nothing to write).
fn placed(spec: &UserSpec, users: &[User]) -> Result<User> {
    let uid = match users.iter().find(|u| u.user_id == spec.user_id) {
        Some(existing) => existing.uid,
        None => allocate_uid(users).ok_or_else(|| Error::Conflict("no free uid on the device".into()))?,
    };
    Ok(spec.at(uid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_uid_is_one_past_the_highest_and_fills_gaps_only_at_the_top() {
        assert_eq!(allocate_uid(&[]), Some(1));
        let users = vec![User::new(1, "10", "a"), User::new(7, "11", "b")];
        assert_eq!(allocate_uid(&users), Some(8));
        let full_top = vec![User::new(65_534, "x", "x"), User::new(1, "y", "y")];
        assert_eq!(allocate_uid(&full_top), Some(2));
    }
}
