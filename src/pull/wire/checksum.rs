//! The packet checksum (spec §1.4): RFC 1071 ones'-complement sum of the whole packet, header
//! included with its checksum field taken as zero, little-endian words, odd last byte as a low
//! byte. The device silently drops packets whose checksum is wrong, so every encoder uses this.

/// Checksum of `packet` (8-byte header + data) with bytes 2..4 (the checksum field) read as zero.
/// Works on any length; a packet shorter than 4 bytes is summed as it is.
pub fn packet_checksum(packet: &[u8]) -> u16 {
    // The checksum field (bytes 2..4) counts as zero. Words are summed into a u64 without
    // folding inside the loop (2^48 words before it could overflow), so the loop has no branch
    // and vectorises: a 64 KiB frame is checksummed on every send and receive, and the
    // byte-at-a-time fold was a seventh of a whole area sync's CPU.
    let mut sum = match packet.len() {
        0..4 => words(packet),
        _ => words(&packet[..2]) + words(&packet[4..]),
    };
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sum of the little-endian words of `bytes`, an odd last byte as a low byte.
fn words(bytes: &[u8]) -> u64 {
    let pairs = bytes.chunks_exact(2);
    let odd = pairs.remainder().first().map_or(0, |&b| u64::from(b));
    pairs.map(|w| u64::from(u16::from_le_bytes([w[0], w[1]]))).sum::<u64>() + odd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn options_request_for_zkfaceversion_has_the_documented_checksum() {
        // adrobinoga protocol.md vector 1: checksum 0x175a
        let p = hex("0b005a17f38d03005a4b4661636556657273696f6e00");
        assert_eq!(packet_checksum(&p), 0x175a);
    }

    #[test]
    fn ack_with_one_odd_data_byte_has_the_documented_checksum() {
        // adrobinoga protocol.md vector 2: odd length, last byte added as a low byte
        let p = hex("d007296af38d0a0009");
        assert_eq!(packet_checksum(&p), 0x6a29);
    }

    #[test]
    fn connect_with_session_and_reply_zero_has_checksum_fc17() {
        assert_eq!(packet_checksum(&hex("e803000000000000")), 0xfc17);
    }

    #[test]
    fn checksum_ignores_whatever_is_in_the_checksum_field() {
        let a = hex("e803000000000000");
        let b = hex("e803abcd00000000");
        assert_eq!(packet_checksum(&a), packet_checksum(&b));
    }

    /// The definition, word by word with an end-around carry after every word.
    fn reference(packet: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for (i, w) in packet.chunks(2).enumerate() {
            if i != 1 || w.len() == 1 {
                sum += u32::from(w[0]) | w.get(1).map_or(0, |&b| u32::from(b) << 8);
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
        }
        !(sum as u16)
    }

    proptest::proptest! {
        #[test]
        fn checksum_matches_the_word_by_word_definition(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
            proptest::prop_assert_eq!(packet_checksum(&bytes), reference(&bytes));
        }
    }

    #[test]
    fn checksum_of_a_64k_frame_of_ff_matches_the_definition() {
        let frame = vec![0xff; 65_536 + 8];
        assert_eq!(packet_checksum(&frame), reference(&frame));
    }

    #[test]
    fn checksum_of_short_input_does_not_panic() {
        for n in 0..4 {
            let _ = packet_checksum(&vec![0xff; n]);
        }
    }
}
