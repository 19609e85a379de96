//! What every throughput program shares (mq-tokio's `throughput`, mq-smol's
//! `smol_throughput`, mq-blocking's `blocking_throughput` and
//! `bench/rumqttc-throughput`): the flags, the payloads, counting arrivals,
//! and the report that `bench/compare.sh` reads. Each program includes this
//! file as a module:
//!
//! ```ignore
//! #[path = "../../bench/throughput.rs"]
//! mod throughput;
//! ```
//!
//! Flags: `[--server URL] [--topic T] [--count N] [--size BYTES] [--qos 0|1|2]
//! [--workers N] [--version 4|5] [--timeout SECS] [--runtime NAME]
//! [--store DIR|memory]` (the runtimes a program offers, the first being its
//! default; `--store` only in the mq programs, see [`Store`]). The last line
//! printed is `RESULT received=<n> expected=<n> publish_rate=<msg/s>
//! e2e_rate=<msg/s>`; the exit status is non-zero unless every message was
//! published and arrived within `--timeout` (default 120 s). A failed publish
//! stops the run at once ([`Run::fail`]).

#![allow(dead_code)] // Each program uses its own part of this file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The flags of one run.
#[derive(Clone, Debug)]
pub struct Args {
    /// Broker URL (`mqtt://host:port`).
    pub server: String,
    /// Topic of every message.
    pub topic: String,
    /// Messages to publish.
    pub count: usize,
    /// Payload size in bytes.
    pub size: usize,
    /// 0, 1 or 2.
    pub qos: u8,
    /// Concurrent publishers, each with one message outstanding.
    pub workers: usize,
    /// MQTT 5.0 (else 3.1.1).
    pub v5: bool,
    /// The whole run's time limit.
    pub timeout: Duration,
    /// One of the program's runtimes.
    pub runtime: String,
    /// The publishing client's session store (`--store`); none by default.
    pub store: Option<Store>,
}

/// Where the publishing client keeps its session state (`--store`). Only
/// the publisher has one: the subscriber is the same with or without it, so
/// the store is the only difference between runs. Its options are otherwise
/// unchanged (clean start included: the benchmark never resumes a session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    /// `--store memory`: an in-memory store (`store::MemoryStore`).
    Memory,
    /// `--store DIR`: a `store::FileStore` in a fresh subdirectory of DIR,
    /// made for the run and removed at its end (`./memory` for a directory
    /// of that name).
    Files(PathBuf),
}

impl Args {
    /// Parses the command line; `runtimes` are the names `--runtime` takes,
    /// the first being the default. `Err` holds the message for the user.
    pub fn parse(program: &str, runtimes: &[&str]) -> Result<Args, String> {
        let usage = format!(
            "usage: {program} [--server URL] [--topic T] [--count N] [--size BYTES] \
             [--qos 0|1|2] [--workers N] [--version 4|5] [--timeout SECS] [--runtime {}] \
             [--store DIR|memory]",
            runtimes.join("|")
        );
        let mut args = Args {
            server: "mqtt://127.0.0.1:1883".into(),
            topic: format!(
                "{program}/{}-{}",
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
            runtime: runtimes.first().copied().unwrap_or_default().to_string(),
            store: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                return Err(usage);
            }
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (flag.clone(), None),
            };
            let Some(value) = inline.or_else(|| it.next()) else {
                return Err(format!("{name} needs a value\n{usage}"));
            };
            let bad = |what: &str| format!("{name}: {what}, got {value:?}\n{usage}");
            let number = || value.parse::<usize>().map_err(|_| bad("a number"));
            match name.as_str() {
                "--server" => args.server = value.clone(),
                "--topic" => args.topic = value.clone(),
                "--count" => args.count = number()?,
                "--size" => args.size = number()?,
                "--qos" => {
                    args.qos = match value.as_str() {
                        "0" => 0,
                        "1" => 1,
                        "2" => 2,
                        _ => return Err(bad("0, 1 or 2")),
                    }
                }
                "--workers" => {
                    args.workers = number()?;
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
                "--runtime" if runtimes.contains(&value.as_str()) => args.runtime = value.clone(),
                "--runtime" => return Err(bad(&runtimes.join(" or "))),
                "--store" if value.is_empty() => return Err(bad("a directory or memory")),
                "--store" if value == "memory" => args.store = Some(Store::Memory),
                "--store" => args.store = Some(Store::Files(value.into())),
                _ => return Err(format!("unknown flag {name}\n{usage}")),
            }
        }
        Ok(args)
    }

    /// The first line of the report.
    pub fn describe(&self, client: &str) -> String {
        let store = match &self.store {
            None => String::new(),
            Some(Store::Memory) => ", publisher's session in a memory store".into(),
            Some(Store::Files(dir)) => {
                format!(
                    ", publisher's session in a file store under {}",
                    dir.display()
                )
            }
        };
        format!(
            "{client} throughput: {} messages of {} B to {} at QoS {}, {} workers, MQTT {}, {} runtime{store}",
            self.count,
            self.size,
            self.topic,
            self.qos,
            self.workers,
            if self.v5 { "5.0" } else { "3.1.1" },
            self.runtime,
        )
    }

    /// The publisher's session store for `--store`: `memory()` for
    /// `--store memory`, `files(dir)` for `--store DIR`, where `dir` is a
    /// fresh subdirectory of DIR that is removed when the returned
    /// [`StoreDir`] drops (keep it until the clients are gone). If the
    /// directory or the store cannot be made, says why and exits with
    /// status 1 (before anything was measured).
    pub fn session_store<S, E: std::fmt::Display>(
        &self,
        memory: impl FnOnce() -> S,
        files: impl FnOnce(&Path) -> Result<S, E>,
    ) -> (Option<S>, StoreDir) {
        let parent = match &self.store {
            None => return (None, StoreDir(None)),
            Some(Store::Memory) => return (Some(memory()), StoreDir(None)),
            Some(Store::Files(parent)) => parent,
        };
        let dir = parent.join(format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        if let Err(e) = std::fs::create_dir_all(parent).and_then(|()| std::fs::create_dir(&dir)) {
            eprintln!("--store: cannot create {}: {e}", dir.display());
            std::process::exit(1);
        }
        // From here on the guard removes the directory, whatever happens.
        let guard = StoreDir(Some(dir.clone()));
        match files(&dir) {
            Ok(store) => (Some(store), guard),
            Err(e) => {
                eprintln!("--store: cannot open a store in {}: {e}", dir.display());
                drop(guard);
                std::process::exit(1);
            }
        }
    }
}

/// The run's store directory (for `--store DIR`), removed with everything in
/// it on drop.
#[derive(Debug)]
pub struct StoreDir(Option<PathBuf>);

impl Drop for StoreDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            if let Err(e) = std::fs::remove_dir_all(dir) {
                eprintln!("cannot remove the store directory {}: {e}", dir.display());
            }
        }
    }
}

/// Message `index`'s payload: `size` bytes, the index in the first four.
pub fn payload(index: usize, size: usize) -> Vec<u8> {
    let mut v = vec![b'x'; size];
    if let Some(head) = v.get_mut(..4) {
        head.copy_from_slice(&(index as u32).to_be_bytes());
    }
    v
}

/// Which message indices arrived, so a duplicate is counted once.
#[derive(Debug)]
pub struct Seen {
    bits: Vec<u64>,
    /// Distinct messages.
    pub unique: usize,
    /// Arrivals, duplicates included.
    pub total: usize,
}

impl Seen {
    /// Nothing seen of `count` messages.
    pub fn new(count: usize) -> Self {
        Seen {
            bits: vec![0; count.div_ceil(64)],
            unique: 0,
            total: 0,
        }
    }

    /// Counts one arrival.
    pub fn record(&mut self, payload: &[u8]) {
        self.total += 1;
        let Some(&[a, b, c, d]) = payload.get(..4) else {
            // Too small to carry an index: count every arrival.
            self.unique += 1;
            return;
        };
        let index = u32::from_be_bytes([a, b, c, d]) as usize;
        if let Some(word) = self.bits.get_mut(index / 64) {
            let bit = 1u64 << (index % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.unique += 1;
            }
        }
    }
}

/// One run's clock and failure flag, shared by its publishers and its counter.
#[derive(Debug)]
pub struct Run {
    /// When publishing started.
    pub start: Instant,
    /// When the run gives up.
    pub deadline: Instant,
    failed: AtomicBool,
}

impl Run {
    /// Starts the clock.
    pub fn start(args: &Args) -> Run {
        let start = Instant::now();
        Run {
            start,
            deadline: start + args.timeout,
            failed: AtomicBool::new(false),
        }
    }

    /// A publish failed: says so, and every loop of the run stops.
    pub fn fail(&self, what: impl std::fmt::Display) {
        eprintln!("{what}");
        self.failed.store(true, Ordering::Relaxed);
    }

    /// Whether a publish failed.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Whether the counter should stop waiting: a failure, or past the deadline.
    pub fn over(&self) -> bool {
        self.failed() || Instant::now() >= self.deadline
    }

    /// How long a counter may wait for its next message before checking
    /// [`Run::over`] again.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(100).min(self.deadline.saturating_duration_since(Instant::now()))
    }
}

/// Prints the report and gives the exit status. `published` and `last` are
/// when the last publish completed and the last message arrived.
pub fn report(
    args: &Args,
    run: &Run,
    seen: &Seen,
    published: Option<Instant>,
    last: Option<Instant>,
) -> ExitCode {
    let count = args.count;
    let published_in = published.filter(|_| !run.failed()).map(|t| t - run.start);
    let received_in = last.map(|t| t - run.start);
    let rate = |d: Option<Duration>| match d {
        Some(d) if count > 0 => count as f64 / d.as_secs_f64().max(1e-9),
        _ => 0.0,
    };
    let publish_rate = rate(published_in);
    let e2e_rate = if seen.unique == count {
        rate(received_in)
    } else {
        0.0
    };
    match published_in {
        Some(d) => println!(
            "published {count} in {:.3} s: {publish_rate:.0} msg/s",
            d.as_secs_f64()
        ),
        None if run.failed() => println!("publishing failed"),
        None => println!("publishing did not finish within {:?}", args.timeout),
    }
    println!(
        "received {}/{count} ({} arrivals) in {:.3} s: {e2e_rate:.0} msg/s end to end, {:.2} MB/s",
        seen.unique,
        seen.total,
        received_in.unwrap_or_default().as_secs_f64(),
        e2e_rate * args.size as f64 / 1e6,
    );
    println!(
        "RESULT received={} expected={count} publish_rate={publish_rate:.0} e2e_rate={e2e_rate:.0}",
        seen.unique
    );
    if seen.unique == count && published_in.is_some() {
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: not every message was published and received within the time limit");
        ExitCode::FAILURE
    }
}
