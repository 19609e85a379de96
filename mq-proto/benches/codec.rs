//! Codec benchmark: mq-proto against rumqttc's codec, side by side in one run.
//!
//! ```text
//! cargo bench -p mq-proto                 # every case
//! cargo bench -p mq-proto -- publish      # cases whose name contains "publish"
//! MQ_BENCH_SECS=2 cargo bench -p mq-proto # longer sampling per case (default 0.6 s)
//! ```
//!
//! A small self-contained harness (no bench framework, so the build stays
//! short on 2 cores). Each case builds the same packet with both libraries.
//!
//! - **decode**: a read buffer (`BytesMut`) is filled, untimed, with a batch of
//!   copies of the packet's bytes, exactly as a socket read would leave it;
//!   then the timed part takes every packet off the front, the way a client
//!   does: `Decoder::decode(&mut BytesMut)` for mq, `Packet::read(&mut
//!   BytesMut, max)` for rumqttc. Both use the same refill code and the same
//!   1 MiB packet size limit. Each decoded packet is dropped before the next.
//! - **encode**: the packet is written into a reused `BytesMut`, cleared first.
//! - **memcpy**: copying a payload of the same size into a reused buffer, the
//!   yardstick for "zero-copy": decoding a 64 KiB PUBLISH should cost far
//!   less than copying its payload once.
//!
//! Samples of the two libraries alternate (which goes first alternates too),
//! so background load hits both alike. Each sample times a batch of
//! operations; the table reports the median ns/op, the wire throughput, and
//! the ratio mq throughput / rumqttc throughput (above 1: mq is faster).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mq_proto as mq;
use mq_proto::ProtocolVersion::{V311, V5};
use rumqttc::mqttbytes::v4 as r4;
use rumqttc::v5::mqttbytes::v5 as r5;

/// Size limit given to both decoders: well above the largest case.
const MAX_PACKET: usize = 1 << 20;
/// A decode batch holds about this many bytes, and at least [`MIN_BATCH`] packets.
const BATCH_BYTES: usize = 256 * 1024;
const MIN_BATCH: usize = 64;
const MIN_SAMPLES: usize = 15;
const MAX_SAMPLES: usize = 2001;

const TOPIC: &str = "sensors/building-7/floor-3/temp";
const PAYLOAD_SIZES: [usize; 3] = [16, 1024, 64 * 1024];

/// One contender: takes one sample and returns the time its timed part took.
type Sampler = Box<dyn FnMut() -> Duration>;

/// A measured case: the median ns/op of each contender and their spread.
struct Row {
    name: String,
    wire_len: usize,
    ns: Vec<f64>,
    /// Interquartile range over median, per contender: how noisy the samples were.
    spread: Vec<f64>,
}

fn batch_len(wire_len: usize) -> usize {
    (BATCH_BYTES / wire_len.max(1)).max(MIN_BATCH)
}

/// Decode sampler: refills `buf` with `n` copies of `wire` (untimed), then times
/// `decode` taking each packet off it.
fn decode_sampler<P: 'static>(
    wire: &[u8],
    mut decode: impl FnMut(&mut BytesMut) -> P + 'static,
) -> Sampler {
    let n = batch_len(wire.len());
    let batch = wire.repeat(n);
    let mut buf = BytesMut::with_capacity(batch.len());
    Box::new(move || {
        buf.clear();
        buf.extend_from_slice(&batch);
        let start = Instant::now();
        for _ in 0..n {
            black_box(decode(black_box(&mut buf)));
        }
        let elapsed = start.elapsed();
        assert!(buf.is_empty(), "decoder left {} bytes", buf.len());
        elapsed
    })
}

/// Encode sampler: times `n` encodes into a cleared, reused buffer.
fn encode_sampler(n: usize, mut encode: impl FnMut(&mut BytesMut) -> usize + 'static) -> Sampler {
    let mut buf = BytesMut::with_capacity(MAX_PACKET);
    Box::new(move || {
        let start = Instant::now();
        for _ in 0..n {
            buf.clear();
            black_box(encode(black_box(&mut buf)));
            black_box(&buf);
        }
        start.elapsed()
    })
}

/// memcpy sampler: times `n` copies of a `len`-byte payload into a reused buffer.
fn memcpy_sampler(len: usize) -> Sampler {
    let n = batch_len(len);
    let src = vec![0xA5u8; len];
    let mut dst = vec![0u8; len];
    Box::new(move || {
        let start = Instant::now();
        for _ in 0..n {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        }
        start.elapsed()
    })
}

fn median_and_spread(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (q(0.5), (q(0.75) - q(0.25)) / q(0.5))
}

/// Runs the samplers in alternation for the time budget and summarises them.
fn measure(name: String, wire_len: usize, ops: usize, mut sides: Vec<Sampler>) -> Row {
    let budget = Duration::from_secs_f64(
        std::env::var("MQ_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.6),
    );
    // Warm-up: caches, branch predictors, allocator, CPU clock.
    let warm = Instant::now();
    while warm.elapsed() < budget / 10 {
        for side in &mut sides {
            side();
        }
    }
    let mut samples = vec![Vec::new(); sides.len()];
    let start = Instant::now();
    let mut round = 0;
    while round < MIN_SAMPLES || (round < MAX_SAMPLES && start.elapsed() < budget) {
        for i in 0..sides.len() {
            let k = (i + round) % sides.len();
            samples[k].push(sides[k]().as_nanos() as f64 / ops as f64);
        }
        round += 1;
    }
    let (ns, spread) = samples.into_iter().map(median_and_spread).unzip();
    let row = Row {
        name,
        wire_len,
        ns,
        spread,
    };
    print_progress(&row);
    row
}

/// Whether a case runs: no filter arguments, or one that its name contains (any case).
fn selected(name: &str) -> bool {
    let name = name.to_lowercase();
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.to_lowercase())
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// Measures decode and encode of one packet in both libraries.
fn compare<R: 'static>(
    rows: &mut Vec<Row>,
    what: &str,
    wire: &[u8],
    mq_decode: impl FnMut(&mut BytesMut) -> mq::Packet + 'static,
    rq_decode: impl FnMut(&mut BytesMut) -> R + 'static,
    mq_encode: impl FnMut(&mut BytesMut) -> usize + 'static,
    rq_encode: impl FnMut(&mut BytesMut) -> usize + 'static,
) {
    let n = batch_len(wire.len());
    let name = format!("decode {what}");
    if selected(&name) {
        let sides = vec![
            decode_sampler(wire, mq_decode),
            decode_sampler(wire, rq_decode),
        ];
        rows.push(measure(name, wire.len(), n, sides));
    }
    let name = format!("encode {what}");
    if selected(&name) {
        let sides = vec![encode_sampler(n, mq_encode), encode_sampler(n, rq_encode)];
        rows.push(measure(name, wire.len(), n, sides));
    }
}

fn mq_decoder(version: mq::ProtocolVersion) -> mq::Decoder {
    let mut d = mq::Decoder::new(version);
    d.set_max_packet_size(MAX_PACKET as u32);
    d
}

fn encode_mq(p: &mq::Packet, v: mq::ProtocolVersion) -> Vec<u8> {
    let mut buf = Vec::new();
    p.encode(v, &mut buf).expect("mq encodes the bench packet");
    buf
}

fn size_label(n: usize) -> String {
    if n >= 1024 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} B")
    }
}

fn publish_cases(rows: &mut Vec<Row>) {
    for size in PAYLOAD_SIZES {
        let payload = Bytes::from((0..size).map(|i| i as u8).collect::<Vec<u8>>());

        // 3.1.1: QoS 1, no properties. Both encoders must produce the same bytes.
        let mut p = mq::Publish::new(TOPIC, payload.clone());
        p.qos = mq::QoS::AtLeastOnce;
        p.packet_id = 42;
        let mq_p = mq::Packet::Publish(p);
        let mut r = r4::Publish::from_bytes(TOPIC, rumqttc::QoS::AtLeastOnce, payload.clone());
        r.pkid = 42;
        let rq_p = r4::Packet::Publish(r);
        let wire = encode_mq(&mq_p, V311);
        let mut rq_wire = BytesMut::new();
        rq_p.write(&mut rq_wire, MAX_PACKET).unwrap();
        assert_eq!(wire, &rq_wire[..], "3.1.1 PUBLISH encodings differ");
        let dec = mq_decoder(V311);
        compare(
            rows,
            &format!("PUBLISH 3.1.1 {}", size_label(size)),
            &wire,
            move |b| dec.decode(b).unwrap().unwrap(),
            |b| r4::Packet::read(b, MAX_PACKET).unwrap(),
            move |b| mq_p.encode(V311, b).unwrap(),
            move |b| rq_p.write(b, MAX_PACKET).unwrap(),
        );

        // 5.0: QoS 1 with Message Expiry, Content Type and one User Property.
        let mut p = mq::Publish::new(TOPIC, payload.clone());
        p.qos = mq::QoS::AtLeastOnce;
        p.packet_id = 42;
        p.properties.message_expiry_interval = Some(3600);
        p.properties.content_type = Some("application/json".into());
        p.properties
            .user_properties
            .push(("trace-id".into(), "4bf92f3577b34da6".into()));
        let mq_p = mq::Packet::Publish(p);
        let props = r5::PublishProperties {
            message_expiry_interval: Some(3600),
            content_type: Some("application/json".into()),
            user_properties: vec![("trace-id".into(), "4bf92f3577b34da6".into())],
            ..Default::default()
        };
        let mut r = r5::Publish::new(
            TOPIC,
            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
            payload,
            Some(props),
        );
        r.pkid = 42;
        let rq_p = r5::Packet::Publish(r);
        let wire = encode_mq(&mq_p, V5);
        check_same_packet(&wire, &rq_p, &mq_p);
        let dec = mq_decoder(V5);
        compare(
            rows,
            &format!("PUBLISH 5.0 {}", size_label(size)),
            &wire,
            move |b| dec.decode(b).unwrap().unwrap(),
            |b| r5::Packet::read(b, Some(MAX_PACKET as u32)).unwrap(),
            move |b| mq_p.encode(V5, b).unwrap(),
            move |b| rq_p.write(b, Some(MAX_PACKET as u32)).unwrap(),
        );
    }
}

/// rumqttc writes 5.0 properties in another order: the lengths must match and
/// rumqttc's bytes must decode, with mq, to the very packet mq encoded.
fn check_same_packet(wire: &[u8], rq_p: &r5::Packet, mq_p: &mq::Packet) {
    let mut rq_wire = BytesMut::new();
    rq_p.write(&mut rq_wire, None).unwrap();
    assert_eq!(wire.len(), rq_wire.len(), "5.0 encodings differ in length");
    let back = mq::Packet::decode(&rq_wire.freeze(), V5).unwrap();
    assert_eq!(
        &back, mq_p,
        "rumqttc's 5.0 encoding decodes to another packet"
    );
}

fn connect_cases(rows: &mut Vec<Row>) {
    const CLIENT_ID: &str = "mq-bench-client-0001";
    const WILL_TOPIC: &str = "clients/mq-bench-client-0001/status";
    const USER: &str = "bench-user";
    const PASSWORD: &str = "bench-password-123";

    let mq_connect = |v: mq::ProtocolVersion| {
        let mut c = mq::Connect::new(v, CLIENT_ID);
        c.keep_alive = 30;
        c.will = Some(mq::Will {
            topic: WILL_TOPIC.into(),
            payload: Bytes::from_static(b"offline"),
            qos: mq::QoS::AtLeastOnce,
            retain: true,
            properties: mq::Properties::default(),
        });
        c.username = Some(USER.into());
        c.password = Some(Bytes::from_static(PASSWORD.as_bytes()).into());
        c
    };

    // 3.1.1: client id, keep alive, will, user name and password.
    let mq_p = mq::Packet::from(mq_connect(V311));
    let rq_p = r4::Packet::Connect(r4::Connect {
        protocol: rumqttc::Protocol::V4,
        keep_alive: 30,
        client_id: CLIENT_ID.into(),
        clean_session: true,
        last_will: Some(r4::LastWill::new(
            WILL_TOPIC,
            "offline",
            rumqttc::QoS::AtLeastOnce,
            true,
        )),
        login: Some(r4::Login::new(USER, PASSWORD)),
    });
    let wire = encode_mq(&mq_p, V311);
    let mut rq_wire = BytesMut::new();
    rq_p.write(&mut rq_wire, MAX_PACKET).unwrap();
    assert_eq!(wire, &rq_wire[..], "3.1.1 CONNECT encodings differ");
    let dec = mq_decoder(V311);
    compare(
        rows,
        "CONNECT 3.1.1",
        &wire,
        move |b| dec.decode(b).unwrap().unwrap(),
        |b| r4::Packet::read(b, MAX_PACKET).unwrap(),
        move |b| mq_p.encode(V311, b).unwrap(),
        move |b| rq_p.write(b, MAX_PACKET).unwrap(),
    );

    // 5.0: the same plus session expiry, receive maximum, maximum packet size,
    // topic alias maximum, a user property, and a will content type.
    let mut c = mq_connect(V5);
    c.properties.session_expiry_interval = Some(3600);
    c.properties.receive_maximum = Some(100);
    c.properties.maximum_packet_size = Some(MAX_PACKET as u32);
    c.properties.topic_alias_maximum = Some(16);
    c.properties
        .user_properties
        .push(("app".into(), "bench".into()));
    if let Some(will) = &mut c.will {
        will.properties.content_type = Some("text/plain".into());
    }
    let mq_p = mq::Packet::from(c);
    let mut props = r5::ConnectProperties::new();
    props.session_expiry_interval = Some(3600);
    props.receive_maximum = Some(100);
    props.max_packet_size = Some(MAX_PACKET as u32);
    props.topic_alias_max = Some(16);
    props.user_properties = vec![("app".into(), "bench".into())];
    let will_props = r5::LastWillProperties {
        delay_interval: None,
        payload_format_indicator: None,
        message_expiry_interval: None,
        content_type: Some("text/plain".into()),
        response_topic: None,
        correlation_data: None,
        user_properties: Vec::new(),
    };
    let rq_p = r5::Packet::Connect(
        r5::Connect {
            keep_alive: 30,
            client_id: CLIENT_ID.into(),
            clean_start: true,
            properties: Some(props),
        },
        Some(r5::LastWill::new(
            WILL_TOPIC,
            "offline",
            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
            true,
            Some(will_props),
        )),
        Some(r5::Login::new(USER, PASSWORD)),
    );
    let wire = encode_mq(&mq_p, V5);
    check_same_packet(&wire, &rq_p, &mq_p);
    let dec = mq_decoder(V5);
    compare(
        rows,
        "CONNECT 5.0",
        &wire,
        move |b| dec.decode(b).unwrap().unwrap(),
        |b| r5::Packet::read(b, Some(MAX_PACKET as u32)).unwrap(),
        move |b| mq_p.encode(V5, b).unwrap(),
        move |b| rq_p.write(b, Some(MAX_PACKET as u32)).unwrap(),
    );
}

fn print_progress(row: &Row) {
    let ns: Vec<String> = row.ns.iter().map(|n| format!("{n:.1} ns/op")).collect();
    println!("{:<28} {}", row.name, ns.join("  vs  "));
}

fn mib_per_s(bytes: usize, ns: f64) -> f64 {
    bytes as f64 / ns * 1e9 / (1024.0 * 1024.0)
}

fn print_table(rows: &[Row]) {
    println!("\n| case | wire bytes | mq ns/op | rumqttc ns/op | mq MiB/s | rumqttc MiB/s | mq / rumqttc | spread |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let spread = r.spread.iter().copied().fold(0.0, f64::max) * 100.0;
        match r.ns[..] {
            [mq, rq] => println!(
                "| {} | {} | {:.1} | {:.1} | {:.0} | {:.0} | {:.2}x | {:.0}% |",
                r.name,
                r.wire_len,
                mq,
                rq,
                mib_per_s(r.wire_len, mq),
                mib_per_s(r.wire_len, rq),
                rq / mq,
                spread
            ),
            [one, ..] => println!(
                "| {} | {} | {:.1} | | {:.0} | | | {:.0}% |",
                r.name,
                r.wire_len,
                one,
                mib_per_s(r.wire_len, one),
                spread
            ),
            [] => {}
        }
    }
    println!("\nmq / rumqttc = mq throughput / rumqttc throughput (rumqttc ns / mq ns); spread = largest (p75 - p25) / median of the two.");
    let find = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.ns[0]);
    if let Some(copy) = find("memcpy 64 KiB payload") {
        for v in ["3.1.1", "5.0"] {
            if let Some(dec) = find(&format!("decode PUBLISH {v} 64 KiB")) {
                println!(
                    "decode PUBLISH {v} 64 KiB (mq): {dec:.1} ns = {:.3} of a 64 KiB memcpy ({copy:.1} ns)",
                    dec / copy
                );
            }
        }
    }
}

fn main() {
    let mut rows = Vec::new();
    publish_cases(&mut rows);
    connect_cases(&mut rows);
    for size in PAYLOAD_SIZES {
        let name = format!("memcpy {} payload", size_label(size));
        if selected(&name) || selected("decode PUBLISH") {
            rows.push(measure(
                name,
                size,
                batch_len(size),
                vec![memcpy_sampler(size)],
            ));
        }
    }
    print_table(&rows);
}
