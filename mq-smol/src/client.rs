//! The user's handle: publish, subscribe, unsubscribe, request/response,
//! events and state. Cheap to clone; every clone talks to the same driver.
//! Its futures need no particular executor: they wait on channels only.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_channel::{Receiver, Sender, WeakSender};
use bytes::Bytes;
use event_listener::Event;
use futures_core::Stream;
use mq_common::legacy::Command;
use mq_common::{ClientEvent, Error, Message, Snapshot};
use mq_proto::client::{CommandError, RouteId, ServerCapabilities, Stats};
use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe,
    Subscription as Filter, SubscriptionOptions, Unsubscribe,
};

use crate::channels::{self, once, Once, Sink, Smol, Waiter};

/// A connected MQTT client. See the [crate documentation](crate) for an example.
///
/// Every method is cancel-safe: dropping a future before it resolves either
/// leaves the request unsent (it was still waiting for room in the command
/// queue) or lets it go on without waiting for the outcome.
///
/// The state accessors (`is_connected`, `stats`, `in_flight`...) read a
/// snapshot the engine refreshes after every input and before connection
/// events: current once `connect` or `disconnect` returns and when an event
/// arrives, it may trail a just-resolved publish by a moment.
#[derive(Clone)]
pub struct Client {
    pub(crate) commands: Sender<Command<Smol>>,
    pub(crate) shared: Arc<Mutex<Snapshot>>,
    pub(crate) events: channels::Events,
    pub(crate) subscription_capacity: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.snapshot())
            .finish()
    }
}

impl Client {
    fn snapshot(&self) -> Snapshot {
        match self.shared.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Sends the command built around a reply channel and waits for the reply.
    async fn ask<T>(&self, build: impl FnOnce(Once<T>) -> Command<Smol>) -> Result<T, Error> {
        let (reply, waiter) = once();
        self.commands
            .send(build(reply))
            .await
            .map_err(|_| Error::Closed)?;
        channels::wait(&waiter).await
    }

    /// Starts a publish of `payload` to `topic` (QoS 0 unless set); `.await` it
    /// for the broker's acknowledgment, or hand it over with [`PublishBuilder::try_send`].
    pub fn publish(
        &self,
        topic: impl Into<MqttString>,
        payload: impl Into<Bytes>,
    ) -> PublishBuilder<'_> {
        PublishBuilder {
            client: self,
            publish: Publish::new(topic, payload),
        }
    }

    /// Subscribes to one filter at `qos`; messages arrive on the returned stream.
    pub async fn subscribe(
        &self,
        filter: impl Into<MqttString>,
        qos: QoS,
    ) -> Result<Subscription, Error> {
        self.subscribe_with(Subscribe::new(0, filter, qos)).await
    }

    /// Subscribes with full control: several filters with their options, a
    /// Subscription Identifier and User Properties (`packet.packet_id` is
    /// ignored). Every filter's messages arrive on the one returned stream.
    pub async fn subscribe_with(&self, packet: Subscribe) -> Result<Subscription, Error> {
        let (sink, rx, room) = Sink::channel(self.subscription_capacity);
        let granted = self
            .ask(|reply| Command::Subscribe {
                packet,
                sink,
                reply,
            })
            .await?;
        Ok(Subscription {
            rx: Box::pin(rx),
            room,
            routes: granted.routes,
            reason_codes: granted.reason_codes,
            commands: self.commands.downgrade(),
        })
    }

    /// Subscribes and calls `handler` for every message on a thread of its own,
    /// so the handler may block, for example on
    /// `futures_lite::future::block_on(client.publish(..).into_future())`.
    /// Returns the broker's reason codes; the thread ends with the subscription.
    pub async fn subscribe_callback<F>(
        &self,
        packet: Subscribe,
        mut handler: F,
    ) -> Result<Vec<ReasonCode>, Error>
    where
        F: FnMut(Message) + Send + 'static,
    {
        let mut sub = self.subscribe_with(packet).await?;
        let codes = sub.reason_codes.clone();
        std::thread::Builder::new()
            .name("mq-smol-handler".into())
            .spawn(move || {
                futures_lite::future::block_on(async move {
                    while let Some(msg) = sub.recv().await {
                        handler(msg);
                    }
                })
            })?;
        Ok(codes)
    }

    /// Unsubscribes `filters`; their streams end. Returns the broker's codes (empty on 3.1.1).
    pub async fn unsubscribe<I, F>(&self, filters: I) -> Result<Vec<ReasonCode>, Error>
    where
        I: IntoIterator<Item = F>,
        F: Into<MqttString>,
    {
        let packet = Unsubscribe {
            filters: filters.into_iter().map(Into::into).collect(),
            ..Default::default()
        };
        self.ask(|reply| Command::Unsubscribe { packet, reply })
            .await
    }

    /// The default route: messages no subscription stream claims (for example
    /// those of a session resumed from an earlier run). Replaces any earlier one.
    pub async fn unrouted_messages(&self) -> Result<Subscription, Error> {
        let (sink, rx, room) = Sink::channel(self.subscription_capacity);
        self.commands
            .send(Command::DefaultRoute(sink))
            .await
            .map_err(|_| Error::Closed)?;
        Ok(Subscription {
            rx: Box::pin(rx),
            room,
            routes: Vec::new(),
            reason_codes: Vec::new(),
            commands: self.commands.downgrade(),
        })
    }

    /// Sends DISCONNECT (Normal disconnection) and stops the client, also while
    /// it is reconnecting. Ok if it had stopped already.
    pub async fn disconnect(&self) -> Result<(), Error> {
        self.disconnect_with(Disconnect::default()).await
    }

    /// Sends DISCONNECT with a reason code and properties (5.0) and stops the client.
    pub async fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), Error> {
        match self
            .ask(|reply| Command::Disconnect { disconnect, reply })
            .await
        {
            Err(Error::Closed) => Ok(()),
            other => other,
        }
    }

    /// Re-authenticates with the configured authenticator (5.0).
    pub async fn reauthenticate(&self) -> Result<(), Error> {
        self.ask(Command::Reauthenticate).await
    }

    /// Connection events from now on: connected, lost (with the reason),
    /// reconnecting, redirects. The stream ends when the client stops.
    pub fn events(&self) -> Events {
        Events {
            rx: Box::pin(self.events.listen()),
        }
    }

    /// Whether the client is connected now.
    pub fn is_connected(&self) -> bool {
        self.snapshot().connected
    }

    /// Whether the client has stopped for good.
    pub fn is_closed(&self) -> bool {
        self.snapshot().closed
    }

    /// The broker's capabilities from the last CONNACK.
    pub fn server_capabilities(&self) -> ServerCapabilities {
        self.snapshot().capabilities
    }

    /// The client identifier in use (the broker-assigned one if it assigned one).
    pub fn client_id(&self) -> MqttString {
        self.snapshot().client_id
    }

    /// The protocol version in use (after any fallback to 3.1.1).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.snapshot().version
    }

    /// Counters of packets, bytes, reconnects and drops.
    pub fn stats(&self) -> Stats {
        self.snapshot().stats
    }

    /// Publishes waiting in the outgoing queue.
    pub fn queued(&self) -> usize {
        self.snapshot().queued
    }

    /// QoS 1/2 publishes sent and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.snapshot().in_flight
    }

    /// Sends a request (5.0): publishes at QoS 1 with a Response Topic and
    /// Correlation Data, and waits up to `timeout` for the reply
    /// (`Error::Timeout`). The first request subscribes to this client's reply
    /// topic. Cancel-safe: a dropped request's late reply is discarded.
    pub async fn request(
        &self,
        topic: impl Into<MqttString>,
        payload: impl Into<Bytes>,
        timeout: Duration,
    ) -> Result<Message, Error> {
        let mut publish = Publish::new(topic, payload);
        publish.qos = QoS::AtLeastOnce;
        self.ask(|reply| Command::Request {
            publish,
            timeout,
            reply,
        })
        .await
    }
}

/// A publish being built; `.await` it to send and wait for the acknowledgment.
///
/// The future is cancel-safe: dropped while waiting for room in the command
/// queue, the message is not sent; once handed over, it is sent either way.
#[must_use = "a publish does nothing until awaited or sent with try_send"]
pub struct PublishBuilder<'a> {
    client: &'a Client,
    publish: Publish,
}

mq_common::publish_setters!(PublishBuilder<'_>);

impl PublishBuilder<'_> {
    /// Hands the message to the client without waiting for queue room; the
    /// token resolves like the builder's future. Fails at once with
    /// `CommandError::QueueFull` if the command queue is full.
    #[allow(clippy::result_large_err)] // `Error` is the one type every adapter returns.
    pub fn try_send(self) -> Result<PublishToken, Error> {
        let (reply, waiter) = once();
        let command = Command::Publish {
            publish: self.publish,
            reply,
        };
        let commands = &self.client.commands;
        commands.try_send(command).map_err(|e| match e {
            async_channel::TrySendError::Full(_) => Error::Command(CommandError::QueueFull(
                commands.capacity().unwrap_or_default(),
            )),
            async_channel::TrySendError::Closed(_) => Error::Closed,
        })?;
        Ok(PublishToken {
            waiter: Box::pin(waiter),
        })
    }
}

impl<'a> IntoFuture for PublishBuilder<'a> {
    type Output = Result<ReasonCode, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let PublishBuilder { client, publish } = self;
        Box::pin(client.ask(|reply| Command::Publish { publish, reply }))
    }
}

/// Resolves when a publish handed over with [`PublishBuilder::try_send`]
/// completes: PUBACK at QoS 1, PUBCOMP at QoS 2, written at QoS 0.
#[must_use = "drop it if the outcome does not matter; the message is sent either way"]
pub struct PublishToken {
    waiter: Pin<Box<Waiter<ReasonCode>>>,
}

impl Future for PublishToken {
    type Output = Result<ReasonCode, Error>;
    #[allow(clippy::result_large_err)] // `Error` is the one type every adapter returns.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.waiter
            .as_mut()
            .poll_next(cx)
            .map(|r| r.unwrap_or(Err(Error::Closed)))
    }
}

/// The messages of a subscription, as a [`futures_core::Stream`] or with
/// [`Subscription::recv`]. A slow reader slows reading from the broker (once
/// `subscription_capacity` messages wait) instead of growing memory.
///
/// Dropping it stops local delivery; call [`Client::unsubscribe`] to stop the broker sending.
pub struct Subscription {
    rx: Pin<Box<Receiver<Message>>>,
    room: Arc<Event>,
    routes: Vec<RouteId>,
    reason_codes: Vec<ReasonCode>,
    commands: WeakSender<Command<Smol>>,
}

impl Subscription {
    /// The next message; `None` once unsubscribed or the client stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        let msg = self.rx.recv().await.ok();
        self.took(msg)
    }

    /// The next message if one is waiting.
    pub fn try_recv(&mut self) -> Option<Message> {
        let msg = self.rx.try_recv().ok();
        self.took(msg)
    }

    fn took(&self, msg: Option<Message>) -> Option<Message> {
        if msg.is_some() {
            self.room.notify(1);
        }
        msg
    }

    /// The broker's code for each filter: the granted QoS, or a failure.
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.reason_codes
    }
}

impl Stream for Subscription {
    type Item = Message;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let polled = self.rx.as_mut().poll_next(cx);
        polled.map(|msg| self.took(msg))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Close first, then wake a driver waiting for room in this channel.
        self.rx.close();
        self.room.notify(usize::MAX);
        if !self.routes.is_empty() {
            if let Some(commands) = self.commands.upgrade() {
                let _ = commands.try_send(Command::DropRoutes(std::mem::take(&mut self.routes)));
            }
        }
    }
}

/// Connection events ([`ClientEvent`]), as a [`futures_core::Stream`] or with
/// [`Events::recv`]. A listener more than 64 events behind misses the newest.
pub struct Events {
    rx: Pin<Box<Receiver<ClientEvent>>>,
}

impl Events {
    /// The next event; `None` once the client has stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        self.rx.recv().await.ok()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<ClientEvent> {
        self.rx.try_recv().ok()
    }
}

impl Stream for Events {
    type Item = ClientEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        self.rx.as_mut().poll_next(cx)
    }
}

/// Builds a SUBSCRIBE for several filters with their options.
///
/// ```
/// use mq_smol::{QoS, SubscriptionOptions};
/// let packet = mq_smol::subscribe_packet([
///     ("a/+", SubscriptionOptions { qos: QoS::AtLeastOnce, ..Default::default() }),
///     ("b/#", SubscriptionOptions::default()),
/// ]);
/// assert_eq!(packet.subscriptions.len(), 2);
/// ```
pub fn subscribe_packet<I, F>(filters: I) -> Subscribe
where
    I: IntoIterator<Item = (F, SubscriptionOptions)>,
    F: Into<MqttString>,
{
    Subscribe {
        packet_id: 0,
        subscriptions: filters
            .into_iter()
            .map(|(filter, options)| Filter {
                filter: filter.into(),
                options,
            })
            .collect(),
        properties: Properties::default(),
    }
}
