//! End-to-end throughput on plain threads: one client subscribes, another
//! publishes `--count` messages from `--workers` threads, each waiting for
//! every acknowledgement (PUBACK at QoS 1, PUBCOMP at QoS 2, the hand-over to
//! the socket at QoS 0). The same workload, flags and last line as mq-tokio's
//! `throughput` example, so the two compare directly, and so do transports:
//! `--server mqtts://...` (feature `tls`) or `ws://...` (feature `websocket`).
//!
//! ```text
//! cargo run --release -p mq-blocking --example blocking_throughput -- \
//!     [--server mqtt://127.0.0.1:1883] [--topic T] [--count 100000] [--size 1024]
//!     [--qos 1] [--workers 10] [--version 4|5] [--timeout SECS]
//! ```
//!
//! For `mqtts://` the CA file to trust comes from the environment variable
//! `MQ_CA_FILE` (default: Mozilla's roots).
//!
//! Payloads carry their index in their first four bytes (when `--size` is at
//! least 4), so duplicates are not counted twice. The last line printed is
//! `RESULT received=<n> expected=<n> publish_rate=<msg/s> e2e_rate=<msg/s>`; the exit
//! status is non-zero unless every message arrived within `--timeout`
//! (default 120 s).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mq_blocking::{connect, ConnectOptions, MqttString, ProtocolVersion, QoS};

struct Args {
    server: String,
    topic: String,
    count: usize,
    size: usize,
    qos: QoS,
    workers: usize,
    version: ProtocolVersion,
    timeout: Duration,
}

const USAGE: &str =
    "usage: blocking_throughput [--server URL] [--topic T] [--count N] [--size BYTES] \
[--qos 0|1|2] [--workers N] [--version 4|5] [--timeout SECS]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        server: "mqtt://127.0.0.1:1883".into(),
        topic: format!(
            "mq/throughput/{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ),
        count: 100_000,
        size: 1024,
        qos: QoS::AtLeastOnce,
        workers: 10,
        version: ProtocolVersion::V5,
        timeout: Duration::from_secs(120),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        let value = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{name} needs a value\n{USAGE}")),
        };
        let bad = |what: &str| format!("{name}: {what}, got {value:?}\n{USAGE}");
        match name.as_str() {
            "--server" => args.server = value.clone(),
            "--topic" => args.topic = value.clone(),
            "--count" => args.count = value.parse().map_err(|_| bad("a number"))?,
            "--size" => args.size = value.parse().map_err(|_| bad("a number of bytes"))?,
            "--qos" => {
                args.qos = match value.as_str() {
                    "0" => QoS::AtMostOnce,
                    "1" => QoS::AtLeastOnce,
                    "2" => QoS::ExactlyOnce,
                    _ => return Err(bad("0, 1 or 2")),
                }
            }
            "--workers" => {
                args.workers = value.parse().map_err(|_| bad("a number"))?;
                if args.workers == 0 {
                    return Err(bad("at least 1"));
                }
            }
            "--version" => {
                args.version = match value.as_str() {
                    "4" | "3.1.1" => ProtocolVersion::V311,
                    "5" | "5.0" => ProtocolVersion::V5,
                    _ => return Err(bad("4 or 5")),
                }
            }
            "--timeout" => {
                let secs: f64 = value.parse().map_err(|_| bad("seconds"))?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(bad("a positive number of seconds"));
                }
                args.timeout = Duration::from_secs_f64(secs);
            }
            _ => return Err(format!("unknown flag {name}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Which message indices arrived, so a duplicate is counted once.
struct Seen {
    bits: Vec<u64>,
    unique: usize,
    total: usize,
}

impl Seen {
    fn new(count: usize) -> Self {
        Seen {
            bits: vec![0; count.div_ceil(64)],
            unique: 0,
            total: 0,
        }
    }

    fn record(&mut self, payload: &[u8]) {
        self.total += 1;
        let index = match payload.get(..4) {
            Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
            // Too small to carry an index: count every arrival.
            None => {
                self.unique += 1;
                return;
            }
        };
        if let Some(word) = self.bits.get_mut(index / 64) {
            let bit = 1u64 << (index % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.unique += 1;
            }
        }
    }
}

fn payload(index: usize, size: usize) -> Bytes {
    let mut v = vec![b'x'; size];
    if let Some(head) = v.get_mut(..4) {
        head.copy_from_slice(&(index as u32).to_be_bytes());
    }
    Bytes::from(v)
}

fn options(client_id: String, args: &Args) -> ConnectOptions {
    let mut opts = ConnectOptions::new(client_id);
    opts.mqtt.protocol_version = args.version;
    opts.mqtt.protocol_fallback = false;
    // The subscription lets the driver read ahead of the counting thread by
    // 1024 messages. Each worker has one publish outstanding, so the command
    // channel and the core's queue never fill; they are sized so that no
    // worker ever waits.
    opts.subscription_capacity = 1024;
    opts.command_capacity = (args.workers * 2).max(64);
    opts.mqtt.max_queued_messages = (args.workers * 2).max(64);
    // Receive Maximum (QoS 2 messages the broker may leave unreleased) stays
    // at its default 65535: the broker's own in-flight limit is the bound.
    opts.auto_reconnect = false;
    #[cfg(feature = "tls")]
    if let Some(ca) = std::env::var_os("MQ_CA_FILE") {
        opts.tls = mq_blocking::tls::TlsOptions::new().ca_file(ca);
    }
    opts
}

fn run(args: Args) -> Result<bool, mq_blocking::Error> {
    let id = std::process::id();
    let subscriber = connect(&args.server, options(format!("mq-btp-sub-{id}"), &args))?;
    let publisher = connect(&args.server, options(format!("mq-btp-pub-{id}"), &args))?;
    let sub = subscriber.subscribe(args.topic.clone(), args.qos)?;
    println!(
        "mq-blocking throughput: {} messages of {} B to {} at {:?}, {} worker threads, MQTT {}, {}",
        args.count,
        args.size,
        args.topic,
        args.qos,
        args.workers,
        if args.version == ProtocolVersion::V5 {
            "5.0"
        } else {
            "3.1.1"
        },
        args.server,
    );

    let start = Instant::now();
    let deadline = start + args.timeout;
    let count = args.count;
    let receiver = std::thread::spawn(move || {
        let mut seen = Seen::new(count);
        let mut last = None;
        while seen.unique < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match sub.recv_timeout(left) {
                Some(msg) => {
                    seen.record(&msg.payload);
                    last = Some(Instant::now());
                }
                None => break,
            }
        }
        (seen, last)
    });

    let failed = Arc::new(AtomicBool::new(false));
    let topic = MqttString::from(args.topic.as_str());
    let (done_tx, done_rx) = mpsc::channel();
    for w in 0..args.workers {
        // Worker w sends indices w, w + workers, w + 2 * workers, ...
        let (client, topic, failed) = (publisher.clone(), topic.clone(), failed.clone());
        let (qos, size, step, done) = (args.qos, args.size, args.workers, done_tx.clone());
        std::thread::spawn(move || {
            let mut index = w;
            while index < count && !failed.load(Ordering::Relaxed) {
                let left = deadline.saturating_duration_since(Instant::now());
                let outcome = client
                    .publish(topic.clone(), payload(index, size))
                    .qos(qos)
                    .send()
                    .and_then(|handle| handle.wait_timeout(left));
                match outcome {
                    Ok(code) if !code.is_error() => {}
                    Ok(code) => {
                        eprintln!("publish {index} refused: {code}");
                        failed.store(true, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("publish {index} failed: {e}");
                        failed.store(true, Ordering::Relaxed);
                    }
                }
                index += step;
            }
            let _ = done.send(());
        });
    }
    drop(done_tx);
    let mut published_in = None;
    let mut finished = 0;
    while finished < args.workers {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(()) => finished += 1,
            Err(_) => break,
        }
    }
    if finished == args.workers && !failed.load(Ordering::Relaxed) {
        published_in = Some(start.elapsed());
    } else {
        failed.store(true, Ordering::Relaxed);
    }
    let (seen, last) = receiver.join().unwrap_or_else(|_| (Seen::new(count), None));
    let e2e_in = last.map(|t| t - start);

    let rate = |d: Option<Duration>| match d {
        Some(d) if count > 0 => count as f64 / d.as_secs_f64().max(1e-9),
        _ => 0.0,
    };
    let publish_rate = rate(published_in);
    let e2e_rate = if seen.unique == count {
        rate(e2e_in)
    } else {
        0.0
    };
    match published_in {
        Some(d) => println!(
            "published {count} in {:.3} s: {publish_rate:.0} msg/s",
            d.as_secs_f64()
        ),
        None => println!("publishing did not finish within {:?}", args.timeout),
    }
    println!(
        "received {}/{count} ({} arrivals) in {:.3} s: {e2e_rate:.0} msg/s end to end, {:.2} MB/s",
        seen.unique,
        seen.total,
        e2e_in.unwrap_or_default().as_secs_f64(),
        e2e_rate * args.size as f64 / 1e6,
    );
    let _ = publisher.disconnect();
    let _ = subscriber.disconnect();
    println!(
        "RESULT received={} expected={count} publish_rate={publish_rate:.0} e2e_rate={e2e_rate:.0}",
        seen.unique
    );
    let ok = seen.unique == count && !failed.load(Ordering::Relaxed);
    if !ok {
        eprintln!("FAILED: not every message was published and received within the time limit");
    }
    Ok(ok)
}
