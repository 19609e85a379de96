//! The in-memory store.

use std::sync::{Mutex, PoisonError};

use mq_proto::client::{SessionSnapshot, StoreUpdate};

use super::{SessionStore, StoreError};

/// A [`SessionStore`] in memory: the session survives a restart of the
/// client (keep an `Arc` of the store and hand it to the next client), not
/// of the process.
///
/// ```
/// use mq_common::store::{MemoryStore, SessionStore};
/// use mq_proto::client::StoreUpdate;
/// let store = MemoryStore::new();
/// store.apply(&[StoreUpdate::IncomingQoS2Received { packet_id: 9 }]).unwrap();
/// assert_eq!(store.load().unwrap().incoming_qos2, [9]);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<SessionSnapshot>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionStore for MemoryStore {
    fn blocks(&self) -> bool {
        false
    }

    fn load(&self) -> Result<SessionSnapshot, StoreError> {
        Ok(self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn apply(&self, updates: &[StoreUpdate]) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for update in updates {
            state.apply(update.clone())?;
        }
        Ok(())
    }
}
