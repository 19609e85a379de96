//! Acknowledgments of incoming QoS 1 and 2 messages: PUBACK and PUBREC in
//! the order the messages arrived, held until the application has a message
//! when [`Options::manual_acks`](super::Options::manual_acks) is on.
//!
//! One queue holds every received QoS 1 and QoS 2 message whose PUBACK or
//! PUBREC has not been sent yet, in arrival order; acknowledgments leave from
//! its front. QoS 1 and QoS 2 share the order: that is stricter than
//! MQTT-4.6.0-2 and MQTT-4.6.0-3, which order each on its own, and always
//! satisfies both.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use super::{Client, ConnectionState, Instant, StoreUpdate};
use crate::codec::{Packet, PubAck, PubRec, Publish, QoS};

/// Names a received QoS 1 or 2 message for [`Client::acknowledge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AckToken {
    /// The message's QoS: 1 is answered with PUBACK, 2 with PUBREC.
    pub qos: QoS,
    /// The message's Packet Identifier.
    pub packet_id: u16,
}

impl AckToken {
    /// The token of a received message; `None` at QoS 0, which has no acknowledgment.
    pub fn of(message: &Publish) -> Option<AckToken> {
        (message.qos != QoS::AtMostOnce).then_some(AckToken {
            qos: message.qos,
            packet_id: message.packet_id,
        })
    }
}

/// Why [`Client::acknowledge`] refused a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No received message with this QoS and Packet Identifier awaits
    /// acknowledgment: it was acknowledged before, never received, or
    /// forgotten because the broker lost the session.
    #[error("no message awaits acknowledgment with this QoS and packet identifier")]
    NotPending,
}

/// A received message whose PUBACK or PUBREC has not been sent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingAck {
    pub token: AckToken,
    /// Whether the application acknowledged it: it goes out once every earlier one has.
    pub acknowledged: bool,
}

/// The queue of [`PendingAck`]s in arrival order, with what makes the
/// per-message questions cheap however long it grows (manual acks, a slow
/// application): which packet ids it holds (a bit per id, so a new message
/// is told apart from a resend without a scan) and how many entries count
/// toward our Receive Maximum.
#[derive(Debug, Default)]
pub(crate) struct PendingAcks {
    queue: VecDeque<PendingAck>,
    /// Bit `id` set: an entry with Packet Identifier `id` may be queued.
    /// Allocated (8 KiB) with the first entry.
    ids: Vec<u64>,
    /// Entries that count toward Receive Maximum: all but acknowledged QoS 2
    /// ones, which `incoming_qos2` counts already.
    counted: usize,
    /// Entries queued under an id that was queued already (only a broker
    /// that reuses an unacknowledged id makes them); while there are any,
    /// taking an entry checks whether its id is still queued.
    shared_ids: usize,
}

impl PendingAcks {
    fn counts(ack: &PendingAck) -> bool {
        !(ack.acknowledged && ack.token.qos == QoS::ExactlyOnce)
    }

    fn bit(&self, id: u16) -> bool {
        self.ids
            .get(usize::from(id / 64))
            .is_some_and(|word| word & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: u16, on: bool) {
        if self.ids.is_empty() {
            self.ids = vec![0; 1024];
        }
        let (word, mask) = (&mut self.ids[usize::from(id / 64)], 1u64 << (id % 64));
        if on {
            *word |= mask;
        } else {
            *word &= !mask;
        }
    }

    /// Queues `ack` behind every earlier one.
    pub fn push(&mut self, ack: PendingAck) {
        self.counted += usize::from(Self::counts(&ack));
        self.shared_ids += usize::from(self.bit(ack.token.packet_id));
        self.set_bit(ack.token.packet_id, true);
        self.queue.push_back(ack);
    }

    /// The entry of `token`: found by a scan only when its packet id is queued.
    pub fn find(&self, token: AckToken) -> Option<&PendingAck> {
        if !self.bit(token.packet_id) {
            return None;
        }
        self.queue.iter().find(|a| a.token == token)
    }

    /// Marks the entry of `token` acknowledged; false if none waits.
    fn acknowledge(&mut self, token: AckToken) -> bool {
        if !self.bit(token.packet_id) {
            return false;
        }
        let Some(ack) = self
            .queue
            .iter_mut()
            .find(|a| a.token == token && !a.acknowledged)
        else {
            return false;
        };
        let counted = Self::counts(ack);
        ack.acknowledged = true;
        self.counted -= usize::from(counted && !Self::counts(ack));
        true
    }

    /// Takes the front entry if it is acknowledged.
    fn pop_acknowledged(&mut self) -> Option<AckToken> {
        let ack = self.queue.front().filter(|a| a.acknowledged).copied()?;
        self.queue.pop_front();
        self.counted -= usize::from(Self::counts(&ack));
        let id = ack.token.packet_id;
        let still_queued =
            self.shared_ids > 0 && self.queue.iter().any(|a| a.token.packet_id == id);
        self.set_bit(id, still_queued);
        if self.queue.is_empty() {
            self.shared_ids = 0;
        }
        Some(ack.token)
    }

    /// Entries that count toward our Receive Maximum.
    pub fn counted(&self) -> usize {
        self.counted
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.ids.fill(0);
        self.counted = 0;
        self.shared_ids = 0;
    }
}

impl Client {
    /// Acknowledges a received QoS 1 or 2 message (with
    /// [`Options::manual_acks`](super::Options::manual_acks)): its PUBACK or
    /// PUBREC goes out once those of every message received before it have.
    ///
    /// At QoS 2 the message counts as received from now on: a durable store
    /// learns it ([`StoreUpdate::IncomingQoS2Received`]) and a resend is no
    /// longer delivered. A message delivered twice (the broker resent it
    /// before it was acknowledged) is acknowledged once.
    ///
    /// While disconnected nothing is sent: after a reconnect that resumes the
    /// session, the broker resends the message and the client answers it
    /// without delivering it again.
    pub fn acknowledge(&mut self, now: Instant, token: AckToken) -> Result<(), AckError> {
        if !self.pending_acks.acknowledge(token) {
            return Err(AckError::NotPending);
        }
        if token.qos == QoS::ExactlyOnce {
            self.received_qos2(token.packet_id);
        }
        self.send_acks(now);
        Ok(())
    }

    /// The queued acknowledgment of the message named by `token`.
    pub(crate) fn pending_ack(&self, token: AckToken) -> Option<&PendingAck> {
        self.pending_acks.find(token)
    }

    /// Queues the answer to a received PUBLISH behind those of earlier ones.
    pub(crate) fn queue_ack(&mut self, token: AckToken, acknowledged: bool) {
        self.pending_acks.push(PendingAck {
            token,
            acknowledged,
        });
    }

    /// Records a QoS 2 message as received: until PUBREL a resend is answered
    /// with PUBREC and not delivered (MQTT-4.3.3-10).
    pub(crate) fn received_qos2(&mut self, packet_id: u16) {
        self.count_receipt(packet_id);
        if self.options.report_store_updates {
            self.store_updates
                .push_back(StoreUpdate::IncomingQoS2Received { packet_id });
        }
    }

    /// Records that the broker sent QoS 2 message `packet_id` on this
    /// connection (again, for a resend): it holds a place under our Receive
    /// Maximum until PUBREL.
    pub(crate) fn count_receipt(&mut self, packet_id: u16) {
        if self.incoming_qos2.insert(packet_id, self.connects) != Some(self.connects) {
            self.incoming_qos2_current += 1;
        }
    }

    /// Sends the acknowledged PUBACKs and PUBRECs at the front of the queue;
    /// nothing without a connection, where the broker's resend will ask again.
    pub(crate) fn send_acks(&mut self, now: Instant) {
        if self.state != ConnectionState::Connected {
            return;
        }
        while let Some(token) = self.pending_acks.pop_acknowledged() {
            let packet = match token.qos {
                QoS::ExactlyOnce => Packet::PubRec(PubRec::new(token.packet_id)),
                _ => Packet::PubAck(PubAck::new(token.packet_id)),
            };
            self.send_control(now, &packet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(qos: QoS, packet_id: u16) -> AckToken {
        AckToken { qos, packet_id }
    }

    fn queue(acks: &[AckToken]) -> PendingAcks {
        let mut q = PendingAcks::default();
        for &token in acks {
            q.push(PendingAck {
                token,
                acknowledged: false,
            });
        }
        q
    }

    #[test]
    fn finds_by_token_and_leaves_in_arrival_order() {
        let (a, b, c) = (
            token(QoS::AtLeastOnce, 1),
            token(QoS::ExactlyOnce, 2),
            token(QoS::AtLeastOnce, 65535),
        );
        let mut q = queue(&[a, b, c]);
        assert_eq!(q.counted(), 3);
        assert!(q.find(b).is_some());
        assert!(
            q.find(token(QoS::AtLeastOnce, 2)).is_none(),
            "same id, other QoS"
        );
        assert!(q.find(token(QoS::AtLeastOnce, 3)).is_none());

        assert!(q.acknowledge(b));
        assert!(!q.acknowledge(b), "acknowledged twice");
        assert_eq!(
            q.counted(),
            2,
            "an acknowledged QoS 2 entry counts in incoming_qos2"
        );
        assert_eq!(q.pop_acknowledged(), None, "the front is not acknowledged");

        assert!(q.acknowledge(a));
        assert_eq!(
            q.counted(),
            2,
            "an acknowledged QoS 1 entry counts until sent"
        );
        assert_eq!(q.pop_acknowledged(), Some(a));
        assert_eq!(q.pop_acknowledged(), Some(b));
        assert_eq!(q.pop_acknowledged(), None);
        assert_eq!(q.counted(), 1);
        assert!(q.find(a).is_none() && q.find(b).is_none());
        assert!(q.find(c).is_some());

        q.clear();
        assert!(q.find(c).is_none());
        assert_eq!(q.counted(), 0);
    }

    #[test]
    fn an_id_queued_twice_stays_findable_until_both_leave() {
        // Only a broker that reuses an unacknowledged id does this.
        let (first, second) = (token(QoS::AtLeastOnce, 7), token(QoS::ExactlyOnce, 7));
        let mut q = queue(&[first, second]);
        assert!(q.acknowledge(first));
        assert_eq!(q.pop_acknowledged(), Some(first));
        assert!(q.find(second).is_some());
        assert!(q.acknowledge(second));
        assert_eq!(q.pop_acknowledged(), Some(second));
        assert!(q.find(second).is_none());
    }
}
