//! The engine's lifecycle and dispatch, driven by hand: the broker's bytes
//! are scripted, time is a number, no runtime.

use std::time::Duration;

use mq_proto::client::Backoff;
use mq_proto::{Decoder, Packet, Subscribe};

use super::*;
use crate::channel::{inbox, Inbox, RecvError};

pub(super) const T0: Instant = Instant::ZERO;
/// CONNACK, 5.0, accepted, no properties.
pub(super) const CONNACK_V5: [u8; 5] = [0x20, 0x03, 0x00, 0x00, 0x00];

pub(super) fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// What one drain of the outputs did, up to a wait or the stop.
#[derive(Debug)]
pub(super) struct Turn {
    pub(super) written: Vec<u8>,
    pub(super) actions: Vec<&'static str>,
    pub(super) stall: Option<Duration>,
    pub(super) end: Output,
}

impl Turn {
    pub(super) fn wait(&self) -> &Wait {
        match &self.end {
            Output::Wait(w) => w,
            other => panic!("expected a wait, got {other:?} after {:?}", self.actions),
        }
    }

    pub(super) fn packets(&self, version: ProtocolVersion) -> Vec<Packet> {
        let mut buf = BytesMut::from(&self.written[..]);
        let decoder = Decoder::new(version);
        let mut out = Vec::new();
        while let Some(p) = decoder
            .decode(&mut buf)
            .expect("the engine writes valid packets")
        {
            out.push(p);
        }
        assert!(buf.is_empty(), "a partial packet was written");
        out
    }
}

/// Drains outputs until a wait or a stop.
pub(super) fn drain(e: &mut Engine) -> Turn {
    let mut turn = Turn {
        written: Vec::new(),
        actions: Vec::new(),
        stall: None,
        end: Output::Stopped,
    };
    for _ in 0..100 {
        match e.poll_output() {
            Output::Write { data, stall } => {
                turn.written.extend_from_slice(&data);
                turn.stall = Some(stall);
                turn.actions.push("write");
            }
            Output::Dial(_) => turn.actions.push("dial"),
            Output::Close { .. } => turn.actions.push("close"),
            end => {
                turn.end = end;
                return turn;
            }
        }
    }
    panic!("poll_output never said wait: {:?}", turn.actions);
}

/// Test options: 5.0 only, keep alive 10 s, connect timeout 5 s, backoff 100 ms without jitter.
pub(super) fn options() -> ConnectOptions {
    let mut o = ConnectOptions::new("c");
    o.mqtt.protocol_fallback = false;
    o.mqtt.keep_alive = 10;
    o.mqtt.connect_timeout = Duration::from_secs(5);
    o.mqtt.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        jitter_percent: 0,
        stable_after: Duration::from_secs(30),
    };
    o
}

/// An engine connected over 5.0 at T0, with the handles' ends.
pub(super) fn connected(options: ConnectOptions) -> Parts {
    let mut parts = dialed(options);
    let e = &mut parts.engine;
    e.handle_input(T0, Input::Read(&CONNACK_V5));
    drain(e);
    assert!(matches!(parts.first_connect.try_take(), Some(Ok(()))));
    parts
}

/// An engine that dialed and wrote its CONNECT at T0, waiting for CONNACK.
pub(super) fn dialed(options: ConnectOptions) -> Parts {
    let mut parts = Engine::create(options);
    let e = &mut parts.engine;
    assert_eq!(drain(e).actions, ["dial"]);
    e.handle_input(T0, Input::Dialed);
    assert_eq!(drain(e).actions, ["write"], "CONNECT");
    parts
}

pub(super) fn send(parts: &Parts, command: Command) {
    parts
        .commands
        .try_send(command)
        .expect("command queue has room");
}

/// Takes the queued commands as a driver does: the first, then the engine batches.
pub(super) fn take_commands(parts: &mut Parts, now: Instant) {
    let command = parts
        .engine
        .command_receiver()
        .try_recv()
        .expect("a command");
    parts.engine.handle_input(now, Input::Command(command));
}

pub(super) fn publish(parts: &Parts, topic: &str, qos: QoS) -> Waiter<ReasonCode> {
    let (reply, waiter) = reply();
    let mut publish = Publish::new(topic, "x");
    publish.qos = qos;
    send(parts, Command::Publish { publish, reply });
    waiter
}

pub(super) fn subscribe(parts: &mut Parts, filter: &str, capacity: usize) -> Inbox {
    let (inbox, granted) = subscribe_answered(parts, filter, capacity, 0x00);
    let granted = granted.expect("granted");
    assert_eq!(granted.reason_codes, [ReasonCode::Success]);
    inbox
}

/// Subscribes to `filter` with an inbox of its own; the broker answers `code`.
pub(super) fn subscribe_answered(
    parts: &mut Parts,
    filter: &str,
    capacity: usize,
    code: u8,
) -> (Inbox, Result<Subscribed, Error>) {
    let (sink, inbox) = inbox(capacity);
    let (reply, mut waiter) = reply();
    let packet = Subscribe::new(0, filter, QoS::AtMostOnce);
    send(
        parts,
        Command::Subscribe {
            packet,
            sink,
            reply,
            routed: None,
        },
    );
    take_commands(parts, T0);
    let id = match &drain(&mut parts.engine).packets(ProtocolVersion::V5)[..] {
        [Packet::Subscribe(s)] => s.packet_id,
        other => panic!("expected one SUBSCRIBE, got {other:?}"),
    };
    let [hi, lo] = id.to_be_bytes();
    parts
        .engine
        .handle_input(T0, Input::Read(&[0x90, 0x04, hi, lo, 0x00, code]));
    (inbox, waiter.try_take().expect("answered"))
}

/// A QoS 0 PUBLISH to `a/b` with a one-byte payload and no properties (5.0).
pub(super) fn publish_bytes(payload: u8) -> [u8; 9] {
    [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, payload]
}

#[test]
fn the_first_dial_connects_and_a_connack_completes_connect() {
    let mut parts = Engine::create(options());
    let e = &mut parts.engine;
    assert!(matches!(e.poll_output(), Output::Dial(_)));
    let dialing = drain(e);
    assert_eq!(
        dialing.wait().until,
        Some(at(5_000)),
        "the connect deadline"
    );
    assert!(dialing.wait().commands, "commands are taken while dialing");
    assert!(!dialing.wait().read);
    e.handle_input(at(10), Input::Dialed);
    let turn = drain(e);
    assert!(matches!(
        &turn.packets(ProtocolVersion::V5)[..],
        [Packet::Connect(_)]
    ));
    assert_eq!(
        turn.stall,
        Some(Duration::from_secs(15)),
        "keep alive 10 s + ping timeout 5 s is sooner than the write timeout"
    );
    assert!(turn.wait().read && turn.wait().commands);
    assert!(
        parts.first_connect.try_take().is_none(),
        "not before CONNACK"
    );
    e.handle_input(at(20), Input::Read(&CONNACK_V5));
    assert!(matches!(parts.first_connect.try_take(), Some(Ok(()))));
    let snapshot = parts.snapshot.lock().expect("snapshot");
    assert!(snapshot.connected);
    assert!(
        snapshot.connack.is_some(),
        "the CONNACK is kept for accessors"
    );
}

#[test]
fn a_failed_first_dial_fails_connect_and_stops() {
    let mut parts = Engine::create(options());
    let e = &mut parts.engine;
    assert_eq!(drain(e).actions, ["dial"]);
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    e.handle_input(at(1), Input::DialFailed(Error::Io(refused)));
    let turn = drain(e);
    assert!(matches!(turn.end, Output::Stopped), "{turn:?}");
    assert!(matches!(
        parts.first_connect.try_take(),
        Some(Err(Error::Io(_)))
    ));
}

#[test]
fn a_dial_that_never_completes_times_out_at_the_connect_deadline() {
    let mut parts = Engine::create(options());
    let events = parts.events.listen();
    let e = &mut parts.engine;
    drain(e);
    e.handle_input(at(4_999), Input::Timeout);
    assert!(
        drain(e).wait().until == Some(at(5_000)),
        "not before the deadline"
    );
    e.handle_input(at(5_000), Input::Timeout);
    let turn = drain(e);
    assert_eq!(turn.actions, ["close"], "the dial is abandoned");
    assert!(matches!(turn.end, Output::Stopped));
    assert!(matches!(
        parts.first_connect.try_take(),
        Some(Err(Error::Timeout))
    ));
    assert_eq!(events.try_recv(), Err(RecvError::Closed), "listeners end");
    assert!(parts.snapshot.lock().expect("snapshot").closed);
}

#[test]
fn disconnect_while_dialing_abandons_the_dial_and_stops() {
    let mut parts = Engine::create(options());
    drain(&mut parts.engine);
    let (reply, mut waiter) = reply();
    send(
        &parts,
        Command::Disconnect {
            disconnect: Disconnect::default(),
            reply,
        },
    );
    take_commands(&mut parts, at(100));
    let turn = drain(&mut parts.engine);
    assert_eq!(turn.actions, ["close"]);
    assert!(matches!(turn.end, Output::Stopped));
    assert!(matches!(waiter.try_take(), Some(Ok(()))));
    assert!(matches!(
        parts.first_connect.try_take(),
        Some(Err(Error::Closed))
    ));
}

#[test]
fn a_lost_connection_closes_backs_off_and_redials() {
    let mut parts = connected(options());
    let events = parts.events.listen();
    let e = &mut parts.engine;
    e.handle_input(at(1_000), Input::TransportClosed(None));
    let turn = drain(e);
    assert_eq!(turn.actions, ["close"]);
    assert_eq!(turn.wait().until, Some(at(1_100)), "100 ms of backoff");
    assert!(!turn.wait().read);
    assert!(turn.wait().commands, "publishes queue while reconnecting");
    assert!(matches!(
        events.try_recv(),
        Ok(ClientEvent::ConnectionLost(r)) if *r == DisconnectReason::TransportClosed
    ));
    assert_eq!(
        events.try_recv(),
        Ok(ClientEvent::Reconnecting {
            delay: Duration::from_millis(100)
        })
    );
    e.handle_input(at(1_100), Input::Timeout);
    assert_eq!(drain(e).actions, ["dial"]);
    e.handle_input(at(1_150), Input::Dialed);
    let turn = drain(e);
    assert!(matches!(
        &turn.packets(ProtocolVersion::V5)[..],
        [Packet::Connect(_)]
    ));
    e.handle_input(at(1_200), Input::Read(&CONNACK_V5));
    match events.try_recv() {
        Ok(ClientEvent::Connected {
            session_present: false,
            connack,
        }) => assert_eq!(connack.reason_code, ReasonCode::Success),
        other => panic!("Connected with the CONNACK, got {other:?}"),
    }
}

#[test]
fn without_keep_alive_a_write_may_stall_for_the_write_timeout() {
    let mut o = options();
    o.mqtt.keep_alive = 0;
    o.write_timeout = Duration::from_secs(7);
    let mut parts = Engine::create(o);
    drain(&mut parts.engine);
    parts.engine.handle_input(T0, Input::Dialed);
    assert_eq!(drain(&mut parts.engine).stall, Some(Duration::from_secs(7)));
}

#[test]
fn without_auto_reconnect_a_lost_connection_stops_the_client() {
    let mut o = options();
    o.auto_reconnect = false;
    let mut parts = connected(o);
    parts
        .engine
        .handle_input(at(1_000), Input::TransportClosed(None));
    let turn = drain(&mut parts.engine);
    assert_eq!(turn.actions, ["close"]);
    assert!(matches!(turn.end, Output::Stopped));
}

#[test]
fn a_redial_that_fails_backs_off_longer() {
    let mut parts = connected(options());
    let e = &mut parts.engine;
    e.handle_input(at(1_000), Input::TransportClosed(None));
    assert_eq!(drain(e).wait().until, Some(at(1_100)));
    e.handle_input(at(1_100), Input::Timeout);
    drain(e);
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    e.handle_input(at(1_110), Input::DialFailed(Error::Io(refused)));
    let turn = drain(e);
    assert_eq!(
        turn.wait().until,
        Some(at(1_310)),
        "200 ms: the second attempt"
    );
}

#[test]
fn the_keep_alive_deadline_is_waited_for_and_sends_pingreq() {
    let mut parts = connected(options());
    let e = &mut parts.engine;
    assert_eq!(drain(e).wait().until, Some(at(10_000)));
    e.handle_input(at(10_000), Input::Timeout);
    let turn = drain(e);
    assert_eq!(turn.written, [0xC0, 0x00], "PINGREQ");
    // No PINGRESP within half the keep alive: the connection is dead.
    assert_eq!(turn.wait().until, Some(at(15_000)));
    e.handle_input(at(15_000), Input::Timeout);
    assert_eq!(drain(e).actions, ["close"]);
}

#[test]
fn queued_commands_are_taken_in_one_batch_and_written_once() {
    let mut parts = connected(options());
    let waiters: Vec<_> = (0..3)
        .map(|_| publish(&parts, "t", QoS::AtMostOnce))
        .collect();
    take_commands(&mut parts, at(1));
    let turn = drain(&mut parts.engine);
    assert_eq!(turn.actions, ["write"], "one write for the burst");
    assert_eq!(turn.packets(ProtocolVersion::V5).len(), 3);
    for mut w in waiters {
        assert!(matches!(w.try_take(), Some(Ok(ReasonCode::Success))));
    }
}

#[test]
fn dropping_every_handle_disconnects_normally_and_stops() {
    let mut parts = connected(options());
    parts.engine.handle_input(at(1), Input::HandlesDropped);
    let turn = drain(&mut parts.engine);
    assert_eq!(turn.actions, ["write", "close"]);
    assert!(matches!(
        &turn.packets(ProtocolVersion::V5)[..],
        [Packet::Disconnect(d)] if d.reason_code == ReasonCode::Success
    ));
    assert!(matches!(turn.end, Output::Stopped));
}

#[test]
fn disconnect_writes_disconnect_then_closes_then_answers() {
    let mut parts = connected(options());
    let (reply, mut waiter) = reply();
    send(
        &parts,
        Command::Disconnect {
            disconnect: Disconnect::default(),
            reply,
        },
    );
    take_commands(&mut parts, at(1));
    let turn = drain(&mut parts.engine);
    assert_eq!(turn.actions, ["write", "close"]);
    assert!(matches!(turn.end, Output::Stopped));
    assert!(matches!(waiter.try_take(), Some(Ok(()))));
}

#[test]
fn a_listener_made_after_connect_sees_no_stale_connected() {
    let parts = connected(options());
    let events = parts.events.listen();
    assert_eq!(events.try_recv(), Err(RecvError::Empty));
}

#[test]
fn a_full_subscriber_stops_reads_and_room_resumes_them_in_order() {
    let mut parts = connected(options());
    let inbox = subscribe(&mut parts, "a/+", 1);
    for n in 1..=3 {
        parts
            .engine
            .handle_input(at(1), Input::Read(&publish_bytes(n)));
    }
    let turn = drain(&mut parts.engine);
    assert!(!turn.wait().read, "a full subscriber stops the reads");
    assert!(turn.wait().room.is_some());
    let mut got = Vec::new();
    for _ in 0..3 {
        let msg = inbox.try_recv().expect("a message");
        got.push(msg.payload[0]);
        parts.engine.handle_input(at(2), Input::Room);
    }
    assert_eq!(got, [1, 2, 3]);
    assert!(drain(&mut parts.engine).wait().read);
}

#[test]
fn a_message_matching_two_filters_of_one_subscription_arrives_once() {
    let mut parts = connected(options());
    let (sink, inbox) = inbox(8);
    let (reply, _waiter) = reply();
    let mut packet = Subscribe::new(0, "a/+", QoS::AtMostOnce);
    packet.subscriptions.push(mq_proto::SubscribeFilter {
        filter: "a/#".into(),
        ..Default::default()
    });
    send(
        &parts,
        Command::Subscribe {
            packet,
            sink,
            reply,
            routed: None,
        },
    );
    take_commands(&mut parts, T0);
    drain(&mut parts.engine);
    let e = &mut parts.engine;
    e.handle_input(T0, Input::Read(&[0x90, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]));
    e.handle_input(T0, Input::Read(&publish_bytes(7)));
    assert_eq!(inbox.try_recv().expect("one copy").payload[0], 7);
    assert_eq!(
        inbox.try_recv().err(),
        Some(RecvError::Empty),
        "no second copy"
    );
}

#[test]
fn a_5_0_connect_closed_without_connack_redials_at_once_with_3_1_1() {
    let mut o = options();
    o.mqtt.protocol_fallback = true;
    let mut parts = Engine::create(o);
    let e = &mut parts.engine;
    drain(e);
    e.handle_input(T0, Input::Dialed);
    drain(e);
    e.handle_input(at(5), Input::TransportClosed(None));
    assert_eq!(
        drain(e).actions,
        ["close", "dial"],
        "no backoff for the fallback"
    );
    e.handle_input(at(6), Input::Dialed);
    let turn = drain(e);
    assert!(matches!(
        &turn.packets(ProtocolVersion::V311)[..],
        [Packet::Connect(c)] if c.protocol_version == ProtocolVersion::V311
    ));
    assert!(parts.first_connect.try_take().is_none(), "still trying");
}

/// Tags outgoing publishes and upper-cases incoming payloads.
struct Tagger;

impl Interceptor for Tagger {
    fn on_publish(&self, publish: &mut Publish) {
        publish
            .properties
            .user_properties
            .push(("tag".into(), "1".into()));
    }

    fn on_message(&self, message: &mut Message) {
        message.payload = message.payload.to_ascii_uppercase().into();
    }
}

#[test]
fn interceptors_see_every_outgoing_publish_and_incoming_message() {
    let mut o = options();
    o.interceptors.push(std::sync::Arc::new(Tagger));
    let mut parts = connected(o);
    let inbox = subscribe(&mut parts, "a/+", 8);
    let _done = publish(&parts, "t", QoS::AtMostOnce);
    take_commands(&mut parts, T0);
    match &drain(&mut parts.engine).packets(ProtocolVersion::V5)[..] {
        [Packet::Publish(p)] => assert_eq!(
            p.properties.user_properties().collect::<Vec<_>>(),
            [("tag".into(), "1".into())]
        ),
        other => panic!("one PUBLISH, got {other:?}"),
    }
    // publish_bytes(b'q'): a QoS 0 message to a/b with payload "q".
    parts
        .engine
        .handle_input(at(1), Input::Read(&publish_bytes(b'q')));
    assert_eq!(&inbox.try_recv().expect("delivered").payload[..], b"Q");
}

#[test]
fn a_protocol_error_is_told_only_after_its_disconnect_is_written() {
    let mut parts = connected(options());
    let events = parts.events.listen();
    // A packet of reserved type 0: the broker broke the protocol.
    parts.engine.handle_input(at(1), Input::Read(&[0x00, 0x00]));
    assert_eq!(
        events.try_recv(),
        Err(RecvError::Empty),
        "not before the DISCONNECT is written"
    );
    let Output::Write { data, .. } = parts.engine.poll_output() else {
        panic!("the DISCONNECT first");
    };
    assert_eq!(data[0], 0xE0, "DISCONNECT");
    assert_eq!(events.try_recv(), Err(RecvError::Empty), "still writing");
    drain(&mut parts.engine);
    assert!(matches!(
        events.try_recv(),
        Ok(ClientEvent::ConnectionLost(reason))
            if matches!(*reason, DisconnectReason::ProtocolError { .. })
    ));
}

/// The target of the next dial, draining to it.
fn next_dial(e: &mut Engine) -> Target {
    for _ in 0..10 {
        match e.poll_output() {
            Output::Dial(target) => return target,
            Output::Wait(w) => {
                let until = w.until.expect("a backoff deadline");
                e.handle_input(until, Input::Timeout);
            }
            Output::Close { .. } | Output::Write { .. } => {}
            other => panic!("expected a dial, got {other:?}"),
        }
    }
    panic!("no dial");
}

#[test]
fn a_first_connect_tries_every_server_before_failing() {
    let mut o = options();
    o.failover = vec!["mqtt://b".into(), "mqtt://c".into()];
    let mut parts = Engine::create(o);
    let e = &mut parts.engine;
    assert_eq!(next_dial(e), Target::Server(0));
    e.handle_input(T0, Input::DialFailed(Error::Timeout));
    assert_eq!(next_dial(e), Target::Server(1), "at once, no failure yet");
    assert!(parts.first_connect.try_take().is_none());
    e.handle_input(T0, Input::Dialed);
    e.handle_input(T0, Input::TransportClosed(None));
    assert_eq!(next_dial(e), Target::Server(2), "closed without CONNACK");
    e.handle_input(T0, Input::DialFailed(Error::Timeout));
    assert!(
        matches!(parts.first_connect.try_take(), Some(Err(_))),
        "every server failed"
    );
}

#[test]
fn a_lost_connection_fails_over_to_the_next_server() {
    let mut o = options();
    o.failover = vec!["mqtt://b".into()];
    let mut parts = connected(o);
    let e = &mut parts.engine;
    e.handle_input(at(1), Input::TransportClosed(None));
    assert_eq!(next_dial(e), Target::Server(0), "the same server first");
    e.handle_input(at(200), Input::DialFailed(Error::Timeout));
    assert_eq!(next_dial(e), Target::Server(1), "then the next");
    e.handle_input(at(500), Input::Dialed);
    e.handle_input(at(500), Input::Read(&CONNACK_V5));
    e.handle_input(at(600), Input::TransportClosed(None));
    assert_eq!(
        next_dial(e),
        Target::Server(1),
        "and it stays where it connected"
    );
}

/// DISCONNECT 0x9C Use another server, Server Reference "b:1884".
const USE_ANOTHER_SERVER: [u8; 13] = [
    0xE0, 0x0B, 0x9C, 0x09, 0x1C, 0x00, 0x06, b'b', b':', b'1', b'8', b'8', b'4',
];

#[test]
fn a_redirect_is_followed_once_when_asked() {
    let mut o = options();
    o.follow_redirects = true;
    let mut parts = connected(o);
    let events = parts.events.listen();
    let e = &mut parts.engine;
    e.handle_input(at(1), Input::Read(&USE_ANOTHER_SERVER));
    assert_eq!(next_dial(e), Target::Redirect("b:1884".into()));
    assert!(matches!(
        events.try_recv(),
        Ok(ClientEvent::ServerRedirect(r)) if r == "b:1884"
    ));
    e.handle_input(at(500), Input::DialFailed(Error::Timeout));
    assert_eq!(next_dial(e), Target::Server(0), "back to the list");
}

#[test]
fn a_redirect_is_only_reported_by_default() {
    let mut parts = connected(options());
    let e = &mut parts.engine;
    e.handle_input(at(1), Input::Read(&USE_ANOTHER_SERVER));
    assert_eq!(next_dial(e), Target::Server(0));
}

/// Counts the wakes of a waker.
#[derive(Default)]
struct Wakes(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Wakes {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[test]
fn a_stop_request_wakes_the_waker_registered_last() {
    let signal = StopSignal::default();
    let (first, last) = (Arc::new(Wakes::default()), Arc::new(Wakes::default()));
    signal.register(&Waker::from(first.clone()));
    signal.register(&Waker::from(last.clone()));
    assert!(!signal.is_requested());
    signal.request();
    assert!(signal.is_requested());
    assert_eq!((first.count(), last.count()), (0, 1));
}

#[test]
fn the_handles_stop_signal_is_the_engines() {
    let parts = Engine::create(options());
    parts.stop.request();
    assert!(parts.engine.stop_signal().is_requested());
}

#[test]
fn bytes_read_into_the_receive_buffer_are_handled() {
    let mut parts = dialed(options());
    let e = &mut parts.engine;
    e.receive_buffer().extend_from_slice(&CONNACK_V5);
    e.handle_input(at(1), Input::Received(CONNACK_V5.len()));
    assert!(matches!(parts.first_connect.try_take(), Some(Ok(()))));
}

#[test]
fn a_timeout_before_the_backoff_ends_does_not_redial() {
    let mut parts = connected(options());
    let e = &mut parts.engine;
    e.handle_input(at(1_000), Input::TransportClosed(None));
    assert_eq!(drain(e).wait().until, Some(at(1_100)));
    e.handle_input(at(1_050), Input::Timeout);
    let turn = drain(e);
    assert!(turn.actions.is_empty(), "{:?}", turn.actions);
    assert_eq!(turn.wait().until, Some(at(1_100)));
}

#[test]
fn a_refused_first_connect_fails_connect_and_stops() {
    let mut o = options();
    o.failover = vec!["mqtt://b".into()];
    let mut parts = dialed(o);
    let e = &mut parts.engine;
    // CONNACK 0x87 Not authorized: a refusal, not a server to skip.
    e.handle_input(at(1), Input::Read(&[0x20, 0x03, 0x00, 0x87, 0x00]));
    assert!(matches!(
        parts.first_connect.try_take(),
        Some(Err(Error::Connect(reason))) if matches!(*reason, DisconnectReason::Refused(_))
    ));
    let turn = drain(&mut parts.engine);
    assert_eq!(turn.actions, ["close"]);
    assert!(matches!(turn.end, Output::Stopped));
}

#[test]
fn a_connack_that_redirects_is_followed_when_asked() {
    let mut o = options();
    o.follow_redirects = true;
    let mut parts = dialed(o);
    let e = &mut parts.engine;
    // CONNACK 0x9D Server moved, Server Reference "b:1884".
    let moved = [
        0x20, 0x0C, 0x00, 0x9D, 0x09, 0x1C, 0x00, 0x06, b'b', b':', b'1', b'8', b'8', b'4',
    ];
    e.handle_input(at(1), Input::Read(&moved));
    assert_eq!(next_dial(e), Target::Redirect("b:1884".into()));
    assert!(parts.first_connect.try_take().is_none(), "still trying");
}

#[test]
fn a_brokers_disconnect_is_told_at_once_when_nothing_is_left_to_write() {
    let mut parts = connected(options());
    let events = parts.events.listen();
    // DISCONNECT 0x8B Server shutting down.
    parts
        .engine
        .handle_input(at(1), Input::Read(&[0xE0, 0x01, 0x8B]));
    assert!(matches!(
        events.try_recv(),
        Ok(ClientEvent::ConnectionLost(reason)) if matches!(*reason, DisconnectReason::Server(_))
    ));
}
