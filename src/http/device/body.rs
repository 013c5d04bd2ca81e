//! Reading a device request body under the upload limit (`--max-upload-bytes`), and what an
//! oversized upload gets. Firmware re-sends anything not answered 200 (push.md 2.2: "Any
//! non-200 reply, or a timeout, means failed, resend"), so a 413 would make a device post the
//! same oversized batch forever and never send anything after it. An approved device's oversized
//! body is read and discarded, the device gets `OK`, and the loss is recorded loudly (log and a
//! device event on its page) so an admin can fetch the records again in smaller pieces; for any
//! other device reading stops at the limit and it gets a 413. The body is read only after the
//! device is resolved and allowed. The handshake advertises the limit as `MaxPostSize` so
//! firmware that knows the key splits its uploads first.

use actix_web::web;
use futures::StreamExt;

use super::DeviceError;

/// Bytes of an oversized body read (and thrown away) at most, so the device sees its reply;
/// past this the connection is simply answered and closed.
const DRAIN_LIMIT: usize = 256 * 1024 * 1024;

/// A request body: complete, or over the limit (then only its size is kept).
pub enum Body {
    Complete(web::Bytes),
    /// The body was larger than the limit: `bytes` is what was read (the declared length when
    /// larger), none of it kept.
    Oversize {
        bytes: usize,
    },
}

/// Reads the body up to `limit` bytes; a larger one is reported as [`Body::Oversize`], after
/// being drained when `drain` (so the device reads its reply), else at once.
pub async fn read(
    req: &actix_web::HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    drain: bool,
) -> Result<Body, DeviceError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut kept = web::BytesMut::new();
    let mut read = 0usize;
    let mut over = declared.is_some_and(|d| d > limit);
    while !over || drain {
        let Some(chunk) = payload.next().await else { break };
        let chunk = chunk.map_err(|e| DeviceError::BadRequest(format!("could not read the body: {e}")))?;
        read += chunk.len();
        if !over && read > limit {
            over = true;
            kept = web::BytesMut::new();
        }
        if !over {
            kept.extend_from_slice(&chunk);
        }
        if read > DRAIN_LIMIT {
            break;
        }
    }
    Ok(if over { Body::Oversize { bytes: read.max(declared.unwrap_or(0)) } } else { Body::Complete(kept.freeze()) })
}
