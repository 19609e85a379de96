//! The snapshot file: the whole session state at one generation, written by
//! compaction. Its layout is `MAGIC | generation: u64 | CRC-32 of the
//! generation and body: u32 | body`.

use std::path::Path;

use mq_proto::client::SessionSnapshot;
use mq_proto::EncodeError;

use super::codec::{put_snapshot, Reader};
use super::StoreError;

const MAGIC: &[u8; 8] = b"mq-snap\x01";
/// Bytes before the body.
const HEAD: usize = 20;

/// The file for `state` at `generation`.
pub(super) fn encode(generation: u64, state: &SessionSnapshot) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    put_snapshot(&mut out, state)?;
    let crc = checksum(&out);
    out[16..HEAD].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The generation and state in `file`, read from `path`.
pub(super) fn decode(path: &Path, file: &[u8]) -> Result<(u64, SessionSnapshot), StoreError> {
    if file.len() < HEAD || &file[..8] != MAGIC {
        return Err(StoreError::corrupt(path, 0, "not a session snapshot"));
    }
    if checksum(file).to_le_bytes() != file[16..HEAD] {
        return Err(StoreError::corrupt(path, 16, "checksum mismatch"));
    }
    let generation = u64::from_le_bytes(file[8..16].try_into().unwrap_or_default());
    let mut reader = Reader::new(&file[HEAD..]);
    let state = reader
        .snapshot()
        .map_err(|e| StoreError::corrupt(path, HEAD + e.offset, e.reason))?;
    if !reader.is_empty() {
        return Err(StoreError::corrupt(path, HEAD, "bytes after the state"));
    }
    Ok((generation, state))
}

/// The CRC-32 of the generation and the body.
fn checksum(file: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&file[8..16]);
    hasher.update(&file[HEAD..]);
    hasher.finalize()
}
