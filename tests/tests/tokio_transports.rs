//! mq-tokio's TLS and WebSocket transports against a real Mosquitto:
//! `mqtts://` with a private CA, mutual TLS, refused certificates, `ws://`
//! and `wss://`.
//!
//! The certificates are made fresh by every test with [`mq_e2e::pki`] (a CA,
//! a server certificate for 127.0.0.1 and localhost, a client certificate,
//! and an unrelated second CA) and written as PEM files into a temporary
//! directory that Mosquitto and the client both read. Every wait is bounded by
//! [`STEP`]; every connection goes to 127.0.0.1.

use std::fs;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use mq_e2e::pki::Pki;
use mq_e2e::{Broker, BrokerConfig};
use mq_tokio::tls::{rustls, TlsError, TlsOptions};
use mq_tokio::{connect, Client, ConnectOptions, DisconnectReason, Error, QoS, ReasonCode};

/// The longest any one step (connect, subscribe, publish, receive) may take.
const STEP: Duration = Duration::from_secs(10);

/// Runs `fut`, failing the test if it takes longer than [`STEP`].
async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {STEP:?}"))
}

/// Options that fail fast: no reconnects, a short connect timeout.
fn options(client_id: &str, tls: TlsOptions) -> ConnectOptions {
    let mut options = ConnectOptions::new(client_id);
    options.auto_reconnect = false;
    options.mqtt.connect_timeout = Duration::from_secs(5);
    options.tls = tls;
    options
}

async fn connected(url: &str, options: ConnectOptions) -> Client {
    match bounded("connect", connect(url, options)).await {
        Ok(client) => client,
        Err(e) => panic!("connect to {url} failed: {e}"),
    }
}

/// Subscribes to `topic`, publishes to it at QoS 1 a small message and one
/// larger than any single TLS record or read buffer, receives both, and
/// disconnects.
async fn round_trip(client: Client, topic: &str) {
    let mut sub = bounded(
        "subscribe",
        client.subscribe(topic).qos(QoS::AtLeastOnce).into_future(),
    )
    .await
    .expect("subscribe");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for payload in [b"hello".to_vec(), big] {
        let code = bounded(
            "publish",
            client
                .publish(topic, payload.clone())
                .qos(QoS::AtLeastOnce)
                .into_future(),
        )
        .await
        .expect("publish at QoS 1");
        assert_eq!(code, ReasonCode::Success);
        let msg = bounded("receive", sub.recv())
            .await
            .expect("the subscription ended");
        assert_eq!(msg.topic.as_str(), topic);
        assert_eq!(msg.qos, QoS::AtLeastOnce);
        assert_eq!(msg.payload.len(), payload.len());
        assert!(msg.payload[..] == payload[..], "payload changed in transit");
    }
    bounded("disconnect", client.disconnect())
        .await
        .expect("disconnect");
}

/// Connecting must fail, in time; returns the error.
async fn refused(url: &str, options: ConnectOptions) -> Error {
    match bounded("a refused connect", connect(url, options)).await {
        Ok(client) => {
            let _ = client.disconnect().await;
            panic!("connect to {url} succeeded but should have failed")
        }
        Err(e) => e,
    }
}

fn mqtts(broker: &Broker) -> String {
    format!("mqtts://127.0.0.1:{}", broker.tls_port())
}

#[tokio::test]
async fn mqtts_round_trip_with_a_ca_file() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let client = connected(&mqtts(&broker), options("tls-ca", tls)).await;
    round_trip(client, "mq/e2e/tls").await;
}

#[tokio::test]
async fn mqtts_with_a_server_name_override() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    // The certificate also names localhost; checking that name over 127.0.0.1 works.
    let tls = TlsOptions::new().ca_file(&pki.ca).server_name("localhost");
    let client = connected(&mqtts(&broker), options("tls-name", tls)).await;
    round_trip(client, "mq/e2e/tls-name").await;

    // A name the certificate does not carry is refused.
    let tls = TlsOptions::new()
        .ca_file(&pki.ca)
        .server_name("broker.example");
    let err = refused(&mqtts(&broker), options("tls-wrong-name", tls)).await;
    assert!(
        matches!(err, Error::Tls(TlsError::Handshake { ref server, .. }) if server == "broker.example"),
        "{err:?}"
    );
}

#[tokio::test]
async fn mqtts_with_a_rustls_config_of_our_own() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    // Built by hand; the ca_file that would fail to load shows it takes precedence.
    let mut roots = rustls::RootCertStore::empty();
    let ca = fs::read(&pki.ca).expect("read the CA");
    let ca = rustls::pki_types::pem::PemObject::from_pem_slice(&ca).expect("parse the CA");
    roots.add(ca).expect("trust the CA");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = TlsOptions::new()
        .ca_file(pki.dir.join("missing.pem"))
        .config(Arc::new(config));
    let client = connected(&mqtts(&broker), options("tls-config", tls)).await;
    round_trip(client, "mq/e2e/tls-config").await;
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    let pki = Pki::new();
    let broker = Broker::start(
        BrokerConfig::new().tls(pki.listener().cafile(&pki.ca).require_certificate(true)),
    );
    let url = mqtts(&broker);

    let tls = TlsOptions::new()
        .ca_file(&pki.ca)
        .client_cert(&pki.client_cert, &pki.client_key);
    let client = connected(&url, options("mtls-with-cert", tls)).await;
    round_trip(client, "mq/e2e/mtls").await;

    // Without a certificate the broker ends the connection: with TLS 1.3 the
    // client learns it after its own handshake, when it reads the alert
    // instead of a CONNACK.
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let mut strict = options("mtls-without-cert", tls.clone());
    strict.mqtt.protocol_fallback = false;
    let err = refused(&url, strict).await;
    assert!(
        matches!(err, Error::Connect(ref r) if **r == DisconnectReason::TransportClosed),
        "{err:?}"
    );
    // With the default 3.1.1 fallback the client tries 3.1.1 once at once,
    // and the broker closes that connection too.
    let err = refused(&url, options("mtls-without-cert", tls)).await;
    assert!(
        matches!(err, Error::Connect(ref r) if **r == DisconnectReason::TransportClosed),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unknown_ca_is_refused_with_a_clear_error() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let tls = TlsOptions::new().ca_file(&pki.other_ca);
    let err = refused(&mqtts(&broker), options("tls-wrong-ca", tls)).await;
    let text = err.to_string();
    assert!(
        matches!(err, Error::Tls(TlsError::Handshake { .. })),
        "{err:?}"
    );
    assert!(
        text.contains("127.0.0.1") && text.contains("UnknownIssuer"),
        "unclear error: {text}"
    );

    // So is the default, Mozilla's roots.
    let err = refused(
        &mqtts(&broker),
        options("tls-webpki", TlsOptions::default()),
    )
    .await;
    assert!(
        matches!(err, Error::Tls(TlsError::Handshake { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_bad_ca_file_fails_before_dialling() {
    let pki = Pki::new();
    let broker = Broker::start(BrokerConfig::new().tls(pki.listener()));
    let missing = pki.dir.join("missing.pem");
    let tls = TlsOptions::new().ca_file(&missing);
    let err = refused(&mqtts(&broker), options("tls-missing-ca", tls)).await;
    assert!(
        matches!(err, Error::Tls(TlsError::ReadFile { ref path, .. }) if *path == missing),
        "{err:?}"
    );
}

#[tokio::test]
async fn ws_round_trip() {
    let broker = Broker::start(BrokerConfig::new().websockets(true));
    let url = format!("ws://127.0.0.1:{}/mqtt", broker.ws_port());
    let client = connected(&url, options("ws", TlsOptions::default())).await;
    round_trip(client, "mq/e2e/ws").await;
}

/// The WebSocket transport with MQTT 3.1.1 (3.1.1 MQTT-6.0.0-1, -3, -4):
/// the same binary frames and `mqtt` subprotocol.
#[tokio::test]
async fn ws_round_trip_v311() {
    let broker = Broker::start(BrokerConfig::new().websockets(true));
    let url = format!("ws://127.0.0.1:{}/mqtt", broker.ws_port());
    let mut options = options("ws-311", TlsOptions::default());
    options.mqtt.protocol_version = mq_tokio::ProtocolVersion::V311;
    options.mqtt.protocol_fallback = false;
    let client = connected(&url, options).await;
    assert_eq!(client.protocol_version(), mq_tokio::ProtocolVersion::V311);
    round_trip(client, "mq/e2e/ws311").await;
}

#[tokio::test]
async fn ws_to_a_plain_mqtt_port_fails_in_time() {
    let broker = Broker::start(BrokerConfig::new());
    let url = format!("ws://127.0.0.1:{}/mqtt", broker.port());
    let err = refused(&url, options("ws-wrong-port", TlsOptions::default())).await;
    assert!(matches!(err, Error::WebSocket { .. }), "{err:?}");
}

#[tokio::test]
async fn wss_round_trip() {
    let pki = Pki::new();
    // Options after the listeners apply to the last one, the WebSocket
    // listener here (no MQTT TLS listener is asked for): it speaks TLS.
    let broker = Broker::start(
        BrokerConfig::new()
            .websockets(true)
            .extra_line(format!("certfile {}", pki.server_cert.display()))
            .extra_line(format!("keyfile {}", pki.server_key.display())),
    );
    let url = format!("wss://127.0.0.1:{}/mqtt", broker.ws_port());
    let tls = TlsOptions::new().ca_file(&pki.ca);
    let client = connected(&url, options("wss", tls)).await;
    round_trip(client, "mq/e2e/wss").await;
}
