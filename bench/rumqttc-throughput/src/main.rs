//! The workload of mq-tokio's `throughput` example, run with rumqttc 0.25, so
//! `bench/compare.sh` can put the two side by side: one client subscribes,
//! another publishes `--count` messages from `--workers` tasks.
//!
//! ```text
//! cargo run --release -p rumqttc-throughput -- \
//!     [--server mqtt://127.0.0.1:1883] [--topic T] [--count 100000] [--size 1024]
//!     [--qos 1] [--workers 10] [--version 4|5] [--timeout SECS] [--runtime current|multi]
//! ```
//!
//! rumqttc's `publish` resolves when the request is queued for its event
//! loop, not when the broker acknowledges it. To give each worker the same
//! "one message in flight, wait for its acknowledgement" shape as mq-tokio,
//! a semaphore holds one permit per worker: a worker takes a permit before
//! each publish, and the publisher's event loop gives one back on every
//! PUBACK (QoS 1), PUBCOMP (QoS 2) or outgoing PUBLISH written (QoS 0).
//!
//! Settings: TCP_NODELAY on (rumqttc's default is off; mq-tokio always sets
//! it, and leaving Nagle on only slows rumqttc down), maximum packet size
//! raised to fit `--size` (rumqttc's default is 10 KiB), request channel
//! sized for the workers. The runtime is a current-thread tokio runtime by
//! default: against the multi-thread one on this workload (2 cores, local
//! Mosquitto) it used less CPU on every row and was as fast or faster at
//! QoS 1 and 2 (QoS 0 was a draw within noise); `--runtime multi` selects the
//! other.
//!
//! The last line printed is `RESULT received=<n> expected=<n>
//! publish_rate=<msg/s> e2e_rate=<msg/s>`; the exit status is non-zero unless
//! every message arrived within `--timeout` (default 120 s).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{oneshot, Semaphore};
use tokio::time::Instant;

struct Args {
    host: String,
    port: u16,
    topic: String,
    count: usize,
    size: usize,
    qos: u8,
    workers: usize,
    v5: bool,
    timeout: Duration,
    multi_thread: bool,
}

const USAGE: &str = "usage: rumqttc-throughput [--server URL] [--topic T] [--count N] \
[--size BYTES] [--qos 0|1|2] [--workers N] [--version 4|5] [--timeout SECS] \
[--runtime current|multi]";

/// `mqtt://host:port` or `tcp://host:port` (port 1883 when left out).
fn parse_server(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    if let Some(v6) = rest.strip_prefix('[') {
        let (host, port) = v6.split_once(']')?;
        let port = match port.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => 1883,
        };
        return Some((host.to_string(), port));
    }
    match rest.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None if !rest.is_empty() => Some((rest.to_string(), 1883)),
        None => None,
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        host: "127.0.0.1".into(),
        port: 1883,
        topic: format!(
            "rumqttc/throughput/{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ),
        count: 100_000,
        size: 1024,
        qos: 1,
        workers: 10,
        v5: true,
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
            "--server" => {
                (args.host, args.port) =
                    parse_server(&value).ok_or_else(|| bad("mqtt://HOST:PORT"))?;
            }
            "--topic" => args.topic = value.clone(),
            "--count" => args.count = value.parse().map_err(|_| bad("a number"))?,
            "--size" => args.size = value.parse().map_err(|_| bad("a number of bytes"))?,
            "--qos" => {
                args.qos = match value.as_str() {
                    "0" => 0,
                    "1" => 1,
                    "2" => 2,
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
                args.v5 = match value.as_str() {
                    "4" | "3.1.1" => false,
                    "5" | "5.0" => true,
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
    println!(
        "rumqttc throughput: {} messages of {} B to {} at QoS {}, {} workers, MQTT {}, {} runtime",
        args.count,
        args.size,
        args.topic,
        args.qos,
        args.workers,
        if args.v5 { "5.0" } else { "3.1.1" },
        if args.multi_thread {
            "multi-thread"
        } else {
            "current-thread"
        },
    );
    let outcome = if args.v5 {
        runtime.block_on(v5::run(&args))
    } else {
        runtime.block_on(v4::run(&args))
    };
    match outcome {
        Ok(report) => report.print(&args),
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

/// What a run measured.
struct Report {
    received: usize,
    arrivals: usize,
    published_in: Option<Duration>,
    received_in: Option<Duration>,
    failed: bool,
}

impl Report {
    fn print(&self, args: &Args) -> ExitCode {
        let count = args.count;
        let rate = |d: Option<Duration>| match d {
            Some(d) if count > 0 => count as f64 / d.as_secs_f64().max(1e-9),
            _ => 0.0,
        };
        let publish_rate = rate(self.published_in);
        let e2e_rate = if self.received == count {
            rate(self.received_in)
        } else {
            0.0
        };
        match self.published_in {
            Some(d) => println!(
                "published {count} in {:.3} s: {publish_rate:.0} msg/s",
                d.as_secs_f64()
            ),
            None => println!("publishing did not finish within {:?}", args.timeout),
        }
        println!(
            "received {}/{count} ({} arrivals) in {:.3} s: {e2e_rate:.0} msg/s end to end, {:.2} MB/s",
            self.received,
            self.arrivals,
            self.received_in.unwrap_or_default().as_secs_f64(),
            e2e_rate * args.size as f64 / 1e6,
        );
        println!(
            "RESULT received={} expected={count} publish_rate={publish_rate:.0} e2e_rate={e2e_rate:.0}",
            self.received
        );
        if self.received == count && !self.failed {
            ExitCode::SUCCESS
        } else {
            eprintln!("FAILED: not every message was published and received within the time limit");
            ExitCode::FAILURE
        }
    }
}

/// The same program for rumqttc's 3.1.1 and 5.0 clients, whose APIs differ
/// only in a few names.
macro_rules! workload {
    ($($options:tt)*) => {
        /// Counts one subscriber's arrivals until every message came.
        struct Counter {
            seen: Seen,
            count: usize,
            unique: Arc<AtomicUsize>,
            done: Option<oneshot::Sender<(usize, Instant)>>,
        }

        impl Counter {
            fn record(&mut self, payload: &[u8]) {
                self.seen.record(payload);
                self.unique.store(self.seen.unique, Ordering::Relaxed);
                if self.seen.unique >= self.count {
                    if let Some(done) = self.done.take() {
                        let _ = done.send((self.seen.total, Instant::now()));
                    }
                }
            }
        }

        fn qos(q: u8) -> QoS {
            match q {
                0 => QoS::AtMostOnce,
                1 => QoS::AtLeastOnce,
                _ => QoS::ExactlyOnce,
            }
        }

        pub(crate) async fn run(args: &Args) -> Result<Report, String> {
            let id = std::process::id();
            let (sub_client, mut sub_loop) =
                AsyncClient::new(options(format!("rumqttc-tp-sub-{id}"), args), 10);
            let (pub_client, mut pub_loop) = AsyncClient::new(
                options(format!("rumqttc-tp-pub-{id}"), args),
                (args.workers * 2).max(64),
            );
            tune(&mut sub_loop);
            tune(&mut pub_loop);
            let count = args.count;
            let setup = Duration::from_secs(30).min(args.timeout);

            // Subscriber: connect, subscribe, wait for SUBACK, then count.
            let (subscribed_tx, subscribed_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel();
            let unique = Arc::new(AtomicUsize::new(0));
            let mut counter = Counter {
                seen: Seen::new(count),
                count,
                unique: unique.clone(),
                done: Some(done_tx),
            };
            let sub_failed = Arc::new(AtomicBool::new(false));
            let sub_failed2 = sub_failed.clone();
            let sub_task = tokio::spawn(async move {
                let mut subscribed = Some(subscribed_tx);
                loop {
                    match sub_loop.poll().await {
                        Ok(Event::Incoming(Incoming::Publish(p))) => counter.record(&p.payload),
                        Ok(Event::Incoming(Incoming::SubAck(_))) => {
                            if let Some(s) = subscribed.take() {
                                let _ = s.send(());
                            }
                        }
                        Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                        Ok(_) => {}
                        Err(e) => {
                            if counter.done.is_some() {
                                eprintln!("subscriber: {e}");
                                sub_failed2.store(true, Ordering::Relaxed);
                            }
                            break;
                        }
                    }
                }
            });
            sub_client
                .subscribe(args.topic.clone(), qos(args.qos))
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
            match tokio::time::timeout(setup, subscribed_rx).await {
                Ok(Ok(())) => {}
                _ => return Err("the subscriber did not connect and subscribe".into()),
            }

            // Publisher: its event loop hands a permit back per completed publish.
            let permits = Arc::new(Semaphore::new(args.workers));
            let acked = Arc::new(AtomicUsize::new(0));
            let (published_tx, published_rx) = oneshot::channel::<Instant>();
            let (connected_tx, connected_rx) = oneshot::channel::<()>();
            let pub_failed = Arc::new(AtomicBool::new(false));
            let pub_task = {
                let (permits, acked, pub_failed) =
                    (permits.clone(), acked.clone(), pub_failed.clone());
                let wanted = args.qos;
                tokio::spawn(async move {
                    let mut connected = Some(connected_tx);
                    let mut published = Some(published_tx);
                    let mut completed = |permits: &Semaphore| {
                        permits.add_permits(1);
                        let n = acked.fetch_add(1, Ordering::Relaxed) + 1;
                        if n >= count {
                            if let Some(p) = published.take() {
                                let _ = p.send(Instant::now());
                            }
                        }
                    };
                    loop {
                        match pub_loop.poll().await {
                            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                                if let Some(c) = connected.take() {
                                    let _ = c.send(());
                                }
                            }
                            Ok(Event::Incoming(Incoming::PubAck(_))) if wanted == 1 => {
                                completed(&permits)
                            }
                            Ok(Event::Incoming(Incoming::PubComp(_))) if wanted == 2 => {
                                completed(&permits)
                            }
                            Ok(Event::Outgoing(Outgoing::Publish(_))) if wanted == 0 => {
                                completed(&permits)
                            }
                            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                            Ok(_) => {}
                            Err(e) => {
                                eprintln!("publisher: {e}");
                                pub_failed.store(true, Ordering::Relaxed);
                                permits.close();
                                break;
                            }
                        }
                    }
                })
            };
            match tokio::time::timeout(setup, connected_rx).await {
                Ok(Ok(())) => {}
                _ => return Err("the publisher did not connect".into()),
            }

            let start = Instant::now();
            let deadline = start + args.timeout;
            let mut workers = Vec::with_capacity(args.workers);
            for w in 0..args.workers {
                // Worker w sends indices w, w + workers, w + 2 * workers, ...
                let (client, permits, topic) =
                    (pub_client.clone(), permits.clone(), args.topic.clone());
                let (q, size, step) = (qos(args.qos), args.size, args.workers);
                workers.push(tokio::spawn(async move {
                    let mut index = w;
                    while index < count {
                        match permits.acquire().await {
                            Ok(permit) => permit.forget(),
                            Err(_) => return,
                        }
                        if let Err(e) = client
                            .publish_bytes(topic.as_str(), q, false, payload(index, size))
                            .await
                        {
                            eprintln!("publish {index} failed: {e}");
                            return;
                        }
                        index += step;
                    }
                }));
            }
            let published_in = match tokio::time::timeout_at(deadline, published_rx).await {
                Ok(Ok(at)) => Some(at - start),
                _ => None,
            };
            let (arrivals, received_in) = match tokio::time::timeout_at(deadline, done_rx).await {
                Ok(Ok((arrivals, at))) => (arrivals, Some(at - start)),
                _ => (0, None),
            };
            let received = unique.load(Ordering::Relaxed);
            for w in &workers {
                w.abort();
            }
            let _ = pub_client.disconnect().await;
            let _ = sub_client.disconnect().await;
            let grace = Duration::from_secs(5);
            let _ = tokio::time::timeout(grace, pub_task).await;
            let _ = tokio::time::timeout(grace, sub_task).await;
            Ok(Report {
                received,
                arrivals: arrivals.max(received),
                published_in,
                received_in,
                failed: published_in.is_none()
                    || pub_failed.load(Ordering::Relaxed)
                    || sub_failed.load(Ordering::Relaxed),
            })
        }

        $($options)*
    };
}

mod v4 {
    use super::*;
    use rumqttc::{
        AsyncClient, Event, EventLoop, Incoming, MqttOptions, NetworkOptions, Outgoing, QoS,
    };

    workload! {
        fn options(client_id: String, args: &Args) -> MqttOptions {
            let mut o = MqttOptions::new(client_id, args.host.clone(), args.port);
            o.set_keep_alive(Duration::from_secs(60));
            o.set_clean_session(true);
            let max = args.size + args.topic.len() + 64;
            o.set_max_packet_size(max.max(10 * 1024), max.max(10 * 1024));
            o
        }

        fn tune(event_loop: &mut EventLoop) {
            let mut n = NetworkOptions::new();
            n.set_tcp_nodelay(true);
            event_loop.set_network_options(n);
        }
    }
}

mod v5 {
    use super::*;
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::{AsyncClient, Event, EventLoop, Incoming, MqttOptions};
    use rumqttc::{NetworkOptions, Outgoing};

    workload! {
        fn options(client_id: String, args: &Args) -> MqttOptions {
            let mut o = MqttOptions::new(client_id, args.host.clone(), args.port);
            o.set_keep_alive(Duration::from_secs(60));
            o.set_clean_start(true);
            let max = (args.size + args.topic.len() + 64).max(10 * 1024);
            o.set_max_packet_size(Some(u32::try_from(max).unwrap_or(u32::MAX)));
            let mut n = NetworkOptions::new();
            n.set_tcp_nodelay(true);
            o.set_network_options(n);
            o
        }

        fn tune(_event_loop: &mut EventLoop) {}
    }
}
