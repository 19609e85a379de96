//! # mq-blocking
//!
//! An MQTT 3.1.1 and 5.0 client for programs without an async runtime: plain
//! `std::net` and threads driving the sans-IO core [`mq_proto`], with the same
//! behaviour as `mq-tokio` (the shared [`mq_common::Engine`] does the
//! bookkeeping). No tokio inside.
//!
//! ```no_run
//! use mq_blocking::{connect, ConnectOptions, QoS};
//!
//! # fn run() -> Result<(), mq_blocking::Error> {
//! let client = connect("mqtt://127.0.0.1:1883", ConnectOptions::new("demo"))?;
//! let mut sub = client.subscribe("greetings/#", QoS::AtLeastOnce)?;
//! client.publish("greetings/world", "hello").qos(QoS::AtLeastOnce).send()?.wait()?;
//! if let Some(msg) = sub.next() {
//!     println!("{}: {:?}", msg.topic, msg.payload);
//! }
//! client.disconnect()?;
//! # Ok(()) }
//! ```
//!
//! ## How it is built
//!
//! One driver thread owns the engine and writes to the socket; a reader
//! thread per connection reads into a two-chunk channel (when the driver holds
//! back for a full subscriber, the reader stops and TCP pushes back on the
//! broker); a coalescing doorbell wakes the driver for reads and commands; the
//! core's next deadline is the doorbell's wait timeout.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod channels;
mod client;
mod driver;
mod transport;

use std::sync::{mpsc, Arc, Mutex};

pub use client::{Client, PublishBuilder, PublishHandle, Subscription};
pub use mq_common::{ClientEvent, ConnectOptions, Error, Message, QueuePolicy};
pub use mq_proto::client::{DisconnectReason, ServerCapabilities, Stats};
pub use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, QoS, ReasonCode, RetainHandling,
    Subscribe, SubscriptionOptions, Will,
};
pub use transport::{Connector, Duplex};

/// Connects to the broker at `url` (`mqtt://` or `tcp://`) and returns once the
/// first CONNACK accepted the connection; later losses are retried.
pub fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    start(url, options, None)
}

/// Connects over a transport of the user's own, opened by `connector` for every (re)connect.
pub fn connect_with(connector: impl Connector, options: ConnectOptions) -> Result<Client, Error> {
    start(
        "mqtt://custom-transport",
        options,
        Some(Arc::new(connector)),
    )
}

fn start(
    url: &str,
    options: ConnectOptions,
    connector: Option<Arc<dyn Connector>>,
) -> Result<Client, Error> {
    let url = mq_proto::url::BrokerUrl::parse(url)?;
    let (commands_tx, commands) = mpsc::sync_channel(options.command_capacity.max(1));
    let (bell, wake) = driver::doorbell();
    let events = channels::Events::default();
    let shared = Arc::new(Mutex::new(mq_common::Snapshot::new(&options.mqtt)));
    let (first_tx, first_rx) = channels::once();
    let mut engine = mq_common::Engine::new(
        &options,
        channels::Std {
            events: events.clone(),
        },
        first_tx,
    );
    engine.share_snapshot(shared.clone());
    let subscription_capacity = options.subscription_capacity.max(1);
    let driver = driver::Driver {
        engine,
        url,
        options,
        connector,
        commands,
        bell: bell.clone(),
        wake,
        origin: std::time::Instant::now(),
        jitter: mq_common::Jitter::default(),
    };
    std::thread::Builder::new()
        .name("mq-blocking-driver".into())
        .spawn(move || driver.run())?;
    first_rx.wait()?;
    Ok(Client {
        commands: commands_tx,
        bell,
        shared,
        events,
        subscription_capacity,
    })
}
