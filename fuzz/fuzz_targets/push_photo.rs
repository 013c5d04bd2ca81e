//! Fuzz target: `ATTPHOTO` uploads (`/iclock/fdata`, `cdata?table=ATTPHOTO`): a text header,
//! NUL, then the JPEG bytes (or base64 text after the header when there is no NUL). Invariants:
//! no panic; a binary photo is exactly the bytes after the first NUL.
#![no_main]

use ironclock::push::records::parse_attphoto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [_selector, body @ ..] = data else { return };
    if let Ok(photo) = parse_attphoto(body) {
        if let Some(nul) = body.iter().position(|&b| b == 0) {
            assert_eq!(photo.jpeg, &body[nul + 1..], "photo bytes are not the body after the NUL");
        }
    }
});
