//! The file store: a snapshot and a log of updates, in a directory per client.
//!
//! `dir/<client id>/` holds `lock` (locked while a [`FileStore`] has the
//! directory open), `snapshot` (the whole state at generation g; none means
//! empty at 0) and `log` (one record per `apply` since snapshot g; its header
//! names g).
//!
//! Compaction writes the state as snapshot g+1 (a temporary file, synced,
//! renamed over the old one, then the directory synced) and then an empty
//! log g+1 the same way. A crash between any two steps leaves a store that
//! opens to the same state: temporary files are removed at open, and a log
//! older than the snapshot is already part of it, so it is replaced.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use mq_proto::client::{SessionSnapshot, StoreUpdate};

use super::codec::{put_update, Reader};
use super::log::{End, Header, HEADER_LEN, RECORD_HEAD};
use super::{fs, snapshot, SessionStore, StoreError};

const LOCK: &str = "lock";
const SNAPSHOT: &str = "snapshot";
const SNAPSHOT_TMP: &str = "snapshot.tmp";
const LOG: &str = "log";
const LOG_TMP: &str = "log.tmp";

/// The log length past which compaction is considered, unless changed with
/// [`FileStore::with_compaction_threshold`].
const COMPACTION_THRESHOLD: u64 = 1 << 20;

/// A [`SessionStore`] on disk that survives a crash of the process or the
/// machine: an append-only log of checksummed records, synced once per
/// [`apply`](SessionStore::apply), compacted into a snapshot file when it
/// grows past 1 MiB and four times the state.
///
/// Opening it locks the client's directory until the store is dropped, and
/// reads it back: a record the last write did not finish is cut off (see
/// [`FileStore::discarded_tail`]); damage anywhere else is an error.
///
/// ```
/// use mq_common::store::{FileStore, SessionStore};
/// use mq_proto::client::StoreUpdate;
/// let dir = tempfile::tempdir().unwrap();
/// let store = FileStore::open(dir.path(), "sensor-1").unwrap();
/// store.apply(&[StoreUpdate::IncomingQoS2Received { packet_id: 9 }]).unwrap();
/// drop(store);
/// let store = FileStore::open(dir.path(), "sensor-1").unwrap();
/// assert_eq!(store.load().unwrap().incoming_qos2, [9]);
/// ```
pub struct FileStore {
    dir: PathBuf,
    discarded_tail: Option<u64>,
    inner: Mutex<Inner>,
    /// Locked for the store's life: closing it unlocks.
    _lock: File,
}

/// What `apply` changes.
struct Inner {
    state: SessionSnapshot,
    log: File,
    header: Header,
    log_len: u64,
    threshold: u64,
    /// The log length at which compaction is considered next.
    compact_at: u64,
    /// A write failed: memory may be ahead of the disk.
    failed: bool,
    /// Test hook: compaction stops after this step, as if the process died.
    #[cfg(test)]
    stop_after: Option<u8>,
}

impl FileStore {
    /// Opens (creating it if missing) the store of `client_id` in `dir`.
    pub fn open(dir: impl AsRef<Path>, client_id: &str) -> Result<FileStore, StoreError> {
        check_client_id(client_id)?;
        let parent = dir.as_ref();
        let dir = parent.join(client_id);
        if !dir.is_dir() {
            fs::create_dir(&dir)?;
            fs::sync_dir(parent)?;
        }
        let lock = lock(&dir)?;
        let (inner, discarded_tail) = Inner::recover(&dir)?;
        Ok(FileStore {
            dir,
            discarded_tail,
            inner: Mutex::new(inner),
            _lock: lock,
        })
    }

    /// Compacts once the log passes `bytes` (1 MiB unless set) and four
    /// times the size of the state.
    pub fn with_compaction_threshold(mut self, bytes: u64) -> Self {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        inner.threshold = bytes;
        inner.compact_at = bytes;
        self
    }

    /// How many bytes of a record the last write did not finish were cut
    /// off the log at open, if any.
    pub fn discarded_tail(&self) -> Option<u64> {
        self.discarded_tail
    }

    /// The state, unless an earlier write failed.
    fn inner(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        match self.inner.lock() {
            Ok(inner) if !inner.failed => Ok(inner),
            _ => Err(StoreError::Failed {
                path: self.dir.clone(),
            }),
        }
    }

    /// Test hook: compacts now, stopping after step `stop_after` if given.
    #[cfg(test)]
    pub(super) fn compact_now(&self, stop_after: Option<u8>) -> Result<(), StoreError> {
        let mut inner = self.inner()?;
        inner.stop_after = stop_after;
        let snapshot = snapshot::encode(inner.header.generation + 1, &inner.state)?;
        inner.compact(&self.dir, &snapshot)
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> Result<SessionSnapshot, StoreError> {
        Ok(self.inner()?.state.clone())
    }

    fn apply(&self, updates: &[StoreUpdate]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut inner = self.inner()?;
        let result = inner.apply(&self.dir, updates);
        if let Err(StoreError::Io { .. }) = result {
            inner.failed = true;
        }
        result
    }
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Reads the store in `dir`, finishing a compaction a crash interrupted
    /// and cutting off a torn tail of the log (returning its length).
    fn recover(dir: &Path) -> Result<(Inner, Option<u64>), StoreError> {
        fs::remove_if_present(&dir.join(SNAPSHOT_TMP))?;
        fs::remove_if_present(&dir.join(LOG_TMP))?;
        let snapshot_path = dir.join(SNAPSHOT);
        let (generation, mut state) = match fs::read_if_present(&snapshot_path)? {
            Some(file) => snapshot::decode(&snapshot_path, &file)?,
            None => (0, SessionSnapshot::default()),
        };
        let log_path = dir.join(LOG);
        let existing = match fs::read_if_present(&log_path)? {
            Some(file) => Some((log_header(&log_path, &file, generation)?, file)),
            None => None,
        };
        let (header, valid_len, discarded) = match existing {
            Some((header, file)) if header.generation == generation => {
                let valid_len = replay(&log_path, &header, &file, &mut state)?;
                (header, valid_len, file.len() - valid_len)
            }
            // No log yet, or one the snapshot already holds (a compaction
            // stopped before its new log).
            _ => (start_log(dir, generation)?, HEADER_LEN, 0),
        };
        let log = fs::open_append(&log_path)?;
        if discarded > 0 {
            tracing::warn!(
                path = %log_path.display(),
                bytes = discarded,
                "cutting off the torn tail of a session log"
            );
            log.set_len(valid_len as u64)
                .and_then(|()| log.sync_data())
                .map_err(fs::io_error("truncate", &log_path))?;
        }
        let inner = Inner {
            state,
            log,
            header,
            log_len: valid_len as u64,
            threshold: COMPACTION_THRESHOLD,
            compact_at: COMPACTION_THRESHOLD,
            failed: false,
            #[cfg(test)]
            stop_after: None,
        };
        Ok((inner, (discarded > 0).then_some(discarded as u64)))
    }

    /// Records `updates`: in memory first (an update naming an unknown
    /// request must not reach the log), then one synced record.
    fn apply(&mut self, dir: &Path, updates: &[StoreUpdate]) -> Result<(), StoreError> {
        let mut record = vec![0; RECORD_HEAD];
        // Where each update starts in `record`, then where the last ends.
        let mut starts = vec![RECORD_HEAD];
        for update in updates {
            put_update(&mut record, update)?;
            starts.push(record.len());
        }
        // Refuses a record too long before anything changes.
        self.header.seal(&mut record)?;
        let mut outcome = Ok(());
        let mut applied = 0;
        for update in updates {
            outcome = self.state.apply(update.clone());
            if outcome.is_err() {
                break;
            }
            applied += 1;
        }
        if applied < updates.len() {
            record.truncate(starts[applied]);
            self.header.seal(&mut record)?;
        }
        if applied > 0 {
            let path = dir.join(LOG);
            self.log
                .write_all(&record)
                .and_then(|()| self.log.sync_data())
                .map_err(fs::io_error("append to", &path))?;
            self.log_len += record.len() as u64;
        }
        outcome?;
        self.compact_if_due(dir)
    }

    /// Compacts when the log has passed the threshold and four times the
    /// size of the state.
    fn compact_if_due(&mut self, dir: &Path) -> Result<(), StoreError> {
        if self.log_len < self.compact_at {
            return Ok(());
        }
        let snapshot = snapshot::encode(self.header.generation + 1, &self.state)?;
        let live = snapshot.len() as u64;
        if self.log_len > 4 * live {
            self.compact(dir, &snapshot)
        } else {
            self.compact_at = 4 * live + 1;
            Ok(())
        }
    }

    /// Installs `snapshot` (of the next generation) and an empty log after it.
    fn compact(&mut self, dir: &Path, snapshot: &[u8]) -> Result<(), StoreError> {
        fs::write_synced(dir, SNAPSHOT_TMP, snapshot)?;
        if self.stops_after(1) {
            return Ok(());
        }
        fs::install(dir, SNAPSHOT_TMP, SNAPSHOT)?;
        if self.stops_after(2) {
            return Ok(());
        }
        self.header = start_log(dir, self.header.generation + 1)?;
        self.log = fs::open_append(&dir.join(LOG))?;
        self.log_len = HEADER_LEN as u64;
        self.compact_at = self.threshold;
        Ok(())
    }

    #[cfg(test)]
    fn stops_after(&self, step: u8) -> bool {
        self.stop_after == Some(step)
    }

    #[cfg(not(test))]
    fn stops_after(&self, _: u8) -> bool {
        false
    }
}

/// The header of the log `file` at `path`, checked against the snapshot's
/// `generation`.
fn log_header(path: &Path, file: &[u8], generation: u64) -> Result<Header, StoreError> {
    let header =
        Header::decode(file).ok_or_else(|| StoreError::corrupt(path, 0, "not a session log"))?;
    if header.generation > generation {
        let reason = format!(
            "log generation {} follows snapshot generation {generation}",
            header.generation
        );
        return Err(StoreError::corrupt(path, 8, reason));
    }
    Ok(header)
}

/// Puts an empty log following snapshot `generation` in place, atomically.
fn start_log(dir: &Path, generation: u64) -> Result<Header, StoreError> {
    let header = Header::new(generation);
    fs::write_synced(dir, LOG_TMP, &header.encode())?;
    fs::install(dir, LOG_TMP, LOG)?;
    Ok(header)
}

/// Applies the records of the log `file` to `state`; returns where the
/// valid records end.
fn replay(
    path: &Path,
    header: &Header,
    file: &[u8],
    state: &mut SessionSnapshot,
) -> Result<usize, StoreError> {
    let (records, end) = header.records(file);
    let valid_len = match end {
        End::Clean => file.len(),
        End::Torn { offset } => offset,
        End::Corrupt { offset } => {
            let reason = "invalid record followed by valid ones";
            return Err(StoreError::corrupt(path, offset, reason));
        }
    };
    for payload in records {
        let mut reader = Reader::new(&file[payload.clone()]);
        while !reader.is_empty() {
            let update = reader
                .update()
                .map_err(|e| StoreError::corrupt(path, payload.start + e.offset, e.reason))?;
            state.apply(update).map_err(|e| {
                StoreError::corrupt(path, payload.start - RECORD_HEAD, e.to_string())
            })?;
        }
    }
    Ok(valid_len)
}

/// Refuses a client id that cannot name a directory of its own.
fn check_client_id(id: &str) -> Result<(), StoreError> {
    let mut components = Path::new(id).components();
    let one_name = matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(_)), None)
    );
    let bad_char = |c: char| c == '/' || c == '\\' || c.is_control();
    if one_name && id.len() <= 255 && !id.contains(bad_char) {
        Ok(())
    } else {
        Err(StoreError::InvalidClientId)
    }
}

/// Locks the store in `dir` for the life of the returned file.
fn lock(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK);
    let file = fs::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(fs::io_error("create", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked {
            path: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(fs::io_error("lock", &path)(e)),
    }
}
