//! The [`Engine`]: a client's whole life, sans-IO.
//!
//! The engine owns everything that is not "perform this I/O": the lifecycle
//! (dial → CONNECT → serve → connection lost → backoff → redial → stop),
//! command batching, write and close bounds, the connect deadline, keep
//! alive (through the core), routing of messages to subscriptions with
//! backpressure, completions, request/response and connection events. An
//! adapter only opens, reads, writes and closes transports, keeps one timer
//! and waits.
//!
//! # Contract
//!
//! One input, one output. After any input, call [`Engine::poll_output`]
//! until it returns [`Output::Wait`] or [`Output::Stopped`], performing each
//! output in turn:
//!
//! | output | the adapter |
//! |---|---|
//! | [`Output::Dial`] | starts opening a transport to the broker the [`Target`] names; answers later with [`Input::Dialed`] or [`Input::DialFailed`]. Until then it keeps polling and waiting as told (commands go on). |
//! | [`Output::Write`] | writes all the bytes, in order, before polling again; a write that makes no progress for `stall` (for [`CLOSE_GRACE`] once [`Engine::stop_signal`] is requested) is [`Input::TransportClosed`]. |
//! | [`Output::Close`] | flushes and shuts the transport down within `grace`, then drops it; or abandons a dial in progress. |
//! | [`Output::Persist`] | applies the updates to the session store ([`SessionStore::apply`](crate::store::SessionStore::apply), off the executor's threads) and answers with [`Input::Persisted`] before polling again. |
//! | [`Output::Wait`] | waits for the first of: bytes to read (only if `read`) → [`Input::Received`] / [`Input::Read`]; a command on [`Engine::command_receiver`] (only if `commands`) → [`Input::Command`], or [`Input::HandlesDropped`] when every sender is gone; the `room` signal → [`Input::Room`]; the time `until` → [`Input::Timeout`]. |
//! | [`Output::Stopped`] | drops the engine: the client is over. |
//!
//! Every input carries the adapter's `now`, an [`Instant`] measured from an
//! origin of the adapter's choosing (the engine's creation, say).
//!
//! **Write-ahead.** With a session store ([`ConnectOptions::session_store`]),
//! bytes whose meaning depends on a change of session state (a new PUBLISH,
//! a PUBREL, a PUBREC) are held until that change is durable: the engine
//! hands out [`Output::Persist`] first and the bytes after
//! [`Input::Persisted`]. Everything that changed while a store write ran goes
//! into the next one, so concurrent publishers share one `fsync`.
//!
//! **Held start.** [`Engine::hold`] keeps a new engine from dialing until
//! [`Command::Start`], so handles can register subscriptions and the default
//! route first: a resumed session's messages then always have somewhere to go.
//!
//! Bytes read go straight into [`Engine::receive_buffer`] (then
//! [`Input::Received`] with the count) when the transport can read into a
//! `BytesMut`; transports that hand out their own buffers (WebSocket frames)
//! use [`Input::Read`].
//!
//! ```
//! use mq_common::engine::{Engine, Input, Output};
//! use mq_common::{ConnectOptions, Instant};
//!
//! let parts = Engine::create(ConnectOptions::new("doc"));
//! let mut engine = parts.engine;
//! assert!(matches!(engine.poll_output(), Output::Dial(_)));
//! // The transport opened: the engine sends CONNECT.
//! engine.handle_input(Instant::ZERO, Input::Dialed);
//! let Output::Write { data, .. } = engine.poll_output() else { panic!("CONNECT") };
//! assert_eq!(data[0], 0x10);
//! assert!(matches!(engine.poll_output(), Output::Wait(w) if w.read));
//! ```

mod command;
mod dispatch;
#[cfg(test)]
mod dispatch_tests;
mod servers;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use event_listener::EventListener;
use mq_proto::client::{
    AckToken, Client as Core, CommandError, ConnectionState, DisconnectReason, Event, RequestId,
    SessionSnapshot, StoreUpdate,
};
use mq_proto::{Disconnect, ProtocolVersion, Publish, QoS, ReasonCode};

pub use command::{Command, Subscribed};
use dispatch::{after, Pending, Requests, Routes};
use servers::Servers;
pub use servers::Target;

use crate::channel::{reply, EventHub, Reply, Waiter};
use crate::store::StoreError;
use crate::{
    ClientEvent, ConnectOptions, Error, Instant, Interceptor, Jitter, Message, QueuePolicy,
    RestoredOutcome, Snapshot,
};

/// Commands taken in one turn before the engine writes what they produced,
/// so a burst of publishes goes out in one write.
const COMMAND_BATCH: usize = 64;

/// How long a closing transport may take to flush and shut down.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long a completion waits to ride a store write that gates bytes
/// before it gets one of its own (see [`Engine::store_batch`]).
const COMPLETIONS_WAIT: Duration = Duration::from_millis(100);
/// How many completions may wait at once.
const COMPLETIONS_MAX: usize = 1024;

/// Something that happened, for [`Engine::handle_input`].
// `Command` is the hot variant: boxing it would allocate for every publish.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Input<'a> {
    /// The transport asked for by [`Output::Dial`] is open.
    Dialed,
    /// The transport could not be opened.
    DialFailed(Error),
    /// `count` bytes were read into [`Engine::receive_buffer`].
    Received(usize),
    /// Bytes were read into a buffer of the adapter's.
    Read(&'a [u8]),
    /// The transport closed (end of stream), failed, or a write stalled.
    TransportClosed(Option<io::Error>),
    /// A command from a user handle.
    Command(Command),
    /// Every command sender is gone: the client disconnects normally.
    HandlesDropped,
    /// The `room` signal of [`Wait`] fired.
    Room,
    /// The time [`Wait::until`] has come.
    Timeout,
    /// The updates of [`Output::Persist`] are durable, or the store failed.
    Persisted(Result<(), StoreError>),
}

/// What the adapter must do next, from [`Engine::poll_output`].
#[derive(Debug)]
pub enum Output {
    /// Open a transport to this broker.
    Dial(Target),
    /// Write these bytes, all of them, before polling again.
    Write {
        /// The bytes.
        data: Bytes,
        /// A write that makes no progress for this long is a dead connection.
        stall: Duration,
    },
    /// Record these session changes in the store, durably, then answer
    /// with [`Input::Persisted`].
    Persist(Vec<StoreUpdate>),
    /// Close the transport (or abandon the dial in progress).
    Close {
        /// How long flushing and shutting down may take.
        grace: Duration,
    },
    /// Nothing to do until one of these happens.
    Wait(Wait),
    /// The client is over.
    Stopped,
}

/// What to wait for; see [`Output::Wait`].
#[derive(Debug, Default)]
pub struct Wait {
    /// When to come back with [`Input::Timeout`]; never if `None`.
    pub until: Option<Instant>,
    /// Whether to read from the transport.
    pub read: bool,
    /// Whether to take a command.
    pub commands: bool,
    /// Fires when a full subscriber may have room again.
    pub room: Option<EventListener>,
}

/// Where the engine is in a client's life.
#[derive(Debug)]
enum Phase {
    /// Waiting for [`Command::Start`] before the first dial.
    Held,
    /// Not dialed yet.
    Start,
    /// A transport is being opened, until the deadline.
    Dialing { deadline: Instant },
    /// A transport is open: CONNECT, then the session.
    Serving,
    /// Waiting before the next dial.
    Backoff { until: Instant },
    /// Over.
    Stopped,
}

/// A write that does not progress for this long ends the connection: the
/// write timeout, or keep alive plus the ping timeout when that is shorter (a
/// broker that stops reading is as dead as one that stops answering PINGREQ).
fn write_stall(options: &ConnectOptions) -> Duration {
    let keep_alive = Duration::from_secs(options.mqtt.keep_alive.into());
    if keep_alive.is_zero() {
        return options.write_timeout;
    }
    let ping_timeout = options
        .mqtt
        .ping_timeout
        .unwrap_or_else(|| (keep_alive / 2).max(Duration::from_secs(1)));
    options.write_timeout.min(keep_alive + ping_timeout)
}

/// Rung by a handle's `disconnect` before its command is queued, so a write
/// stuck behind a broker that stopped reading has only [`CLOSE_GRACE`] left
/// instead of its stall bound (the adapter checks it while a write waits).
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<StopState>);

#[derive(Debug, Default)]
struct StopState {
    requested: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl StopSignal {
    /// Asks the engine to stop soon: wakes a write that waits.
    pub fn request(&self) {
        self.0.requested.store(true, Ordering::Release);
        let waker = self
            .0
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.0.requested.load(Ordering::Acquire)
    }

    /// Wakes `waker` on the next [`StopSignal::request`]; check
    /// [`StopSignal::is_requested`] after registering.
    pub fn register(&self, waker: &Waker) {
        let mut slot = self.0.waker.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }
}

/// A new engine and the ends user handles hold.
#[derive(Debug)]
pub struct Parts {
    /// The engine, for the adapter's driver.
    pub engine: Engine,
    /// Where user handles send commands.
    pub commands: flume::Sender<Command>,
    /// Connection events, for [`EventHub::listen`].
    pub events: EventHub,
    /// The engine's latest view of the connection, refreshed after every input.
    pub snapshot: Arc<Mutex<Snapshot>>,
    /// Resolves when the first connection is accepted or fails.
    pub first_connect: Waiter<()>,
    /// For handles' `disconnect`: see [`StopSignal`].
    pub stop: StopSignal,
    /// Outcomes of publishes restored from the session store, as they complete.
    pub restored: flume::Receiver<RestoredOutcome>,
}

/// The sans-IO client above the protocol core. See the [module docs](self).
#[derive(Debug)]
pub struct Engine {
    core: Core,
    phase: Phase,
    /// A transport (or a dial) to close before anything else.
    close_pending: bool,
    now: Instant,
    jitter: Jitter,
    auto_reconnect: bool,
    queue_policy: QueuePolicy,
    /// How long a write may make no progress: the write timeout, or less
    /// when keep alive would declare the connection dead sooner.
    write_stall: Duration,
    connect_timeout: Duration,
    commands: flume::Receiver<Command>,
    events: EventHub,
    snapshot: Arc<Mutex<Snapshot>>,
    pending: HashMap<RequestId, Pending>,
    routes: Routes,
    requests: Requests,
    /// Publishes waiting for room in the core's queue ([`QueuePolicy::Wait`]).
    parked: VecDeque<(Publish, Reply<ReasonCode>)>,
    first_connect: Option<Reply<()>>,
    reauth: Option<Reply<()>>,
    disconnect_reply: Option<Reply<()>>,
    /// The user stopped the client, or it cannot go on.
    stopping: bool,
    stop_signal: StopSignal,
    /// A session store is configured: store updates go out as [`Output::Persist`].
    durable: bool,
    /// Bytes waiting for their store updates to become durable.
    held_write: Option<Bytes>,
    /// Publishes restored from the store, until they complete.
    restored: HashMap<RequestId, Publish>,
    restored_outcomes: flume::Sender<RestoredOutcome>,
    interceptors: Vec<Arc<dyn Interceptor>>,
    /// Why the connection ended, told once its last bytes are written.
    ended: Option<DisconnectReason>,
    servers: Servers,
    /// The current attempt got a CONNACK accepting it.
    accepted: bool,
    /// Manual acknowledgments answered once the next store write is durable.
    acks_awaiting_store: Vec<Reply<()>>,
    /// Store updates not handed out yet: completions waiting for a batch.
    store_pending: Vec<StoreUpdate>,
    /// When the waiting completions are due on their own.
    completions_due: Option<Instant>,
}

impl Engine {
    /// An engine for `options`, with the channels user handles talk through.
    pub fn create(options: ConnectOptions) -> Parts {
        Self::build(options, None)
    }

    /// An engine that resumes `snapshot`, the session state loaded from
    /// [`ConnectOptions::session_store`]: its first CONNECT resumes the
    /// session, and the outcomes of its publishes arrive on [`Parts::restored`].
    pub fn restore(options: ConnectOptions, snapshot: SessionSnapshot) -> Parts {
        Self::build(options, Some(snapshot))
    }

    fn build(options: ConnectOptions, snapshot: Option<SessionSnapshot>) -> Parts {
        let durable = options.session_store.is_some();
        let mut mqtt = options.mqtt.clone();
        // Store updates are reported only when a store takes them.
        mqtt.report_store_updates = durable;
        // The core holds every PUBACK / PUBREC until the engine has handed
        // the message over (or the application acknowledged it).
        mqtt.manual_acks = true;
        let mut restored = HashMap::new();
        let mut core = match snapshot {
            Some(snapshot) => {
                restored.extend(snapshot.outgoing.iter().map(|s| (s.id, s.publish.clone())));
                Core::restore(mqtt, snapshot)
            }
            None => Core::new(mqtt),
        };
        if let Some(make) = &options.authenticator {
            core.set_authenticator((make.0)());
        }
        let (commands_tx, commands) = flume::bounded(options.command_capacity.max(1));
        let events = EventHub::new();
        let snapshot = Arc::new(Mutex::new(Snapshot::new(&options.mqtt)));
        let (first, first_connect) = reply();
        let (restored_outcomes, restored_rx) = flume::unbounded();
        let engine = Engine {
            core,
            phase: Phase::Start,
            close_pending: false,
            now: Instant::ZERO,
            jitter: Jitter::default(),
            auto_reconnect: options.auto_reconnect,
            queue_policy: options.queue_policy,
            write_stall: write_stall(&options),
            connect_timeout: options.mqtt.connect_timeout,
            commands,
            events: events.clone(),
            snapshot: snapshot.clone(),
            pending: HashMap::new(),
            routes: Routes::new(options.subscription_capacity, options.manual_acks),
            requests: Requests::default(),
            parked: VecDeque::new(),
            first_connect: Some(first),
            reauth: None,
            disconnect_reply: None,
            stopping: false,
            stop_signal: StopSignal::default(),
            durable,
            held_write: None,
            restored,
            restored_outcomes,
            interceptors: options.interceptors.clone(),
            ended: None,
            servers: Servers::new(1 + options.failover.len(), options.follow_redirects),
            accepted: false,
            acks_awaiting_store: Vec::new(),
            store_pending: Vec::new(),
            completions_due: None,
        };
        let stop = engine.stop_signal.clone();
        Parts {
            engine,
            commands: commands_tx,
            events,
            snapshot,
            first_connect,
            stop,
            restored: restored_rx,
        }
    }

    /// Keeps a new engine from dialing until [`Command::Start`]; see the
    /// [module docs](self).
    pub fn hold(&mut self) {
        if matches!(self.phase, Phase::Start) {
            self.phase = Phase::Held;
        }
    }

    /// The signal a handle's `disconnect` rings; see [`StopSignal`].
    pub fn stop_signal(&self) -> &StopSignal {
        &self.stop_signal
    }

    /// The protocol core, to read its state (statistics, capabilities...).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The channel [`Wait::commands`] means: receive from it, hand the command over.
    pub fn command_receiver(&self) -> &flume::Receiver<Command> {
        &self.commands
    }

    /// The core's read buffer: append bytes read from the transport, then
    /// call [`Engine::handle_input`] with [`Input::Received`].
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        self.core.receive_buffer()
    }

    /// Feeds one input at `now`; then drain [`Engine::poll_output`].
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.now = self.now.max(now);
        let now = self.now;
        match input {
            Input::Dialed => self.dialed(now),
            Input::DialFailed(error) => self.dial_failed(error),
            Input::Received(count) => self.core.handle_received(now, count),
            Input::Read(bytes) => self.core.handle_bytes(now, bytes),
            Input::TransportClosed(error) => {
                if let Some(error) = error {
                    tracing::info!(%error, "transport failed");
                }
                if matches!(self.phase, Phase::Serving) {
                    self.core.handle_transport_closed(now);
                }
                // The last bytes will not be written: tell the news now.
                self.surface_ended_connection();
            }
            Input::Command(command) => {
                self.command(now, command);
                for _ in 1..COMMAND_BATCH {
                    if !self.accepts_commands() {
                        break;
                    }
                    match self.commands.try_recv() {
                        Ok(command) => self.command(now, command),
                        Err(_) => break,
                    }
                }
            }
            Input::HandlesDropped => self.stop(now, Disconnect::default(), None),
            Input::Room => self.routes.retry(),
            Input::Timeout => self.timeout(now),
            Input::Persisted(Ok(())) => {
                for reply in self.acks_awaiting_store.drain(..) {
                    reply.send(Ok(()));
                }
            }
            Input::Persisted(Err(error)) => self.store_failed(now, error),
        }
        self.after_input(now);
    }

    /// The next thing to do; see the [module docs](self) for the contract.
    pub fn poll_output(&mut self) -> Output {
        if self.close_pending {
            self.close_pending = false;
            return Output::Close { grace: CLOSE_GRACE };
        }
        if let Some(data) = self.held_write.take() {
            return Output::Write {
                data,
                stall: self.write_stall,
            };
        }
        if let Some(updates) = self.store_batch() {
            // Write-ahead: the bytes made with these changes wait for them.
            self.held_write = self.transmit();
            return Output::Persist(updates);
        }
        match self.phase {
            Phase::Held => Output::Wait(self.wait(None, false)),
            Phase::Start => {
                self.phase = Phase::Dialing {
                    deadline: after(self.now, self.connect_timeout),
                };
                Output::Dial(self.servers.next_target())
            }
            Phase::Dialing { deadline } => Output::Wait(self.wait(Some(deadline), false)),
            Phase::Serving => {
                if let Some(data) = self.transmit() {
                    // Write-ahead: the changes these bytes stand for first.
                    if let Some(updates) = self.store_batch() {
                        self.held_write = Some(data);
                        return Output::Persist(updates);
                    }
                    return Output::Write {
                        data,
                        stall: self.write_stall,
                    };
                }
                // Everything the core queued, its DISCONNECT included, is written.
                self.surface_ended_connection();
                if self.core.state() == ConnectionState::Disconnected {
                    self.connection_over();
                    return self.poll_output();
                }
                let until = match (self.core.poll_timeout(), self.completions_due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                Output::Wait(self.wait(until, self.routes.blocked().is_none()))
            }
            Phase::Backoff { until } => Output::Wait(self.wait(Some(until), false)),
            Phase::Stopped => Output::Stopped,
        }
    }

    /// The core's bytes to write, if connected.
    fn transmit(&mut self) -> Option<Bytes> {
        if !matches!(self.phase, Phase::Serving) {
            return None;
        }
        let data = self.core.poll_transmit()?;
        // Handing out QoS 0 bytes completes their publishes.
        self.after_input(self.now);
        Some(data)
    }

    /// The session changes to hand to the store now, if a store takes them
    /// and a write is due.
    ///
    /// Group commit: a change that bytes depend on (a new or released
    /// publish, a QoS 2 receipt, a subscription) is due at once, and takes
    /// everything waiting with it. A completion alone gates no bytes: if it
    /// is lost in a crash, the restored client only resends a publish the
    /// broker already has (a QoS 1 duplicate, or a PUBREL the broker answers
    /// with PUBCOMP). So completions wait, up to [`COMPLETIONS_WAIT`] or
    /// [`COMPLETIONS_MAX`] of them, to ride the next write; a stream of
    /// acknowledgments then costs no sync of its own. Outside
    /// [`Phase::Serving`] everything is due.
    fn store_batch(&mut self) -> Option<Vec<StoreUpdate>> {
        if !self.durable {
            return None;
        }
        let mut gates = false;
        while let Some(update) = self.core.poll_store_update() {
            gates |= !matches!(update, StoreUpdate::PublishCompleted { .. });
            self.store_pending.push(update);
        }
        if self.store_pending.is_empty() {
            return None;
        }
        let due = gates
            || !matches!(self.phase, Phase::Serving)
            || self.store_pending.len() >= COMPLETIONS_MAX
            || self.completions_due.is_some_and(|due| self.now >= due);
        if due {
            self.completions_due = None;
            return Some(std::mem::take(&mut self.store_pending));
        }
        self.completions_due
            .get_or_insert(after(self.now, COMPLETIONS_WAIT));
        None
    }

    /// The store could not record a change: what it holds no longer matches
    /// the session, so nothing that depends on it may be written. The client
    /// stops with DISCONNECT (Implementation specific error).
    fn store_failed(&mut self, now: Instant, error: StoreError) {
        tracing::error!(%error, "session store failed; stopping");
        let error = Arc::new(error);
        for reply in self.acks_awaiting_store.drain(..) {
            reply.send(Err(Error::Store(error.clone())));
        }
        self.held_write = None;
        self.durable = false;
        while self.core.poll_store_update().is_some() {}
        self.store_pending.clear();
        self.completions_due = None;
        if let Some(first) = self.first_connect.take() {
            first.send(Err(Error::Store(error)));
        }
        let disconnect = Disconnect {
            reason_code: ReasonCode::ImplementationSpecificError,
            ..Disconnect::default()
        };
        self.stop(now, disconnect, None);
    }

    fn wait(&self, until: Option<Instant>, read: bool) -> Wait {
        let until = match (until, self.requests.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let room = self.routes.blocked().and_then(|sink| {
            let listener = sink.room();
            // Room made before the listener existed would be missed: retry at once instead.
            (!sink.has_room()).then_some(listener)
        });
        let room_now = self.routes.blocked().is_some() && room.is_none();
        Wait {
            until: if room_now { Some(self.now) } else { until },
            read,
            commands: self.accepts_commands(),
            room,
        }
    }

    fn accepts_commands(&self) -> bool {
        self.parked.is_empty() && !matches!(self.phase, Phase::Stopped)
    }

    fn dialed(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Dialing { .. }) {
            // A dial that finished after the engine gave up on it.
            self.close_pending = true;
            return;
        }
        self.accepted = false;
        match self.core.connect(now) {
            Ok(()) => self.phase = Phase::Serving,
            Err(e) => {
                self.close_pending = true;
                self.connect_failed(e.into());
            }
        }
    }

    fn dial_failed(&mut self, error: Error) {
        if matches!(self.phase, Phase::Dialing { .. }) {
            tracing::warn!(%error, "could not reach the broker");
            self.connect_failed(error);
        }
    }

    /// No connection this time: fail a first connect once every server
    /// failed, or back off and try the next.
    fn connect_failed(&mut self, error: Error) {
        self.servers.attempt_failed();
        if self.servers.untried() && self.first_connect.is_some() {
            tracing::warn!(%error, "trying the next server");
            return self.dial_now();
        }
        if let Some(first) = self.first_connect.take() {
            first.send(Err(error));
            self.stopping = true;
        }
        self.next_attempt();
    }

    fn timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Dialing { deadline } if now >= deadline => {
                self.close_pending = true;
                self.connect_failed(Error::Timeout);
            }
            Phase::Backoff { until } if now >= until => self.dial_now(),
            Phase::Serving => self.core.handle_timeout(now),
            _ => {}
        }
        if self.routes.blocked().is_some() {
            self.routes.retry();
        }
        self.requests.expire(now);
    }

    fn dial_now(&mut self) {
        self.phase = Phase::Start;
    }

    fn surface_ended_connection(&mut self) {
        if let Some(reason) = self.ended.take() {
            self.disconnected(reason);
        }
    }

    /// The core's connection ended and its last bytes went out: close, then decide.
    fn connection_over(&mut self) {
        self.close_pending = true;
        if !self.auto_reconnect && self.first_connect.is_none() {
            self.stopping = true;
        }
        self.next_attempt();
    }

    /// Stops, or waits as the backoff policy says before dialing again.
    fn next_attempt(&mut self) {
        if self.stopping {
            return self.finish();
        }
        match self.core.reconnect_delay(self.jitter.next_u32()) {
            None => self.finish(),
            Some(Duration::ZERO) => self.dial_now(),
            Some(delay) => self.backoff(delay),
        }
    }

    fn backoff(&mut self, delay: Duration) {
        tracing::info!(
            ?delay,
            attempt = self.core.stats().reconnects,
            "reconnecting after a delay"
        );
        self.events.send(&ClientEvent::Reconnecting { delay });
        self.phase = Phase::Backoff {
            until: after(self.now, delay),
        };
    }

    /// Over for good: complete the disconnect request, end every listener.
    fn finish(&mut self) {
        if matches!(self.phase, Phase::Stopped) {
            return;
        }
        self.phase = Phase::Stopped;
        self.stopping = true;
        if let Some(first) = self.first_connect.take() {
            first.send(Err(Error::Closed));
        }
        self.refresh();
        if let Some(reply) = self.disconnect_reply.take() {
            reply.send(Ok(()));
        }
        self.events.close();
    }

    fn command(&mut self, now: Instant, command: Command) {
        match command {
            Command::Publish { publish, reply } => self.publish(now, publish, reply),
            Command::Subscribe {
                mut packet,
                sink,
                reply,
                routed,
            } => {
                // On 5.0 the router tags the packet with a Subscription
                // Identifier, so overlapping subscriptions each get their copy once.
                let routes = self
                    .routes
                    .router
                    .add_subscribe(&self.core, &mut packet, sink);
                if let Some(routed) = routed {
                    routed.send(Ok(routes.clone()));
                }
                match self.core.subscribe(now, packet) {
                    Ok(id) => {
                        self.pending
                            .insert(id, Pending::Subscribe { reply, routes });
                    }
                    Err(e) => {
                        self.routes.drop_routes(&routes);
                        reply.send(Err(e.into()));
                    }
                }
            }
            Command::Unsubscribe { packet, reply } => {
                let filters = packet.filters.clone();
                match self.core.unsubscribe(now, packet) {
                    Ok(id) => {
                        filters
                            .iter()
                            .for_each(|f| self.routes.router.remove_filter(f));
                        self.pending.insert(id, Pending::Unsubscribe(reply));
                    }
                    Err(e) => reply.send(Err(e.into())),
                }
            }
            Command::DropRoutes(routes) => self.routes.drop_routes(&routes),
            Command::DefaultRoute(sink) => self.routes.set_default(sink),
            Command::Reauthenticate(reply) => match self.core.reauthenticate(now) {
                Ok(()) => self.reauth = Some(reply),
                Err(e) => reply.send(Err(e.into())),
            },
            Command::Request {
                publish,
                timeout,
                reply,
            } => self.request(now, publish, timeout, reply),
            Command::Disconnect { disconnect, reply } => self.stop(now, disconnect, Some(reply)),
            Command::Ack { ack, reply } => match self.core.acknowledge(now, ack) {
                // The QoS 2 receipt the acknowledgment records must be
                // durable before the application is told: a crash after
                // `ack` returned must not deliver the message again.
                Ok(()) if self.durable && ack.qos == QoS::ExactlyOnce => {
                    self.acks_awaiting_store.push(reply);
                }
                result => reply.send(result.map_err(Error::from)),
            },
            Command::Start => {
                if matches!(self.phase, Phase::Held) {
                    self.phase = Phase::Start;
                }
            }
        }
    }

    fn publish(&mut self, now: Instant, mut publish: Publish, reply: Reply<ReasonCode>) {
        for interceptor in &self.interceptors {
            interceptor.on_publish(&mut publish);
        }
        self.queue_publish(now, publish, reply);
    }

    /// Queues an intercepted publish, or parks it while the queue is full.
    fn queue_publish(&mut self, now: Instant, publish: Publish, reply: Reply<ReasonCode>) {
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

    fn request(
        &mut self,
        now: Instant,
        mut publish: Publish,
        timeout: Duration,
        reply: Reply<Message>,
    ) {
        if self.core.protocol_version() != ProtocolVersion::V5 {
            reply.send(Err(CommandError::NeedsV5("request/response").into()));
            return;
        }
        let random = self.jitter.next_u32();
        let topic = match self.requests.reply_topic(&mut self.core, now, random) {
            Ok(topic) => topic,
            Err(e) => return reply.send(Err(e)),
        };
        for interceptor in &self.interceptors {
            interceptor.on_publish(&mut publish);
        }
        let key = self.requests.next_key();
        publish.properties.response_topic = Some(topic);
        publish.properties.correlation_data = Some(key.clone());
        match self.core.publish(now, publish) {
            Ok(_) => self.requests.wait(key, after(now, timeout), reply),
            Err(e) => reply.send(Err(e.into())),
        }
    }

    fn stop(&mut self, now: Instant, disconnect: Disconnect, reply: Option<Reply<()>>) {
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
        match self.phase {
            // Connected or connecting: the DISCONNECT goes out, then the close.
            Phase::Serving => {}
            Phase::Dialing { .. } => {
                self.close_pending = true;
                self.finish();
            }
            Phase::Held | Phase::Start | Phase::Backoff { .. } | Phase::Stopped => self.finish(),
        }
    }

    /// Hands the core's events to users and retries parked publishes.
    fn after_input(&mut self, now: Instant) {
        loop {
            while let Some(event) = self.core.poll_event() {
                self.event(event);
            }
            self.acknowledge(now);
            let room = self.core.queued() < self.core.options().max_queued_messages;
            match self.parked.pop_front() {
                Some((publish, reply)) if room => self.queue_publish(now, publish, reply),
                Some(parked) => {
                    self.parked.push_front(parked);
                    break;
                }
                None => break,
            }
        }
        self.refresh();
    }

    /// Passes the acknowledgments routing made due to the core.
    fn acknowledge(&mut self, now: Instant) {
        for ack in self.routes.acks.drain(..) {
            // Not pending: the application acknowledged it already, or the
            // broker lost the session; nothing is owed either way.
            let _ = self.core.acknowledge(now, ack);
        }
    }

    fn refresh(&self) {
        let closed = matches!(self.phase, Phase::Stopped);
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .update(&self.core, closed);
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected { session_present } => {
                self.accepted = true;
                self.refresh();
                tracing::info!(
                    session_present,
                    version = ?self.core.protocol_version(),
                    client_id = %self.core.client_id(),
                    "connected"
                );
                // Listeners hear of a connection before connect() returns, so a
                // listener made after connect() never sees a stale Connected.
                let connack = Box::new(self.core.connack().cloned().unwrap_or_default());
                self.events.send(&ClientEvent::Connected {
                    session_present,
                    connack,
                });
                if let Some(reference) = self
                    .core
                    .connack()
                    .and_then(|c| c.properties.server_reference.clone())
                {
                    self.events.send(&ClientEvent::ServerRedirect(reference));
                }
                if let Some(first) = self.first_connect.take() {
                    first.send(Ok(()));
                }
            }
            Event::Message(mut publish) => {
                let ack = AckToken::of(&publish);
                for interceptor in &self.interceptors {
                    interceptor.on_message(&mut publish);
                }
                match self.requests.take_reply(publish) {
                    Some(msg) => self.routes.route(msg),
                    // A reply went to its request's waiter.
                    None => self.routes.acks.extend(ack),
                }
            }
            Event::Published { id, result } => {
                if let Some(Pending::Publish(reply)) = self.pending.remove(&id) {
                    reply.send(result.map_err(Error::from));
                } else if let Some(publish) = self.restored.remove(&id) {
                    let result = result.map_err(Error::from);
                    let outcome = RestoredOutcome {
                        id,
                        publish,
                        result,
                    };
                    // Unbounded, but only ever holds the restored publishes.
                    let _ = self.restored_outcomes.send(outcome);
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
                        self.routes.drop_routes(&routes);
                    }
                    reply.send(outcome);
                }
            }
            Event::Unsubscribed { id, result } => {
                if let Some(Pending::Unsubscribe(reply)) = self.pending.remove(&id) {
                    reply.send(result.map_err(Error::from));
                }
            }
            Event::Resubscribed(results) => {
                self.events.send(&ClientEvent::Resubscribed(results));
            }
            Event::Reauthenticated => {
                if let Some(reply) = self.reauth.take() {
                    reply.send(Ok(()));
                }
            }
            // Told once the DISCONNECT the core queued (a protocol error's,
            // with its reason code) is written, so an application that
            // exits on the news does not cut it off.
            Event::Disconnected(reason)
                if self.core.has_transmit() || self.held_write.is_some() =>
            {
                self.ended = Some(reason);
            }
            Event::Disconnected(reason) => self.disconnected(reason),
        }
    }

    fn disconnected(&mut self, reason: DisconnectReason) {
        self.refresh();
        match &reason {
            DisconnectReason::Local => tracing::info!("disconnected"),
            DisconnectReason::ProtocolFallback => tracing::info!(%reason, "retrying"),
            DisconnectReason::Refused(_) => tracing::warn!(%reason, "connection refused"),
            _ => tracing::warn!(%reason, "connection lost"),
        }
        if let Some(reply) = self.reauth.take() {
            reply.send(Err(Error::Connect(Box::new(reason.clone()))));
        }
        if let DisconnectReason::Server(d) = &reason {
            if let Some(reference) = &d.properties.server_reference {
                self.events
                    .send(&ClientEvent::ServerRedirect(reference.clone()));
            }
        }
        let never_connected = matches!(
            reason,
            DisconnectReason::TransportClosed | DisconnectReason::ConnectTimeout
        ) && !self.accepted;
        if never_connected {
            self.servers.attempt_failed();
        }
        let next_server = never_connected && self.servers.untried();
        let redirected = self.servers.follow(&reason);
        if reason != DisconnectReason::ProtocolFallback && !next_server && !redirected {
            if let Some(first) = self.first_connect.take() {
                first.send(Err(Error::Connect(Box::new(reason.clone()))));
                self.stopping = true;
            }
        }
        self.events
            .send(&ClientEvent::ConnectionLost(Box::new(reason)));
    }
}
