//! The hot path allocates nothing: decoding a PUBLISH from a warm read buffer
//! and encoding one into a warm write buffer.
//!
//! A counting wrapper around the system allocator counts allocations made on
//! the thread that switched counting on, so the test harness's own threads
//! do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use mq_proto::{Decoder, Packet, PayloadFormat, ProtocolVersion, Publish, QoS};

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

/// A QoS 1 PUBLISH; on 5.0 with properties whose decoding does not allocate.
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

/// One test, so that nothing else runs on this binary's threads meanwhile.
#[test]
fn publish_hot_path_does_not_allocate() {
    // The counter counts: a deliberate allocation is seen.
    let (n, v) = allocations(|| std::hint::black_box(Vec::<u8>::with_capacity(10)));
    assert_eq!(n, 1);
    drop(v);

    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        check_decode(version);
        check_encode(version);
    }
}
