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
    /// The publish is finished (acknowledged, refused or expired): forget it.
    PublishCompleted {
        /// Its request.
        id: RequestId,
    },
    /// An incoming QoS 2 message was delivered and PUBREC sent: duplicates must not be redelivered.
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
