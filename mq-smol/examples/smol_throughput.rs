//! End-to-end throughput: one client subscribes, another publishes `--count`
//! messages from `--workers` tasks, each awaiting every acknowledgement
//! (PUBACK at QoS 1, PUBCOMP at QoS 2, the hand-over to the socket at QoS 0).
//! The same workload, flags and `RESULT` line as mq-tokio's `throughput`
//! example, on mq-smol.
//!
//! ```text
//! cargo run --release -p mq-smol --features async-std --example smol_throughput -- \
//!     [--server mqtt://127.0.0.1:1883] [--topic T] [--count 100000] [--size 1024]
//!     [--qos 1] [--workers 10] [--version 4|5] [--timeout SECS] [--runtime smol|async-std]
//!     [--store DIR|memory]
//! ```
//!
//! Runtime: `--runtime smol` (default) runs the workers, the counting task
//! and both clients' drivers on smol's global executor (`Executor::Smol`);
//! `--runtime async-std` runs them all on async-std's (`Executor::AsyncStd`,
//! so the example needs the `async-std` feature).
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

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use mq_smol::store::{FileStore, MemoryStore, SessionStore};
use mq_smol::{ConnectOptions, Executor, MqttString, ProtocolVersion, QoS};
use smol::Timer;

#[path = "../../bench/throughput.rs"]
mod throughput;

use throughput::{payload, report, Args, Run, Seen};

fn main() -> ExitCode {
    let args = match Args::parse("smol_throughput", &["smol", "async-std"]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = if args.runtime == "async-std" {
        Runtime::AsyncStd
    } else {
        Runtime::Smol
    };
    runtime.block_on(run(args, runtime)).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runtime {
    Smol,
    AsyncStd,
}

type Join<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Workers, the counter and both clients' drivers all run on one executor:
/// smol's global one, or async-std's.
impl Runtime {
    fn block_on<T>(self, fut: impl Future<Output = T>) -> T {
        match self {
            Runtime::Smol => smol::block_on(fut),
            Runtime::AsyncStd => async_std::task::block_on(fut),
        }
    }

    fn spawn<T: Send + 'static>(self, fut: impl Future<Output = T> + Send + 'static) -> Join<T> {
        match self {
            Runtime::Smol => Box::pin(smol::spawn(fut)),
            Runtime::AsyncStd => Box::pin(async_std::task::spawn(fut)),
        }
    }

    fn executor(self) -> Executor {
        match self {
            Runtime::Smol => Executor::Smol,
            Runtime::AsyncStd => Executor::AsyncStd,
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
    // Messages are counted, not stored: a deep stream keeps the driver reading
    // while the counting task catches up; the core's queue only ever holds a
    // few in-flight publishes per worker.
    opts.subscription_capacity = 8192;
    opts.command_capacity = 4096.max(args.workers * 2);
    opts.mqtt.max_queued_messages = 4096.max(args.workers * 2);
    opts.auto_reconnect = false;
    opts
}

async fn run(args: Args, runtime: Runtime) -> Result<ExitCode, mq_smol::Error> {
    let id = std::process::id();
    let executor = runtime.executor();
    // The publisher's session store (`--store`), its only difference from
    // the subscriber; `_store_dir` removes a file store's directory at the end.
    let publisher_id = format!("mq-tp-pub-{id}");
    let (store, _store_dir) = args.session_store(
        || Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>,
        |dir| FileStore::open(dir, &publisher_id).map(|s| Arc::new(s) as _),
    );
    let mut publisher_options = options(publisher_id, &args);
    publisher_options.session_store = store;
    let subscriber = executor
        .connect(&args.server, options(format!("mq-tp-sub-{id}"), &args))
        .await?;
    let publisher = executor.connect(&args.server, publisher_options).await?;
    let mut sub = subscriber
        .subscribe(args.topic.clone())
        .qos(qos(&args))
        .await?;
    println!("{}", args.describe("mq-smol"));

    let run = Arc::new(Run::start(&args));
    let count = args.count;
    let counter = {
        let run = run.clone();
        runtime.spawn(async move {
            let mut seen = Seen::new(count);
            let mut last = None;
            while seen.unique < count && !run.over() {
                // A timer only when nothing is waiting (it costs per message).
                if let Some(msg) = sub.try_recv() {
                    seen.record(&msg.payload);
                    last = Some(Instant::now());
                    continue;
                }
                let next = smol::future::or(async { Some(sub.recv().await) }, async {
                    Timer::after(run.poll_interval()).await;
                    None
                });
                match next.await {
                    Some(Some(msg)) => {
                        seen.record(&msg.payload);
                        last = Some(Instant::now());
                    }
                    Some(None) => break,
                    None => {}
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
        workers.push(runtime.spawn(async move {
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
        w.await;
    }
    let published = (!run.over()).then(Instant::now);
    let (seen, last) = counter.await;
    let _ = publisher.disconnect().await;
    let _ = subscriber.disconnect().await;
    Ok(report(&args, &run, &seen, published, last))
}
