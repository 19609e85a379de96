//! mq-smol's WebSocket transport (feature `websocket`) against a real
//! Mosquitto: `ws://` round trips under smol and under async-std, `wss://`
//! (the WebSocket handshake over mq-smol's futures-rustls stream), and
//! `ws://` to a plain MQTT port failing in time with `Error::WebSocket`.
//!
//! Certificates are made fresh per test with rcgen (a CA and a server
//! certificate for 127.0.0.1) in a temporary directory. Every wait is
//! bounded by [`STEP`] on an async-io timer, which works under either
//! runtime; every connection goes to 127.0.0.1.

use std::fs;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::time::Duration;

use mq_e2e::{Broker, BrokerConfig};
use mq_smol::tls::TlsOptions;
use mq_smol::{connect, Client, ConnectOptions, Error, QoS, ReasonCode};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The longest any one step (connect, subscribe, publish, receive) may take.
const STEP: Duration = Duration::from_secs(10);

/// Runs `fut`, failing the test if it takes longer than [`STEP`].
async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    smol::future::or(fut, async {
        smol::Timer::after(STEP).await;
        panic!("{what} took longer than {STEP:?}")
    })
    .await
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
/// larger than the driver's 64 KiB read buffer and many TLS records,
/// receives both, and disconnects.
///
/// Not larger: Mosquitto 2.0.11's WebSocket listener takes in a big message
/// at some 40 kB/s (5 s for 200 kB, for mq-tokio too; delivery back is
/// instant); see eclipse-mosquitto/mosquitto#1390 and #2252.
async fn round_trip(client: Client, topic: &str) {
    let mut sub = bounded(
        "subscribe",
        client.subscribe(topic).qos(QoS::AtLeastOnce).into_future(),
    )
    .await
    .expect("subscribe");
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for payload in [b"hello".to_vec(), big] {
        let publish = client.publish(topic, payload.clone()).qos(QoS::AtLeastOnce);
        let code = bounded("publish", publish.into_future())
            .await
            .expect("publish at QoS 1");
        assert_eq!(code, ReasonCode::Success);
        let msg = bounded("receive", sub.recv())
            .await
            .expect("the subscription ended");
        assert_eq!((msg.topic.as_str(), msg.qos), (topic, QoS::AtLeastOnce));
        assert_eq!(msg.payload.len(), payload.len());
        assert!(msg.payload[..] == payload[..], "payload changed in transit");
    }
    bounded("disconnect", client.disconnect())
        .await
        .expect("disconnect");
}

fn ws_url(broker: &Broker) -> String {
    format!("ws://127.0.0.1:{}/mqtt", broker.ws_port())
}

#[test]
fn ws_round_trip_under_smol() {
    let broker = Broker::start(BrokerConfig::new().websockets(true));
    smol::block_on(async {
        let client = connected(&ws_url(&broker), options("smol-ws", TlsOptions::new())).await;
        round_trip(client, "mq/e2e/smol-ws").await;
    });
}

#[test]
fn ws_round_trip_under_async_std() {
    let broker = Broker::start(BrokerConfig::new().websockets(true));
    async_std::task::block_on(async {
        let (url, opts) = (ws_url(&broker), options("astd-ws", TlsOptions::new()));
        let connect = mq_smol::Executor::AsyncStd.connect(&url, opts);
        let client = bounded("connect", connect).await.expect("connect");
        round_trip(client, "mq/e2e/astd-ws").await;
    });
}

#[test]
fn ws_to_a_plain_mqtt_port_fails_in_time() {
    let broker = Broker::start(BrokerConfig::new());
    let url = format!("ws://127.0.0.1:{}/mqtt", broker.port());
    smol::block_on(async {
        let opts = options("smol-ws-wrong-port", TlsOptions::new());
        match bounded("a refused connect", connect(&url, opts)).await {
            Err(Error::WebSocket { url: asked, reason }) => {
                assert_eq!(asked, url);
                assert!(!reason.is_empty());
            }
            Err(e) => panic!("expected Error::WebSocket, got {e:?}"),
            Ok(client) => {
                let _ = bounded("disconnect", client.disconnect()).await;
                panic!("ws:// to the MQTT port {url} connected")
            }
        }
    });
}

#[test]
fn wss_round_trip() {
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
    smol::block_on(async {
        let tls = TlsOptions::new().ca_file(&pki.ca);
        let client = connected(&url, options("smol-wss", tls)).await;
        round_trip(client, "mq/e2e/smol-wss").await;
    });
}

/// PEM files of a throwaway CA and a server certificate for 127.0.0.1 signed
/// by it, removed on drop.
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!("mq-smol-ws-pki-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the certificate directory");
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            fs::write(&path, pem).expect("write a PEM file");
            path
        };
        let mut ca = CertificateParams::new(Vec::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "mq-smol ws CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca.self_signed(&ca_key).expect("self-sign the CA");
        let issuer = Issuer::new(ca, ca_key);
        let mut server = CertificateParams::new(vec!["127.0.0.1".into()]).expect("parameters");
        server
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = server.signed_by(&key, &issuer).expect("sign the server");
        Pki {
            ca: write("ca.pem", ca_cert.pem()),
            server_cert: write("server.pem", cert.pem()),
            server_key: write("server.key", key.serialize_pem()),
            dir,
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
