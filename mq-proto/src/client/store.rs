//! The session state a durable store persists: the changes the client
//! reports, and the snapshot it can be restored from.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::codec::Publish;

use super::event::RequestId;
use super::subscriptions::ActiveSubscription;

/// A change a durable session store must record, pulled with
/// [`super::Client::poll_store_update`]. Applying them in order to an empty
/// store yields what [`super::Client::snapshot`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUpdate {
    /// A QoS 1 or 2 publish was accepted; keep it until `PublishCompleted`.
    PublishQueued {
        /// Its request.
        id: RequestId,
        /// The message (packet identifier not yet assigned).
        publish: Box<Publish>,
    },
    /// The publish was sent with this packet identifier.
    PublishSent {
        /// Its request.
        id: RequestId,
        /// The packet identifier.
        packet_id: u16,
    },
    /// PUBREC arrived: from now on only PUBREL is resent.
    PublishReleased {
        /// Its request.
        id: RequestId,
    },
    /// The broker lost the session before acknowledging the publish: it goes
    /// back to the queue, to be sent again as a new message (its packet
    /// identifier is free).
    PublishRequeued {
        /// Its request.
        id: RequestId,
    },
    /// The publish is finished (acknowledged, refused or expired): forget it.
    PublishCompleted {
        /// Its request.
        id: RequestId,
    },
    /// An incoming QoS 2 message was delivered (and, with
    /// [`Options::manual_acks`](super::Options::manual_acks), acknowledged):
    /// duplicates must not be redelivered.
    IncomingQoS2Received {
        /// Its packet identifier.
        packet_id: u16,
    },
    /// PUBREL arrived for an incoming QoS 2 message: forget it.
    IncomingQoS2Released {
        /// Its packet identifier.
        packet_id: u16,
    },
    /// The broker granted a subscription.
    SubscriptionAdded(ActiveSubscription),
    /// A subscription was removed.
    SubscriptionRemoved {
        /// Its filter.
        filter: crate::codec::MqttString,
    },
    /// The broker has no session: every incoming QoS 2 receipt is forgotten.
    IncomingQoS2Cleared,
}

/// An outgoing QoS 1 or 2 message not yet finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPublish {
    /// Its request.
    pub id: RequestId,
    /// Packet identifier, once sent.
    pub packet_id: Option<u16>,
    /// Whether PUBREC arrived (only PUBREL remains).
    pub released: bool,
    /// The message.
    pub publish: Publish,
}

/// Everything a resumed session needs, in send order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// Unfinished outgoing QoS 1/2 messages, oldest first.
    pub outgoing: Vec<StoredPublish>,
    /// Packet identifiers of incoming QoS 2 messages awaiting PUBREL.
    pub incoming_qos2: Vec<u16>,
    /// Granted subscriptions.
    pub subscriptions: Vec<ActiveSubscription>,
}

/// A [`StoreUpdate`] that names a request the snapshot does not hold: the
/// updates were not applied in the order the client reported them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownRequest(pub RequestId);

impl core::fmt::Display for UnknownRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "store update for unknown request {}", self.0 .0)
    }
}

impl core::error::Error for UnknownRequest {}

impl SessionSnapshot {
    /// Records one change. Applying every update the client reported, in
    /// order, to an empty snapshot yields what [`super::Client::snapshot`]
    /// returns.
    ///
    /// ```
    /// use mq_proto::client::{RequestId, SessionSnapshot, StoreUpdate};
    /// use mq_proto::{Publish, QoS};
    /// let mut s = SessionSnapshot::default();
    /// let mut publish = Box::new(Publish::new("a", "x"));
    /// publish.qos = QoS::AtLeastOnce;
    /// s.apply(StoreUpdate::PublishQueued { id: RequestId(1), publish }).unwrap();
    /// s.apply(StoreUpdate::PublishSent { id: RequestId(1), packet_id: 7 }).unwrap();
    /// assert_eq!(s.outgoing[0].packet_id, Some(7));
    /// s.apply(StoreUpdate::PublishCompleted { id: RequestId(1) }).unwrap();
    /// assert!(s.outgoing.is_empty());
    /// assert!(s.apply(StoreUpdate::PublishCompleted { id: RequestId(1) }).is_err());
    /// ```
    pub fn apply(&mut self, update: StoreUpdate) -> Result<(), UnknownRequest> {
        let position = |outgoing: &[StoredPublish], id: RequestId| {
            outgoing
                .iter()
                .position(|s| s.id == id)
                .ok_or(UnknownRequest(id))
        };
        match update {
            StoreUpdate::PublishQueued { id, publish } => self.outgoing.push(StoredPublish {
                id,
                packet_id: None,
                released: false,
                publish: *publish,
            }),
            StoreUpdate::PublishSent { id, packet_id } => {
                let i = position(&self.outgoing, id)?;
                self.outgoing[i].packet_id = Some(packet_id);
                self.outgoing[i].publish.packet_id = packet_id;
            }
            StoreUpdate::PublishRequeued { id } => {
                let i = position(&self.outgoing, id)?;
                let stored = &mut self.outgoing[i];
                stored.packet_id = None;
                stored.publish.packet_id = 0;
                stored.publish.dup = false;
            }
            StoreUpdate::PublishReleased { id } => {
                let i = position(&self.outgoing, id)?;
                self.outgoing[i].released = true;
            }
            StoreUpdate::PublishCompleted { id } => {
                let i = position(&self.outgoing, id)?;
                self.outgoing.remove(i);
            }
            StoreUpdate::IncomingQoS2Received { packet_id } => {
                if !self.incoming_qos2.contains(&packet_id) {
                    self.incoming_qos2.push(packet_id);
                }
            }
            StoreUpdate::IncomingQoS2Released { packet_id } => {
                self.incoming_qos2.retain(|&p| p != packet_id);
            }
            StoreUpdate::IncomingQoS2Cleared => self.incoming_qos2.clear(),
            StoreUpdate::SubscriptionAdded(sub) => {
                match self
                    .subscriptions
                    .iter_mut()
                    .find(|s| s.filter == sub.filter)
                {
                    Some(existing) => *existing = sub,
                    None => self.subscriptions.push(sub),
                }
            }
            StoreUpdate::SubscriptionRemoved { filter } => {
                self.subscriptions.retain(|s| s.filter != filter);
            }
        }
        Ok(())
    }
}
