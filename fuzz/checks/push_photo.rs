//! Fuzz check: `ATTPHOTO` uploads (`/iclock/fdata`, `cdata?table=ATTPHOTO`): a text header,
//! NUL, then the JPEG bytes (or base64 text: after the header when there is no NUL, and after
//! the NUL when it is all base64 alphabet, i.e. `ATTPHOTOBase64=1` firmware). Invariants: no
//! panic; a binary JPEG (bytes after the first NUL starting `FF D8`) is kept byte for byte.

use ironclock::push::records::parse_attphoto;

/// Runs one input; panics (the fuzzer's finding) when an invariant above fails.
pub fn check(data: &[u8]) {
    let [_selector, body @ ..] = data else { return };
    if let Ok(photo) = parse_attphoto(body) {
        let nul = body.iter().position(|&b| b == 0);
        if let Some(nul) = nul.filter(|&n| body[n + 1..].starts_with(&[0xFF, 0xD8])) {
            assert_eq!(photo.jpeg, &body[nul + 1..], "photo bytes are not the body after the NUL");
        }
    }
}
