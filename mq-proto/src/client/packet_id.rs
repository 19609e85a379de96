//! Packet identifiers: one allocator for PUBLISH, SUBSCRIBE and UNSUBSCRIBE.

use alloc::vec;
use alloc::vec::Vec;

/// Hands out packet identifiers 1..=65535, never one still in use.
///
/// ```
/// use mq_proto::client::PacketIds;
/// let mut ids = PacketIds::new();
/// let a = ids.allocate().unwrap();
/// let b = ids.allocate().unwrap();
/// assert_ne!(a, b);
/// ids.release(a);
/// assert!(!ids.is_in_use(a));
/// ```
#[derive(Clone, Debug)]
pub struct PacketIds {
    /// One bit per identifier; bit 0 (identifier 0) is never used.
    in_use: Vec<u64>,
    /// The identifier after the last one handed out.
    next: u16,
    count: usize,
}

impl Default for PacketIds {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketIds {
    /// An allocator with every identifier free.
    pub fn new() -> Self {
        PacketIds {
            in_use: vec![0; 1024],
            next: 1,
            count: 0,
        }
    }

    /// Whether `id` is in use.
    pub fn is_in_use(&self, id: u16) -> bool {
        self.in_use[usize::from(id) / 64] & (1 << (id % 64)) != 0
    }

    /// Number of identifiers in use.
    pub fn in_use_count(&self) -> usize {
        self.count
    }

    /// The next free identifier, marked in use; `None` when all 65,535 are taken.
    pub fn allocate(&mut self) -> Option<u16> {
        if self.count == usize::from(u16::MAX) {
            return None;
        }
        loop {
            let id = self.next;
            self.next = if id == u16::MAX { 1 } else { id + 1 };
            if !self.is_in_use(id) {
                self.mark(id);
                return Some(id);
            }
        }
    }

    /// Marks `id` in use (for a restored session); false if it already was, or is 0.
    pub fn mark(&mut self, id: u16) -> bool {
        if id == 0 || self.is_in_use(id) {
            return false;
        }
        self.in_use[usize::from(id) / 64] |= 1 << (id % 64);
        self.count += 1;
        true
    }

    /// Frees `id`; freeing a free identifier does nothing.
    pub fn release(&mut self, id: u16) {
        if self.is_in_use(id) {
            self.in_use[usize::from(id) / 64] &= !(1 << (id % 64));
            self.count -= 1;
        }
    }

    /// Frees every identifier.
    pub fn clear(&mut self) {
        self.in_use.iter_mut().for_each(|w| *w = 0);
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MQTT-2.2.1-3 / 2.2.1-4: identifiers are non-zero and never reused while in flight.
    #[test]
    fn never_hands_out_zero_or_an_identifier_in_use_and_reports_exhaustion() {
        let mut ids = PacketIds::new();
        let mut seen = alloc::collections::BTreeSet::new();
        for _ in 0..u16::MAX {
            let id = ids.allocate().expect("free identifier");
            assert_ne!(id, 0);
            assert!(seen.insert(id), "identifier {id} handed out twice");
        }
        assert_eq!(ids.allocate(), None);
        ids.release(4242);
        assert_eq!(ids.allocate(), Some(4242));
        assert_eq!(ids.allocate(), None);
    }

    #[test]
    fn wraps_after_65535_and_skips_identifiers_in_use() {
        let mut ids = PacketIds::new();
        ids.mark(1);
        ids.next = u16::MAX;
        assert_eq!(ids.allocate(), Some(u16::MAX));
        assert_eq!(ids.allocate(), Some(2));
        assert_eq!(ids.in_use_count(), 3);
    }
}
