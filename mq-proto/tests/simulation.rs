//! Deterministic simulation of the client against a model broker over a
//! faulty network.
//!
//! Each run is one seed of a tiny PRNG (splitmix64, below) that draws the
//! configuration and every fault: transport breaks at any byte (the bytes in
//! transit are lost, a random prefix of them arrives first), broker restarts
//! that keep or lose the persistent sessions, broker shutdowns, refusals while
//! the broker warms up, user disconnects, clock jumps, the order and size
//! of every delivery, and (in runs with a durable store) crashes of the
//! client process. The client subscribes to `sim/q1` at QoS 1 and `sim/q2`
//! at QoS 2 and publishes numbered messages to both at QoS 0, 1 and 2; the
//! broker routes them back. A run is a chaotic phase followed by a calm one
//! in which everything in flight must finish. Nothing reads a clock or a
//! global: the same seed replays the same run.
//!
//! The broker (written with the crate's codec) keeps per-client sessions
//! across connections and restarts, honours Clean Start and the Session
//! Expiry Interval (3.1.1: Clean Session), and tags each message it routes
//! with a delivery number (4 bytes appended to the payload), so that every
//! copy the client receives names the routing it came from.
//!
//! # Crashes and the durable store
//!
//! In three runs out of four the client reports store updates, and the
//! simulation keeps a durable store: a [`SessionSnapshot`] folded with
//! [`SessionSnapshot::apply`]. It drives the client as an engine with such a
//! store must (write-ahead, see `Sim::drain_client`): updates are applied
//! first, then the user handles the events, and only then do the bytes reach
//! the link. During the chaos the process may crash between taking updates
//! and applying them (they die with it, together with the events and bytes
//! that came with them) or between applying them and writing the bytes (the
//! store is ahead of the wire). A crash drops the client, breaks its link,
//! and a new process makes one with [`Client::restore`] from the store,
//! subscribes to the topics the store holds no subscription for, and
//! connects again (Clean Start 0). A publish is accepted once its
//! `PublishQueued` is in the store: only publishes not yet accepted (and QoS
//! 0 ones not yet sent) may die with a process, and those never reach the
//! broker. Restored messages keep their request identifiers, so outcomes
//! still find their messages.
//!
//! # Invariants
//!
//! After every step:
//! - nothing panics, and the client never breaks the protocol in a way the
//!   broker can see: every byte decodes, the first packet is CONNECT, no QoS
//!   2 packet identifier is reused before its PUBREL, the broker's Receive
//!   Maximum and Topic Alias Maximum are respected;
//! - memory is bounded: `in_flight() <= ` the broker's Receive Maximum,
//!   `queued() <= max_queued_messages`, and the read buffer never holds more
//!   than our Maximum Packet Size;
//! - a QoS 1/2 publish completes once, and only with `Ok` if the broker did
//!   receive it; the simulation never gives a publish a reason to fail;
//! - a delivery (one routing of one message) at QoS 2 reaches the user at
//!   most once, even across reconnects and lost sessions; at QoS 0 at most once;
//! - the connection only ends for reasons the simulation caused (never a
//!   protocol error), and the client always wants to reconnect;
//! - `handle_timeout(now)` leaves no deadline at or before `now` (a driver
//!   loop cannot spin), and Session Present is what the broker said;
//! - with a store, applying the updates in order gives `snapshot()` (see
//!   `check_store`: DUP is not stored), and so does restoring from it;
//! - a crash never loses an accepted publish that has not completed: the
//!   store holds it.
//!
//! At the end of the run (the calm phase must get there within its bound):
//! - every publish that did not die with a process has completed with `Ok`,
//!   and the store agrees with the client and holds no message;
//! - a publish that died with a process never reached the broker;
//! - every QoS 1/2 delivery routed into a broker session that was never lost
//!   reached the user: at least once at QoS 1, exactly once at QoS 2.
//!
//! When the broker lost a session (restart without persistence, expiry while
//! the client was away, a Session Expiry Interval of 0, or Clean Start),
//! what the session held is gone, and MQTT cannot bring it back: deliveries
//! routed into it may never arrive, and a QoS 2 publish the broker received
//! but had not yet released may be sent again as a new message and routed
//! twice. What must still hold, and is checked:
//! - the client's own messages are not lost: every publish still completes
//!   `Ok` (requeued and sent again), and `Ok` still means received;
//! - exactly once per delivery: a QoS 2 delivery is never handed to the user
//!   twice (the client forgets its QoS 2 receipts exactly when the broker
//!   does), and no delivery routed into a surviving session is suppressed;
//! - a QoS 2 publish is routed more than once only if a session was lost
//!   after its first routing;
//! - in a run where no session was lost, each QoS 2 message published to the
//!   QoS 2 subscription reaches the user exactly once, and every message at
//!   least once.
//!
//! One more case MQTT cannot handle, and the check allows for it precisely:
//! after a loss, a CONNECT with Clean Start 0 makes the broker create a new
//! session, and the CONNACK saying so (Session Present 0) is lost with the
//! connection. The next CONNACK says Session Present 1, so the client takes
//! the new session for its old one: it keeps its QoS 2 receipts and, as
//! MQTT-4.3.3-10 requires, acknowledges without delivering a QoS 2 PUBLISH
//! that reuses one of those packet identifiers. QoS 2 deliveries into such a
//! session (one the client never saw announced, entered holding receipts)
//! are exempt from "must arrive"; "at most once" still holds. The receipts
//! do not count against our Receive Maximum (only those of the current
//! connection do), so such a session never ends with Receive Maximum
//! exceeded. The same happens when a crash loses the store update that
//! cleared the receipts after a Session Present 0. The run summary counts
//! these sessions.
//!
//! `SIM_SEEDS=n` changes the number of runs (default 2000), `SIM_LIST=1`
//! prints every failing seed, and `SIM_SEED=n` replays one seed and prints
//! its trace (what the broker did, and every event).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mq_proto::client::{
    Backoff, Client, ConnectionState, DisconnectReason, Event, Instant, Options, RequestError,
    RequestId, SessionSnapshot, StoreUpdate,
};
use mq_proto::{
    ConnAck, Decoder, Disconnect, MqttString, Packet, ProtocolVersion, PubAck, PubComp, PubRec,
    PubRel, Publish, QoS, ReasonCode, SubAck, Subscribe, UnsubAck,
};

/// Runs and steps: small enough for well under 30 s in debug on 2 cores.
const DEFAULT_SEEDS: u64 = 2000;
const CHAOS_STEPS: usize = 500;
const CALM_STEPS: usize = 3000;
/// The calm phase's clock tick when nothing else is due.
const CALM_TICK: Duration = Duration::from_millis(100);

const TOPICS: [(&str, QoS); 2] = [("sim/q1", QoS::AtLeastOnce), ("sim/q2", QoS::ExactlyOnce)];
const CLIENT_ID: &str = "sim-client";

type Outcome = Result<(), String>;

// ---------------------------------------------------------------------------
// PRNG

/// splitmix64: tiny, fast, and good enough to drive a simulation.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next_u64() % 1000 < per_mille
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.next_u64() as usize % items.len()]
    }

    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.range(lo, hi))
    }
}

// ---------------------------------------------------------------------------
// The model broker

/// One routing of one message into one session: what the client must receive.
#[derive(Clone, Debug)]
struct Delivery {
    message: u32,
    topic: MqttString,
    qos: QoS,
    /// The session generation it was routed into.
    generation: u64,
}

/// A delivery the broker has sent and the client has not finished.
#[derive(Clone, Copy, Debug)]
struct Outbound {
    delivery: u32,
    /// PUBREC arrived; only PUBREL is resent.
    released: bool,
}

/// A client's session, as a broker with a persistent store keeps it.
#[derive(Debug)]
struct Session {
    generation: u64,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    expiry: u32,
    /// `None` while a connection is attached.
    disconnected_at: Option<Instant>,
    subscriptions: BTreeMap<MqttString, QoS>,
    /// QoS 2 packet identifiers received from the client and not yet released.
    incoming_qos2: BTreeSet<u16>,
    /// Deliveries sent and unacknowledged, in send order.
    outbound: Vec<(u16, Outbound)>,
    /// Deliveries waiting for a connection or for the client's Receive Maximum.
    queue: VecDeque<u32>,
    next_packet_id: u16,
}

impl Session {
    fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
            && self.incoming_qos2.is_empty()
            && self.outbound.is_empty()
            && self.queue.is_empty()
    }

    fn expired(&self, now: Instant) -> bool {
        match self.disconnected_at {
            Some(at) => {
                self.expiry != u32::MAX && now >= at + Duration::from_secs(u64::from(self.expiry))
            }
            None => false,
        }
    }

    fn allocate_packet_id(&mut self) -> u16 {
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.outbound.iter().any(|(pid, _)| *pid == id) {
                return id;
            }
        }
    }
}

/// The broker's side of the one network connection.
struct Conn {
    rx: BytesMut,
    decoder: Decoder,
    out: BytesMut,
    /// Set once CONNECT is accepted.
    client_id: Option<String>,
    version: ProtocolVersion,
    keep_alive: u16,
    last_received: Instant,
    client_receive_maximum: u16,
    client_topic_alias_maximum: u16,
    aliases_in: BTreeMap<u16, MqttString>,
    aliases_out: BTreeMap<MqttString, u16>,
    /// The broker has decided to close this connection.
    closing: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Up,
    /// Not listening: connection attempts are refused.
    Down {
        until: Instant,
    },
    /// Listening, but refusing CONNECT with Server Unavailable.
    Warming {
        until: Instant,
    },
}

struct Broker {
    receive_maximum: u16,
    topic_alias_maximum: u16,
    status: Status,
    /// How long the broker refuses CONNECT after it comes back up.
    warm_for: Duration,
    sessions: BTreeMap<String, Session>,
    conn: Option<Conn>,
    next_generation: u64,
    /// Generations lost while holding state.
    lost_generations: BTreeSet<u64>,
    session_losses: u32,
    deliveries: Vec<Delivery>,
    /// For each message, `session_losses` at each time the broker accepted it.
    accepted: BTreeMap<u32, Vec<u32>>,
    /// The session generation and Session Present of the last CONNACK sent.
    last_connack: Option<(u64, bool)>,
    /// What the broker did, when tracing.
    notes: Option<Vec<String>>,
}

fn violation(what: impl std::fmt::Display) -> String {
    format!("client broke the protocol: {what}")
}

impl Broker {
    fn new(receive_maximum: u16, topic_alias_maximum: u16) -> Self {
        Broker {
            receive_maximum,
            topic_alias_maximum,
            status: Status::Up,
            warm_for: Duration::ZERO,
            sessions: BTreeMap::new(),
            conn: None,
            next_generation: 1,
            lost_generations: BTreeSet::new(),
            session_losses: 0,
            deliveries: Vec::new(),
            accepted: BTreeMap::new(),
            last_connack: None,
            notes: None,
        }
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(notes) = self.notes.as_mut() {
            notes.push(line());
        }
    }

    fn lose_session(&mut self, session: Session) {
        self.note(|| format!("broker: session {} ends: {session:?}", session.generation));
        if !session.is_empty() {
            self.lost_generations.insert(session.generation);
            self.session_losses += 1;
        }
    }

    fn expire_sessions(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.expired(now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(s) = self.sessions.remove(&id) {
                self.lose_session(s);
            }
        }
    }

    /// A transport was opened to the broker.
    fn accept(&mut self, now: Instant) {
        self.last_connack = None;
        self.conn = Some(Conn {
            rx: BytesMut::new(),
            decoder: Decoder::new(ProtocolVersion::V5),
            out: BytesMut::new(),
            client_id: None,
            version: ProtocolVersion::V5,
            keep_alive: 0,
            last_received: now,
            client_receive_maximum: u16::MAX,
            client_topic_alias_maximum: 0,
            aliases_in: BTreeMap::new(),
            aliases_out: BTreeMap::new(),
            closing: false,
        });
    }

    /// The transport closed: the session (if any) stays for its expiry interval.
    fn connection_lost(&mut self, now: Instant) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if let Some(id) = conn.client_id {
            if let Some(s) = self.sessions.get_mut(&id) {
                s.disconnected_at = Some(now);
            }
            self.expire_sessions(now);
        }
    }

    fn wants_close(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.closing)
    }

    fn take_output(&mut self) -> Vec<u8> {
        self.conn
            .as_mut()
            .map(|c| c.out.split().to_vec())
            .unwrap_or_default()
    }

    fn send(&mut self, packet: Packet) {
        if let Some(conn) = self.conn.as_mut() {
            packet
                .encode(conn.version, &mut conn.out)
                .expect("broker packets encode");
        }
    }

    /// Crash and restart: the connection dies; sessions survive only with persistence.
    fn restart(&mut self, now: Instant, keep_sessions: bool, down: Duration, warm: Duration) {
        self.connection_lost(now);
        if !keep_sessions {
            for (_, s) in std::mem::take(&mut self.sessions) {
                self.lose_session(s);
            }
        }
        self.status = Status::Down { until: now + down };
        self.warm_for = warm;
    }

    /// Sends DISCONNECT (5.0) and closes, as a broker shutting down does.
    fn shut_down_connection(&mut self, reason: ReasonCode) {
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        if conn.client_id.is_some() && conn.version == ProtocolVersion::V5 {
            self.send(Packet::Disconnect(Disconnect::new(reason)));
        }
        if let Some(conn) = self.conn.as_mut() {
            conn.closing = true;
        }
    }

    fn tick(&mut self, now: Instant) {
        match self.status {
            Status::Down { until } if now >= until => {
                self.status = Status::Warming {
                    until: now + self.warm_for,
                }
            }
            Status::Warming { until } if now >= until => self.status = Status::Up,
            _ => {}
        }
        if let Some(conn) = self.conn.as_ref() {
            let ka = Duration::from_millis(u64::from(conn.keep_alive) * 1500);
            if conn.client_id.is_some() && !ka.is_zero() && now >= conn.last_received + ka {
                self.shut_down_connection(ReasonCode::KeepAliveTimeout);
            }
        }
        self.expire_sessions(now);
    }

    /// Bytes from the client.
    fn receive(&mut self, now: Instant, data: &[u8]) -> Outcome {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        if conn.closing {
            return Ok(());
        }
        conn.rx.extend_from_slice(data);
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(());
            };
            if conn.closing {
                return Ok(());
            }
            let packet = match conn.decoder.decode(&mut conn.rx) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(e) => return Err(violation(format!("undecodable bytes: {e}"))),
            };
            conn.last_received = now;
            self.handle(now, packet)?;
        }
    }

    fn session(&mut self) -> Option<&mut Session> {
        let id = self.conn.as_ref()?.client_id.as_ref()?;
        self.sessions.get_mut(id)
    }

    /// The connected session and the routing log, borrowed together.
    fn session_and_deliveries(&mut self) -> Option<(&mut Session, &[Delivery])> {
        let id = self.conn.as_ref()?.client_id.as_ref()?;
        Some((self.sessions.get_mut(id)?, &self.deliveries))
    }

    fn handle(&mut self, now: Instant, packet: Packet) -> Outcome {
        let connected = self.conn.as_ref().is_some_and(|c| c.client_id.is_some());
        match packet {
            Packet::Connect(connect) if !connected => self.handle_connect(now, *connect),
            _ if !connected => Err(violation(format!(
                "{:?} before CONNECT",
                packet.packet_type()
            ))),
            Packet::Publish(p) => self.handle_publish(p),
            Packet::PubAck(a) => {
                let (s, deliveries) = self.session_and_deliveries().expect("connected");
                if let Some(i) = s.outbound.iter().position(|(pid, o)| {
                    *pid == a.packet_id && deliveries[o.delivery as usize].qos == QoS::AtLeastOnce
                }) {
                    s.outbound.remove(i);
                }
                self.pump();
                Ok(())
            }
            Packet::PubRec(r) => {
                let (s, deliveries) = self.session_and_deliveries().expect("connected");
                let found = s.outbound.iter_mut().find(|(pid, o)| {
                    *pid == r.packet_id && deliveries[o.delivery as usize].qos == QoS::ExactlyOnce
                });
                let reply = match found {
                    Some((_, o)) => {
                        o.released = true;
                        PubRel::new(r.packet_id)
                    }
                    None => PubRel {
                        reason_code: ReasonCode::PacketIdentifierNotFound,
                        ..PubRel::new(r.packet_id)
                    },
                };
                self.send(Packet::PubRel(reply));
                Ok(())
            }
            Packet::PubComp(c) => {
                let s = self.session().expect("connected");
                if let Some(i) = s
                    .outbound
                    .iter()
                    .position(|(pid, o)| *pid == c.packet_id && o.released)
                {
                    s.outbound.remove(i);
                }
                self.pump();
                Ok(())
            }
            Packet::PubRel(r) => {
                let s = self.session().expect("connected");
                let reply = if s.incoming_qos2.remove(&r.packet_id) {
                    PubComp::new(r.packet_id)
                } else {
                    // The spec's answer to a PUBREL repeated after its PUBCOMP was lost.
                    PubComp {
                        reason_code: ReasonCode::PacketIdentifierNotFound,
                        ..PubComp::new(r.packet_id)
                    }
                };
                self.send(Packet::PubComp(reply));
                Ok(())
            }
            Packet::Subscribe(sub) => self.handle_subscribe(sub),
            Packet::Unsubscribe(unsub) => {
                let s = self.session().expect("connected");
                let codes = unsub
                    .filters
                    .iter()
                    .map(|f| match s.subscriptions.remove(f) {
                        Some(_) => ReasonCode::Success,
                        None => ReasonCode::NoSubscriptionExisted,
                    })
                    .collect();
                let v5 = self
                    .conn
                    .as_ref()
                    .is_some_and(|c| c.version == ProtocolVersion::V5);
                self.send(Packet::UnsubAck(UnsubAck {
                    packet_id: unsub.packet_id,
                    properties: Default::default(),
                    reason_codes: if v5 { codes } else { Vec::new() },
                }));
                Ok(())
            }
            Packet::PingReq => {
                self.send(Packet::PingResp);
                Ok(())
            }
            Packet::Disconnect(d) => {
                if let (Some(e), Some(s)) = (d.properties.session_expiry_interval, self.session()) {
                    s.expiry = e;
                }
                if let Some(conn) = self.conn.as_mut() {
                    conn.closing = true;
                }
                Ok(())
            }
            other => Err(violation(format!(
                "unexpected {:?} from a client",
                other.packet_type()
            ))),
        }
    }

    fn handle_connect(&mut self, now: Instant, connect: mq_proto::Connect) -> Outcome {
        let version = connect.protocol_version;
        let conn = self.conn.as_mut().expect("connection");
        conn.version = version;
        conn.decoder.set_version(version);
        if let Status::Warming { .. } = self.status {
            self.send(Packet::ConnAck(ConnAck {
                reason_code: ReasonCode::ServerUnavailable,
                ..Default::default()
            }));
            self.conn.as_mut().expect("connection").closing = true;
            return Ok(());
        }
        let id = connect.client_id.to_string();
        if id != CLIENT_ID {
            return Err(violation(format!("client identifier {id:?}")));
        }
        let p = &connect.properties;
        let expiry = match version {
            ProtocolVersion::V5 => p.session_expiry_interval.unwrap_or(0),
            ProtocolVersion::V311 if connect.clean_start => 0,
            ProtocolVersion::V311 => u32::MAX,
        };
        let conn = self.conn.as_mut().expect("connection");
        conn.client_id = Some(id.clone());
        conn.keep_alive = connect.keep_alive;
        conn.client_receive_maximum = p.receive_maximum.unwrap_or(u16::MAX);
        conn.client_topic_alias_maximum = p.topic_alias_maximum.unwrap_or(0);

        self.expire_sessions(now);
        if connect.clean_start {
            if let Some(old) = self.sessions.remove(&id) {
                self.lose_session(old);
            }
        }
        let session_present = self.sessions.contains_key(&id);
        self.note(|| {
            format!(
                "broker: CONNECT clean start {}, session present {session_present}",
                connect.clean_start
            )
        });
        if !session_present {
            let generation = self.next_generation;
            self.next_generation += 1;
            self.sessions.insert(
                id.clone(),
                Session {
                    generation,
                    expiry,
                    disconnected_at: None,
                    subscriptions: BTreeMap::new(),
                    incoming_qos2: BTreeSet::new(),
                    outbound: Vec::new(),
                    queue: VecDeque::new(),
                    next_packet_id: 1,
                },
            );
        }
        let s = self.sessions.get_mut(&id).expect("session");
        s.expiry = expiry;
        s.disconnected_at = None;
        self.last_connack = Some((s.generation, session_present));

        let mut connack = ConnAck {
            session_present,
            ..Default::default()
        };
        if version == ProtocolVersion::V5 {
            let cp = &mut connack.properties;
            cp.receive_maximum = Some(self.receive_maximum).filter(|&r| r != u16::MAX);
            cp.topic_alias_maximum = Some(self.topic_alias_maximum).filter(|&t| t > 0);
        }
        self.send(Packet::ConnAck(connack));

        // MQTT-4.4.0-1: resend unacknowledged PUBLISH (DUP) and PUBREL in the original order.
        let s = self.sessions.get(&id).expect("session");
        let resend: Vec<(u16, Outbound)> = s.outbound.clone();
        for (pid, o) in resend {
            if o.released {
                self.send(Packet::PubRel(PubRel::new(pid)));
            } else {
                self.send_delivery(o.delivery, pid, true);
            }
        }
        self.pump();
        Ok(())
    }

    fn handle_subscribe(&mut self, sub: Subscribe) -> Outcome {
        let s = self.session().expect("connected");
        let mut codes = Vec::new();
        for f in &sub.subscriptions {
            if !TOPICS.iter().any(|(t, _)| f.filter == *t) {
                return Err(violation(format!("subscription to {:?}", f.filter)));
            }
            s.subscriptions.insert(f.filter.clone(), f.options.qos);
            codes.push(match f.options.qos {
                QoS::AtMostOnce => ReasonCode::GRANTED_QOS_0,
                QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
            });
        }
        self.send(Packet::SubAck(SubAck {
            packet_id: sub.packet_id,
            properties: Default::default(),
            reason_codes: codes,
        }));
        Ok(())
    }

    fn handle_publish(&mut self, mut p: Publish) -> Outcome {
        let conn = self.conn.as_mut().expect("connection");
        if let Some(alias) = p.properties.topic_alias {
            if conn.version != ProtocolVersion::V5 || alias == 0 || alias > self.topic_alias_maximum
            {
                return Err(violation(format!(
                    "topic alias {alias} (maximum {})",
                    self.topic_alias_maximum
                )));
            }
            if p.topic.is_empty() {
                match conn.aliases_in.get(&alias) {
                    Some(t) => p.topic = t.clone(),
                    None => return Err(violation(format!("unknown topic alias {alias}"))),
                }
            } else {
                conn.aliases_in.insert(alias, p.topic.clone());
            }
        }
        let receive_maximum = self.receive_maximum;
        let v5 = conn.version == ProtocolVersion::V5;
        let s = self.session().expect("connected");
        let route = match p.qos {
            QoS::AtMostOnce | QoS::AtLeastOnce => true,
            QoS::ExactlyOnce if s.incoming_qos2.contains(&p.packet_id) => {
                if !p.dup {
                    return Err(violation(format!(
                        "QoS 2 packet identifier {} reused before PUBREL",
                        p.packet_id
                    )));
                }
                false
            }
            QoS::ExactlyOnce => {
                s.incoming_qos2.insert(p.packet_id);
                if v5 && s.incoming_qos2.len() > usize::from(receive_maximum) {
                    return Err(violation(format!(
                        "{} unreleased QoS 2 publishes, Receive Maximum {receive_maximum}",
                        s.incoming_qos2.len()
                    )));
                }
                true
            }
        };
        if route {
            self.route(&p)?;
        }
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.send(Packet::PubAck(PubAck::new(p.packet_id))),
            QoS::ExactlyOnce => self.send(Packet::PubRec(PubRec::new(p.packet_id))),
        }
        Ok(())
    }

    /// Routes a message to the session's matching subscriptions.
    fn route(&mut self, p: &Publish) -> Outcome {
        if p.payload.len() != 4 {
            return Err(violation(format!("payload {:?}", p.payload)));
        }
        let message = message_number(&p.payload).map_err(violation)?;
        let losses = self.session_losses;
        self.accepted.entry(message).or_default().push(losses);
        let first = self.deliveries.len();
        let s = self.session().expect("connected");
        let generation = s.generation;
        let subs: Vec<QoS> = s
            .subscriptions
            .iter()
            .filter(|(f, _)| mq_proto::topic::matches(f, &p.topic))
            .map(|(_, q)| *q)
            .collect();
        for sub_qos in subs {
            let id = self.deliveries.len() as u32;
            self.deliveries.push(Delivery {
                message,
                topic: p.topic.clone(),
                qos: p.qos.min(sub_qos),
                generation,
            });
            let s = self.session().expect("connected");
            s.queue.push_back(id);
        }
        let routed = first..self.deliveries.len();
        self.note(|| {
            format!(
                "broker: accepts #{message} {:?} dup {}, deliveries {routed:?}",
                p.qos, p.dup
            )
        });
        self.pump();
        Ok(())
    }

    /// Sends queued deliveries while the client's Receive Maximum allows.
    fn pump(&mut self) {
        let Some(receive_maximum) = self.conn.as_ref().map(|c| c.client_receive_maximum) else {
            return;
        };
        loop {
            let Some(s) = self.session() else {
                return;
            };
            let Some(&next) = s.queue.front() else {
                return;
            };
            let qos = self.deliveries[next as usize].qos;
            let s = self.session().expect("session");
            if qos != QoS::AtMostOnce && s.outbound.len() >= usize::from(receive_maximum) {
                return;
            }
            s.queue.pop_front();
            let pid = if qos == QoS::AtMostOnce {
                0
            } else {
                let pid = s.allocate_packet_id();
                s.outbound.push((
                    pid,
                    Outbound {
                        delivery: next,
                        released: false,
                    },
                ));
                pid
            };
            self.send_delivery(next, pid, false);
        }
    }

    fn send_delivery(&mut self, delivery: u32, packet_id: u16, dup: bool) {
        let d = self.deliveries[delivery as usize].clone();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let mut payload = d.message.to_be_bytes().to_vec();
        payload.extend_from_slice(&delivery.to_be_bytes());
        let mut p = Publish::new(d.topic.clone(), Bytes::from(payload));
        p.qos = d.qos;
        p.packet_id = packet_id;
        p.dup = dup;
        if conn.version == ProtocolVersion::V5 {
            let next_alias = conn.aliases_out.len() as u16 + 1;
            match conn.aliases_out.get(&d.topic) {
                Some(&a) => {
                    p.properties.topic_alias = Some(a);
                    p.topic = MqttString::new();
                }
                None if next_alias <= conn.client_topic_alias_maximum => {
                    conn.aliases_out.insert(d.topic.clone(), next_alias);
                    p.properties.topic_alias = Some(next_alias);
                }
                None => {}
            }
        }
        self.send(Packet::Publish(p));
    }
}

// ---------------------------------------------------------------------------
// The network and the client's event loop

/// One transport: the bytes in transit each way.
#[derive(Default)]
struct Link {
    to_broker: VecDeque<u8>,
    to_client: VecDeque<u8>,
}

/// How many of the bytes in transit still arrive when a link goes down.
#[derive(Clone, Copy)]
enum Arrive {
    /// A graceful close: everything, most of the time; else it breaks at a random byte.
    Mostly,
    /// It breaks at a random byte.
    Prefix,
    /// The receiving side has closed.
    Nothing,
}

/// A numbered message the client publishes.
struct Message {
    qos: QoS,
    topic: usize,
    result: Option<Result<ReasonCode, RequestError>>,
    /// Its `PublishQueued` is in the store: the publish is accepted.
    durable: bool,
    /// It died with a crashed process before it was accepted or completed.
    vanished: bool,
}

/// The number a message carries in its first four payload bytes.
fn message_number(payload: &[u8]) -> Result<u32, String> {
    match payload.get(..4) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(format!("payload {payload:02X?} carries no message number")),
    }
}

/// Compares a store (every update applied in order) with the client's
/// snapshot. A message sent again as new after a lost session keeps its old
/// packet identifier in the store until it is sent (no update says it went
/// back to the queue), so the identifier is only compared for messages in
/// flight; the DUP flag of a resent message is not stored either.
fn check_store(store: &SessionSnapshot, client: &Client) -> Outcome {
    let snapshot = client.snapshot();
    let mut stored = store.clone();
    // The store does not follow DUP: a restored message is resent with it anyway.
    for (s, c) in stored.outgoing.iter_mut().zip(&snapshot.outgoing) {
        s.publish.dup = c.publish.dup;
    }
    stored.incoming_qos2.sort_unstable();
    stored.subscriptions.sort_by(|a, b| a.filter.cmp(&b.filter));
    if stored != snapshot {
        return Err(format!(
            "the store disagrees with the snapshot:\n  store    {stored:?}\n  snapshot {snapshot:?}"
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, Default)]
struct Totals {
    runs: u64,
    steps: u64,
    connects: u64,
    lost_sessions: u64,
    runs_without_loss: u64,
    /// Runs with crashes and no session lost, where every message must reach the user.
    crash_runs_without_loss: u64,
    /// Sessions the client took for its old one, carrying QoS 2 receipts into them.
    inherited_receipts: u64,
    deliveries: u64,
    received: u64,
    duplicates_suppressed: u64,
    messages: u64,
    crashes: u64,
    /// Messages that died with a crashed process before they were accepted.
    vanished: u64,
}

struct Sim {
    rng: Rng,
    now: Instant,
    client: Client,
    broker: Broker,
    link: Option<Link>,
    reconnect_at: Option<Instant>,
    /// The user called `disconnect`: the app, not the backoff, reconnects.
    user_closed: bool,
    /// The process restarted and has not tried to connect yet: the app reconnects.
    restarted: bool,
    /// What every process makes its client with.
    options: Options,
    version: ProtocolVersion,
    max_queued: usize,
    max_packet_size: u32,
    /// Faults per thousand steps.
    fault_rate: u64,
    /// Process crashes per thousand chances (store updates to apply, or bytes to write).
    crash_rate: u64,
    /// The calm phase: no more faults or crashes.
    calm: bool,
    messages: Vec<Message>,
    total: usize,
    by_request: BTreeMap<RequestId, usize>,
    subscribes: BTreeMap<RequestId, (usize, bool)>,
    /// Times each delivery reached the user.
    received: BTreeMap<u32, u32>,
    /// The durable store, when the client reports store updates: what a
    /// crashed process is restored from.
    store: Option<SessionSnapshot>,
    /// Generations the client learned were new (it saw their Session Present 0).
    announced: BTreeSet<u64>,
    /// Generations the client took for its old session, holding QoS 2 receipts from before.
    inherited_receipts: BTreeSet<u64>,
    steps: u64,
    connects: u64,
    crashes: u64,
    /// Duplicates suppressed by clients that crashed since.
    suppressed_before_crashes: u64,
    trace: Option<String>,
}

impl Sim {
    fn new(seed: u64, trace: bool) -> Self {
        let mut rng = Rng(seed);
        let version = if rng.chance(250) {
            ProtocolVersion::V311
        } else {
            ProtocolVersion::V5
        };
        let mut o = Options::new(CLIENT_ID);
        o.protocol_version = version;
        o.protocol_fallback = false;
        o.clean_start = match version {
            ProtocolVersion::V5 => rng.chance(700),
            ProtocolVersion::V311 => rng.chance(100),
        };
        o.session_expiry_interval = rng.pick(&[0, 2, 30, 3600, u32::MAX]);
        o.keep_alive = rng.pick(&[0, 2, 5, 30]);
        o.connect_timeout = rng.millis(500, 5000);
        o.receive_maximum = rng.pick(&[1, 2, 3, 10, u16::MAX]);
        o.maximum_packet_size = Some(rng.range(40, 300) as u32);
        o.topic_alias_maximum = rng.pick(&[0, 1, 2]);
        if rng.chance(300) {
            o.topic_alias_policy = mq_proto::client::TopicAliasPolicy::Off;
        }
        o.max_queued_messages = rng.pick(&[1, 2, 5, 20, 100]);
        o.report_store_updates = rng.chance(750);
        o.backoff = Backoff {
            initial: rng.millis(10, 500),
            max: rng.millis(500, 3000),
            jitter_percent: 50,
            stable_after: rng.millis(100, 5000),
        };
        let mut broker = Broker::new(rng.pick(&[1, 2, 3, 10, u16::MAX]), rng.pick(&[0, 1, 5]));
        if trace {
            broker.notes = Some(Vec::new());
        }
        let store = o.report_store_updates.then(SessionSnapshot::default);
        let crash_rate = match store {
            Some(_) => rng.pick(&[0, 40, 120, 250]),
            None => 0,
        };
        let total = rng.range(10, 40) as usize;
        let mut sim = Sim {
            version,
            max_queued: o.max_queued_messages,
            max_packet_size: o.maximum_packet_size.unwrap_or(u32::MAX),
            fault_rate: rng.pick(&[0, 3, 10, 30, 80]),
            crash_rate,
            calm: false,
            client: Client::new(o.clone()),
            options: o,
            rng,
            now: Instant::ZERO,
            broker,
            link: None,
            reconnect_at: None,
            user_closed: false,
            restarted: false,
            messages: Vec::new(),
            total,
            by_request: BTreeMap::new(),
            subscribes: BTreeMap::new(),
            received: BTreeMap::new(),
            store,
            announced: BTreeSet::new(),
            inherited_receipts: BTreeSet::new(),
            steps: 0,
            connects: 0,
            crashes: 0,
            suppressed_before_crashes: 0,
            trace: trace.then(String::new),
        };
        sim.log(|s| {
            format!(
                "config: {:?} {:?}, broker receive max {}, topic alias max {}, {} messages, \
                 faults {}/1000, crashes {}/1000",
                s.version,
                s.client.options(),
                s.broker.receive_maximum,
                s.broker.topic_alias_maximum,
                s.total,
                s.fault_rate,
                s.crash_rate
            )
        });
        sim
    }

    fn log(&mut self, line: impl FnOnce(&Self) -> String) {
        if self.trace.is_some() {
            let line = line(self);
            let now = self.now.as_duration().as_millis();
            let notes = self
                .broker
                .notes
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default();
            if let Some(t) = self.trace.as_mut() {
                for note in notes {
                    let _ = writeln!(t, "[{now:>9} ms] {note}");
                }
                let _ = writeln!(t, "[{now:>9} ms] {line}");
            }
        }
    }

    fn run(&mut self) -> Outcome {
        self.subscribe_missing()?;
        self.open()?;
        self.service()?;
        for _ in 0..CHAOS_STEPS {
            self.steps += 1;
            if self.rng.chance(self.fault_rate) {
                self.fault()?;
            } else {
                match self.rng.range(0, 99) {
                    0..=29 => {
                        let n = self.chunk();
                        self.deliver_to_broker(n)?;
                    }
                    30..=59 => {
                        let n = self.chunk();
                        self.deliver_to_client(n)?;
                    }
                    60..=79 => {
                        let d = self.rng.millis(1, 300);
                        self.now = self.now + d;
                    }
                    _ => {
                        self.publish_next()?;
                    }
                }
            }
            self.service()?;
        }
        self.log(|_| "calm".into());
        self.calm = true;
        for _ in 0..CALM_STEPS {
            self.steps += 1;
            for _ in 0..self.total {
                if !self.publish_next()? {
                    break;
                }
            }
            let moved = self.deliver_to_broker(usize::MAX)? + self.deliver_to_client(usize::MAX)?;
            self.service()?;
            if self.settled() {
                return self.final_checks();
            }
            if moved == 0 {
                self.now = self.now + CALM_TICK;
            }
        }
        Err(format!(
            "did not settle in {CALM_STEPS} calm steps: state {:?}, {}/{} published, {} in flight, {} queued, \
             {} incomplete, broker {:?}, session {:?}",
            self.client.state(),
            self.messages.len(),
            self.total,
            self.client.in_flight(),
            self.client.queued(),
            self.messages.iter().filter(|m| m.result.is_none()).count(),
            self.broker.status,
            self.broker.sessions.get(CLIENT_ID),
        ))
    }

    /// A delivery size: often one byte at a time, often everything.
    fn chunk(&mut self) -> usize {
        match self.rng.range(0, 9) {
            0..=2 => 1,
            3..=5 => self.rng.range(2, 40) as usize,
            _ => usize::MAX,
        }
    }

    fn fault(&mut self) -> Outcome {
        match self.rng.range(0, 99) {
            0..=34 => {
                self.log(|_| "fault: the network breaks".into());
                self.close_link(Arrive::Prefix, Arrive::Prefix)?;
            }
            35..=57 => {
                let keep = self.rng.chance(650);
                let down = self.rng.millis(0, 3000);
                let warm = self.rng.millis(0, 1500);
                self.log(|_| format!("fault: broker restarts, keeping sessions: {keep}"));
                // The broker dies first: what it had not read is gone.
                if let Some(link) = self.link.as_mut() {
                    link.to_broker.clear();
                }
                self.broker.restart(self.now, keep, down, warm);
                self.close_link(Arrive::Nothing, Arrive::Prefix)?;
            }
            58..=72 => {
                let jump = Duration::from_secs(self.rng.pick(&[3, 20, 600, 7200, 3 * 86_400]));
                self.log(|_| format!("fault: the clock jumps {jump:?}"));
                self.now = self.now + jump;
            }
            73..=84 => {
                self.log(|_| "fault: the broker shuts the connection".into());
                self.broker
                    .shut_down_connection(ReasonCode::ServerShuttingDown);
                self.flush_broker()?;
            }
            _ => {
                self.log(|_| "the user disconnects".into());
                self.user_closed = true;
                self.client
                    .disconnect(self.now, Disconnect::new(ReasonCode::Success))
                    .map_err(|e| format!("disconnect: {e}"))?;
            }
        }
        Ok(())
    }

    /// Publishes the next numbered message; false when there is none or the queue is full.
    fn publish_next(&mut self) -> Result<bool, String> {
        let n = self.messages.len();
        if n >= self.total {
            return Ok(false);
        }
        let qos = match self.rng.range(0, 9) {
            0 => QoS::AtMostOnce,
            1..=4 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        let topic = self.rng.range(0, 1) as usize;
        let mut p = Publish::new(
            TOPICS[topic].0,
            Bytes::from((n as u32).to_be_bytes().to_vec()),
        );
        p.qos = qos;
        match self.client.publish(self.now, p) {
            Ok(id) => {
                self.log(|_| format!("publish #{n} {qos:?} to {} as {id:?}", TOPICS[topic].0));
                self.by_request.insert(id, n);
                self.messages.push(Message {
                    qos,
                    topic,
                    result: None,
                    durable: false,
                    vanished: false,
                });
                Ok(true)
            }
            Err(mq_proto::client::CommandError::QueueFull(_)) => Ok(false),
            Err(e) => Err(format!("publish #{n} refused: {e}")),
        }
    }

    /// Opens a transport and connects, or, when the broker is down, schedules the next try.
    fn open(&mut self) -> Outcome {
        if let Status::Down { .. } = self.broker.status {
            self.log(|_| "connection refused".into());
            return self.schedule_reconnect();
        }
        self.log(|_| "transport opened, connect".into());
        self.connects += 1;
        self.user_closed = false;
        self.restarted = false;
        self.link = Some(Link::default());
        self.broker.accept(self.now);
        self.client
            .connect(self.now)
            .map_err(|e| format!("connect: {e}"))
    }

    fn schedule_reconnect(&mut self) -> Outcome {
        let random = self.rng.next_u64() as u32;
        let delay = self.client.reconnect_delay(random);
        if self.user_closed || self.restarted {
            if delay.is_some() {
                return Err(
                    "reconnect_delay after a user disconnect, or before any connect".into(),
                );
            }
            self.reconnect_at = Some(self.now + self.rng.millis(0, 1000));
            return Ok(());
        }
        match delay {
            Some(d) => {
                self.log(|_| format!("reconnect in {d:?}"));
                self.reconnect_at = Some(self.now + d);
                Ok(())
            }
            None => Err("the client stopped reconnecting".into()),
        }
    }

    fn deliver_to_broker(&mut self, max: usize) -> Result<usize, String> {
        let Some(link) = self.link.as_mut() else {
            return Ok(0);
        };
        let n = max.min(link.to_broker.len());
        if n == 0 {
            return Ok(0);
        }
        let bytes: Vec<u8> = link.to_broker.drain(..n).collect();
        self.broker.receive(self.now, &bytes)?;
        self.flush_broker()?;
        Ok(n)
    }

    fn deliver_to_client(&mut self, max: usize) -> Result<usize, String> {
        let Some(link) = self.link.as_mut() else {
            return Ok(0);
        };
        let n = max.min(link.to_client.len());
        if n == 0 {
            return Ok(0);
        }
        let bytes: Vec<u8> = link.to_client.drain(..n).collect();
        self.client_reads(&bytes)?;
        Ok(n)
    }

    fn client_reads(&mut self, bytes: &[u8]) -> Outcome {
        self.client.handle_bytes(self.now, bytes);
        let buffered = self.client.receive_buffer().len();
        if buffered > self.max_packet_size as usize {
            return Err(format!(
                "read buffer holds {buffered} bytes, maximum packet size {}",
                self.max_packet_size
            ));
        }
        Ok(())
    }

    /// Moves the broker's output onto the link, and closes it if the broker wants to.
    fn flush_broker(&mut self) -> Outcome {
        let out = self.broker.take_output();
        if let Some(link) = self.link.as_mut() {
            link.to_client.extend(out);
        }
        if self.broker.wants_close() {
            self.log(|_| "the broker closes the connection".into());
            self.close_link(Arrive::Nothing, Arrive::Mostly)?;
        }
        Ok(())
    }

    fn arriving(&mut self, in_transit: usize, arrive: Arrive) -> usize {
        match arrive {
            Arrive::Mostly if self.rng.chance(700) => in_transit,
            Arrive::Mostly | Arrive::Prefix => self.rng.range(0, in_transit as u64) as usize,
            Arrive::Nothing => 0,
        }
    }

    /// Tears the link down: part of what is in transit arrives, then both sides learn it closed.
    fn close_link(&mut self, to_broker: Arrive, to_client: Arrive) -> Outcome {
        let Some(mut link) = self.link.take() else {
            return Ok(());
        };
        self.close_broker_side(&mut link, to_broker)?;
        let n = self.arriving(link.to_client.len(), to_client);
        let bytes: Vec<u8> = link.to_client.drain(..n).collect();
        self.log(|_| format!("link down; {n} bytes still reach the client"));
        if !bytes.is_empty() {
            self.client_reads(&bytes)?;
        }
        self.client.handle_transport_closed(self.now);
        Ok(())
    }

    /// The broker's end of a link that went down: part of what is in transit arrives.
    fn close_broker_side(&mut self, link: &mut Link, arrive: Arrive) -> Outcome {
        let n = self.arriving(link.to_broker.len(), arrive);
        let bytes: Vec<u8> = link.to_broker.drain(..n).collect();
        self.log(|_| format!("link down; {n} bytes still reach the broker"));
        if !bytes.is_empty() {
            self.broker.receive(self.now, &bytes)?;
        }
        self.broker.take_output();
        self.broker.connection_lost(self.now);
        Ok(())
    }

    /// Everything that follows an input: timeouts, output, events, reconnects, bounds.
    fn service(&mut self) -> Outcome {
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
            // Otherwise a driver loop would spin.
            if let Some(t) = self.client.poll_timeout().filter(|&t| t <= self.now) {
                return Err(format!(
                    "deadline {t:?} still due after handle_timeout at {:?}",
                    self.now
                ));
            }
        }
        self.broker.tick(self.now);
        self.flush_broker()?;
        self.drain_client()?;
        if self.link.is_none() && self.reconnect_at.is_some_and(|t| t <= self.now) {
            self.reconnect_at = None;
            self.open()?;
            self.drain_client()?;
        }
        self.check_bounds()
    }

    /// Handles the client's output as an engine with a durable store does:
    /// its store updates are applied first, then the user handles its events,
    /// and only then do its bytes reach the link (write-ahead). So whatever
    /// the user has seen is in the store, and whatever the broker has seen
    /// too. During the chaos the process may crash between taking the updates
    /// and applying them (they die with it, and so do the events and bytes
    /// that came with them), or between applying them and writing the bytes.
    fn drain_client(&mut self) -> Outcome {
        for _ in 0..100_000 {
            let updates = self.take_store_updates();
            if !updates.is_empty() && self.crash_now() {
                self.crash("before applying its store updates")?;
                continue;
            }
            self.persist(updates)?;
            let events: Vec<Event> = std::iter::from_fn(|| self.client.poll_event()).collect();
            if !events.is_empty() {
                for event in events {
                    self.on_event(event)?;
                }
                continue;
            }
            if !self.client.has_transmit() {
                return Ok(());
            }
            if self.crash_now() {
                self.crash("with its store ahead of the wire")?;
                continue;
            }
            self.transmit();
        }
        Err("the client raises events without end".into())
    }

    fn take_store_updates(&mut self) -> Vec<StoreUpdate> {
        std::iter::from_fn(|| self.client.poll_store_update()).collect()
    }

    /// Applies updates to the store, which must then agree with the client.
    fn persist(&mut self, updates: Vec<StoreUpdate>) -> Outcome {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        for update in updates {
            if let StoreUpdate::PublishQueued { publish, .. } = &update {
                let n = message_number(&publish.payload)?;
                self.messages[n as usize].durable = true;
            }
            store.apply(update).map_err(|e| e.to_string())?;
        }
        check_store(store, &self.client)
    }

    /// Writes the client's bytes to the link; without one they are lost.
    fn transmit(&mut self) {
        if let (Some(bytes), Some(link)) = (self.client.poll_transmit(), self.link.as_mut()) {
            link.to_broker.extend(bytes);
        }
    }

    fn crash_now(&mut self) -> bool {
        !self.calm && self.rng.chance(self.crash_rate)
    }

    /// The client process dies: the client and all it held outside the store
    /// are gone, and its connection breaks. A new process restores the client
    /// from the store, subscribes to what the store does not hold, and
    /// connects a moment later.
    fn crash(&mut self, when: &str) -> Outcome {
        let store = self.store.clone().ok_or("a crash without a store")?;
        self.log(|_| format!("crash {when}"));
        self.crashes += 1;
        self.suppressed_before_crashes += self.client.stats().duplicates_suppressed;
        self.by_request.clear();
        for s in &store.outgoing {
            let n = message_number(&s.publish.payload)?;
            self.by_request.insert(s.id, n as usize);
        }
        for (n, m) in self.messages.iter_mut().enumerate() {
            if m.result.is_some() || m.vanished {
                continue;
            }
            if m.durable && !self.by_request.values().any(|&r| r == n) {
                return Err(format!("accepted message #{n} is not in the store"));
            }
            m.vanished = !m.durable;
        }
        self.client = Client::restore(self.options.clone(), store);
        if let Some(mut link) = self.link.take() {
            // The system may still send part of what the process had written.
            self.close_broker_side(&mut link, Arrive::Prefix)?;
        }
        self.user_closed = false;
        self.restarted = true;
        self.reconnect_at = Some(self.now + self.rng.millis(0, 1000));
        // The restored client holds what the store holds.
        if let Some(store) = self.store.as_ref() {
            check_store(store, &self.client)?;
        }
        self.subscribe_missing()
    }

    /// Subscribes to each topic the client holds no subscription for.
    fn subscribe_missing(&mut self) -> Outcome {
        self.subscribes.clear();
        for (i, (topic, qos)) in TOPICS.iter().enumerate() {
            if self.client.subscriptions().get(topic).is_some() {
                continue;
            }
            let id = self
                .client
                .subscribe(self.now, Subscribe::new(0, *topic, *qos))
                .map_err(|e| format!("subscribe: {e}"))?;
            self.subscribes.insert(id, (i, false));
        }
        Ok(())
    }

    fn on_event(&mut self, event: Event) -> Outcome {
        self.log(|_| match &event {
            Event::Message(p) => format!(
                "event Message {:?} {} dup {} payload {:02X?}",
                p.qos,
                p.topic,
                p.dup,
                &p.payload[..]
            ),
            other => format!("event {other:?}"),
        });
        match event {
            Event::Connected { session_present } => {
                let Some((generation, present)) = self.broker.last_connack else {
                    return Err("connected without a CONNACK".into());
                };
                if present != session_present {
                    return Err(format!("broker said session present {present}"));
                }
                // The broker made a new session but the CONNACK saying so was lost:
                // the client cannot tell, and keeps its receipts from the old one.
                let unannounced = session_present && !self.announced.contains(&generation);
                if unannounced && !self.client.snapshot().incoming_qos2.is_empty() {
                    self.inherited_receipts.insert(generation);
                }
                self.announced.insert(generation);
                Ok(())
            }
            Event::Message(p) => self.on_message(p),
            Event::Published { id, result } => self.on_published(id, result),
            Event::Subscribed { id, result } => {
                let Some((topic, done)) = self.subscribes.get_mut(&id) else {
                    return Err(format!("unknown subscribe {id:?}"));
                };
                let granted = match TOPICS[*topic].1 {
                    QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                    _ => ReasonCode::GrantedQoS2,
                };
                if *done || result != Ok(vec![granted]) {
                    return Err(format!(
                        "subscribe {id:?} completed again or with {result:?}"
                    ));
                }
                *done = true;
                Ok(())
            }
            Event::Resubscribed(results) => {
                if results.iter().any(|(_, code)| code.is_error()) {
                    return Err(format!("resubscribe failed: {results:?}"));
                }
                Ok(())
            }
            Event::Disconnected(reason) => {
                let expected = match &reason {
                    DisconnectReason::Local => self.user_closed,
                    DisconnectReason::TransportClosed
                    | DisconnectReason::KeepAliveTimeout
                    | DisconnectReason::ConnectTimeout => true,
                    DisconnectReason::Server(d) => matches!(
                        d.reason_code,
                        ReasonCode::ServerShuttingDown | ReasonCode::KeepAliveTimeout
                    ),
                    DisconnectReason::Refused(c) => c.reason_code == ReasonCode::ServerUnavailable,
                    _ => false,
                };
                if !expected {
                    return Err(format!("connection ended unexpectedly: {reason:?}"));
                }
                // The client's side closes: what it wrote last (store first) may or may
                // not arrive.
                let updates = self.take_store_updates();
                self.persist(updates)?;
                self.transmit();
                self.close_link(Arrive::Mostly, Arrive::Nothing)?;
                self.schedule_reconnect()
            }
            other => Err(format!("unexpected event {other:?}")),
        }
    }

    fn on_message(&mut self, p: Publish) -> Outcome {
        let tag = <[u8; 8]>::try_from(&p.payload[..])
            .map_err(|_| format!("message with payload {:?}", p.payload))?;
        let message = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]);
        let id = u32::from_be_bytes([tag[4], tag[5], tag[6], tag[7]]);
        let Some(d) = self.broker.deliveries.get(id as usize) else {
            return Err(format!("message for unknown delivery {id}"));
        };
        if d.message != message || d.topic != p.topic || d.qos != p.qos {
            return Err(format!("delivery {id} is {d:?}, received {p:?}"));
        }
        let count = self.received.entry(id).or_default();
        *count += 1;
        if *count > 1 && d.qos != QoS::AtLeastOnce {
            return Err(format!(
                "{:?} delivery {id} (message #{message}) reached the user {count} times",
                d.qos
            ));
        }
        Ok(())
    }

    fn on_published(&mut self, id: RequestId, result: Result<ReasonCode, RequestError>) -> Outcome {
        let Some(&n) = self.by_request.get(&id) else {
            return Err(format!("completion of unknown request {id:?}"));
        };
        let m = &mut self.messages[n];
        if m.result.is_some() {
            return Err(format!("message #{n} completed twice: {result:?}"));
        }
        m.result = Some(result.clone());
        match (m.qos, &result) {
            (QoS::AtMostOnce, Ok(_) | Err(RequestError::NotSent)) => Ok(()),
            (QoS::AtMostOnce, Err(e)) => Err(format!("QoS 0 message #{n} failed: {e}")),
            (_, Ok(_)) if self.broker.accepted.contains_key(&(n as u32)) => Ok(()),
            (qos, Ok(code)) => Err(format!(
                "{qos:?} message #{n} completed with {code:?} but the broker never received it"
            )),
            (qos, Err(e)) => Err(format!("{qos:?} message #{n} failed: {e:?}")),
        }
    }

    fn check_bounds(&mut self) -> Outcome {
        let receive_maximum = match self.version {
            ProtocolVersion::V5 => usize::from(self.broker.receive_maximum),
            ProtocolVersion::V311 => usize::from(u16::MAX),
        };
        let (in_flight, queued) = (self.client.in_flight(), self.client.queued());
        if in_flight > receive_maximum || queued > self.max_queued {
            return Err(format!(
                "{in_flight} in flight (broker receive maximum {receive_maximum}), \
                 {queued} queued (maximum {})",
                self.max_queued
            ));
        }
        Ok(())
    }

    /// Everything published, finished, delivered, and nothing in transit.
    fn settled(&self) -> bool {
        let session_idle = self
            .broker
            .sessions
            .get(CLIENT_ID)
            .is_some_and(|s| s.outbound.is_empty() && s.queue.is_empty());
        self.messages.len() == self.total
            && self
                .messages
                .iter()
                .all(|m| m.result.is_some() || m.vanished)
            && self.client.in_flight() == 0
            && self.client.queued() == 0
            && self.client.state() == ConnectionState::Connected
            && self.subscribes.values().all(|(_, done)| *done)
            && self
                .link
                .as_ref()
                .is_some_and(|l| l.to_broker.is_empty() && l.to_client.is_empty())
            && session_idle
    }

    fn final_checks(&self) -> Outcome {
        if let Some(store) = self.store.as_ref() {
            check_store(store, &self.client)?;
            if !store.outgoing.is_empty() {
                return Err(format!("the store still holds {:?}", store.outgoing));
            }
        }
        for (n, m) in self.messages.iter().enumerate() {
            let accepted = self.broker.accepted.contains_key(&(n as u32));
            if m.vanished && m.qos != QoS::AtMostOnce && accepted {
                return Err(format!(
                    "message #{n} reached the broker but died with a process before it was accepted"
                ));
            }
            if m.qos != QoS::AtMostOnce && !m.vanished && !matches!(m.result, Some(Ok(_))) {
                return Err(format!("message #{n} ended with {:?}", m.result));
            }
        }
        for (id, d) in self.broker.deliveries.iter().enumerate() {
            let got = self.received.get(&(id as u32)).copied().unwrap_or(0);
            let survived = !self.broker.lost_generations.contains(&d.generation);
            // MQTT-4.3.3-10 makes the client acknowledge, without delivering, a QoS 2
            // PUBLISH reusing a packet identifier it holds a receipt for.
            let may_be_suppressed =
                d.qos == QoS::ExactlyOnce && self.inherited_receipts.contains(&d.generation);
            if d.qos != QoS::AtMostOnce && survived && !may_be_suppressed && got == 0 {
                return Err(format!(
                    "delivery {id} {d:?} in a surviving session never arrived"
                ));
            }
        }
        let losses = self.broker.session_losses;
        for (n, m) in self.messages.iter().enumerate() {
            let accepted = self.broker.accepted.get(&(n as u32)).map_or(&[][..], |v| v);
            if m.qos == QoS::ExactlyOnce && accepted.len() > 1 && accepted[0] == losses {
                return Err(format!(
                    "QoS 2 message #{n} was routed {} times with no session lost since",
                    accepted.len()
                ));
            }
            if losses > 0 || m.qos == QoS::AtMostOnce || m.vanished {
                continue;
            }
            let got: u32 = self
                .broker
                .deliveries
                .iter()
                .enumerate()
                .filter(|(_, d)| d.message == n as u32)
                .map(|(id, _)| self.received.get(&(id as u32)).copied().unwrap_or(0))
                .sum();
            let exactly_once = m.qos == QoS::ExactlyOnce && TOPICS[m.topic].1 == QoS::ExactlyOnce;
            if got == 0 || (exactly_once && got != 1) {
                return Err(format!(
                    "{:?} message #{n} to {} reached the user {got} times",
                    m.qos, TOPICS[m.topic].0
                ));
            }
        }
        Ok(())
    }

    fn totals(&self) -> Totals {
        Totals {
            runs: 1,
            steps: self.steps,
            connects: self.connects,
            lost_sessions: u64::from(self.broker.session_losses),
            runs_without_loss: u64::from(self.broker.session_losses == 0),
            crash_runs_without_loss: u64::from(self.crashes > 0 && self.broker.session_losses == 0),
            inherited_receipts: self.inherited_receipts.len() as u64,
            deliveries: self.broker.deliveries.len() as u64,
            received: self.received.values().map(|&c| u64::from(c)).sum(),
            duplicates_suppressed: self.suppressed_before_crashes
                + self.client.stats().duplicates_suppressed,
            messages: self.messages.len() as u64,
            crashes: self.crashes,
            vanished: self.messages.iter().filter(|m| m.vanished).count() as u64,
        }
    }
}

/// Runs one seed; a panic inside the client is caught and reported as a failure.
fn run_seed(seed: u64, trace: bool) -> (Outcome, Totals, Option<String>) {
    let result = std::panic::catch_unwind(|| {
        let mut sim = Sim::new(seed, trace);
        let outcome = sim.run();
        (outcome, sim.totals(), sim.trace.take())
    });
    match result {
        Ok(r) => r,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            (Err(format!("panicked: {message}")), Totals::default(), None)
        }
    }
}

#[test]
fn seeded_runs_keep_every_guarantee() {
    if let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        let (outcome, _, trace) = run_seed(seed, true);
        println!("{}", trace.unwrap_or_default());
        if let Err(e) = outcome {
            panic!("seed {seed}: {e}");
        }
        return;
    }
    let seeds: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEEDS);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4)) as u64;
    let started = std::time::Instant::now();
    let results: Vec<(Vec<(u64, String)>, Totals)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    let mut totals = Totals::default();
                    for seed in (t..seeds).step_by(threads as usize) {
                        let (outcome, run, _) = run_seed(seed, false);
                        if let Err(e) = outcome {
                            failures.push((seed, e));
                        }
                        totals.add(run);
                    }
                    (failures, totals)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    let mut failures: Vec<(u64, String)> = Vec::new();
    let mut totals = Totals::default();
    for (f, t) in results {
        failures.extend(f);
        totals.add(t);
    }
    failures.sort();
    if std::env::var_os("SIM_LIST").is_some() {
        for (seed, e) in &failures {
            eprintln!("seed {seed}: {e}");
        }
    }
    println!(
        "{} runs in {:.1?}: {} steps, {} messages published, {} process crashes, {} messages \
         died with a process before they were accepted, {} connects, {} sessions lost, \
         {} runs without loss ({} with crashes), {} lost session announcements with QoS 2 receipts, \
         {} deliveries routed, {} received, {} QoS 2 duplicates suppressed",
        totals.runs,
        started.elapsed(),
        totals.steps,
        totals.messages,
        totals.crashes,
        totals.vanished,
        totals.connects,
        totals.lost_sessions,
        totals.runs_without_loss,
        totals.crash_runs_without_loss,
        totals.inherited_receipts,
        totals.deliveries,
        totals.received,
        totals.duplicates_suppressed,
    );
    if let Some((seed, e)) = failures.first() {
        let list: Vec<String> = failures
            .iter()
            .take(10)
            .map(|(s, _)| s.to_string())
            .collect();
        panic!(
            "{} of {seeds} seeds failed (first: {}); seed {seed}: {e}\n\
             replay with: SIM_SEED={seed} cargo test -p mq-proto --test simulation -- --nocapture",
            failures.len(),
            list.join(", "),
        );
    }
}

impl Totals {
    fn add(&mut self, o: Totals) {
        self.runs += o.runs;
        self.steps += o.steps;
        self.connects += o.connects;
        self.lost_sessions += o.lost_sessions;
        self.runs_without_loss += o.runs_without_loss;
        self.crash_runs_without_loss += o.crash_runs_without_loss;
        self.inherited_receipts += o.inherited_receipts;
        self.deliveries += o.deliveries;
        self.received += o.received;
        self.duplicates_suppressed += o.duplicates_suppressed;
        self.messages += o.messages;
        self.crashes += o.crashes;
        self.vanished += o.vanished;
    }
}

/// Bugs the simulation found, pinned as byte-exact scenarios.
mod regressions {
    use super::*;

    const CONNACK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];
    const CONNACK_SESSION_PRESENT: &[u8] = &[0x20, 0x03, 0x01, 0x00, 0x00];

    fn written(c: &mut Client) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = c.poll_transmit() {
            out.extend_from_slice(&b);
        }
        out
    }

    fn events(c: &mut Client) -> Vec<Event> {
        std::iter::from_fn(|| c.poll_event()).collect()
    }

    /// A 5.0 client with a session that outlives the connection, connected.
    fn durable_client() -> Client {
        let mut o = Options::new("c");
        o.session_expiry_interval = 60;
        let mut c = Client::new(o);
        c.connect(Instant::ZERO).unwrap();
        c.handle_bytes(Instant::ZERO, CONNACK);
        written(&mut c);
        events(&mut c);
        c
    }

    fn reconnect(c: &mut Client, connack: &[u8]) {
        c.handle_transport_closed(Instant::ZERO);
        c.connect(Instant::ZERO).unwrap();
        written(c);
        c.handle_bytes(Instant::ZERO, connack);
    }

    fn publish(c: &mut Client, topic: &str, qos: QoS, payload: &'static [u8]) -> RequestId {
        let mut p = Publish::new(topic, Bytes::from_static(payload));
        p.qos = qos;
        c.publish(Instant::ZERO, p).unwrap()
    }

    /// A PUBREL resent after its PUBCOMP was lost meets a broker that already
    /// released the message: PUBCOMP says Packet Identifier not found (0x92).
    /// PUBREC confirmed receipt, so the publish succeeded; it used to fail.
    #[test]
    fn pubcomp_packet_identifier_not_found_after_pubrec_completes_the_publish() {
        let mut c = durable_client();
        let id = publish(&mut c, "a", QoS::ExactlyOnce, b"1");
        assert_eq!(
            written(&mut c),
            [0x34, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1']
        );
        c.handle_bytes(Instant::ZERO, &[0x50, 0x02, 0x00, 0x01]); // PUBREC 1
        assert_eq!(written(&mut c), [0x62, 0x02, 0x00, 0x01]); // PUBREL 1
                                                               // The broker's PUBCOMP is lost with the connection.
        reconnect(&mut c, CONNACK_SESSION_PRESENT);
        assert_eq!(written(&mut c), [0x62, 0x02, 0x00, 0x01]); // PUBREL 1 again
        c.handle_bytes(Instant::ZERO, &[0x70, 0x03, 0x00, 0x01, 0x92]); // PUBCOMP 1, 0x92
        assert_eq!(
            events(&mut c),
            [
                Event::Disconnected(DisconnectReason::TransportClosed),
                Event::Connected {
                    session_present: true
                },
                Event::Published {
                    id,
                    result: Ok(ReasonCode::Success)
                }
            ]
        );
    }

    /// 3.1.1 has no Receive Maximum, so the broker was never told ours: more
    /// unreleased QoS 2 messages than `receive_maximum` are no violation there.
    /// The client used to disconnect with ReceiveMaximumExceeded.
    #[test]
    fn v311_broker_is_not_held_to_a_receive_maximum_it_was_never_told() {
        let mut o = Options::new("c");
        o.protocol_version = ProtocolVersion::V311;
        o.receive_maximum = 1;
        let mut c = Client::new(o);
        c.connect(Instant::ZERO).unwrap();
        written(&mut c);
        c.handle_bytes(Instant::ZERO, &[0x20, 0x02, 0x00, 0x00]); // CONNACK
        c.handle_bytes(
            Instant::ZERO,
            &[
                0x34, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, b'1', // PUBLISH QoS 2, id 1
                0x34, 0x06, 0x00, 0x01, b'a', 0x00, 0x02, b'2', // PUBLISH QoS 2, id 2
            ],
        );
        assert_eq!(
            written(&mut c),
            [0x50, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02] // PUBREC 1, PUBREC 2
        );
        assert_eq!(c.state(), ConnectionState::Connected);
        let messages = events(&mut c)
            .into_iter()
            .filter(|e| matches!(e, Event::Message(_)))
            .count();
        assert_eq!(messages, 2);
    }

    /// Fuzz crash (client target, crash-b21acd00): a packet above our Maximum
    /// Packet Size is refused, and the read buffer is emptied with it. It used
    /// to keep the rest of the chunk until the next connect.
    #[test]
    fn a_decode_error_empties_the_read_buffer() {
        let mut o = Options::new("c");
        o.maximum_packet_size = Some(2);
        let mut c = Client::new(o);
        c.connect(Instant::ZERO).unwrap();
        written(&mut c);
        c.handle_bytes(Instant::ZERO, &[0x30, 0x03, 0x00, 0x01, 0x12]); // PUBLISH of 5 bytes
        assert_eq!(c.state(), ConnectionState::Disconnected);
        assert_eq!(c.receive_buffer().len(), 0);
        assert!(matches!(
            &events(&mut c)[..],
            [Event::Disconnected(DisconnectReason::ProtocolError {
                reason_code: ReasonCode::PacketTooLarge,
                ..
            })]
        ));
    }

    /// Fuzz crash (client target, crash-a7d32ca6): a broker that sends a
    /// CONNECT with another protocol name gets DISCONNECT 0x82 Protocol Error.
    /// The client used to answer with the code a server gives such a CONNECT,
    /// 0x84 Unsupported Protocol Version, which DISCONNECT cannot carry: the
    /// DISCONNECT failed to encode.
    #[test]
    fn a_connect_from_the_broker_is_a_protocol_error() {
        let mut c = durable_client();
        // CONNECT, protocol name "MQTX", level 5.
        c.handle_bytes(
            Instant::ZERO,
            &[
                0x10, 0x0A, 0x00, 0x04, b'M', b'Q', b'T', b'X', 0x05, 0x02, 0x00, 0x3C,
            ],
        );
        assert_eq!(c.state(), ConnectionState::Disconnected);
        assert_eq!(written(&mut c), [0xE0, 0x01, 0x82]);
        assert!(matches!(
            &events(&mut c)[..],
            [Event::Disconnected(DisconnectReason::ProtocolError {
                reason_code: ReasonCode::ProtocolError,
                ..
            })]
        ));
    }

    /// Fuzz crash (client target, crash-84419491): a SUBSCRIBE or UNSUBSCRIBE
    /// made before the CONNACK is checked against the Maximum Packet Size the
    /// CONNACK announces (MQTT-3.1.2-24) and fails instead of going out. It
    /// used to be sent, and resent on every reconnect.
    #[test]
    fn requests_made_before_connack_respect_the_brokers_maximum_packet_size() {
        let mut c = Client::new(Options::new("c"));
        c.connect(Instant::ZERO).unwrap();
        written(&mut c);
        let filter = "a-rather-long-topic-filter"; // SUBSCRIBE 34 bytes, UNSUBSCRIBE 33
        let sub = c
            .subscribe(Instant::ZERO, Subscribe::new(0, filter, QoS::AtLeastOnce))
            .unwrap();
        let unsub = c
            .unsubscribe(
                Instant::ZERO,
                mq_proto::Unsubscribe {
                    packet_id: 0,
                    filters: vec![filter.into()],
                    properties: Default::default(),
                },
            )
            .unwrap();
        // CONNACK with Maximum Packet Size 16.
        c.handle_bytes(
            Instant::ZERO,
            &[0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x10],
        );
        assert_eq!(written(&mut c), []);
        assert_eq!(
            events(&mut c),
            [
                Event::Connected {
                    session_present: false
                },
                Event::Subscribed {
                    id: sub,
                    result: Err(RequestError::PacketTooLarge { size: 34, max: 16 })
                },
                Event::Unsubscribed {
                    id: unsub,
                    result: Err(RequestError::PacketTooLarge { size: 33, max: 16 })
                },
            ]
        );
    }

    /// Fuzz crash (client target, crash-4d897c40): a PUBCOMP for a QoS 1
    /// message, or a PUBACK for a QoS 2 one, is not its acknowledgment; the
    /// message stays in flight and its proper acknowledgment completes it. Both
    /// used to drop the message silently: no completion, no store update, and
    /// its packet identifier freed while the broker still held it.
    #[test]
    fn an_acknowledgment_of_the_wrong_kind_leaves_the_message_in_flight() {
        let mut c = durable_client();
        let one = publish(&mut c, "a", QoS::AtLeastOnce, b"1");
        let two = publish(&mut c, "a", QoS::ExactlyOnce, b"2");
        written(&mut c);
        c.handle_bytes(Instant::ZERO, &[0x70, 0x02, 0x00, 0x01]); // PUBCOMP 1 (QoS 1)
        c.handle_bytes(Instant::ZERO, &[0x40, 0x02, 0x00, 0x02]); // PUBACK 2 (QoS 2)
        c.handle_bytes(Instant::ZERO, &[0x70, 0x02, 0x00, 0x02]); // PUBCOMP 2 before PUBREC
        assert_eq!(c.in_flight(), 2);
        assert_eq!(events(&mut c), []);
        c.handle_bytes(Instant::ZERO, &[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
        c.handle_bytes(Instant::ZERO, &[0x50, 0x02, 0x00, 0x02]); // PUBREC 2
        c.handle_bytes(Instant::ZERO, &[0x70, 0x02, 0x00, 0x02]); // PUBCOMP 2
        assert_eq!(
            events(&mut c),
            [
                Event::Published {
                    id: one,
                    result: Ok(ReasonCode::Success)
                },
                Event::Published {
                    id: two,
                    result: Ok(ReasonCode::Success)
                },
            ]
        );
        assert_eq!(c.in_flight(), 0);
    }

    /// An authenticator whose answers have the given sizes, in turn.
    struct Sized(VecDeque<usize>);

    impl mq_proto::client::Authenticator for Sized {
        fn method(&self) -> &str {
            "M"
        }
        fn initial_data(&mut self) -> Result<Option<Bytes>, mq_proto::client::AuthError> {
            Ok(Some(vec![b'x'; self.0.pop_front().unwrap_or(0)].into()))
        }
        fn challenge(
            &mut self,
            _: Option<&Bytes>,
        ) -> Result<Option<Bytes>, mq_proto::client::AuthError> {
            self.initial_data()
        }
        fn finish(&mut self, _: Option<&Bytes>) -> Result<(), mq_proto::client::AuthError> {
            Ok(())
        }
    }

    /// Fuzz crash (client target, crash-f9858613): once connected, the
    /// broker's Maximum Packet Size is known, and our AUTH packets must fit
    /// it (MQTT-3.1.2-24): re-authentication is refused at once, and a
    /// challenge answer that does not fit fails the authentication. Both used
    /// to be sent.
    #[test]
    fn auth_packets_respect_the_brokers_maximum_packet_size() {
        let mut c = Client::new(Options::new("c"));
        // Answers: CONNECT 1 byte, re-authentication 30 (too large), 1, challenge 30 (too large).
        c.set_authenticator(Box::new(Sized([1, 30, 1, 30].into())));
        c.connect(Instant::ZERO).unwrap();
        written(&mut c);
        // CONNACK: Maximum Packet Size 20, Authentication Method "M".
        c.handle_bytes(
            Instant::ZERO,
            &[
                0x20, 0x0C, 0x00, 0x00, 0x09, 0x27, 0x00, 0x00, 0x00, 0x14, 0x15, 0x00, 0x01, b'M',
            ],
        );
        assert_eq!(c.state(), ConnectionState::Connected);
        assert_eq!(
            c.reauthenticate(Instant::ZERO),
            Err(mq_proto::client::CommandError::PacketTooLarge { size: 41, max: 20 })
        );
        assert_eq!(written(&mut c), []);

        c.reauthenticate(Instant::ZERO).unwrap();
        assert_eq!(
            written(&mut c),
            [0xF0, 0x0A, 0x19, 0x08, 0x15, 0x00, 0x01, b'M', 0x16, 0x00, 0x01, b'x']
        );
        // AUTH 0x18 (continue), method "M": the 30-byte answer does not fit.
        c.handle_bytes(
            Instant::ZERO,
            &[0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'M'],
        );
        assert_eq!(written(&mut c), [0xE0, 0x01, 0x87]); // DISCONNECT Not authorized
        assert_eq!(c.state(), ConnectionState::Disconnected);
    }

    /// On a resumed session, a SUBSCRIBE still unacknowledged goes out again
    /// before the publishes made after it, as it did the first time, so the
    /// broker routes them to it. It used to follow every resent PUBLISH, and a
    /// message published right after subscribing missed the subscription.
    #[test]
    fn resume_keeps_pending_subscribes_and_publishes_in_their_original_order() {
        let mut c = durable_client();
        c.subscribe(Instant::ZERO, Subscribe::new(0, "s", QoS::AtLeastOnce))
            .unwrap();
        publish(&mut c, "a", QoS::AtLeastOnce, b"1");
        let subscribe = [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b's', 0x01];
        let publish_1 = [0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x02, 0x00, b'1'];
        assert_eq!(written(&mut c), [&subscribe[..], &publish_1[..]].concat());

        reconnect(&mut c, CONNACK_SESSION_PRESENT);
        let mut resent_publish_1 = publish_1;
        resent_publish_1[0] = 0x3A; // DUP
        assert_eq!(
            written(&mut c),
            [&subscribe[..], &resent_publish_1[..]].concat()
        );

        // The other way round: a publish made before a SUBSCRIBE is resent before it.
        let mut c = durable_client();
        publish(&mut c, "a", QoS::AtLeastOnce, b"1");
        c.subscribe(Instant::ZERO, Subscribe::new(0, "s", QoS::AtLeastOnce))
            .unwrap();
        written(&mut c);
        reconnect(&mut c, CONNACK_SESSION_PRESENT);
        let out = written(&mut c);
        assert_eq!(out[0], 0x3A, "PUBLISH DUP first: {out:02X?}");
        assert_eq!(out[9], 0x82, "then SUBSCRIBE: {out:02X?}");
    }
}
