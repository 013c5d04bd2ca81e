//! Fuzz check: every record decoder of the pull wire layer on arbitrary bytes; the first byte
//! picks the decoder and the second an expected count. Invariant: no panic, ever.

use ironclock::pull::wire::attendance::decode_attendance_table;
use ironclock::pull::wire::batch::decode_batch;
use ironclock::pull::wire::buffer::{unframe_buffer, QueryData, QueryReply, ReadChunk};
use ironclock::pull::wire::event::decode_events;
use ironclock::pull::wire::face::{decode_faces, FaceRequest};
use ironclock::pull::wire::options::decode_option_pair;
use ironclock::pull::wire::photo::decode_photo_name;
use ironclock::pull::wire::sizes::FreeSizes;
use ironclock::pull::wire::template::{decode_single_template, decode_template_table};
use ironclock::pull::wire::user::{decode_user_table, UserRecordSize};

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [which, count, body @ ..] = data else { return };
    let count = (*count != 0xff).then_some(usize::from(*count));
    match which % 12 {
        0 => drop(decode_user_table(body, count)),
        1 => drop(decode_attendance_table(body, count)),
        2 => drop(decode_template_table(body)),
        3 => drop(decode_single_template(body)),
        4 => drop(decode_batch(body, UserRecordSize::Long72)),
        5 => drop(decode_faces(body)),
        6 => drop(FaceRequest::decode(body)),
        7 => drop(FreeSizes::decode(body)),
        8 => drop(decode_events(u16::from(*which >> 4), body)),
        9 => drop((decode_option_pair(body), decode_photo_name(body))),
        10 => drop((QueryData::decode(body), QueryReply::decode(body), ReadChunk::decode(body))),
        _ => drop(unframe_buffer(body)),
    }
}
