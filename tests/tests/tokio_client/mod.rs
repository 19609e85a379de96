//! [`TokioClient`]: mq-tokio behind the scenarios' blocking [`TestClient`]
//! facade, shared by the test files that run the scenario list through
//! mq-tokio (`tokio_scenarios.rs` against Mosquitto, `tokio_interop.rs`
//! against rumqttd and Aedes).
//!
//! It implements the facade with `Handle::block_on` on one multi-thread
//! runtime per test process: the test thread (and any thread a scenario
//! starts) blocks on a handle future while the driver task runs on the
//! runtime's workers.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use mq_e2e::scenarios::{
    ClientError, ClientOptions, Events, Message, Messages, ServerCapabilities, Stats, TestClient,
    TestEvent,
};
use mq_proto::{ProtocolVersion, Publish, ReasonCode, Subscribe};
use mq_tokio::{ClientEvent, ConnectOptions, Error};
use tokio::runtime::{Handle, Runtime};

/// The runtime every client of this test process runs on.
pub fn handle() -> &'static Handle {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime")
        })
        .handle()
}

/// Runs `fut` to completion on the shared runtime.
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    handle().block_on(fut)
}

/// How long a publish, subscribe or unsubscribe waits for the broker's
/// answer before failing with `Timeout`: a broker that never answers (rumqttd
/// and an UNSUBSCRIBE of a filter it does not have) fails the scenario
/// instead of hanging it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `fut` on the shared runtime for at most [`ANSWER_TIMEOUT`].
fn bounded<T>(fut: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, ClientError> {
    block_on(async { tokio::time::timeout(ANSWER_TIMEOUT, fut).await })
        .unwrap_or(Err(Error::Timeout))
        .map_err(map_error)
}

/// An mq-tokio client behind the scenarios' blocking facade.
pub struct TokioClient(pub mq_tokio::Client);

/// A subscription stream or the unrouted messages.
pub struct TokioMessages(pub mq_tokio::Subscription);

/// The client's event channel.
pub struct TokioEvents(pub mq_tokio::Events);

pub fn options_of(options: ClientOptions) -> ConnectOptions {
    let mut opts = ConnectOptions::new(options.mqtt.client_id.clone());
    opts.mqtt = options.mqtt;
    opts.auto_reconnect = options.auto_reconnect;
    opts.failover = options.failover;
    opts
}

pub fn map_error(e: Error) -> ClientError {
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

pub fn map_event(e: ClientEvent) -> TestEvent {
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

impl Messages for TokioMessages {
    fn recv_timeout(&mut self, timeout: Duration) -> Option<Message> {
        block_on(async { tokio::time::timeout(timeout, self.0.recv()).await })
            .ok()
            .flatten()
    }
}

impl Events for TokioEvents {
    fn recv_timeout(&mut self, timeout: Duration) -> Option<TestEvent> {
        block_on(async { tokio::time::timeout(timeout, self.0.recv()).await })
            .ok()
            .flatten()
            .map(map_event)
    }
}

impl TestClient for TokioClient {
    type Messages = TokioMessages;
    type Events = TokioEvents;

    fn connect(url: &str, options: ClientOptions) -> Result<Self, ClientError> {
        block_on(mq_tokio::connect(url, options_of(options)))
            .map(TokioClient)
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
                tokio::net::TcpStream::connect(addr).await
            }
        };
        block_on(mq_tokio::connect_with(connector, options_of(options)))
            .map(TokioClient)
            .map_err(map_error)
    }

    fn publish(&self, publish: Publish) -> Result<ReasonCode, ClientError> {
        bounded(
            self.0
                .publish(publish.topic, publish.payload)
                .qos(publish.qos)
                .retain(publish.retain)
                .properties(publish.properties)
                .into_future(),
        )
    }

    fn publish_all(&self, publishes: Vec<Publish>) -> Vec<Result<ReasonCode, ClientError>> {
        block_on(async {
            // Hand every message over in order without waiting, then wait for all.
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
        let sub = bounded(self.0.subscribe_with(packet))?;
        let codes = sub.reason_codes().to_vec();
        Ok((TokioMessages(sub), codes))
    }

    fn unsubscribe(&self, filters: &[&str]) -> Result<Vec<ReasonCode>, ClientError> {
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        bounded(self.0.unsubscribe(filters))
    }

    fn unrouted(&self) -> Result<Self::Messages, ClientError> {
        block_on(self.0.unrouted_messages())
            .map(TokioMessages)
            .map_err(map_error)
    }

    fn request(
        &self,
        topic: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Message, ClientError> {
        block_on(self.0.request(topic.to_string(), payload, timeout)).map_err(map_error)
    }

    fn events(&self) -> Self::Events {
        TokioEvents(self.0.events())
    }

    fn disconnect(&self) -> Result<(), ClientError> {
        block_on(self.0.disconnect()).map_err(map_error)
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
