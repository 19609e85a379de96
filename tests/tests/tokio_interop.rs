//! The shared scenario list through mq-tokio against rumqttd and Aedes
//! (Mosquitto runs it in `tokio_scenarios.rs`): one `#[test]` per scenario
//! and protocol version and broker, each with its own broker process. A
//! scenario a broker cannot pass is skipped with the reason the harness
//! declares (`mq_e2e::BrokerKind::lacks`); `skipped_scenarios` prints the
//! list.

mod tokio_client;

use tokio_client::TokioClient;

mod rumqttd {
    use super::TokioClient;
    mq_e2e::scenario_tests!(TokioClient, Rumqttd);
}

mod aedes {
    use super::TokioClient;
    mq_e2e::scenario_tests!(TokioClient, Aedes);
}

/// The automatic 5.0 → 3.1.1 fallback against real brokers, and the reverse
/// hazard: a close before CONNACK that was the network's, not a 3.1.1
/// broker's answer, must not leave the client on 3.1.1.
mod fallback {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    use mq_e2e::scenarios::{
        connect, expect_message, expect_silence, publish, subscribe, text, ClientError,
        ClientOptions, DisconnectReason, TestClient, V311, V5,
    };
    use mq_e2e::{Broker, BrokerConfig, BrokerKind};
    use mq_proto::QoS;

    use super::TokioClient;

    /// A 5.0 client that may fall back to 3.1.1 (the library default).
    fn v5_with_fallback(id: &str) -> ClientOptions {
        let mut o = ClientOptions::new(V5, id);
        o.mqtt.protocol_fallback = true;
        o
    }

    /// A QoS 1 message goes out and comes back through the broker.
    fn round_trip(client: &TokioClient, topic: &str) {
        let mut messages = subscribe(client, topic, QoS::AtLeastOnce);
        publish(client, topic, "round trip", QoS::AtLeastOnce);
        assert_eq!(
            text(&expect_message(&mut messages, "round trip")),
            "round trip"
        );
        expect_silence(&mut messages, "one copy");
    }

    #[test]
    fn falls_back_on_aedes_refusing_5_0() {
        let broker = Broker::start_kind(BrokerKind::Aedes, V311, BrokerConfig::new());
        let client: TokioClient = connect(&broker.url(), v5_with_fallback("fb-aedes"));
        assert_eq!(client.protocol_version(), V311);
        round_trip(&client, "fb/aedes");
        // Without the fallback, the refusal is the answer.
        let pinned = TokioClient::connect(&broker.url(), ClientOptions::new(V5, "fb-pinned"));
        assert!(pinned.is_err(), "a pinned 5.0 client connected to Aedes");
    }

    #[test]
    fn falls_back_on_rumqttd_v311_listener_closing_without_connack() {
        let broker = Broker::start_kind(BrokerKind::Rumqttd, V311, BrokerConfig::new());
        let client: TokioClient = connect(&broker.url_for(V311), v5_with_fallback("fb-rumqttd"));
        assert_eq!(client.protocol_version(), V311);
        round_trip(&client, "fb/rumqttd");
        // The same client options on the 5.0 listener stay on 5.0.
        let v5: TokioClient = connect(&broker.url_for(V5), v5_with_fallback("fb-rumqttd-5"));
        assert_eq!(v5.protocol_version(), V5);
    }

    /// rumqttd closes every CONNECT with Keep Alive 0 without CONNACK (its
    /// log: `ZeroKeepAlive`), on both listeners: the 5.0 close sends the
    /// client to 3.1.1, the 3.1.1 close undoes that, and the first connect
    /// fails with the close instead of hanging or settling on 3.1.1.
    #[test]
    fn rumqttd_closing_every_version_fails_the_first_connect() {
        let broker = Broker::start_kind(BrokerKind::Rumqttd, V5, BrokerConfig::new());
        let mut options = v5_with_fallback("fb-ka0");
        options.mqtt.keep_alive = 0;
        let result = TokioClient::connect(&broker.url_for(V5), options);
        assert_eq!(
            result.err(),
            Some(ClientError::Connect(DisconnectReason::TransportClosed))
        );
    }

    /// A loopback listener in front of a broker that closes the first
    /// `close_first` connections once their CONNECT arrived (a network
    /// failure before CONNACK) and forwards every later one to `upstream`.
    struct FlakyFront {
        addr: SocketAddr,
        stop: Arc<AtomicBool>,
    }

    impl FlakyFront {
        fn start(upstream: SocketAddr, close_first: usize) -> FlakyFront {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
            listener.set_nonblocking(true).expect("nonblocking");
            let addr = listener.local_addr().expect("local addr");
            let stop = Arc::new(AtomicBool::new(false));
            let stopped = stop.clone();
            thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut accepted = 0;
                while !stopped.load(Ordering::SeqCst) && Instant::now() < deadline {
                    let Ok((client, _)) = listener.accept() else {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    accepted += 1;
                    client.set_nonblocking(false).expect("blocking");
                    if accepted <= close_first {
                        close_after_connect(client);
                    } else {
                        forward(client, upstream);
                    }
                }
            });
            FlakyFront { addr, stop }
        }

        fn url(&self) -> String {
            format!("mqtt://{}", self.addr)
        }
    }

    impl Drop for FlakyFront {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// Reads what the client sent first (its CONNECT), then closes.
    fn close_after_connect(mut client: TcpStream) {
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = client.read(&mut [0; 512]);
    }

    /// Pumps bytes both ways between `client` and a new connection to `upstream`.
    fn forward(client: TcpStream, upstream: SocketAddr) {
        let Ok(server) = TcpStream::connect(upstream) else {
            return;
        };
        for (mut from, mut to) in [
            (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            ),
            (server, client),
        ] {
            thread::spawn(move || {
                let mut buf = [0; 16 * 1024];
                while let Ok(n @ 1..) = from.read(&mut buf) {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to.shutdown(std::net::Shutdown::Both);
            });
        }
    }

    /// The first 5.0 CONNECT is closed without CONNACK by the network (the
    /// front), the tentative 3.1.1 retry reaches Mosquitto, which speaks
    /// 5.0: the client verifies with 5.0 and stays there, instead of on the
    /// 3.1.1 its tentative fallback tried (as it did before the core's
    /// `Fallback::Verifying`).
    #[test]
    fn a_close_before_connack_does_not_downgrade_for_good() {
        let broker = Broker::start_kind(BrokerKind::Mosquitto, V5, BrokerConfig::new());
        let front = FlakyFront::start(broker.addr(), 1);
        let client: TokioClient = connect(&front.url(), v5_with_fallback("fb-flaky"));
        assert_eq!(client.protocol_version(), V5);
        round_trip(&client, "fb/flaky");
    }

    /// A broker down at the first dial: the refused dial is the error of
    /// that connect, not a fallback; once the broker is up, 5.0 it is.
    #[test]
    fn a_broker_down_at_the_first_dial_is_no_reason_to_downgrade() {
        let mut broker = Broker::start_kind(BrokerKind::Mosquitto, V5, BrokerConfig::new());
        broker.kill();
        let down = TokioClient::connect(&broker.url(), v5_with_fallback("fb-down"));
        assert_eq!(
            down.err(),
            Some(ClientError::Io(std::io::ErrorKind::ConnectionRefused))
        );
        broker.restart();
        let client: TokioClient = connect(&broker.url(), v5_with_fallback("fb-down"));
        assert_eq!(client.protocol_version(), V5);
        round_trip(&client, "fb/down");
    }

    /// A cluster whose first node accepts and closes every connection (down
    /// behind its load balancer): the client fails over to the second node
    /// and speaks 5.0 there.
    #[test]
    fn a_node_that_closes_every_connection_does_not_downgrade_the_next() {
        let broker = Broker::start_kind(BrokerKind::Mosquitto, V5, BrokerConfig::new());
        let dead = FlakyFront::start(broker.addr(), usize::MAX);
        let mut options = v5_with_fallback("fb-failover");
        options.failover = vec![broker.url()];
        let client: TokioClient = connect(&dead.url(), options);
        assert_eq!(client.protocol_version(), V5);
        round_trip(&client, "fb/failover");
    }
}
