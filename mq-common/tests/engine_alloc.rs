//! The engine allocates nothing per message once warm: a publish handed in
//! as a command and written out (QoS 0, QoS 1 through its PUBACK, QoS 2
//! through PUBREC, PUBREL and PUBCOMP), and a
//! message read from the broker and delivered to a subscription's inbox.
//!
//! The reply slot of each publish is made before counting: it is the handle's
//! one allocation per publish, not the engine's. Allocations are counted on
//! the test's thread only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use mq_common::channel::{inbox, reply, Inbox};
use mq_common::engine::{Command, Engine, Input, Output, Parts};
use mq_common::{ConnectOptions, Instant};
use mq_proto::{ProtocolVersion, Publish, QoS, ReasonCode, Subscribe};

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Per thread, so tests running side by side do not count each other.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
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
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

const ROUNDS: usize = 200;
const T0: Instant = Instant::ZERO;

/// Drains outputs until a wait; returns the last write (empty if none).
fn drain(e: &mut Engine) -> Bytes {
    let mut written = Bytes::new();
    for _ in 0..16 {
        match e.poll_output() {
            Output::Write { data, .. } => written = data,
            Output::Wait(_) => return written,
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("no wait");
}

fn connected(version: ProtocolVersion) -> Parts {
    let mut options = ConnectOptions::new("alloc");
    options.mqtt.protocol_version = version;
    options.mqtt.keep_alive = 0;
    let mut parts = Engine::create(options);
    let e = &mut parts.engine;
    assert!(matches!(e.poll_output(), Output::Dial(_)));
    e.handle_input(T0, Input::Dialed);
    drain(e);
    let connack: &[u8] = match version {
        ProtocolVersion::V5 => &[0x20, 0x03, 0x00, 0x00, 0x00],
        _ => &[0x20, 0x02, 0x00, 0x00],
    };
    e.handle_input(T0, Input::Read(connack));
    drain(e);
    assert!(matches!(parts.first_connect.try_take(), Some(Ok(()))));
    parts
}

fn publish_rounds(version: ProtocolVersion, qos: QoS, payload: &'static [u8]) -> usize {
    let mut parts = connected(version);
    let topic = mq_proto::MqttString::from("sensors/alloc/one");
    let run = |parts: &mut Parts| {
        let waiters: Vec<_> = (0..ROUNDS).map(|_| reply::<ReasonCode>()).collect();
        let mut slots = Vec::with_capacity(ROUNDS);
        let counted = allocations(|| {
            for (reply, waiter) in waiters {
                let mut publish = Publish::new(topic.clone(), Bytes::from_static(payload));
                publish.qos = qos;
                parts
                    .engine
                    .handle_input(T0, Input::Command(Command::Publish { publish, reply }));
                let written = drain(&mut parts.engine);
                assert!(written.len() > payload.len());
                // The packet id follows the fixed header (1 + 1 or 2 bytes) and the topic.
                let header = if written[1] & 0x80 == 0 { 2 } else { 3 };
                let id = written
                    .get(header + 2 + topic.len()..header + 4 + topic.len())
                    .map(|id| [id[0], id[1]]);
                // A driver has written and dropped the bytes before it reads again.
                drop(written);
                match (qos, id.as_ref()) {
                    (QoS::AtLeastOnce, Some(&[hi, lo])) => {
                        parts
                            .engine
                            .handle_input(T0, Input::Read(&[0x40, 0x02, hi, lo]));
                    }
                    (QoS::ExactlyOnce, Some(&[hi, lo])) => {
                        parts
                            .engine
                            .handle_input(T0, Input::Read(&[0x50, 0x02, hi, lo]));
                        assert_eq!(
                            &drain(&mut parts.engine)[..],
                            [0x62, 0x02, hi, lo],
                            "PUBREL"
                        );
                        parts
                            .engine
                            .handle_input(T0, Input::Read(&[0x70, 0x02, hi, lo]));
                    }
                    _ => {}
                }
                slots.push(waiter);
            }
        });
        for mut w in slots {
            assert!(
                matches!(w.try_take(), Some(Ok(_))),
                "every publish completed"
            );
        }
        counted
    };
    run(&mut parts); // warm up: buffers, maps and queues reach their size
    run(&mut parts)
}

fn subscribed(version: ProtocolVersion) -> (Parts, Inbox) {
    let mut parts = connected(version);
    let (sink, inbox) = inbox(ROUNDS);
    let (reply, mut waiter) = reply();
    let packet = Subscribe::new(0, "sensors/#", QoS::AtMostOnce);
    let e = &mut parts.engine;
    e.handle_input(
        T0,
        Input::Command(Command::Subscribe {
            packet,
            sink,
            reply,
            routed: None,
        }),
    );
    drain(e);
    let suback: &[u8] = match version {
        ProtocolVersion::V5 => &[0x90, 0x04, 0x00, 0x01, 0x00, 0x00],
        _ => &[0x90, 0x03, 0x00, 0x01, 0x00],
    };
    e.handle_input(T0, Input::Read(suback));
    assert!(matches!(waiter.try_take(), Some(Ok(_))));
    (parts, inbox)
}

fn delivery_rounds(version: ProtocolVersion, payload_len: usize) -> usize {
    let (mut parts, inbox) = subscribed(version);
    let topic = b"sensors/alloc/one";
    let mut wire = Vec::new();
    let body = 2 + topic.len() + usize::from(version == ProtocolVersion::V5) + payload_len;
    wire.push(0x30);
    let mut len = body;
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        wire.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    wire.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    wire.extend_from_slice(topic);
    if version == ProtocolVersion::V5 {
        wire.push(0); // no properties
    }
    wire.extend(std::iter::repeat_n(0x5A, payload_len));
    let run = |parts: &mut Parts| {
        allocations(|| {
            for _ in 0..ROUNDS {
                parts.engine.handle_input(T0, Input::Read(&wire));
                let msg = inbox.try_recv().expect("delivered");
                assert_eq!(msg.payload.len(), payload_len);
                drain(&mut parts.engine);
            }
        })
    };
    run(&mut parts);
    run(&mut parts)
}

#[test]
fn publishing_allocates_nothing_per_message_once_warm() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            for payload in [&[0x5A; 20][..], &[0x5A; 1024][..]] {
                let n = publish_rounds(version, qos, payload);
                assert_eq!(
                    n,
                    0,
                    "{version:?} {qos:?} {} B: {n} allocations over {ROUNDS} publishes",
                    payload.len()
                );
            }
        }
    }
}

#[test]
fn delivering_allocates_nothing_per_message_once_warm() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        for payload_len in [20, 1024] {
            let n = delivery_rounds(version, payload_len);
            assert_eq!(
                n, 0,
                "{version:?} {payload_len} B: {n} allocations over {ROUNDS} deliveries"
            );
        }
    }
}

#[test]
fn the_counter_sees_an_allocation() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
}
