//! The blocking handles: thin wrappers that wait on thread for mq-common's
//! async [`Client`](mq_common::Client) and its channels.

use std::time::Duration;

use mq_common::channel::Events;
use mq_common::{Error, IntoPayload, Message, PublishToken, RestoredOutcome};
use mq_proto::client::{ServerCapabilities, Stats};
use mq_proto::{Disconnect, MqttString, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe};

use crate::park::{block_on, within};

/// A connected MQTT client on plain threads; cheap to clone, `Send + Sync`,
/// usable from many threads. See the [crate documentation](crate).
///
/// The rules are mq-common's [`Client`](mq_common::Client)'s: the client runs
/// while any `Client` clone or any [`Subscription`] exists (dropping the last
/// disconnects normally); [`Client::events`] listeners see the events after
/// they were made, up to 64 unread ones (beyond that they miss the newest).
#[derive(Clone, Debug)]
pub struct Client(mq_common::Client);

impl Client {
    pub(crate) fn new(client: mq_common::Client) -> Self {
        Client(client)
    }

    /// Starts a publish of `payload` to `topic` (QoS 0 unless set); finish it
    /// with [`PublishBuilder::send`] and wait on the handle.
    pub fn publish(
        &self,
        topic: impl Into<MqttString>,
        payload: impl IntoPayload,
    ) -> PublishBuilder<'_> {
        PublishBuilder {
            client: &self.0,
            publish: Publish::new(topic, payload.into_payload()),
        }
    }

    /// Starts a subscription to `filter` (QoS 0 unless set, options and more
    /// filters with the builder's setters); the builder's `send` waits
    /// for SUBACK and gives the subscription to iterate.
    pub fn subscribe(&self, filter: impl Into<MqttString>) -> SubscribeBuilder<'_> {
        SubscribeBuilder {
            client: self,
            packet: Subscribe::new(0, filter, QoS::AtMostOnce),
        }
    }

    /// Subscribes with several filters, options, a Subscription Identifier and
    /// User Properties (`packet.packet_id` is ignored).
    pub fn subscribe_with(&self, packet: Subscribe) -> Result<Subscription, Error> {
        block_on(self.0.subscribe_with(packet)).map(Subscription)
    }

    /// Subscribes and calls `handler` for every message on a thread of its own
    /// (so the handler may use this client). Returns the broker's reason codes.
    pub fn subscribe_callback<F>(
        &self,
        packet: Subscribe,
        handler: F,
    ) -> Result<Vec<ReasonCode>, Error>
    where
        F: FnMut(Message) + Send + 'static,
    {
        block_on(self.0.subscribe_callback(packet, handler))
    }

    /// Unsubscribes `filters` and waits for UNSUBACK; their subscriptions end.
    pub fn unsubscribe<I, F>(&self, filters: I) -> Result<Vec<ReasonCode>, Error>
    where
        I: IntoIterator<Item = F>,
        F: Into<MqttString>,
    {
        block_on(self.0.unsubscribe(filters))
    }

    /// The default route: messages no subscription claims. Replaces any earlier one.
    pub fn unrouted_messages(&self) -> Result<Subscription, Error> {
        block_on(self.0.unrouted_messages()).map(Subscription)
    }

    /// Acknowledges a received QoS 1/2 message (with `manual_acks`); see
    /// mq-common's [`Client::ack`](mq_common::Client::ack).
    pub fn ack(&self, msg: &Message) -> Result<(), Error> {
        block_on(self.0.ack(msg))
    }

    /// What became of the publishes restored from the session store, as each
    /// completes (see mq-common's [`Client::restored_outcomes`](mq_common::Client::restored_outcomes)).
    pub fn restored_outcomes(&self) -> RestoredOutcomes {
        RestoredOutcomes(self.0.restored_outcomes())
    }

    /// Sends DISCONNECT and stops the client, from any thread, also while
    /// reconnecting. Ok if it had stopped already.
    pub fn disconnect(&self) -> Result<(), Error> {
        block_on(self.0.disconnect())
    }

    /// Sends DISCONNECT with a reason code and properties (5.0) and stops the client.
    pub fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), Error> {
        block_on(self.0.disconnect_with(disconnect))
    }

    /// Re-authenticates with the configured authenticator (5.0).
    pub fn reauthenticate(&self) -> Result<(), Error> {
        block_on(self.0.reauthenticate())
    }

    /// Sends a request (5.0): publishes at QoS 1 with a Response Topic and
    /// Correlation Data, and waits up to `timeout` for the reply (`Error::Timeout`).
    pub fn request(
        &self,
        topic: impl Into<MqttString>,
        payload: impl IntoPayload,
        timeout: Duration,
    ) -> Result<Message, Error> {
        block_on(self.0.request(topic, payload, timeout))
    }

    /// Connection events from now on (connected, lost, reconnecting,
    /// redirects): wait with `recv_timeout`, or `.await` them; they end when
    /// the client stops.
    pub fn events(&self) -> Events {
        self.0.events()
    }

    /// Whether the client is connected now.
    pub fn is_connected(&self) -> bool {
        self.0.is_connected()
    }

    /// Whether the client has stopped for good.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// The broker's capabilities from the last CONNACK.
    pub fn server_capabilities(&self) -> ServerCapabilities {
        self.0.server_capabilities()
    }

    /// The last accepted CONNACK (5.0 properties, Server Reference, limits).
    pub fn connack(&self) -> Option<mq_proto::ConnAck> {
        self.0.connack()
    }

    /// The client identifier in use.
    pub fn client_id(&self) -> MqttString {
        self.0.client_id()
    }

    /// The protocol version in use (after any fallback to 3.1.1).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.0.protocol_version()
    }

    /// Counters of packets, bytes, reconnects and drops.
    pub fn stats(&self) -> Stats {
        self.0.stats()
    }

    /// Publishes waiting in the outgoing queue.
    pub fn queued(&self) -> usize {
        self.0.queued()
    }

    /// QoS 1/2 publishes sent and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight()
    }
}

/// A publish being built.
#[must_use = "a publish does nothing until sent"]
pub struct PublishBuilder<'a> {
    client: &'a mq_common::Client,
    publish: Publish,
}

mq_common::publish_setters!(PublishBuilder<'_>);

impl<'a> PublishBuilder<'a> {
    fn into_async(
        publish: Publish,
        client: &'a mq_common::Client,
    ) -> mq_common::PublishBuilder<'a> {
        client
            .publish(publish.topic, publish.payload)
            .qos(publish.qos)
            .retain(publish.retain)
            .properties(publish.properties)
    }

    /// Hands the message to the client, waiting for room in the command
    /// queue (not for the acknowledgment: wait on the handle for that).
    pub fn send(self) -> Result<PublishHandle, Error> {
        block_on(Self::into_async(self.publish, self.client).send())
            .map(|token| PublishHandle(Handle::Pending(token)))
    }

    /// Hands the message to the client without waiting; fails at once with
    /// `CommandError::QueueFull(command_capacity)` if the command queue is full.
    pub fn try_send(self) -> Result<PublishHandle, Error> {
        Self::into_async(self.publish, self.client)
            .try_send()
            .map(|token| PublishHandle(Handle::Pending(token)))
    }
}

/// Completes when the broker acknowledged the publish (QoS 0: when written).
/// Dropping it does not withdraw the message.
#[derive(Debug)]
pub struct PublishHandle(Handle);

#[derive(Debug)]
enum Handle {
    Pending(PublishToken),
    /// `None` once taken.
    Done(Option<Result<ReasonCode, Error>>),
}

impl PublishHandle {
    /// Waits for the outcome.
    pub fn wait(self) -> Result<ReasonCode, Error> {
        match self.0 {
            Handle::Pending(token) => block_on(token),
            Handle::Done(outcome) => outcome.unwrap_or(Err(Error::Closed)),
        }
    }

    /// Waits at most `timeout`; `Error::Timeout` leaves the publish going on
    /// (wait again for it). After an outcome, a later call gives `Error::Closed`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<ReasonCode, Error> {
        let outcome = match &mut self.0 {
            Handle::Pending(token) => within(timeout, token).unwrap_or(Err(Error::Timeout)),
            Handle::Done(outcome) => return outcome.take().unwrap_or(Err(Error::Closed)),
        };
        if !matches!(outcome, Err(Error::Timeout)) {
            self.0 = Handle::Done(None);
        }
        outcome
    }
}

/// The messages of a subscription; iterating blocks for the next one.
///
/// It keeps the client alive (see [`Client`]). Dropping it stops local
/// delivery; call [`Client::unsubscribe`] to stop the broker sending.
#[derive(Debug)]
pub struct Subscription(mq_common::Subscription);

impl Subscription {
    /// The next message, waiting at most `timeout`; `None` on timeout or when the subscription ended.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Message> {
        self.0.recv_timeout(timeout).ok()
    }

    /// The next message if one is waiting.
    pub fn try_recv(&mut self) -> Option<Message> {
        self.0.try_recv()
    }

    /// The broker's code for each filter: the granted QoS, or a failure.
    pub fn reason_codes(&self) -> &[ReasonCode] {
        self.0.reason_codes()
    }
}

impl Iterator for Subscription {
    type Item = Message;
    fn next(&mut self) -> Option<Message> {
        self.0.recv_timeout(Duration::MAX).ok()
    }
}

/// A client that has not dialed yet, from [`prepare`](crate::prepare):
/// register subscriptions and the default route, then [`Prepared::connect`].
#[derive(Debug)]
pub struct Prepared(mq_common::Prepared);

impl Prepared {
    pub(crate) fn new(prepared: mq_common::Prepared) -> Self {
        Prepared(prepared)
    }

    /// What became of the publishes restored from the session store.
    pub fn restored_outcomes(&self) -> RestoredOutcomes {
        RestoredOutcomes(self.0.client().restored_outcomes())
    }

    /// A subscription to `filter` made with the first CONNECT; set its QoS
    /// and options, then call the builder's `send`.
    pub fn subscribe(&mut self, filter: impl Into<MqttString>) -> PreparedSubscribe<'_> {
        PreparedSubscribe {
            prepared: self,
            packet: Subscribe::new(0, filter, QoS::AtMostOnce),
        }
    }

    /// A subscription whose messages are routed from the first CONNACK on;
    /// [`Prepared::connect`] fails if the broker refuses every filter.
    pub fn subscribe_with(&mut self, packet: Subscribe) -> Result<Subscription, Error> {
        block_on(self.0.subscribe_with(packet)).map(Subscription)
    }

    /// The default route (messages no subscription claims), from the first CONNACK on.
    pub fn unrouted_messages(&self) -> Result<Subscription, Error> {
        block_on(self.0.unrouted_messages()).map(Subscription)
    }

    /// Dials, and returns once the broker accepted the connection and
    /// answered every subscription made here.
    pub fn connect(self) -> Result<Client, Error> {
        block_on(self.0.connect()).map(Client::new)
    }
}

/// The outcomes of [`Client::restored_outcomes`]; iterating blocks for the next one.
#[derive(Debug)]
pub struct RestoredOutcomes(mq_common::RestoredOutcomes);

impl RestoredOutcomes {
    /// The next outcome, waiting at most `timeout`; `None` on timeout or once the client stopped.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<RestoredOutcome> {
        within(timeout, self.0.recv()).flatten()
    }
}

impl Iterator for RestoredOutcomes {
    type Item = RestoredOutcome;
    fn next(&mut self) -> Option<RestoredOutcome> {
        block_on(self.0.recv())
    }
}

/// A subscription being built by [`Client::subscribe`].
#[must_use = "a subscription does nothing until sent"]
pub struct SubscribeBuilder<'a> {
    client: &'a Client,
    packet: Subscribe,
}

mq_common::subscribe_setters!(SubscribeBuilder<'_>);

impl SubscribeBuilder<'_> {
    /// Subscribes and waits for SUBACK.
    pub fn send(self) -> Result<Subscription, Error> {
        self.client.subscribe_with(self.packet)
    }

    /// Subscribes and calls `handler` for every message on a thread of its own.
    pub fn callback<F>(self, handler: F) -> Result<Vec<ReasonCode>, Error>
    where
        F: FnMut(Message) + Send + 'static,
    {
        self.client.subscribe_callback(self.packet, handler)
    }
}

/// A subscription being built by [`Prepared::subscribe`].
#[must_use = "a subscription does nothing until sent"]
pub struct PreparedSubscribe<'a> {
    prepared: &'a mut Prepared,
    packet: Subscribe,
}

mq_common::subscribe_setters!(PreparedSubscribe<'_>);

impl PreparedSubscribe<'_> {
    /// Registers the subscription (its SUBSCRIBE goes with the first CONNECT).
    pub fn send(self) -> Result<Subscription, Error> {
        self.prepared.subscribe_with(self.packet)
    }
}
