//! Outgoing messages and requests: the bounded queue, QoS 1/2 flows under the
//! broker's Receive Maximum, topic aliasing, message expiry, SUBSCRIBE and
//! UNSUBSCRIBE.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::time::Duration;

use super::alias::OutboundAlias;
use super::event::{CommandError, Event, RequestError, RequestId};
use super::store::{StoreUpdate, StoredPublish};
use super::{Client, ConnectionState, PacketIds, TopicAliasPolicy};
use crate::codec::{
    AliasedPublish, EncodeError, MqttString, Packet, PropertyContext, PropertyId, ProtocolVersion,
    PubAck, PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, Subscribe, Unsubscribe,
};
use crate::topic::{parse_shared, validate_topic_filter, validate_topic_name};

use super::Instant;

/// A publish accepted from the user and not yet finished.
#[derive(Debug)]
pub(crate) struct OutMessage {
    pub(crate) id: RequestId,
    pub(crate) publish: Publish,
    /// When `publish`'s Message Expiry Interval was last brought up to date.
    pub(crate) expiry_base: Instant,
    /// Acceptance order, for resending in the original order.
    pub(crate) seq: u64,
}

#[derive(Debug)]
struct InFlight {
    msg: OutMessage,
    /// PUBREC arrived: only PUBREL remains.
    released: bool,
}

/// The queue and the QoS 1/2 messages in flight.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    in_flight: BTreeMap<u16, InFlight>,
    queue: VecDeque<OutMessage>,
    seq: u64,
    /// No queued message expires before this (a lower bound; may be stale-early).
    next_expiry: Option<Instant>,
    /// `seq` of the last QoS 1/2 publish put on the wire.
    sent_seq: u64,
    /// For each pending SUBSCRIBE or UNSUBSCRIBE, `sent_seq` when it was made:
    /// publishes up to there went out before it, and are resent before it.
    request_after: BTreeMap<u16, u64>,
    /// In-flight publishes of a resumed session still to be sent again, in
    /// order: more than the broker's Receive Maximum were in flight.
    awaiting_resend: VecDeque<u16>,
}

impl Outgoing {
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.next_expiry
    }

    /// `sent_seq` when the request `pid` was made; 0 for the client's own resubscriptions.
    fn request_after(&self, pid: u16) -> u64 {
        self.request_after.get(&pid).copied().unwrap_or(0)
    }

    /// A SUBSCRIBE or UNSUBSCRIBE was acknowledged.
    pub(crate) fn forget_request(&mut self, pid: u16) {
        self.request_after.remove(&pid);
    }

    fn enqueue(&mut self, id: RequestId, publish: Publish, now: Instant) {
        self.seq += 1;
        if let Some(secs) = publish.properties.message_expiry_interval() {
            let at = now + Duration::from_secs(u64::from(secs));
            self.next_expiry = Some(self.next_expiry.map_or(at, |t| t.min(at)));
        }
        self.queue.push_back(OutMessage {
            id,
            publish,
            expiry_base: now,
            seq: self.seq,
        });
    }

    /// In-flight messages in the order they were accepted.
    fn in_flight_in_order(&self) -> Vec<u16> {
        let mut ids: Vec<(u64, u16)> = self
            .in_flight
            .iter()
            .map(|(pid, f)| (f.msg.seq, *pid))
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|(_, pid)| pid).collect()
    }

    pub(crate) fn snapshot(&self) -> Vec<StoredPublish> {
        let mut out: Vec<(u64, StoredPublish)> = self
            .in_flight
            .iter()
            .map(|(pid, f)| {
                (
                    f.msg.seq,
                    StoredPublish {
                        id: f.msg.id,
                        packet_id: Some(*pid),
                        released: f.released,
                        publish: f.msg.publish.clone(),
                    },
                )
            })
            .collect();
        out.extend(
            self.queue
                .iter()
                .filter(|m| m.publish.qos != QoS::AtMostOnce)
                .map(|m| {
                    (
                        m.seq,
                        StoredPublish {
                            id: m.id,
                            packet_id: None,
                            released: false,
                            publish: m.publish.clone(),
                        },
                    )
                }),
        );
        out.sort_by_key(|(seq, _)| *seq);
        out.into_iter().map(|(_, s)| s).collect()
    }

    /// Puts a stored message back: in flight if it had a packet identifier, else queued.
    pub(crate) fn restore(&mut self, stored: StoredPublish, ids: &mut PacketIds) {
        self.seq += 1;
        let mut msg = OutMessage {
            id: stored.id,
            publish: stored.publish,
            expiry_base: Instant::ZERO,
            seq: self.seq,
        };
        match stored.packet_id {
            Some(pid) if ids.mark(pid) => {
                msg.publish.packet_id = pid;
                self.in_flight.insert(
                    pid,
                    InFlight {
                        msg,
                        released: stored.released,
                    },
                );
            }
            _ => self.queue.push_back(msg),
        }
    }
}

/// A SUBSCRIBE or UNSUBSCRIBE waiting for its acknowledgment.
#[derive(Debug)]
pub(crate) enum PendingRequest {
    /// `id` is `None` for a resubscribe the client made itself.
    Subscribe {
        id: Option<RequestId>,
        packet: Subscribe,
    },
    Unsubscribe {
        id: RequestId,
        packet: Unsubscribe,
    },
}

impl PendingRequest {
    fn packet(&self) -> Packet {
        match self {
            PendingRequest::Subscribe { packet, .. } => Packet::Subscribe(packet.clone()),
            PendingRequest::Unsubscribe { packet, .. } => Packet::Unsubscribe(packet.clone()),
        }
    }
}

fn result_of(
    reason_code: ReasonCode,
    reason_string: Option<MqttString>,
) -> Result<ReasonCode, RequestError> {
    if reason_code.is_error() {
        Err(RequestError::Rejected {
            reason_code,
            reason_string,
        })
    } else {
        Ok(reason_code)
    }
}

impl Client {
    /// Publishes a message and returns the request that [`Event::Published`] completes.
    ///
    /// `publish.topic`, `qos`, `retain`, `payload` and `properties` are used;
    /// `dup` and `packet_id` are the client's to set, and so are Topic Aliases.
    /// The message waits in the bounded queue while disconnected or while the
    /// broker's Receive Maximum is reached.
    pub fn publish(
        &mut self,
        now: Instant,
        mut publish: Publish,
    ) -> Result<RequestId, CommandError> {
        validate_topic_name(&publish.topic)?;
        if publish.properties.topic_alias().is_some() {
            return Err(CommandError::TopicAliasManaged);
        }
        // MQTT-3.3.4-6: only the server sends Subscription Identifiers in PUBLISH.
        if publish
            .properties
            .subscription_identifiers()
            .next()
            .is_some()
        {
            return Err(CommandError::Encode(EncodeError::PropertyNotAllowed {
                property: PropertyId::SubscriptionIdentifier,
                context: PropertyContext::Publish,
            }));
        }
        if publish.qos > self.server.maximum_qos {
            return Err(CommandError::QoSNotSupported {
                requested: publish.qos,
                maximum: self.server.maximum_qos,
            });
        }
        if publish.retain && !self.server.retain_available {
            return Err(CommandError::RetainNotSupported);
        }
        publish.dup = false;
        publish.packet_id = if publish.qos == QoS::AtMostOnce { 0 } else { 1 };
        let size = publish.encoded_len(self.version)?;
        self.check_encodes_later(|v| publish.encoded_len(v))?;
        self.check_size(size)?;
        publish.packet_id = 0;
        if self.outgoing.queued() >= self.options.max_queued_messages {
            self.stats.dropped_queue_full += 1;
            return Err(CommandError::QueueFull(self.options.max_queued_messages));
        }
        let id = self.next_request_id();
        if publish.qos != QoS::AtMostOnce && self.options.report_store_updates {
            self.store_updates.push_back(StoreUpdate::PublishQueued {
                id,
                publish: alloc::boxed::Box::new(publish.clone()),
            });
        }
        self.outgoing.enqueue(id, publish, now);
        self.flush_queue(now);
        Ok(id)
    }

    /// A request accepted while a 5.0 client has fallen back to 3.1.1 may
    /// be sent at 5.0 after all (the fallback is undone when 3.1.1 gets no
    /// CONNACK either): it must encode at the configured version too, where
    /// its properties are checked.
    /// `encoded_len` measures the packet at a version.
    fn check_encodes_later(
        &self,
        encoded_len: impl FnOnce(ProtocolVersion) -> Result<usize, EncodeError>,
    ) -> Result<(), CommandError> {
        let configured = self.options.protocol_version;
        if configured != self.version {
            encoded_len(configured)?;
        }
        Ok(())
    }

    fn check_size(&mut self, size: usize) -> Result<(), CommandError> {
        match self.server.maximum_packet_size {
            Some(max) if size > max as usize => {
                self.stats.dropped_too_large += 1;
                Err(CommandError::PacketTooLarge { size, max })
            }
            _ => Ok(()),
        }
    }

    /// Sends queued messages while connected and the broker's Receive
    /// Maximum allows, after the resends a resumed session still owes.
    pub(crate) fn flush_queue(&mut self, now: Instant) {
        self.resend_awaiting(now);
        while self.state == ConnectionState::Connected {
            let Some(front) = self.outgoing.queue.front() else {
                break;
            };
            let qos = front.publish.qos;
            if qos != QoS::AtMostOnce
                && self.outgoing.in_flight() >= usize::from(self.server.receive_maximum)
            {
                break;
            }
            let Some(mut msg) = self.outgoing.queue.pop_front() else {
                break;
            };
            if !refresh_expiry(&mut msg, now) {
                self.stats.dropped_expired += 1;
                self.finish_publish(msg.id, qos, Err(RequestError::Expired));
                continue;
            }
            // Queued before this CONNACK's limits were known (MQTT-3.2.2-11, MQTT-3.2.2-14):
            // fail it with the code the broker would have answered.
            if let Some(reason_code) = self.refused_by_server(&msg.publish) {
                let refused = RequestError::Rejected {
                    reason_code,
                    reason_string: None,
                };
                self.finish_publish(msg.id, qos, Err(refused));
                continue;
            }
            if qos == QoS::AtMostOnce {
                match self.transmit_publish(now, &mut msg.publish) {
                    Ok(()) => self.tx_qos0.push(msg.id),
                    Err(e) => self.finish_publish(msg.id, qos, Err(e)),
                }
                continue;
            }
            let Some(pid) = self.packet_ids.allocate() else {
                self.outgoing.queue.push_front(msg);
                break;
            };
            msg.publish.packet_id = pid;
            match self.transmit_publish(now, &mut msg.publish) {
                Ok(()) => {
                    self.outgoing.sent_seq = msg.seq;
                    if self.options.report_store_updates {
                        self.store_updates.push_back(StoreUpdate::PublishSent {
                            id: msg.id,
                            packet_id: pid,
                        });
                    }
                    self.outgoing.in_flight.insert(
                        pid,
                        InFlight {
                            msg,
                            released: false,
                        },
                    );
                }
                Err(e) => {
                    self.packet_ids.release(pid);
                    self.finish_publish(msg.id, qos, Err(e));
                }
            }
        }
    }

    /// The reason code for a publish the broker's Maximum QoS or Retain Available rules out.
    fn refused_by_server(&self, publish: &Publish) -> Option<ReasonCode> {
        if publish.qos > self.server.maximum_qos {
            Some(ReasonCode::QoSNotSupported)
        } else if publish.retain && !self.server.retain_available {
            Some(ReasonCode::RetainNotSupported)
        } else {
            None
        }
    }

    /// Drops queued messages whose Message Expiry Interval has passed.
    pub(crate) fn expire_queued(&mut self, now: Instant) {
        if self.outgoing.next_expiry.is_none_or(|t| t > now) {
            return;
        }
        let mut next: Option<Instant> = None;
        let mut expired = Vec::new();
        self.outgoing
            .queue
            .retain(|m| match m.publish.properties.message_expiry_interval() {
                Some(secs) => {
                    let at = m.expiry_base + Duration::from_secs(u64::from(secs));
                    if at <= now {
                        expired.push((m.id, m.publish.qos));
                        false
                    } else {
                        next = Some(next.map_or(at, |t| t.min(at)));
                        true
                    }
                }
                None => true,
            });
        self.outgoing.next_expiry = next;
        for (id, qos) in expired {
            self.stats.dropped_expired += 1;
            self.finish_publish(id, qos, Err(RequestError::Expired));
        }
    }

    /// Encodes a PUBLISH, applying a Topic Alias when allowed; leaves `publish` as it was.
    fn transmit_publish(
        &mut self,
        now: Instant,
        publish: &mut Publish,
    ) -> Result<(), RequestError> {
        let mut alias_allowed = self.version == ProtocolVersion::V5
            && self.options.topic_alias_policy == TopicAliasPolicy::LeastRecentlyUsed;
        if let Some(max) = self.server.maximum_packet_size {
            let size = publish.encoded_len(self.version)?;
            if size > max as usize {
                self.stats.dropped_too_large += 1;
                return Err(RequestError::PacketTooLarge { size, max });
            }
            // A new alias adds three bytes; never let it push the packet over the limit.
            alias_allowed &= size + 3 <= max as usize;
        }
        let alias = if alias_allowed {
            self.aliases_out.assign(&publish.topic)
        } else {
            None
        };
        let result = match alias {
            Some(OutboundAlias::Known(topic_alias)) => {
                // The broker knows the topic by its alias: send an empty one.
                let topic = core::mem::take(&mut publish.topic);
                let result = AliasedPublish {
                    publish,
                    topic_alias,
                }
                .encode(self.version, &mut self.tx);
                publish.topic = topic;
                result
            }
            Some(OutboundAlias::New(topic_alias)) => AliasedPublish {
                publish,
                topic_alias,
            }
            .encode(self.version, &mut self.tx),
            None => publish.encode(self.version, &mut self.tx),
        };
        result?;
        self.sent(now);
        Ok(())
    }

    /// Reports a finished publish and forgets it in the store.
    fn finish_publish(
        &mut self,
        id: RequestId,
        qos: QoS,
        result: Result<ReasonCode, RequestError>,
    ) {
        if qos != QoS::AtMostOnce && self.options.report_store_updates {
            self.store_updates
                .push_back(StoreUpdate::PublishCompleted { id });
        }
        self.events.push_back(Event::Published { id, result });
    }

    fn take_in_flight(&mut self, pid: u16) -> Option<InFlight> {
        let f = self.outgoing.in_flight.remove(&pid)?;
        self.packet_ids.release(pid);
        Some(f)
    }

    pub(crate) fn handle_puback(&mut self, now: Instant, ack: PubAck) {
        let matches = self
            .outgoing
            .in_flight
            .get(&ack.packet_id)
            .is_some_and(|f| f.msg.publish.qos == QoS::AtLeastOnce);
        if !matches {
            return; // unknown, or a QoS 2 message: it stays in flight
        }
        if let Some(f) = self.take_in_flight(ack.packet_id) {
            let result = result_of(ack.reason_code, ack.properties.reason_string());
            self.finish_publish(f.msg.id, QoS::AtLeastOnce, result);
            self.flush_queue(now);
        }
    }

    pub(crate) fn handle_pubrec(&mut self, now: Instant, rec: PubRec) {
        let pid = rec.packet_id;
        let state = self
            .outgoing
            .in_flight
            .get(&pid)
            .filter(|f| f.msg.publish.qos == QoS::ExactlyOnce)
            .map(|f| f.released);
        let reply = match state {
            Some(false) if rec.reason_code.is_error() => {
                if let Some(f) = self.take_in_flight(pid) {
                    let result = result_of(rec.reason_code, rec.properties.reason_string());
                    self.finish_publish(f.msg.id, QoS::ExactlyOnce, result);
                }
                self.flush_queue(now);
                return;
            }
            Some(released) => {
                if !released {
                    if let Some(f) = self.outgoing.in_flight.get_mut(&pid) {
                        f.released = true;
                        if self.options.report_store_updates {
                            self.store_updates
                                .push_back(StoreUpdate::PublishReleased { id: f.msg.id });
                        }
                    }
                }
                PubRel::new(pid)
            }
            // PUBREC for a packet identifier we do not have in flight (4.3.3).
            None => PubRel {
                reason_code: ReasonCode::PacketIdentifierNotFound,
                ..PubRel::new(pid)
            },
        };
        self.send_control(now, &Packet::PubRel(reply));
    }

    pub(crate) fn handle_pubcomp(&mut self, now: Instant, comp: PubComp) {
        let released = self
            .outgoing
            .in_flight
            .get(&comp.packet_id)
            .is_some_and(|f| f.released);
        if !released {
            return; // unknown, a QoS 1 message, or before PUBREC: it stays in flight
        }
        if let Some(f) = self.take_in_flight(comp.packet_id) {
            // PUBREC already confirmed receipt; Packet Identifier not found only says the
            // broker released it before, answering a PUBREL resent after its PUBCOMP was lost.
            let result = match comp.reason_code {
                ReasonCode::PacketIdentifierNotFound => Ok(ReasonCode::Success),
                code => result_of(code, comp.properties.reason_string()),
            };
            self.finish_publish(f.msg.id, QoS::ExactlyOnce, result);
            self.flush_queue(now);
        }
    }

    /// Encodes a packet the client built itself (acks, pings); these always encode.
    pub(crate) fn send_control(&mut self, now: Instant, packet: &Packet) {
        if self.send(now, packet).is_err() {
            debug_assert!(
                false,
                "client-built {:?} failed to encode",
                packet.packet_type()
            );
        }
    }

    /// After CONNACK: resend what the session allows, or requeue it when the broker has no session.
    pub(crate) fn resume_outgoing(&mut self, now: Instant, session_present: bool) {
        let order = self.outgoing.in_flight_in_order();
        // Pending requests in the order they were made; the client's own resubscriptions first.
        let mut requests: Vec<(u64, u16)> = self
            .requests
            .keys()
            .map(|&pid| (self.outgoing.request_after(pid), pid))
            .collect();
        requests.sort_unstable();
        let mut requests = requests.into_iter().peekable();
        self.outgoing.awaiting_resend.clear();
        if session_present {
            // MQTT-4.4.0-1: resend unacknowledged PUBLISH (DUP set) and PUBREL, original identifiers and order.
            // A SUBSCRIBE made before a publish goes out before it again, so that it is in force when that is routed.
            // At most Receive Maximum of them are unacknowledged at once
            // (MQTT-4.9.0-2): the rest wait for acknowledgments, in order.
            let maximum = usize::from(self.server.receive_maximum);
            for (count, pid) in order.into_iter().enumerate() {
                if count >= maximum {
                    self.outgoing.awaiting_resend.push_back(pid);
                    continue;
                }
                let Some(seq) = self.outgoing.in_flight.get(&pid).map(|f| f.msg.seq) else {
                    continue;
                };
                while let Some((_, request)) = requests.next_if(|&(after, _)| after < seq) {
                    self.resend_request(now, request);
                }
                self.resend_publish(now, pid);
            }
        } else {
            // The broker lost the session: what it acknowledged with PUBREC is
            // done; everything else goes back to the head of the queue as new.
            for pid in order.into_iter().rev() {
                let Some(mut f) = self.take_in_flight(pid) else {
                    continue;
                };
                if f.released {
                    self.finish_publish(f.msg.id, QoS::ExactlyOnce, Ok(ReasonCode::Success));
                } else {
                    f.msg.publish.dup = false;
                    f.msg.publish.packet_id = 0;
                    if self.options.report_store_updates {
                        let id = f.msg.id;
                        self.store_updates
                            .push_back(StoreUpdate::PublishRequeued { id });
                    }
                    self.outgoing.queue.push_front(f.msg);
                }
            }
        }
        for (_, pid) in requests {
            self.resend_request(now, pid);
        }
    }

    /// Sends an in-flight publish again: PUBREL if the broker has it (PUBREC
    /// came), else the PUBLISH with DUP set.
    fn resend_publish(&mut self, now: Instant, pid: u16) {
        let Some(f) = self.outgoing.in_flight.get_mut(&pid) else {
            return;
        };
        if f.released {
            self.send_control(now, &Packet::PubRel(PubRel::new(pid)));
            return;
        }
        let mut publish =
            core::mem::replace(&mut f.msg.publish, Publish::new("", bytes::Bytes::new()));
        publish.dup = true;
        let result = self.transmit_publish(now, &mut publish);
        if let Some(f) = self.outgoing.in_flight.get_mut(&pid) {
            f.msg.publish = publish;
        }
        if let Err(e) = result {
            if let Some(f) = self.take_in_flight(pid) {
                self.finish_publish(f.msg.id, f.msg.publish.qos, Err(e));
            }
        }
    }

    /// Sends again the in-flight publishes a resumed session held back, while
    /// fewer than Receive Maximum are unacknowledged on this connection.
    fn resend_awaiting(&mut self, now: Instant) {
        let maximum = usize::from(self.server.receive_maximum);
        while self.state == ConnectionState::Connected {
            let unacknowledged = self
                .outgoing
                .in_flight()
                .saturating_sub(self.outgoing.awaiting_resend.len());
            if unacknowledged >= maximum {
                break;
            }
            let Some(pid) = self.outgoing.awaiting_resend.pop_front() else {
                break;
            };
            self.resend_publish(now, pid);
        }
    }

    fn resend_request(&mut self, now: Instant, pid: u16) {
        let Some(packet) = self.requests.get(&pid).map(PendingRequest::packet) else {
            return;
        };
        // Made before this broker's Maximum Packet Size was known (MQTT-3.1.2-24).
        if let Some(max) = self.server.maximum_packet_size {
            let size = packet.encoded_len(self.version).unwrap_or(usize::MAX);
            if size > max as usize {
                if let Some(request) = self.requests.remove(&pid) {
                    self.packet_ids.release(pid);
                    self.outgoing.forget_request(pid);
                    self.stats.dropped_too_large += 1;
                    self.fail_request(request, RequestError::PacketTooLarge { size, max });
                }
                return;
            }
        }
        self.send_control(now, &packet);
    }

    /// Completes a SUBSCRIBE or UNSUBSCRIBE that cannot be sent; a resubscription's filters are no longer active.
    fn fail_request(&mut self, request: PendingRequest, error: RequestError) {
        let event = match request {
            PendingRequest::Subscribe { id: Some(id), .. } => Event::Subscribed {
                id,
                result: Err(error),
            },
            PendingRequest::Subscribe { id: None, packet } => {
                let mut results = Vec::new();
                for sub in packet.subscriptions {
                    if self.subscriptions.remove(&sub.filter).is_some()
                        && self.options.report_store_updates
                    {
                        self.store_updates
                            .push_back(StoreUpdate::SubscriptionRemoved {
                                filter: sub.filter.clone(),
                            });
                    }
                    results.push((sub.filter, ReasonCode::PacketTooLarge));
                }
                Event::Resubscribed(results)
            }
            PendingRequest::Unsubscribe { id, .. } => Event::Unsubscribed {
                id,
                result: Err(error),
            },
        };
        self.events.push_back(event);
    }

    /// Subscribes and returns the request that [`Event::Subscribed`] completes.
    ///
    /// Checks the filters and the broker's wildcard, shared subscription and
    /// subscription identifier support first. Sent now when connected, else on connect.
    pub fn subscribe(
        &mut self,
        now: Instant,
        mut packet: Subscribe,
    ) -> Result<RequestId, CommandError> {
        if packet.subscriptions.is_empty() {
            return Err(CommandError::NoTopicFilters);
        }
        for sub in &packet.subscriptions {
            validate_topic_filter(&sub.filter)?;
            let shared = matches!(parse_shared(&sub.filter), Ok(Some(_)));
            if shared && !self.server.shared_subscription_available {
                return Err(CommandError::SharedSubscriptionsNotSupported);
            }
            if sub.filter.contains(['+', '#']) && !self.server.wildcard_subscription_available {
                return Err(CommandError::WildcardSubscriptionsNotSupported);
            }
        }
        if packet
            .properties
            .subscription_identifiers()
            .next()
            .is_some()
            && self.version == ProtocolVersion::V5
            && !self.server.subscription_identifier_available
        {
            return Err(CommandError::SubscriptionIdentifiersNotSupported);
        }
        packet.packet_id = 1;
        let size = packet.encoded_len(self.version)?;
        self.check_encodes_later(|v| packet.encoded_len(v))?;
        self.check_size(size)?;
        let pid = self
            .packet_ids
            .allocate()
            .ok_or(CommandError::PacketIdentifiersExhausted)?;
        packet.packet_id = pid;
        let id = self.next_request_id();
        self.queue_request(
            now,
            pid,
            PendingRequest::Subscribe {
                id: Some(id),
                packet,
            },
        );
        Ok(id)
    }

    /// Unsubscribes and returns the request that [`Event::Unsubscribed`] completes.
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        mut packet: Unsubscribe,
    ) -> Result<RequestId, CommandError> {
        if packet.filters.is_empty() {
            return Err(CommandError::NoTopicFilters);
        }
        for filter in &packet.filters {
            validate_topic_filter(filter)?;
        }
        packet.packet_id = 1;
        let size = packet.encoded_len(self.version)?;
        self.check_encodes_later(|v| packet.encoded_len(v))?;
        self.check_size(size)?;
        let pid = self
            .packet_ids
            .allocate()
            .ok_or(CommandError::PacketIdentifiersExhausted)?;
        packet.packet_id = pid;
        let id = self.next_request_id();
        self.queue_request(now, pid, PendingRequest::Unsubscribe { id, packet });
        Ok(id)
    }

    pub(crate) fn queue_request(&mut self, now: Instant, pid: u16, request: PendingRequest) {
        self.outgoing
            .request_after
            .insert(pid, self.outgoing.sent_seq);
        if self.state == ConnectionState::Connected {
            self.send_control(now, &request.packet());
        }
        self.requests.insert(pid, request);
    }
}

/// Brings the Message Expiry Interval up to date (3.3.2.3.3); false if it has passed.
fn refresh_expiry(msg: &mut OutMessage, now: Instant) -> bool {
    let Some(secs) = msg.publish.properties.message_expiry_interval() else {
        return true;
    };
    let elapsed = now.duration_since(msg.expiry_base).as_secs();
    if elapsed >= u64::from(secs) {
        return false;
    }
    if elapsed == 0 {
        return true;
    }
    msg.publish.properties.message_expiry_interval = Some(secs - elapsed as u32);
    msg.expiry_base = msg.expiry_base + Duration::from_secs(elapsed);
    true
}
