//! Auto-reconnect on plain threads: the client publishes a heartbeat every
//! second and prints every connection event. Stop and restart the broker
//! while it runs: the client backs off, reconnects, resubscribes, and the
//! heartbeats published meanwhile go out once it is back.
//!
//! `cargo run -p mq-blocking --example blocking_auto_reconnect -- [mqtt://127.0.0.1:1883] [seconds, default 60]`
//!
//! Over TLS: `MQ_CA_FILE=ca.pem cargo run -p mq-blocking --features tls --example
//! blocking_auto_reconnect -- mqtts://127.0.0.1:8883`.

use std::thread;
use std::time::{Duration, Instant};

use mq_blocking::{connect, ConnectOptions, QoS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let seconds: u64 = args.next().map_or(Ok(60), |s| s.parse())?;

    let mut opts = ConnectOptions::new("mq-blocking-auto-reconnect");
    opts.mqtt.keep_alive = 5; // notice a dead broker within about 8 s
    opts.mqtt.backoff.initial = Duration::from_millis(500);
    opts.mqtt.backoff.max = Duration::from_secs(5);
    // mqtts:// and wss:// (feature tls): trust the CA file in MQ_CA_FILE.
    #[cfg(feature = "tls")]
    if let Some(ca) = std::env::var_os("MQ_CA_FILE") {
        opts.tls = mq_blocking::tls::TlsOptions::new().ca_file(ca);
    }
    let client = connect(&url, opts)?;
    println!("connected to {url}; restart the broker now and then (running {seconds} s)");

    let events = client.events();
    thread::spawn(move || {
        // `Events` is a stream; `block_on` iterates it on this thread.
        for event in futures_lite::stream::block_on(events) {
            println!("event: {event:?}");
        }
    });
    let heartbeats = client
        .subscribe("mq-example/heartbeat")
        .qos(QoS::AtLeastOnce)
        .send()?;
    thread::spawn(move || {
        for msg in heartbeats {
            println!("received {}", String::from_utf8_lossy(&msg.payload));
        }
    });

    let start = Instant::now();
    let mut publishes = Vec::new();
    for n in 0..seconds {
        let tick = start + Duration::from_secs(n);
        thread::sleep(tick.saturating_duration_since(Instant::now()));
        // Each publish completes when the broker acknowledges it, possibly
        // after a reconnect; wait on a thread so the heartbeat keeps its pace.
        let handle = client
            .publish("mq-example/heartbeat", format!("heartbeat {n}"))
            .qos(QoS::AtLeastOnce)
            .send()?;
        publishes.push(thread::spawn(move || {
            println!("heartbeat {n}: {:?}", handle.wait());
        }));
    }
    for publish in publishes {
        let _ = publish.join();
    }
    client.disconnect()?;
    Ok(())
}
