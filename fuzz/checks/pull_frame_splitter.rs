//! Fuzz check: the TCP frame splitter and packet decoder on an arbitrary byte stream.
//! Invariants: never panics; every complete frame it reports lies inside the buffer and
//! re-encodes to the same bytes when its checksum is right.

use ironclock::pull::wire::envelope::{split_frame, Split};
use ironclock::pull::wire::Packet;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let mut rest = data;
    while let Ok(Split::Complete { packet, consumed }) = split_frame(rest, 1 << 20) {
        assert!(packet.end <= consumed && consumed <= rest.len());
        if let Ok(p) = Packet::decode(&rest[packet.clone()]) {
            assert_eq!(p.encode_tcp(), &rest[..consumed]);
        }
        rest = &rest[consumed..];
    }
    let _ = Packet::decode(data);
}
