//! Durable session state: what a client must remember to resume its session
//! after a restart (unfinished QoS 1/2 publishes, incoming QoS 2 receipts,
//! granted subscriptions).
//!
//! The client reports every change as a [`StoreUpdate`]; a [`SessionStore`]
//! records them and gives back the [`SessionSnapshot`] they add up to.
//! [`MemoryStore`] keeps it in memory (a client restarted in the same
//! process), [`FileStore`] on disk (a restart of the process or machine).

mod codec;
mod file;
mod fs;
mod log;
mod memory;
mod snapshot;
#[cfg(test)]
mod tests;

pub use file::FileStore;
pub use memory::MemoryStore;

use std::path::{Path, PathBuf};

use mq_proto::client::{SessionSnapshot, StoreUpdate, UnknownRequest};

/// Keeps a client's session state across restarts of the process.
pub trait SessionStore: Send + Sync + std::fmt::Debug + 'static {
    /// What the store holds (empty when new).
    fn load(&self) -> Result<SessionSnapshot, StoreError>;
    /// Records `updates`, in order, durably: once this returns Ok they survive a crash of the process or machine.
    fn apply(&self, updates: &[StoreUpdate]) -> Result<(), StoreError>;
    /// Whether [`SessionStore::apply`] blocks on I/O, so the driver runs it
    /// off the async runtime's threads. Default true.
    fn blocks(&self) -> bool {
        true
    }
}

/// Why a session store could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error("session store: cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("create", "read", "append to", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Another [`FileStore`], in this process or another, has the store open.
    #[error("session store {} is in use by another FileStore", path.display())]
    Locked {
        /// The store's directory.
        path: PathBuf,
    },
    /// The client id cannot name a directory: it is empty, `.` or `..`,
    /// holds `/`, `\` or a control character, or is over 255 bytes.
    #[error("the client id cannot name a session store directory")]
    InvalidClientId,
    /// A file does not hold what the store wrote there.
    #[error("session store file {} is corrupt at byte {offset}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// An update named a request the store does not hold: the updates were
    /// not applied in the order the client reported them. The updates
    /// before it are recorded.
    #[error(transparent)]
    UnknownRequest(#[from] UnknownRequest),
    /// A message the codec refuses to encode cannot be stored.
    #[error("session store cannot encode the message: {0}")]
    Encode(#[from] mq_proto::EncodeError),
    /// An earlier write failed, so what reached the disk is uncertain: the
    /// store refuses further calls. Opening it again reloads what is there.
    #[error("session store {} failed earlier; open it again", path.display())]
    Failed {
        /// The store's directory.
        path: PathBuf,
    },
}

impl StoreError {
    /// A [`StoreError::Corrupt`] for `path`.
    fn corrupt(path: &Path, offset: usize, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            offset: offset as u64,
            reason: reason.into(),
        }
    }
}
