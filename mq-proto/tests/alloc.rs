//! The hot path allocates nothing: decoding a PUBLISH from a warm read buffer
//! and encoding one into a warm write buffer, and the client state machine's
//! publish and receive paths once warm.
//!
//! A counting wrapper around the system allocator counts allocations made on
//! the thread that switched counting on, so the test harness's own threads
//! do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use mq_proto::client::{Client, Event, Instant, Options, Router};
use mq_proto::{
    Decoder, MqttString, Packet, PayloadFormat, ProtocolVersion, Publish, QoS, Subscribe,
};

/// Counts allocations (and reallocations) made while [`COUNTING`] is set on the calling thread.
struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting has no effect on memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (ALLOCATIONS.load(Ordering::Relaxed) - before, out)
}

/// A QoS 1 PUBLISH; on 5.0 with every PUBLISH property, Subscription
/// Identifiers and User Properties among them.
fn publish(version: ProtocolVersion) -> Publish {
    let mut p = Publish::new("sensors/room-1/temperature", Bytes::from_static(b"21.5"));
    p.qos = QoS::AtLeastOnce;
    p.packet_id = 42;
    if version == ProtocolVersion::V5 {
        p.properties.topic_alias = Some(7);
        p.properties.message_expiry_interval = Some(3600);
        p.properties.payload_format_indicator = Some(PayloadFormat::Utf8);
        p.properties.content_type = Some("text/plain".into());
        p.properties.response_topic = Some("replies/1".into());
        p.properties.correlation_data = Some(Bytes::from_static(b"req-17"));
        p.properties.subscription_identifiers = vec![1, 268_435_455];
        p.properties.user_properties = vec![
            (MqttString::from("trace"), MqttString::from("4bf92f35")),
            (MqttString::from("trace"), MqttString::from("77b34da6")),
        ];
    }
    p
}

/// Decoding from a warm read buffer: the first packet turns the buffer into
/// shared storage; every later packet is a refcounted slice of it.
fn check_decode(version: ProtocolVersion) {
    const PACKETS: usize = 16;
    let expected = Packet::Publish(publish(version));
    let mut read_buf = BytesMut::with_capacity(4096);
    for _ in 0..PACKETS {
        expected.encode(version, &mut read_buf).unwrap();
    }
    let decoder = Decoder::new(version);
    // Warm-up: the first decode may allocate the buffer's shared header.
    assert_eq!(
        decoder.decode(&mut read_buf).unwrap().as_ref(),
        Some(&expected)
    );

    for _ in 1..PACKETS {
        let (n, packet) = allocations(|| decoder.decode(&mut read_buf));
        assert_eq!(n, 0, "decoding a {version:?} PUBLISH allocated {n} times");
        assert_eq!(packet.unwrap().as_ref(), Some(&expected));
    }
    assert!(read_buf.is_empty());
}

/// Encoding into a warm write buffer with spare capacity.
fn check_encode(version: ProtocolVersion) {
    let packet = Packet::Publish(publish(version));
    let mut write_buf = BytesMut::with_capacity(4096);
    packet.encode(version, &mut write_buf).unwrap();
    let len = write_buf.len();
    write_buf.clear();

    for _ in 0..16 {
        let (n, written) = allocations(|| packet.encode(version, &mut write_buf));
        assert_eq!(n, 0, "encoding a {version:?} PUBLISH allocated {n} times");
        assert_eq!(written, Ok(len));
    }
    assert_eq!(write_buf.len(), 16 * len);
}

/// What one client scenario sends and receives.
#[derive(Clone, Copy, Debug)]
struct Case {
    version: ProtocolVersion,
    qos: QoS,
    payload: usize,
    /// Subscription Identifiers on received messages (5.0).
    subscription_identifiers: bool,
    /// User Properties on sent and received messages (5.0).
    user_properties: bool,
    /// The broker allows Topic Aliases, so sent messages get one (5.0).
    topic_aliases: bool,
}

const TOPIC: &str = "sensors/room-1/temperature";

impl Case {
    fn v5(&self) -> bool {
        self.version == ProtocolVersion::V5
    }

    /// A connected client, with a router holding one subscription.
    fn connect(&self) -> (Client, Router<u8>) {
        let mut options = Options::new("alloc");
        options.protocol_version = self.version;
        let mut client = Client::new(options);
        client.connect(Instant::ZERO).unwrap();
        while client.poll_transmit().is_some() {}
        let connack: &[u8] = match (self.v5(), self.topic_aliases) {
            (false, _) => &[0x20, 0x02, 0x00, 0x00],
            (true, false) => &[0x20, 0x03, 0x00, 0x00, 0x00],
            // Topic Alias Maximum 10.
            (true, true) => &[0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x0A],
        };
        client.handle_bytes(Instant::ZERO, connack);
        assert!(matches!(client.poll_event(), Some(Event::Connected { .. })));
        let mut router = Router::default();
        let mut subscribe = Subscribe::new(0, "sensors/#", QoS::ExactlyOnce);
        router.add_subscribe(&client, &mut subscribe, 1);
        router.add(MqttString::from("sensors/+/temperature"), 2);
        (client, router)
    }

    /// A message as the user publishes it.
    fn outgoing(&self) -> Publish {
        let mut p = Publish::new(TOPIC, Bytes::from(vec![b'x'; self.payload]));
        p.qos = self.qos;
        if self.v5() && self.user_properties {
            p.properties.user_properties = vec![(MqttString::from("k"), MqttString::from("v"))];
        }
        p
    }

    /// A message as the broker delivers it, packet identifier 9.
    fn incoming(&self) -> Vec<u8> {
        let mut p = self.outgoing();
        p.packet_id = if self.qos == QoS::AtMostOnce { 0 } else { 9 };
        if self.v5() && self.subscription_identifiers {
            p.properties.subscription_identifiers = vec![268_435_455, 17];
        }
        let mut wire = Vec::new();
        p.encode(self.version, &mut wire).unwrap();
        wire
    }
}

/// The packet identifier of the PUBLISH in `bytes`.
fn packet_id_of(bytes: &Bytes, version: ProtocolVersion) -> u16 {
    match Packet::decode(bytes, version) {
        Ok(Packet::Publish(p)) => p.packet_id,
        other => panic!("expected a PUBLISH, got {other:?}"),
    }
}

/// Drops everything the client has to send and returns how many buffers it was.
fn drain_transmit(client: &mut Client) -> usize {
    std::iter::from_fn(|| client.poll_transmit()).count()
}

/// One message out: publish, write what the client sends, the broker
/// acknowledges, the completion event is taken and dropped.
fn publish_one(case: Case, client: &mut Client, message: Publish) {
    let now = Instant::ZERO;
    client.publish(now, message).unwrap();
    let sent = client.poll_transmit().unwrap();
    assert!(client.poll_transmit().is_none());
    if case.qos != QoS::AtMostOnce {
        let [hi, lo] = packet_id_of(&sent, case.version).to_be_bytes();
        drop(sent);
        if case.qos == QoS::AtLeastOnce {
            client.handle_bytes(now, &[0x40, 0x02, hi, lo]);
        } else {
            client.handle_bytes(now, &[0x50, 0x02, hi, lo]);
            assert_eq!(drain_transmit(client), 1); // PUBREL
            client.handle_bytes(now, &[0x70, 0x02, hi, lo]);
        }
    }
    match client.poll_event() {
        Some(Event::Published { result: Ok(_), .. }) => {}
        other => panic!("expected a completed publish, got {other:?}"),
    }
    assert!(client.poll_event().is_none());
}

/// One message in: the broker's bytes, the message event routed and
/// dropped, the acknowledgments written.
fn receive_one(case: Case, client: &mut Client, router: &Router<u8>, wire: &[u8]) {
    let now = Instant::ZERO;
    client.handle_bytes(now, wire);
    match client.poll_event() {
        Some(Event::Message(p)) => {
            let handlers = router.route(&p).count();
            let expected = if case.v5() && case.subscription_identifiers {
                1
            } else {
                2
            };
            assert_eq!(handlers, expected, "{case:?}");
        }
        other => panic!("expected a message, got {other:?}"),
    }
    let acks = usize::from(case.qos != QoS::AtMostOnce);
    assert_eq!(drain_transmit(client), acks); // PUBACK or PUBREC
    if case.qos == QoS::ExactlyOnce {
        client.handle_bytes(now, &[0x62, 0x02, 0x00, 0x09]); // PUBREL
        assert_eq!(drain_transmit(client), 1); // PUBCOMP
    }
    assert!(client.poll_event().is_none());
}

/// Publish and receive paths of one case: after a warm-up, no allocation
/// per message. Messages are built before counting: building one is the
/// caller's allocation, not the client's.
fn check_client(case: Case) {
    const WARM: usize = 8;
    const COUNTED: usize = 32;
    let (mut client, router) = case.connect();
    let mut messages: Vec<Publish> = (0..WARM + COUNTED).map(|_| case.outgoing()).collect();
    for message in messages.drain(..WARM) {
        publish_one(case, &mut client, message);
    }
    for message in messages {
        let (n, ()) = allocations(|| publish_one(case, &mut client, message));
        assert_eq!(n, 0, "publishing allocated {n} times: {case:?}");
    }

    let wire = case.incoming();
    for _ in 0..WARM {
        receive_one(case, &mut client, &router, &wire);
    }
    for _ in 0..COUNTED {
        let (n, ()) = allocations(|| receive_one(case, &mut client, &router, &wire));
        assert_eq!(n, 0, "receiving allocated {n} times: {case:?}");
    }
}

/// A caller that keeps received messages keeps the read buffer they are
/// slices of: the next read then needs a new buffer, and the count sees it.
fn check_kept_messages_regrow_the_read_buffer() {
    let case = Case {
        version: ProtocolVersion::V5,
        qos: QoS::AtMostOnce,
        payload: 20,
        subscription_identifiers: false,
        user_properties: false,
        topic_aliases: false,
    };
    let (mut client, _) = case.connect();
    let wire = case.incoming();
    let mut kept = Vec::with_capacity(64);
    let mut total = 0;
    for _ in 0..32 {
        let (n, ()) = allocations(|| {
            client.handle_bytes(Instant::ZERO, &wire);
            kept.extend(std::iter::from_fn(|| client.poll_event()));
        });
        total += n;
    }
    assert_eq!(kept.len(), 32);
    assert!(total >= 16, "kept messages, yet only {total} allocations");
}

/// One test, so that nothing else runs on this binary's threads meanwhile.
#[test]
fn hot_paths_do_not_allocate() {
    // The counter counts: a deliberate allocation is seen.
    let (n, v) = allocations(|| std::hint::black_box(Vec::<u8>::with_capacity(10)));
    assert_eq!(n, 1);
    drop(v);

    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        check_decode(version);
        check_encode(version);
    }

    check_kept_messages_regrow_the_read_buffer();
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            for payload in [20, 1024] {
                let properties: &[(bool, bool, bool)] = match version {
                    ProtocolVersion::V311 => &[(false, false, false)],
                    ProtocolVersion::V5 => &[
                        (false, false, false),
                        (true, false, false),
                        (false, true, false),
                        (true, true, false),
                        (true, true, true),
                    ],
                };
                for &(subscription_identifiers, user_properties, topic_aliases) in properties {
                    check_client(Case {
                        version,
                        qos,
                        payload,
                        subscription_identifiers,
                        user_properties,
                        topic_aliases,
                    });
                }
            }
        }
    }
}
