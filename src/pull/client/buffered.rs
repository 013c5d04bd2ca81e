//! Buffered table reads (CMD_QUERY_DATA, CMD_READ_DATA chunks with per-chunk timeout and retry,
//! CMD_FREE_DATA) and uploads through the device's upload buffer (CMD_FREE_DATA,
//! CMD_PREPARE_DATA, ≤ 1024-byte CMD_DATA parts with consecutive reply ids, CMD_HASH_DATA check).

use super::{check, Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::transport::TransportKind;
use crate::pull::wire::buffer::{pjw_hash, unframe_buffer, QueryData, QueryReply, ReadChunk};
use crate::pull::wire::command::{
    DATA, DB_RRQ, FCT_FINGERTMP, FCT_USER, FREE_DATA, HASH_DATA, PREPARE_DATA, QUERY_DATA, READ_DATA, USERTEMP_RRQ,
};
use crate::pull::wire::reply::{classify, ReplyKind};

/// Largest CMD_DATA part of an upload (device buffer size on UDP; kept on TCP too, spec §8.4).
pub(crate) const UPLOAD_PART: usize = 1024;
/// Default CMD_READ_DATA chunk on TCP (pyzk's, fits one 64 KiB device frame).
const TCP_CHUNK: u32 = 0xFFC0;
/// Default CMD_READ_DATA chunk on UDP.
const UDP_CHUNK: u32 = 16 * 1024;

impl Client {
    /// Reads a whole table and returns its body (without the u32 length prefix). Callers ask
    /// only when the counters say the table is not empty, so a refusal is an error: firmware
    /// without CMD_QUERY_DATA answers CMD_ACK_UNKNOWN (→ `Unsupported`) or CMD_ACK_ERROR.
    pub(crate) async fn read_table(&mut self, query: QueryData, what: &str) -> Result<Vec<u8>> {
        if self.legacy_reads {
            return self.read_table_legacy(query).await;
        }
        let r = self.call(QUERY_DATA, &query.encode(), Retry::NewId).await?;
        if classify(r.code) == ReplyKind::Unknown {
            // the oldest firmware has no buffered reads: use the legacy command from now on
            tracing::info!("pull: CMD_QUERY_DATA unknown, using legacy table reads");
            self.legacy_reads = true;
            return self.read_table_legacy(query).await;
        }
        let buffer = match classify(r.code) {
            // small tables come back inline: the whole `u32 len + body` buffer
            ReplyKind::Data => r.data,
            ReplyKind::Ok => {
                let announced = QueryReply::decode(&r.data)?;
                let buffer = self.read_chunks(announced.buffer_len, what).await;
                // always free the session buffer, even after a failed chunk
                let freed = self.call(FREE_DATA, &[], Retry::SameId).await;
                let buffer = buffer?;
                freed?;
                buffer
            }
            _ => {
                return check(QUERY_DATA, r)
                    .and_then(|r| Err(Error::Protocol(format!("CMD_QUERY_DATA answered with code {}", r.code))))
            }
        };
        self.payload_bytes += buffer.len() as u64;
        Ok(unframe_buffer(&buffer)?.to_vec())
    }

    /// Legacy direct read (spec §4.5): command 9 `[5]`, 7 `[2]` or 13 `[]`, answered with one
    /// stream of the `u32 len + body` buffer.
    async fn read_table_legacy(&mut self, query: QueryData) -> Result<Vec<u8>> {
        let payload: &[u8] = match query.data_type {
            USERTEMP_RRQ => &[FCT_USER],
            DB_RRQ => &[FCT_FINGERTMP],
            _ => &[],
        };
        let r = self.call(query.data_type, payload, Retry::NewId).await?;
        let r = check(query.data_type, r)?;
        self.payload_bytes += r.data.len() as u64;
        Ok(unframe_buffer(&r.data)?.to_vec())
    }

    async fn read_chunks(&mut self, total: u32, what: &str) -> Result<Vec<u8>> {
        let chunk = self.opts.chunk_size.unwrap_or(match self.transport.kind() {
            TransportKind::Tcp => TCP_CHUNK,
            TransportKind::Udp => UDP_CHUNK,
        });
        let mut buffer = Vec::with_capacity(total as usize);
        let mut offset = 0u32;
        while offset < total {
            let size = chunk.min(total - offset);
            let r = self.call(READ_DATA, &ReadChunk { offset, size }.encode(), Retry::NewId).await?;
            let r = check(READ_DATA, r)?;
            if r.data.len() != size as usize {
                return Err(Error::Protocol(format!("chunk at {offset}: {} bytes, asked {size}", r.data.len())));
            }
            buffer.extend_from_slice(&r.data);
            offset += size;
            self.report(what, u64::from(offset), u64::from(total));
        }
        Ok(buffer)
    }

    /// Fills the device's upload buffer with `data` and checks the device's hash of it.
    pub(crate) async fn upload(&mut self, data: &[u8], what: &str) -> Result<()> {
        let len = u32::try_from(data.len()).map_err(|_| Error::Protocol("upload larger than 4 GiB".into()))?;
        self.call_ok(FREE_DATA, &[], Retry::SameId).await?;
        self.call_ok(PREPARE_DATA, &len.to_le_bytes(), Retry::SameId).await?;
        let total = data.len() as u64;
        for (i, part) in data.chunks(UPLOAD_PART).enumerate() {
            self.call_ok(DATA, part, Retry::SameId).await?;
            self.report(what, (i * UPLOAD_PART + part.len()) as u64, total);
        }
        match self.call_ok(HASH_DATA, &[], Retry::NewId).await {
            Ok(r) if r.data.len() >= 4 => {
                let device = u32::from_le_bytes([r.data[0], r.data[1], r.data[2], r.data[3]]);
                let ours = pjw_hash(data);
                if device != ours {
                    return Err(Error::Protocol(format!("upload hash mismatch: device {device:#x}, ours {ours:#x}")));
                }
                Ok(())
            }
            // firmware without CMD_HASH_DATA: nothing to compare
            Ok(_) | Err(Error::Unsupported { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Frees the upload/read buffer (after an upload was consumed).
    pub(crate) async fn free_buffer(&mut self) -> Result<()> {
        self.call_ok(FREE_DATA, &[], Retry::SameId).await.map(|_| ())
    }
}
