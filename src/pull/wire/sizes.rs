//! Counts and capacities (spec §5.2): the CMD_GET_FREE_SIZES reply, 20 i32 (80 bytes) or 23 i32
//! (92 bytes, face firmware), little-endian. Field names follow the firmware's `TFSizes`, not
//! pyzk's labels (pyzk calls AdminCnt "cards").

use super::error::{need, WireError};
use super::fields::i32_at;

/// The device's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FreeSizes {
    /// Users (UserCnt, int 4).
    pub users: i32,
    /// Fingerprint templates (TmpCnt, int 6).
    pub fingers: i32,
    /// Attendance records (AttLogCnt, int 8).
    pub records: i32,
    /// Operation log records (int 10).
    pub oplogs: i32,
    /// Administrators (int 12).
    pub admins: i32,
    /// Users with a password (int 13).
    pub passwords: i32,
    /// Template capacity (int 14).
    pub fingers_capacity: i32,
    /// User capacity (int 15).
    pub users_capacity: i32,
    /// Attendance capacity (int 16).
    pub records_capacity: i32,
    /// Templates still free (int 17).
    pub fingers_free: i32,
    /// Users still free (int 18).
    pub users_free: i32,
    /// Attendance records still free (int 19).
    pub records_free: i32,
    /// Users with faces (int 20); `None` on 80-byte firmware.
    pub faces: Option<i32>,
    /// Face slots free (int 21).
    pub faces_free: Option<i32>,
    /// Face capacity (int 22).
    pub faces_capacity: Option<i32>,
}

impl FreeSizes {
    /// Decodes an 80- or 92-byte reply (longer replies: extra ints ignored).
    pub fn decode(data: &[u8]) -> Result<FreeSizes, WireError> {
        need("free sizes", data, 80)?;
        let int = |i: usize| i32_at(data, 4 * i);
        let has_faces = data.len() >= 92;
        let face = |i: usize| has_faces.then(|| int(i));
        Ok(FreeSizes {
            users: int(4),
            fingers: int(6),
            records: int(8),
            oplogs: int(10),
            admins: int(12),
            passwords: int(13),
            fingers_capacity: int(14),
            users_capacity: int(15),
            records_capacity: int(16),
            fingers_free: int(17),
            users_free: int(18),
            records_free: int(19),
            faces: face(20),
            faces_free: face(21),
            faces_capacity: face(22),
        })
    }

    /// Encodes the reply: 92 bytes when any face field is set, else 80.
    pub fn encode(&self) -> Vec<u8> {
        let mut ints = [0i32; 23];
        ints[4] = self.users;
        ints[6] = self.fingers;
        ints[8] = self.records;
        ints[10] = self.oplogs;
        ints[12] = self.admins;
        ints[13] = self.passwords;
        ints[14] = self.fingers_capacity;
        ints[15] = self.users_capacity;
        ints[16] = self.records_capacity;
        ints[17] = self.fingers_free;
        ints[18] = self.users_free;
        ints[19] = self.records_free;
        let with_faces = self.faces.is_some() || self.faces_free.is_some() || self.faces_capacity.is_some();
        ints[20] = self.faces.unwrap_or(0);
        ints[21] = self.faces_free.unwrap_or(0);
        ints[22] = self.faces_capacity.unwrap_or(0);
        let n = if with_faces { 23 } else { 20 };
        ints[..n].iter().flat_map(|i| i.to_le_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::wire::test_hex::hex;

    #[test]
    fn captured_80_byte_sizes_give_the_documented_counts() {
        // pyzk test_tcp_get_users_broken_tcp: users 70, fingers 70, records 3225, oplog 282,
        // admins 6, pwd 6, caps 500/500/50000, free 430/430/46775
        let data = hex("0000000000000000000000000000000046000000000000004600000000000000990c0000000000001a010000000000000600000006000000f4010000f401000050c30000ae010000ae010000b7b60000");
        let s = FreeSizes::decode(&data).unwrap();
        assert_eq!((s.users, s.fingers, s.records, s.oplogs, s.admins, s.passwords), (70, 70, 3225, 282, 6, 6));
        assert_eq!((s.fingers_capacity, s.users_capacity, s.records_capacity), (500, 500, 50_000));
        assert_eq!((s.fingers_free, s.users_free, s.records_free), (430, 430, 46_775));
        assert_eq!(s.faces, None);
        assert_eq!(s.encode(), data);
    }

    #[test]
    fn captured_sizes_cut_short_by_hand_still_decode_their_first_twenty_ints() {
        // pyzk test_tcp_get_size: the frame declares 92 bytes but pyzk's authors kept only 86
        // (hand-edited capture); the 20 classic ints are all there, the face ints are not.
        let data = hex("00000000000000000000000000000000070000000000000006000000000000005d020000000000000f0c0000000000000100000000000000b80b000010270000a0860100b20b00000927000043840100000000000000");
        assert_eq!(data.len(), 86);
        let s = FreeSizes::decode(&data).unwrap();
        assert_eq!((s.users, s.fingers, s.records, s.oplogs, s.admins), (7, 6, 605, 3087, 1));
        assert_eq!((s.fingers_capacity, s.users_capacity, s.records_capacity), (3000, 10_000, 100_000));
        assert_eq!((s.fingers_free, s.users_free, s.records_free), (2994, 9993, 99_395));
        assert_eq!(s.faces, None);
        assert!(FreeSizes::decode(&data[..79]).is_err());
    }

    #[test]
    fn face_counters_round_trip_in_the_92_byte_form() {
        let s = FreeSizes {
            users: 3,
            faces: Some(1),
            faces_free: Some(399),
            faces_capacity: Some(400),
            ..Default::default()
        };
        let bytes = s.encode();
        assert_eq!(bytes.len(), 92);
        assert_eq!(FreeSizes::decode(&bytes).unwrap(), s);
    }
}
