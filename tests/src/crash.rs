//! Crash tests: a client process killed with SIGKILL at random points and
//! restarted with the same client id and session store, run through every
//! adapter.
//!
//! # Shape
//!
//! * [`CrashClient`] extends the scenarios' blocking [`TestClient`] facade
//!   with what a crash needs: a client started with `prepare` (a subscription
//!   and the default route registered before the first CONNECT) from
//!   mq-common's `ConnectOptions` (a `FileStore`, manual acknowledgments),
//!   pipelined publishes, acknowledgments and the outcomes of restored
//!   publishes. Each adapter implements it in its test file, next to its
//!   `TestClient`.
//! * [`crash_tests!`](crate::crash_tests) expands to the tests and to one
//!   `#[ignore]`d test, `crash_child`, which is the child process: a crash
//!   test runs its own test binary (`std::env::current_exe()`) with
//!   `crash_child --exact --ignored --nocapture`, its parameters in
//!   environment variables (see [`ChildParams`]). The child reports what it
//!   did as lines on stdout ("acked 17"); a line printed is in the pipe, so
//!   the parent reads every line printed before the kill. This works the
//!   same under `cargo test` and `cargo nextest`.
//! * Kill points are random, from a seed taken from the clock and named in
//!   every failure (`MQ_CRASH_SEED=<seed>` draws the same ones again): every
//!   other incarnation is killed 20 to 300 ms after its first line (or after
//!   it is ready), the others right after a random count of their "acked"
//!   lines: once the client said something is done, a crash must not undo
//!   it.
//!
//! Every wait is bounded, every child is killed when its test ends, and all
//! traffic goes to a [`Broker`] on 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Display;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use mq_common::store::{FileStore, SessionStore};
use mq_common::ConnectOptions;

use crate::scenarios::{
    connect, expect_messages, expect_silence, message, subscribe, text, ClientError, ClientOptions,
    Message, Messages, ProtocolVersion, Publish, QoS, ReasonCode, TestClient, SILENCE, WAIT,
};
use crate::{Broker, BrokerConfig};

/// Kills each crash test must make.
pub const KILLS: usize = 5;
/// Messages each publisher incarnation publishes: incarnation k's range is
/// `[k*RANGE, (k+1)*RANGE)`. Publishing it takes longer than most kill
/// delays, so most kills land while publishes are in flight.
pub const RANGE: u64 = 1000;
/// Publishes a publisher child keeps outstanding.
pub const WINDOW: usize = 10;
/// Messages the parent publishes to a subscriber child that is being killed.
pub const MESSAGES: u64 = 300;
/// Messages a subscriber child holds before acknowledging the oldest.
pub const ACK_LAG: usize = 4;
/// Kill delays, milliseconds.
const KILL_AFTER: std::ops::Range<u64> = 20..300;
/// How long a kill may wait for its count of "acked" lines.
const ACKED_WAIT: Duration = Duration::from_secs(1);
/// "acked" lines a subscriber child prints before a count-based kill, at most.
const SUBSCRIBER_ACKS: u64 = 30;
/// Incarnations before a test gives up on reaching [`KILLS`] (a child that
/// finishes before its kill point is not a kill).
const MAX_INCARNATIONS: usize = 4 * KILLS;
/// How long the last incarnation may take to finish.
const FINAL_WAIT: Duration = Duration::from_secs(60);
/// The payload that tells a subscriber child that the parent is done.
const END: &str = "end";
/// The name of the child entry [`crash_tests!`](crate::crash_tests) defines.
const CHILD_TEST: &str = "crash_child";

/// A publish handed to the client, not yet acknowledged.
pub trait Pending: Send {
    /// Waits at most `timeout` for the acknowledgment (QoS 1 PUBACK, QoS 2 PUBCOMP).
    fn wait(self, timeout: Duration) -> Result<ReasonCode, ClientError>;
}

/// The outcomes of the publishes a client restored from its session store.
pub trait Outcomes: Send {
    /// The next outcome, waiting at most `timeout`: the message and its result.
    fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Option<(Publish, Result<ReasonCode, ClientError>)>;
}

/// A client started by [`CrashClient::start`] and what it registered before dialing.
pub struct Started<C: CrashClient> {
    /// The connected client.
    pub client: C,
    /// The subscription made before CONNECT, if one was asked for.
    pub messages: Option<C::Messages>,
    /// The default route, registered before CONNECT.
    pub unrouted: C::Messages,
    /// What became of the publishes restored from the store.
    pub restored: C::Outcomes,
}

/// What the crash tests need of an adapter beyond [`TestClient`].
pub trait CrashClient: TestClient {
    /// A publish handed over with [`CrashClient::send`].
    type Pending: Pending;
    /// Restored publishes' outcomes.
    type Outcomes: Outcomes;

    /// `prepare`s a client, takes its restored outcomes, subscribes to
    /// `subscribe` if given, takes the default route, then `connect`s.
    fn start(
        url: &str,
        options: ConnectOptions,
        subscribe: Option<(&str, QoS)>,
    ) -> Result<Started<Self>, ClientError>;
    /// Hands `publish` to the client (waiting for queue room, not for the acknowledgment).
    fn send(&self, publish: Publish) -> Result<Self::Pending, ClientError>;
    /// Acknowledges a message received with manual acknowledgments.
    fn ack(&self, msg: &Message) -> Result<(), ClientError>;
}

/// Expands to the crash tests for `$client`, which implements
/// [`CrashClient`](crate::crash::CrashClient), and to their child entry
/// `crash_child`; invoke it once per module.
#[macro_export]
macro_rules! crash_tests {
    ($client:ty) => {
        #[test]
        #[ignore = "the child process the crash tests start"]
        fn crash_child() {
            $crate::crash::child::<$client>();
        }

        $crate::crash_tests!(@each $client;
            publisher_killed_qos1_v311 => publisher_killed(module_path!(), AtLeastOnce, V311),
            publisher_killed_qos2_v5 => publisher_killed(module_path!(), ExactlyOnce, V5),
            subscriber_killed_qos1_v5 => subscriber_killed(module_path!(), AtLeastOnce, V5),
            subscriber_killed_qos2_v311 => subscriber_killed(module_path!(), ExactlyOnce, V311),
            prepared_window_v311 => prepared_window(V311),
            prepared_window_v5 => prepared_window(V5),
        );
    };
    (@each $client:ty; $($name:ident => $scenario:ident($($arg:expr),*)),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                use $crate::scenarios::{QoS::*, V311, V5};
                $crate::crash::$scenario::<$client>($($arg),*);
            }
        )*
    };
}

// ---------------------------------------------------------------------------
// The child process.

/// What a child does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Publisher,
    Subscriber,
}

/// A child's parameters, passed in environment variables: `MQ_CRASH_ROLE`
/// (`publisher` or `subscriber`), `_URL`, `_ID` (client id), `_STORE` (the
/// stores' directory), `_TOPIC`, `_QOS` (1 or 2), `_VERSION` (protocol
/// level 4 or 5) and `_FIRST` (the first number of a publisher's range).
#[derive(Clone, Debug)]
pub struct ChildParams {
    role: Role,
    url: String,
    client_id: String,
    store: PathBuf,
    topic: String,
    qos: QoS,
    version: ProtocolVersion,
    /// A publisher's range: `first .. first + RANGE`.
    first: u64,
}

impl ChildParams {
    fn env(&self) -> Vec<(&'static str, String)> {
        let role = match self.role {
            Role::Publisher => "publisher",
            Role::Subscriber => "subscriber",
        };
        vec![
            ("MQ_CRASH_ROLE", role.into()),
            ("MQ_CRASH_URL", self.url.clone()),
            ("MQ_CRASH_ID", self.client_id.clone()),
            ("MQ_CRASH_STORE", self.store.display().to_string()),
            ("MQ_CRASH_TOPIC", self.topic.clone()),
            ("MQ_CRASH_QOS", (self.qos as u8).to_string()),
            ("MQ_CRASH_VERSION", self.version.level().to_string()),
            ("MQ_CRASH_FIRST", self.first.to_string()),
        ]
    }

    /// The parameters, if this process is a crash test's child.
    fn from_env() -> Option<Self> {
        let role = match std::env::var("MQ_CRASH_ROLE").ok()?.as_str() {
            "publisher" => Role::Publisher,
            "subscriber" => Role::Subscriber,
            other => panic!("MQ_CRASH_ROLE {other:?}"),
        };
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"));
        let byte = |name: &str| {
            var(name)
                .parse::<u8>()
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        Some(ChildParams {
            role,
            url: var("MQ_CRASH_URL"),
            client_id: var("MQ_CRASH_ID"),
            store: var("MQ_CRASH_STORE").into(),
            topic: var("MQ_CRASH_TOPIC"),
            qos: QoS::from_bits(byte("MQ_CRASH_QOS")).expect("MQ_CRASH_QOS"),
            version: ProtocolVersion::from_level(byte("MQ_CRASH_VERSION"))
                .expect("MQ_CRASH_VERSION"),
            first: var("MQ_CRASH_FIRST").parse().expect("MQ_CRASH_FIRST"),
        })
    }

    fn options(&self, manual_acks: bool) -> ConnectOptions {
        let client = ClientOptions::persistent(self.version, &self.client_id, true);
        connect_options(client, Some(&self.store), manual_acks)
    }
}

/// `client`'s options with manual acknowledgments or not and, if `store`
/// names a directory, the `FileStore` of the client there.
fn connect_options(
    client: ClientOptions,
    store: Option<&Path>,
    manual_acks: bool,
) -> ConnectOptions {
    let mut options = ConnectOptions::new(client.mqtt.client_id.clone());
    options.mqtt = client.mqtt;
    options.auto_reconnect = client.auto_reconnect;
    options.manual_acks = manual_acks;
    if let Some(dir) = store {
        let store = FileStore::open(dir, &options.mqtt.client_id)
            .unwrap_or_else(|e| panic!("open the store: {e}"));
        options.session_store = Some(Arc::new(store));
    }
    options
}

/// The publishes the `FileStore` of `client_id` in `dir` holds: opens it,
/// loads it and closes it.
fn stored_publishes(dir: &Path, client_id: &str) -> Vec<Publish> {
    let snapshot = FileStore::open(dir, client_id)
        .and_then(|store| store.load())
        .unwrap_or_else(|e| panic!("load the store: {e}"));
    snapshot.outgoing.into_iter().map(|s| s.publish).collect()
}

/// The body of `crash_child`: does nothing unless a crash test started this
/// process with [`ChildParams`].
pub fn child<C: CrashClient>() {
    let Some(params) = ChildParams::from_env() else {
        return;
    };
    match params.role {
        Role::Publisher => publisher_child::<C>(&params),
        Role::Subscriber => subscriber_child::<C>(&params),
    }
}

/// One line to the parent.
fn say(line: impl Display) {
    println!("{line}");
}

/// The number a message carries.
fn number(payload: &[u8]) -> u64 {
    std::str::from_utf8(payload)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("payload {payload:?} is not a number"))
}

/// Prints "restored N" for every publish its store holds, then publishes
/// its range with [`WINDOW`] publishes outstanding, printing "sending N"
/// before handing N over and "acked N" once acknowledged; then waits for
/// every restored publish's outcome ("outcome N") and disconnects.
fn publisher_child<C: CrashClient>(p: &ChildParams) {
    say("start");
    let stored = stored_publishes(&p.store, &p.client_id);
    for publish in &stored {
        say(format_args!("restored {}", number(&publish.payload)));
    }
    let started = C::start(&p.url, p.options(false), None)
        .unwrap_or_else(|e| panic!("start the publisher: {e:?}"));
    let client = started.client;
    let settle = |(n, pending): (u64, C::Pending)| {
        match pending.wait(WAIT) {
            Ok(ReasonCode::Success) => say(format_args!("acked {n}")),
            other => panic!("publish {n}: {other:?}"),
        };
    };
    let mut window = VecDeque::with_capacity(WINDOW);
    for n in p.first..p.first + RANGE {
        if window.len() == WINDOW {
            settle(window.pop_front().expect("a full window"));
        }
        say(format_args!("sending {n}"));
        let pending = client
            .send(message(&p.topic, n.to_string(), p.qos))
            .unwrap_or_else(|e| panic!("send {n}: {e:?}"));
        window.push_back((n, pending));
    }
    window.into_iter().for_each(settle);
    let mut outcomes = started.restored;
    for _ in 0..stored.len() {
        match outcomes.recv_timeout(WAIT) {
            Some((publish, Ok(ReasonCode::Success))) => {
                say(format_args!("outcome {}", number(&publish.payload)))
            }
            other => panic!("restored publish: {other:?}"),
        }
    }
    client.disconnect().expect("disconnect");
    say("done");
}

/// Subscribes (`prepare` + `subscribe`, manual acknowledgments) and prints
/// "got N" for every message; acknowledges the oldest once more than
/// [`ACK_LAG`] wait (all of them when none arrives for a while), printing
/// "acking N" before and "acked N" after. Stops after the [`END`] message
/// and [`SILENCE`], printing "unrouted N" for anything the default route got.
fn subscriber_child<C: CrashClient>(p: &ChildParams) {
    say("start");
    let started = C::start(&p.url, p.options(true), Some((&p.topic, p.qos)))
        .unwrap_or_else(|e| panic!("start the subscriber: {e:?}"));
    say("ready");
    let client = started.client;
    let mut messages = started.messages.expect("the prepared subscription");
    let ack = |msg: Message| {
        let n = number(&msg.payload);
        say(format_args!("acking {n}"));
        client
            .ack(&msg)
            .unwrap_or_else(|e| panic!("ack {n}: {e:?}"));
        say(format_args!("acked {n}"));
    };
    let mut held = VecDeque::new();
    let mut end = None;
    let mut ended = false;
    let deadline = Instant::now() + FINAL_WAIT;
    while !ended && Instant::now() < deadline {
        let idle = if end.is_some() { SILENCE } else { SILENCE / 4 };
        match messages.recv_timeout(idle) {
            Some(msg) if msg.payload == END.as_bytes() => end = Some(msg),
            Some(msg) => {
                say(format_args!("got {}", number(&msg.payload)));
                held.push_back(msg);
                if held.len() > ACK_LAG {
                    ack(held.pop_front().expect("held messages"));
                }
            }
            None => {
                held.drain(..).for_each(&ack);
                if let Some(end) = end.take() {
                    client.ack(&end).expect("ack the end");
                    ended = true;
                }
            }
        }
    }
    assert!(ended, "no end message within {FINAL_WAIT:?}");
    let mut unrouted = started.unrouted;
    while let Some(msg) = unrouted.recv_timeout(Duration::from_millis(10)) {
        say(format_args!("unrouted {}", text(&msg)));
    }
    client.disconnect().expect("disconnect");
    say("done");
}

// ---------------------------------------------------------------------------
// The parent's side.

/// A small xorshift generator for kill delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self, range: std::ops::Range<u64>) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        range.start + self.0 % (range.end - range.start)
    }
}

/// One child process and the lines it printed.
struct Incarnation {
    process: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Incarnation {
    /// Runs `test` (the child entry's exact name) in a new process of this test binary.
    fn spawn(test: &str, params: &ChildParams) -> Self {
        let exe = std::env::current_exe().expect("the test binary");
        let mut process = Command::new(exe)
            .args([test, "--exact", "--ignored", "--nocapture"])
            .envs(params.env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start the child {test}: {e}"));
        let stdout = process.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        // Ends at end of file: when the child has exited.
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Incarnation {
            process,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until `line`, for at most [`WAIT`].
    fn expect_line(&mut self, line: &str) {
        if !self.read_until(line, 1, WAIT) {
            panic!(
                "the child did not print {line:?}; it printed {:?}",
                self.seen
            );
        }
    }

    /// Reads lines until the `count`th that starts with `prefix`, for at most `timeout`.
    fn read_until(&mut self, prefix: &str, mut count: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                break;
            };
            if line.starts_with(prefix) {
                count -= 1;
            }
            self.seen.push(line);
            if count == 0 {
                return true;
            }
        }
        false
    }

    /// Waits at most `timeout` for the child to exit; then reads the rest of its lines.
    fn wait(mut self, timeout: Duration) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.process.try_wait().expect("wait for the child") {
                Some(status) => break status,
                None if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                None => panic!(
                    "the child did not exit within {timeout:?}; it printed {:?}",
                    self.rest()
                ),
            }
        };
        (status, self.rest())
    }

    /// Every line read, after those still in the pipe (bounded by [`WAIT`]).
    fn rest(&mut self) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Incarnation {
    fn drop(&mut self) {
        // SIGKILL; harmless if it has exited.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The incarnations of one child: killed at random points, then one run to the end.
struct Crashes {
    test: String,
    seed: u64,
    rng: Rng,
    /// How many "acked" lines an incarnation killed after one may print first.
    acks: std::ops::Range<u64>,
    /// The lines of each incarnation, in order.
    runs: Vec<Vec<String>>,
    kills: usize,
}

impl Crashes {
    /// For the child entry of the test module at `module_path`, whose
    /// incarnations print about `acks` "acked" lines before they are killed.
    fn new(module_path: &str, acks: u64) -> Self {
        let test = match module_path.split_once("::") {
            Some((_crate, module)) => format!("{module}::{CHILD_TEST}"),
            None => CHILD_TEST.to_string(),
        };
        let seed = match std::env::var("MQ_CRASH_SEED") {
            Ok(seed) => seed.parse().expect("MQ_CRASH_SEED: a number"),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64),
        };
        Crashes {
            test,
            seed,
            rng: Rng(seed | 1),
            acks: 1..acks,
            runs: Vec::new(),
            kills: 0,
        }
    }

    fn spawn(&self, params: &ChildParams) -> Incarnation {
        assert!(
            self.runs.len() < MAX_INCARNATIONS,
            "{} of {} incarnations killed; the others finished before their kill point ({})",
            self.kills,
            self.runs.len(),
            self.context()
        );
        Incarnation::spawn(&self.test, params)
    }

    /// Kills `child` with SIGKILL at a random point (see the [module
    /// docs](self)), unless it finished first (successfully: anything else
    /// fails the test); keeps its lines.
    fn crash(&mut self, mut child: Incarnation) {
        if self.runs.len().is_multiple_of(2) {
            thread::sleep(Duration::from_millis(self.rng.next(KILL_AFTER)));
        } else {
            let count = self.rng.next(self.acks.clone());
            child.read_until("acked ", count, ACKED_WAIT);
        }
        let _ = child.process.kill();
        let (status, lines) = child.wait(WAIT);
        if status.signal() == Some(9) {
            self.kills += 1;
        } else {
            assert!(
                status.success(),
                "incarnation {} failed ({status}); it printed {lines:?} ({})",
                self.runs.len(),
                self.context()
            );
        }
        self.runs.push(lines);
    }

    /// Lets `child` run to its end, which must be a success; keeps its lines.
    fn finish(&mut self, child: Incarnation) {
        let (status, lines) = child.wait(FINAL_WAIT);
        assert!(
            status.success(),
            "the last incarnation failed ({status}); it printed {lines:?} ({})",
            self.context()
        );
        self.runs.push(lines);
    }

    /// What a failure message names: the seed, the kills, and how far each
    /// incarnation got (the count of each kind of line).
    fn context(&self) -> String {
        let runs: Vec<String> = self
            .runs
            .iter()
            .map(|lines| {
                let mut tags = BTreeMap::new();
                for line in lines {
                    if let Some((tag, n)) = line.split_once(' ') {
                        if n.parse::<u64>().is_ok() {
                            *tags.entry(tag).or_insert(0) += 1;
                        }
                    }
                }
                format!("{tags:?}")
            })
            .collect();
        format!(
            "seed {}, {} kills in {} incarnations: {}; MQ_CRASH_SEED={} repeats the kill delays",
            self.seed,
            self.kills,
            self.runs.len(),
            runs.join(", "),
            self.seed
        )
    }

    /// The numbers of `tag` lines ("acked 7") of incarnation `run`.
    fn numbers<'a>(&'a self, run: usize, tag: &'a str) -> impl Iterator<Item = u64> + 'a {
        self.runs[run]
            .iter()
            .filter_map(move |line| line.strip_prefix(tag)?.strip_prefix(' ')?.parse().ok())
    }

    /// The numbers of `tag` lines of every incarnation.
    fn all_numbers(&self, tag: &str) -> BTreeSet<u64> {
        (0..self.runs.len())
            .flat_map(|run| self.numbers(run, tag))
            .collect()
    }
}

/// Reads `messages` until, after [`SILENCE`] without one, `done` holds for
/// the numbers received (with their counts), or until nothing arrives for
/// [`WAIT`]. At most `limit` reads.
fn receive_numbers(
    messages: &mut impl Messages,
    limit: usize,
    done: impl Fn(&BTreeMap<u64, usize>) -> bool,
) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    let mut last = Instant::now();
    for _ in 0..limit {
        match messages.recv_timeout(SILENCE) {
            Some(msg) => {
                *counts.entry(number(&msg.payload)).or_insert(0) += 1;
                last = Instant::now();
            }
            None if done(&counts) || last.elapsed() >= WAIT => break,
            None => {}
        }
    }
    counts
}

/// Fails naming `what`, the numbers (the first 20) and `context`, unless there are none.
fn expect_none(numbers: impl IntoIterator<Item = u64>, what: impl Display, context: &str) {
    let numbers: Vec<u64> = numbers.into_iter().collect();
    let shown = &numbers[..numbers.len().min(20)];
    assert!(
        numbers.is_empty(),
        "{what}: {} numbers, {shown:?} ({context})",
        numbers.len()
    );
}

/// A publisher child publishes numbered messages with a `FileStore` and is
/// killed with SIGKILL [`KILLS`] times at random points, then runs to its
/// end; a subscriber with a persistent session counts arrivals by number.
///
/// Incarnation k publishes its own range `[k*RANGE, (k+1)*RANGE)`, in order.
/// A number is owed once the child printed it as acknowledged or restored,
/// and so is every number of a range below the highest one delivered
/// (write-ahead keeps what the store holds a prefix of each range). Every
/// owed number must arrive (QoS 2: exactly once, and nothing twice), nothing
/// that was never handed to the client may, and the last incarnation
/// completes every publish it restored.
pub fn publisher_killed<C: CrashClient>(module_path: &str, qos: QoS, version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new().max_queued_messages(100_000));
    let store = broker.dir().join("stores");
    std::fs::create_dir(&store).expect("the stores directory");
    let topic = "crash/publisher";
    let sink: C = connect(
        &broker.url(),
        ClientOptions::persistent(version, "crash-sink", false),
    );
    let mut messages = subscribe(&sink, topic, qos);

    let params = |k: usize| ChildParams {
        role: Role::Publisher,
        url: broker.url(),
        client_id: "crash-publisher".into(),
        store: store.clone(),
        topic: topic.into(),
        qos,
        version,
        first: k as u64 * RANGE,
    };
    let mut crashes = Crashes::new(module_path, RANGE);
    while crashes.kills < KILLS {
        let mut child = crashes.spawn(&params(crashes.runs.len()));
        child.expect_line("start");
        crashes.crash(child);
    }
    crashes.finish(crashes.spawn(&params(crashes.runs.len())));

    let ranges = crashes.runs.len() as u64;
    let sent = crashes.all_numbers("sending");
    let mut told = crashes.all_numbers("acked");
    told.extend(crashes.all_numbers("restored"));
    // The owed numbers, given what was delivered.
    let owed = |delivered: &BTreeMap<u64, usize>| {
        let mut owed = told.clone();
        for range in 0..ranges {
            let first = range * RANGE;
            if let Some((&top, _)) = delivered.range(first..first + RANGE).next_back() {
                owed.extend(first..top);
            }
        }
        owed
    };
    let limit = 4 * sent.len();
    let delivered = receive_numbers(&mut messages, limit, |delivered| {
        owed(delivered).iter().all(|n| delivered.contains_key(n))
    });
    let context = crashes.context();
    eprintln!("{qos:?}, {version:?}: {context}");
    let owed = owed(&delivered);
    expect_none(
        owed.iter().filter(|n| !delivered.contains_key(n)).copied(),
        format_args!("{qos:?}: lost, of {} owed", owed.len()),
        &context,
    );
    expect_none(
        delivered.keys().filter(|n| !sent.contains(n)).copied(),
        format_args!("{qos:?}: delivered, never published"),
        &context,
    );
    if qos == QoS::ExactlyOnce {
        expect_none(
            delivered
                .iter()
                .filter(|(_, &count)| count > 1)
                .map(|(&n, _)| n),
            "QoS 2: delivered more than once",
            &context,
        );
    }
}

/// A subscriber child (`prepare` + `subscribe`, `clean_start` false, manual
/// acknowledgments, a `FileStore`) is killed with SIGKILL [`KILLS`] times at
/// random points while the parent publishes [`MESSAGES`] numbered messages,
/// then runs until the parent's end message.
///
/// Every number must be received at least once; one a killed incarnation
/// received and never began to acknowledge ("got" without "acking") must be
/// received again by a later one; nothing else may arrive, nor on the
/// default route. QoS 2: no number is received again once an "acked" line
/// for it was printed.
pub fn subscriber_killed<C: CrashClient>(module_path: &str, qos: QoS, version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new().max_queued_messages(100_000));
    let store = broker.dir().join("stores");
    std::fs::create_dir(&store).expect("the stores directory");
    let params = ChildParams {
        role: Role::Subscriber,
        url: broker.url(),
        client_id: "crash-subscriber".into(),
        store,
        topic: "crash/subscriber".into(),
        qos,
        version,
        first: 0,
    };
    let publisher: C = connect(&broker.url(), ClientOptions::new(version, "crash-source"));
    let mut crashes = Crashes::new(module_path, SUBSCRIBER_ACKS);

    let mut first = crashes.spawn(&params);
    // The session and its subscription exist from here on.
    first.expect_line("ready");
    thread::scope(|s| {
        let publishing = s.spawn(|| {
            let numbers: Vec<u64> = (0..MESSAGES).collect();
            for chunk in numbers.chunks(10) {
                let batch = chunk
                    .iter()
                    .map(|n| message(&params.topic, n.to_string(), qos))
                    .collect();
                for (n, result) in chunk.iter().zip(publisher.publish_all(batch)) {
                    assert_eq!(result, Ok(ReasonCode::Success), "publish {n}");
                }
                thread::sleep(Duration::from_millis(30));
            }
        });
        crashes.crash(first);
        while crashes.kills < KILLS {
            let mut child = crashes.spawn(&params);
            child.expect_line("start");
            crashes.crash(child);
        }
        publishing.join().expect("the publishing thread");
    });
    let end = message(&params.topic, END, qos);
    assert_eq!(
        publisher.publish(end),
        Ok(ReasonCode::Success),
        "publish the end"
    );
    crashes.finish(crashes.spawn(&params));

    let context = crashes.context();
    eprintln!("{qos:?}, {version:?}: {context}");
    let got = crashes.all_numbers("got");
    expect_none(
        (0..MESSAGES).filter(|n| !got.contains(n)),
        format_args!("{qos:?}: never received"),
        &context,
    );
    expect_none(
        got.range(MESSAGES..).copied(),
        format_args!("{qos:?}: received, never published"),
        &context,
    );
    let unrouted: Vec<&String> = crashes
        .runs
        .iter()
        .flatten()
        .filter(|line| line.starts_with("unrouted"))
        .collect();
    assert!(
        unrouted.is_empty(),
        "messages went to the default route: {unrouted:?} ({context})"
    );
    let killed = crashes.runs.len() - 1;
    for run in 0..killed {
        let acking: BTreeSet<u64> = crashes.numbers(run, "acking").collect();
        let later: BTreeSet<u64> = (run + 1..crashes.runs.len())
            .flat_map(|later| crashes.numbers(later, "got"))
            .collect();
        expect_none(
            crashes
                .numbers(run, "got")
                .filter(|n| !acking.contains(n) && !later.contains(n)),
            format_args!(
                "{qos:?}: received by incarnation {run}, killed before acknowledging, \
                 never received again"
            ),
            &context,
        );
    }
    if qos == QoS::ExactlyOnce {
        let mut acked = BTreeSet::new();
        let mut again = Vec::new();
        for (run, lines) in crashes.runs.iter().enumerate() {
            for line in lines {
                let Some((tag, n)) = line.split_once(' ') else {
                    continue;
                };
                match (tag, n.parse::<u64>()) {
                    ("acked", Ok(n)) => {
                        acked.insert(n);
                    }
                    ("got", Ok(n)) if acked.contains(&n) => again.push((run, n)),
                    _ => {}
                }
            }
        }
        assert!(
            again.is_empty(),
            "QoS 2: received again after it was acknowledged (incarnation, number): \
             {again:?} ({context})"
        );
    }
}

/// The window after CONNACK: a subscriber with a session the broker keeps
/// goes away, 20 QoS 1 messages are published to its filter, and it comes
/// back with `prepare` + `subscribe` before `connect`. All 20 arrive on the
/// subscription, in order; none on the default route.
pub fn prepared_window<C: CrashClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let topic = "window/t";
    let id = "window-sub";
    let away: C = connect(&broker.url(), ClientOptions::persistent(version, id, false));
    drop(subscribe(&away, topic, QoS::AtLeastOnce));
    away.disconnect().expect("disconnect");

    let publisher: C = connect(&broker.url(), ClientOptions::new(version, "window-pub"));
    let batch = (0..20)
        .map(|n| message(topic, n.to_string(), QoS::AtLeastOnce))
        .collect();
    for (n, result) in publisher.publish_all(batch).into_iter().enumerate() {
        assert_eq!(result, Ok(ReasonCode::Success), "publish {n}");
    }

    let options = connect_options(ClientOptions::persistent(version, id, true), None, false);
    let mut back = C::start(&broker.url(), options, Some((topic, QoS::AtLeastOnce)))
        .unwrap_or_else(|e| panic!("come back: {e:?}"));
    let mut messages = back.messages.take().expect("the prepared subscription");
    let got: Vec<u64> = expect_messages(&mut messages, 20, "the messages queued while away")
        .iter()
        .map(|msg| number(&msg.payload))
        .collect();
    assert_eq!(
        got,
        (0..20).collect::<Vec<_>>(),
        "the queued messages, in order"
    );
    expect_silence(&mut back.unrouted, "nothing goes to the default route");
}
