//! Acknowledgments of incoming QoS 1 and 2 messages: PUBACK and PUBREC in
//! the order the messages arrived, held until the application has a message
//! when [`Options::manual_acks`](super::Options::manual_acks) is on.
//!
//! One queue holds every received QoS 1 and QoS 2 message whose PUBACK or
//! PUBREC has not been sent yet, in arrival order; acknowledgments leave from
//! its front. QoS 1 and QoS 2 share the order: that is stricter than
//! MQTT-4.6.0-2 and MQTT-4.6.0-3, which order each on its own, and always
//! satisfies both.

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
        let ack = self
            .pending_acks
            .iter_mut()
            .find(|a| a.token == token && !a.acknowledged)
            .ok_or(AckError::NotPending)?;
        ack.acknowledged = true;
        if token.qos == QoS::ExactlyOnce {
            self.received_qos2(token.packet_id);
        }
        self.send_acks(now);
        Ok(())
    }

    /// The queued acknowledgment of the message named by `token`.
    pub(crate) fn pending_ack(&self, token: AckToken) -> Option<&PendingAck> {
        self.pending_acks.iter().find(|a| a.token == token)
    }

    /// Queues the answer to a received PUBLISH behind those of earlier ones.
    pub(crate) fn queue_ack(&mut self, token: AckToken, acknowledged: bool) {
        self.pending_acks.push_back(PendingAck {
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
        while let Some(PendingAck {
            token,
            acknowledged: true,
        }) = self.pending_acks.front().copied()
        {
            self.pending_acks.pop_front();
            let packet = match token.qos {
                QoS::ExactlyOnce => Packet::PubRec(PubRec::new(token.packet_id)),
                _ => Packet::PubAck(PubAck::new(token.packet_id)),
            };
            self.send_control(now, &packet);
        }
    }
}
