//! Fuzz target: `ATTPHOTO` uploads (`/iclock/fdata`, `cdata?table=ATTPHOTO`): a text header,
//! NUL, then the JPEG bytes (or base64 text: after the header when there is no NUL, and after
//! the NUL when it is all base64 alphabet, i.e. `ATTPHOTOBase64=1` firmware). Invariants: no
//! panic; a binary JPEG (bytes after the first NUL starting `FF D8`) is kept byte for byte.
#![no_main]

use ironclock::push::records::parse_attphoto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [_selector, body @ ..] = data else { return };
    if let Ok(photo) = parse_attphoto(body) {
        let nul = body.iter().position(|&b| b == 0);
        if let Some(nul) = nul.filter(|&n| body[n + 1..].starts_with(&[0xFF, 0xD8])) {
            assert_eq!(photo.jpeg, &body[nul + 1..], "photo bytes are not the body after the NUL");
        }
    }
});
