//! Fuzz target: the TCP frame splitter and packet decoder on an arbitrary byte stream.
//! Invariants: never panics; every complete frame it reports lies inside the buffer and
//! re-encodes to the same bytes when its checksum is right.
#![no_main]

use ironclock::pull::wire::envelope::{split_frame, Split};
use ironclock::pull::wire::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Split::Complete { packet, consumed }) = split_frame(rest, 1 << 20) {
        assert!(packet.end <= consumed && consumed <= rest.len());
        if let Ok(p) = Packet::decode(&rest[packet.clone()]) {
            assert_eq!(p.encode_tcp(), &rest[..consumed]);
        }
        rest = &rest[consumed..];
    }
    let _ = Packet::decode(data);
});
