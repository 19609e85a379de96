//! A broker that stops reading while clients have a large backlog to write.

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use super::{
    connect, expect_event, message, ClientError, ClientOptions, ProtocolVersion, QoS, TestClient,
    TestEvent, WAIT,
};
use crate::{Broker, BrokerConfig};

/// Messages of 64 KiB handed to a stalled client: 40 MiB, far more than
/// loopback socket buffers take.
const BACKLOG: usize = 640;

/// Keep alive 2 s, ping timeout 1 s. The broker is stopped with SIGSTOP and
/// two clients are each given a backlog far larger than the socket buffers,
/// so their writes stall. The first one's connection is declared lost within
/// the keep-alive bound (2 s + 1 s, with slack for a loaded machine); the
/// second one's `disconnect`, called while its write is stuck, returns within
/// the same bound. Publishes that never reached the broker fail, typed.
pub fn stalled_broker<C: TestClient>(version: ProtocolVersion) {
    let broker = Broker::start(BrokerConfig::new());
    let options = |id: &str| {
        let mut o = ClientOptions::new(version, id);
        o.mqtt.keep_alive = 2;
        o.mqtt.ping_timeout = Some(Duration::from_secs(1));
        o.mqtt.connect_timeout = Duration::from_secs(2);
        o.auto_reconnect = false;
        o
    };
    // Shared with plain threads, so a client that hangs fails the scenario
    // in bounded time instead of hanging it.
    let watched: Arc<C> = Arc::new(connect(&broker.url(), options("stall-watched")));
    let stopped: Arc<C> = Arc::new(connect(&broker.url(), options("stall-stopped")));
    let mut events = watched.events();

    broker.pause();
    let publishers: Vec<_> = [watched.clone(), stopped.clone()]
        .into_iter()
        .map(|client| {
            let (done, results) = mpsc::channel();
            thread::spawn(move || {
                let payload = bytes::Bytes::from(vec![0x5A; 64 * 1024]);
                let backlog = (0..BACKLOG)
                    .map(|_| message("stall/t", payload.clone(), QoS::AtMostOnce))
                    .collect();
                let _ = done.send(client.publish_all(backlog));
            });
            results
        })
        .collect();
    // Let the writes fill the socket buffers and stall.
    thread::sleep(Duration::from_millis(500));

    let (done, disconnected) = mpsc::channel();
    let start = Instant::now();
    let client = stopped.clone();
    thread::spawn(move || {
        let _ = done.send(client.disconnect());
    });
    let outcome = disconnected
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("disconnect behind a stalled write did not return in 5 s"));
    let took = start.elapsed();
    assert!(
        matches!(outcome, Ok(()) | Err(ClientError::Closed)),
        "disconnect: {outcome:?}"
    );
    assert!(
        stopped.is_closed(),
        "closed after disconnect (took {took:?})"
    );

    let (_, took) = expect_event(&mut events, Duration::from_secs(8), "ConnectionLost", |e| {
        matches!(e, TestEvent::ConnectionLost(_))
    });
    assert!(
        took <= Duration::from_secs(6),
        "the stalled connection was declared lost only after {took:?} (bound about 3 s)"
    );
    for results in publishers {
        let results = results
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("the backlog's publishes did not all complete"));
        assert_eq!(results.len(), BACKLOG);
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(ClientError::Request(_) | ClientError::Closed))),
            "some of the backlog never reached the broker and must say so"
        );
    }
    assert!(watched.is_closed());
    broker.resume();
}
