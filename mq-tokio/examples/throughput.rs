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
//!     [--store DIR|memory]
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
//! `--store memory` gives the publishing client a `MemoryStore`, `--store
//! DIR` a `FileStore` in a fresh subdirectory of DIR, removed at the end
//! (see `bench/throughput.rs`); without it there is no session store.
//!
//! Payloads carry their index in their first four bytes (when `--size` is at
//! least 4), so duplicates are not counted twice. The last line printed is
//! `RESULT received=<n> expected=<n> publish_rate=<msg/s> e2e_rate=<msg/s>`; the exit
//! status is non-zero unless every message arrived within `--timeout`
//! (default 120 s).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use mq_tokio::store::{FileStore, MemoryStore, SessionStore};
use mq_tokio::{connect, ConnectOptions, MqttString, ProtocolVersion, QoS};

#[path = "../../bench/throughput.rs"]
mod throughput;

use throughput::{payload, report, Args, Run, Seen};

fn main() -> ExitCode {
    let args = match Args::parse("throughput", &["current", "multi"]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = if args.runtime == "multi" {
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
    runtime.block_on(run(args)).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })
}

fn qos(args: &Args) -> QoS {
    match args.qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn options(client_id: String, args: &Args) -> ConnectOptions {
    let mut opts = ConnectOptions::new(client_id);
    opts.mqtt.protocol_version = if args.v5 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    opts.mqtt.protocol_fallback = false;
    // The stream lets the driver read ahead of the counting task by 1024
    // messages. Each worker has one publish outstanding, so the command
    // channel and the core's queue never fill; they are sized so that no
    // worker ever waits.
    opts.subscription_capacity = 1024;
    opts.command_capacity = (args.workers * 2).max(64);
    opts.mqtt.max_queued_messages = (args.workers * 2).max(64);
    opts.auto_reconnect = false;
    opts
}

async fn run(args: Args) -> Result<ExitCode, mq_tokio::Error> {
    let id = std::process::id();
    // The publisher's session store (`--store`), its only difference from
    // the subscriber; `_store_dir` removes a file store's directory at the end.
    let publisher_id = format!("mq-tp-pub-{id}");
    let (store, _store_dir) = args.session_store(
        || Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>,
        |dir| FileStore::open(dir, &publisher_id).map(|s| Arc::new(s) as _),
    );
    let mut publisher_options = options(publisher_id, &args);
    publisher_options.session_store = store;
    let subscriber = connect(&args.server, options(format!("mq-tp-sub-{id}"), &args)).await?;
    let publisher = connect(&args.server, publisher_options).await?;
    let mut sub = subscriber
        .subscribe(args.topic.clone())
        .qos(qos(&args))
        .await?;
    println!("{}", args.describe("mq-tokio"));

    let run = Arc::new(Run::start(&args));
    let count = args.count;
    let counter = {
        let run = run.clone();
        tokio::spawn(async move {
            let mut seen = Seen::new(count);
            let mut last = None;
            while seen.unique < count && !run.over() {
                // A timer only when nothing is waiting (it costs per message).
                if let Some(msg) = sub.try_recv() {
                    seen.record(&msg.payload);
                    last = Some(Instant::now());
                    continue;
                }
                match tokio::time::timeout(run.poll_interval(), sub.recv()).await {
                    Ok(Some(msg)) => {
                        seen.record(&msg.payload);
                        last = Some(Instant::now());
                    }
                    Ok(None) => break,
                    Err(_) => {}
                }
            }
            (seen, last)
        })
    };

    let topic = MqttString::from(args.topic.as_str());
    let mut workers = Vec::with_capacity(args.workers);
    for w in 0..args.workers {
        // Worker w sends indices w, w + workers, w + 2 * workers, ...
        let (client, topic, run) = (publisher.clone(), topic.clone(), run.clone());
        let (qos, size, step) = (qos(&args), args.size, args.workers);
        workers.push(tokio::spawn(async move {
            let mut index = w;
            while index < count && !run.over() {
                let payload = Bytes::from(payload(index, size));
                match client.publish(topic.clone(), payload).qos(qos).await {
                    Ok(code) if !code.is_error() => {}
                    Ok(code) => run.fail(format!("publish {index} refused: {code}")),
                    Err(e) => run.fail(format!("publish {index} failed: {e}")),
                }
                index += step;
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let published = (!run.over()).then(Instant::now);
    let (seen, last) = counter.await.unwrap_or_else(|_| (Seen::new(count), None));
    let _ = publisher.disconnect().await;
    let _ = subscriber.disconnect().await;
    Ok(report(&args, &run, &seen, published, last))
}
