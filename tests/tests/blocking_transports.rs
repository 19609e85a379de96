//! mq-blocking's TLS and WebSocket transports against a real Mosquitto:
//! `mqtts://` with a private CA, mutual TLS, refused certificates, `ws://`
//! and `wss://`, and both directions busy at once over one shared stream.
//!
//! Certificates come fresh for every test from [`mq_e2e::pki`]. Every
//! blocking call runs bounded by [`STEP`] (on a helper thread when the call
//! has no timeout of its own); every connection goes to 127.0.0.1.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use mq_blocking::tls::{TlsError, TlsOptions};
use mq_blocking::{
    connect, Client, ClientEvent, ConnectOptions, DisconnectReason, Error, QoS, ReasonCode,
};
use mq_e2e::pki::Pki;
use mq_e2e::{Broker, BrokerConfig};

/// The longest any one step (connect, subscribe, publish, receive) may take.
const STEP: Duration = Duration::from_secs(10);

/// Runs `f` on a thread of its own, failing the test if it takes longer than [`STEP`].
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(STEP) {
        Ok(value) => value,
        Err(_) => panic!("{what} took longer than {STEP:?} (or panicked)"),
    }
}

/// Options that fail fast: no reconnects, a short connect timeout.
fn options(client_id: &str, tls: TlsOptions) -> ConnectOptions {
    let mut options = ConnectOptions::new(client_id);
    options.auto_reconnect = false;
    options.mqtt.connect_timeout = Duration::from_secs(5);
    options.tls = tls;
    options
}

fn connected(url: &str, options: ConnectOptions) -> Client {
    let target = url.to_owned();
    match bounded("connect", move || connect(&target, options)) {
        Ok(client) => client,
        Err(e) => panic!("connect to {url} failed: {e}"),
    }
}

/// Connecting must fail, in time; returns the error.
fn refused(url: &str, options: ConnectOptions) -> Error {
    let target = url.to_owned();
    match bounded("a refused connect", move || connect(&target, options)) {
        Ok(client) => {
            let _ = bounded("disconnect", move || client.disconnect());
            panic!("connect to {url} succeeded but should have failed")
        }
        Err(e) => e,
    }
}

fn publish(client: &Client, topic: &str, payload: Vec<u8>) {
    let mut handle = client
        .publish(topic.to_owned(), payload)
        .qos(QoS::AtLeastOnce)
        .send()
        .expect("hand the publish over");
    let code = handle.wait_timeout(STEP).expect("publish at QoS 1");
    assert_eq!(code, ReasonCode::Success);
}

/// Subscribes to `topic`, publishes to it at QoS 1 a small message and one
/// larger than any single TLS record, WebSocket read or read buffer,
/// receives both, and disconnects.
fn round_trip(client: Client, topic: &str) {
    let (c, t) = (client.clone(), topic.to_owned());
    let mut sub = bounded("subscribe", move || {
        c.subscribe(t).qos(QoS::AtLeastOnce).send()
    })
    .expect("subscribe");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for payload in [b"hello".to_vec(), big] {
        publish(&client, topic, payload.clone());
        let msg = sub.recv_timeout(STEP).expect("the message did not arrive");
        assert_eq!(msg.topic.as_str(), topic);
        assert_eq!(msg.qos, QoS::AtLeastOnce);
        assert_eq!(msg.payload.len(), payload.len());
        assert!(msg.payload[..] == payload[..], "payload changed in transit");
    }
    bounded("disconnect", move || client.disconnect()).expect("disconnect");
}

/// Both directions busy at once over the one shared connection: four
/// threads publish 250 messages each at QoS 1 to a topic the same client
/// subscribes to, so PUBLISHes and PUBACKs flow out while PUBLISHes and
/// PUBACKs flow in. Every message must arrive.
fn both_ways_at_once(client: Client, topic: &str) {
    const THREADS: usize = 4;
    const EACH: usize = 250;
    let (c, t) = (client.clone(), topic.to_owned());
    let mut sub = bounded("subscribe", move || {
        c.subscribe(t).qos(QoS::AtLeastOnce).send()
    })
    .expect("subscribe");
    let publishers: Vec<_> = (0..THREADS)
        .map(|w| {
            let (client, topic) = (client.clone(), topic.to_owned());
            thread::spawn(move || {
                for i in 0..EACH {
                    let payload = format!("{w}-{i}-{}", "x".repeat(i * 7 % 3000));
                    publish(&client, &topic, payload.into_bytes());
                }
            })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    while seen.len() < THREADS * EACH {
        let msg = sub.recv_timeout(STEP).unwrap_or_else(|| {
            panic!("only {} of {} messages arrived", seen.len(), THREADS * EACH)
        });
        let text = String::from_utf8(msg.payload.to_vec()).expect("UTF-8 payload");
        let id = text.splitn(3, '-').take(2).collect::<Vec<_>>().join("-");
        seen.insert(id);
    }
    for p in publishers {
        p.join().expect("a publisher failed");
    }
    bounded("disconnect", move || client.disconnect()).expect("disconnect");
}

fn mqtts(broker: &Broker) -> String {
    format!("mqtts://127.0.0.1:{}", broker.tls_port())
}

/// A broker whose WebSocket listener speaks TLS with the test certificate.
fn wss_broker(pki: &Pki) -> Broker {
    // Options after the listeners apply to the last one, the WebSocket
    // listener here (no MQTT TLS listener is asked for).
    Broker::start(
        BrokerConfig::new()
            .websockets(true)
            .extra_line(format!("certfile {}", pki.server_cert.display()))
            .extra_line(format!("keyfile {}", pki.server_key.display())),
    )
}

#[test]
fn mqtts_round_trip_with_a_ca_file() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let client = connected(&mqtts(&broker), options("blocking-tls-ca", tls));
    round_trip(client, "mq/e2e/blocking/tls");
}

#[test]
fn mqtts_both_ways_at_once() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let client = connected(&mqtts(&broker), options("blocking-tls-busy", tls));
    both_ways_at_once(client, "mq/e2e/blocking/tls-busy");
}

#[test]
fn mqtts_reconnects_after_a_broker_restart() {
    let pki = Pki::new();
    let mut broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let mut opts = options("blocking-tls-restart", TlsOptions::new().ca_file(&pki.ca));
    opts.auto_reconnect = true;
    opts.mqtt.backoff.initial = Duration::from_millis(100);
    opts.mqtt.backoff.max = Duration::from_millis(500);
    let client = connected(&mqtts(&broker), opts);
    let events = client.events();
    let c = client.clone();
    let mut sub = bounded("subscribe", move || {
        c.subscribe("mq/e2e/blocking/restart")
            .qos(QoS::AtLeastOnce)
            .send()
    })
    .expect("subscribe");

    // The I/O thread sees the TLS connection end, the client reconnects
    // with a new handshake and resubscribes.
    broker.kill();
    broker.restart();
    loop {
        match events.recv_timeout(STEP) {
            Ok(ClientEvent::Resubscribed(_)) => break,
            Ok(_) => {}
            Err(e) => panic!("no resubscription after the restart: {e}"),
        }
    }
    publish(&client, "mq/e2e/blocking/restart", b"back".to_vec());
    let msg = sub.recv_timeout(STEP).expect("the message did not arrive");
    assert_eq!(&msg.payload[..], b"back");
    bounded("disconnect", move || client.disconnect()).expect("disconnect");
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let pki = Pki::new();
    let broker = Broker::start(
        BrokerConfig::new().tls(pki.listener().cafile(&pki.ca).require_certificate(true)),
    );
    let url = mqtts(&broker);

    let tls = TlsOptions::new()
        .ca_file(&pki.ca)
        .client_cert(&pki.client_cert, &pki.client_key);
    let client = connected(&url, options("blocking-mtls-with-cert", tls));
    round_trip(client, "mq/e2e/blocking/mtls");

    // Without a certificate the broker ends the connection: with TLS 1.3 the
    // client learns it after its own handshake, when it reads the alert
    // instead of a CONNACK.
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let mut strict = options("blocking-mtls-without-cert", tls.clone());
    strict.mqtt.protocol_fallback = false;
    let err = refused(&url, strict);
    assert!(
        matches!(err, Error::Connect(ref r) if **r == DisconnectReason::TransportClosed),
        "{err:?}"
    );
    // With the default 3.1.1 fallback the client tries 3.1.1 once at once,
    // and the broker closes that connection too.
    let err = refused(&url, options("blocking-mtls-without-cert", tls));
    assert!(
        matches!(err, Error::Connect(ref r) if **r == DisconnectReason::TransportClosed),
        "{err:?}"
    );
}

#[test]
fn a_wrong_ca_is_refused_with_a_tls_error() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let tls = TlsOptions::new().ca_file(&pki.other_ca);
    let err = refused(&mqtts(&broker), options("blocking-tls-wrong-ca", tls));
    let text = err.to_string();
    assert!(
        matches!(err, Error::Tls(TlsError::Handshake { ref server, .. }) if server == "127.0.0.1"),
        "{err:?}"
    );
    assert!(text.contains("UnknownIssuer"), "unclear error: {text}");

    // So is the default, Mozilla's roots.
    let err = refused(
        &mqtts(&broker),
        options("blocking-tls-webpki", TlsOptions::default()),
    );
    assert!(
        matches!(err, Error::Tls(TlsError::Handshake { .. })),
        "{err:?}"
    );
}

#[test]
fn a_bad_ca_file_fails_before_dialling() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let missing = pki.dir.join("missing.pem");
    let tls = TlsOptions::new().ca_file(&missing);
    let err = refused(&mqtts(&broker), options("blocking-tls-missing-ca", tls));
    assert!(
        matches!(err, Error::Tls(TlsError::ReadFile { ref path, .. }) if *path == missing),
        "{err:?}"
    );
}

#[test]
fn ws_round_trip() {
    let broker = Broker::start(BrokerConfig::new().websockets(true));
    let url = format!("ws://127.0.0.1:{}/mqtt", broker.ws_port());
    let client = connected(&url, options("blocking-ws", TlsOptions::default()));
    round_trip(client, "mq/e2e/blocking/ws");
}

#[test]
fn ws_to_a_plain_mqtt_port_fails_in_time() {
    let broker = Broker::start(BrokerConfig::new());
    let url = format!("ws://127.0.0.1:{}/mqtt", broker.port());
    let err = refused(
        &url,
        options("blocking-ws-wrong-port", TlsOptions::default()),
    );
    assert!(matches!(err, Error::WebSocket { .. }), "{err:?}");
}

#[test]
fn wss_round_trip() {
    let pki = Pki::new();
    let broker = wss_broker(&pki);
    let url = format!("wss://127.0.0.1:{}/mqtt", broker.ws_port());
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let client = connected(&url, options("blocking-wss", tls));
    round_trip(client, "mq/e2e/blocking/wss");
}

#[test]
fn wss_both_ways_at_once() {
    let pki = Pki::new();
    let broker = wss_broker(&pki);
    let url = format!("wss://127.0.0.1:{}/mqtt", broker.ws_port());
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let client = connected(&url, options("blocking-wss-busy", tls));
    both_ways_at_once(client, "mq/e2e/blocking/wss-busy");
}
