//! End-to-end throughput: one client subscribes, another publishes `--count`
//! messages from `--workers` tasks, each awaiting every acknowledgement
//! (PUBACK at QoS 1, PUBCOMP at QoS 2, the hand-over to the socket at QoS 0).
//! Mirrors the Go mq benchmark tool; `bench/rumqttc-throughput` runs the same
//! workload with rumqttc, and `bench/compare.sh` runs both side by side.
//!
//! ```text
//! cargo run --release -p mq-tokio --example throughput -- \
//!     [--server mqtt://127.0.0.1:1883] [--topic T] [--count 100000] [--size 1024]
//!     [--qos 1] [--workers 10] [--version 4|5] [--timeout SECS] [--runtime current|multi]
//! ```
//!
//! Runtime: a current-thread tokio runtime by default. Both flavours were
//! measured on `bench/compare.sh`'s workload against a local Mosquitto on
//! 2 cores: the current-thread runtime used 14-25% less CPU on every row and
//! was faster at QoS 1 and 2 (9-23% more msg/s; QoS 0 rates were within
//! noise of each other), since one thread runs both drivers and all workers
//! with no cross-thread wake-ups while Mosquitto gets the other core. `--runtime multi` selects
//! the multi-thread runtime to compare again.
//!
//! Payloads carry their index in their first four bytes (when `--size` is at
//! least 4), so duplicates are not counted twice. The last line printed is
//! `RESULT received=<n> expected=<n> publish_rate=<msg/s> e2e_rate=<msg/s>`; the exit
//! status is non-zero unless every message arrived within `--timeout`
//! (default 120 s).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mq_tokio::{connect, ConnectOptions, MqttString, ProtocolVersion, QoS};
use tokio::time::Instant;

struct Args {
    server: String,
    topic: String,
    count: usize,
    size: usize,
    qos: QoS,
    workers: usize,
    version: ProtocolVersion,
    timeout: Duration,
    multi_thread: bool,
}

const USAGE: &str = "usage: throughput [--server URL] [--topic T] [--count N] [--size BYTES] \
[--qos 0|1|2] [--workers N] [--version 4|5] [--timeout SECS] [--runtime current|multi]";

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
        multi_thread: false,
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
            "--runtime" => {
                args.multi_thread = match value.as_str() {
                    "current" => false,
                    "multi" => true,
                    _ => return Err(bad("current or multi")),
                }
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
    let runtime = if args.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
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
    // The stream lets the driver read ahead of the counting task by 1024
    // messages: deeper (8192 was measured) bought no msg/s here and cost up to
    // 2 MiB of RSS at QoS 0, where the subscriber lags the publisher. Each
    // worker has one publish outstanding, so the command channel and the
    // core's queue never fill; they are sized so that no worker ever waits.
    opts.subscription_capacity = 1024;
    opts.command_capacity = (args.workers * 2).max(64);
    opts.mqtt.max_queued_messages = (args.workers * 2).max(64);
    // Receive Maximum (QoS 2 messages the broker may leave unreleased) stays
    // at its default 65535: the broker's own in-flight limit is the bound.
    opts.auto_reconnect = false;
    opts
}

async fn run(args: Args) -> Result<bool, mq_tokio::Error> {
    let id = std::process::id();
    let subscriber = connect(&args.server, options(format!("mq-tp-sub-{id}"), &args)).await?;
    let publisher = connect(&args.server, options(format!("mq-tp-pub-{id}"), &args)).await?;
    let mut sub = subscriber.subscribe(args.topic.clone(), args.qos).await?;
    println!(
        "mq-tokio throughput: {} messages of {} B to {} at {:?}, {} workers, MQTT {}, {} runtime",
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
        if args.multi_thread {
            "multi-thread"
        } else {
            "current-thread"
        },
    );

    let start = Instant::now();
    let deadline = start + args.timeout;
    let count = args.count;
    let receiver = tokio::spawn(async move {
        let mut seen = Seen::new(count);
        let mut last = None;
        while seen.unique < count {
            match tokio::time::timeout_at(deadline, sub.recv()).await {
                Ok(Some(msg)) => {
                    seen.record(&msg.payload);
                    last = Some(Instant::now());
                }
                Ok(None) | Err(_) => break,
            }
        }
        (seen, last)
    });

    let failed = Arc::new(AtomicBool::new(false));
    let topic = MqttString::from(args.topic.as_str());
    let mut workers = Vec::with_capacity(args.workers);
    for w in 0..args.workers {
        // Worker w sends indices w, w + workers, w + 2 * workers, ...
        let (client, topic, failed) = (publisher.clone(), topic.clone(), failed.clone());
        let (qos, size, step) = (args.qos, args.size, args.workers);
        workers.push(tokio::spawn(async move {
            let mut index = w;
            while index < count && !failed.load(Ordering::Relaxed) {
                match client
                    .publish(topic.clone(), payload(index, size))
                    .qos(qos)
                    .await
                {
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
        }));
    }
    let mut published_in = None;
    let all_published = async {
        for w in workers {
            let _ = w.await;
        }
    };
    if tokio::time::timeout_at(deadline, all_published)
        .await
        .is_ok()
        && !failed.load(Ordering::Relaxed)
    {
        published_in = Some(start.elapsed());
    } else {
        failed.store(true, Ordering::Relaxed);
    }
    let (seen, last) = receiver.await.unwrap_or_else(|_| (Seen::new(count), None));
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
    let _ = publisher.disconnect().await;
    let _ = subscriber.disconnect().await;
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
