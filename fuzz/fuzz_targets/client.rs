//! Drives the client state machine with a sequence of operations decoded from
//! the input: connect, broker bytes (raw chunks, and valid packets built from
//! the input and encoded with the codec, so that the flows get deep),
//! publish / subscribe / unsubscribe with arbitrary topics, QoS and
//! properties, acknowledging received messages (`manual_acks`), disconnect,
//! re-authentication, transport closed, clock jumps
//! up to the end of time, deadlines, reconnect delays, snapshot and restore,
//! and draining the output.
//!
//! Nothing may panic, and after every operation:
//! - QoS 1/2 publishes in flight grew only within the broker's Receive Maximum;
//! - the queue stays within `max_queued_messages` (plus what a lost session put back);
//! - the read buffer holds less than our Maximum Packet Size;
//! - calling `handle_timeout(now)` again while a deadline is due settles
//!   within a few calls (a driver loop cannot spin);
//! - every completion event names a request the client returned, once;
//! - what the client writes decodes, starts with CONNECT, and respects the
//!   broker's Maximum Packet Size;
//! - the store updates, applied in order, give the client's snapshot;
//! - a message acknowledged once cannot be acknowledged again.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mq_proto::client::scram::ScramSha256;
use mq_proto::client::{
    AckError, AckToken, AuthError, Authenticator, Backoff, Client, ConnectionState, Event, Instant,
    Options, ReceiveMaximumPolicy, RequestId, StoreUpdate, TopicAliasPolicy,
};
use mq_proto::{
    Auth, ConnAck, Decoder, Disconnect, MqttString, Packet, ProtocolVersion, PubAck, PubComp,
    PubRec, PubRel, Publish, QoS, ReasonCode, SubAck, Subscribe, SubscribeFilter,
    SubscriptionOptions, UnsubAck, Unsubscribe, Will, MAX_PACKET_SIZE,
};

/// Operations per input; inputs are short anyway, this only bounds the loop.
const MAX_OPS: usize = 1000;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = Harness::new(&mut u).and_then(|mut h| h.run(&mut u));
});

const TOPICS: &[&str] = &[
    "a",
    "a/b",
    "s/+",
    "s/#",
    "#",
    "$share/g/a",
    "$SYS/x",
    "",
    "a/\0",
];

fn topic(u: &mut Unstructured) -> Result<MqttString> {
    Ok(if u.ratio(1, 6)? {
        MqttString::from(u.arbitrary::<&str>()?)
    } else {
        MqttString::from(*u.choose(TOPICS)?)
    })
}

fn qos(u: &mut Unstructured) -> Result<QoS> {
    Ok(QoS::from_bits(u.int_in_range(0..=2)?).unwrap_or_default())
}

fn reason_code(u: &mut Unstructured) -> Result<ReasonCode> {
    Ok(ReasonCode::try_from(u.arbitrary::<u8>()?).unwrap_or_default())
}

/// Mostly success, sometimes anything.
fn mostly_success(u: &mut Unstructured) -> Result<ReasonCode> {
    if u.ratio(3, 4)? {
        Ok(ReasonCode::Success)
    } else {
        reason_code(u)
    }
}

/// A small number most of the time, any `u16` otherwise.
fn small_u16(u: &mut Unstructured) -> Result<u16> {
    if u.ratio(3, 4)? {
        u.int_in_range(0..=8)
    } else {
        u.arbitrary()
    }
}

fn duration(u: &mut Unstructured) -> Result<Duration> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Duration::ZERO,
        1 => Duration::from_millis(u.int_in_range(1..=1000)?),
        2 => Duration::from_secs(u.int_in_range(1..=120)?),
        3 => Duration::from_secs(u.int_in_range(120..=100_000)?),
        4 => Duration::from_secs(u.arbitrary::<u32>()?.into()),
        _ => Duration::MAX,
    })
}

/// An authenticator whose every answer comes from the input.
struct Scripted {
    method: String,
    answers: Vec<std::result::Result<Option<Bytes>, AuthError>>,
    next: usize,
}

impl Scripted {
    fn answer(&mut self) -> std::result::Result<Option<Bytes>, AuthError> {
        let a = self.answers.get(self.next).cloned().unwrap_or(Ok(None));
        self.next += 1;
        a
    }
}

impl Authenticator for Scripted {
    fn method(&self) -> &str {
        &self.method
    }
    fn initial_data(&mut self) -> std::result::Result<Option<Bytes>, AuthError> {
        self.answer()
    }
    fn challenge(&mut self, _: Option<&Bytes>) -> std::result::Result<Option<Bytes>, AuthError> {
        self.answer()
    }
    fn finish(&mut self, _: Option<&Bytes>) -> std::result::Result<(), AuthError> {
        self.answer().map(|_| ())
    }
}

fn options(u: &mut Unstructured) -> Result<Options> {
    let mut o = Options::new(if u.ratio(1, 8)? { "" } else { "fuzz" });
    if u.arbitrary()? {
        o.protocol_version = ProtocolVersion::V311;
    }
    o.protocol_fallback = u.arbitrary()?;
    o.clean_start = u.arbitrary()?;
    o.keep_alive = small_u16(u)?;
    o.ping_timeout = if u.arbitrary()? {
        Some(duration(u)?)
    } else {
        None
    };
    o.connect_timeout = duration(u)?;
    if u.ratio(1, 8)? {
        o.username = Some("user".into());
        o.password = Some(Bytes::from_static(b"pw").into());
    }
    if u.ratio(1, 8)? {
        o.will = Some(Will {
            topic: topic(u)?,
            payload: Bytes::from_static(b"will"),
            qos: qos(u)?,
            retain: u.arbitrary()?,
            properties: Default::default(),
        });
    }
    o.session_expiry_interval = u.arbitrary()?;
    o.receive_maximum = small_u16(u)?.max(1);
    if u.arbitrary()? {
        o.receive_maximum_policy = ReceiveMaximumPolicy::Tolerate;
    }
    o.maximum_packet_size = match u.int_in_range(0..=2)? {
        0 => None,
        1 => Some(u.int_in_range(2..=64)?),
        _ => Some(u.arbitrary::<u32>()?.max(2)),
    };
    o.topic_alias_maximum = small_u16(u)?;
    if u.arbitrary()? {
        o.topic_alias_policy = TopicAliasPolicy::Off;
    }
    o.max_queued_messages = u.int_in_range(0..=8)?;
    o.max_auth_exchanges = small_u16(u)?;
    o.backoff = Backoff {
        initial: duration(u)?,
        max: duration(u)?,
        jitter_percent: u.arbitrary()?,
        stable_after: duration(u)?,
    };
    o.report_store_updates = u.arbitrary()?;
    o.manual_acks = u.arbitrary()?;
    Ok(o)
}

fn authenticator(u: &mut Unstructured) -> Result<Option<Box<dyn Authenticator>>> {
    Ok(match u.int_in_range(0..=4)? {
        0 => {
            let mut answers = Vec::new();
            for _ in 0..u.int_in_range(0..=6)? {
                answers.push(if u.ratio(1, 4)? {
                    Err(AuthError("refused".into()))
                } else {
                    Ok(Some(Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?)))
                });
            }
            Some(Box::new(Scripted {
                method: if u.arbitrary()? {
                    "FUZZ".into()
                } else {
                    String::new()
                },
                answers,
                next: 0,
            }))
        }
        1 => {
            let nonce: String = u.arbitrary()?;
            Some(Box::new(
                ScramSha256::new("user", "pencil", move || nonce.clone()).max_iterations(64),
            ))
        }
        _ => None,
    })
}

/// Requests the client returned, and whether their completion arrived.
#[derive(Default)]
struct Requests {
    open: BTreeSet<RequestId>,
    done: BTreeSet<RequestId>,
}

impl Requests {
    fn add(&mut self, id: RequestId) {
        assert!(
            !self.open.contains(&id) && !self.done.contains(&id),
            "request {id:?} handed out twice"
        );
        self.open.insert(id);
    }

    fn complete(&mut self, id: RequestId) {
        assert!(
            self.open.remove(&id),
            "completion of {id:?}: unknown or completed before"
        );
        self.done.insert(id);
    }
}

/// A store fed only with the client's updates.
#[derive(Default)]
struct Store {
    outgoing: Vec<(RequestId, Option<u16>, bool)>,
    incoming_qos2: BTreeSet<u16>,
    subscriptions: BTreeMap<MqttString, mq_proto::client::ActiveSubscription>,
}

impl Store {
    fn apply(&mut self, update: StoreUpdate) {
        let find = |o: &[(RequestId, Option<u16>, bool)], id: RequestId| {
            o.iter()
                .position(|(r, _, _)| *r == id)
                .unwrap_or_else(|| panic!("store update for unknown {id:?}"))
        };
        match update {
            StoreUpdate::PublishQueued { id, .. } => self.outgoing.push((id, None, false)),
            StoreUpdate::PublishSent { id, packet_id } => {
                let i = find(&self.outgoing, id);
                self.outgoing[i].1 = Some(packet_id);
            }
            StoreUpdate::PublishRequeued { id } => {
                let i = find(&self.outgoing, id);
                self.outgoing[i].1 = None;
            }
            StoreUpdate::PublishReleased { id } => {
                let i = find(&self.outgoing, id);
                self.outgoing[i].2 = true;
            }
            StoreUpdate::PublishCompleted { id } => {
                let i = find(&self.outgoing, id);
                self.outgoing.remove(i);
            }
            StoreUpdate::IncomingQoS2Received { packet_id } => {
                self.incoming_qos2.insert(packet_id);
            }
            StoreUpdate::IncomingQoS2Released { packet_id } => {
                self.incoming_qos2.remove(&packet_id);
            }
            StoreUpdate::IncomingQoS2Cleared => self.incoming_qos2.clear(),
            StoreUpdate::SubscriptionAdded(sub) => {
                self.subscriptions.insert(sub.filter.clone(), sub);
            }
            StoreUpdate::SubscriptionRemoved { filter } => {
                self.subscriptions.remove(&filter);
            }
        }
    }

    /// A message put back in the queue by a lost session keeps its old packet
    /// identifier in the store until it is sent again: identifiers are only
    /// compared for messages in flight.
    fn check(&self, client: &Client) {
        let snapshot = client.snapshot();
        let outgoing: Vec<_> = snapshot
            .outgoing
            .iter()
            .map(|p| (p.id, p.packet_id, p.released))
            .collect();
        let same = outgoing.len() == self.outgoing.len()
            && outgoing
                .iter()
                .zip(&self.outgoing)
                .all(|(a, b)| a.0 == b.0 && a.2 == b.2 && (a.1.is_none() || a.1 == b.1));
        assert!(same, "store {:?} vs snapshot {outgoing:?}", self.outgoing);
        let incoming: BTreeSet<u16> = snapshot.incoming_qos2.iter().copied().collect();
        assert_eq!(incoming, self.incoming_qos2, "incoming QoS 2 receipts");
        let subs: Vec<_> = self.subscriptions.values().cloned().collect();
        assert_eq!(subs, snapshot.subscriptions, "subscriptions");
    }
}

struct Harness {
    options: Options,
    client: Client,
    now: Instant,
    requests: Requests,
    store: Option<Store>,
    /// What the client wrote on the current connection, not yet decoded.
    wire: BytesMut,
    wire_version: ProtocolVersion,
    /// Whether CONNECT has been seen on the current connection.
    saw_connect: bool,
    /// Packet identifiers the client used, and the broker's QoS 2 ones: acks aim at them.
    client_ids: Vec<u16>,
    server_ids: Vec<u16>,
    /// Tokens of the last QoS 1/2 messages delivered: acknowledgments aim at them.
    delivered: Vec<AckToken>,
    max_in_flight_seen: usize,
}

impl Harness {
    fn new(u: &mut Unstructured) -> Result<Self> {
        let options = options(u)?;
        if std::env::var_os("FUZZ_TRACE").is_some() {
            eprintln!("{options:?}");
        }
        let mut client = Client::new(options.clone());
        if let Some(auth) = authenticator(u)? {
            client.set_authenticator(auth);
        }
        Ok(Harness {
            store: options.report_store_updates.then(Store::default),
            wire_version: options.protocol_version,
            options,
            client,
            now: Instant::ZERO,
            requests: Requests::default(),
            wire: BytesMut::new(),
            saw_connect: false,
            client_ids: Vec::new(),
            server_ids: Vec::new(),
            delivered: Vec::new(),
            max_in_flight_seen: 0,
        })
    }

    fn run(&mut self, u: &mut Unstructured) -> Result<()> {
        for _ in 0..MAX_OPS {
            if u.is_empty() {
                break;
            }
            let in_flight_before = self.client.in_flight();
            self.step(u)?;
            self.check(in_flight_before);
        }
        self.drain();
        Ok(())
    }

    fn step(&mut self, u: &mut Unstructured) -> Result<()> {
        let op = u.int_in_range(0..=16)?;
        if std::env::var_os("FUZZ_TRACE").is_some() {
            eprintln!("op {op} at {:?}, state {:?}", self.now, self.client.state());
        }
        match op {
            0 => {
                // A fresh transport: what the old one carried is gone.
                if self.client.connect(self.now).is_ok() {
                    self.wire.clear();
                    self.saw_connect = false;
                    self.wire_version = self.client.protocol_version();
                }
            }
            1 => {
                let chunk: &[u8] = u.arbitrary()?;
                self.feed(u, chunk)?;
            }
            2..=4 => {
                let packet = self.broker_packet(u)?;
                let version = if u.ratio(1, 10)? {
                    ProtocolVersion::V311
                } else {
                    self.client.protocol_version()
                };
                let mut buf = BytesMut::new();
                if std::env::var_os("FUZZ_TRACE").is_some() {
                    eprintln!("  broker sends {version:?} {packet:?}");
                }
                if packet.encode(version, &mut buf).is_ok() {
                    self.feed(u, &buf)?;
                }
            }
            5 => {
                let mut p =
                    Publish::new(topic(u)?, Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?));
                p.qos = qos(u)?;
                p.retain = u.arbitrary()?;
                p.dup = u.arbitrary()?;
                p.packet_id = u.arbitrary()?;
                if u.ratio(1, 4)? {
                    p.properties.message_expiry_interval = Some(u.int_in_range(0..=100)?);
                }
                if u.ratio(1, 16)? {
                    p.properties.topic_alias = Some(u.arbitrary()?);
                }
                if u.ratio(1, 16)? {
                    p.properties.subscription_identifiers.push(u.arbitrary()?);
                }
                if let Ok(id) = self.client.publish(self.now, p) {
                    self.requests.add(id);
                }
            }
            6 => {
                let mut s = Subscribe::default();
                for _ in 0..u.int_in_range(0..=3)? {
                    s.subscriptions.push(SubscribeFilter {
                        filter: topic(u)?,
                        options: SubscriptionOptions {
                            qos: qos(u)?,
                            no_local: u.arbitrary()?,
                            ..Default::default()
                        },
                    });
                }
                if u.ratio(1, 4)? {
                    s.properties
                        .subscription_identifiers
                        .push(u.int_in_range(0..=3)?);
                }
                if let Ok(id) = self.client.subscribe(self.now, s) {
                    self.requests.add(id);
                }
            }
            7 => {
                let mut un = Unsubscribe::default();
                for _ in 0..u.int_in_range(0..=3)? {
                    un.filters.push(topic(u)?);
                }
                if let Ok(id) = self.client.unsubscribe(self.now, un) {
                    self.requests.add(id);
                }
            }
            8 => {
                let mut d = Disconnect::new(mostly_success(u)?);
                if u.ratio(1, 4)? {
                    d.properties.session_expiry_interval = Some(u.arbitrary()?);
                }
                let _ = self.client.disconnect(self.now, d);
            }
            9 => self.client.handle_transport_closed(self.now),
            10 => self.now = self.now + duration(u)?,
            11 => {
                // What a driver does: sleep until the deadline, then handle it.
                if let Some(t) = self.client.poll_timeout() {
                    self.now = self.now.max(t);
                }
                self.handle_timeout();
            }
            12 => self.handle_timeout(),
            13 => {
                let _ = self.client.reconnect_delay(u.arbitrary()?);
                if u.ratio(1, 8)? {
                    let _ = self.client.reauthenticate(self.now);
                }
            }
            14 => {
                // Restart from a snapshot, as after a crash with a durable store.
                if u.ratio(1, 4)? && self.client.state() == ConnectionState::Disconnected {
                    self.drain();
                    let snapshot = self.client.snapshot();
                    // A new client: its request numbering starts over past the stored ones.
                    self.requests = Requests {
                        open: snapshot.outgoing.iter().map(|p| p.id).collect(),
                        done: BTreeSet::new(),
                    };
                    if let Some(store) = self.store.as_mut() {
                        store.outgoing = snapshot
                            .outgoing
                            .iter()
                            .map(|p| (p.id, p.packet_id, p.released))
                            .collect();
                        store.incoming_qos2 = snapshot.incoming_qos2.iter().copied().collect();
                        store.subscriptions = snapshot
                            .subscriptions
                            .iter()
                            .map(|s| (s.filter.clone(), s.clone()))
                            .collect();
                    }
                    self.client = Client::restore(self.options.clone(), snapshot);
                    self.wire.clear();
                    self.saw_connect = false;
                }
            }
            15 => self.acknowledge(u)?,
            _ => self.drain(),
        }
        Ok(())
    }

    /// Acknowledges a delivered message, or any token; once only.
    fn acknowledge(&mut self, u: &mut Unstructured) -> Result<()> {
        let token = if !self.delivered.is_empty() && u.ratio(3, 4)? {
            *u.choose(&self.delivered)?
        } else {
            AckToken {
                qos: qos(u)?,
                packet_id: u.arbitrary()?,
            }
        };
        if self.client.acknowledge(self.now, token).is_ok() {
            let again = self.client.acknowledge(self.now, token);
            assert_eq!(
                again,
                Err(AckError::NotPending),
                "{token:?} acknowledged twice"
            );
        }
        Ok(())
    }

    /// A zero timeout can make the next step due at once (PINGREQ, then no
    /// PINGRESP within zero seconds), but calls at one instant must settle.
    fn handle_timeout(&mut self) {
        for _ in 0..4 {
            self.client.handle_timeout(self.now);
            if self.client.poll_timeout().is_none_or(|t| t > self.now) {
                return;
            }
        }
        panic!(
            "deadline still due after four handle_timeout calls at {:?}",
            self.now
        );
    }

    /// Feeds `bytes` in chunks, through either input path.
    fn feed(&mut self, u: &mut Unstructured, mut bytes: &[u8]) -> Result<()> {
        let parts = u.int_in_range(1..=3)?;
        for i in 0..parts {
            let take = if i + 1 == parts {
                bytes.len()
            } else {
                u.int_in_range(0..=bytes.len())?
            };
            let (chunk, rest) = bytes.split_at(take);
            bytes = rest;
            if u.arbitrary()? {
                self.client.handle_bytes(self.now, chunk);
            } else {
                self.client.receive_buffer().extend_from_slice(chunk);
                self.client.handle_received(self.now, chunk.len());
            }
            let limit = self.options.maximum_packet_size.unwrap_or(MAX_PACKET_SIZE) as usize;
            let held = self.client.receive_buffer().len();
            assert!(
                held < limit.max(5),
                "read buffer holds {held} bytes, limit {limit}"
            );
        }
        Ok(())
    }

    fn pid(u: &mut Unstructured, known: &[u16]) -> Result<u16> {
        if !known.is_empty() && u.ratio(3, 4)? {
            Ok(*u.choose(known)?)
        } else {
            Ok(u.arbitrary::<u16>()?.max(1))
        }
    }

    /// A packet a broker could send, aimed at the client's state.
    fn broker_packet(&mut self, u: &mut Unstructured) -> Result<Packet> {
        let cid = Self::pid(u, &self.client_ids)?;
        Ok(match u.int_in_range(0..=11)? {
            0 | 1 => {
                let mut c = ConnAck {
                    session_present: u.ratio(1, 3)?,
                    reason_code: if u.ratio(7, 8)? {
                        ReasonCode::Success
                    } else {
                        reason_code(u)?
                    },
                    ..Default::default()
                };
                let p = &mut c.properties;
                if u.arbitrary()? {
                    p.receive_maximum = Some(small_u16(u)?.max(1));
                }
                if u.ratio(1, 4)? {
                    p.maximum_qos = Some(if u.arbitrary()? {
                        QoS::AtMostOnce
                    } else {
                        QoS::AtLeastOnce
                    });
                }
                if u.ratio(1, 4)? {
                    p.retain_available = Some(u.arbitrary()?);
                }
                if u.ratio(1, 4)? {
                    // Not below 16: a broker that cannot take a PINGREQ or DISCONNECT is no test.
                    p.maximum_packet_size = Some(u.int_in_range(16..=96)?);
                }
                if u.arbitrary()? {
                    p.topic_alias_maximum = Some(small_u16(u)?);
                }
                if u.ratio(1, 4)? {
                    p.server_keep_alive = Some(small_u16(u)?);
                }
                if u.ratio(1, 4)? {
                    p.session_expiry_interval = Some(u.arbitrary()?);
                }
                if u.ratio(1, 8)? {
                    p.assigned_client_identifier = Some(topic(u)?);
                }
                if u.ratio(1, 8)? {
                    p.wildcard_subscription_available = Some(u.arbitrary()?);
                    p.subscription_identifier_available = Some(u.arbitrary()?);
                    p.shared_subscription_available = Some(u.arbitrary()?);
                }
                if u.ratio(1, 4)? {
                    p.authentication_method = Some(if u.arbitrary()? {
                        "SCRAM-SHA-256".into()
                    } else {
                        "FUZZ".into()
                    });
                    p.authentication_data = Some(Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?));
                }
                Packet::ConnAck(c)
            }
            2 | 3 => {
                let mut p =
                    Publish::new(topic(u)?, Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?));
                p.qos = qos(u)?;
                p.dup = u.arbitrary()?;
                p.retain = u.arbitrary()?;
                if p.qos != QoS::AtMostOnce {
                    p.packet_id = u.int_in_range(1..=4)?;
                    self.server_ids.push(p.packet_id);
                }
                if u.ratio(1, 3)? {
                    p.properties.topic_alias = Some(small_u16(u)?);
                    if u.arbitrary()? {
                        p.topic = MqttString::new();
                    }
                }
                if u.ratio(1, 4)? {
                    p.properties
                        .subscription_identifiers
                        .push(u.int_in_range(1..=3)?);
                }
                Packet::Publish(p)
            }
            4 => Packet::PubAck(PubAck {
                reason_code: mostly_success(u)?,
                ..PubAck::new(cid)
            }),
            5 => Packet::PubRec(PubRec {
                reason_code: mostly_success(u)?,
                ..PubRec::new(cid)
            }),
            6 => Packet::PubComp(PubComp {
                reason_code: mostly_success(u)?,
                ..PubComp::new(cid)
            }),
            7 => Packet::PubRel(PubRel {
                reason_code: mostly_success(u)?,
                ..PubRel::new(Self::pid(u, &self.server_ids)?)
            }),
            8 => {
                let mut codes = Vec::new();
                for _ in 0..u.int_in_range(1..=3)? {
                    codes.push(if u.ratio(3, 4)? {
                        ReasonCode::GrantedQoS1
                    } else {
                        reason_code(u)?
                    });
                }
                if u.arbitrary()? {
                    Packet::SubAck(SubAck {
                        packet_id: cid,
                        properties: Default::default(),
                        reason_codes: codes,
                    })
                } else {
                    Packet::UnsubAck(UnsubAck {
                        packet_id: cid,
                        properties: Default::default(),
                        reason_codes: codes.into_iter().map(|_| ReasonCode::Success).collect(),
                    })
                }
            }
            9 => Packet::PingResp,
            10 => Packet::Disconnect(Disconnect::new(reason_code(u)?)),
            _ => {
                let mut a = Auth {
                    reason_code: match u.int_in_range(0..=3)? {
                        0 => ReasonCode::Success,
                        1 => ReasonCode::ReAuthenticate,
                        _ => ReasonCode::ContinueAuthentication,
                    },
                    ..Default::default()
                };
                a.properties.authentication_method = Some(if u.arbitrary()? {
                    "SCRAM-SHA-256".into()
                } else {
                    "FUZZ".into()
                });
                a.properties.authentication_data =
                    Some(Bytes::copy_from_slice(if u.arbitrary()? {
                        b"r=fuzz-nonce-and-server,s=c2FsdA==,i=2".as_slice()
                    } else {
                        u.arbitrary::<&[u8]>()?
                    }));
                Packet::Auth(a)
            }
        })
    }

    /// Pulls everything out of the client and checks it.
    fn drain(&mut self) {
        for _ in 0..100_000 {
            let Some(bytes) = self.client.poll_transmit() else {
                break;
            };
            self.wire.extend_from_slice(&bytes);
        }
        self.check_wire();
        for _ in 0..100_000 {
            let Some(update) = self.client.poll_store_update() else {
                break;
            };
            if std::env::var_os("FUZZ_TRACE").is_some() {
                eprintln!("  store {update:?}");
            }
            if let Some(store) = self.store.as_mut() {
                store.apply(update);
            }
        }
        if let Some(store) = self.store.as_ref() {
            store.check(&self.client);
        }
        for _ in 0..100_000 {
            let Some(event) = self.client.poll_event() else {
                break;
            };
            if std::env::var_os("FUZZ_TRACE").is_some() {
                eprintln!("  event {event:?}");
            }
            match event {
                Event::Published { id, .. }
                | Event::Subscribed { id, .. }
                | Event::Unsubscribed { id, .. } => {
                    self.requests.complete(id);
                }
                Event::Message(message) => {
                    self.delivered.extend(AckToken::of(&message));
                    if self.delivered.len() > 16 {
                        self.delivered.remove(0);
                    }
                }
                _ => {}
            }
        }
    }

    /// What the client wrote must be what a broker can read.
    fn check_wire(&mut self) {
        let decoder = Decoder::new(self.wire_version);
        let server_max = self
            .client
            .server_capabilities()
            .maximum_packet_size
            .unwrap_or(MAX_PACKET_SIZE) as usize;
        for _ in 0..100_000 {
            let before = self.wire.len();
            let packet = match decoder.decode(&mut self.wire) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => panic!("the client wrote bytes a broker cannot decode: {e}"),
            };
            let len = before - self.wire.len();
            match &packet {
                Packet::Connect(_) => self.saw_connect = true,
                _ => {
                    assert!(
                        self.saw_connect,
                        "{:?} before CONNECT",
                        packet.packet_type()
                    );
                    assert!(
                        len <= server_max,
                        "{:?} of {len} bytes, the broker's maximum is {server_max}",
                        packet.packet_type()
                    );
                }
            }
            let id = match &packet {
                Packet::Publish(p) if p.qos != QoS::AtMostOnce => p.packet_id,
                Packet::Subscribe(s) => s.packet_id,
                Packet::Unsubscribe(s) => s.packet_id,
                Packet::PubRel(r) => r.packet_id,
                _ => 0,
            };
            if id != 0 && !self.client_ids.contains(&id) {
                self.client_ids.push(id);
                if self.client_ids.len() > 16 {
                    self.client_ids.remove(0);
                }
            }
        }
        self.server_ids.truncate(16);
    }

    fn check(&mut self, in_flight_before: usize) {
        let in_flight = self.client.in_flight();
        let receive_maximum = usize::from(self.client.server_capabilities().receive_maximum);
        if in_flight > in_flight_before {
            assert!(
                in_flight <= receive_maximum,
                "{in_flight} in flight, the broker's Receive Maximum is {receive_maximum}"
            );
        }
        self.max_in_flight_seen = self.max_in_flight_seen.max(in_flight);
        let queued = self.client.queued();
        assert!(
            queued <= self.options.max_queued_messages + self.max_in_flight_seen,
            "{queued} queued, maximum {} (+{} put back)",
            self.options.max_queued_messages,
            self.max_in_flight_seen
        );
    }
}
