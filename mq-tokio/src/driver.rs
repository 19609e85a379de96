//! The one task that owns the transport and the sans-IO core: read, feed the
//! core, write what it says, hand events to users. No protocol logic here.

use std::collections::{HashMap, VecDeque};
use std::future::{pending, Future};
use std::sync::{Arc, Mutex};

use mq_proto::client::{
    Client as Core, ConnectionState, DisconnectReason, Event, Instant, RequestId, RouteId, Router,
};
use mq_proto::url::BrokerUrl;
use mq_proto::{Disconnect, MqttString, Publish, QoS, ReasonCode, Subscribe, Unsubscribe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::state::Shared;
use crate::transport::{self, BoxStream};
use crate::{ClientEvent, ConnectOptions, Error, Message, QueuePolicy};

/// Where a completion goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// Where a subscription's messages go.
pub(crate) type Sink = mpsc::Sender<Message>;

/// What user handles ask of the driver.
pub(crate) enum Command {
    Publish {
        publish: Publish,
        reply: Reply<ReasonCode>,
    },
    Subscribe {
        packet: Subscribe,
        sink: Sink,
        reply: Reply<Subscribed>,
    },
    Unsubscribe {
        packet: Unsubscribe,
        reply: Reply<Vec<ReasonCode>>,
    },
    DropRoutes(Vec<RouteId>),
    DefaultRoute(Sink),
    Reauthenticate(Reply<()>),
    Disconnect {
        disconnect: Disconnect,
        reply: Reply<()>,
    },
}

/// A granted subscribe: the broker's codes and the routes feeding its sink.
pub(crate) struct Subscribed {
    pub(crate) reason_codes: Vec<ReasonCode>,
    pub(crate) routes: Vec<RouteId>,
}

enum Pending {
    Publish(Reply<ReasonCode>),
    Subscribe {
        reply: Reply<Subscribed>,
        routes: Vec<RouteId>,
    },
    Unsubscribe(Reply<Vec<ReasonCode>>),
}

pub(crate) struct Driver {
    core: Core,
    url: Arc<BrokerUrl>,
    options: Arc<ConnectOptions>,
    commands: mpsc::Receiver<Command>,
    shared: Arc<Mutex<Shared>>,
    events: broadcast::Sender<ClientEvent>,
    origin: tokio::time::Instant,
    rng: u64,
    pending: HashMap<RequestId, Pending>,
    routes: Router<Sink>,
    default_route: Option<Sink>,
    /// Messages a full subscription channel could not take yet; while any wait, the driver stops reading.
    deliveries: VecDeque<(Sink, Message)>,
    /// Messages no subscription claimed before a default route was set (a
    /// resumed session delivers them right after CONNACK); bounded by the
    /// subscription capacity.
    unclaimed: VecDeque<Message>,
    /// Publishes waiting for room in the core's queue (QueuePolicy::Wait).
    parked: VecDeque<(Publish, Reply<ReasonCode>)>,
    first_connect: Option<oneshot::Sender<Result<(), Error>>>,
    reauth: Option<Reply<()>>,
    disconnect_reply: Option<Reply<()>>,
    stopping: bool,
    read_buf: Vec<u8>,
}

impl Driver {
    pub(crate) fn new(
        url: BrokerUrl,
        options: ConnectOptions,
        commands: mpsc::Receiver<Command>,
        shared: Arc<Mutex<Shared>>,
        events: broadcast::Sender<ClientEvent>,
        first_connect: oneshot::Sender<Result<(), Error>>,
    ) -> Self {
        Driver {
            core: Core::new(options.mqtt.clone()),
            url: Arc::new(url),
            options: Arc::new(options),
            commands,
            shared,
            events,
            origin: tokio::time::Instant::now(),
            rng: seed(),
            pending: HashMap::new(),
            routes: Router::default(),
            default_route: None,
            deliveries: VecDeque::new(),
            unclaimed: VecDeque::new(),
            parked: VecDeque::new(),
            first_connect: Some(first_connect),
            reauth: None,
            disconnect_reply: None,
            stopping: false,
            read_buf: vec![0; 64 * 1024],
        }
    }

    fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    /// Connects, serves the connection, and reconnects as the core's policy says, until stopped.
    pub(crate) async fn run(mut self) {
        let mut ever_connected = false;
        loop {
            let (url, options) = (self.url.clone(), self.options.clone());
            let timeout = options.mqtt.connect_timeout;
            let dial = async move {
                match tokio::time::timeout(timeout, transport::dial(&url, &options)).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::Timeout),
                }
            };
            let Some(dialed) = self.with_commands(dial).await else {
                break;
            };
            match dialed {
                Ok(stream) => {
                    tracing::debug!(url = %self.url, "transport open");
                    match self.core.connect(self.now()) {
                        Ok(()) => self.serve(stream).await,
                        Err(e) => {
                            self.fail_first(Error::Command(e));
                            break;
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(url = %self.url, error = %e, "dial failed");
                    if !ever_connected {
                        self.fail_first(e);
                        break;
                    }
                }
            }
            ever_connected |= self.first_connect.is_none();
            if !ever_connected || self.stopping || !self.options.auto_reconnect {
                break;
            }
            let random = self.next_random();
            let Some(delay) = self.core.reconnect_delay(random) else {
                break;
            };
            tracing::debug!(?delay, "reconnecting");
            let _ = self.events.send(ClientEvent::Reconnecting { delay });
            if self
                .with_commands(tokio::time::sleep(delay))
                .await
                .is_none()
            {
                break;
            }
        }
        self.stopping = true;
        self.publish_state();
        if let Some(reply) = self.disconnect_reply.take() {
            let _ = reply.send(Ok(()));
        }
    }

    /// Runs `fut` while still taking commands (publishes queue in the core meanwhile).
    /// `None` when the user stopped the client.
    async fn with_commands<T>(&mut self, fut: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(fut);
        loop {
            if self.stopping {
                return None;
            }
            tokio::select! {
                out = &mut fut => return Some(out),
                cmd = self.commands.recv(), if self.parked.is_empty() => self.command(cmd),
            }
            self.after_input();
        }
    }

    /// One connection: from CONNECT until the core says it ended.
    async fn serve(&mut self, stream: BoxStream) {
        let (mut rd, mut wr) = tokio::io::split(stream);
        loop {
            while self.core.has_transmit() {
                while let Some(bytes) = self.core.poll_transmit() {
                    if let Err(e) = wr.write_all(&bytes).await {
                        tracing::debug!(error = %e, "write failed");
                        self.core.handle_transport_closed(self.now());
                    }
                }
                self.after_input();
            }
            if self.core.state() == ConnectionState::Disconnected {
                let _ = wr.flush().await;
                let _ = wr.shutdown().await;
                self.after_input();
                return;
            }
            let deadline = self
                .core
                .poll_timeout()
                .map(|t| self.origin + t.as_duration());
            let sleep = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => pending().await,
                }
            };
            tokio::select! {
                read = rd.read(&mut self.read_buf), if self.deliveries.is_empty() => {
                    let now = self.now();
                    match read {
                        Ok(0) => self.core.handle_transport_closed(now),
                        Ok(n) => self.core.handle_bytes(now, &self.read_buf[..n]),
                        Err(e) => {
                            tracing::debug!(error = %e, "read failed");
                            self.core.handle_transport_closed(now);
                        }
                    }
                }
                cmd = self.commands.recv(), if self.parked.is_empty() => self.command(cmd),
                _ = sleep => self.core.handle_timeout(self.now()),
                permit = reserve_first(&self.deliveries) => {
                    if let (Some(permit), Some((_, msg))) = (permit, self.deliveries.pop_front()) {
                        permit.send(msg);
                    } else {
                        // The subscriber is gone: its queued messages have nowhere to go.
                        self.deliveries.pop_front();
                    }
                }
            }
            self.after_input();
        }
    }

    fn command(&mut self, cmd: Option<Command>) {
        let Some(cmd) = cmd else {
            // Every handle was dropped: leave cleanly.
            self.stop(Disconnect::default(), None);
            return;
        };
        let now = self.now();
        match cmd {
            Command::Publish { publish, reply } => self.publish(publish, reply),
            Command::Subscribe {
                mut packet,
                sink,
                reply,
            } => {
                let routes = self.routes.add_subscribe(&self.core, &mut packet, sink);
                match self.core.subscribe(now, packet) {
                    Ok(id) => {
                        self.pending
                            .insert(id, Pending::Subscribe { reply, routes });
                    }
                    Err(e) => {
                        routes.into_iter().for_each(|r| drop(self.routes.remove(r)));
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Command::Unsubscribe { packet, reply } => {
                let filters: Vec<MqttString> = packet.filters.clone();
                match self.core.unsubscribe(now, packet) {
                    Ok(id) => {
                        filters.iter().for_each(|f| self.routes.remove_filter(f));
                        self.pending.insert(id, Pending::Unsubscribe(reply));
                    }
                    Err(e) => drop(reply.send(Err(e.into()))),
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
                Err(e) => drop(reply.send(Err(e.into()))),
            },
            Command::Disconnect { disconnect, reply } => self.stop(disconnect, Some(reply)),
        }
    }

    fn stop(&mut self, disconnect: Disconnect, reply: Option<Reply<()>>) {
        self.stopping = true;
        self.disconnect_reply = reply;
        if let Err(e) = self.core.disconnect(self.now(), disconnect) {
            if let Some(reply) = self.disconnect_reply.take() {
                let _ = reply.send(Err(e.into()));
            }
        }
    }

    fn publish(&mut self, publish: Publish, reply: Reply<ReasonCode>) {
        if self.core.queued() >= self.core.options().max_queued_messages {
            match (self.options.queue_policy, publish.qos) {
                (QueuePolicy::Wait, _)
                | (QueuePolicy::DropQoS0, QoS::AtLeastOnce | QoS::ExactlyOnce) => {
                    self.parked.push_back((publish, reply));
                    return;
                }
                _ => {}
            }
        }
        match self.core.publish(self.now(), publish) {
            Ok(id) => {
                self.pending.insert(id, Pending::Publish(reply));
            }
            Err(e) => drop(reply.send(Err(e.into()))),
        }
    }

    /// Hands the core's events to users and retries parked publishes.
    fn after_input(&mut self) {
        loop {
            while let Some(event) = self.core.poll_event() {
                self.event(event);
            }
            let room = self.core.queued() < self.core.options().max_queued_messages;
            match self.parked.pop_front() {
                Some((publish, reply)) if room => self.publish(publish, reply),
                Some(parked) => {
                    self.parked.push_front(parked);
                    break;
                }
                None => break,
            }
        }
        self.publish_state();
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected { session_present } => {
                tracing::debug!(session_present, "connected");
                // Handles see the new state as soon as `connect` returns or the event arrives.
                self.publish_state();
                if let Some(first) = self.first_connect.take() {
                    let _ = first.send(Ok(()));
                }
                let _ = self.events.send(ClientEvent::Connected { session_present });
                if let Some(reference) = self
                    .core
                    .connack()
                    .and_then(|c| c.properties.server_reference.clone())
                {
                    let _ = self.events.send(ClientEvent::ServerRedirect(reference));
                }
            }
            Event::Message(publish) => self.route(publish),
            Event::Published { id, result } => {
                if let Some(Pending::Publish(reply)) = self.pending.remove(&id) {
                    let _ = reply.send(result.map_err(Error::from));
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
                    let _ = reply.send(outcome);
                }
            }
            Event::Unsubscribed { id, result } => {
                if let Some(Pending::Unsubscribe(reply)) = self.pending.remove(&id) {
                    let _ = reply.send(result.map_err(Error::from));
                }
            }
            Event::Resubscribed(results) => {
                let _ = self.events.send(ClientEvent::Resubscribed(results));
            }
            Event::Reauthenticated => {
                if let Some(reply) = self.reauth.take() {
                    let _ = reply.send(Ok(()));
                }
            }
            Event::Disconnected(reason) => {
                tracing::debug!(?reason, "connection ended");
                self.publish_state();
                if let Some(reply) = self.reauth.take() {
                    let _ = reply.send(Err(Error::Connect(reason.clone())));
                }
                if let DisconnectReason::Server(d) = &reason {
                    if let Some(reference) = &d.properties.server_reference {
                        let _ = self
                            .events
                            .send(ClientEvent::ServerRedirect(reference.clone()));
                    }
                }
                if self.first_connect.is_some() && reason != DisconnectReason::ProtocolFallback {
                    self.fail_first(Error::Connect(reason.clone()));
                }
                let _ = self.events.send(ClientEvent::ConnectionLost(reason));
            }
        }
    }

    fn fail_first(&mut self, error: Error) {
        if let Some(first) = self.first_connect.take() {
            let _ = first.send(Err(error));
        }
        self.stopping = true;
    }

    /// Sends a message to every subscription it belongs to, once per channel;
    /// keeps it for the default route when none claims it and none is set yet.
    fn route(&mut self, msg: Message) {
        let mut sent: Vec<&Sink> = Vec::new();
        for sink in self.routes.route(&msg) {
            if !sent.iter().any(|s| s.same_channel(sink)) {
                sent.push(sink);
            }
        }
        if sent.is_empty() {
            match &self.default_route {
                Some(default) => sent.push(default),
                None if self.unclaimed.len() < self.options.subscription_capacity => {
                    self.unclaimed.push_back(msg);
                    return;
                }
                None => tracing::debug!(topic = %msg.topic, "no route for a message: dropped"),
            }
        }
        for sink in sent {
            deliver(&mut self.deliveries, sink, msg.clone());
        }
    }

    fn publish_state(&self) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.update(&self.core, self.stopping);
        }
    }

    fn next_random(&mut self) -> u32 {
        // xorshift64*: jitter only needs to differ between clients.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }
}

/// Queues `msg` for `sink`, keeping order behind messages already waiting.
fn deliver(deliveries: &mut VecDeque<(Sink, Message)>, sink: &Sink, msg: Message) {
    if !deliveries.is_empty() {
        deliveries.push_back((sink.clone(), msg));
        return;
    }
    if let Err(mpsc::error::TrySendError::Full(msg)) = sink.try_send(msg) {
        deliveries.push_back((sink.clone(), msg));
    }
}

/// Waits for room in the first waiting delivery's channel; `None` if it closed.
async fn reserve_first(
    deliveries: &VecDeque<(Sink, Message)>,
) -> Option<mpsc::OwnedPermit<Message>> {
    match deliveries.front() {
        Some((sink, _)) => sink.clone().reserve_owned().await.ok(),
        None => pending().await,
    }
}

fn seed() -> u64 {
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (time ^ (u64::from(std::process::id()) << 32)) | 1
}
