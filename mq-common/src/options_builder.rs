//! Builder methods of [`ConnectOptions`]: every setting by name, times as
//! [`Duration`]s.

use std::sync::Arc;
use std::time::Duration;

use mq_proto::client::{Backoff, ReceiveMaximumPolicy, TopicAliasPolicy};
use mq_proto::{MqttString, Password, ProtocolVersion, Will};

use crate::store::SessionStore;
use crate::{AuthenticatorFactory, ConnectOptions, QueuePolicy};

/// Whole seconds in `d`, rounded up (a keep alive of 0.5 s is 1 s, not off),
/// at most `max`.
fn seconds(d: Duration, max: u64) -> u64 {
    let whole = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    whole.min(max)
}

impl ConnectOptions {
    /// Keep Alive: a PINGREQ when nothing else was sent for this long, and
    /// the connection declared dead when the broker stays silent. Whole
    /// seconds (rounded up, at most 65,535); zero turns it off. Default 60 s.
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.mqtt.keep_alive = seconds(interval, u16::MAX.into()) as u16;
        self
    }

    /// Clean Start for the first connection: false resumes the session the
    /// broker (and the session store) holds. Default true.
    pub fn clean_start(mut self, clean_start: bool) -> Self {
        self.mqtt.clean_start = clean_start;
        self
    }

    /// Session Expiry Interval (5.0): how long the broker keeps the session
    /// after the connection ends; zero ends it with the connection. Whole
    /// seconds, rounded up. Default zero.
    pub fn session_expiry(mut self, interval: Duration) -> Self {
        self.mqtt.session_expiry_interval = seconds(interval, u32::MAX.into()) as u32;
        self
    }

    /// User Name and Password.
    pub fn credentials(
        mut self,
        username: impl Into<MqttString>,
        password: impl Into<Password>,
    ) -> Self {
        self.mqtt.username = Some(username.into());
        self.mqtt.password = Some(password.into());
        self
    }

    /// The Will Message the broker publishes if the connection ends without DISCONNECT.
    pub fn will(mut self, will: Will) -> Self {
        self.mqtt.will = Some(will);
        self
    }

    /// Protocol version of the first CONNECT. Default 5.0 (with fallback).
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.mqtt.protocol_version = version;
        self
    }

    /// Retry once at 3.1.1 when a broker refuses 5.0. Default true.
    pub fn protocol_fallback(mut self, fallback: bool) -> Self {
        self.mqtt.protocol_fallback = fallback;
        self
    }

    /// How long a connection attempt may take, CONNACK included. Default 30 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.mqtt.connect_timeout = timeout;
        self
    }

    /// How long to wait for PINGRESP. Default half the keep alive, at least 1 s.
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.mqtt.ping_timeout = Some(timeout);
        self
    }

    /// Reconnect after a lost connection. Default true.
    pub fn auto_reconnect(mut self, reconnect: bool) -> Self {
        self.auto_reconnect = reconnect;
        self
    }

    /// Delays between reconnect attempts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.mqtt.backoff = backoff;
        self
    }

    /// Our Receive Maximum (5.0): QoS 1/2 messages the broker may leave unacknowledged.
    pub fn receive_maximum(mut self, maximum: u16, policy: ReceiveMaximumPolicy) -> Self {
        self.mqtt.receive_maximum = maximum;
        self.mqtt.receive_maximum_policy = policy;
        self
    }

    /// The largest packet the client accepts; see [`ConnectOptions::new`] for the default.
    pub fn maximum_packet_size(mut self, bytes: u32) -> Self {
        self.mqtt.maximum_packet_size = Some(bytes);
        self
    }

    /// Topic Aliases the broker may use toward us (5.0), and how we alias our own topics.
    pub fn topic_aliases(mut self, maximum: u16, policy: TopicAliasPolicy) -> Self {
        self.mqtt.topic_alias_maximum = maximum;
        self.mqtt.topic_alias_policy = policy;
        self
    }

    /// Adds a CONNECT User Property (5.0).
    pub fn user_property(
        mut self,
        name: impl Into<MqttString>,
        value: impl Into<MqttString>,
    ) -> Self {
        self.mqtt.user_properties.push((name.into(), value.into()));
        self
    }

    /// Asks the broker for Response Information (5.0), a prefix for response topics.
    pub fn request_response_information(mut self, request: bool) -> Self {
        self.mqtt.request_response_information = request;
        self
    }

    /// Where the session state survives a restart; see [`ConnectOptions::session_store`].
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.session_store = Some(Arc::new(store));
        self
    }

    /// The application acknowledges each QoS 1/2 message; see [`ConnectOptions::manual_acks`].
    pub fn manual_acks(mut self, manual: bool) -> Self {
        self.manual_acks = manual;
        self
    }

    /// What a publish does when the outgoing queue is full, and how many
    /// messages the queue holds (waiting for a connection or for the
    /// broker's Receive Maximum).
    pub fn queue(mut self, policy: QueuePolicy, max_queued_messages: usize) -> Self {
        self.queue_policy = policy;
        self.mqtt.max_queued_messages = max_queued_messages;
        self
    }

    /// Messages buffered per subscription before reading from the broker pauses.
    pub fn subscription_capacity(mut self, messages: usize) -> Self {
        self.subscription_capacity = messages;
        self
    }

    /// A write that makes no progress for this long ends the connection.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// More broker URLs to fail over to, in turn; see [`ConnectOptions::failover`].
    pub fn failover<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.failover.extend(urls.into_iter().map(Into::into));
        self
    }

    /// Follow a broker's redirect (5.0); see [`ConnectOptions::follow_redirects`].
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// Adds an interceptor of outgoing publishes and incoming messages.
    pub fn interceptor(mut self, interceptor: impl crate::Interceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Enhanced authentication (5.0).
    pub fn authenticator(mut self, factory: AuthenticatorFactory) -> Self {
        self.authenticator = Some(factory);
        self
    }

    /// TLS settings for `mqtts://` and `wss://`.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsOptions) -> Self {
        self.tls = tls;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_whole_seconds_rounded_up_and_capped() {
        let o = ConnectOptions::new("c")
            .keep_alive(Duration::from_millis(1500))
            .session_expiry(Duration::from_secs(u64::MAX));
        assert_eq!(o.mqtt.keep_alive, 2);
        assert_eq!(o.mqtt.session_expiry_interval, u32::MAX);
        let o = o.keep_alive(Duration::ZERO);
        assert_eq!(o.mqtt.keep_alive, 0, "zero turns keep alive off");
        let o = o.keep_alive(Duration::from_secs(100_000));
        assert_eq!(o.mqtt.keep_alive, u16::MAX);
    }

    #[test]
    fn every_setter_lands_in_its_field() {
        let o = ConnectOptions::new("c")
            .clean_start(false)
            .credentials("u", "p")
            .will(Will::new("gone", "bye"))
            .protocol_version(ProtocolVersion::V311)
            .protocol_fallback(false)
            .connect_timeout(Duration::from_secs(3))
            .auto_reconnect(false)
            .maximum_packet_size(1024)
            .user_property("k", "v")
            .manual_acks(true)
            .queue(QueuePolicy::Error, 7)
            .subscription_capacity(5);
        assert!(!o.mqtt.clean_start && !o.mqtt.protocol_fallback && !o.auto_reconnect);
        assert_eq!(o.mqtt.username.as_deref(), Some("u"));
        assert_eq!(
            o.mqtt.password.as_ref().map(|p| p.as_bytes()),
            Some(&b"p"[..])
        );
        assert_eq!(o.mqtt.will.as_ref().map(|w| &w.topic[..]), Some("gone"));
        assert_eq!(o.mqtt.protocol_version, ProtocolVersion::V311);
        assert_eq!(o.mqtt.connect_timeout, Duration::from_secs(3));
        assert_eq!(o.mqtt.maximum_packet_size, Some(1024));
        assert_eq!(o.mqtt.user_properties.len(), 1);
        assert!(o.manual_acks);
        assert_eq!(
            (o.queue_policy, o.mqtt.max_queued_messages),
            (QueuePolicy::Error, 7)
        );
        assert_eq!(o.subscription_capacity, 5);
    }
}
