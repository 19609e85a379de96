//! The user's handle: publish, subscribe, unsubscribe, request/response,
//! events and state. Cheap to clone; every clone talks to the same driver.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use mq_proto::client::{RouteId, ServerCapabilities, Stats};
use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe,
    Subscription as Filter, SubscriptionOptions, Unsubscribe,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use mq_common::legacy::Command;
use mq_common::Snapshot;

use crate::channels::{Once, Sink, Tokio};
use crate::{ClientEvent, Error, Message};

/// A connected MQTT client. See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct Client {
    pub(crate) commands: mpsc::Sender<Command<Tokio>>,
    pub(crate) shared: Arc<Mutex<Snapshot>>,
    pub(crate) events: broadcast::Sender<ClientEvent>,
    pub(crate) subscription_capacity: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.shared())
            .finish()
    }
}

/// Sends `command` built around a reply channel and awaits the reply.
async fn ask<T>(
    commands: &mpsc::Sender<Command<Tokio>>,
    build: impl FnOnce(Once<T>) -> Command<Tokio>,
) -> Result<T, Error> {
    let (tx, rx) = oneshot::channel();
    commands
        .send(build(Once(tx)))
        .await
        .map_err(|_| Error::Closed)?;
    rx.await.map_err(|_| Error::Closed)?
}

impl Client {
    fn shared(&self) -> Snapshot {
        match self.shared.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Starts a publish of `payload` to `topic` (QoS 0 unless set); `.await` it
    /// for the broker's acknowledgment.
    ///
    /// The returned future is cancel-safe: once the message was handed to the
    /// client, dropping the future does not withdraw it.
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

    /// Subscribes with full control: several filters with their options,
    /// a Subscription Identifier and User Properties (`packet.packet_id` is ignored).
    /// Every filter's messages arrive on the one returned stream.
    pub async fn subscribe_with(&self, packet: Subscribe) -> Result<Subscription, Error> {
        let (tx, rx) = mpsc::channel(self.subscription_capacity);
        let sink = Sink(tx);
        let granted = ask(&self.commands, |reply| Command::Subscribe {
            packet,
            sink,
            reply,
        })
        .await?;
        Ok(Subscription {
            rx,
            routes: granted.routes,
            reason_codes: granted.reason_codes,
            commands: self.commands.clone(),
        })
    }

    /// Subscribes and calls `handler` for every message, on a task of its own
    /// (so the handler may use this client). Returns the broker's reason codes.
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
        tokio::spawn(async move {
            while let Some(msg) = sub.recv().await {
                handler(msg);
            }
        });
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
        ask(&self.commands, |reply| Command::Unsubscribe {
            packet,
            reply,
        })
        .await
    }

    /// The default route: messages no subscription stream claims (for example
    /// those of a session resumed from an earlier run). Replaces any earlier one.
    /// Messages that arrived before the first call (up to the subscription
    /// capacity) come first.
    pub async fn unrouted_messages(&self) -> Result<Subscription, Error> {
        let (tx, rx) = mpsc::channel(self.subscription_capacity);
        self.commands
            .send(Command::DefaultRoute(Sink(tx)))
            .await
            .map_err(|_| Error::Closed)?;
        Ok(Subscription {
            rx,
            routes: Vec::new(),
            reason_codes: Vec::new(),
            commands: self.commands.clone(),
        })
    }

    /// Sends DISCONNECT (Normal disconnection) and stops the client, also while it is reconnecting.
    pub async fn disconnect(&self) -> Result<(), Error> {
        self.disconnect_with(Disconnect::default()).await
    }

    /// Sends DISCONNECT with a reason code and properties (5.0) and stops the client.
    pub async fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), Error> {
        match ask(&self.commands, |reply| Command::Disconnect {
            disconnect,
            reply,
        })
        .await
        {
            Err(Error::Closed) => Ok(()),
            other => other,
        }
    }

    /// Re-authenticates with the configured authenticator (5.0).
    pub async fn reauthenticate(&self) -> Result<(), Error> {
        ask(&self.commands, Command::Reauthenticate).await
    }

    /// Connection events: connected, lost (with the reason), reconnecting, redirects.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }

    /// Whether the client is connected now.
    pub fn is_connected(&self) -> bool {
        self.shared().connected
    }

    /// Whether the client has stopped for good.
    pub fn is_closed(&self) -> bool {
        self.shared().closed
    }

    /// The broker's capabilities from the last CONNACK.
    pub fn server_capabilities(&self) -> ServerCapabilities {
        self.shared().capabilities
    }

    /// The client identifier in use (the broker-assigned one if it assigned one).
    pub fn client_id(&self) -> MqttString {
        self.shared().client_id
    }

    /// The protocol version in use (after any fallback to 3.1.1).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.shared().version
    }

    /// Counters of packets, bytes, reconnects and drops.
    pub fn stats(&self) -> Stats {
        self.shared().stats
    }

    /// Publishes waiting in the outgoing queue.
    pub fn queued(&self) -> usize {
        self.shared().queued
    }

    /// QoS 1/2 publishes sent and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.shared().in_flight
    }

    /// Sends a request (5.0): publishes with a Response Topic and Correlation
    /// Data, and waits up to `timeout` for the reply.
    pub async fn request(
        &self,
        topic: impl Into<MqttString>,
        payload: impl Into<Bytes>,
        timeout: Duration,
    ) -> Result<Message, Error> {
        let mut publish = Publish::new(topic, payload);
        publish.qos = QoS::AtLeastOnce;
        ask(&self.commands, |reply| Command::Request {
            publish,
            timeout,
            reply,
        })
        .await
    }
}

/// A publish being built; `.await` it to send and wait for the acknowledgment.
#[must_use = "a publish does nothing until awaited or sent with try_send"]
pub struct PublishBuilder<'a> {
    client: &'a Client,
    publish: Publish,
}

mq_common::publish_setters!(PublishBuilder<'_>);

impl PublishBuilder<'_> {
    /// Hands the message to the client without waiting for queue room; the
    /// token resolves like the builder's future. Fails at once if the command
    /// queue is full.
    pub fn try_send(self) -> Result<PublishToken, Error> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Publish {
            publish: self.publish,
            reply: Once(reply),
        };
        self.client
            .commands
            .try_send(command)
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Error::Command(
                    mq_proto::client::CommandError::QueueFull(self.client.commands.max_capacity()),
                ),
                mpsc::error::TrySendError::Closed(_) => Error::Closed,
            })?;
        Ok(PublishToken { rx })
    }
}

impl<'a> IntoFuture for PublishBuilder<'a> {
    type Output = Result<ReasonCode, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let PublishBuilder { client, publish } = self;
        Box::pin(async move {
            ask(&client.commands, |reply| Command::Publish {
                publish,
                reply,
            })
            .await
        })
    }
}

/// Resolves when a publish handed over with [`PublishBuilder::try_send`] completes.
#[must_use = "drop it if the outcome does not matter; the message is sent either way"]
pub struct PublishToken {
    rx: oneshot::Receiver<Result<ReasonCode, Error>>,
}

impl Future for PublishToken {
    type Output = Result<ReasonCode, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(Error::Closed)))
    }
}

/// The messages of a subscription, as a [`futures_core::Stream`] or with [`Subscription::recv`].
///
/// Dropping it stops local delivery; call [`Client::unsubscribe`] to stop the broker sending.
pub struct Subscription {
    rx: mpsc::Receiver<Message>,
    routes: Vec<RouteId>,
    reason_codes: Vec<ReasonCode>,
    commands: mpsc::Sender<Command<Tokio>>,
}

impl Subscription {
    /// The next message; `None` once unsubscribed or the client stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        self.rx.recv().await
    }

    /// The broker's code for each filter: the granted QoS, or a failure.
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.reason_codes
    }
}

impl futures_core::Stream for Subscription {
    type Item = Message;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if !self.routes.is_empty() {
            let _ = self
                .commands
                .try_send(Command::DropRoutes(std::mem::take(&mut self.routes)));
        }
    }
}

/// Builds a SUBSCRIBE for several filters with their options.
///
/// ```
/// use mq_proto::{QoS, SubscriptionOptions};
/// let packet = mq_tokio::subscribe_packet([
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
