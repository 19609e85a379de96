//! The shared end-to-end scenarios (`mq_e2e::scenarios`) and crash tests
//! (`mq_e2e::crash`) run through mq-blocking: one `#[test]` per scenario and
//! protocol version, each with its own Mosquitto broker. The blocking client
//! is the facade itself, so this file only maps types.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mq_blocking::{ClientEvent, ConnectOptions, Error};
use mq_e2e::crash::{CrashClient, Outcomes, Pending, Started};
use mq_e2e::scenarios::{
    ClientError, ClientOptions, Events, Message, Messages, ServerCapabilities, Stats, TestClient,
    TestEvent,
};
use mq_proto::{ProtocolVersion, Publish, QoS, ReasonCode, Subscribe};

/// An mq-blocking client behind the scenarios' facade.
struct BlockingClient(mq_blocking::Client);

/// A subscription or the unrouted messages.
struct BlockingMessages(mq_blocking::Subscription);

/// The client's event channel.
struct BlockingEvents(mq_blocking::Events);

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

impl Messages for BlockingMessages {
    fn recv_timeout(&mut self, timeout: Duration) -> Option<Message> {
        self.0.recv_timeout(timeout)
    }
}

impl Events for BlockingEvents {
    fn recv_timeout(&mut self, timeout: Duration) -> Option<TestEvent> {
        let event = self.0.recv_timeout(timeout).ok()?;
        Some(match event {
            ClientEvent::Connected {
                session_present, ..
            } => TestEvent::Connected { session_present },
            ClientEvent::ConnectionLost(reason) => TestEvent::ConnectionLost(*reason),
            ClientEvent::Reconnecting { delay } => TestEvent::Reconnecting { delay },
            ClientEvent::Resubscribed(codes) => TestEvent::Resubscribed(codes),
            other => TestEvent::Other(format!("{other:?}")),
        })
    }
}

impl TestClient for BlockingClient {
    type Messages = BlockingMessages;
    type Events = BlockingEvents;

    fn connect(url: &str, options: ClientOptions) -> Result<Self, ClientError> {
        let mut opts = ConnectOptions::new(options.mqtt.client_id.clone());
        opts.mqtt = options.mqtt;
        opts.auto_reconnect = options.auto_reconnect;
        opts.failover = options.failover;
        mq_blocking::connect(url, opts)
            .map(BlockingClient)
            .map_err(map_error)
    }

    fn connect_hanging(
        addr: SocketAddr,
        working: usize,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let mut opts = ConnectOptions::new(options.mqtt.client_id.clone());
        opts.mqtt = options.mqtt;
        opts.auto_reconnect = options.auto_reconnect;
        opts.failover = options.failover;
        let calls = AtomicUsize::new(0);
        let connector = move || {
            if calls.fetch_add(1, Ordering::SeqCst) >= working {
                std::thread::sleep(Duration::from_secs(60));
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            mq_blocking::Duplex::tcp(std::net::TcpStream::connect(addr)?)
        };
        mq_blocking::connect_with(connector, opts)
            .map(BlockingClient)
            .map_err(map_error)
    }

    fn publish(&self, p: Publish) -> Result<ReasonCode, ClientError> {
        self.0
            .publish(p.topic, p.payload)
            .qos(p.qos)
            .retain(p.retain)
            .properties(p.properties)
            .send()
            .and_then(|handle| handle.wait())
            .map_err(map_error)
    }

    fn publish_all(&self, publishes: Vec<Publish>) -> Vec<Result<ReasonCode, ClientError>> {
        // Hand every message over in order without waiting, then wait for all.
        let handles: Vec<_> = publishes
            .into_iter()
            .map(|p| {
                self.0
                    .publish(p.topic, p.payload)
                    .qos(p.qos)
                    .retain(p.retain)
                    .properties(p.properties)
                    .send()
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.and_then(|h| h.wait()).map_err(map_error))
            .collect()
    }

    fn subscribe(
        &self,
        packet: Subscribe,
    ) -> Result<(Self::Messages, Vec<ReasonCode>), ClientError> {
        let sub = self.0.subscribe_with(packet).map_err(map_error)?;
        let codes = sub.reason_codes().to_vec();
        Ok((BlockingMessages(sub), codes))
    }

    fn unsubscribe(&self, filters: &[&str]) -> Result<Vec<ReasonCode>, ClientError> {
        self.0
            .unsubscribe(filters.iter().copied())
            .map_err(map_error)
    }

    fn unrouted(&self) -> Result<Self::Messages, ClientError> {
        self.0
            .unrouted_messages()
            .map(BlockingMessages)
            .map_err(map_error)
    }

    fn request(
        &self,
        topic: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Message, ClientError> {
        self.0.request(topic, payload, timeout).map_err(map_error)
    }

    fn events(&self) -> Self::Events {
        BlockingEvents(self.0.events())
    }

    fn disconnect(&self) -> Result<(), ClientError> {
        self.0.disconnect().map_err(map_error)
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

mq_e2e::scenario_tests!(BlockingClient);
mq_e2e::cluster_tests!(BlockingClient);
mq_e2e::closing_tests!(BlockingClient);

/// A publish handed over, for the crash tests.
struct BlockingPending(mq_blocking::PublishHandle);

/// Restored publishes' outcomes.
struct BlockingOutcomes(mq_blocking::RestoredOutcomes);

impl Pending for BlockingPending {
    fn wait(mut self, timeout: Duration) -> Result<ReasonCode, ClientError> {
        self.0.wait_timeout(timeout).map_err(map_error)
    }
}

impl Outcomes for BlockingOutcomes {
    fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Option<(Publish, Result<ReasonCode, ClientError>)> {
        let outcome = self.0.recv_timeout(timeout)?;
        Some((outcome.publish, outcome.result.map_err(map_error)))
    }
}

impl CrashClient for BlockingClient {
    type Pending = BlockingPending;
    type Outcomes = BlockingOutcomes;

    fn start(
        url: &str,
        options: ConnectOptions,
        subscribe: Option<(&str, QoS)>,
    ) -> Result<Started<Self>, ClientError> {
        let mut prepared = mq_blocking::prepare(url, options).map_err(map_error)?;
        let restored = BlockingOutcomes(prepared.restored_outcomes());
        let messages = match subscribe {
            Some((filter, qos)) => Some(BlockingMessages(
                prepared
                    .subscribe(filter)
                    .qos(qos)
                    .send()
                    .map_err(map_error)?,
            )),
            None => None,
        };
        let unrouted = BlockingMessages(prepared.unrouted_messages().map_err(map_error)?);
        Ok(Started {
            client: BlockingClient(prepared.connect().map_err(map_error)?),
            messages,
            unrouted,
            restored,
        })
    }

    fn send(&self, p: Publish) -> Result<BlockingPending, ClientError> {
        self.0
            .publish(p.topic, p.payload)
            .qos(p.qos)
            .send()
            .map(BlockingPending)
            .map_err(map_error)
    }

    fn ack(&self, msg: &Message) -> Result<(), ClientError> {
        self.0.ack(msg).map_err(map_error)
    }
}

mq_e2e::crash_tests!(BlockingClient);
