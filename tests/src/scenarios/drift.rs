//! Behaviour the adapters once disagreed on (issue 8), now one rule everywhere.

use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{
    connect, expect_event, expect_message, expect_silence, publish, subscribe, text, ClientError,
    ClientOptions, ProtocolVersion, Proxy, QoS, TestClient, TestEvent, Will, WAIT,
};
use crate::{Broker, BrokerConfig};

/// What keeps a client alive: a subscription holds the client, so with
/// every client handle dropped it still receives; when the subscription goes
/// too, the client disconnects normally (its will is discarded) and is gone
/// (taking its client id over finds no connection, so no will either).
pub fn handles_dropped_while_subscribed<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let watcher: C = connect(&broker.url(), ClientOptions::new(version, "held-watcher"));
    let mut wills = subscribe(&watcher, "held/will", QoS::AtLeastOnce);

    let mut opts = ClientOptions::new(version, "held");
    opts.mqtt.will = Some(Will {
        topic: "held/will".into(),
        payload: Bytes::from_static(b"held is gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Default::default(),
    });
    let held: C = connect(&broker.url(), opts);
    let mut messages = subscribe(&held, "held/t", QoS::AtLeastOnce);
    drop(held);

    publish(
        &watcher,
        "held/t",
        "after the last handle",
        QoS::AtLeastOnce,
    );
    let got = expect_message(
        &mut messages,
        "a message after every client handle was dropped",
    );
    assert_eq!(text(&got), "after the last handle");
    expect_silence(&mut wills, "no will while the subscription lives");

    drop(messages);
    expect_silence(&mut wills, "the last handle gone: a normal disconnect");
    let takeover: C = connect(&broker.url(), ClientOptions::new(version, "held"));
    expect_silence(&mut wills, "no connection left to take over");
    takeover.disconnect().expect("disconnect");
    watcher.disconnect().expect("disconnect");
}

/// A connector that never completes: the connect timeout ends the first
/// connect with `Timeout`; while a reconnect's dial hangs, `disconnect`
/// returns at once and the client is closed.
pub fn hanging_connector<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut opts = ClientOptions::new(version, "hang-first");
    opts.mqtt.connect_timeout = Duration::from_secs(1);
    let start = Instant::now();
    let outcome = C::connect_hanging(broker.addr(), 0, opts).map(|_| ());
    let took = start.elapsed();
    assert_eq!(outcome, Err(ClientError::Timeout), "took {took:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "the connect timeout is 1 s; connect returned after {took:?}"
    );

    let proxy = Proxy::start(broker.addr());
    let mut opts = ClientOptions::new(version, "hang-later");
    opts.mqtt.connect_timeout = Duration::from_secs(30);
    let client = C::connect_hanging(proxy.addr(), 1, opts).expect("the first dial works");
    let mut events = client.events();
    proxy.cut();
    expect_event(&mut events, WAIT, "Reconnecting", |e| {
        matches!(e, TestEvent::Reconnecting { .. })
    });
    // The backoff is 100 ms: the next dial is under way and hangs.
    thread::sleep(Duration::from_millis(500));
    assert!(!client.is_connected());
    let start = Instant::now();
    assert_eq!(client.disconnect(), Ok(()));
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "disconnect while dialing took {took:?}"
    );
    assert!(client.is_closed());
}
