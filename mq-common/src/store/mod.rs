//! Placeholder for the session store (replaced by the `store` branch).

use mq_proto::client::{SessionSnapshot, StoreUpdate};

/// Keeps a client's session state across restarts of the process.
pub trait SessionStore: Send + Sync + std::fmt::Debug + 'static {
    /// What the store holds (empty when new).
    fn load(&self) -> Result<SessionSnapshot, StoreError>;
    /// Records `updates`, in order, durably.
    fn apply(&self, updates: &[StoreUpdate]) -> Result<(), StoreError>;
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
