//! The end-to-end scenario list, written once and run through every adapter.
//!
//! # Shape
//!
//! * [`TestClient`] is the client as a scenario sees it: connect with a URL
//!   and [`ClientOptions`], publish ([`mq_proto::Publish`] in, the broker's
//!   [`ReasonCode`] out), subscribe (a [`Subscribe`] packet in, a
//!   [`Messages`] stream and the granted codes out), unsubscribe, request,
//!   connection [`Events`], disconnect, and a few read-only accessors. Errors
//!   and events are mapped into the adapter-neutral [`ClientError`] and
//!   [`TestEvent`]; messages, options, capabilities and statistics are
//!   mq-proto's own types, which every adapter shares.
//! * Every method **blocks** until its outcome is known, every wait takes a
//!   timeout. An async adapter implements the trait with its runtime's
//!   `block_on` (mq-tokio: `Handle::block_on` on a shared multi-thread
//!   runtime, so the driver task keeps running on the workers); the blocking
//!   adapter implements it directly. Blocking scenarios need no executor of
//!   their own, call the harness (`Broker::kill`, `pause`) without care, and
//!   get concurrency from `std::thread::scope`.
//! * Each scenario is a function generic over the client,
//!   `fn name<C: TestClient>(...)`, that starts its own [`Broker`] with the
//!   configuration it needs and panics with a precise message when the client
//!   misbehaves. Payloads, counts and reason codes are asserted exactly.
//! * [`scenario_tests!`](crate::scenario_tests) expands to one `#[test]` per
//!   scenario and protocol version for a client type, so every adapter runs
//!   the same list:
//!
//! ```ignore
//! // tests/tests/<adapter>_scenarios.rs
//! struct MyClient { /* the adapter's handle */ }
//! impl mq_e2e::scenarios::TestClient for MyClient { /* ... */ }
//! mq_e2e::scenario_tests!(MyClient);
//! ```
//!
//! Every loop in a scenario is bounded in count and time ([`WAIT`] for what
//! must arrive, [`SILENCE`] to be sure that nothing does), and every socket
//! is on 127.0.0.1.

// `DisconnectReason` carries a whole CONNACK; test errors and events are
// neither hot nor numerous.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

mod drift;
mod proxy;
mod stalled;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
pub use drift::{handles_dropped_while_subscribed, hanging_connector};
pub use mq_proto::client::{
    Backoff, CommandError, DisconnectReason, Options, RequestError, ServerCapabilities, Stats,
    TopicAliasPolicy,
};
use mq_proto::topic::TopicError;
use mq_proto::url::UrlError;
pub use mq_proto::{
    MqttString, PayloadFormat, Properties, ProtocolVersion, Publish, QoS, ReasonCode,
    RetainHandling, Subscribe, SubscribeFilter, SubscriptionOptions, Will,
};
pub use proxy::Proxy;
pub use stalled::stalled_broker;

use crate::{Broker, BrokerConfig};

/// A received message (topic resolved from any alias, 5.0 properties included).
pub type Message = Publish;

/// How long a scenario waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a scenario listens to be sure that something does not happen.
pub const SILENCE: Duration = Duration::from_millis(400);

/// MQTT 3.1.1, for the version argument of scenarios.
pub const V311: ProtocolVersion = ProtocolVersion::V311;
/// MQTT 5.0, for the version argument of scenarios.
pub const V5: ProtocolVersion = ProtocolVersion::V5;

/// What a scenario sets when it connects: the core's protocol options plus
/// the one driver setting every adapter has.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Protocol options of the sans-IO core, shared by every adapter.
    pub mqtt: Options,
    /// Reconnect with backoff after the connection is lost.
    pub auto_reconnect: bool,
    /// More broker URLs to fail over to, in turn, after the one `connect` is given.
    pub failover: Vec<String>,
}

impl ClientOptions {
    /// Test defaults: `version` pinned (no 5.0 → 3.1.1 fallback), clean
    /// start, connect timeout 5 s, reconnect backoff 100 ms doubling to 1 s.
    pub fn new(version: ProtocolVersion, client_id: &str) -> Self {
        let mut mqtt = Options::new(client_id);
        mqtt.protocol_version = version;
        mqtt.protocol_fallback = false;
        mqtt.connect_timeout = Duration::from_secs(5);
        mqtt.backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter_percent: 20,
            stable_after: Duration::from_secs(30),
        };
        ClientOptions {
            mqtt,
            auto_reconnect: true,
            failover: Vec::new(),
        }
    }

    /// A session the broker keeps for an hour after the connection ends.
    ///
    /// `resume` false starts afresh; true resumes what an earlier client with
    /// the same identifier left. (3.1.1 has no expiry: its session is
    /// persistent only with Clean Session 0, so it never starts clean here;
    /// the scenarios use fresh brokers.)
    pub fn persistent(version: ProtocolVersion, client_id: &str, resume: bool) -> Self {
        let mut o = ClientOptions::new(version, client_id);
        o.mqtt.session_expiry_interval = 3600;
        o.mqtt.clean_start = !resume && version == ProtocolVersion::V5;
        o
    }
}

/// An adapter's error, mapped into the kinds every adapter shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The broker URL was not understood.
    Url(UrlError),
    /// The transport failed (the kind of the I/O error).
    Io(std::io::ErrorKind),
    /// The first connection failed: refused, timed out, closed.
    Connect(DisconnectReason),
    /// The client refused the command at once.
    Command(CommandError),
    /// The broker or the connection failed an accepted command.
    Request(RequestError),
    /// The broker refused every filter of a subscribe.
    SubscribeRefused(Vec<ReasonCode>),
    /// The client has stopped.
    Closed,
    /// No answer in time.
    Timeout,
    /// Anything else, as text.
    Other(String),
}

/// An adapter's connection event, mapped into the kinds every adapter shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestEvent {
    /// CONNACK accepted a connection.
    Connected {
        /// Whether the broker resumed the session.
        session_present: bool,
    },
    /// The connection ended, and why.
    ConnectionLost(DisconnectReason),
    /// A reconnect attempt follows after `delay`.
    Reconnecting {
        /// The backoff delay.
        delay: Duration,
    },
    /// Subscriptions made again after the broker lost the session.
    Resubscribed(Vec<(MqttString, ReasonCode)>),
    /// Anything else, as text.
    Other(String),
}

/// A stream of received messages (one subscription, or the unrouted ones).
pub trait Messages: Send {
    /// The next message, waiting at most `timeout`; `None` on timeout or once
    /// the stream has ended (after an unsubscribe or when the client stopped).
    fn recv_timeout(&mut self, timeout: Duration) -> Option<Message>;
}

/// A stream of connection events, from the moment it was taken.
pub trait Events: Send {
    /// The next event, waiting at most `timeout`; `None` on timeout.
    fn recv_timeout(&mut self, timeout: Duration) -> Option<TestEvent>;
}

/// A connected client as the scenarios drive it. Every method blocks until
/// its outcome is known; see the [module documentation](self).
pub trait TestClient: Sized + Send + Sync + 'static {
    /// A subscription's messages.
    type Messages: Messages;
    /// Connection events.
    type Events: Events;

    /// Connects and returns once the first CONNACK accepted the connection.
    fn connect(url: &str, options: ClientOptions) -> Result<Self, ClientError>;
    /// Connects through a connector of the test's own: its first `working`
    /// calls open TCP to `addr`, every later call never completes (a
    /// blocking connector sleeps a minute, then fails).
    fn connect_hanging(
        addr: SocketAddr,
        working: usize,
        options: ClientOptions,
    ) -> Result<Self, ClientError>;
    /// Publishes `publish` (topic, payload, QoS, retain, properties) and waits
    /// for the acknowledgment: QoS 0 when written, QoS 1 PUBACK, QoS 2 PUBCOMP.
    fn publish(&self, publish: Publish) -> Result<ReasonCode, ClientError>;
    /// Hands every message to the client at once, then waits for all of their
    /// acknowledgments (so many are in flight together); results in order.
    fn publish_all(&self, publishes: Vec<Publish>) -> Vec<Result<ReasonCode, ClientError>>;
    /// Subscribes with `packet` (filters with options, Subscription
    /// Identifier, User Properties); every filter's messages arrive on the
    /// returned stream. Returns the broker's code per filter.
    fn subscribe(
        &self,
        packet: Subscribe,
    ) -> Result<(Self::Messages, Vec<ReasonCode>), ClientError>;
    /// Unsubscribes; the streams of these filters end. Codes per filter (empty on 3.1.1).
    fn unsubscribe(&self, filters: &[&str]) -> Result<Vec<ReasonCode>, ClientError>;
    /// Messages that no subscription stream of this client claims (for
    /// example those of a resumed session).
    fn unrouted(&self) -> Result<Self::Messages, ClientError>;
    /// Request/response (5.0): publishes with a Response Topic and
    /// Correlation Data and waits up to `timeout` for the reply.
    fn request(
        &self,
        topic: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Message, ClientError>;
    /// Connection events from now on.
    fn events(&self) -> Self::Events;
    /// Sends DISCONNECT and stops the client, also while it is reconnecting.
    fn disconnect(&self) -> Result<(), ClientError>;
    /// Whether a connection is up now.
    fn is_connected(&self) -> bool;
    /// Whether the client has stopped for good.
    fn is_closed(&self) -> bool;
    /// The broker's capabilities from the last CONNACK.
    fn server_capabilities(&self) -> ServerCapabilities;
    /// The protocol version in use.
    fn protocol_version(&self) -> ProtocolVersion;
    /// The core's counters.
    fn stats(&self) -> Stats;
    /// QoS 1/2 publishes sent and not yet acknowledged.
    fn in_flight(&self) -> usize;
}

/// Expands to one `#[test]` per scenario (and protocol version) for the
/// client type `$client`, which implements [`TestClient`](crate::scenarios::TestClient),
/// against Mosquitto or against the [`BrokerKind`](crate::BrokerKind) named
/// second (`scenario_tests!(MyClient, Aedes)`). This list is the suite: every
/// adapter's test file invokes it once for Mosquitto.
///
/// Each entry names the [`Feature`](crate::Feature)s its scenario needs
/// besides its protocol version (the version argument, or 5.0 without one);
/// against a broker that [lacks](crate::BrokerKind::lacks) one, the test
/// prints why and passes without running. A further test,
/// `skipped_scenarios`, prints the whole skip list of the broker.
#[macro_export]
macro_rules! scenario_tests {
    ($client:ty) => {
        $crate::scenario_tests!($client, Mosquitto);
    };
    ($client:ty, $kind:ident) => {
        $crate::scenario_tests!(@each $client, $kind;
            pubsub_each_qos_v311 => pubsub_each_qos(V311) [MinimumQoS],
            pubsub_each_qos_v5 => pubsub_each_qos(V5) [MinimumQoS],
            wildcards_v311 => wildcards(V311) [OneCopyPerClient],
            wildcards_v5 => wildcards(V5) [OneCopyPerClient],
            retained_messages_v311 => retained_messages(V311) [Retained, MinimumQoS],
            retained_messages_v5 => retained_messages(V5) [Retained, MinimumQoS, NoMatchingSubscribers],
            will_message_v311 => will_message(V311) [Will, MinimumQoS],
            will_message_v5 => will_message(V5) [Will, MinimumQoS, MessageProperties],
            unsubscribe_v311 => unsubscribe(V311) [UnsubAckAlways],
            unsubscribe_v5 => unsubscribe(V5) [UnsubAckAlways],
            session_resume_v311 => session_resume(V311) [SessionResume],
            session_resume_v5 => session_resume(V5) [SessionResume],
            session_expiry_v5 => session_expiry() [SessionExpiry],
            broker_restart_v311 => broker_restart(V311) [Persistence, SessionResume],
            broker_restart_v5 => broker_restart(V5) [Persistence, SessionResume],
            keep_alive_paused_broker_v311 => keep_alive_paused_broker(V311) [],
            keep_alive_paused_broker_v5 => keep_alive_paused_broker(V5) [],
            limit_max_packet_size_v5 => limit_max_packet_size() [Settings],
            limit_max_inflight_v311 => limit_max_inflight(V311) [Settings],
            limit_max_inflight_v5 => limit_max_inflight(V5) [Settings],
            limit_max_topic_alias_v5 => limit_max_topic_alias() [Settings, TopicAliases],
            topic_aliases_v5 => topic_aliases() [TopicAliases],
            subscription_identifiers_v5 => subscription_identifiers() [SubscriptionIdentifiers],
            shared_subscriptions_v311 => shared_subscriptions(V311) [SharedSubscriptions],
            shared_subscriptions_v5 => shared_subscriptions(V5) [SharedSubscriptions],
            subscription_options_v5 => subscription_options() [SubscriptionOptions, Retained],
            request_response_v5 => request_response() [RequestResponse],
            user_properties_v5 => user_properties() [MessageProperties],
            disconnect_while_reconnecting_v311 => disconnect_while_reconnecting(V311) [],
            disconnect_while_reconnecting_v5 => disconnect_while_reconnecting(V5) [],
            typed_errors_v5 => typed_errors() [Settings, NoMatchingSubscribers],
            stalled_broker_v311 => stalled_broker(V311) [],
            stalled_broker_v5 => stalled_broker(V5) [],
            handles_dropped_while_subscribed_v311 => handles_dropped_while_subscribed(V311) [],
            handles_dropped_while_subscribed_v5 => handles_dropped_while_subscribed(V5) [],
            hanging_connector_v311 => hanging_connector(V311) [],
            hanging_connector_v5 => hanging_connector(V5) [],
        );
    };
    (@each $client:ty, $kind:ident;
        $($name:ident => $scenario:ident($($arg:ident)?) [$($feature:ident),*]),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::run_scenario(
                    $crate::BrokerKind::$kind,
                    stringify!($name),
                    $crate::version_of(&[$($crate::scenarios::$arg)?]),
                    &[$($crate::Feature::$feature),*],
                    || $crate::scenarios::$scenario::<$client>($($crate::scenarios::$arg)?),
                );
            }
        )*

        #[test]
        fn skipped_scenarios() {
            $crate::check_skip_list(
                $crate::BrokerKind::$kind,
                &[$((
                    stringify!($name),
                    $crate::version_of(&[$($crate::scenarios::$arg)?]),
                    &[$($crate::Feature::$feature),*],
                )),*],
            );
        }
    };
}

// ---------------------------------------------------------------------------
// Helpers: every wait bounded, every failure says what was expected.

/// A message to `topic` with `payload` at `qos`.
pub fn message(topic: &str, payload: impl Into<Bytes>, qos: QoS) -> Publish {
    let mut p = Publish::new(topic, payload);
    p.qos = qos;
    p
}

/// A SUBSCRIBE for several filters with their QoS and default options.
pub fn subscribe_packet(filters: &[(&str, QoS)]) -> Subscribe {
    subscribe_with_options(
        &filters
            .iter()
            .map(|&(f, qos)| {
                (
                    f,
                    SubscriptionOptions {
                        qos,
                        ..Default::default()
                    },
                )
            })
            .collect::<Vec<_>>(),
    )
}

/// A SUBSCRIBE for several filters with full options.
pub fn subscribe_with_options(filters: &[(&str, SubscriptionOptions)]) -> Subscribe {
    Subscribe {
        packet_id: 0,
        subscriptions: filters
            .iter()
            .map(|&(f, options)| SubscribeFilter {
                filter: f.into(),
                options,
            })
            .collect(),
        properties: Properties::default(),
    }
}

/// The SUBACK code granting `qos`.
pub fn granted(qos: QoS) -> ReasonCode {
    match qos {
        QoS::AtMostOnce => ReasonCode::Success,
        QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
    }
}

/// The payload as text (lossy), for assertions and messages.
pub fn text(msg: &Message) -> String {
    String::from_utf8_lossy(&msg.payload).into_owned()
}

/// Connects or panics with the error.
pub fn connect<C: TestClient>(url: &str, options: ClientOptions) -> C {
    let id = options.mqtt.client_id.clone();
    C::connect(url, options).unwrap_or_else(|e| panic!("client {id:?}: connect to {url}: {e:?}"))
}

/// Subscribes to one filter, checks the broker granted `qos`, returns the stream.
pub fn subscribe<C: TestClient>(client: &C, filter: &str, qos: QoS) -> C::Messages {
    let (messages, codes) = client
        .subscribe(subscribe_packet(&[(filter, qos)]))
        .unwrap_or_else(|e| panic!("subscribe {filter}: {e:?}"));
    assert_eq!(codes, [granted(qos)], "SUBACK codes for {filter}");
    messages
}

/// Publishes and checks the broker accepted the message: Success, or on 5.0
/// No matching subscribers (a scenario that cares asserts the exact code).
pub fn publish<C: TestClient>(client: &C, topic: &str, payload: &str, qos: QoS) {
    let code = client
        .publish(message(topic, payload.to_string(), qos))
        .unwrap_or_else(|e| panic!("publish {payload:?} to {topic} at {qos:?}: {e:?}"));
    assert!(
        matches!(
            code,
            ReasonCode::Success | ReasonCode::NoMatchingSubscribers
        ),
        "publish {payload:?} to {topic}: {code:?}"
    );
}

/// The next message within [`WAIT`]; panics naming `what` otherwise.
pub fn expect_message(messages: &mut impl Messages, what: &str) -> Message {
    messages
        .recv_timeout(WAIT)
        .unwrap_or_else(|| panic!("no message within {WAIT:?}; expected {what}"))
}

/// The next `n` messages, each within [`WAIT`].
pub fn expect_messages(messages: &mut impl Messages, n: usize, what: &str) -> Vec<Message> {
    (0..n)
        .map(|i| expect_message(messages, &format!("{what} (message {} of {n})", i + 1)))
        .collect()
}

/// Checks that nothing arrives for [`SILENCE`].
pub fn expect_silence(messages: &mut impl Messages, what: &str) {
    if let Some(msg) = messages.recv_timeout(SILENCE) {
        panic!(
            "unexpected message ({what}): {} {:?} {msg:?}",
            msg.topic,
            text(&msg)
        );
    }
}

/// Waits up to `timeout` for an event `accept` takes; returns it and how long it took.
pub fn expect_event(
    events: &mut impl Events,
    timeout: Duration,
    what: &str,
    accept: impl Fn(&TestEvent) -> bool,
) -> (TestEvent, Duration) {
    let start = Instant::now();
    let mut seen = Vec::new();
    // At least one look, even with a zero timeout (for events already queued).
    while seen.len() < 1000 {
        let left = timeout.saturating_sub(start.elapsed());
        match events.recv_timeout(left) {
            Some(event) if accept(&event) => return (event, start.elapsed()),
            Some(event) => seen.push(event),
            None => break,
        }
    }
    panic!("no {what} event within {timeout:?}; saw {seen:?}");
}

/// `(topic, payload, qos, retain)` of each message, for whole-list assertions.
fn summary(messages: &[Message]) -> Vec<(String, String, QoS, bool)> {
    messages
        .iter()
        .map(|m| (m.topic.to_string(), text(m), m.qos, m.retain))
        .collect()
}

/// A loopback port nothing listens on (bound, read, released).
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"))
}

// ---------------------------------------------------------------------------
// Scenarios.

/// Every publish QoS against every subscription QoS: the message arrives once,
/// at the lower of the two, with its exact payload; plus an empty and a
/// 100 KiB binary payload.
pub fn pubsub_each_qos<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let sub: C = connect(&broker.url(), ClientOptions::new(version, "pubsub-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(version, "pubsub-pub"));
    assert_eq!(sub.protocol_version(), version);
    assert!(sub.is_connected());

    let levels = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    let (mut messages, codes) = sub
        .subscribe(subscribe_packet(&[
            ("q/0", QoS::AtMostOnce),
            ("q/1", QoS::AtLeastOnce),
            ("q/2", QoS::ExactlyOnce),
        ]))
        .expect("subscribe");
    assert_eq!(codes, levels.map(granted));

    for sub_qos in levels {
        for pub_qos in levels {
            let topic = format!("q/{}", sub_qos as u8);
            let payload = format!("published at {pub_qos:?} to {sub_qos:?}");
            publish(&publ, &topic, &payload, pub_qos);
            let got = expect_message(&mut messages, &payload);
            assert_eq!(
                summary(&[got]),
                [(topic, payload, pub_qos.min(sub_qos), false)]
            );
        }
    }

    let big: Bytes = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    for payload in [Bytes::new(), big] {
        let code = publ
            .publish(message("q/2", payload.clone(), QoS::ExactlyOnce))
            .expect("publish");
        assert_eq!(code, ReasonCode::Success);
        let got = expect_message(&mut messages, "an empty or a large payload");
        assert_eq!(got.payload.len(), payload.len());
        assert!(
            got.payload == payload,
            "payload of {} bytes differs",
            payload.len()
        );
        assert_eq!(got.qos, QoS::ExactlyOnce);
    }
    expect_silence(&mut messages, "every message was delivered once");

    sub.disconnect().expect("disconnect");
    publ.disconnect().expect("disconnect");
    assert!(sub.is_closed() && !sub.is_connected());
}

/// `+` and `#` filters, including `#` matching its parent level and empty
/// levels; three overlapping subscriptions of one client each get exactly
/// their own messages, once.
pub fn wildcards<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let sub: C = connect(&broker.url(), ClientOptions::new(version, "wild-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(version, "wild-pub"));
    let filters = ["w/+/temp", "w/#", "w/+/+/x"];
    let mut streams: Vec<C::Messages> = filters
        .iter()
        .map(|f| subscribe(&sub, f, QoS::AtLeastOnce))
        .collect();
    let topics = [
        "w",
        "w/a/temp",
        "w/b/temp",
        "w/a/hum",
        "w/a/b/temp",
        "w/a/b/x",
        "x/a/temp",
        "w//temp",
        "w/a/temp/x",
    ];
    for topic in topics {
        publish(&publ, topic, topic, QoS::AtLeastOnce);
    }
    let expected: [&[&str]; 3] = [
        &["w/a/temp", "w/b/temp", "w//temp"],
        &[
            "w",
            "w/a/temp",
            "w/b/temp",
            "w/a/hum",
            "w/a/b/temp",
            "w/a/b/x",
            "w//temp",
            "w/a/temp/x",
        ],
        &["w/a/b/x", "w/a/temp/x"],
    ];
    for ((filter, stream), want) in filters.iter().zip(&mut streams).zip(expected) {
        let got = expect_messages(stream, want.len(), filter);
        let got: Vec<(String, String)> =
            got.iter().map(|m| (m.topic.to_string(), text(m))).collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|t| (t.to_string(), t.to_string()))
            .collect();
        assert_eq!(got, want, "messages for {filter}");
        expect_silence(stream, &format!("{filter} got every message once"));
    }
}

/// Retained messages reach new subscribers with the retain flag, live ones
/// arrive without it, and an empty retained message clears the topic.
pub fn retained_messages<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let publ: C = connect(&broker.url(), ClientOptions::new(version, "ret-pub"));
    let retained = |topic: &str, payload: &str, subscribed: bool| {
        let mut m = message(topic, payload.to_string(), QoS::AtLeastOnce);
        m.retain = true;
        let code = match (subscribed, version) {
            (false, ProtocolVersion::V5) => ReasonCode::NoMatchingSubscribers,
            _ => ReasonCode::Success,
        };
        assert_eq!(publ.publish(m), Ok(code), "retain {topic}");
    };
    retained("r/a", "A", false);
    retained("r/b", "B", false);
    let mut c = message("r/c", "not retained", QoS::AtLeastOnce);
    c.retain = false;
    assert!(publ.publish(c).is_ok());

    let first: C = connect(&broker.url(), ClientOptions::new(version, "ret-sub-1"));
    let mut m1 = subscribe(&first, "r/#", QoS::AtLeastOnce);
    let mut got = expect_messages(&mut m1, 2, "the two retained messages");
    got.sort_by(|a, b| a.topic.cmp(&b.topic));
    assert_eq!(
        summary(&got),
        [
            ("r/a".into(), "A".into(), QoS::AtLeastOnce, true),
            ("r/b".into(), "B".into(), QoS::AtLeastOnce, true),
        ]
    );
    expect_silence(&mut m1, "only retained messages at subscribe time");

    retained("r/a", "A2", true);
    retained("r/b", "", true);
    let live = expect_messages(&mut m1, 2, "live copies of the retained publishes");
    assert_eq!(
        summary(&live),
        [
            ("r/a".into(), "A2".into(), QoS::AtLeastOnce, false),
            ("r/b".into(), "".into(), QoS::AtLeastOnce, false),
        ]
    );

    let second: C = connect(&broker.url(), ClientOptions::new(version, "ret-sub-2"));
    let mut m2 = subscribe(&second, "r/#", QoS::ExactlyOnce);
    let got = expect_message(&mut m2, "the remaining retained message");
    assert_eq!(
        summary(&[got]),
        [("r/a".into(), "A2".into(), QoS::AtLeastOnce, true)]
    );
    expect_silence(&mut m2, "r/b was cleared");
}

/// A client whose connection is cut (through a [`Proxy`]) has its will
/// published to another client; a client that disconnects normally does not.
pub fn will_message<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let proxy = Proxy::start(broker.addr());
    let watcher: C = connect(&broker.url(), ClientOptions::new(version, "will-watcher"));
    let mut wills = subscribe(&watcher, "will/#", QoS::ExactlyOnce);

    let will_of = |id: &str| {
        let mut properties = Properties::default();
        if version == ProtocolVersion::V5 {
            properties.user_properties = vec![
                ("reason".into(), "link cut".into()),
                ("client".into(), id.into()),
            ];
            properties.content_type = Some("text/plain".into());
        }
        Will {
            topic: format!("will/{id}").into(),
            payload: Bytes::from(format!("{id} is gone")),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties,
        }
    };

    let mut opts = ClientOptions::new(version, "will-cut");
    opts.mqtt.will = Some(will_of("will-cut"));
    opts.auto_reconnect = false;
    let cut: C = connect(&proxy.url(), opts);
    let mut events = cut.events();
    publish(&cut, "will/alive", "alive", QoS::AtLeastOnce);
    let alive = expect_message(&mut wills, "the proxied client's own message");
    assert_eq!(text(&alive), "alive");

    proxy.cut();
    let will = expect_message(&mut wills, "the will of the cut client");
    assert_eq!(
        summary(std::slice::from_ref(&will)),
        [(
            "will/will-cut".into(),
            "will-cut is gone".into(),
            QoS::AtLeastOnce,
            false
        )]
    );
    if version == ProtocolVersion::V5 {
        assert_eq!(
            will.properties.user_properties,
            will_of("will-cut").properties.user_properties
        );
        assert_eq!(will.properties.content_type.as_deref(), Some("text/plain"));
    }
    expect_event(&mut events, WAIT, "ConnectionLost(TransportClosed)", |e| {
        *e == TestEvent::ConnectionLost(DisconnectReason::TransportClosed)
    });
    let deadline = Instant::now() + WAIT;
    while !cut.is_closed() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(cut.is_closed(), "without auto-reconnect the client stops");
    assert_eq!(
        cut.publish(message("will/x", "x", QoS::AtLeastOnce)),
        Err(ClientError::Closed)
    );

    let mut opts = ClientOptions::new(version, "will-clean");
    opts.mqtt.will = Some(will_of("will-clean"));
    let clean: C = connect(&broker.url(), opts);
    clean.disconnect().expect("disconnect");
    expect_silence(&mut wills, "a normal disconnect discards the will");
}

/// Unsubscribing ends the filter's stream and stops the broker sending it;
/// other subscriptions go on.
pub fn unsubscribe<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let sub: C = connect(&broker.url(), ClientOptions::new(version, "unsub-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(version, "unsub-pub"));
    let mut a = subscribe(&sub, "u/a", QoS::AtLeastOnce);
    let mut b = subscribe(&sub, "u/b", QoS::AtLeastOnce);
    let mut unrouted = sub.unrouted().expect("unrouted stream");
    publish(&publ, "u/a", "a1", QoS::AtLeastOnce);
    publish(&publ, "u/b", "b1", QoS::AtLeastOnce);
    assert_eq!(text(&expect_message(&mut a, "a1")), "a1");
    assert_eq!(text(&expect_message(&mut b, "b1")), "b1");

    let codes = sub.unsubscribe(&["u/a"]).expect("unsubscribe");
    let want: &[ReasonCode] = match version {
        ProtocolVersion::V5 => &[ReasonCode::Success],
        ProtocolVersion::V311 => &[],
    };
    assert_eq!(codes, want);
    let start = Instant::now();
    assert!(a.recv_timeout(WAIT).is_none(), "the stream of u/a ends");
    assert!(
        start.elapsed() < WAIT,
        "the stream of u/a ended, not timed out"
    );

    publish(&publ, "u/a", "a2", QoS::AtLeastOnce);
    publish(&publ, "u/b", "b2", QoS::AtLeastOnce);
    assert_eq!(text(&expect_message(&mut b, "b2")), "b2");
    expect_silence(&mut unrouted, "the broker no longer sends u/a");
    expect_silence(&mut b, "b got its messages once");

    if version == ProtocolVersion::V5 {
        let codes = sub.unsubscribe(&["u/never"]).expect("unsubscribe");
        assert_eq!(codes, [ReasonCode::NoSubscriptionExisted]);
    }
}

/// A persistent session keeps the subscriptions and queues QoS 1 and QoS 2
/// messages published while the client is away; a new client with the same
/// identifier resumes it and gets each exactly once, in order; a clean start
/// throws it away.
pub fn session_resume<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let url = broker.url();
    let first: C = connect(
        &url,
        ClientOptions::persistent(version, "resume-sub", false),
    );
    let (_stream, codes) = first
        .subscribe(subscribe_packet(&[
            ("sess/1", QoS::AtLeastOnce),
            ("sess/2", QoS::ExactlyOnce),
        ]))
        .expect("subscribe");
    assert_eq!(codes, [ReasonCode::GrantedQoS1, ReasonCode::GrantedQoS2]);
    first.disconnect().expect("disconnect");

    let publ: C = connect(&url, ClientOptions::new(version, "resume-pub"));
    let mut expected = Vec::new();
    for i in 0..5 {
        for (topic, qos) in [("sess/1", QoS::AtLeastOnce), ("sess/2", QoS::ExactlyOnce)] {
            let payload = format!("{topic} #{i}");
            publish(&publ, topic, &payload, qos);
            expected.push((topic.to_string(), payload, qos, false));
        }
    }

    let resumed: C = connect(&url, ClientOptions::persistent(version, "resume-sub", true));
    let mut unrouted = resumed.unrouted().expect("unrouted stream");
    let got = expect_messages(&mut unrouted, expected.len(), "the queued messages");
    let mut got = summary(&got);
    if crate::target()
        .kind
        .lacks(crate::Feature::OrderAcrossTopics, version)
        .is_some()
    {
        // In order per topic is what MQTT-4.6.0-6 asks of such a broker.
        got.sort_by(|a, b| a.0.cmp(&b.0));
        expected.sort_by(|a, b| a.0.cmp(&b.0));
    }
    assert_eq!(got, expected, "queued messages, once each, in order");
    expect_silence(&mut unrouted, "no duplicates of queued messages");
    publish(&publ, "sess/2", "live", QoS::ExactlyOnce);
    let live = expect_message(&mut unrouted, "a live message on the resumed subscription");
    assert_eq!(text(&live), "live");
    resumed.disconnect().expect("disconnect");

    publish(
        &publ,
        "sess/1",
        "queued for a session about to be discarded",
        QoS::AtLeastOnce,
    );
    let clean: C = connect(&url, ClientOptions::new(version, "resume-sub"));
    let mut unrouted = clean.unrouted().expect("unrouted stream");
    expect_silence(&mut unrouted, "a clean start discards the queue");
    publish(&publ, "sess/1", "no subscriber", QoS::AtLeastOnce);
    expect_silence(&mut unrouted, "a clean start discards the subscriptions");
}

/// 5.0: a session whose expiry interval has passed is gone, with its queue.
pub fn session_expiry<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new());
    let url = broker.url();
    let short = |resume| {
        let mut o = ClientOptions::persistent(V5, "expiry-sub", resume);
        o.mqtt.session_expiry_interval = 1;
        o
    };
    let first: C = connect(&url, short(false));
    let _stream = subscribe(&first, "exp/t", QoS::AtLeastOnce);
    first.disconnect().expect("disconnect");
    let publ: C = connect(&url, ClientOptions::new(V5, "expiry-pub"));
    publish(&publ, "exp/t", "expires with the session", QoS::AtLeastOnce);
    thread::sleep(Duration::from_millis(3000));

    let again: C = connect(&url, short(true));
    let mut unrouted = again.unrouted().expect("unrouted stream");
    expect_silence(&mut unrouted, "the session expired with its queue");
    publish(&publ, "exp/t", "no subscriber", QoS::AtLeastOnce);
    expect_silence(&mut unrouted, "the subscription expired too");
}

/// A broker with persistence is killed (SIGKILL) and restarted while a
/// publisher keeps publishing QoS 1 and QoS 2 messages in batches: both
/// clients reconnect by themselves and resume their sessions, the
/// publisher resends what was in flight, every publish completes, every
/// message reaches the subscriber, and no QoS 2 message arrives twice.
///
/// The publisher talks through a [`Proxy`] whose replies are blocked for
/// half a second before the kill: the broker has acted on (and written to
/// disk) everything it was sent, while the publisher still has those
/// messages in flight. Killing Mosquitto 2.0 at an arbitrary instant would
/// test Mosquitto instead: it acknowledges before it writes its database,
/// and does not count every QoS 2 state change as a change to write, so
/// after a restart it may resend a QoS 2 PUBLISH whose flow the subscriber
/// had already completed (seen as `d1` resends of PUBCOMP'd ids in its log).
pub fn broker_restart<C: TestClient>(version: ProtocolVersion) {
    const BATCHES: usize = 12;
    const BATCH: usize = 10;
    const TOTAL: usize = BATCHES * BATCH;
    let mut broker = Broker::start(BrokerConfig::new().persistence(true));
    let url = broker.url();
    let proxy = Proxy::start(broker.addr());
    // Mosquitto 2.0 writes to disk only sessions begun without Clean Start.
    let sub: C = connect(
        &url,
        ClientOptions::persistent(version, "restart-sub", true),
    );
    let (mut messages, codes) = sub
        .subscribe(subscribe_packet(&[
            ("rs/1", QoS::AtLeastOnce),
            ("rs/2", QoS::ExactlyOnce),
        ]))
        .expect("subscribe");
    assert_eq!(codes, [ReasonCode::GrantedQoS1, ReasonCode::GrantedQoS2]);
    let publ: C = connect(
        &proxy.url(),
        ClientOptions::persistent(version, "restart-pub", true),
    );
    let mut pub_events = publ.events();
    let mut sub_events = sub.events();

    let qos_of = |i: usize| {
        if i.is_multiple_of(2) {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        }
    };
    let mut got: Vec<Message> = Vec::new();
    let results = thread::scope(|scope| {
        let publisher = scope.spawn(|| {
            let mut results = Vec::new();
            for batch in 0..BATCHES {
                let msgs = (batch * BATCH..(batch + 1) * BATCH)
                    .map(|i| message(&format!("rs/{}", qos_of(i) as u8), i.to_string(), qos_of(i)))
                    .collect();
                results.extend(publ.publish_all(msgs));
                thread::sleep(Duration::from_millis(20));
            }
            results
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut restarted = false;
        let mut in_flight_at_kill = 0;
        let distinct = |got: &[Message]| got.iter().map(text).collect::<BTreeSet<_>>().len();
        while distinct(&got) < TOTAL && Instant::now() < deadline {
            if !restarted && got.len() >= TOTAL / 3 {
                proxy.block_replies(true);
                let quiet = Instant::now() + Duration::from_millis(500);
                while let Some(left) = quiet.checked_duration_since(Instant::now()) {
                    if let Some(m) = messages.recv_timeout(left) {
                        got.push(m);
                    }
                }
                in_flight_at_kill = publ.in_flight();
                broker.kill();
                proxy.block_replies(false);
                thread::sleep(Duration::from_millis(300));
                broker.restart();
                restarted = true;
            }
            if let Some(m) = messages.recv_timeout(Duration::from_millis(100)) {
                got.push(m);
            }
        }
        assert!(restarted, "the broker was restarted mid-stream");
        eprintln!("publisher had {in_flight_at_kill} messages in flight at the kill");
        assert!(in_flight_at_kill > 0, "messages were in flight at the kill");
        publisher.join().expect("publisher thread")
    });
    // Late duplicates, if any, arrive now.
    while let Some(m) = messages.recv_timeout(SILENCE) {
        got.push(m);
        assert!(got.len() < 4 * TOTAL, "endless duplicates");
    }

    assert_eq!(results.len(), TOTAL);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(*r, Ok(ReasonCode::Success), "publish #{i}");
    }
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for m in &got {
        let i: usize = text(m).parse().expect("numeric payload");
        assert_eq!(
            m.topic.as_str(),
            format!("rs/{}", qos_of(i) as u8),
            "topic of #{i}"
        );
        *counts.entry(i).or_default() += 1;
    }
    let missing: Vec<usize> = (0..TOTAL).filter(|i| !counts.contains_key(i)).collect();
    assert!(missing.is_empty(), "messages never delivered: {missing:?}");
    let duplicated_qos2: Vec<usize> = counts
        .iter()
        .filter(|&(&i, &n)| qos_of(i) == QoS::ExactlyOnce && n > 1)
        .map(|(&i, _)| i)
        .collect();
    assert!(
        duplicated_qos2.is_empty(),
        "QoS 2 messages delivered twice: {duplicated_qos2:?}"
    );
    eprintln!(
        "{} messages received for {TOTAL} published ({} QoS 1 duplicates)",
        got.len(),
        got.len() - TOTAL
    );

    for (who, client, events) in [
        ("publisher", &publ, &mut pub_events),
        ("subscriber", &sub, &mut sub_events),
    ] {
        assert!(client.stats().reconnects >= 1, "{who} reconnected");
        expect_event(
            events,
            Duration::ZERO,
            &format!("{who} ConnectionLost"),
            |e| matches!(e, TestEvent::ConnectionLost(_)),
        );
        expect_event(
            events,
            Duration::ZERO,
            &format!("{who} Connected again"),
            |e| {
                *e == TestEvent::Connected {
                    session_present: true,
                }
            },
        );
    }
}

/// Keep alive 2 s: a broker stopped with SIGSTOP is noticed within keep
/// alive + ping timeout, and the client reconnects (resubscribing) once the
/// broker runs again.
pub fn keep_alive_paused_broker<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut opts = ClientOptions::new(version, "ka-client");
    opts.mqtt.keep_alive = 2;
    opts.mqtt.ping_timeout = Some(Duration::from_secs(1));
    opts.mqtt.connect_timeout = Duration::from_secs(2);
    let client: C = connect(&broker.url(), opts);
    let mut messages = subscribe(&client, "ka/t", QoS::AtLeastOnce);
    let mut events = client.events();
    publish(&client, "ka/t", "before", QoS::AtLeastOnce);
    assert_eq!(text(&expect_message(&mut messages, "before")), "before");

    broker.pause();
    let (_, took) = expect_event(
        &mut events,
        Duration::from_secs(8),
        "KeepAliveTimeout",
        |e| *e == TestEvent::ConnectionLost(DisconnectReason::KeepAliveTimeout),
    );
    // Silent for keep alive (2 s) → PINGREQ → no PINGRESP for 1 s.
    assert!(
        took >= Duration::from_millis(1500) && took <= Duration::from_millis(4500),
        "keep alive timeout after {took:?}, expected about 3 s"
    );
    assert!(!client.is_connected());

    broker.resume();
    expect_event(
        &mut events,
        Duration::from_secs(15),
        "Connected after resume",
        |e| matches!(e, TestEvent::Connected { .. }),
    );
    expect_event(&mut events, WAIT, "Resubscribed", |e| {
        *e == TestEvent::Resubscribed(vec![("ka/t".into(), ReasonCode::GrantedQoS1)])
    });
    publish(&client, "ka/t", "after", QoS::AtLeastOnce);
    assert_eq!(text(&expect_message(&mut messages, "after")), "after");
    expect_silence(&mut messages, "one copy each");
}

/// 5.0, broker `max_packet_size 1024`: announced in CONNACK; a larger
/// publish fails locally with PacketTooLarge, and the connection goes on.
pub fn limit_max_packet_size<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new().max_packet_size(1024));
    let client: C = connect(&broker.url(), ClientOptions::new(V5, "mps-client"));
    assert_eq!(client.server_capabilities().maximum_packet_size, Some(1024));
    let mut messages = subscribe(&client, "mps/t", QoS::AtLeastOnce);

    let too_big = message("mps/t", vec![b'x'; 2000], QoS::AtLeastOnce);
    match client.publish(too_big) {
        Err(ClientError::Command(CommandError::PacketTooLarge { size, max: 1024 })) => {
            assert!(size > 2000 && size < 2100, "size {size}")
        }
        other => panic!("expected PacketTooLarge, got {other:?}"),
    }
    let fits = vec![b'y'; 900];
    assert_eq!(
        client.publish(message("mps/t", fits.clone(), QoS::AtLeastOnce)),
        Ok(ReasonCode::Success)
    );
    let got = expect_message(&mut messages, "the message that fits");
    assert_eq!(got.payload, fits);
    assert!(client.is_connected());
    assert_eq!(client.stats().reconnects, 0);
    expect_silence(&mut messages, "the large message was never sent");
}

/// Broker `max_inflight_messages 2` (5.0 Receive Maximum 2): 200 QoS 1 and
/// QoS 2 publishes handed over at once are all delivered, each once, with
/// at most 2 in flight on 5.0.
pub fn limit_max_inflight<C: TestClient>(version: ProtocolVersion) {
    const COUNT: usize = 200;
    let broker = Broker::start(BrokerConfig::new().max_inflight_messages(2));
    let sub: C = connect(&broker.url(), ClientOptions::new(version, "inflight-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(version, "inflight-pub"));
    if version == ProtocolVersion::V5 {
        assert_eq!(publ.server_capabilities().receive_maximum, 2);
    }
    let mut messages = subscribe(&sub, "fc/#", QoS::ExactlyOnce);
    let qos_of = |i: usize| {
        if i.is_multiple_of(2) {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        }
    };
    let msgs: Vec<Publish> = (0..COUNT)
        .map(|i| message(&format!("fc/{}", qos_of(i) as u8), i.to_string(), qos_of(i)))
        .collect();

    let done = AtomicBool::new(false);
    let max_in_flight = AtomicUsize::new(0);
    let results = thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                max_in_flight.fetch_max(publ.in_flight(), Ordering::SeqCst);
                thread::sleep(Duration::from_micros(200));
            }
        });
        let results = match version {
            ProtocolVersion::V5 => publ.publish_all(msgs),
            // 3.1.1 has no Receive Maximum, yet Mosquitto applies
            // max_inflight_messages to incoming messages too and drops the
            // excess with a PUBACK a 3.1.1 client cannot tell from success:
            // the publisher keeps 2 in flight itself; the broker's limit
            // still paces what it sends the subscriber.
            ProtocolVersion::V311 => msgs
                .chunks(2)
                .flat_map(|pair| publ.publish_all(pair.to_vec()))
                .collect(),
        };
        done.store(true, Ordering::SeqCst);
        results
    });
    assert!(
        results.iter().all(|r| *r == Ok(ReasonCode::Success)),
        "{results:?}"
    );
    if version == ProtocolVersion::V5 {
        let max = max_in_flight.load(Ordering::SeqCst);
        assert!(max <= 2, "{max} publishes in flight with Receive Maximum 2");
    }
    let got = expect_messages(&mut messages, COUNT, "every message");
    // Each exactly once, but not in order: Mosquitto 2.0 lets a new message
    // take a freed slot of its own in-flight window (2 here) ahead of those
    // it has queued for the subscriber.
    let mut got = summary(&got);
    got.sort_by_key(|m| m.1.parse::<usize>().unwrap_or(usize::MAX));
    let want: Vec<_> = (0..COUNT)
        .map(|i| {
            (
                format!("fc/{}", qos_of(i) as u8),
                i.to_string(),
                qos_of(i),
                false,
            )
        })
        .collect();
    assert_eq!(got, want);
    expect_silence(&mut messages, "each message once");
}

/// 5.0, broker `max_topic_alias 2`: the client aliases at most 2 topics and
/// reassigns them; 5 topics in turn arrive intact, and aliasing shrinks
/// what goes on the wire.
pub fn limit_max_topic_alias<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new().max_topic_alias(2));
    let sub: C = connect(&broker.url(), ClientOptions::new(V5, "alias-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(V5, "alias-pub"));
    assert_eq!(publ.server_capabilities().topic_alias_maximum, 2);
    let mut messages = subscribe(&sub, "ta/#", QoS::ExactlyOnce);
    let long = "l".repeat(100);
    let topics: Vec<String> = (0..5).map(|i| format!("ta/{long}/{i}")).collect();
    let mut want = Vec::new();
    for round in 0..3 {
        for (i, topic) in topics.iter().enumerate() {
            // Repeat each topic so that a known alias is used, not only new ones.
            for rep in 0..2 {
                let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][(i + rep) % 3];
                let payload = format!("{round}/{i}/{rep}");
                publish(&publ, topic, &payload, qos);
                want.push((topic.clone(), payload, qos, false));
            }
        }
    }
    let got = expect_messages(&mut messages, want.len(), "every aliased message");
    assert_eq!(summary(&got), want);
    expect_silence(&mut messages, "each message once");

    // The same topic 20 times: after the first, only the alias goes out.
    let before = publ.stats().bytes_sent;
    for i in 0..20 {
        publish(&publ, &topics[0], &format!("{i}"), QoS::AtMostOnce);
    }
    let sent = publ.stats().bytes_sent - before;
    assert!(
        sent < 20 * 100 / 2,
        "{sent} bytes for 20 aliased publishes of a 105-byte topic"
    );
    let got = expect_messages(&mut messages, 20, "the repeated topic");
    assert!(got.iter().all(|m| m.topic == topics[0].as_str()));
}

/// 5.0, default broker (Topic Alias Maximum 10): 12 topics in turn, each
/// three times in a row (so aliases are both reused and reassigned), arrive
/// intact; with aliases off, the same traffic costs far more bytes.
pub fn topic_aliases<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new());
    let mut sub_opts = ClientOptions::new(V5, "aliases-sub");
    // Accept aliases from the broker too, should it send any.
    sub_opts.mqtt.topic_alias_maximum = 10;
    let sub: C = connect(&broker.url(), sub_opts);
    let publ: C = connect(&broker.url(), ClientOptions::new(V5, "aliases-pub"));
    let mut off_opts = ClientOptions::new(V5, "aliases-off");
    off_opts.mqtt.topic_alias_policy = TopicAliasPolicy::Off;
    let off: C = connect(&broker.url(), off_opts);
    // Mosquitto announces 10 (so 12 topics reassign aliases), rumqttd 4096;
    // limit_max_topic_alias checks an exact value.
    assert!(publ.server_capabilities().topic_alias_maximum >= 10);
    let mut messages = subscribe(&sub, "al/#", QoS::AtLeastOnce);

    let topics: Vec<String> = (0..12)
        .map(|i| format!("al/{}/{i}", "t".repeat(60)))
        .collect();
    let mut cost = Vec::new();
    for client in [&publ, &off] {
        let before = client.stats().bytes_sent;
        let mut want = Vec::new();
        for round in 0..3 {
            for topic in &topics {
                for rep in 0..3 {
                    let payload = format!("{round}/{rep}");
                    publish(client, topic, &payload, QoS::AtLeastOnce);
                    want.push((topic.clone(), payload, QoS::AtLeastOnce, false));
                }
            }
        }
        cost.push(client.stats().bytes_sent - before);
        let got = expect_messages(&mut messages, want.len(), "every message");
        assert_eq!(summary(&got), want);
    }
    expect_silence(&mut messages, "each message once");
    assert!(
        cost[0] * 10 < cost[1] * 8,
        "aliased {} bytes, unaliased {} bytes",
        cost[0],
        cost[1]
    );
}

/// 5.0: messages carry the Subscription Identifiers of the subscriptions
/// they matched; each stream gets each message once.
pub fn subscription_identifiers<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new());
    let sub: C = connect(&broker.url(), ClientOptions::new(V5, "sid-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(V5, "sid-pub"));
    assert!(sub.server_capabilities().subscription_identifier_available);
    let with_id = |filter: &str, id: u32| {
        let mut packet = subscribe_packet(&[(filter, QoS::AtLeastOnce)]);
        packet.properties.subscription_identifiers = vec![id];
        let (stream, codes) = sub.subscribe(packet).expect("subscribe");
        assert_eq!(codes, [ReasonCode::GrantedQoS1]);
        stream
    };
    let mut a = with_id("sid/a/#", 7);
    let mut x = with_id("sid/+/x", 9);

    publish(&publ, "sid/a/y", "a only", QoS::AtLeastOnce);
    publish(&publ, "sid/b/x", "x only", QoS::AtLeastOnce);
    let got = expect_message(&mut a, "a only");
    assert_eq!(
        (text(&got), got.properties.subscription_identifiers.clone()),
        ("a only".into(), vec![7])
    );
    let got = expect_message(&mut x, "x only");
    assert_eq!(
        (text(&got), got.properties.subscription_identifiers.clone()),
        ("x only".into(), vec![9])
    );

    publish(&publ, "sid/a/x", "both", QoS::AtLeastOnce);
    let from_a = expect_message(&mut a, "both (on sid/a/#)");
    let from_x = expect_message(&mut x, "both (on sid/+/x)");
    for m in [&from_a, &from_x] {
        assert_eq!(text(m), "both");
    }
    let ids: BTreeSet<u32> = from_a
        .properties
        .subscription_identifiers
        .iter()
        .chain(&from_x.properties.subscription_identifiers)
        .copied()
        .collect();
    assert_eq!(ids, BTreeSet::from([7, 9]));
    expect_silence(&mut a, "sid/a/# got each message once");
    expect_silence(&mut x, "sid/+/x got each message once");
}

/// Two members of `$share/g/...` split 100 QoS 1 messages between them:
/// none lost, none twice, both get some.
pub fn shared_subscriptions<C: TestClient>(version: ProtocolVersion) {
    const COUNT: usize = 100;
    let broker = Broker::start(BrokerConfig::new());
    let s1: C = connect(&broker.url(), ClientOptions::new(version, "share-1"));
    let s2: C = connect(&broker.url(), ClientOptions::new(version, "share-2"));
    let publ: C = connect(&broker.url(), ClientOptions::new(version, "share-pub"));
    let mut m1 = subscribe(&s1, "$share/g/sh/#", QoS::AtLeastOnce);
    let mut m2 = subscribe(&s2, "$share/g/sh/#", QoS::AtLeastOnce);
    let results = publ.publish_all(
        (0..COUNT)
            .map(|i| message("sh/t", i.to_string(), QoS::AtLeastOnce))
            .collect(),
    );
    assert!(
        results.iter().all(|r| *r == Ok(ReasonCode::Success)),
        "{results:?}"
    );

    let (mut seen1, mut seen2): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + WAIT;
    while seen1.len() + seen2.len() < COUNT && Instant::now() < deadline {
        for (stream, seen) in [
            (&mut m1 as &mut dyn Messages, &mut seen1),
            (&mut m2, &mut seen2),
        ] {
            if let Some(m) = stream.recv_timeout(Duration::from_millis(20)) {
                assert_eq!(m.topic, "sh/t");
                seen.push(text(&m).parse().expect("numeric payload"));
            }
        }
    }
    let seen = [seen1, seen2];
    expect_silence(&mut m1, "no more for member 1");
    expect_silence(&mut m2, "no more for member 2");
    assert!(
        !seen[0].is_empty() && !seen[1].is_empty(),
        "both members got messages: {seen:?}"
    );
    let mut all: Vec<usize> = seen.concat();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..COUNT).collect::<Vec<_>>(),
        "each message exactly once"
    );
}

/// 5.0 subscription options: No Local, Retain As Published, and the three
/// Retain Handling choices.
pub fn subscription_options<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new());
    let url = broker.url();
    let other: C = connect(&url, ClientOptions::new(V5, "opts-other"));
    let options = |no_local, retain_as_published, retain_handling| SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local,
        retain_as_published,
        retain_handling,
    };

    // No Local: our own messages do not come back.
    let me: C = connect(&url, ClientOptions::new(V5, "opts-me"));
    let (mut own, _) = me
        .subscribe(subscribe_with_options(&[(
            "nl/t",
            options(true, false, RetainHandling::SendAtSubscribe),
        )]))
        .expect("subscribe");
    publish(&me, "nl/t", "mine", QoS::AtLeastOnce);
    publish(&other, "nl/t", "theirs", QoS::AtLeastOnce);
    assert_eq!(text(&expect_message(&mut own, "theirs")), "theirs");
    expect_silence(&mut own, "no local: our own message is not delivered");

    // Retain As Published: the flag of a live retained publish is kept or cleared.
    let retained = |topic: &str, payload: &str| {
        let mut m = message(topic, payload.to_string(), QoS::AtLeastOnce);
        m.retain = true;
        let code = other.publish(m).expect("retained publish");
        assert!(matches!(
            code,
            ReasonCode::Success | ReasonCode::NoMatchingSubscribers
        ));
    };
    let (mut keep, _) = me
        .subscribe(subscribe_with_options(&[(
            "rap/t",
            options(false, true, RetainHandling::SendAtSubscribe),
        )]))
        .expect("subscribe");
    let other_sub: C = connect(&url, ClientOptions::new(V5, "opts-plain"));
    let mut plain = subscribe(&other_sub, "rap/t", QoS::AtLeastOnce);
    retained("rap/t", "live");
    let got = expect_message(&mut keep, "live, retain as published");
    assert_eq!((text(&got), got.retain), ("live".into(), true));
    let got = expect_message(&mut plain, "live, retain cleared");
    assert_eq!((text(&got), got.retain), ("live".into(), false));

    // Retain Handling: 0 sends the retained message on every subscribe, 1 on
    // the first only, 2 never.
    retained("rh/t", "stored");
    let cases = [
        (RetainHandling::SendAtSubscribe, [true, true]),
        (RetainHandling::SendAtSubscribeIfNew, [true, false]),
        (RetainHandling::DoNotSend, [false, false]),
    ];
    for (i, (handling, expect)) in cases.into_iter().enumerate() {
        let client: C = connect(&url, ClientOptions::new(V5, &format!("opts-rh-{i}")));
        for (attempt, want) in expect.into_iter().enumerate() {
            let (mut stream, codes) = client
                .subscribe(subscribe_with_options(&[(
                    "rh/t",
                    options(false, false, handling),
                )]))
                .expect("subscribe");
            assert_eq!(codes, [ReasonCode::GrantedQoS1]);
            let what = format!("{handling:?}, subscribe #{}", attempt + 1);
            if want {
                let got = expect_message(&mut stream, &what);
                assert_eq!((text(&got), got.retain), ("stored".into(), true), "{what}");
            }
            expect_silence(&mut stream, &what);
        }
    }
}

/// 5.0 request/response: a responder thread answers on the Response Topic
/// with the Correlation Data; each request gets its own answer; a request
/// nobody answers times out.
pub fn request_response<C: TestClient>() {
    const REQUESTS: usize = 5;
    let broker = Broker::start(BrokerConfig::new());
    let responder: C = connect(&broker.url(), ClientOptions::new(V5, "rr-responder"));
    let requester: C = connect(&broker.url(), ClientOptions::new(V5, "rr-requester"));
    let mut requests = subscribe(&responder, "svc/upper", QoS::AtLeastOnce);
    thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..REQUESTS {
                let Some(req) = requests.recv_timeout(WAIT) else {
                    return;
                };
                let Some(topic) = req.properties.response_topic.clone() else {
                    continue;
                };
                let mut reply = message(&topic, text(&req).to_uppercase(), QoS::AtLeastOnce);
                reply.properties.correlation_data = req.properties.correlation_data.clone();
                let _ = responder.publish(reply);
            }
        });
        for i in 0..REQUESTS {
            let reply = requester
                .request("svc/upper", Bytes::from(format!("hello {i}")), WAIT)
                .unwrap_or_else(|e| panic!("request {i}: {e:?}"));
            assert_eq!(text(&reply), format!("HELLO {i}"));
            assert!(reply.properties.correlation_data.is_some());
        }
    });
    assert_eq!(
        requester.request(
            "svc/nobody",
            Bytes::from_static(b"?"),
            Duration::from_millis(300)
        ),
        Err(ClientError::Timeout)
    );
}

/// 5.0: User Properties (repeated names, in order) and the other PUBLISH
/// properties arrive as sent.
pub fn user_properties<C: TestClient>() {
    let broker = Broker::start(BrokerConfig::new());
    let sub: C = connect(&broker.url(), ClientOptions::new(V5, "props-sub"));
    let publ: C = connect(&broker.url(), ClientOptions::new(V5, "props-pub"));
    let mut messages = subscribe(&sub, "props/t", QoS::ExactlyOnce);
    let user: Vec<(MqttString, MqttString)> =
        [("k", "1"), ("k", "2"), ("a", "x"), ("k", "3"), ("ü", "✓")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
    let mut m = message("props/t", "{\"t\":21.5}", QoS::ExactlyOnce);
    m.properties.user_properties = user.clone();
    m.properties.content_type = Some("application/json".into());
    m.properties.response_topic = Some("props/reply".into());
    m.properties.correlation_data = Some(Bytes::from_static(&[0, 1, 2, 255]));
    m.properties.payload_format_indicator = Some(PayloadFormat::Utf8);
    m.properties.message_expiry_interval = Some(60);
    assert_eq!(publ.publish(m), Ok(ReasonCode::Success));

    let got = expect_message(&mut messages, "the message with properties");
    let p = &got.properties;
    assert_eq!(p.user_properties, user, "user properties in order");
    assert_eq!(p.content_type.as_deref(), Some("application/json"));
    assert_eq!(p.response_topic.as_deref(), Some("props/reply"));
    assert_eq!(p.correlation_data.as_deref(), Some(&[0u8, 1, 2, 255][..]));
    assert_eq!(p.payload_format_indicator, Some(PayloadFormat::Utf8));
    let expiry = p.message_expiry_interval.expect("message expiry interval");
    assert!((55..=60).contains(&expiry), "expiry {expiry}");
    assert_eq!(text(&got), "{\"t\":21.5}");
}

/// The broker is killed; while the client backs off between reconnect
/// attempts, `disconnect` returns promptly, the client is closed and stays
/// closed when the broker comes back.
pub fn disconnect_while_reconnecting<C: TestClient>(version: ProtocolVersion) {
    let mut broker = Broker::start(BrokerConfig::new());
    let mut opts = ClientOptions::new(version, "dwr-client");
    opts.mqtt.backoff.initial = Duration::from_secs(2);
    opts.mqtt.backoff.max = Duration::from_secs(5);
    let client: C = connect(&broker.url(), opts);
    let mut events = client.events();
    broker.kill();
    expect_event(&mut events, WAIT, "ConnectionLost", |e| {
        *e == TestEvent::ConnectionLost(DisconnectReason::TransportClosed)
    });
    expect_event(&mut events, WAIT, "Reconnecting", |e| {
        matches!(e, TestEvent::Reconnecting { .. })
    });
    assert!(!client.is_connected());

    let start = Instant::now();
    assert_eq!(client.disconnect(), Ok(()));
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "disconnect took {took:?}"
    );
    assert!(client.is_closed());
    assert_eq!(
        client.publish(message("dwr/t", "late", QoS::AtLeastOnce)),
        Err(ClientError::Closed)
    );

    broker.restart();
    thread::sleep(Duration::from_millis(2500));
    while let Some(event) = events.recv_timeout(Duration::ZERO) {
        assert!(
            !matches!(event, TestEvent::Connected { .. }),
            "a closed client reconnected: {event:?}"
        );
    }
    assert!(client.is_closed() && !client.is_connected());
}

/// 5.0: every kind of error comes back typed — bad URL, refused TCP
/// connection, refused CONNECT, invalid topic name and filter, QoS and
/// retain beyond the broker's maximum, request timeout, request on 3.1.1,
/// use after disconnect.
pub fn typed_errors<C: TestClient>() {
    let broker = Broker::start(
        BrokerConfig::new()
            .extra_line("max_qos 1")
            .extra_line("retain_available false")
            .extra_line("allow_zero_length_clientid false"),
    );
    let url = broker.url();
    let opts = |id: &str| ClientOptions::new(V5, id);

    assert_eq!(
        C::connect("foo://127.0.0.1:1883", opts("e")).err(),
        Some(ClientError::Url(UrlError::UnsupportedScheme("foo".into())))
    );
    let refused = format!("mqtt://127.0.0.1:{}", closed_port());
    assert_eq!(
        C::connect(&refused, opts("e")).err(),
        Some(ClientError::Io(std::io::ErrorKind::ConnectionRefused))
    );
    // This broker refuses empty client identifiers (Mosquitto answers a 5.0
    // client with 0x80 Unspecified error).
    match C::connect(&url, opts("")) {
        Err(ClientError::Connect(DisconnectReason::Refused(connack))) => {
            assert_eq!(connack.reason_code, ReasonCode::UnspecifiedError)
        }
        Err(other) => panic!("expected a refused CONNECT, got {other:?}"),
        Ok(_) => panic!("expected a refused CONNECT, got a connection"),
    }

    let client: C = connect(&url, opts("errors"));
    let caps = client.server_capabilities();
    assert_eq!(
        (caps.maximum_qos, caps.retain_available),
        (QoS::AtLeastOnce, false)
    );
    assert_eq!(
        client.publish(message("e/t", "x", QoS::ExactlyOnce)),
        Err(ClientError::Command(CommandError::QoSNotSupported {
            requested: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce
        }))
    );
    let mut retained = message("e/t", "x", QoS::AtMostOnce);
    retained.retain = true;
    assert_eq!(
        client.publish(retained),
        Err(ClientError::Command(CommandError::RetainNotSupported))
    );
    assert_eq!(
        client.publish(message("e/+", "x", QoS::AtMostOnce)),
        Err(ClientError::Command(CommandError::InvalidTopic(
            TopicError::WildcardInTopicName(2)
        )))
    );
    assert_eq!(
        client
            .subscribe(subscribe_packet(&[("e/#/x", QoS::AtMostOnce)]))
            .err(),
        Some(ClientError::Command(CommandError::InvalidTopic(
            TopicError::MisplacedWildcard(2)
        )))
    );
    assert_eq!(
        client.request(
            "e/nobody",
            Bytes::from_static(b"?"),
            Duration::from_millis(200)
        ),
        Err(ClientError::Timeout)
    );
    // The connection survived every refusal.
    assert_eq!(
        client.publish(message("e/t", "ok", QoS::AtLeastOnce)),
        Ok(ReasonCode::NoMatchingSubscribers)
    );
    client.disconnect().expect("disconnect");
    assert_eq!(
        client.publish(message("e/t", "x", QoS::AtMostOnce)),
        Err(ClientError::Closed)
    );

    let old: C = connect(&url, ClientOptions::new(V311, "errors-311"));
    assert!(matches!(
        old.request("e/t", Bytes::from_static(b"?"), WAIT),
        Err(ClientError::Command(CommandError::NeedsV5(_)))
    ));
}
