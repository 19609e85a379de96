//! The user's handle: `Send + Sync`, cheap to clone, usable from many threads.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mq_common::legacy::Command;
use mq_common::{ClientEvent, Error, Message, Snapshot};
use mq_proto::client::{CommandError, RouteId, ServerCapabilities, Stats};
use mq_proto::{
    Disconnect, MqttString, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe, Unsubscribe,
};

use crate::channels::{once, Events, Sink, Std, Waiter};
use crate::driver::Doorbell;

/// A connected MQTT client on plain threads. See the [crate documentation](crate).
#[derive(Clone)]
pub struct Client {
    pub(crate) commands: SyncSender<Command<Std>>,
    pub(crate) bell: Doorbell,
    pub(crate) shared: Arc<Mutex<Snapshot>>,
    pub(crate) events: Events,
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

    fn send(&self, command: Command<Std>) -> Result<(), Error> {
        self.commands.send(command).map_err(|_| Error::Closed)?;
        self.bell.ring();
        Ok(())
    }

    fn ask<T>(
        &self,
        build: impl FnOnce(crate::channels::Once<T>) -> Command<Std>,
    ) -> Result<T, Error> {
        let (reply, waiter) = once();
        self.send(build(reply))?;
        waiter.wait()
    }

    /// Starts a publish of `payload` to `topic` (QoS 0 unless set); finish it
    /// with [`PublishBuilder::send`] and wait on the handle.
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

    /// Subscribes to one filter at `qos` and waits for SUBACK; iterate the result for messages.
    pub fn subscribe(
        &self,
        filter: impl Into<MqttString>,
        qos: QoS,
    ) -> Result<Subscription, Error> {
        self.subscribe_with(Subscribe::new(0, filter, qos))
    }

    /// Subscribes with several filters, options, a Subscription Identifier and
    /// User Properties (`packet.packet_id` is ignored).
    pub fn subscribe_with(&self, packet: Subscribe) -> Result<Subscription, Error> {
        let (sink, rx) = Sink::channel(self.subscription_capacity);
        let granted = self.ask(|reply| Command::Subscribe {
            packet,
            sink,
            reply,
        })?;
        Ok(Subscription {
            rx,
            routes: granted.routes,
            reason_codes: granted.reason_codes,
            client: self.clone(),
        })
    }

    /// Subscribes and calls `handler` for every message on a thread of its own
    /// (so the handler may use this client). Returns the broker's reason codes.
    pub fn subscribe_callback<F>(
        &self,
        packet: Subscribe,
        mut handler: F,
    ) -> Result<Vec<ReasonCode>, Error>
    where
        F: FnMut(Message) + Send + 'static,
    {
        let sub = self.subscribe_with(packet)?;
        let codes = sub.reason_codes.clone();
        std::thread::spawn(move || sub.for_each(&mut handler));
        Ok(codes)
    }

    /// Unsubscribes `filters` and waits for UNSUBACK; their subscriptions end.
    pub fn unsubscribe<I, F>(&self, filters: I) -> Result<Vec<ReasonCode>, Error>
    where
        I: IntoIterator<Item = F>,
        F: Into<MqttString>,
    {
        let packet = Unsubscribe {
            filters: filters.into_iter().map(Into::into).collect(),
            ..Default::default()
        };
        self.ask(|reply| Command::Unsubscribe { packet, reply })
    }

    /// The default route: messages no subscription claims. Replaces any earlier one.
    pub fn unrouted_messages(&self) -> Result<Subscription, Error> {
        let (sink, rx) = Sink::channel(self.subscription_capacity);
        self.send(Command::DefaultRoute(sink))?;
        Ok(Subscription {
            rx,
            routes: Vec::new(),
            reason_codes: Vec::new(),
            client: self.clone(),
        })
    }

    /// Sends DISCONNECT and stops the client, from any thread, also while reconnecting.
    pub fn disconnect(&self) -> Result<(), Error> {
        self.disconnect_with(Disconnect::default())
    }

    /// Sends DISCONNECT with a reason code and properties (5.0) and stops the client.
    pub fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), Error> {
        match self.ask(|reply| Command::Disconnect { disconnect, reply }) {
            Err(Error::Closed) => Ok(()),
            other => other,
        }
    }

    /// Re-authenticates with the configured authenticator (5.0).
    pub fn reauthenticate(&self) -> Result<(), Error> {
        self.ask(Command::Reauthenticate)
    }

    /// Sends a request (5.0): publishes with a Response Topic and Correlation
    /// Data, and waits up to `timeout` for the reply.
    pub fn request(
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
    }

    /// Connection events (connected, lost, reconnecting, redirects); a listener
    /// more than 64 events behind misses the newest.
    pub fn events(&self) -> Receiver<ClientEvent> {
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

    /// The client identifier in use.
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
}

/// A publish being built.
#[must_use = "a publish does nothing until sent"]
pub struct PublishBuilder<'a> {
    client: &'a Client,
    publish: Publish,
}

mq_common::publish_setters!(PublishBuilder<'_>);

impl PublishBuilder<'_> {
    /// Hands the message to the client, waiting for room in the command queue.
    pub fn send(self) -> Result<PublishHandle, Error> {
        let (reply, waiter) = once();
        self.client.send(Command::Publish {
            publish: self.publish,
            reply,
        })?;
        Ok(PublishHandle { waiter })
    }

    /// Hands the message to the client without waiting; fails at once if the command queue is full.
    pub fn try_send(self) -> Result<PublishHandle, Error> {
        let (reply, waiter) = once();
        let command = Command::Publish {
            publish: self.publish,
            reply,
        };
        match self.client.commands.try_send(command) {
            Ok(()) => {
                self.client.bell.ring();
                Ok(PublishHandle { waiter })
            }
            Err(TrySendError::Full(_)) => Err(Error::Command(CommandError::QueueFull(
                self.client.subscription_capacity,
            ))),
            Err(TrySendError::Disconnected(_)) => Err(Error::Closed),
        }
    }
}

/// Completes when the broker acknowledged the publish (QoS 0: when written).
/// Dropping it does not withdraw the message.
pub struct PublishHandle {
    waiter: Waiter<ReasonCode>,
}

impl PublishHandle {
    /// Waits for the outcome.
    pub fn wait(self) -> Result<ReasonCode, Error> {
        self.waiter.wait()
    }

    /// Waits at most `timeout`; `Error::Timeout` leaves the publish going on.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<ReasonCode, Error> {
        self.waiter.wait_timeout(timeout)
    }
}

/// The messages of a subscription; iterating blocks for the next one.
///
/// Dropping it stops local delivery; call [`Client::unsubscribe`] to stop the broker sending.
pub struct Subscription {
    rx: Receiver<Message>,
    routes: Vec<RouteId>,
    reason_codes: Vec<ReasonCode>,
    client: Client,
}

impl Subscription {
    /// The next message, waiting at most `timeout`; `None` on timeout or when the subscription ended.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Message> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next message if one is waiting.
    pub fn try_recv(&self) -> Option<Message> {
        self.rx.try_recv().ok()
    }

    /// The broker's code for each filter: the granted QoS, or a failure.
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.reason_codes
    }
}

impl Iterator for Subscription {
    type Item = Message;
    fn next(&mut self) -> Option<Message> {
        self.rx.recv().ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if !self.routes.is_empty() {
            let routes = std::mem::take(&mut self.routes);
            if self
                .client
                .commands
                .try_send(Command::DropRoutes(routes))
                .is_ok()
            {
                self.client.bell.ring();
            }
        }
    }
}
