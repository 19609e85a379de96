//! Broker cluster failover, end to end: two Mosquittos joined by a bridge,
//! one node killed with SIGKILL mid-stream, the client resuming on the other
//! node of its failover list.
//!
//! [`Cluster`] starts node B, then node A with a bridge to B that forwards
//! every topic both ways at QoS 1 (`topic # both 1`), and waits until a
//! message crosses the bridge. The scenarios are generic over
//! [`TestClient`], and [`cluster_tests!`](crate::cluster_tests) turns them
//! into one test per scenario and protocol version for an adapter:
//!
//! * [`failover_publisher`]: the publisher's list is [A, B], the subscriber
//!   is on B. A dies while a QoS 1 message is unacknowledged; the publisher
//!   must move to B and publish that message again there.
//! * [`failover_subscriber`]: the subscriber's list is [A, B], the publisher
//!   is on B. A dies mid-stream; the subscriber must move to B and resume
//!   the session it left there.
//!
//! Both count the arrivals: every number sent arrives at least once (QoS 1
//! allows duplicates; their number is printed).
//!
//! A bridge is not a replicated cluster: a message that node A acknowledged
//! but had not yet forwarded dies with A, whatever the client does.
//! [`failover_publisher`] therefore kills A at the point where the client
//! alone decides the outcome: A has forwarded what it received, and its
//! PUBACK for the last message has not reached the client (a [`Proxy`]
//! holds A's replies for a moment before the kill).

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use crate::scenarios::{
    connect, expect_event, message, subscribe_packet, text, ClientOptions, Events, Message,
    Messages, ProtocolVersion, Proxy, QoS, ReasonCode, TestClient, TestEvent, WAIT,
};
use crate::{Broker, BrokerConfig};

/// The topic of the numbered stream.
const STREAM: &str = "cluster/n";
/// The topic of the messages that show the bridge is up.
const PROBE: &str = "cluster/probe";
/// Messages in the stream.
const TOTAL: usize = 150;
/// Node A dies once the subscriber has this many of them.
const KILL_AFTER: usize = TOTAL / 3;
/// The longest a scenario runs after the cluster is up.
const DEADLINE: Duration = Duration::from_secs(30);

/// Two Mosquitto nodes; `a` bridges every topic to `b` and back at QoS 1.
#[derive(Debug)]
pub struct Cluster {
    /// The node that is killed; it holds the bridge.
    pub a: Broker,
    /// The node that stays up.
    pub b: Broker,
}

impl Cluster {
    /// Starts B, then A with its bridge to B. Call [`Cluster::wait_bridged`]
    /// before relying on the bridge.
    pub fn start() -> Cluster {
        let b = Broker::start(BrokerConfig::new());
        let a = Broker::start(
            BrokerConfig::new()
                .extra_line("connection a-to-b")
                .extra_line(format!("address 127.0.0.1:{}", b.port()))
                .extra_line("remote_clientid cluster-bridge")
                .extra_line("topic # both 1")
                .extra_line("cleansession true")
                .extra_line("try_private true")
                .extra_line("restart_timeout 1"),
        );
        Cluster { a, b }
    }

    /// Publishes probes with `publisher` until `messages` (a subscription to
    /// `PROBE` on the other side of the bridge) gets one, within [`WAIT`].
    pub fn wait_bridged<C: TestClient>(&self, publisher: &C, messages: &mut impl Messages) {
        let deadline = Instant::now() + WAIT;
        for attempt in 0.. {
            assert!(
                Instant::now() < deadline,
                "no message crossed the bridge within {WAIT:?} ({attempt} probes)"
            );
            publisher
                .publish(message(PROBE, attempt.to_string(), QoS::AtLeastOnce))
                .unwrap_or_else(|e| panic!("probe {attempt}: {e:?}"));
            if let Some(m) = messages.recv_timeout(Duration::from_millis(200)) {
                assert_eq!(m.topic.as_str(), PROBE, "{m:?}");
                // Probes still crossing arrive now, not in the stream.
                while messages.recv_timeout(Duration::from_millis(300)).is_some() {}
                return;
            }
        }
    }
}

/// Expands to the cluster failover tests, per protocol version, for the
/// client type `$client`.
#[macro_export]
macro_rules! cluster_tests {
    ($client:ty) => {
        #[test]
        fn failover_publisher_v311() {
            $crate::cluster::failover_publisher::<$client>($crate::scenarios::V311);
        }
        #[test]
        fn failover_publisher_v5() {
            $crate::cluster::failover_publisher::<$client>($crate::scenarios::V5);
        }
        #[test]
        fn failover_subscriber_v311() {
            $crate::cluster::failover_subscriber::<$client>($crate::scenarios::V311);
        }
        #[test]
        fn failover_subscriber_v5() {
            $crate::cluster::failover_subscriber::<$client>($crate::scenarios::V5);
        }
    };
}

/// The publisher fails over from A to B and publishes again there what A
/// never acknowledged; a subscriber on B gets every number.
pub fn failover_publisher<C: TestClient>(version: ProtocolVersion) {
    let mut cluster = Cluster::start();
    let proxy = Proxy::start(cluster.a.addr());
    let sub: C = connect(
        &cluster.b.url(),
        ClientOptions::persistent(version, "cluster-sub", false),
    );
    let (mut messages, codes) = sub
        .subscribe(subscribe_packet(&[
            (STREAM, QoS::AtLeastOnce),
            (PROBE, QoS::AtLeastOnce),
        ]))
        .expect("subscribe on B");
    assert_eq!(codes, [ReasonCode::GrantedQoS1, ReasonCode::GrantedQoS1]);
    let mut options = ClientOptions::persistent(version, "cluster-pub", false);
    options.failover = vec![cluster.b.url()];
    let publ: C = connect(&proxy.url(), options);
    cluster.wait_bridged(&publ, &mut messages);
    let mut events = publ.events();

    let mut in_flight_at_kill = 0;
    let got = stream_across_kill(&publ, &mut messages, Duration::ZERO, |messages, got| {
        // A forwards what it has; its PUBACK never reaches the client.
        proxy.block_replies(true);
        drain_for(messages, got, Duration::from_millis(500));
        in_flight_at_kill = publ.in_flight();
        cluster.a.kill();
    });
    assert_eq!(
        in_flight_at_kill, 1,
        "one message unacknowledged at the kill"
    );
    let duplicates = assert_every_number("failover_publisher", version, &got);
    expect_switch(&mut events, &cluster.b, "cluster-pub", 1, false);
    assert!(
        duplicates >= 1,
        "the unacknowledged message was sent again on B"
    );
}

/// The subscriber fails over from A to B, where it left a session earlier,
/// and gets every number a publisher on B sends across the switch.
///
/// A bridge shares no sessions: the subscriber first makes its session on B
/// (subscribe, disconnect), so B queues the stream for it while it listens on
/// A; after the switch B delivers that queue, so the numbers received on A
/// before the kill come again (counted as duplicates).
pub fn failover_subscriber<C: TestClient>(version: ProtocolVersion) {
    let mut cluster = Cluster::start();
    let seed: C = connect(
        &cluster.b.url(),
        ClientOptions::persistent(version, "cluster-sub", false),
    );
    let (_, codes) = seed
        .subscribe(subscribe_packet(&[(STREAM, QoS::AtLeastOnce)]))
        .expect("subscribe on B");
    assert_eq!(codes, [ReasonCode::GrantedQoS1]);
    seed.disconnect().expect("disconnect from B");
    drop(seed);

    let mut options = ClientOptions::persistent(version, "cluster-sub", true);
    options.failover = vec![cluster.b.url()];
    let sub: C = connect(&cluster.a.url(), options);
    let (mut messages, codes) = sub
        .subscribe(subscribe_packet(&[
            (STREAM, QoS::AtLeastOnce),
            (PROBE, QoS::AtLeastOnce),
        ]))
        .expect("subscribe on A");
    assert_eq!(codes, [ReasonCode::GrantedQoS1, ReasonCode::GrantedQoS1]);
    let mut events = sub.events();
    let publ: C = connect(
        &cluster.b.url(),
        ClientOptions::persistent(version, "cluster-pub", false),
    );
    cluster.wait_bridged(&publ, &mut messages);

    // Paced, so that the kill falls inside the stream.
    let got = stream_across_kill(&publ, &mut messages, Duration::from_millis(5), |_, _| {
        cluster.a.kill();
    });
    assert_every_number("failover_subscriber", version, &got);
    // The second connection as cluster-sub is the failover; the first made the session.
    expect_switch(&mut events, &cluster.b, "cluster-sub", 2, true);
}

/// Checks that the client lost its connection and connected again with
/// `session_present`, and that B logged `client_id` connecting `times` in all.
fn expect_switch(
    events: &mut impl Events,
    b: &Broker,
    client_id: &str,
    times: usize,
    session_present: bool,
) {
    expect_event(events, Duration::ZERO, "ConnectionLost", |e| {
        matches!(e, TestEvent::ConnectionLost(_))
    });
    expect_event(events, Duration::ZERO, "Connected to B", |e| {
        *e == TestEvent::Connected { session_present }
    });
    let log = b.log();
    let connections = log.matches(&format!(" as {client_id} ")).count();
    assert_eq!(connections, times, "{client_id} connections to B:\n{log}");
}

/// Publishes the numbered stream with `publ`, one message at a time, each
/// waiting for its acknowledgment, `pace` apart, while collecting what
/// arrives on `messages`; once [`KILL_AFTER`] messages arrived, runs `kill`
/// with the stream and the arrivals so far. Returns every arrival, once each
/// number has arrived (or [`DEADLINE`] passed) and every publish succeeded.
fn stream_across_kill<C: TestClient, M: Messages>(
    publ: &C,
    messages: &mut M,
    pace: Duration,
    kill: impl FnOnce(&mut M, &mut Vec<Message>),
) -> Vec<Message> {
    let mut got: Vec<Message> = Vec::new();
    let results = thread::scope(|scope| {
        let publisher = scope.spawn(|| {
            (0..TOTAL)
                .map(|i| {
                    thread::sleep(pace);
                    publ.publish(message(STREAM, i.to_string(), QoS::AtLeastOnce))
                })
                .collect::<Vec<_>>()
        });
        let deadline = Instant::now() + DEADLINE;
        let mut kill = Some(kill);
        while distinct(&got) < TOTAL && Instant::now() < deadline {
            if got.len() >= KILL_AFTER {
                if let Some(kill) = kill.take() {
                    kill(messages, &mut got);
                }
            }
            if let Some(m) = messages.recv_timeout(Duration::from_millis(100)) {
                got.push(m);
            }
        }
        assert!(kill.is_none(), "node A was killed mid-stream");
        join_bounded(publisher, publ)
    });
    drain_for(messages, &mut got, Duration::from_millis(500));
    for (i, r) in results.iter().enumerate() {
        assert_eq!(*r, Ok(ReasonCode::Success), "publish #{i}");
    }
    got
}

/// The publisher thread's results; if it has not finished within [`WAIT`],
/// the publisher is disconnected, which ends its pending publishes.
fn join_bounded<C: TestClient, T>(publisher: thread::ScopedJoinHandle<'_, T>, publ: &C) -> T {
    let deadline = Instant::now() + WAIT;
    while !publisher.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    if !publisher.is_finished() {
        let _ = publ.disconnect();
    }
    publisher.join().expect("publisher thread")
}

/// Distinct payloads in `got`.
fn distinct(got: &[Message]) -> usize {
    got.iter()
        .map(text)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// Collects what arrives on `messages` for `period`.
fn drain_for(messages: &mut impl Messages, got: &mut Vec<Message>, period: Duration) {
    let until = Instant::now() + period;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if let Some(m) = messages.recv_timeout(left) {
            got.push(m);
        }
        assert!(got.len() < 4 * TOTAL, "endless duplicates");
    }
}

/// Checks that every number of the stream arrived, on its topic; prints and
/// returns the number of duplicate arrivals.
fn assert_every_number(scenario: &str, version: ProtocolVersion, got: &[Message]) -> usize {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for m in got {
        assert_eq!(m.topic.as_str(), STREAM, "{m:?}");
        let i: usize = text(m).parse().expect("numeric payload");
        assert!(i < TOTAL, "unknown number {i}");
        *counts.entry(i).or_default() += 1;
    }
    let missing: Vec<usize> = (0..TOTAL).filter(|i| !counts.contains_key(i)).collect();
    assert!(missing.is_empty(), "numbers never delivered: {missing:?}");
    let duplicates = got.len() - TOTAL;
    eprintln!(
        "{scenario} {version:?}: {} arrivals for {TOTAL} messages, {duplicates} duplicates",
        got.len()
    );
    duplicates
}
