//! The mq-proto codec against a real Mosquitto: every packet here is encoded
//! with `Packet::encode`, every answer decoded with `Decoder::decode`, over a
//! plain `std::net::TcpStream` with read timeouts. Each test starts its own
//! broker, so they run in parallel.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mq_e2e::{Broker, BrokerConfig};
use mq_proto::{
    ConnAck, Connect, Decoder, Packet, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish,
    QoS, ReasonCode, SubAck, Subscribe, SubscribeFilter, SubscriptionOptions, UnsubAck,
    Unsubscribe,
};

use ProtocolVersion::{V311, V5};

/// How long a test waits for a packet it expects.
const PACKET_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a test listens to be sure that nothing comes.
const SILENCE: Duration = Duration::from_millis(300);

/// One raw MQTT connection: the codec over a blocking socket.
struct Client {
    stream: TcpStream,
    version: ProtocolVersion,
    decoder: Decoder,
    read_buf: BytesMut,
}

impl Client {
    /// Opens a TCP connection without sending anything.
    fn open(broker: &Broker, version: ProtocolVersion) -> Client {
        let stream = TcpStream::connect(broker.addr()).expect("connect to the broker");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Client {
            stream,
            version,
            decoder: Decoder::new(version),
            read_buf: BytesMut::with_capacity(4096),
        }
    }

    /// Connects, sends `connect`, and returns the CONNACK, whatever its code.
    fn handshake(broker: &Broker, connect: Connect) -> (Client, ConnAck) {
        let mut client = Client::open(broker, connect.protocol_version);
        client.send(connect);
        match client.recv() {
            Packet::ConnAck(connack) => (client, connack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// Connects with a clean session as `client_id` and checks the CONNACK is a success.
    fn connect(broker: &Broker, version: ProtocolVersion, client_id: &str) -> Client {
        let (client, connack) = Client::handshake(broker, Connect::new(version, client_id));
        assert_eq!(connack.reason_code, ReasonCode::Success, "{connack:?}");
        client
    }

    /// Encodes `packet` with the connection's version and writes it.
    fn send(&mut self, packet: impl Into<Packet>) {
        let mut buf = BytesMut::new();
        packet
            .into()
            .encode(self.version, &mut buf)
            .expect("encode a packet");
        self.stream.write_all(&buf).expect("write to the broker");
    }

    /// The next packet, waiting at most `timeout`; `Err` is the read error
    /// (a timeout is `WouldBlock` or `TimedOut`, a closed connection `UnexpectedEof`).
    fn try_recv(&mut self, timeout: Duration) -> Result<Packet, std::io::Error> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 4096];
        // Each pass either returns or reads at least one byte before the
        // deadline, and a packet can be no longer than the bytes read.
        loop {
            if let Some(packet) = self
                .decoder
                .decode(&mut self.read_buf)
                .unwrap_or_else(|e| panic!("decode {:02x?}: {e}", &self.read_buf[..]))
            {
                return Ok(packet);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut chunk)? {
                0 => return Err(ErrorKind::UnexpectedEof.into()),
                n => self.read_buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next packet; panics if none comes within [`PACKET_TIMEOUT`].
    fn recv(&mut self) -> Packet {
        self.try_recv(PACKET_TIMEOUT)
            .unwrap_or_else(|e| panic!("no packet from the broker: {e}"))
    }

    /// The next packet, which must be a PUBLISH.
    fn recv_publish(&mut self) -> Publish {
        match self.recv() {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// Asserts that no packet arrives for [`SILENCE`].
    fn expect_silence(&mut self) {
        match self.try_recv(SILENCE) {
            Err(e) if is_timeout(&e) => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }

    /// Sends PINGREQ and waits for PINGRESP: a barrier, since the broker
    /// answers in order.
    fn ping(&mut self) {
        self.send(Packet::PingReq);
        assert_eq!(self.recv(), Packet::PingResp);
    }

    /// Subscribes to `filter` and checks the SUBACK grants `qos`.
    fn subscribe(&mut self, packet_id: u16, filter: &str, qos: QoS) {
        self.send(Subscribe::new(packet_id, filter, qos));
        let suback = expect_suback(self.recv());
        assert_eq!(suback.packet_id, packet_id);
        assert_eq!(suback.reason_codes, [granted(qos)]);
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn granted(qos: QoS) -> ReasonCode {
    match qos {
        QoS::AtMostOnce => ReasonCode::Success,
        QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
    }
}

fn expect_suback(packet: Packet) -> SubAck {
    match packet {
        Packet::SubAck(s) => s,
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

fn publish(topic: &str, payload: &'static [u8], qos: QoS, packet_id: u16) -> Publish {
    let mut p = Publish::new(topic, Bytes::from_static(payload));
    p.qos = qos;
    p.packet_id = packet_id;
    p
}

/// Runs `test` once per protocol version, as two `#[test]` functions.
macro_rules! both_versions {
    ($($name:ident),* $(,)?) => {
        mod v311 {
            $(#[test] fn $name() { super::$name(super::V311) })*
        }
        mod v5 {
            $(#[test] fn $name() { super::$name(super::V5) })*
        }
    };
}

both_versions!(
    connect_gets_a_successful_connack,
    subscribe_grants_each_qos,
    qos1_publish_is_acknowledged_and_delivered,
    qos2_flow_completes_both_ways,
    oversized_publish_closes_the_connection,
    retained_message_survives_kill_and_restart,
    paused_broker_answers_after_resume,
);

fn connect_gets_a_successful_connack(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut connect = Connect::new(version, "interop-connect");
    connect.keep_alive = 30;
    let (mut client, connack) = Client::handshake(&broker, connect);
    assert_eq!(connack.reason_code, ReasonCode::Success);
    assert!(!connack.session_present);
    if version == V311 {
        assert!(connack.properties.is_empty(), "{connack:?}");
    }
    client.ping();

    // An empty client id with a clean start is accepted; 5.0 is told the id.
    let (_client, connack) = Client::handshake(&broker, Connect::new(version, ""));
    assert_eq!(connack.reason_code, ReasonCode::Success);
    match version {
        V311 => assert_eq!(connack.properties.assigned_client_identifier, None),
        V5 => {
            let id = connack.properties.assigned_client_identifier();
            assert!(id.as_ref().is_some_and(|id| !id.is_empty()), "{id:?}");
        }
    }
}

fn subscribe_grants_each_qos(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut client = Client::connect(&broker, version, "interop-sub");
    let mut subscribe = Subscribe::new(10, "a/0", QoS::AtMostOnce);
    for (filter, qos) in [("a/+/1", QoS::AtLeastOnce), ("a/#", QoS::ExactlyOnce)] {
        subscribe.subscriptions.push(SubscribeFilter {
            filter: filter.into(),
            options: SubscriptionOptions {
                qos,
                ..Default::default()
            },
        });
    }
    client.send(subscribe);
    let suback = expect_suback(client.recv());
    assert_eq!(suback.packet_id, 10);
    assert_eq!(
        suback.reason_codes,
        [
            ReasonCode::Success,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2
        ]
    );

    client.send(Unsubscribe {
        packet_id: 11,
        filters: vec!["a/0".into(), "never/subscribed".into()],
        properties: Default::default(),
    });
    let unsuback: UnsubAck = match client.recv() {
        Packet::UnsubAck(u) => u,
        other => panic!("expected UNSUBACK, got {other:?}"),
    };
    assert_eq!(unsuback.packet_id, 11);
    match version {
        // 3.1.1 UNSUBACK has no payload.
        V311 => assert!(unsuback.reason_codes.is_empty(), "{unsuback:?}"),
        V5 => assert_eq!(
            unsuback.reason_codes,
            [ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
        ),
    }
}

fn qos1_publish_is_acknowledged_and_delivered(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut subscriber = Client::connect(&broker, version, "interop-q1-sub");
    subscriber.subscribe(1, "q1/+", QoS::AtLeastOnce);
    let mut publisher = Client::connect(&broker, version, "interop-q1-pub");

    publisher.send(publish("q1/x", b"hello qos1", QoS::AtLeastOnce, 7));
    assert_eq!(publisher.recv(), Packet::PubAck(PubAck::new(7)));

    let received = subscriber.recv_publish();
    assert_eq!(received.topic, "q1/x");
    assert_eq!(received.payload, &b"hello qos1"[..]);
    assert_eq!(received.qos, QoS::AtLeastOnce);
    assert!(!received.retain && !received.dup);
    assert_ne!(received.packet_id, 0);
    subscriber.send(PubAck::new(received.packet_id));
    // Acknowledged: the broker must not send it again.
    subscriber.ping();

    if version == V5 {
        // Nobody subscribes to this topic: 5.0 says so in the PUBACK.
        publisher.send(publish("nobody/listens", b"x", QoS::AtLeastOnce, 8));
        let puback = match publisher.recv() {
            Packet::PubAck(p) => p,
            other => panic!("expected PUBACK, got {other:?}"),
        };
        assert_eq!(puback.packet_id, 8);
        assert_eq!(puback.reason_code, ReasonCode::NoMatchingSubscribers);
    }
}

fn qos2_flow_completes_both_ways(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut subscriber = Client::connect(&broker, version, "interop-q2-sub");
    subscriber.subscribe(1, "q2/#", QoS::ExactlyOnce);
    let mut publisher = Client::connect(&broker, version, "interop-q2-pub");

    // Publisher side: PUBLISH -> PUBREC, PUBREL -> PUBCOMP.
    publisher.send(publish("q2/a/b", b"exactly once", QoS::ExactlyOnce, 300));
    assert_eq!(publisher.recv(), Packet::PubRec(PubRec::new(300)));
    publisher.send(PubRel::new(300));
    assert_eq!(publisher.recv(), Packet::PubComp(PubComp::new(300)));

    // Subscriber side: PUBLISH -> PUBREC, PUBREL -> PUBCOMP.
    let received = subscriber.recv_publish();
    assert_eq!(received.topic, "q2/a/b");
    assert_eq!(received.payload, &b"exactly once"[..]);
    assert_eq!(received.qos, QoS::ExactlyOnce);
    let id = received.packet_id;
    assert_ne!(id, 0);
    subscriber.send(PubRec::new(id));
    assert_eq!(subscriber.recv(), Packet::PubRel(PubRel::new(id)));
    subscriber.send(PubComp::new(id));
    subscriber.ping();
}

#[test]
fn user_properties_round_trip_in_order_v5() {
    let broker = Broker::start(BrokerConfig::new());
    let mut subscriber = Client::connect(&broker, V5, "interop-props-sub");
    let mut subscribe = Subscribe::new(1, "props/#", QoS::AtLeastOnce);
    subscribe.properties.subscription_identifiers.push(42);
    subscriber.send(subscribe);
    assert_eq!(
        expect_suback(subscriber.recv()).reason_codes,
        [ReasonCode::GrantedQoS1]
    );

    let mut publisher = Client::connect(&broker, V5, "interop-props-pub");
    let mut message = publish("props/1", b"{\"t\":21.5}", QoS::AtLeastOnce, 1);
    let user_properties: Vec<_> = [
        ("b", "2"),
        ("a", "1"),
        ("b", "3"),
        ("empty", ""),
        ("ü", "∑"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect();
    let props = &mut message.properties;
    props.user_properties = user_properties.clone();
    props.content_type = Some("application/json".into());
    props.response_topic = Some("reply/here".into());
    props.correlation_data = Some(Bytes::from_static(b"\x00\x01corr"));
    props.payload_format_indicator = Some(mq_proto::PayloadFormat::Utf8);
    props.message_expiry_interval = Some(3600);
    publisher.send(message);
    assert_eq!(publisher.recv(), Packet::PubAck(PubAck::new(1)));

    let received = subscriber.recv_publish();
    assert_eq!(received.payload, &b"{\"t\":21.5}"[..]);
    let got = &received.properties;
    assert_eq!(got.user_properties, user_properties);
    assert_eq!(got.content_type.as_deref(), Some("application/json"));
    assert_eq!(got.response_topic.as_deref(), Some("reply/here"));
    assert_eq!(got.correlation_data.as_deref(), Some(&b"\x00\x01corr"[..]));
    assert_eq!(
        got.payload_format_indicator,
        Some(mq_proto::PayloadFormat::Utf8)
    );
    // The broker forwards what is left of the expiry interval.
    let expiry = got
        .message_expiry_interval
        .expect("message expiry interval");
    assert!((3590..=3600).contains(&expiry), "{expiry}");
    assert_eq!(got.subscription_identifiers, [42]);
    subscriber.send(PubAck::new(received.packet_id));
    subscriber.ping();
}

#[test]
fn broker_limits_show_up_in_connack_v5() {
    let broker = Broker::start(
        BrokerConfig::new()
            .max_packet_size(2048)
            .max_inflight_messages(7)
            .max_topic_alias(5)
            .max_keepalive(30),
    );
    let mut connect = Connect::new(V5, "interop-limits");
    connect.keep_alive = 120;
    connect.properties.maximum_packet_size = Some(4096);
    let (mut client, connack) = Client::handshake(&broker, connect);
    assert_eq!(connack.reason_code, ReasonCode::Success);
    let p = &connack.properties;
    assert_eq!(p.maximum_packet_size, Some(2048), "{connack:?}");
    assert_eq!(p.receive_maximum, Some(7), "{connack:?}");
    assert_eq!(p.topic_alias_maximum, Some(5), "{connack:?}");
    assert_eq!(p.server_keep_alive, Some(30), "{connack:?}");
    client.ping();
}

#[test]
fn broker_respects_the_client_maximum_packet_size_v5() {
    let broker = Broker::start(BrokerConfig::new());
    let mut connect = Connect::new(V5, "interop-small");
    connect.properties.maximum_packet_size = Some(128);
    let (mut subscriber, connack) = Client::handshake(&broker, connect);
    assert_eq!(connack.reason_code, ReasonCode::Success);
    subscriber.subscribe(1, "size/#", QoS::AtMostOnce);

    let mut publisher = Client::connect(&broker, V5, "interop-big");
    publisher.send(publish("size/big", &[b'x'; 200], QoS::AtLeastOnce, 1));
    assert!(matches!(publisher.recv(), Packet::PubAck(a) if a.packet_id == 1));
    publisher.send(publish("size/small", b"fits", QoS::AtLeastOnce, 2));
    assert!(matches!(publisher.recv(), Packet::PubAck(a) if a.packet_id == 2));

    // The 200-byte message would exceed 128 bytes: the broker drops it.
    let received = subscriber.recv_publish();
    assert_eq!(received.topic, "size/small");
    assert_eq!(received.payload, &b"fits"[..]);
    subscriber.expect_silence();
}

#[test]
fn topic_alias_stands_for_the_topic_v5() {
    let broker = Broker::start(BrokerConfig::new().max_topic_alias(3));
    let mut subscriber = Client::connect(&broker, V5, "interop-alias-sub");
    subscriber.subscribe(1, "alias/#", QoS::AtMostOnce);
    let mut publisher = Client::connect(&broker, V5, "interop-alias-pub");

    // Set alias 2, then use it with an empty topic.
    let mut first = publish("alias/topic", b"one", QoS::AtLeastOnce, 1);
    first.properties.topic_alias = Some(2);
    publisher.send(first);
    assert_eq!(publisher.recv(), Packet::PubAck(PubAck::new(1)));
    let mut second = publish("", b"two", QoS::AtLeastOnce, 2);
    second.properties.topic_alias = Some(2);
    publisher.send(second);
    assert_eq!(publisher.recv(), Packet::PubAck(PubAck::new(2)));

    for payload in [&b"one"[..], b"two"] {
        let received = subscriber.recv_publish();
        assert_eq!(received.topic, "alias/topic");
        assert_eq!(received.payload, payload);
    }
}

fn oversized_publish_closes_the_connection(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new().max_packet_size(256));
    let mut client = Client::connect(&broker, version, "interop-oversize");
    client.send(publish("big", &[0u8; 300], QoS::AtMostOnce, 0));
    if version == V5 {
        match client.recv() {
            Packet::Disconnect(d) => assert_eq!(d.reason_code, ReasonCode::PacketTooLarge),
            other => panic!("expected DISCONNECT, got {other:?}"),
        }
    }
    let closed = client.try_recv(PACKET_TIMEOUT).unwrap_err();
    assert!(
        matches!(
            closed.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
        ),
        "{closed}"
    );
}

fn retained_message_survives_kill_and_restart(version: ProtocolVersion) {
    let mut broker = Broker::start(BrokerConfig::new().persistence(true));
    let port = broker.port();
    let mut publisher = Client::connect(&broker, version, "interop-retain-pub");
    let mut message = publish("keep/me", b"still here", QoS::AtLeastOnce, 5);
    message.retain = true;
    publisher.send(message);
    let mut puback = PubAck::new(5);
    if version == V5 {
        puback.reason_code = ReasonCode::NoMatchingSubscribers;
    }
    assert_eq!(publisher.recv(), Packet::PubAck(puback));
    // One more round trip: the broker has saved the change by now.
    publisher.ping();

    broker.kill();
    assert!(
        publisher.try_recv(PACKET_TIMEOUT).is_err(),
        "the connection outlived the broker"
    );
    broker.restart();
    assert_eq!(broker.port(), port);

    let mut subscriber = Client::connect(&broker, version, "interop-retain-sub");
    subscriber.subscribe(1, "keep/#", QoS::AtLeastOnce);
    let received = subscriber.recv_publish();
    assert!(received.retain, "{received:?}");
    assert_eq!(received.topic, "keep/me");
    assert_eq!(received.payload, &b"still here"[..]);
    subscriber.send(PubAck::new(received.packet_id));
    subscriber.ping();
}

fn paused_broker_answers_after_resume(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let mut client = Client::connect(&broker, version, "interop-pause");
    client.ping();

    broker.pause();
    client.send(Packet::PingReq);
    match client.try_recv(SILENCE) {
        Err(e) if is_timeout(&e) => {}
        other => panic!("a paused broker answered: {other:?}"),
    }

    broker.resume();
    // The PINGREQ sent while paused is answered now, and the link works on.
    assert_eq!(client.recv(), Packet::PingResp);
    client.ping();
}
