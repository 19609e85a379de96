//! mq-smol against a real Mosquitto: pub/sub at every QoS on both protocol
//! versions under smol and under async-std, reconnect after a broker crash,
//! disconnect while reconnecting, backpressure, a user-supplied transport,
//! callbacks; then the shared scenario list (`mq_e2e::scenarios`) and the
//! crash tests (`mq_e2e::crash`) through [`SmolClient`].
//!
//! mq-smol runs its driver on a thread of its own, so each blocking facade
//! method simply blocks the calling thread on the handle future with
//! `smol::block_on`; no shared runtime is needed.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mq_e2e::crash::{CrashClient, Outcomes, Pending, Started};
use mq_e2e::scenarios::{
    ClientError, ClientOptions, Events, Message, Messages, ServerCapabilities, Stats, TestClient,
    TestEvent,
};
use mq_e2e::{Broker, BrokerConfig};
use mq_proto::client::{Backoff, DisconnectReason};
use mq_proto::{ProtocolVersion, Publish, QoS, ReasonCode, Subscribe};
use mq_smol::{ClientEvent, ConnectOptions, Error, Executor};
use smol::Timer;

const WAIT: Duration = Duration::from_secs(10);

/// `fut`, or `None` after `timeout`; works under any executor (async-io timer).
async fn within<T>(timeout: Duration, fut: impl Future<Output = Option<T>>) -> Option<T> {
    smol::future::or(fut, async {
        Timer::after(timeout).await;
        None
    })
    .await
}

fn options(version: ProtocolVersion, client_id: &str) -> ConnectOptions {
    let mut opts = ConnectOptions::new(client_id);
    opts.mqtt.protocol_version = version;
    opts.mqtt.protocol_fallback = false;
    opts.mqtt.connect_timeout = Duration::from_secs(5);
    opts.mqtt.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        jitter_percent: 20,
        stable_after: Duration::from_secs(30),
    };
    opts
}

/// Waits for an event `accept` takes, failing with what was seen instead.
async fn expect_event(
    events: &mut mq_smol::Events,
    what: &str,
    accept: impl Fn(&ClientEvent) -> bool,
) -> ClientEvent {
    let mut seen = Vec::new();
    let deadline = Instant::now() + WAIT;
    while let Some(event) = within(deadline - Instant::now(), events.recv()).await {
        if accept(&event) {
            return event;
        }
        seen.push(event);
    }
    panic!("no {what} event within {WAIT:?}; saw {seen:?}");
}

/// Subscribe at QoS 2, publish at QoS 0, 1 and 2 (awaited and with
/// `try_send`), receive each once at its own QoS, then disconnect.
async fn pubsub_each_qos(executor: Executor, url: String, version: ProtocolVersion, tag: &str) {
    let sub = executor
        .connect(&url, options(version, &format!("{tag}-sub")))
        .await
        .expect("connect subscriber");
    let publ = executor
        .connect(&url, options(version, &format!("{tag}-pub")))
        .await
        .expect("connect publisher");
    assert!(sub.is_connected());
    assert_eq!(sub.protocol_version(), version);
    let mut messages = sub
        .subscribe(format!("{tag}/#"))
        .qos(QoS::ExactlyOnce)
        .await
        .expect("subscribe");
    assert_eq!(messages.reason_codes(), [ReasonCode::GrantedQoS2]);

    let success = |code: Result<ReasonCode, Error>| {
        assert_eq!(code.expect("publish"), ReasonCode::Success);
    };
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let topic = format!("{tag}/{}", qos as u8);
        success(publ.publish(topic.clone(), "awaited").qos(qos).await);
        let token = publ
            .publish(topic.clone(), "handed over")
            .qos(qos)
            .user_property("k", "v")
            .try_send()
            .expect("try_send");
        success(token.await);
        for payload in ["awaited", "handed over"] {
            let got = within(WAIT, messages.recv()).await.expect("a message");
            assert_eq!(
                (got.topic.to_string(), &got.payload[..], got.qos),
                (topic.clone(), payload.as_bytes(), qos)
            );
        }
    }
    assert!(within(Duration::from_millis(300), messages.recv())
        .await
        .is_none());
    assert!(publ.stats().packets_sent > 0);

    sub.disconnect().await.expect("disconnect");
    assert!(sub.is_closed() && !sub.is_connected());
    let ended = within(WAIT, async { Some(messages.recv().await.is_none()) });
    assert_eq!(ended.await, Some(true), "the stream ends with the client");
    assert!(matches!(
        sub.publish(format!("{tag}/x"), "late").await,
        Err(Error::Closed)
    ));
    publ.disconnect().await.expect("disconnect");
}

#[test]
fn smol_pubsub_v311() {
    let broker = Broker::start(BrokerConfig::new());
    smol::block_on(pubsub_each_qos(
        Executor::Smol,
        broker.url(),
        ProtocolVersion::V311,
        "smol311",
    ));
}

#[test]
fn smol_pubsub_v5() {
    let broker = Broker::start(BrokerConfig::new());
    smol::block_on(pubsub_each_qos(
        Executor::Smol,
        broker.url(),
        ProtocolVersion::V5,
        "smol5",
    ));
}

#[test]
fn async_std_pubsub_v311() {
    let broker = Broker::start(BrokerConfig::new());
    async_std::task::block_on(pubsub_each_qos(
        Executor::AsyncStd,
        broker.url(),
        ProtocolVersion::V311,
        "astd311",
    ));
}

#[test]
fn async_std_pubsub_v5() {
    let broker = Broker::start(BrokerConfig::new());
    async_std::task::block_on(pubsub_each_qos(
        Executor::AsyncStd,
        broker.url(),
        ProtocolVersion::V5,
        "astd5",
    ));
}

/// Tasks spawned on async-std's executor share one client.
#[test]
fn async_std_tasks_share_a_client() {
    let broker = Broker::start(BrokerConfig::new());
    async_std::task::block_on(async {
        let client = Executor::AsyncStd
            .connect(&broker.url(), options(ProtocolVersion::V5, "astd-tasks"))
            .await
            .expect("connect");
        let mut messages = client
            .subscribe("tasks/#")
            .qos(QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let client = client.clone();
                async_std::task::spawn(async move {
                    for j in 0..25 {
                        let code = client
                            .publish(format!("tasks/{i}"), format!("{j}"))
                            .qos(QoS::AtLeastOnce)
                            .await;
                        assert_eq!(code.expect("publish"), ReasonCode::Success);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        for _ in 0..100 {
            within(WAIT, messages.recv()).await.expect("a message");
        }
        client.disconnect().await.expect("disconnect");
    });
}

/// The broker crashes and comes back without the session: the client
/// reports the loss, reconnects with backoff, resubscribes, and the same
/// subscription stream receives again.
#[test]
fn reconnect_after_broker_restart() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut broker = Broker::start(BrokerConfig::new());
        smol::block_on(async {
            let client = mq_smol::connect(&broker.url(), options(version, "restart"))
                .await
                .expect("connect");
            let mut events = client.events();
            let mut messages = client
                .subscribe("restart/t")
                .qos(QoS::AtLeastOnce)
                .await
                .expect("subscribe");
            broker.kill();
            expect_event(&mut events, "ConnectionLost", |e| {
                matches!(e, ClientEvent::ConnectionLost(_))
            })
            .await;
            expect_event(&mut events, "Reconnecting", |e| {
                matches!(e, ClientEvent::Reconnecting { .. })
            })
            .await;
            assert!(!client.is_connected());
            // Queued while down, sent after the reconnect.
            let pending = client
                .publish("restart/t", "while down")
                .qos(QoS::AtLeastOnce)
                .try_send()
                .expect("try_send");
            broker.restart();
            expect_event(&mut events, "Connected", |e| {
                matches!(e, ClientEvent::Connected { .. })
            })
            .await;
            expect_event(&mut events, "Resubscribed", |e| {
                matches!(e, ClientEvent::Resubscribed(_))
            })
            .await;
            assert!(within(WAIT, async { pending.await.ok() }).await.is_some());
            let code = client
                .publish("restart/t", "after")
                .qos(QoS::AtLeastOnce)
                .await;
            assert_eq!(code.expect("publish"), ReasonCode::Success);
            let mut got = Vec::new();
            while let Some(msg) = within(Duration::from_millis(500), messages.recv()).await {
                got.push(String::from_utf8_lossy(&msg.payload).into_owned());
            }
            assert!(got.contains(&"after".to_string()), "{got:?}");
            assert!(client.stats().reconnects >= 1);
            client.disconnect().await.expect("disconnect");
        });
    }
}

/// While the client backs off between attempts, `disconnect` returns at once
/// and the client stays closed when the broker comes back.
#[test]
fn disconnect_while_reconnecting_is_prompt() {
    let mut broker = Broker::start(BrokerConfig::new());
    smol::block_on(async {
        let mut opts = options(ProtocolVersion::V5, "dwr");
        opts.mqtt.backoff.initial = Duration::from_secs(3);
        opts.mqtt.backoff.max = Duration::from_secs(5);
        let client = mq_smol::connect(&broker.url(), opts)
            .await
            .expect("connect");
        let mut events = client.events();
        broker.kill();
        expect_event(&mut events, "ConnectionLost", |e| {
            *e == ClientEvent::ConnectionLost(Box::new(DisconnectReason::TransportClosed))
        })
        .await;
        expect_event(&mut events, "Reconnecting", |e| {
            matches!(e, ClientEvent::Reconnecting { .. })
        })
        .await;
        let start = Instant::now();
        client.disconnect().await.expect("disconnect");
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
        assert!(client.is_closed());
        let ended = within(WAIT, async {
            while let Some(event) = events.recv().await {
                assert!(!matches!(event, ClientEvent::Connected { .. }), "{event:?}");
            }
            Some(())
        });
        assert!(ended.await.is_some(), "the event stream ends");
        broker.restart();
        Timer::after(Duration::from_millis(500)).await;
        assert!(client.is_closed() && !client.is_connected());
    });
}

/// A subscriber that does not read holds the driver back (the broker keeps
/// the rest) instead of growing memory; every message arrives, in order.
#[test]
fn slow_subscriber_gets_everything_in_order() {
    const COUNT: usize = 200;
    let broker = Broker::start(BrokerConfig::new());
    smol::block_on(async {
        let mut opts = options(ProtocolVersion::V5, "slow-sub");
        opts.subscription_capacity = 4;
        let sub = mq_smol::connect(&broker.url(), opts)
            .await
            .expect("connect");
        let publ = mq_smol::connect(&broker.url(), options(ProtocolVersion::V5, "slow-pub"))
            .await
            .expect("connect");
        let mut messages = sub
            .subscribe("slow/t")
            .qos(QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let tokens: Vec<_> = (0..COUNT)
            .map(|i| {
                publ.publish("slow/t", i.to_string())
                    .qos(QoS::AtLeastOnce)
                    .try_send()
                    .expect("try_send")
            })
            .collect();
        for token in tokens {
            token.await.expect("publish");
        }
        Timer::after(Duration::from_millis(200)).await;
        for i in 0..COUNT {
            let msg = within(WAIT, messages.recv()).await.expect("a message");
            assert_eq!(&msg.payload[..], i.to_string().as_bytes());
            if i % 50 == 0 {
                Timer::after(Duration::from_millis(20)).await;
            }
        }
        sub.disconnect().await.expect("disconnect");
        publ.disconnect().await.expect("disconnect");
    });
}

/// `connect_with` opens the user's own stream (smol's TCP here) for the
/// first connection and for every reconnect; a callback subscription runs
/// its handler on a task of its own; unrouted messages have their own stream.
#[test]
fn connector_callback_and_unrouted() {
    let mut broker = Broker::start(BrokerConfig::new());
    let addr = broker.addr();
    smol::block_on(async {
        let client = mq_smol::connect_with(
            move || smol::net::TcpStream::connect(addr),
            options(ProtocolVersion::V5, "custom"),
        )
        .await
        .expect("connect_with");
        let (tx, rx) = mpsc::channel();
        let codes = client
            .subscribe_callback(Subscribe::new(0, "cb/#", QoS::AtLeastOnce), move |msg| {
                let _ = tx.send(msg.topic.to_string());
            })
            .await
            .expect("subscribe_callback");
        assert_eq!(codes, [ReasonCode::GrantedQoS1]);
        let mut unrouted = client.unrouted_messages().await.expect("unrouted");
        client
            .publish("cb/a", "x")
            .qos(QoS::AtLeastOnce)
            .await
            .expect("publish");
        assert_eq!(rx.recv_timeout(WAIT).as_deref(), Ok("cb/a"));
        assert!(within(Duration::from_millis(200), unrouted.recv())
            .await
            .is_none());

        let mut events = client.events();
        broker.restart();
        expect_event(&mut events, "Connected", |e| {
            matches!(e, ClientEvent::Connected { .. })
        })
        .await;
        client
            .publish("cb/b", "y")
            .qos(QoS::AtLeastOnce)
            .await
            .expect("publish after reconnect");
        assert_eq!(rx.recv_timeout(WAIT).as_deref(), Ok("cb/b"));
        client.disconnect().await.expect("disconnect");
    });
}

// ---------------------------------------------------------------------------
// TLS (feature `tls`): certificates made fresh with rcgen.

/// PEM files of a throwaway CA, a server certificate for 127.0.0.1 signed by
/// it, and an unrelated CA; removed on drop.
struct Pki {
    dir: std::path::PathBuf,
    ca: std::path::PathBuf,
    server_cert: std::path::PathBuf,
    server_key: std::path::PathBuf,
    other_ca: std::path::PathBuf,
}

impl Pki {
    fn new(tag: &str) -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let dir = std::env::temp_dir().join(format!("mq-smol-pki-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("certificate directory");
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).expect("write a PEM file");
            path
        };
        let ca = |name: &str| {
            let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            (params, KeyPair::generate().expect("CA key"))
        };
        let (ca_params, ca_key) = ca("mq-smol test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign");
        let issuer = Issuer::new(ca_params, ca_key);
        let (other_params, other_key) = ca("mq-smol unrelated CA");
        let other_cert = other_params.self_signed(&other_key).expect("self-sign");
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".into()]).expect("server parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("sign");
        Pki {
            ca: write("ca.pem", ca_cert.pem()),
            server_cert: write("server.pem", cert.pem()),
            server_key: write("server.key", key.serialize_pem()),
            other_ca: write("other-ca.pem", other_cert.pem()),
            dir,
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `mqtts://` with a private CA: a round trip with a payload larger than a
/// TLS record; an unrelated CA is refused with a typed handshake error.
#[test]
fn mqtts_round_trip_and_unknown_ca() {
    use mq_smol::tls::{TlsError, TlsOptions};
    let pki = Pki::new("round-trip");
    let broker = Broker::start(
        BrokerConfig::new().tls(mq_e2e::TlsConfig::new(&pki.server_cert, &pki.server_key)),
    );
    let url = format!("mqtts://127.0.0.1:{}", broker.tls_port());
    smol::block_on(async {
        let mut opts = options(ProtocolVersion::V5, "smol-tls");
        opts.tls = TlsOptions::new().ca_file(&pki.ca);
        let client = mq_smol::connect(&url, opts)
            .await
            .expect("connect over TLS");
        let mut messages = client
            .subscribe("tls/t")
            .qos(QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let code = client
            .publish("tls/t", big.clone())
            .qos(QoS::AtLeastOnce)
            .await;
        assert_eq!(code.expect("publish"), ReasonCode::Success);
        let msg = within(WAIT, messages.recv()).await.expect("the message");
        assert!(msg.payload[..] == big[..], "payload changed in transit");
        client.disconnect().await.expect("disconnect");

        let mut opts = options(ProtocolVersion::V5, "smol-tls-wrong-ca");
        opts.tls = TlsOptions::new().ca_file(&pki.other_ca);
        match mq_smol::connect(&url, opts).await {
            Err(Error::Tls(TlsError::Handshake { .. })) => {}
            other => panic!("expected a TLS handshake error, got {other:?}"),
        }
    });
}

// ---------------------------------------------------------------------------
// The shared scenarios.

/// The executor a scenario client blocks on: the same client must behave
/// the same under smol and under async-std.
trait Runtime: Send + Sync + 'static {
    /// Where the client's driver runs.
    const EXECUTOR: Executor;
    fn block_on<F: Future>(fut: F) -> F::Output;
}

struct Smol;
impl Runtime for Smol {
    const EXECUTOR: Executor = Executor::Smol;
    fn block_on<F: Future>(fut: F) -> F::Output {
        smol::block_on(fut)
    }
}

struct AsyncStd;
impl Runtime for AsyncStd {
    const EXECUTOR: Executor = Executor::AsyncStd;
    fn block_on<F: Future>(fut: F) -> F::Output {
        async_std::task::block_on(fut)
    }
}

/// An mq-smol client behind the scenarios' blocking facade, run on `R`.
struct SmolClient<R>(mq_smol::Client, PhantomData<R>);

/// A subscription stream or the unrouted messages.
struct SmolMessages<R>(mq_smol::Subscription, PhantomData<R>);

/// The client's events.
struct SmolEvents<R>(mq_smol::Events, PhantomData<R>);

fn options_of(options: ClientOptions) -> ConnectOptions {
    let mut opts = ConnectOptions::new(options.mqtt.client_id.clone());
    opts.mqtt = options.mqtt;
    opts.auto_reconnect = options.auto_reconnect;
    opts.failover = options.failover;
    opts
}

fn map_error(e: Error) -> ClientError {
    match e {
        Error::Url(e) => ClientError::Url(e),
        Error::Io(e) => ClientError::Io(e.kind()),
        Error::Connect(reason) => ClientError::Connect(*reason),
        Error::Command(e) => ClientError::Command(e),
        Error::Request(e) => ClientError::Request(e),
        Error::SubscribeRefused(codes) => ClientError::SubscribeRefused(codes),
        Error::Closed => ClientError::Closed,
        Error::Timeout => ClientError::Timeout,
        other => ClientError::Other(other.to_string()),
    }
}

fn map_event(e: ClientEvent) -> TestEvent {
    match e {
        ClientEvent::Connected {
            session_present, ..
        } => TestEvent::Connected { session_present },
        ClientEvent::ConnectionLost(reason) => TestEvent::ConnectionLost(*reason),
        ClientEvent::Reconnecting { delay } => TestEvent::Reconnecting { delay },
        ClientEvent::Resubscribed(codes) => TestEvent::Resubscribed(codes),
        other => TestEvent::Other(format!("{other:?}")),
    }
}

impl<R: Runtime> Messages for SmolMessages<R> {
    fn recv_timeout(&mut self, timeout: Duration) -> Option<Message> {
        R::block_on(within(timeout, self.0.recv()))
    }
}

impl<R: Runtime> Events for SmolEvents<R> {
    fn recv_timeout(&mut self, timeout: Duration) -> Option<TestEvent> {
        R::block_on(within(timeout, self.0.recv())).map(map_event)
    }
}

impl<R: Runtime> TestClient for SmolClient<R> {
    type Messages = SmolMessages<R>;
    type Events = SmolEvents<R>;

    fn connect(url: &str, options: ClientOptions) -> Result<Self, ClientError> {
        R::block_on(R::EXECUTOR.connect(url, options_of(options)))
            .map(|c| SmolClient(c, PhantomData))
            .map_err(map_error)
    }

    fn connect_hanging(
        addr: SocketAddr,
        working: usize,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let calls = AtomicUsize::new(0);
        let connector = move || {
            let hang = calls.fetch_add(1, Ordering::SeqCst) >= working;
            async move {
                if hang {
                    std::future::pending::<()>().await;
                }
                smol::net::TcpStream::connect(addr).await
            }
        };
        R::block_on(R::EXECUTOR.connect_with(connector, options_of(options)))
            .map(|c| SmolClient(c, PhantomData))
            .map_err(map_error)
    }

    fn publish(&self, publish: Publish) -> Result<ReasonCode, ClientError> {
        R::block_on(
            self.0
                .publish(publish.topic, publish.payload)
                .qos(publish.qos)
                .retain(publish.retain)
                .properties(publish.properties)
                .into_future(),
        )
        .map_err(map_error)
    }

    fn publish_all(&self, publishes: Vec<Publish>) -> Vec<Result<ReasonCode, ClientError>> {
        let tokens: Vec<_> = publishes
            .into_iter()
            .map(|p| {
                self.0
                    .publish(p.topic, p.payload)
                    .qos(p.qos)
                    .retain(p.retain)
                    .properties(p.properties)
                    .try_send()
            })
            .collect();
        R::block_on(async {
            let mut results = Vec::with_capacity(tokens.len());
            for token in tokens {
                results.push(match token {
                    Ok(token) => token.await.map_err(map_error),
                    Err(e) => Err(map_error(e)),
                });
            }
            results
        })
    }

    fn subscribe(
        &self,
        packet: Subscribe,
    ) -> Result<(Self::Messages, Vec<ReasonCode>), ClientError> {
        let sub = R::block_on(self.0.subscribe_with(packet)).map_err(map_error)?;
        let codes = sub.reason_codes().to_vec();
        Ok((SmolMessages(sub, PhantomData), codes))
    }

    fn unsubscribe(&self, filters: &[&str]) -> Result<Vec<ReasonCode>, ClientError> {
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        R::block_on(self.0.unsubscribe(filters)).map_err(map_error)
    }

    fn unrouted(&self) -> Result<Self::Messages, ClientError> {
        R::block_on(self.0.unrouted_messages())
            .map(|m| SmolMessages(m, PhantomData))
            .map_err(map_error)
    }

    fn request(
        &self,
        topic: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Message, ClientError> {
        R::block_on(self.0.request(topic.to_string(), payload, timeout)).map_err(map_error)
    }

    fn events(&self) -> Self::Events {
        SmolEvents(self.0.events(), PhantomData)
    }

    fn disconnect(&self) -> Result<(), ClientError> {
        R::block_on(self.0.disconnect()).map_err(map_error)
    }

    fn is_connected(&self) -> bool {
        self.0.is_connected()
    }

    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn server_capabilities(&self) -> ServerCapabilities {
        self.0.server_capabilities()
    }

    fn protocol_version(&self) -> ProtocolVersion {
        self.0.protocol_version()
    }

    fn stats(&self) -> Stats {
        self.0.stats()
    }

    fn in_flight(&self) -> usize {
        self.0.in_flight()
    }
}

/// A publish handed over, for the crash tests.
struct SmolPending<R>(mq_smol::PublishToken, PhantomData<R>);

/// Restored publishes' outcomes.
struct SmolOutcomes<R>(mq_smol::RestoredOutcomes, PhantomData<R>);

impl<R: Runtime> Pending for SmolPending<R> {
    fn wait(self, timeout: Duration) -> Result<ReasonCode, ClientError> {
        R::block_on(within(timeout, async { Some(self.0.await) }))
            .unwrap_or(Err(Error::Timeout))
            .map_err(map_error)
    }
}

impl<R: Runtime> Outcomes for SmolOutcomes<R> {
    fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Option<(Publish, Result<ReasonCode, ClientError>)> {
        let outcome = R::block_on(within(timeout, self.0.recv()))?;
        Some((outcome.publish, outcome.result.map_err(map_error)))
    }
}

impl<R: Runtime> CrashClient for SmolClient<R> {
    type Pending = SmolPending<R>;
    type Outcomes = SmolOutcomes<R>;

    fn start(
        url: &str,
        options: ConnectOptions,
        subscribe: Option<(&str, QoS)>,
    ) -> Result<Started<Self>, ClientError> {
        R::block_on(async {
            let mut prepared = R::EXECUTOR.prepare(url, options).await?;
            let restored = SmolOutcomes(prepared.client().restored_outcomes(), PhantomData);
            let messages = match subscribe {
                Some((filter, qos)) => Some(SmolMessages(
                    prepared.subscribe(filter.to_string()).qos(qos).await?,
                    PhantomData,
                )),
                None => None,
            };
            let unrouted = SmolMessages(prepared.unrouted_messages().await?, PhantomData);
            Ok(Started {
                client: SmolClient(prepared.connect().await?, PhantomData),
                messages,
                unrouted,
                restored,
            })
        })
        .map_err(map_error)
    }

    fn send(&self, p: Publish) -> Result<SmolPending<R>, ClientError> {
        R::block_on(self.0.publish(p.topic, p.payload).qos(p.qos).send())
            .map(|token| SmolPending(token, PhantomData))
            .map_err(map_error)
    }

    fn ack(&self, msg: &Message) -> Result<(), ClientError> {
        R::block_on(self.0.ack(msg)).map_err(map_error)
    }
}

/// The shared scenario list and the crash tests under smol.
mod smol_scenarios {
    mq_e2e::scenario_tests!(super::SmolClient<super::Smol>);
    mq_e2e::cluster_tests!(super::SmolClient<super::Smol>);
    mq_e2e::closing_tests!(super::SmolClient<super::Smol>);
    mq_e2e::crash_tests!(super::SmolClient<super::Smol>);
}

/// The shared scenario list and the crash tests under async-std.
mod async_std_scenarios {
    mq_e2e::scenario_tests!(super::SmolClient<super::AsyncStd>);
    mq_e2e::cluster_tests!(super::SmolClient<super::AsyncStd>);
    mq_e2e::closing_tests!(super::SmolClient<super::AsyncStd>);
    mq_e2e::crash_tests!(super::SmolClient<super::AsyncStd>);
}
