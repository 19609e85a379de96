//! End-to-end throughput on plain threads: one client subscribes, another
//! publishes `--count` messages from `--workers` threads, each waiting for
//! every acknowledgement (PUBACK at QoS 1, PUBCOMP at QoS 2, the hand-over to
//! the socket at QoS 0). The flags, payloads and report are
//! `bench/throughput.rs`, shared with the other throughput programs, so they
//! compare directly, and so do transports: `--server mqtts://...` (feature
//! `tls`) or `ws://...` (feature `websocket`).
//!
//! ```text
//! cargo run --release -p mq-blocking --example blocking_throughput -- \
//!     [--server mqtt://127.0.0.1:1883] [--topic T] [--count 100000] [--size 1024]
//!     [--qos 1] [--workers 10] [--version 4|5] [--timeout SECS] [--runtime thread]
//!     [--store DIR|memory]
//! ```
//!
//! For `mqtts://` the CA file to trust comes from the environment variable
//! `MQ_CA_FILE` (default: Mozilla's roots).
//!
//! `--store memory` gives the publishing client a `MemoryStore`, `--store
//! DIR` a `FileStore` in a fresh subdirectory of DIR, removed at the end
//! (see `bench/throughput.rs`); without it there is no session store.
//!
//! The last line printed is `RESULT received=<n> expected=<n>
//! publish_rate=<msg/s> e2e_rate=<msg/s>`; the exit status is non-zero unless
//! every message was published and arrived within `--timeout` (default
//! 120 s). A failed publish stops the run at once.

use std::process::ExitCode;
use std::sync::{mpsc, Arc};
use std::time::Instant;

use bytes::Bytes;
use mq_blocking::store::{FileStore, MemoryStore, SessionStore};
use mq_blocking::{connect, ConnectOptions, MqttString, ProtocolVersion, QoS};

#[path = "../../bench/throughput.rs"]
mod throughput;

use throughput::{payload, report, Args, Run, Seen};

fn main() -> ExitCode {
    let args = match Args::parse("blocking_throughput", &["thread"]) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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
    // The subscription lets the I/O thread read ahead of the counting thread
    // by 1024 messages. Each worker has one publish outstanding, so the
    // command channel and the core's queue never fill; they are sized so that
    // no worker ever waits.
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

fn run(args: &Args) -> Result<ExitCode, mq_blocking::Error> {
    let id = std::process::id();
    // The publisher's session store (`--store`), its only difference from
    // the subscriber; `_store_dir` removes a file store's directory at the end.
    let publisher_id = format!("mq-btp-pub-{id}");
    let (store, _store_dir) = args.session_store(
        || Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>,
        |dir| FileStore::open(dir, &publisher_id).map(|s| Arc::new(s) as _),
    );
    let mut publisher_options = options(publisher_id, args);
    publisher_options.session_store = store;
    let subscriber = connect(&args.server, options(format!("mq-btp-sub-{id}"), args))?;
    let publisher = connect(&args.server, publisher_options)?;
    let mut sub = subscriber
        .subscribe(args.topic.clone())
        .qos(qos(args))
        .send()?;
    println!("{}", args.describe("mq-blocking"));

    let run = Arc::new(Run::start(args));
    let count = args.count;
    let counter = {
        let run = run.clone();
        std::thread::spawn(move || {
            let mut seen = Seen::new(count);
            let mut last = None;
            while seen.unique < count && !run.over() {
                if let Some(msg) = sub.recv_timeout(run.poll_interval()) {
                    seen.record(&msg.payload);
                    last = Some(Instant::now());
                }
            }
            (seen, last)
        })
    };

    let topic = MqttString::from(args.topic.as_str());
    let (done_tx, done_rx) = mpsc::channel();
    for w in 0..args.workers {
        // Worker w sends indices w, w + workers, w + 2 * workers, ...
        let (client, topic, run) = (publisher.clone(), topic.clone(), run.clone());
        let (qos, size, step, done) = (qos(args), args.size, args.workers, done_tx.clone());
        std::thread::spawn(move || {
            let mut index = w;
            while index < count && !run.failed() {
                let left = run.deadline.saturating_duration_since(Instant::now());
                let outcome = client
                    .publish(topic.clone(), Bytes::from(payload(index, size)))
                    .qos(qos)
                    .send()
                    .and_then(|mut handle| handle.wait_timeout(left));
                match outcome {
                    Ok(code) if !code.is_error() => {}
                    Ok(code) => run.fail(format!("publish {index} refused: {code}")),
                    Err(e) => run.fail(format!("publish {index} failed: {e}")),
                }
                index += step;
            }
            let _ = done.send(());
        });
    }
    drop(done_tx);
    let mut finished = 0;
    while finished < args.workers {
        let left = run.deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(()) => finished += 1,
            Err(_) => break,
        }
    }
    let published = (finished == args.workers && !run.failed()).then(Instant::now);
    let (seen, last) = counter.join().unwrap_or_else(|_| (Seen::new(count), None));
    let _ = publisher.disconnect();
    let _ = subscriber.disconnect();
    Ok(report(args, &run, &seen, published, last))
}
