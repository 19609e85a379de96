//! # mq-e2e
//!
//! End-to-end tests of `mq` against real MQTT brokers, and the harness they
//! share: [`Broker`] starts a private [Mosquitto](https://mosquitto.org)
//! process (or, for the interop tests, a [rumqttd](https://crates.io/crates/rumqttd)
//! or an [Aedes](https://www.npmjs.com/package/aedes) one: [`BrokerKind`])
//! for one test and stops it when the test ends.
//!
//! Each broker listens on its own free port of 127.0.0.1, with its own
//! configuration file, log and persistence directory in a fresh temporary
//! directory, so tests run in parallel (as `cargo nextest` runs them) without
//! seeing each other. Mosquitto must be installed (`apt-get install
//! mosquitto`); see [`mosquitto_binary`] for where it is looked for. The
//! interop tests also need rumqttd 0.20 ([`rumqttd_binary`]) and Aedes 1.2
//! under Node.js 20 ([`node_binary`], [`aedes_dir`]); docs/INTEROP.md has
//! their results.
//!
//! A test asks for what it needs with [`BrokerConfig`], talks to
//! [`Broker::addr`] or [`Broker::url`], and can break the broker on purpose:
//! [`Broker::kill`] and [`Broker::restart`] for a crash (same port, same
//! persisted state), [`Broker::pause`] and [`Broker::resume`] for a dead link.
//!
//! ```no_run
//! use std::net::TcpStream;
//! use mq_e2e::{Broker, BrokerConfig};
//!
//! let mut broker = Broker::start(BrokerConfig::new().persistence(true).max_packet_size(4096));
//! let stream = TcpStream::connect(broker.addr()).unwrap();
//! // ... CONNECT, publish a retained message, wait for its PUBACK ...
//! broker.kill();
//! broker.restart(); // same port; the retained message is still there
//! # drop(stream);
//! ```
//!
//! [`scenarios`] is the end-to-end scenario list every adapter runs: a
//! blocking [`scenarios::TestClient`] facade each adapter implements in its
//! own test file, scenario functions generic over it, and
//! [`scenario_tests!`] to turn them into one test each, against Mosquitto
//! or another [`BrokerKind`]; a scenario that needs a [`Feature`] a broker
//! lacks is skipped with the reason [`BrokerKind::lacks`] declares.
//!
//! [`crash`] kills client processes with SIGKILL at random points and
//! restarts them with their session store, through every adapter
//! ([`crash_tests!`]).
//!
//! [`cluster`] kills one node of two bridged brokers mid-stream and checks
//! that clients with a failover list resume on the other
//! ([`cluster_tests!`]).
//!
//! [`closing`] checks that the client closes the socket after its
//! DISCONNECT, against a broker of the test's own ([`closing_tests!`]).
//!
//! [`pki`] makes throwaway certificates (a CA, server and client
//! certificates, an unrelated CA) for the TLS tests.
//!
//! Every wait in the harness is bounded; a broker that does not come up makes
//! the test panic with the broker's log. When a test panics while a
//! [`Broker`] is alive, the log is printed to stderr as the broker is dropped.
#![deny(missing_docs)]

mod broker;
mod capability;
pub mod closing;
pub mod cluster;
mod config;
pub mod crash;
mod kind;
pub mod pki;
pub mod scenarios;

pub use broker::{mosquitto_binary, Broker, MOSQUITTO_ENV};
pub use capability::{
    check_skip_list, run_scenario, skip_reason, version_of, Feature, ScenarioEntry,
};
pub use config::{BrokerConfig, TlsConfig};
pub use kind::{
    aedes_dir, node_binary, rumqttd_binary, target, with_target, BrokerKind, Target, AEDES_DIR_ENV,
    NODE_ENV, RUMQTTD_ENV,
};

/// The guides in `docs/` and the README: their Rust code blocks are doc
/// tests of this crate, which depends on every adapter, so
/// `cargo test --doc` compiles them all (and runs those that need no broker).
#[cfg(doctest)]
pub mod guides {
    #[doc = include_str!("../../README.md")]
    pub struct Readme;
    #[doc = include_str!("../../docs/getting-started.md")]
    pub struct GettingStarted;
    #[doc = include_str!("../../docs/production.md")]
    pub struct Production;
    #[doc = include_str!("../../docs/troubleshooting.md")]
    pub struct Troubleshooting;
    #[doc = include_str!("../../docs/internals.md")]
    pub struct Internals;
    #[doc = include_str!("../../docs/migrating-from-rumqttc.md")]
    pub struct MigratingFromRumqttc;
    #[doc = include_str!("../../docs/persistence.md")]
    pub struct Persistence;
}
