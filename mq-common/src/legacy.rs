//! The engine the adapters used before [`crate::engine`]; removed once every adapter runs on the new one.

//! The old [`Engine`]: everything between the sans-IO core and user handles that
//! is the same in every runtime. It owns the core, matches completions to the
//! requests that wait for them, routes messages to subscribers (holding them,
//! and asking the adapter to stop reading, while a subscriber is full), and
//! applies the outgoing-queue policy. Channels are the adapter's, behind the
//! small [`Channels`] traits.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use mq_proto::client::{
    Client as Core, CommandError, ConnectionState, DisconnectReason, Event, Instant, RequestId,
    RouteId, Router,
};
use mq_proto::{
    Disconnect, MqttString, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe, Unsubscribe,
};

use crate::{ClientEvent, ConnectOptions, Error, Message, QueuePolicy, Snapshot};

/// Sends one result back to whoever waits for it (a oneshot sender, a waiter).
pub trait Reply<T>: Send + 'static {
    /// Delivers the result; a waiter that has gone away is ignored.
    fn send(self, result: Result<T, Error>);
}

/// Why a message could not be handed to a subscriber without waiting.
#[derive(Debug)]
pub enum TrySend {
    /// The channel is full: try again when it has room (boxed: this is the rare path).
    Full(Box<Message>),
    /// The receiver is gone.
    Closed,
}

/// A subscriber's channel: bounded, never blocking the engine.
pub trait Sink: Clone + Send + 'static {
    /// Hands over `msg` if there is room.
    fn try_send(&self, msg: Message) -> Result<(), TrySend>;
    /// Whether both ends feed the same receiver (a message goes once per receiver).
    fn same_channel(&self, other: &Self) -> bool;
}

/// The channel types of one adapter.
pub trait Channels: 'static {
    /// Where a completion goes.
    type Reply<T: Send + 'static>: Reply<T>;
    /// Where a subscription's messages go.
    type Sink: Sink;
    /// Tells users about the connection (a broadcast, a callback list...).
    fn event(&self, event: ClientEvent);
}

/// A granted subscribe: the broker's codes and the routes feeding its sink.
#[derive(Debug)]
pub struct Subscribed {
    /// One code per filter.
    pub reason_codes: Vec<ReasonCode>,
    /// The routes to drop when the subscription's receiver goes away.
    pub routes: Vec<RouteId>,
}

/// What user handles ask of the driver.
pub enum Command<C: Channels> {
    /// Publish and reply on acknowledgment.
    Publish {
        /// The message.
        publish: Publish,
        /// Completion.
        reply: C::Reply<ReasonCode>,
    },
    /// Subscribe, route matching messages to `sink`, reply on SUBACK.
    Subscribe {
        /// Filters, options and properties.
        packet: Subscribe,
        /// Where messages go.
        sink: C::Sink,
        /// Completion.
        reply: C::Reply<Subscribed>,
    },
    /// Unsubscribe; the filters' routes end at once.
    Unsubscribe {
        /// Filters and properties.
        packet: Unsubscribe,
        /// Completion with the broker's codes.
        reply: C::Reply<Vec<ReasonCode>>,
    },
    /// A subscription's receiver went away.
    DropRoutes(Vec<RouteId>),
    /// Where messages no subscription claims go.
    DefaultRoute(C::Sink),
    /// Re-authenticate (5.0).
    Reauthenticate(C::Reply<()>),
    /// Request/response (5.0): publish with a Response Topic and Correlation
    /// Data the engine fills in, and reply with the matching message.
    Request {
        /// The request message.
        publish: Publish,
        /// How long to keep waiting for the reply.
        timeout: std::time::Duration,
        /// Completion with the reply.
        reply: C::Reply<Message>,
    },
    /// Send DISCONNECT and stop.
    Disconnect {
        /// Reason code and properties.
        disconnect: Disconnect,
        /// Completion once stopped.
        reply: C::Reply<()>,
    },
}

enum Pending<C: Channels> {
    Publish(C::Reply<ReasonCode>),
    Subscribe {
        reply: C::Reply<Subscribed>,
        routes: Vec<RouteId>,
    },
    Unsubscribe(C::Reply<Vec<ReasonCode>>),
}

/// The runtime-agnostic part of a driver. See the [crate docs](crate) for the loop around it.
pub struct Engine<C: Channels> {
    core: Core,
    channels: C,
    queue_policy: QueuePolicy,
    pending: HashMap<RequestId, Pending<C>>,
    routes: Router<C::Sink>,
    default_route: Option<C::Sink>,
    /// Messages no subscription claimed before a default route was set (a
    /// resumed session delivers them right after CONNACK), up to `unclaimed_limit`.
    unclaimed: VecDeque<Message>,
    unclaimed_limit: usize,
    deliveries: VecDeque<(C::Sink, Message)>,
    parked: VecDeque<(Publish, C::Reply<ReasonCode>)>,
    first_connect: Option<C::Reply<()>>,
    reauth: Option<C::Reply<()>>,
    disconnect_reply: Option<C::Reply<()>>,
    stopping: bool,
    requests: Requests<C>,
    snapshot: Option<Arc<Mutex<Snapshot>>>,
}

/// Outstanding requests (5.0 request/response) and the topic replies come to.
struct Requests<C: Channels> {
    /// Subscribed on the first request.
    reply_topic: Option<MqttString>,
    /// Correlation Data to the waiter and when it gives up.
    waiting: HashMap<Bytes, (Instant, C::Reply<Message>)>,
    next: u64,
}

impl<C: Channels> Engine<C> {
    /// An engine for `options`; `first_connect` hears whether the first connection succeeded.
    pub fn new(options: &ConnectOptions, channels: C, first_connect: C::Reply<()>) -> Self {
        let mut core = Core::new(options.mqtt.clone());
        if let Some(make) = &options.authenticator {
            core.set_authenticator((make.0)());
        }
        Engine {
            core,
            channels,
            queue_policy: options.queue_policy,
            pending: HashMap::new(),
            routes: Router::default(),
            default_route: None,
            unclaimed: VecDeque::new(),
            unclaimed_limit: options.subscription_capacity,
            deliveries: VecDeque::new(),
            parked: VecDeque::new(),
            first_connect: Some(first_connect),
            reauth: None,
            disconnect_reply: None,
            stopping: false,
            snapshot: None,
            requests: Requests {
                reply_topic: None,
                waiting: HashMap::new(),
                next: 0,
            },
        }
    }

    /// Keeps `snapshot` up to date for user handles: after every input, and
    /// before connection events go out (so a handle woken by `Connected`
    /// already sees the broker's capabilities).
    pub fn share_snapshot(&mut self, snapshot: Arc<Mutex<Snapshot>>) {
        self.snapshot = Some(snapshot);
        self.refresh();
    }

    fn refresh(&self) {
        if let Some(snapshot) = &self.snapshot {
            let mut guard = snapshot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.update(&self.core, self.stopping);
        }
    }

    /// The sans-IO core: feed it bytes and time, take its bytes out.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The sans-IO core, mutably.
    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    /// The adapter's channels.
    pub fn channels(&self) -> &C {
        &self.channels
    }

    /// Whether the user stopped the client, or the first connection failed.
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Whether a connection has ever been accepted.
    pub fn ever_connected(&self) -> bool {
        self.first_connect.is_none() && self.core.connack().is_some()
    }

    /// Whether the adapter may read from the transport: not while a subscriber is full.
    pub fn can_read(&self) -> bool {
        self.deliveries.is_empty()
    }

    /// Whether the adapter may take commands: not while publishes wait for queue room.
    pub fn accepts_commands(&self) -> bool {
        self.parked.is_empty()
    }

    /// The subscriber the oldest held message waits for; wait for room in it,
    /// then call [`Engine::retry_deliveries`].
    pub fn blocked_sink(&self) -> Option<&C::Sink> {
        self.deliveries.front().map(|(sink, _)| sink)
    }

    /// Hands held messages over while their subscribers have room.
    pub fn retry_deliveries(&mut self) {
        while let Some((sink, msg)) = self.deliveries.pop_front() {
            match sink.try_send(msg) {
                Ok(()) | Err(TrySend::Closed) => {}
                Err(TrySend::Full(msg)) => {
                    self.deliveries.push_front((sink, *msg));
                    return;
                }
            }
        }
    }

    /// The transport could not be opened: fails the first connect, if that is what it was.
    pub fn dial_failed(&mut self, error: Error) {
        if let Some(first) = self.first_connect.take() {
            first.send(Err(error));
            self.stopping = true;
        }
    }

    /// A command from a user handle, at `now`.
    pub fn command(&mut self, now: Instant, cmd: Command<C>) {
        match cmd {
            Command::Publish { publish, reply } => self.publish(now, publish, reply),
            Command::Subscribe {
                mut packet,
                sink,
                reply,
            } => {
                // On 5.0 the router tags the packet with a Subscription
                // Identifier, so overlapping subscriptions each get their copy once.
                let routes = self.routes.add_subscribe(&self.core, &mut packet, sink);
                match self.core.subscribe(now, packet) {
                    Ok(id) => {
                        self.pending
                            .insert(id, Pending::Subscribe { reply, routes });
                    }
                    Err(e) => {
                        routes.into_iter().for_each(|r| drop(self.routes.remove(r)));
                        reply.send(Err(e.into()));
                    }
                }
            }
            Command::Unsubscribe { packet, reply } => {
                let filters = packet.filters.clone();
                match self.core.unsubscribe(now, packet) {
                    Ok(id) => {
                        filters.iter().for_each(|f| self.routes.remove_filter(f));
                        self.pending.insert(id, Pending::Unsubscribe(reply));
                    }
                    Err(e) => reply.send(Err(e.into())),
                }
            }
            Command::DropRoutes(ids) => ids.into_iter().for_each(|r| drop(self.routes.remove(r))),
            Command::DefaultRoute(sink) => {
                for msg in self.unclaimed.drain(..) {
                    deliver(&mut self.deliveries, &sink, msg);
                }
                self.default_route = Some(sink);
            }
            Command::Reauthenticate(reply) => match self.core.reauthenticate(now) {
                Ok(()) => self.reauth = Some(reply),
                Err(e) => reply.send(Err(e.into())),
            },
            Command::Disconnect { disconnect, reply } => self.stop(now, disconnect, Some(reply)),
            Command::Request {
                publish,
                timeout,
                reply,
            } => self.request(now, publish, timeout, reply),
        }
    }

    fn request(
        &mut self,
        now: Instant,
        mut publish: Publish,
        timeout: std::time::Duration,
        reply: C::Reply<Message>,
    ) {
        if self.core.protocol_version() != ProtocolVersion::V5 {
            reply.send(Err(CommandError::NeedsV5("request/response").into()));
            return;
        }
        let topic = match &self.requests.reply_topic {
            Some(topic) => topic.clone(),
            None => {
                let topic = MqttString::from(format!(
                    "mq/replies/{}/{:x}",
                    self.core.client_id(),
                    crate::Jitter::default().next_u32()
                ));
                let packet = Subscribe::new(0, topic.clone(), QoS::AtLeastOnce);
                if let Err(e) = self.core.subscribe(now, packet) {
                    reply.send(Err(e.into()));
                    return;
                }
                self.requests.reply_topic = Some(topic.clone());
                topic
            }
        };
        self.requests.next += 1;
        let key = Bytes::copy_from_slice(&self.requests.next.to_be_bytes());
        publish.properties.response_topic = Some(topic);
        publish.properties.correlation_data = Some(key.clone());
        match self.core.publish(now, publish) {
            Ok(_) => {
                self.requests.waiting.insert(key, (now + timeout, reply));
            }
            Err(e) => reply.send(Err(e.into())),
        }
    }

    /// Fails requests whose reply did not come in time.
    fn expire_requests(&mut self, now: Instant) {
        if self.requests.waiting.is_empty() {
            return;
        }
        let late: Vec<Bytes> = self
            .requests
            .waiting
            .iter()
            .filter(|(_, (deadline, _))| *deadline <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in late {
            if let Some((_, reply)) = self.requests.waiting.remove(&key) {
                reply.send(Err(Error::Timeout));
            }
        }
    }

    /// A reply to one of our requests: hand it to its waiter.
    fn take_reply(&mut self, msg: Message) -> Option<Message> {
        let is_reply = self.requests.reply_topic.as_ref() == Some(&msg.topic);
        let key = msg.properties.correlation_data().filter(|_| is_reply);
        match key.and_then(|k| self.requests.waiting.remove(&k)) {
            Some((_, reply)) => {
                reply.send(Ok(msg));
                None
            }
            None if is_reply => None,
            None => Some(msg),
        }
    }

    /// Every user handle is gone: disconnect normally.
    pub fn handles_dropped(&mut self, now: Instant) {
        self.stop(now, Disconnect::default(), None);
    }

    fn stop(&mut self, now: Instant, disconnect: Disconnect, reply: Option<C::Reply<()>>) {
        self.stopping = true;
        if let Err(e) = self.core.disconnect(now, disconnect) {
            if let Some(reply) = reply {
                reply.send(Err(e.into()));
            }
            return;
        }
        if let Some(earlier) = std::mem::replace(&mut self.disconnect_reply, reply) {
            earlier.send(Ok(()));
        }
    }

    fn publish(&mut self, now: Instant, publish: Publish, reply: C::Reply<ReasonCode>) {
        if self.core.queued() >= self.core.options().max_queued_messages {
            let wait = match self.queue_policy {
                QueuePolicy::Wait => true,
                QueuePolicy::DropQoS0 => publish.qos != QoS::AtMostOnce,
                QueuePolicy::Error => false,
            };
            if wait {
                self.parked.push_back((publish, reply));
                return;
            }
        }
        match self.core.publish(now, publish) {
            Ok(id) => {
                self.pending.insert(id, Pending::Publish(reply));
            }
            Err(e) => reply.send(Err(e.into())),
        }
    }

    /// Hands the core's events to users and retries publishes waiting for queue room.
    /// Call after every input to the core.
    pub fn after_input(&mut self, now: Instant) {
        self.expire_requests(now);
        loop {
            while let Some(event) = self.core.poll_event() {
                self.event(event);
            }
            let room = self.core.queued() < self.core.options().max_queued_messages;
            match self.parked.pop_front() {
                Some((publish, reply)) if room => self.publish(now, publish, reply),
                Some(parked) => {
                    self.parked.push_front(parked);
                    break;
                }
                None => break,
            }
        }
        self.refresh();
    }

    /// When [`Engine::handle_timeout`] must run next: the core's deadline or a request's.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let requests = self
            .requests
            .waiting
            .values()
            .map(|(deadline, _)| *deadline)
            .min();
        match (self.core.poll_timeout(), requests) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed: the core's timers, and requests whose reply is late.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
        self.after_input(now);
    }

    /// The client has stopped for good: completes the disconnect request.
    pub fn finish(&mut self) {
        self.stopping = true;
        self.refresh();
        if let Some(reply) = self.disconnect_reply.take() {
            reply.send(Ok(()));
        }
    }

    /// Whether the connection is over (the adapter closes the transport after writing what is left).
    pub fn connection_ended(&self) -> bool {
        self.core.state() == ConnectionState::Disconnected
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected { session_present } => {
                self.refresh();
                if let Some(first) = self.first_connect.take() {
                    first.send(Ok(()));
                }
                self.channels
                    .event(ClientEvent::Connected { session_present });
                if let Some(reference) = self
                    .core
                    .connack()
                    .and_then(|c| c.properties.server_reference.clone())
                {
                    self.channels.event(ClientEvent::ServerRedirect(reference));
                }
            }
            Event::Message(publish) => self.route(publish),
            Event::Published { id, result } => {
                if let Some(Pending::Publish(reply)) = self.pending.remove(&id) {
                    reply.send(result.map_err(Error::from));
                }
            }
            Event::Subscribed { id, result } => {
                if let Some(Pending::Subscribe { reply, routes }) = self.pending.remove(&id) {
                    let outcome = match result {
                        Ok(codes) if codes.iter().all(|c| c.is_error()) => {
                            Err(Error::SubscribeRefused(codes))
                        }
                        Ok(reason_codes) => Ok(Subscribed {
                            reason_codes,
                            routes: routes.clone(),
                        }),
                        Err(e) => Err(e.into()),
                    };
                    if outcome.is_err() {
                        routes.iter().for_each(|r| drop(self.routes.remove(*r)));
                    }
                    reply.send(outcome);
                }
            }
            Event::Unsubscribed { id, result } => {
                if let Some(Pending::Unsubscribe(reply)) = self.pending.remove(&id) {
                    reply.send(result.map_err(Error::from));
                }
            }
            Event::Resubscribed(results) => self.channels.event(ClientEvent::Resubscribed(results)),
            Event::Reauthenticated => {
                if let Some(reply) = self.reauth.take() {
                    reply.send(Ok(()));
                }
            }
            Event::Disconnected(reason) => {
                self.refresh();
                if let Some(reply) = self.reauth.take() {
                    reply.send(Err(Error::Connect(Box::new(reason.clone()))));
                }
                if let DisconnectReason::Server(d) = &reason {
                    if let Some(reference) = &d.properties.server_reference {
                        self.channels
                            .event(ClientEvent::ServerRedirect(reference.clone()));
                    }
                }
                if reason != DisconnectReason::ProtocolFallback {
                    if let Some(first) = self.first_connect.take() {
                        first.send(Err(Error::Connect(Box::new(reason.clone()))));
                        self.stopping = true;
                    }
                }
                self.channels
                    .event(ClientEvent::ConnectionLost(Box::new(reason)));
            }
        }
    }

    /// Sends a message to every subscription it belongs to (by filter, and on
    /// 5.0 by Subscription Identifier), once per channel,
    /// or to the default route when none does; keeps it for the default route
    /// when none is set yet (up to the subscription capacity).
    fn route(&mut self, msg: Message) {
        let Some(msg) = self.take_reply(msg) else {
            return;
        };
        // One target is the common case: it takes the message itself, and
        // only further targets cost a clone (and the Vec its allocation).
        let mut first: Option<C::Sink> = None;
        let mut more: Vec<C::Sink> = Vec::new();
        for sink in self.routes.route(&msg) {
            match &first {
                None => first = Some(sink.clone()),
                Some(f) if f.same_channel(sink) || more.iter().any(|s| s.same_channel(sink)) => {}
                Some(_) => more.push(sink.clone()),
            }
        }
        let Some(first) = first.or_else(|| self.default_route.clone()) else {
            if self.unclaimed.len() < self.unclaimed_limit {
                self.unclaimed.push_back(msg);
            }
            return;
        };
        for sink in &more {
            deliver(&mut self.deliveries, sink, msg.clone());
        }
        deliver(&mut self.deliveries, &first, msg);
    }
}

/// Hands `msg` to `sink`, or holds it, behind any message already held.
fn deliver<S: Sink>(deliveries: &mut VecDeque<(S, Message)>, sink: &S, msg: Message) {
    if !deliveries.is_empty() {
        deliveries.push_back((sink.clone(), msg));
        return;
    }
    if let Err(TrySend::Full(msg)) = sink.try_send(msg) {
        deliveries.push_back((sink.clone(), *msg));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
    use std::sync::Arc;

    use super::*;
    use mq_proto::client::Instant;

    /// Std channels, as small as the traits allow.
    struct TestChannels;

    struct Once<T>(SyncSender<Result<T, Error>>);

    impl<T: Send + 'static> Reply<T> for Once<T> {
        fn send(self, result: Result<T, Error>) {
            let _ = self.0.try_send(result);
        }
    }

    #[derive(Clone)]
    struct TestSink(SyncSender<Message>, Arc<()>);

    impl Sink for TestSink {
        fn try_send(&self, msg: Message) -> Result<(), TrySend> {
            self.0.try_send(msg).map_err(|e| match e {
                TrySendError::Full(m) => TrySend::Full(Box::new(m)),
                TrySendError::Disconnected(_) => TrySend::Closed,
            })
        }
        fn same_channel(&self, other: &Self) -> bool {
            Arc::ptr_eq(&self.1, &other.1)
        }
    }

    impl Channels for TestChannels {
        type Reply<T: Send + 'static> = Once<T>;
        type Sink = TestSink;
        fn event(&self, _: ClientEvent) {}
    }

    fn once<T>() -> (Once<T>, Receiver<Result<T, Error>>) {
        let (tx, rx) = mpsc::sync_channel(1);
        (Once(tx), rx)
    }

    const T0: Instant = Instant::ZERO;

    /// An engine connected over 5.0 (CONNACK without properties).
    fn connected(options: ConnectOptions) -> Engine<TestChannels> {
        let (first, first_rx) = once();
        let mut e = Engine::new(&options, TestChannels, first);
        e.core_mut().connect(T0).expect("connect");
        while e.core_mut().poll_transmit().is_some() {}
        e.core_mut()
            .handle_bytes(T0, &[0x20, 0x03, 0x00, 0x00, 0x00]);
        e.after_input(T0);
        assert!(first_rx.try_recv().expect("first connect answered").is_ok());
        e
    }

    fn subscribe(e: &mut Engine<TestChannels>, filter: &str, capacity: usize) -> Receiver<Message> {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let (reply, reply_rx) = once();
        let packet = Subscribe::new(0, filter, QoS::AtMostOnce);
        e.command(
            T0,
            Command::Subscribe {
                packet,
                sink: TestSink(tx, Arc::new(())),
                reply,
            },
        );
        // SUBACK for packet id 1 (the router gave the subscribe an identifier).
        e.core_mut()
            .handle_bytes(T0, &[0x90, 0x04, 0x00, 0x01, 0x00, 0x00]);
        e.after_input(T0);
        let granted = reply_rx
            .try_recv()
            .expect("subscribe answered")
            .expect("granted");
        assert_eq!(granted.reason_codes, [ReasonCode::Success]);
        rx
    }

    /// A QoS 0 PUBLISH to `a/b` with a one-byte payload and no properties.
    fn publish_bytes(payload: u8) -> [u8; 9] {
        [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, payload]
    }

    #[test]
    fn a_full_subscriber_holds_messages_in_order_and_stops_reading() {
        let mut e = connected(ConnectOptions::new("c"));
        let rx = subscribe(&mut e, "a/+", 1);
        for n in 1..=3 {
            e.core_mut().handle_bytes(T0, &publish_bytes(n));
            e.after_input(T0);
        }
        assert!(!e.can_read(), "a full subscriber must stop the reads");
        assert!(e.blocked_sink().is_some());
        let payloads: Vec<u8> = (0..3)
            .map(|_| {
                let m = rx.try_recv().expect("message");
                e.retry_deliveries();
                m.payload[0]
            })
            .collect();
        assert_eq!(payloads, [1, 2, 3]);
        assert!(e.can_read());
    }

    #[test]
    fn a_message_matching_two_filters_of_one_subscription_arrives_once() {
        let mut e = connected(ConnectOptions::new("c"));
        let (tx, rx) = mpsc::sync_channel(8);
        let (reply, _reply_rx) = once();
        let mut packet = Subscribe::new(0, "a/+", QoS::AtMostOnce);
        packet.subscriptions.push(mq_proto::Subscription {
            filter: "a/#".into(),
            ..Default::default()
        });
        e.command(
            T0,
            Command::Subscribe {
                packet,
                sink: TestSink(tx, Arc::new(())),
                reply,
            },
        );
        e.core_mut()
            .handle_bytes(T0, &[0x90, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]);
        e.after_input(T0);
        e.core_mut().handle_bytes(T0, &publish_bytes(7));
        e.after_input(T0);
        assert_eq!(rx.try_recv().expect("one copy").payload[0], 7);
        assert!(rx.try_recv().is_err(), "no second copy");
    }

    #[test]
    fn queue_policy_error_fails_a_publish_when_the_queue_is_full() {
        let mut options = ConnectOptions::new("c");
        options.mqtt.max_queued_messages = 1;
        options.queue_policy = QueuePolicy::Error;
        let (first, _first_rx) = once();
        // Not connected: publishes queue in the core.
        let mut e = Engine::new(&options, TestChannels, first);
        let (r1, rx1) = once();
        let (r2, rx2) = once();
        e.command(
            T0,
            Command::Publish {
                publish: Publish::new("t", "1"),
                reply: r1,
            },
        );
        e.command(
            T0,
            Command::Publish {
                publish: Publish::new("t", "2"),
                reply: r2,
            },
        );
        assert!(rx1.try_recv().is_err(), "the first waits in the queue");
        assert!(matches!(
            rx2.try_recv(),
            Ok(Err(Error::Command(
                mq_proto::client::CommandError::QueueFull(1)
            )))
        ));
        assert!(e.accepts_commands());
    }

    #[test]
    fn queue_policy_wait_parks_publishes_and_stops_taking_commands() {
        let mut options = ConnectOptions::new("c");
        options.mqtt.max_queued_messages = 1;
        let (first, _first_rx) = once();
        let mut e = Engine::new(&options, TestChannels, first);
        let (r1, _rx1) = once();
        let (r2, rx2) = once();
        e.command(
            T0,
            Command::Publish {
                publish: Publish::new("t", "1"),
                reply: r1,
            },
        );
        e.command(
            T0,
            Command::Publish {
                publish: Publish::new("t", "2"),
                reply: r2,
            },
        );
        assert!(
            !e.accepts_commands(),
            "a parked publish holds further commands back"
        );
        assert!(rx2.try_recv().is_err(), "parked, not failed");
    }

    #[test]
    fn a_request_gets_the_reply_with_its_correlation_data_or_times_out() {
        let mut e = connected(ConnectOptions::new("c"));
        let (reply, rx) = once();
        let timeout = std::time::Duration::from_secs(5);
        e.command(
            T0,
            Command::Request {
                publish: Publish::new("svc", "q"),
                timeout,
                reply,
            },
        );
        let mut sent = Vec::new();
        while let Some(b) = e.core_mut().poll_transmit() {
            sent.extend_from_slice(&b);
        }
        let mut buf = bytes::BytesMut::from(&sent[..]);
        let decoder = mq_proto::Decoder::new(mq_proto::ProtocolVersion::V5);
        let mut request = None;
        while let Some(p) = decoder.decode(&mut buf).expect("valid packets") {
            if let mq_proto::Packet::Publish(p) = p {
                request = Some(p);
            }
        }
        let request = request.expect("the request was published");
        let mut answer = Publish::new(
            request
                .properties
                .response_topic
                .clone()
                .expect("response topic"),
            "r",
        );
        answer.properties.correlation_data = request.properties.correlation_data.clone();
        let mut wire = Vec::new();
        mq_proto::Packet::Publish(answer)
            .encode(mq_proto::ProtocolVersion::V5, &mut wire)
            .expect("encode");
        e.core_mut().handle_bytes(T0, &wire);
        e.after_input(T0);
        let got = rx.try_recv().expect("answered").expect("reply");
        assert_eq!(&got.payload[..], b"r");

        let (reply, rx) = once();
        e.command(
            T0,
            Command::Request {
                publish: Publish::new("svc", "q"),
                timeout,
                reply,
            },
        );
        assert_eq!(e.poll_timeout().map(|t| t <= T0 + timeout), Some(true));
        e.handle_timeout(T0 + timeout);
        assert!(matches!(rx.try_recv(), Ok(Err(Error::Timeout))));
    }
}
