//! The packet checksum (spec §1.4): RFC 1071 ones'-complement sum of the whole packet, header
//! included with its checksum field taken as zero, little-endian words, odd last byte as a low
//! byte. The device silently drops packets whose checksum is wrong, so every encoder uses this.

/// Checksum of `packet` (8-byte header + data) with bytes 2..4 (the checksum field) read as zero.
/// Works on any length; a packet shorter than 4 bytes is summed as it is.
pub fn packet_checksum(packet: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = packet.chunks_exact(2);
    for (index, word) in words.by_ref().enumerate() {
        if index == 1 {
            continue; // the checksum field itself
        }
        sum += u32::from(u16::from_le_bytes([word[0], word[1]]));
        // fold early so that even multi-megabyte inputs cannot overflow
        if sum & 0x8000_0000 != 0 {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
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

    #[test]
    fn checksum_of_short_input_does_not_panic() {
        for n in 0..4 {
            let _ = packet_checksum(&vec![0xff; n]);
        }
    }
}
