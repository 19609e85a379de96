//! The log file: a header, then one checksummed record per `apply` call.
//!
//! The header is `MAGIC | generation: u64 | salt: u32 | CRC-32 of the
//! preceding bytes: u32`. A record is `length: u32 | payload CRC: u32 |
//! head CRC: u32 | payload`; the head CRC covers the length and payload CRC,
//! so the start of a record can be recognised without reading its payload.
//! Both checksums start from the log's random salt: bytes inside a stored
//! message can never pass for a record.

use std::hash::BuildHasher;
use std::ops::Range;

use mq_proto::EncodeError;

/// Bytes of the header.
pub(super) const HEADER_LEN: usize = 24;
/// Bytes before a record's payload.
pub(super) const RECORD_HEAD: usize = 12;

const MAGIC: &[u8; 8] = b"mq-log\0\x01";

/// What the header of a log says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    /// Which snapshot the records follow.
    pub(super) generation: u64,
    /// Seeds the checksums of the records.
    salt: u32,
}

/// How the records of a log end.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    /// With the last byte.
    Clean,
    /// With bytes from `offset` on that hold no valid record: a write the
    /// process or machine did not finish.
    Torn { offset: usize },
    /// With an invalid record at `offset` that valid ones follow.
    Corrupt { offset: usize },
}

impl Header {
    /// The header of a new log that follows snapshot `generation`.
    pub(super) fn new(generation: u64) -> Self {
        let seed = (generation, std::time::SystemTime::now());
        Header {
            generation,
            salt: std::collections::hash_map::RandomState::new().hash_one(seed) as u32,
        }
    }

    pub(super) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[..8].copy_from_slice(MAGIC);
        out[8..16].copy_from_slice(&self.generation.to_le_bytes());
        out[16..20].copy_from_slice(&self.salt.to_le_bytes());
        let crc = crc32fast::hash(&out[..20]);
        out[20..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// The header at the start of `file`, if it holds one.
    pub(super) fn decode(file: &[u8]) -> Option<Self> {
        let head = file.get(..HEADER_LEN)?;
        let valid = &head[..8] == MAGIC && crc32fast::hash(&head[..20]) == le_u32(&head[20..]);
        valid.then(|| Header {
            generation: u64::from_le_bytes(head[8..16].try_into().unwrap_or_default()),
            salt: le_u32(&head[16..20]),
        })
    }

    /// Fills in the head of `record`: [`RECORD_HEAD`] bytes of room, then
    /// the payload (at most 4 GiB).
    pub(super) fn seal(&self, record: &mut [u8]) -> Result<(), EncodeError> {
        let (head, payload) = record.split_at_mut(RECORD_HEAD);
        let len = u32::try_from(payload.len()).map_err(|_| EncodeError::TooLong {
            field: "log record",
            len: payload.len(),
        })?;
        head[..4].copy_from_slice(&len.to_le_bytes());
        head[4..8].copy_from_slice(&self.checksum(payload).to_le_bytes());
        let head_crc = self.checksum(&head[..8]);
        head[8..].copy_from_slice(&head_crc.to_le_bytes());
        Ok(())
    }

    /// The payloads of the valid records of `file` (header included), in
    /// order, and how they end.
    pub(super) fn records(&self, file: &[u8]) -> (Vec<Range<usize>>, End) {
        let mut records = Vec::new();
        let mut at = HEADER_LEN;
        while let Some(payload) = self.record_at(file, at) {
            at = payload.end;
            records.push(payload);
        }
        let end = if at == file.len() {
            End::Clean
        } else if (at + 1..file.len()).any(|p| self.record_at(file, p).is_some()) {
            End::Corrupt { offset: at }
        } else {
            End::Torn { offset: at }
        };
        (records, end)
    }

    /// The payload of the valid record at `at`, if there is one.
    fn record_at(&self, file: &[u8], at: usize) -> Option<Range<usize>> {
        let head = file.get(at..at.checked_add(RECORD_HEAD)?)?;
        if self.checksum(&head[..8]) != le_u32(&head[8..]) {
            return None;
        }
        let start = at + RECORD_HEAD;
        let payload = start..start.checked_add(le_u32(&head[..4]) as usize)?;
        let valid = self.checksum(file.get(payload.clone())?) == le_u32(&head[4..8]);
        valid.then_some(payload)
    }

    fn checksum(&self, bytes: &[u8]) -> u32 {
        let mut hasher = crc32fast::Hasher::new_with_initial(self.salt);
        hasher.update(bytes);
        hasher.finalize()
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().unwrap_or_default())
}
