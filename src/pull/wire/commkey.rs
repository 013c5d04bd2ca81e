//! The comm-key proof sent with CMD_AUTH (spec §2.2): the numeric key, bit-reversed, plus the
//! session id, XORed with "ZKSO", halves swapped, then masked with a one-byte nonce that travels
//! in byte 2. The device recomputes it and compares bytes 0, 1 and 3.

/// The 4-byte CMD_AUTH payload for `key` on session `session` with nonce byte `nonce`
/// (pyzk uses 50; the official SDK a random byte; any value verifies).
pub fn make_commkey(key: u32, session: u16, nonce: u8) -> [u8; 4] {
    let k = key.reverse_bits().wrapping_add(u32::from(session)); // the device wraps mod 2^32
    let b = k.to_le_bytes();
    let x = [b[0] ^ b'Z', b[1] ^ b'K', b[2] ^ b'S', b[3] ^ b'O'];
    let swapped = [x[2], x[3], x[0], x[1]];
    [swapped[0] ^ nonce, swapped[1] ^ nonce, nonce, swapped[3] ^ nonce]
}

/// True when `proof` (the CMD_AUTH data) proves knowledge of `key` for `session`, as the device
/// checks it: nonce from byte 2, bytes 0, 1 and 3 compared. Extra bytes are ignored.
pub fn verify_commkey(key: u32, session: u16, proof: &[u8]) -> bool {
    let [p0, p1, nonce, p3, ..] = *proof else {
        return false;
    };
    let expected = make_commkey(key, session, nonce);
    expected[0] == p0 && expected[1] == p1 && expected[3] == p3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commkey_matches_the_captured_and_computed_vectors() {
        // pyzk_test_vectors test_tcp_unauth / test_tcp_auth, computed_vectors.txt
        let cases: [(u32, u16, [u8; 4]); 6] = [
            (12, 0x45cf, [0x61, 0x4d, 0x32, 0x3c]),
            (45, 0x45cf, [0x61, 0xc9, 0x32, 0x3c]),
            (0, 0, [0x61, 0x7d, 0x32, 0x79]),
            (1, 1, [0x61, 0xfd, 0x32, 0x79]),
            (123_456, 0x1234, [0x26, 0x7f, 0x32, 0xeb]),
            (999_999, 0xfb2f, [0x22, 0x81, 0x32, 0x92]),
        ];
        for (key, session, want) in cases {
            assert_eq!(make_commkey(key, session, 50), want, "key {key} session {session:#x}");
        }
    }

    #[test]
    fn device_accepts_any_nonce_but_not_a_wrong_key() {
        for nonce in [1u8, 50, 255] {
            assert!(verify_commkey(123_456, 0x1234, &make_commkey(123_456, 0x1234, nonce)));
        }
        assert!(!verify_commkey(123_456, 0x1234, &make_commkey(123_457, 0x1234, 50)));
        assert!(!verify_commkey(123_456, 0x1234, &[1, 2, 3]));
    }

    #[test]
    fn key_plus_session_wraps_instead_of_overflowing() {
        // pyzk crashes here (README quirk 5); the device wraps
        let proof = make_commkey(131_071, 0xffff, 50);
        assert!(verify_commkey(131_071, 0xffff, &proof));
    }
}
