//! The connection's life: CONNECT and CONNACK with protocol fallback, the
//! AUTH exchange, keep alive, timeouts, DISCONNECT both ways, and reconnect.

use alloc::boxed::Box;
use alloc::vec;
use core::time::Duration;

use bytes::{Bytes, BytesMut};

use super::auth::AuthError;
use super::event::{
    AuthFailure, CommandError, DisconnectReason, Event, ProtocolViolation, RequestError,
};
use super::outgoing::PendingRequest;
use super::store::StoreUpdate;
use super::{Client, ConnectionState, Fallback, Instant, ServerCapabilities, TopicAliasPolicy};
use crate::codec::{
    Auth, ConnAck, Connect, Decoder, Disconnect, Packet, PacketType, Properties, ProtocolVersion,
    ReasonCode, Subscribe, SubscribeFilter,
};

impl Client {
    /// Starts a connection on a fresh transport: queues CONNECT.
    ///
    /// Call it once the transport is open, for the first connection and for
    /// every reconnect. Per-connection state (topic aliases, keep alive, the
    /// read buffer) starts afresh; the session goes on.
    pub fn connect(&mut self, now: Instant) -> Result<(), CommandError> {
        if self.state != ConnectionState::Disconnected {
            // MQTT-3.1.0-2: one CONNECT per network connection.
            return Err(CommandError::AlreadyConnected);
        }
        self.closed = false;
        if self.connects > 0 {
            self.stats.reconnects += 1;
        }
        self.connects += 1;
        self.incoming_qos2_current = 0;
        self.rx.clear();
        self.discard_unsent();
        self.decoder.set_version(self.version);
        self.aliases_in.reset(self.options.topic_alias_maximum);
        self.aliases_out.reset(0);
        self.server = ServerCapabilities::defaults(self.version);
        self.ping_sent = None;
        self.last_sent = now;
        self.last_received = now;
        self.since = now;

        let connect = self.build_connect()?;
        self.send(now, &Packet::Connect(alloc::boxed::Box::new(connect)))?;
        self.state = ConnectionState::Connecting;
        Ok(())
    }

    fn build_connect(&mut self) -> Result<Connect, CommandError> {
        let o = &self.options;
        let mut c = Connect::new(self.version, o.client_id.clone());
        c.clean_start = self.clean_start();
        c.keep_alive = o.keep_alive;
        c.username = o.username.clone();
        c.password = o.password.clone();
        c.will = o.will.clone();
        let p = &mut c.properties;
        p.session_expiry_interval = Some(o.session_expiry_interval).filter(|&s| s > 0);
        p.receive_maximum = Some(o.receive_maximum).filter(|&r| r != u16::MAX);
        p.maximum_packet_size = o.maximum_packet_size;
        p.topic_alias_maximum = Some(o.topic_alias_maximum).filter(|&t| t > 0);
        p.request_problem_information = o.request_problem_information;
        p.request_response_information = Some(true).filter(|_| o.request_response_information);
        p.user_properties = o.user_properties.clone();
        self.auth_exchanges = None;
        if let (Some(auth), ProtocolVersion::V5) = (self.authenticator.as_mut(), self.version) {
            p.authentication_method = Some(auth.method().into());
            p.authentication_data = auth.initial_data()?;
            self.auth_exchanges = Some(0);
        }
        self.auth_method = p.authentication_method.clone();
        Ok(c)
    }

    /// Clean Start (Clean Session on 3.1.1) for the CONNECT of this connection.
    fn clean_start(&self) -> bool {
        let o = &self.options;
        // 3.1.1 MQTT-3.1.3-7: a zero-byte ClientId requires CleanSession 1.
        let anonymous_v311 = self.version == ProtocolVersion::V311 && o.client_id.is_empty();
        (o.clean_start && !self.session_may_exist) || anonymous_v311
    }

    /// Feeds bytes read from the transport.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        self.stats.bytes_received += data.len() as u64;
        if self.state == ConnectionState::Disconnected {
            return;
        }
        self.rx.extend_from_slice(data);
        self.process_received(now);
    }

    /// The read buffer, for adapters that read straight into it; call
    /// [`Client::handle_received`] after adding bytes.
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        &mut self.rx
    }

    /// Processes bytes an adapter appended to [`Client::receive_buffer`] (`count` of them, for statistics).
    pub fn handle_received(&mut self, now: Instant, count: usize) {
        self.stats.bytes_received += count as u64;
        if self.state == ConnectionState::Disconnected {
            self.rx.clear();
            return;
        }
        self.process_received(now);
    }

    fn process_received(&mut self, now: Instant) {
        while self.state != ConnectionState::Disconnected {
            // A 3.1.1-only broker refuses a 5.0 CONNECT with a 3.1.1 CONNACK (remaining
            // length 2, non-zero return code). One that accepts is a malformed 5.0 CONNACK.
            let old_connack = self.state == ConnectionState::Connecting
                && self.version == ProtocolVersion::V5
                && self.rx.starts_with(&[0x20, 0x02])
                && self.rx.get(3).is_some_and(|&code| code != 0);
            let decoded = if old_connack {
                Decoder::new(ProtocolVersion::V311).decode(&mut self.rx)
            } else {
                self.decoder.decode(&mut self.rx)
            };
            match decoded {
                Ok(Some(packet)) => {
                    self.stats.packets_received += 1;
                    self.last_received = now;
                    self.dispatch(now, packet);
                }
                Ok(None) => return,
                // The stream cannot be resynchronised: what follows is dropped below.
                Err(e) => self.decode_error(now, e),
            }
        }
        self.rx.clear();
    }

    fn dispatch(&mut self, now: Instant, packet: Packet) {
        use ConnectionState::*;
        if self.problem_information_unasked(&packet) {
            let violation = ProtocolViolation::ProblemInformationNotRequested(packet.packet_type());
            return self.protocol_error(now, ReasonCode::ProtocolError, violation);
        }
        match (self.state, packet) {
            (Connecting, Packet::ConnAck(c)) => self.handle_connack(now, c),
            (Connecting | Connected, Packet::Auth(a)) => self.handle_auth(now, a),
            (Connecting | Connected, Packet::Disconnect(d)) => {
                self.connection_ended(now, DisconnectReason::Server(Box::new(d)))
            }
            (Connected, Packet::Publish(p)) => self.handle_publish(now, p),
            (Connected, Packet::PubAck(a)) => self.handle_puback(now, a),
            (Connected, Packet::PubRec(r)) => self.handle_pubrec(now, r),
            (Connected, Packet::PubRel(r)) => self.handle_pubrel(now, r),
            (Connected, Packet::PubComp(c)) => self.handle_pubcomp(now, c),
            (Connected, Packet::SubAck(a)) => self.handle_suback(now, a),
            (Connected, Packet::UnsubAck(a)) => self.handle_unsuback(now, a),
            (Connected, Packet::PingResp) => self.ping_sent = None,
            (_, other) => {
                let violation = ProtocolViolation::UnexpectedPacket(other.packet_type());
                self.protocol_error(now, ReasonCode::ProtocolError, violation)
            }
        }
    }

    /// MQTT-3.1.2-29: with Request Problem Information 0, a Reason String or
    /// User Properties may come only on PUBLISH, CONNACK and DISCONNECT.
    fn problem_information_unasked(&self, packet: &Packet) -> bool {
        if self.options.request_problem_information != Some(false) {
            return false;
        }
        let properties = match packet {
            Packet::PubAck(p) => &p.properties,
            Packet::PubRec(p) => &p.properties,
            Packet::PubRel(p) => &p.properties,
            Packet::PubComp(p) => &p.properties,
            Packet::SubAck(p) => &p.properties,
            Packet::UnsubAck(p) => &p.properties,
            Packet::Auth(p) => &p.properties,
            _ => return false,
        };
        properties.reason_string().is_some() || properties.user_properties().next().is_some()
    }

    fn handle_connack(&mut self, now: Instant, connack: ConnAck) {
        if connack.reason_code != ReasonCode::Success {
            let never_connected = self.connack.is_none();
            let fallback = connack.reason_code == ReasonCode::UnsupportedProtocolVersion
                && self.version == ProtocolVersion::V5
                && self.options.protocol_fallback
                && matches!(self.fallback, Fallback::Armed | Fallback::Verifying)
                && never_connected;
            if fallback {
                self.version = ProtocolVersion::V311;
                self.fallback = Fallback::Done;
                self.connection_ended(now, DisconnectReason::ProtocolFallback);
            } else {
                self.connection_ended(now, DisconnectReason::Refused(Box::new(connack)));
            }
            return;
        }
        if self.fallback == Fallback::Tentative {
            // A 3.1.1 CONNACK after a 5.0 close may follow a network failure
            // that has just healed: leave (no Will) and ask in 5.0 again.
            // The packet is tiny and well-formed; encoding cannot fail.
            let _ = self.send(now, &Packet::Disconnect(Disconnect::default()));
            self.version = ProtocolVersion::V5;
            self.fallback = Fallback::Verifying;
            self.connection_ended(now, DisconnectReason::ProtocolFallback);
            return;
        }
        // The broker answered this version: it stays.
        self.fallback = Fallback::Done;
        if self.clean_start() && connack.session_present {
            self.protocol_error(
                now,
                ReasonCode::ProtocolError,
                ProtocolViolation::SessionPresentOnCleanStart,
            );
            return;
        }
        // MQTT-4.12.0-5: the method the CONNECT named, or none. A CONNACK
        // that leaves it out after an exchange is tolerated (some brokers do).
        let method = connack.properties.authentication_method();
        if method.is_some() && method != self.auth_method {
            let violation = ProtocolViolation::Auth(AuthFailure::WrongMethod(method));
            self.protocol_error(now, ReasonCode::ProtocolError, violation);
            return;
        }
        if self.auth_exchanges.is_some() {
            let data = connack.properties.authentication_data.as_ref();
            if let Some(Err(e)) = self.authenticator.as_mut().map(|a| a.finish(data)) {
                let violation = ProtocolViolation::Auth(AuthFailure::Authenticator(e));
                self.protocol_error(now, ReasonCode::NotAuthorized, violation);
                return;
            }
            self.auth_exchanges = None;
        }
        self.state = ConnectionState::Connected;
        self.since = now;
        self.server = ServerCapabilities::from_connack(self.version, &connack);
        if self.version == ProtocolVersion::V311 {
            // 3.1.1 announces no Receive Maximum; brokers still have one.
            self.server.receive_maximum = self.options.v311_receive_maximum.max(1);
        }
        let p = &connack.properties;
        if let Some(id) = &p.assigned_client_identifier {
            self.options.client_id = id.clone();
        }
        let keep_alive = p.server_keep_alive.unwrap_or(self.options.keep_alive);
        self.keep_alive = Duration::from_secs(u64::from(keep_alive));
        let alias_max = match self.options.topic_alias_policy {
            TopicAliasPolicy::LeastRecentlyUsed => self.server.topic_alias_maximum,
            TopicAliasPolicy::Off => 0,
        };
        self.aliases_out.reset(alias_max);
        let expiry = p
            .session_expiry_interval
            .unwrap_or(self.options.session_expiry_interval);
        self.session_may_exist = match self.version {
            ProtocolVersion::V5 => expiry > 0,
            ProtocolVersion::V311 => !self.options.clean_start,
        };
        let session_present = connack.session_present;
        self.connack = Some(connack);
        if !session_present {
            self.forget_broker_session();
        }
        self.events.push_back(Event::Connected { session_present });
        self.resume_outgoing(now, session_present);
        self.flush_queue(now);
    }

    /// The broker has no session: forget incoming QoS 1/2 state (it will not
    /// resend those messages) and subscribe again.
    fn forget_broker_session(&mut self) {
        self.pending_acks.clear();
        if !self.incoming_qos2.is_empty() {
            self.incoming_qos2.clear();
            self.incoming_qos2_current = 0;
            if self.options.report_store_updates {
                self.store_updates
                    .push_back(StoreUpdate::IncomingQoS2Cleared);
            }
        }
        let subs: alloc::vec::Vec<_> = self.subscriptions.iter().cloned().collect();
        for sub in subs {
            let Some(pid) = self.packet_ids.allocate() else {
                break;
            };
            let mut properties = Properties::default();
            if self.version == ProtocolVersion::V5 {
                // A broker that no longer takes Subscription Identifiers would
                // disconnect us (0xA1) on every resubscribe: leave it out.
                if self.server.subscription_identifier_available {
                    properties
                        .subscription_identifiers
                        .extend(sub.subscription_identifier);
                }
                properties.user_properties = sub.user_properties;
            }
            let packet = Subscribe {
                packet_id: pid,
                subscriptions: vec![SubscribeFilter {
                    filter: sub.filter,
                    options: sub.options,
                }],
                properties,
            };
            self.requests
                .insert(pid, PendingRequest::Subscribe { id: None, packet });
        }
    }

    fn handle_auth(&mut self, now: Instant, auth: Auth) {
        let method = auth.properties.authentication_method.clone();
        let Some(authenticator) = self.authenticator.as_mut() else {
            let violation = ProtocolViolation::Auth(AuthFailure::WrongMethod(method));
            return self.protocol_error(now, ReasonCode::ProtocolError, violation);
        };
        if method.as_deref() != Some(authenticator.method()) || self.auth_exchanges.is_none() {
            let violation = ProtocolViolation::Auth(AuthFailure::WrongMethod(method));
            return self.protocol_error(now, ReasonCode::ProtocolError, violation);
        }
        let data = auth.properties.authentication_data.as_ref();
        match (self.state, auth.reason_code) {
            (_, ReasonCode::ContinueAuthentication) => {
                let count = self.auth_exchanges.unwrap_or(0) + 1;
                if count > self.options.max_auth_exchanges {
                    let violation =
                        ProtocolViolation::Auth(AuthFailure::TooManyExchanges(count - 1));
                    return self.protocol_error(now, ReasonCode::ProtocolError, violation);
                }
                self.auth_exchanges = Some(count);
                match authenticator.challenge(data) {
                    Ok(response) => {
                        let reply =
                            auth_packet(ReasonCode::ContinueAuthentication, method, response);
                        if let Some((size, max)) = self.too_large_for_broker(&reply) {
                            let e = AuthError(alloc::format!(
                                "response of {size} bytes exceeds the broker's maximum packet size {max}"
                            ));
                            let violation = ProtocolViolation::Auth(AuthFailure::Authenticator(e));
                            return self.protocol_error(now, ReasonCode::NotAuthorized, violation);
                        }
                        self.send_control(now, &reply);
                    }
                    Err(e) => {
                        let violation = ProtocolViolation::Auth(AuthFailure::Authenticator(e));
                        self.protocol_error(now, ReasonCode::NotAuthorized, violation);
                    }
                }
            }
            (ConnectionState::Connected, ReasonCode::Success) => match authenticator.finish(data) {
                Ok(()) => {
                    self.auth_exchanges = None;
                    self.events.push_back(Event::Reauthenticated);
                }
                Err(e) => {
                    let violation = ProtocolViolation::Auth(AuthFailure::Authenticator(e));
                    self.protocol_error(now, ReasonCode::NotAuthorized, violation);
                }
            },
            _ => {
                let violation = ProtocolViolation::UnexpectedPacket(PacketType::Auth);
                self.protocol_error(now, ReasonCode::ProtocolError, violation);
            }
        }
    }

    /// Starts re-authentication (5.0 AUTH 0x19) with the method the connection
    /// authenticated with; [`Event::Reauthenticated`] reports success.
    pub fn reauthenticate(&mut self, now: Instant) -> Result<(), CommandError> {
        if self.version != ProtocolVersion::V5 {
            return Err(CommandError::NeedsV5("re-authentication"));
        }
        if self.state != ConnectionState::Connected {
            return Err(CommandError::NotConnected);
        }
        // MQTT-4.12.0-7, MQTT-4.12.1-1: only with the method this connection's CONNECT carried.
        let connected_with = self.auth_method.as_deref();
        let auth = self
            .authenticator
            .as_mut()
            .filter(|a| connected_with == Some(a.method()))
            .ok_or(CommandError::NoAuthenticator)?;
        let data = auth.initial_data()?;
        let method = Some(auth.method().into());
        let packet = auth_packet(ReasonCode::ReAuthenticate, method, data);
        if let Some((size, max)) = self.too_large_for_broker(&packet) {
            return Err(CommandError::PacketTooLarge { size, max });
        }
        self.auth_exchanges = Some(0);
        self.send_control(now, &packet);
        Ok(())
    }

    /// Size and limit when `packet` exceeds the broker's Maximum Packet Size (MQTT-3.1.2-24).
    fn too_large_for_broker(&self, packet: &Packet) -> Option<(usize, u32)> {
        let size = packet.encoded_len(self.version).ok()?;
        let max = self.server.maximum_packet_size?;
        (size > max as usize).then_some((size, max))
    }

    /// Ends the connection on the user's request: queues DISCONNECT when connected.
    ///
    /// The client will not reconnect until [`Client::connect`] is called again.
    /// `disconnect.reason_code` and properties are sent on 5.0 (for example
    /// Disconnect with Will Message 0x04, or a new Session Expiry Interval).
    /// A Reason String, then User Properties, are left out when they would
    /// make the packet larger than the broker accepts (MQTT-3.14.2-3, MQTT-3.14.2-4).
    pub fn disconnect(
        &mut self,
        now: Instant,
        mut disconnect: Disconnect,
    ) -> Result<(), CommandError> {
        if self.state == ConnectionState::Connected {
            if let Some(max) = self.server.maximum_packet_size {
                let max = max as usize;
                if disconnect.encoded_len(self.version)? > max {
                    disconnect.properties.reason_string = None;
                }
                if disconnect.encoded_len(self.version)? > max {
                    disconnect.properties.user_properties.clear();
                }
            }
            self.send(now, &Packet::Disconnect(disconnect))?;
        }
        self.closed = true;
        self.connection_ended(now, DisconnectReason::Local);
        Ok(())
    }

    /// Tells the client the transport closed or failed.
    pub fn handle_transport_closed(&mut self, now: Instant) {
        let fallback = self.state == ConnectionState::Connecting
            && self.version == ProtocolVersion::V5
            && self.options.protocol_fallback
            && matches!(self.fallback, Fallback::Armed | Fallback::Verifying)
            && self.connack.is_none();
        if fallback {
            self.version = ProtocolVersion::V311;
            // The broker that just accepted 3.1.1 closes 5.0: confirmed.
            self.fallback = match self.fallback {
                Fallback::Verifying => Fallback::Done,
                _ => Fallback::Tentative,
            };
            self.connection_ended(now, DisconnectReason::ProtocolFallback);
        } else {
            self.undo_tentative_fallback();
            self.connection_ended(now, DisconnectReason::TransportClosed);
        }
    }

    /// A 3.1.1 CONNECT tried after a 5.0 one was closed without CONNACK got
    /// no CONNACK either: the closes were the network's, not a 3.1.1 broker's
    /// answer. The next attempt is 5.0 again, and may fall back again.
    fn undo_tentative_fallback(&mut self) {
        if self.state == ConnectionState::Connecting && self.fallback == Fallback::Tentative {
            self.version = ProtocolVersion::V5;
            self.fallback = Fallback::Armed;
        }
    }

    /// Acts on time passing: keep alive, CONNACK and PINGRESP deadlines, message expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_queued(now);
        match self.state {
            ConnectionState::Connecting if now >= self.since + self.options.connect_timeout => {
                self.undo_tentative_fallback();
                self.connection_ended(now, DisconnectReason::ConnectTimeout);
            }
            ConnectionState::Connected => match self.ping_sent {
                Some(sent) if now >= sent + self.ping_timeout() => {
                    self.connection_ended(now, DisconnectReason::KeepAliveTimeout);
                }
                None if !self.keep_alive.is_zero() && now >= self.ping_due() => {
                    self.send_control(now, &Packet::PingReq);
                    self.ping_sent = Some(now);
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// When [`Client::handle_timeout`] must be called next; `None` when nothing is timed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let connection = match self.state {
            ConnectionState::Connecting => Some(self.since + self.options.connect_timeout),
            ConnectionState::Connected => match self.ping_sent {
                Some(sent) => Some(sent + self.ping_timeout()),
                None if !self.keep_alive.is_zero() => Some(self.ping_due()),
                None => None,
            },
            ConnectionState::Disconnected => None,
        };
        match (connection, self.outgoing.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A PINGREQ is due when nothing was sent, or nothing received, for the keep alive interval.
    fn ping_due(&self) -> Instant {
        self.last_sent.min(self.last_received) + self.keep_alive
    }

    fn ping_timeout(&self) -> Duration {
        self.options
            .ping_timeout
            .unwrap_or_else(|| (self.keep_alive / 2).max(Duration::from_secs(1)))
    }

    /// How long to wait before reconnecting, or `None` if the client should
    /// stay down (the user disconnected, or the refusal is not worth retrying).
    /// `random` is any value from the caller's random number generator.
    pub fn reconnect_delay(&mut self, random: u32) -> Option<Duration> {
        if self.closed || self.state != ConnectionState::Disconnected {
            return None;
        }
        match self.last_reason.as_ref()? {
            DisconnectReason::ProtocolFallback => Some(Duration::ZERO),
            reason if !reason.is_retryable() => None,
            _ => {
                let delay = self.options.backoff.delay(self.attempts, random);
                self.attempts = self.attempts.saturating_add(1);
                Some(delay)
            }
        }
    }

    /// Fails QoS 0 messages that were encoded but never handed out, and drops their bytes.
    fn discard_unsent(&mut self) {
        self.tx.clear();
        for id in core::mem::take(&mut self.tx_qos0) {
            self.events.push_back(Event::Published {
                id,
                result: Err(RequestError::NotSent),
            });
        }
    }

    /// The connection is over: report why; the session stays for the next connect.
    pub(crate) fn connection_ended(&mut self, now: Instant, reason: DisconnectReason) {
        if self.state == ConnectionState::Disconnected {
            return;
        }
        if self.state == ConnectionState::Connected
            && now.duration_since(self.since) >= self.options.backoff.stable_after
        {
            self.attempts = 0;
        }
        // A dead link cannot carry what is still buffered; a DISCONNECT we queued must still go out.
        if matches!(
            reason,
            DisconnectReason::TransportClosed
                | DisconnectReason::KeepAliveTimeout
                | DisconnectReason::ConnectTimeout
        ) {
            self.discard_unsent();
        }
        self.state = ConnectionState::Disconnected;
        self.ping_sent = None;
        self.auth_exchanges = None;
        self.last_reason = Some(reason.clone());
        self.events.push_back(Event::Disconnected(reason));
    }
}

fn auth_packet(
    reason_code: ReasonCode,
    method: Option<crate::codec::MqttString>,
    data: Option<Bytes>,
) -> Packet {
    let mut auth = Auth {
        reason_code,
        ..Default::default()
    };
    auth.properties.authentication_method = method;
    auth.properties.authentication_data = data;
    Packet::Auth(auth)
}
