//! The async handle, the same for every async runtime: [`Client`],
//! [`Subscription`], [`PublishBuilder`] and [`PublishToken`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use mq_proto::client::{AckToken, CommandError, RouteId, ServerCapabilities, Stats};
use mq_proto::{
    ConnAck, Disconnect, MqttString, Properties, ProtocolVersion, Publish, QoS, ReasonCode,
    Subscribe, SubscribeFilter as Filter, SubscriptionOptions, Unsubscribe,
};

use crate::channel::{inbox, reply, EventHub, Events, Inbox, RecvError, Reply, Waiter};
use crate::engine::{Command, Parts, StopSignal, Subscribed};
use crate::runtime::Spawn;
use crate::{ConnectOptions, Error, IntoPayload, Message, RestoredOutcome, Snapshot};

/// A connected MQTT client; cheap to clone, every clone drives the same connection.
///
/// **What keeps a client alive.** The client runs (and reconnects) while any
/// `Client` clone or any [`Subscription`] exists: a subscription holds a
/// command sender of its own. When the last of them is dropped, the client
/// disconnects normally (DISCONNECT, reason Normal) and stops. Call
/// [`Client::disconnect`] to stop it earlier; subscriptions then end.
///
/// **Events.** [`Client::events`] makes a listener that sees the events that
/// happen after it was made, up to 64 unread ones; a listener further behind
/// misses the newest until it catches up. The first `Connected` is sent
/// before `connect` returns, so a listener made after `connect` never sees it.
///
/// **Cancel safety.** Every future can be dropped (in a `select`, a timeout):
/// a request still waiting for room in the command queue is not sent; one
/// already handed over goes on without anyone waiting for its outcome.
///
/// The state accessors (`is_connected`, `stats`, `in_flight`...) read a
/// snapshot the engine refreshes after every input and before connection
/// events.
#[derive(Clone)]
pub struct Client {
    commands: flume::Sender<Command>,
    snapshot: Arc<Mutex<Snapshot>>,
    events: EventHub,
    subscription_capacity: usize,
    spawn: Arc<dyn Spawn>,
    stop: StopSignal,
    restored: flume::Receiver<RestoredOutcome>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.snapshot())
            .finish()
    }
}

impl Client {
    /// Sends `command` (waiting for queue room) and waits for its reply.
    async fn ask<T>(&self, build: impl FnOnce(Reply<T>) -> Command) -> Result<T, Error> {
        let (reply, waiter) = reply();
        self.commands
            .send_async(build(reply))
            .await
            .map_err(|_| Error::Closed)?;
        match self.settled(waiter) {
            Ok(result) => result,
            Err(waiter) => waiter.await,
        }
    }

    /// The outcome of a command just handed over, if the client has stopped:
    /// a stopped engine takes no more commands, and one that slipped into the
    /// queue as it stopped would never be answered.
    fn settled<T>(&self, mut waiter: Waiter<T>) -> Result<Result<T, Error>, Waiter<T>> {
        if !self.is_closed() {
            return Err(waiter);
        }
        Ok(waiter.try_take().unwrap_or(Err(Error::Closed)))
    }

    /// The token for a publish handed over; settled at once if the engine has stopped.
    #[allow(clippy::result_large_err)] // `Error` is the one type every adapter returns.
    fn token(&self, waiter: Waiter<ReasonCode>) -> Result<PublishToken, Error> {
        match self.settled(waiter) {
            Err(waiter) => Ok(PublishToken(waiter)),
            Ok(Err(e)) => Err(e),
            Ok(result) => {
                let (done, waiter) = reply();
                done.send(result);
                Ok(PublishToken(waiter))
            }
        }
    }

    /// A handle on the engine `parts` were made with; `spawn` runs callback handlers.
    pub(crate) fn new(parts: &Parts, options: &ConnectOptions, spawn: Arc<dyn Spawn>) -> Self {
        Client {
            commands: parts.commands.clone(),
            snapshot: parts.snapshot.clone(),
            events: parts.events.clone(),
            subscription_capacity: options.subscription_capacity.max(1),
            spawn,
            stop: parts.stop.clone(),
            restored: parts.restored.clone(),
        }
    }

    fn snapshot(&self) -> Snapshot {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts a publish of `payload` to `topic` (QoS 0 unless set); `.await`
    /// it for the broker's acknowledgment, or hand it over with
    /// [`PublishBuilder::try_send`].
    pub fn publish(
        &self,
        topic: impl Into<MqttString>,
        payload: impl IntoPayload,
    ) -> PublishBuilder<'_> {
        PublishBuilder {
            client: self,
            publish: Publish::new(topic, payload.into_payload()),
        }
    }

    /// Starts a subscription to `filter` (QoS 0 unless set, options and more
    /// filters with the builder's setters); `.await` it for the stream of
    /// its messages, once the broker granted it.
    ///
    /// ```no_run
    /// # async fn run(client: mq_common::Client) -> Result<(), mq_common::Error> {
    /// use mq_proto::QoS;
    /// let mut sub = client
    ///     .subscribe("sensors/+/temp")
    ///     .qos(QoS::AtLeastOnce)
    ///     .no_local()
    ///     .await?;
    /// while let Some(msg) = sub.recv().await { /* ... */ }
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self, filter: impl Into<MqttString>) -> SubscribeBuilder<'_> {
        SubscribeBuilder {
            client: self,
            packet: Subscribe::new(0, filter, QoS::AtMostOnce),
        }
    }

    /// Subscribes with full control: several filters with their options, a
    /// Subscription Identifier and User Properties (`packet.packet_id` is
    /// ignored). Every filter's messages arrive on the one returned stream.
    pub async fn subscribe_with(&self, packet: Subscribe) -> Result<Subscription, Error> {
        let (sink, inbox) = inbox(self.subscription_capacity);
        let granted = self
            .ask(|reply| Command::Subscribe {
                packet,
                sink,
                reply,
                routed: None,
            })
            .await?;
        Ok(Subscription {
            inbox,
            routes: granted.routes,
            reason_codes: granted.reason_codes,
            commands: self.commands.clone(),
        })
    }

    /// Subscribes and calls `handler` for every message, on a task of its own
    /// (so the handler may use this client). Returns the broker's reason
    /// codes; the task ends with the subscription (unsubscribed, or the
    /// client stopped), and keeps the client alive until then.
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
        self.spawn.spawn(Box::pin(async move {
            while let Some(msg) = sub.recv().await {
                handler(msg);
            }
        }));
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
    /// those of a session resumed from an earlier run). Replaces any earlier
    /// one. Messages that arrived before the first call (up to the
    /// subscription capacity) come first.
    pub async fn unrouted_messages(&self) -> Result<Subscription, Error> {
        let (sink, inbox) = inbox(self.subscription_capacity);
        self.commands
            .send_async(Command::DefaultRoute(sink))
            .await
            .map_err(|_| Error::Closed)?;
        Ok(Subscription {
            inbox,
            routes: Vec::new(),
            reason_codes: Vec::new(),
            commands: self.commands.clone(),
        })
    }

    /// Acknowledges a received QoS 1/2 message (with
    /// [`ConnectOptions::manual_acks`]): its PUBACK / PUBREC goes out once
    /// every message that arrived before it has been acknowledged too. A
    /// QoS 0 message needs none (Ok). Fails with `Error::Ack` for a message
    /// that awaits no acknowledgment (acknowledged before, or its session
    /// lost).
    pub async fn ack(&self, msg: &Message) -> Result<(), Error> {
        match AckToken::of(msg) {
            Some(ack) => self.ask(|reply| Command::Ack { ack, reply }).await,
            None => Ok(()),
        }
    }

    /// What became of the publishes restored from the session store (those a
    /// previous process queued and did not see finish), as each completes.
    /// Every clone reads the same queue: each outcome goes to one reader.
    pub fn restored_outcomes(&self) -> RestoredOutcomes {
        RestoredOutcomes(self.restored.clone().into_stream())
    }

    /// Sends DISCONNECT (Normal disconnection) and stops the client, also
    /// while it is reconnecting. Ok if it had stopped already.
    pub async fn disconnect(&self) -> Result<(), Error> {
        self.disconnect_with(Disconnect::default()).await
    }

    /// Sends DISCONNECT with a reason code and properties (5.0) and stops the client.
    pub async fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), Error> {
        // A write stuck behind a broker that stopped reading gives up soon.
        self.stop.request();
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
    /// reconnecting, redirects; see the [type docs](Client) for what a
    /// listener sees. The stream ends when the client stops.
    pub fn events(&self) -> Events {
        self.events.listen()
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

    /// The last accepted CONNACK (5.0 properties: Response Information,
    /// Reason String, User Properties, Server Reference, limits); `None`
    /// before the first connection.
    pub fn connack(&self) -> Option<ConnAck> {
        self.snapshot().connack
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
        payload: impl IntoPayload,
        timeout: Duration,
    ) -> Result<Message, Error> {
        let mut publish = Publish::new(topic, payload.into_payload());
        publish.qos = QoS::AtLeastOnce;
        self.ask(|reply| Command::Request {
            publish,
            timeout,
            reply,
        })
        .await
    }
}

/// A publish being built; `.await` it to send and wait for the
/// acknowledgment (PUBACK at QoS 1, PUBCOMP at QoS 2, written at QoS 0).
///
/// Cancel-safe: dropped while waiting for room in the command queue, the
/// message is not sent; once handed over, it is sent either way.
#[must_use = "a publish does nothing until awaited or sent with try_send"]
pub struct PublishBuilder<'a> {
    client: &'a Client,
    publish: Publish,
}

crate::publish_setters!(PublishBuilder<'_>);

impl PublishBuilder<'_> {
    /// Hands the message to the client without waiting for queue room; the
    /// token resolves like the builder's future. Fails at once with
    /// `CommandError::QueueFull(command_capacity)` if the command queue is full.
    #[allow(clippy::result_large_err)] // `Error` is the one type every adapter returns.
    pub fn try_send(self) -> Result<PublishToken, Error> {
        let (reply, waiter) = reply();
        let commands = &self.client.commands;
        let command = Command::Publish {
            publish: self.publish,
            reply,
        };
        commands.try_send(command).map_err(|e| match e {
            flume::TrySendError::Full(_) => Error::Command(CommandError::QueueFull(
                commands.capacity().unwrap_or_default(),
            )),
            flume::TrySendError::Disconnected(_) => Error::Closed,
        })?;
        self.client.token(waiter)
    }

    /// Hands the message to the client, waiting for room in the command
    /// queue (not for the acknowledgment); the token resolves like the
    /// builder's future.
    pub async fn send(self) -> Result<PublishToken, Error> {
        let (reply, waiter) = reply();
        let command = Command::Publish {
            publish: self.publish,
            reply,
        };
        self.client
            .commands
            .send_async(command)
            .await
            .map_err(|_| Error::Closed)?;
        self.client.token(waiter)
    }
}

impl<'a> IntoFuture for PublishBuilder<'a> {
    type Output = Result<ReasonCode, Error>;
    type IntoFuture = PublishFuture<'a>;

    fn into_future(self) -> PublishFuture<'a> {
        let (reply, waiter) = reply();
        let command = Command::Publish {
            publish: self.publish,
            reply,
        };
        PublishFuture {
            client: self.client,
            send: Some(self.client.commands.send_async(command)),
            waiter: Some(waiter),
        }
    }
}

/// The future of an awaited [`PublishBuilder`]: hands the message over
/// (waiting for room in the command queue), then waits for its outcome.
#[must_use = "futures do nothing unless polled"]
pub struct PublishFuture<'a> {
    client: &'a Client,
    send: Option<flume::r#async::SendFut<'a, Command>>,
    /// `None` once resolved.
    waiter: Option<Waiter<ReasonCode>>,
}

impl std::fmt::Debug for PublishFuture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishFuture")
            .field("handed_over", &self.send.is_none())
            .finish()
    }
}

impl Future for PublishFuture<'_> {
    type Output = Result<ReasonCode, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(send) = self.send.as_mut() {
            match Pin::new(send).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(Err(Error::Closed)),
                Poll::Ready(Ok(())) => {
                    self.send = None;
                    let Some(waiter) = self.waiter.take() else {
                        return Poll::Ready(Err(Error::Closed));
                    };
                    match self.client.settled(waiter) {
                        Ok(result) => return Poll::Ready(result),
                        Err(waiter) => self.waiter = Some(waiter),
                    }
                }
            }
        }
        match self.waiter.as_mut() {
            Some(waiter) => Pin::new(waiter).poll(cx),
            None => Poll::Ready(Err(Error::Closed)),
        }
    }
}

/// Resolves when a publish handed over with [`PublishBuilder::try_send`]
/// completes: PUBACK at QoS 1, PUBCOMP at QoS 2, written at QoS 0.
#[derive(Debug)]
#[must_use = "drop it if the outcome does not matter; the message is sent either way"]
pub struct PublishToken(Waiter<ReasonCode>);

impl Future for PublishToken {
    type Output = Result<ReasonCode, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// The messages of a subscription, as a [`futures_core::Stream`] or with
/// [`Subscription::recv`]. A slow reader slows reading from the broker (once
/// `subscription_capacity` messages wait) instead of growing memory.
///
/// It keeps the client alive (see [`Client`]). Dropping it stops local
/// delivery; call [`Client::unsubscribe`] to stop the broker sending.
#[derive(Debug)]
pub struct Subscription {
    inbox: Inbox,
    routes: Vec<RouteId>,
    reason_codes: Vec<ReasonCode>,
    commands: flume::Sender<Command>,
}

impl Subscription {
    /// The next message; `None` once unsubscribed or the client stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        self.inbox.recv().await
    }

    /// The next message if one is waiting.
    pub fn try_recv(&mut self) -> Option<Message> {
        self.inbox.try_recv().ok()
    }

    /// The next message, blocking this thread at most `timeout`, as
    /// [`Events::recv_timeout`] does: for threads, not async code (there,
    /// `recv`). Cheaper on a thread than blocking on [`Subscription::recv`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Message, RecvError> {
        self.inbox.recv_timeout(timeout)
    }

    /// The broker's code for each filter: the granted QoS, or a failure.
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.reason_codes
    }
}

impl futures_core::Stream for Subscription {
    type Item = Message;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.inbox.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if !self.routes.is_empty() {
            let routes = std::mem::take(&mut self.routes);
            let _ = self.commands.try_send(Command::DropRoutes(routes));
        }
    }
}

/// Builds a SUBSCRIBE for several filters with their options.
///
/// ```
/// use mq_proto::{QoS, SubscriptionOptions};
/// let packet = mq_common::subscribe_packet([
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

/// A client that has not dialed yet, from `prepare`: register the
/// subscriptions and the default route a resumed session's messages need,
/// then [`Prepared::connect`]. Messages that arrive right after CONNACK then
/// always have somewhere to go (the Go library's `WithSubscription`).
#[derive(Debug)]
pub struct Prepared {
    client: Client,
    first_connect: Waiter<()>,
    /// SUBACKs of the subscriptions made here, checked by `connect`.
    subscribed: Vec<Waiter<Subscribed>>,
}

impl Prepared {
    pub(crate) fn new(client: Client, first_connect: Waiter<()>) -> Self {
        Prepared {
            client,
            first_connect,
            subscribed: Vec::new(),
        }
    }

    /// The client, for what needs no connection yet ([`Client::restored_outcomes`], events).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A subscription to `filter` made with the first CONNECT (set its QoS
    /// and options with the builder's setters, then `.await` it); see
    /// [`Prepared::subscribe_with`].
    pub fn subscribe(&mut self, filter: impl Into<MqttString>) -> PreparedSubscribe<'_> {
        PreparedSubscribe {
            prepared: self,
            packet: Subscribe::new(0, filter, QoS::AtMostOnce),
        }
    }

    /// A subscription whose messages are routed from the first CONNACK on;
    /// the SUBSCRIBE goes out with the first connection, and
    /// [`Prepared::connect`] fails if the broker refuses every filter. Its
    /// [`Subscription::reason_codes`] stay empty.
    pub async fn subscribe_with(&mut self, packet: Subscribe) -> Result<Subscription, Error> {
        let client = &self.client;
        let (sink, inbox) = inbox(client.subscription_capacity);
        let (reply, granted) = reply();
        let routes = client
            .ask(|routed| Command::Subscribe {
                packet,
                sink,
                reply,
                routed: Some(routed),
            })
            .await?;
        self.subscribed.push(granted);
        Ok(Subscription {
            inbox,
            routes,
            reason_codes: Vec::new(),
            commands: client.commands.clone(),
        })
    }

    /// The default route, from the first CONNACK on; see [`Client::unrouted_messages`].
    pub async fn unrouted_messages(&self) -> Result<Subscription, Error> {
        self.client.unrouted_messages().await
    }

    /// Dials, and returns once the broker accepted the connection and
    /// answered every subscription made here.
    pub async fn connect(self) -> Result<Client, Error> {
        self.client
            .commands
            .send_async(Command::Start)
            .await
            .map_err(|_| Error::Closed)?;
        self.first_connect.await?;
        for granted in self.subscribed {
            granted.await?;
        }
        Ok(self.client)
    }
}

/// The outcomes of [`Client::restored_outcomes`], as a
/// [`futures_core::Stream`] or with [`RestoredOutcomes::recv`]; ends when the
/// client stops.
pub struct RestoredOutcomes(flume::r#async::RecvStream<'static, RestoredOutcome>);

impl std::fmt::Debug for RestoredOutcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RestoredOutcomes")
    }
}

impl RestoredOutcomes {
    /// The next outcome; `None` once the client stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<RestoredOutcome> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut self.0), cx)).await
    }
}

impl futures_core::Stream for RestoredOutcomes {
    type Item = RestoredOutcome;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}

/// A subscription being built by [`Client::subscribe`]; `.await` it.
#[must_use = "a subscription does nothing until awaited"]
pub struct SubscribeBuilder<'a> {
    client: &'a Client,
    packet: Subscribe,
}

crate::subscribe_setters!(SubscribeBuilder<'_>);

impl SubscribeBuilder<'_> {
    /// Subscribes and calls `handler` for every message on a task of its
    /// own; see [`Client::subscribe_callback`].
    pub async fn callback<F>(self, handler: F) -> Result<Vec<ReasonCode>, Error>
    where
        F: FnMut(Message) + Send + 'static,
    {
        self.client.subscribe_callback(self.packet, handler).await
    }
}

impl<'a> IntoFuture for SubscribeBuilder<'a> {
    type Output = Result<Subscription, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.client.subscribe_with(self.packet))
    }
}

/// A subscription being built by [`Prepared::subscribe`]; `.await` it.
#[must_use = "a subscription does nothing until awaited"]
pub struct PreparedSubscribe<'a> {
    prepared: &'a mut Prepared,
    packet: Subscribe,
}

crate::subscribe_setters!(PreparedSubscribe<'_>);

impl<'a> IntoFuture for PreparedSubscribe<'a> {
    type Output = Result<Subscription, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.prepared.subscribe_with(self.packet))
    }
}
