//! The workload of mq-tokio's `throughput` example, run with rumqttc 0.25, so
//! `bench/compare.sh` can put the two side by side: one client subscribes,
//! another publishes `--count` messages from `--workers` tasks.
//!
//! ```text
//! cargo run --release -p rumqttc-throughput -- \
//!     [--server mqtt://127.0.0.1:1883] [--topic T] [--count 100000] [--size 1024]
//!     [--qos 1] [--workers 10] [--version 4|5] [--timeout SECS]
//!     [--runtime current|multi|blocking]
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
//! other. `--runtime blocking` runs the workload on rumqttc's blocking
//! `Client` instead (`blocking.rs`), the peer of mq-blocking's program.
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

#[path = "../../throughput.rs"]
mod throughput;

#[macro_use]
mod blocking;

use throughput::{payload, report, Args, Run, Seen};

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

fn main() -> ExitCode {
    let args = match Args::parse("rumqttc-throughput", &["current", "multi", "blocking"]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if args.store.is_some() {
        eprintln!("--store: rumqttc has no session store");
        return ExitCode::from(2);
    }
    let Some((host, port)) = parse_server(&args.server) else {
        eprintln!("--server: mqtt://HOST:PORT, got {:?}", args.server);
        return ExitCode::from(2);
    };
    let outcome = if args.runtime == "blocking" {
        println!("{}", args.describe("rumqttc (blocking Client)"));
        if args.v5 {
            v5::run_blocking(&args, &host, port)
        } else {
            v4::run_blocking(&args, &host, port)
        }
    } else {
        println!("{}", args.describe("rumqttc"));
        run_async(&args, &host, port)
    };
    match outcome {
        Ok((run, seen, published, last)) => report(&args, &run, &seen, published, last),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a run gives the report: its bounds, the arrivals, when the last
/// publish completed and when the last message arrived.
type Outcome = Result<
    (
        Run,
        Seen,
        Option<std::time::Instant>,
        Option<std::time::Instant>,
    ),
    String,
>;

/// The workload on rumqttc's `AsyncClient`, on a tokio runtime of `--runtime`.
fn run_async(args: &Args, host: &str, port: u16) -> Outcome {
    let runtime = if args.runtime == "multi" {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = runtime.map_err(|e| format!("cannot start the runtime: {e}"))?;
    if args.v5 {
        runtime.block_on(v5::run(args, host, port))
    } else {
        runtime.block_on(v4::run(args, host, port))
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
            done: Option<oneshot::Sender<(Seen, Instant)>>,
        }

        impl Counter {
            fn record(&mut self, payload: &[u8]) {
                self.seen.record(payload);
                self.unique.store(self.seen.unique, Ordering::Relaxed);
                if self.seen.unique >= self.count {
                    if let Some(done) = self.done.take() {
                        let seen = std::mem::replace(&mut self.seen, Seen::new(0));
                        let _ = done.send((seen, Instant::now()));
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

        pub(crate) async fn run(
            args: &Args,
            host: &str,
            port: u16,
        ) -> crate::Outcome {
            let id = std::process::id();
            let (sub_client, mut sub_loop) =
                AsyncClient::new(options(format!("rumqttc-tp-sub-{id}"), args, host, port), 10);
            let (pub_client, mut pub_loop) = AsyncClient::new(
                options(format!("rumqttc-tp-pub-{id}"), args, host, port),
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

            let run = Run::start(args);
            let deadline = Instant::from_std(run.deadline);
            let mut workers = Vec::with_capacity(args.workers);
            for w in 0..args.workers {
                // Worker w sends indices w, w + workers, w + 2 * workers, ...
                let (client, permits, topic, failed) = (
                    pub_client.clone(),
                    permits.clone(),
                    args.topic.clone(),
                    pub_failed.clone(),
                );
                let (q, size, step) = (qos(args.qos), args.size, args.workers);
                workers.push(tokio::spawn(async move {
                    let mut index = w;
                    while index < count {
                        match permits.acquire().await {
                            Ok(permit) => permit.forget(),
                            Err(_) => return,
                        }
                        let payload = Bytes::from(payload(index, size));
                        if let Err(e) = client.publish_bytes(topic.as_str(), q, false, payload).await {
                            eprintln!("publish {index} failed: {e}");
                            failed.store(true, Ordering::Relaxed);
                            return;
                        }
                        index += step;
                    }
                }));
            }
            // Checked every 100 ms: a failed publish stops the run at once.
            let mut published_rx = published_rx;
            let published = loop {
                let tick = (Instant::now() + Duration::from_millis(100)).min(deadline);
                match tokio::time::timeout_at(tick, &mut published_rx).await {
                    Ok(Ok(at)) => break Some(at.into_std()),
                    Ok(Err(_)) => break None,
                    Err(_) if pub_failed.load(Ordering::Relaxed) || tick >= deadline => break None,
                    Err(_) => {}
                }
            };
            // A publisher that failed stops the run at once.
            let done = async {
                if published.is_some() {
                    done_rx.await.ok()
                } else {
                    None
                }
            };
            let (seen, last) = match tokio::time::timeout_at(deadline, done).await {
                Ok(Some((seen, at))) => (seen, Some(at.into_std())),
                _ => {
                    let mut seen = Seen::new(0);
                    seen.unique = unique.load(Ordering::Relaxed);
                    (seen, None)
                }
            };
            for w in &workers {
                w.abort();
            }
            let _ = pub_client.disconnect().await;
            let _ = sub_client.disconnect().await;
            let grace = Duration::from_secs(5);
            let _ = tokio::time::timeout(grace, pub_task).await;
            let _ = tokio::time::timeout(grace, sub_task).await;
            if pub_failed.load(Ordering::Relaxed) || sub_failed.load(Ordering::Relaxed) {
                run.fail("the publisher or the subscriber failed");
            }
            Ok((run, seen, published, last))
        }

        $($options)*
    };
}

mod v4 {
    use super::*;
    use rumqttc::{
        AsyncClient, Client, Event, EventLoop, Incoming, MqttOptions, NetworkOptions, Outgoing, QoS,
    };

    blocking_workload!();

    workload! {
        fn options(client_id: String, args: &Args, host: &str, port: u16) -> MqttOptions {
            let mut o = MqttOptions::new(client_id, host, port);
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
    use rumqttc::v5::{AsyncClient, Client, Event, EventLoop, Incoming, MqttOptions};
    use rumqttc::{NetworkOptions, Outgoing};

    blocking_workload!();

    workload! {
        fn options(client_id: String, args: &Args, host: &str, port: u16) -> MqttOptions {
            let mut o = MqttOptions::new(client_id, host, port);
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
