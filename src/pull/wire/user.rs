//! User records (spec §7): the 72-byte TFT/"SSR" layout, the 28-byte old B/W layout, and the
//! user table returned by a buffered read, whose record size is detected and cross-checked.

use super::error::{need, WireError};
use super::fields::{read_text, u16_at, u32_at, write_text};

/// Privilege bit 0: the user is disabled.
pub const PRIVILEGE_DISABLED: u8 = 1;
/// Privilege level of an administrator (bits 1–3 = 2|4|8).
pub const PRIVILEGE_ADMIN: u8 = 14;

/// One user as a device stores it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Internal index on this device (1..65534); device-local, not an identity.
    pub uid: u16,
    /// Raw privilege byte: bit 0 disabled, bits 1–3 level (0 user, 2 enroller, 6 manager, 14 admin).
    pub privilege: u8,
    /// Password (digits on most devices).
    pub password: String,
    /// Display name.
    pub name: String,
    /// RFID card number (0 = none).
    pub card: u32,
    /// Access group (72-byte form: byte 39; 28-byte form: byte 21).
    pub group: u8,
    /// Time zones: `[0]` = 0 group TZ / 1 own; `[1..3]` TZ ids (28-byte form keeps only `[0]`).
    pub timezones: [u16; 4],
    /// The person's number (PIN2): the identity shared between devices.
    pub user_id: String,
}

impl User {
    /// A plain enabled user with group 1 and no card, password or time zones.
    pub fn new(uid: u16, user_id: impl Into<String>, name: impl Into<String>) -> User {
        User {
            uid,
            privilege: 0,
            password: String::new(),
            name: name.into(),
            card: 0,
            group: 1,
            timezones: [0; 4],
            user_id: user_id.into(),
        }
    }

    /// True when privilege bit 0 marks the user disabled.
    pub fn is_disabled(&self) -> bool {
        self.privilege & PRIVILEGE_DISABLED != 0
    }
}

/// The two user record layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UserRecordSize {
    /// 28 bytes: old black-and-white firmware (numeric user ids).
    Short28,
    /// 72 bytes: TFT firmware.
    Long72,
}

impl UserRecordSize {
    /// Bytes per record.
    pub fn record_len(self) -> usize {
        match self {
            UserRecordSize::Short28 => 28,
            UserRecordSize::Long72 => 72,
        }
    }

    /// The layout with `len` bytes per record, if any.
    pub fn from_len(len: usize) -> Option<UserRecordSize> {
        match len {
            28 => Some(UserRecordSize::Short28),
            72 => Some(UserRecordSize::Long72),
            _ => None,
        }
    }
}

/// Encodes `user` in the given layout. The 28-byte layout needs a numeric user id (u32).
pub fn encode_user(user: &User, size: UserRecordSize) -> Result<Vec<u8>, WireError> {
    match size {
        UserRecordSize::Long72 => encode_user72(user).map(|r| r.to_vec()),
        UserRecordSize::Short28 => encode_user28(user).map(|r| r.to_vec()),
    }
}

/// Decodes one record of the given layout from the start of `bytes`.
pub fn decode_user(bytes: &[u8], size: UserRecordSize) -> Result<User, WireError> {
    match size {
        UserRecordSize::Long72 => decode_user72(bytes),
        UserRecordSize::Short28 => decode_user28(bytes),
    }
}

/// Encodes the 72-byte record [FW TUser]: uid@0, privilege@2, password[8]@3, name[24]@11,
/// card u32@35, group@39, timezones 4×u16@40, user_id[24]@48.
pub fn encode_user72(user: &User) -> Result<[u8; 72], WireError> {
    let mut r = [0u8; 72];
    r[0..2].copy_from_slice(&user.uid.to_le_bytes());
    r[2] = user.privilege;
    write_text(&mut r[3..11], &user.password, "password")?;
    write_text(&mut r[11..35], &user.name, "name")?;
    r[35..39].copy_from_slice(&user.card.to_le_bytes());
    r[39] = user.group;
    for (i, tz) in user.timezones.iter().enumerate() {
        r[40 + 2 * i..42 + 2 * i].copy_from_slice(&tz.to_le_bytes());
    }
    write_text(&mut r[48..72], &user.user_id, "user_id")?;
    Ok(r)
}

/// Decodes a 72-byte record (the firmware layout, not pyzk's, which misreads the group).
pub fn decode_user72(bytes: &[u8]) -> Result<User, WireError> {
    need("72-byte user", bytes, 72)?;
    Ok(User {
        uid: u16_at(bytes, 0),
        privilege: bytes[2],
        password: read_text(&bytes[3..11]),
        name: read_text(&bytes[11..35]),
        card: u32_at(bytes, 35),
        group: bytes[39],
        timezones: [u16_at(bytes, 40), u16_at(bytes, 42), u16_at(bytes, 44), u16_at(bytes, 46)],
        user_id: read_text(&bytes[48..72]),
    })
}

/// Encodes the 28-byte record: uid@0, privilege@2, password[5]@3, name[8]@8, card u32@16,
/// group@21, timezone u16@22, user_id u32@24.
pub fn encode_user28(user: &User) -> Result<[u8; 28], WireError> {
    let user_id: u32 = user
        .user_id
        .parse()
        .map_err(|_| WireError::invalid("user_id", "the 28-byte layout needs a numeric user id"))?;
    let mut r = [0u8; 28];
    r[0..2].copy_from_slice(&user.uid.to_le_bytes());
    r[2] = user.privilege;
    write_text(&mut r[3..8], &user.password, "password")?;
    write_text(&mut r[8..16], &user.name, "name")?;
    r[16..20].copy_from_slice(&user.card.to_le_bytes());
    r[21] = user.group;
    r[22..24].copy_from_slice(&user.timezones[0].to_le_bytes());
    r[24..28].copy_from_slice(&user_id.to_le_bytes());
    Ok(r)
}

/// Decodes a 28-byte record; the numeric user id becomes its decimal string.
pub fn decode_user28(bytes: &[u8]) -> Result<User, WireError> {
    need("28-byte user", bytes, 28)?;
    Ok(User {
        uid: u16_at(bytes, 0),
        privilege: bytes[2],
        password: read_text(&bytes[3..8]),
        name: read_text(&bytes[8..16]),
        card: u32_at(bytes, 16),
        group: bytes[21],
        timezones: [u16_at(bytes, 22), 0, 0, 0],
        user_id: u32_at(bytes, 24).to_string(),
    })
}

/// Decodes a user table body (without its u32 length prefix). The record size is the one that
/// divides the body and, when `expected_count` (UserCnt from CMD_GET_FREE_SIZES) is given,
/// yields exactly that many records: 504 bytes is 7×72 and 18×28 (spec §7.2).
pub fn decode_user_table(body: &[u8], expected_count: Option<usize>) -> Result<(UserRecordSize, Vec<User>), WireError> {
    let size = detect_user_size(body.len(), expected_count)?;
    let users = body.chunks_exact(size.record_len()).map(|r| decode_user(r, size)).collect::<Result<Vec<_>, _>>()?;
    Ok((size, users))
}

fn detect_user_size(len: usize, expected: Option<usize>) -> Result<UserRecordSize, WireError> {
    let candidates = [UserRecordSize::Long72, UserRecordSize::Short28];
    let fits = |s: UserRecordSize| len % s.record_len() == 0 && expected.is_none_or(|n| n * s.record_len() == len);
    candidates.into_iter().find(|&s| fits(s)).ok_or(WireError::BadLength { what: "user table", len })
}

/// Encodes a user table body (records back to back, no length prefix).
pub fn encode_user_table(users: &[User], size: UserRecordSize) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(users.len() * size.record_len());
    for user in users {
        out.extend_from_slice(&encode_user(user, size)?);
    }
    Ok(out)
}

/// The 24-byte user-id field of cmd 133 (delete by user id): the text NUL-padded.
pub fn encode_user_id_field(user_id: &str) -> Result<[u8; 24], WireError> {
    let mut out = [0u8; 24];
    write_text(&mut out, user_id, "user_id")?;
    Ok(out)
}

/// Reads a 24-byte user-id field (text up to the first NUL); an empty id is an error.
pub fn decode_user_id_field(data: &[u8]) -> Result<String, WireError> {
    let id = read_text(&data[..data.len().min(24)]);
    if id.is_empty() {
        return Err(WireError::invalid("user_id", "empty"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::test_hex::hex;

    #[test]
    fn captured_72_byte_record_decodes_with_the_firmware_layout() {
        // adrobinoga data-user.md: uid 13, pw "444" + junk after NUL, name "Ned", card 222,
        // group 2, TZ (own, 1, 2, 0), user id "555"
        let rec = hex("0d000034343400c69a807c4e6564000000000000000000000000000000000000000000de000000020100010002000000353535000000000000000000000000000000000000000000");
        let u = decode_user72(&rec).unwrap();
        assert_eq!(u.uid, 13);
        assert_eq!(u.privilege, 0);
        assert_eq!(u.password, "444");
        assert_eq!(u.name, "Ned");
        assert_eq!(u.card, 222);
        assert_eq!(u.group, 2);
        assert_eq!(u.timezones, [1, 1, 2, 0]);
        assert_eq!(u.user_id, "555");
    }

    #[test]
    fn user_wrq_payload_of_the_capture_is_what_we_encode() {
        // adrobinoga data-user.md CMD_USER_WRQ: uid 14, priv 6, pw "123456", name "Nuevo",
        // card 6543, group 1, user id "11224488"; the captured password field carries 0x7c junk
        // after its NUL at byte 10, which we write as 0.
        let captured = hex("0e0006313233343536007c4e7565766f000000000000000000000000000000000000008f190000010000000000000000313132323434383800000000000000000000000000000000");
        let mut u = User::new(14, "11224488", "Nuevo");
        u.privilege = 6;
        u.password = "123456".into();
        u.card = 6543;
        let mine = encode_user72(&u).unwrap();
        let mut expected = captured.clone();
        expected[10] = 0;
        assert_eq!(mine.to_vec(), expected);
        assert_eq!(decode_user72(&captured).unwrap(), u);
    }

    #[test]
    fn pyzk_set_user_frame_decodes_with_group_zero() {
        // computed_vectors.txt: pyzk set_user(uid=8, name='Bob', privilege=14, user_id='1008')
        let frame = hex("08000e0000000000000000426f6200000000000000000000000000000000000000000000000000000000000000000000313030380000000000000000000000000000000000000000");
        let u = decode_user72(&frame).unwrap();
        assert_eq!((u.uid, u.privilege, u.name.as_str(), u.user_id.as_str(), u.group), (8, 14, "Bob", "1008", 0));
    }

    #[test]
    fn small_captured_user_table_is_detected_as_72_byte_records() {
        // pyzk test_tcp_get_users_small_data: body of 7 users (504 bytes = 7x72 = 18x28)
        let body = hex("01000e0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003830380000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003832310000000000000000000000000000000000000000000300000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003833350000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003833310000000000000000000000000000000000000000000500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003833320000000000000000000000000000000000000000000600000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003836000000000000000000000000000000000000000000000c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000383432000000000000000000000000000000000000000000");
        let (size, users) = decode_user_table(&body, Some(7)).unwrap();
        assert_eq!(size, UserRecordSize::Long72);
        let ids: Vec<_> = users.iter().map(|u| (u.uid, u.user_id.as_str())).collect();
        assert_eq!(ids, [(1, "808"), (2, "821"), (3, "835"), (4, "831"), (5, "832"), (6, "86"), (12, "842")]);
        assert_eq!(users[0].privilege, PRIVILEGE_ADMIN);
        // the count is what disambiguates 504 bytes
        assert_eq!(decode_user_table(&body, Some(18)).unwrap().0, UserRecordSize::Short28);
    }

    #[test]
    fn a_table_no_layout_divides_is_a_bad_length() {
        assert!(matches!(decode_user_table(&[0; 100], None), Err(WireError::BadLength { .. })));
        assert!(matches!(decode_user_table(&[0; 144], Some(3)), Err(WireError::BadLength { .. })));
    }

    #[test]
    fn short_record_needs_a_numeric_user_id_and_keeps_it() {
        let mut u = User::new(3, "90123", "Ana");
        u.card = 77;
        u.timezones = [1, 0, 0, 0];
        let r = encode_user28(&u).unwrap();
        assert_eq!(decode_user28(&r).unwrap(), u);
        assert!(encode_user28(&User::new(3, "A-12", "Ana")).is_err());
    }

    #[test]
    fn fields_longer_than_their_slot_are_refused_not_truncated() {
        assert!(encode_user72(&User::new(1, "1", "x".repeat(25))).is_err());
        assert!(encode_user72(&User::new(1, "1".repeat(25), "x")).is_err());
        assert!(encode_user72(&User::new(1, "1", "x".repeat(24))).is_ok());
    }
}
