//! Incoming messages and acknowledgments of our requests: PUBLISH with
//! exactly-once delivery for QoS 2, PUBREL, SUBACK and UNSUBACK.

use alloc::vec::Vec;

use super::ack::AckToken;
use super::alias::InboundAliasError;
use super::event::{DisconnectReason, Event, ProtocolViolation};
use super::outgoing::PendingRequest;
use super::store::StoreUpdate;
use super::subscriptions::ActiveSubscription;
use super::{Client, Instant, ReceiveMaximumPolicy};
use crate::codec::{
    DecodeError, Packet, PacketType, ProtocolVersion, PubComp, PubRel, Publish, QoS, ReasonCode,
    SubAck, UnsubAck,
};

impl Client {
    pub(crate) fn handle_publish(&mut self, now: Instant, mut publish: Publish) {
        if let Some(alias) = publish.properties.topic_alias() {
            if let Err(e) = self.aliases_in.resolve(alias, &mut publish.topic) {
                let (code, violation) = match e {
                    InboundAliasError::OutOfRange => (
                        ReasonCode::TopicAliasInvalid,
                        ProtocolViolation::TopicAliasInvalid {
                            alias,
                            maximum: self.options.topic_alias_maximum,
                        },
                    ),
                    InboundAliasError::Unknown => (
                        ReasonCode::ProtocolError,
                        ProtocolViolation::UnknownTopicAlias(alias),
                    ),
                };
                self.protocol_error(now, code, violation);
                return;
            }
        }
        let Some(token) = AckToken::of(&publish) else {
            self.events.push_back(Event::Message(publish));
            return;
        };
        let manual = self.options.manual_acks;
        match (token.qos, self.pending_ack(token).map(|a| a.acknowledged)) {
            // A resend the application already acknowledged: its PUBACK waits its turn.
            (QoS::AtLeastOnce, Some(true)) => self.stats.duplicates_suppressed += 1,
            // A resend before the application acknowledged: delivered again, answered once.
            (QoS::AtLeastOnce, Some(false)) => self.events.push_back(Event::Message(publish)),
            (QoS::AtLeastOnce, None) => {
                self.events.push_back(Event::Message(publish));
                self.queue_ack(token, !manual);
            }
            // QoS 2 from here. MQTT-4.3.3-10: a duplicate until PUBREL is not
            // delivered again; one awaiting the application or its turn is answered once.
            (_, Some(_)) => self.stats.duplicates_suppressed += 1,
            (_, None) if self.incoming_qos2.contains_key(&token.packet_id) => {
                self.stats.duplicates_suppressed += 1;
                self.count_receipt(token.packet_id);
                self.queue_ack(token, true);
            }
            (_, None) => {
                if self.receive_maximum_exceeded() {
                    match self.options.receive_maximum_policy {
                        ReceiveMaximumPolicy::Disconnect => {
                            let violation = ProtocolViolation::ReceiveMaximumExceeded(
                                self.options.receive_maximum,
                            );
                            self.protocol_error(now, ReasonCode::ReceiveMaximumExceeded, violation);
                            return;
                        }
                        ReceiveMaximumPolicy::Tolerate => {
                            self.stats.receive_maximum_violations += 1
                        }
                    }
                }
                if !manual {
                    self.received_qos2(token.packet_id);
                }
                self.events.push_back(Event::Message(publish));
                self.queue_ack(token, !manual);
            }
        }
        self.send_acks(now);
    }

    /// Whether a new QoS 2 message goes beyond our Receive Maximum: the broker
    /// already waits on us for that many (5.0 only; 3.1.1 has none and the
    /// broker was never told ours). Counted: QoS 2 messages the broker sent on
    /// this connection and has not released, and QoS 1 and 2 messages whose
    /// PUBACK or PUBREC has not been sent. Receipts from earlier connections
    /// do not count: the broker's send quota starts afresh with each
    /// connection (4.9), and after a lost CONNACK with Session Present 0 the
    /// broker has no such messages at all.
    fn receive_maximum_exceeded(&self) -> bool {
        self.version == ProtocolVersion::V5
            && self.incoming_qos2_current + self.pending_acks.counted()
                >= usize::from(self.options.receive_maximum)
    }

    pub(crate) fn handle_pubrel(&mut self, now: Instant, rel: PubRel) {
        let pid = rel.packet_id;
        let reply = if let Some(connection) = self.incoming_qos2.remove(&pid) {
            if connection == self.connects {
                self.incoming_qos2_current -= 1;
            }
            if self.options.report_store_updates {
                self.store_updates
                    .push_back(StoreUpdate::IncomingQoS2Released { packet_id: pid });
            }
            PubComp::new(pid)
        } else {
            PubComp {
                reason_code: ReasonCode::PacketIdentifierNotFound,
                ..PubComp::new(pid)
            }
        };
        self.send_control(now, &Packet::PubComp(reply));
    }

    fn take_request(&mut self, pid: u16) -> Option<PendingRequest> {
        let request = self.requests.remove(&pid)?;
        self.outgoing.forget_request(pid);
        self.packet_ids.release(pid);
        Some(request)
    }

    pub(crate) fn handle_suback(&mut self, now: Instant, ack: SubAck) {
        let Some(request) = self.take_request(ack.packet_id) else {
            return;
        };
        let PendingRequest::Subscribe { id, packet } = request else {
            self.protocol_error(
                now,
                ReasonCode::ProtocolError,
                ProtocolViolation::UnexpectedPacket(PacketType::SubAck),
            );
            return;
        };
        if ack.reason_codes.len() != packet.subscriptions.len() {
            let violation = ProtocolViolation::ReasonCodeCount {
                packet_type: PacketType::SubAck,
                expected: packet.subscriptions.len(),
                got: ack.reason_codes.len(),
            };
            self.protocol_error(now, ReasonCode::ProtocolError, violation);
            return;
        }
        let mut results = Vec::new();
        for (sub, &code) in packet.subscriptions.iter().zip(&ack.reason_codes) {
            if code.is_error() {
                if self.subscriptions.remove(&sub.filter).is_some()
                    && self.options.report_store_updates
                {
                    self.store_updates
                        .push_back(StoreUpdate::SubscriptionRemoved {
                            filter: sub.filter.clone(),
                        });
                }
            } else {
                let active = ActiveSubscription {
                    filter: sub.filter.clone(),
                    options: sub.options,
                    subscription_identifier: packet.properties.subscription_identifiers().next(),
                    user_properties: packet.properties.user_properties.clone(),
                };
                if self.options.report_store_updates {
                    self.store_updates
                        .push_back(StoreUpdate::SubscriptionAdded(active.clone()));
                }
                self.subscriptions.insert(active);
            }
            if id.is_none() {
                results.push((sub.filter.clone(), code));
            }
        }
        self.events.push_back(match id {
            Some(id) => Event::Subscribed {
                id,
                result: Ok(ack.reason_codes),
            },
            None => Event::Resubscribed(results),
        });
    }

    pub(crate) fn handle_unsuback(&mut self, now: Instant, ack: UnsubAck) {
        let Some(request) = self.take_request(ack.packet_id) else {
            return;
        };
        let PendingRequest::Unsubscribe { id, packet } = request else {
            let violation = ProtocolViolation::UnexpectedPacket(PacketType::UnsubAck);
            self.protocol_error(now, ReasonCode::ProtocolError, violation);
            return;
        };
        let v5 = self.version == ProtocolVersion::V5;
        if v5 && ack.reason_codes.len() != packet.filters.len() {
            let violation = ProtocolViolation::ReasonCodeCount {
                packet_type: PacketType::UnsubAck,
                expected: packet.filters.len(),
                got: ack.reason_codes.len(),
            };
            self.protocol_error(now, ReasonCode::ProtocolError, violation);
            return;
        }
        for (i, filter) in packet.filters.iter().enumerate() {
            let removed = !v5 || ack.reason_codes.get(i).is_some_and(|c| !c.is_error());
            if removed
                && self.subscriptions.remove(filter).is_some()
                && self.options.report_store_updates
            {
                self.store_updates
                    .push_back(StoreUpdate::SubscriptionRemoved {
                        filter: filter.clone(),
                    });
            }
        }
        self.events.push_back(Event::Unsubscribed {
            id,
            result: Ok(ack.reason_codes),
        });
    }

    /// The broker broke the protocol: queue DISCONNECT with `reason_code` (5.0) and end the connection.
    pub(crate) fn protocol_error(
        &mut self,
        now: Instant,
        reason_code: ReasonCode,
        violation: ProtocolViolation,
    ) {
        if self.version == ProtocolVersion::V5 {
            let disconnect = crate::codec::Disconnect::new(reason_code);
            self.send_control(now, &Packet::Disconnect(disconnect));
        }
        self.connection_ended(
            now,
            DisconnectReason::ProtocolError {
                reason_code,
                violation,
            },
        );
    }

    pub(crate) fn decode_error(&mut self, now: Instant, error: DecodeError) {
        // A server's answer to a bad CONNECT (Unsupported Protocol Version)
        // is a CONNACK code: a broker that sends a CONNECT broke the protocol.
        let code = match error.reason_code() {
            code if code.is_valid_for(PacketType::Disconnect) => code,
            _ => ReasonCode::ProtocolError,
        };
        self.protocol_error(now, code, ProtocolViolation::Decode(error));
    }
}
