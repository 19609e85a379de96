//! The engine with a session store, held starts and acknowledgments, driven
//! by hand: the test plays the adapter, answering [`Output::Persist`] by
//! applying the updates to a [`MemoryStore`].

use std::sync::Arc;

use mq_proto::client::{AckToken, StoredPublish};
use mq_proto::{Packet, Subscribe};

use super::tests::*;
use super::*;
use crate::channel::{inbox, reply};
use crate::store::{MemoryStore, SessionStore};

/// CONNACK, 5.0, accepted, session present.
const CONNACK_SESSION_PRESENT: [u8; 5] = [0x20, 0x03, 0x01, 0x00, 0x00];

/// A QoS 1 PUBLISH to `a/b` (5.0) with packet identifier `pid` and payload `[pid]`.
fn qos1_publish_bytes(pid: u8) -> [u8; 11] {
    [
        0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, pid, 0x00, pid,
    ]
}

fn puback_bytes(pid: u8) -> [u8; 4] {
    [0x40, 0x02, 0x00, pid]
}

fn durable(store: &Arc<MemoryStore>) -> ConnectOptions {
    let mut o = options();
    o.mqtt.clean_start = false;
    o.session_store = Some(store.clone());
    o
}

/// One output at a time, as an adapter sees them, up to a wait or a stop.
#[derive(Debug, PartialEq)]
enum Step {
    Persist(Vec<StoreUpdate>),
    Write(Vec<Packet>),
    Dial,
    Close,
}

/// Drains the outputs, answering every Persist by applying it to `store`.
fn steps(e: &mut Engine, store: &MemoryStore) -> Vec<Step> {
    let mut out = Vec::new();
    for _ in 0..100 {
        match e.poll_output() {
            Output::Persist(updates) => {
                store.apply(&updates).expect("the memory store takes it");
                out.push(Step::Persist(updates));
                e.handle_input(T0, Input::Persisted(Ok(())));
            }
            Output::Write { data, .. } => {
                let turn = Turn {
                    written: data.to_vec(),
                    actions: Vec::new(),
                    stall: None,
                    end: Output::Stopped,
                };
                out.push(Step::Write(turn.packets(ProtocolVersion::V5)));
            }
            Output::Dial(_) => out.push(Step::Dial),
            Output::Close { .. } => out.push(Step::Close),
            Output::Wait(_) | Output::Stopped => return out,
        }
    }
    panic!("poll_output never said wait: {out:?}");
}

fn kinds(steps: &[Step]) -> Vec<&'static str> {
    steps
        .iter()
        .map(|s| match s {
            Step::Persist(_) => "persist",
            Step::Write(_) => "write",
            Step::Dial => "dial",
            Step::Close => "close",
        })
        .collect()
}

/// Connected over 5.0 with a store.
fn connected_durable(store: &Arc<MemoryStore>) -> Parts {
    let mut parts = Engine::create(durable(store));
    let e = &mut parts.engine;
    assert_eq!(kinds(&steps(e, store)), ["dial"]);
    e.handle_input(T0, Input::Dialed);
    assert_eq!(kinds(&steps(e, store)), ["write"], "CONNECT");
    e.handle_input(T0, Input::Read(&CONNACK_V5));
    steps(e, store);
    assert!(matches!(parts.first_connect.try_take(), Some(Ok(()))));
    parts
}

#[test]
fn a_publish_is_written_only_after_its_store_update_is_durable() {
    let store = Arc::new(MemoryStore::new());
    let mut parts = connected_durable(&store);
    let _done = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    let e = &mut parts.engine;
    let Output::Persist(updates) = e.poll_output() else {
        panic!("the store update comes before the PUBLISH");
    };
    assert!(
        matches!(
            &updates[..],
            [
                StoreUpdate::PublishQueued { .. },
                StoreUpdate::PublishSent { packet_id: 1, .. }
            ]
        ),
        "{updates:?}"
    );
    // Until the store answers, nothing else is handed out... the adapter
    // does not poll; once it answers, the PUBLISH goes.
    store.apply(&updates).expect("applied");
    e.handle_input(T0, Input::Persisted(Ok(())));
    let Output::Write { data, .. } = e.poll_output() else {
        panic!("the PUBLISH after the store");
    };
    assert_eq!(data[0], 0x32, "QoS 1 PUBLISH");
    assert_eq!(store.load().expect("load").outgoing.len(), 1);
}

#[test]
fn publishes_taken_in_one_turn_share_one_store_write() {
    let store = Arc::new(MemoryStore::new());
    let mut parts = connected_durable(&store);
    let _done: Vec<_> = (0..10)
        .map(|_| publish(&parts, "t", QoS::ExactlyOnce))
        .collect();
    take_commands(&mut parts, T0);
    let steps = steps(&mut parts.engine, &store);
    assert_eq!(kinds(&steps), ["persist", "write"]);
    let Step::Write(packets) = &steps[1] else {
        unreachable!()
    };
    assert_eq!(packets.len(), 10, "ten PUBLISHes in one write");
    assert_eq!(store.load().expect("load").outgoing.len(), 10);
}

#[test]
fn completions_wait_to_ride_the_next_store_write() {
    let store = Arc::new(MemoryStore::new());
    let mut parts = connected_durable(&store);
    let _first = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    assert_eq!(
        kinds(&steps(&mut parts.engine, &store)),
        ["persist", "write"]
    );

    // The PUBACK: a completion alone is not written, and the wait ends when it is due.
    parts
        .engine
        .handle_input(at(10), Input::Read(&puback_bytes(1)));
    let Output::Wait(wait) = parts.engine.poll_output() else {
        panic!("a completion alone waits")
    };
    assert_eq!(wait.until, Some(after(at(10), COMPLETIONS_WAIT)));
    assert_eq!(store.load().expect("load").outgoing.len(), 1);

    // The next publish takes it along: one store write for both.
    let _second = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, at(20));
    let steps = steps(&mut parts.engine, &store);
    assert_eq!(kinds(&steps), ["persist", "write"]);
    let Step::Persist(updates) = &steps[0] else {
        unreachable!()
    };
    assert!(
        matches!(updates[0], StoreUpdate::PublishCompleted { .. }),
        "the completion first, in order: {updates:?}"
    );
    assert_eq!(updates.len(), 3, "completed, queued, sent: {updates:?}");
    assert_eq!(store.load().expect("load").outgoing.len(), 1);
}

#[test]
fn waiting_completions_are_written_before_the_engine_stops() {
    let store = Arc::new(MemoryStore::new());
    let mut parts = connected_durable(&store);
    let _first = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    steps(&mut parts.engine, &store);
    parts
        .engine
        .handle_input(at(10), Input::Read(&puback_bytes(1)));
    assert_eq!(kinds(&steps(&mut parts.engine, &store)), [""; 0]);
    parts.engine.handle_input(at(11), Input::HandlesDropped);
    let steps = steps(&mut parts.engine, &store);
    assert!(kinds(&steps).contains(&"persist"), "{steps:?}");
    assert!(store.load().expect("load").outgoing.is_empty());
}

#[test]
fn a_store_failure_writes_nothing_that_depends_on_it_and_stops() {
    let store = Arc::new(MemoryStore::new());
    let mut parts = connected_durable(&store);
    let mut done = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    let e = &mut parts.engine;
    assert!(matches!(e.poll_output(), Output::Persist(_)));
    let error = StoreError::Io {
        action: "write the log",
        path: "/nowhere".into(),
        source: io::Error::other("disk full"),
    };
    e.handle_input(at(1), Input::Persisted(Err(error)));
    let turn = drain(e);
    match &turn.packets(ProtocolVersion::V5)[..] {
        [Packet::Disconnect(d)] => {
            assert_eq!(d.reason_code, ReasonCode::ImplementationSpecificError)
        }
        other => panic!("only DISCONNECT 0x83, got {other:?}"),
    }
    assert_eq!(turn.actions, ["write", "close"]);
    assert!(matches!(turn.end, Output::Stopped));
    drop(parts.engine);
    assert!(
        matches!(done.try_take(), Some(Err(_))),
        "the publish failed"
    );
}

#[test]
fn a_restored_session_resends_with_dup_and_reports_the_outcome() {
    let store = Arc::new(MemoryStore::new());
    let mut message = Publish::new("a/b", "kept");
    message.qos = QoS::AtLeastOnce;
    message.packet_id = 3;
    let snapshot = SessionSnapshot {
        outgoing: vec![StoredPublish {
            id: RequestId(7),
            packet_id: Some(3),
            released: false,
            publish: message,
        }],
        ..SessionSnapshot::default()
    };
    for update in [
        StoreUpdate::PublishQueued {
            id: RequestId(7),
            publish: Box::new(snapshot.outgoing[0].publish.clone()),
        },
        StoreUpdate::PublishSent {
            id: RequestId(7),
            packet_id: 3,
        },
    ] {
        store.apply(&[update]).expect("stored");
    }
    assert_eq!(store.load().expect("load"), snapshot);
    let mut parts = Engine::restore(durable(&store), snapshot);
    let e = &mut parts.engine;
    assert_eq!(kinds(&steps(e, &store)), ["dial"]);
    e.handle_input(T0, Input::Dialed);
    let connect = steps(e, &store);
    match &connect[..] {
        [Step::Write(p)] => assert!(matches!(&p[..], [Packet::Connect(c)] if !c.clean_start)),
        other => panic!("CONNECT resuming the session, got {other:?}"),
    }
    e.handle_input(T0, Input::Read(&CONNACK_SESSION_PRESENT));
    let resent = steps(e, &store);
    match &resent[..] {
        [Step::Write(p)] => match &p[..] {
            [Packet::Publish(p)] => {
                assert!(p.dup && p.packet_id == 3 && &p.payload[..] == b"kept");
            }
            other => panic!("the stored PUBLISH again, got {other:?}"),
        },
        other => panic!("one write, got {other:?}"),
    }
    e.handle_input(T0, Input::Read(&puback_bytes(3)));
    assert_eq!(kinds(&steps(e, &store)), [""; 0], "the completion waits");
    e.handle_input(after(T0, COMPLETIONS_WAIT), Input::Timeout);
    assert_eq!(
        kinds(&steps(e, &store)),
        ["persist"],
        "the completion is recorded when due"
    );
    assert!(store.load().expect("load").outgoing.is_empty());
    let outcome = parts.restored.try_recv().expect("an outcome");
    assert_eq!(outcome.id, RequestId(7));
    assert_eq!(&outcome.publish.payload[..], b"kept");
    assert!(matches!(outcome.result, Ok(ReasonCode::Success)));
}

#[test]
fn a_held_engine_dials_on_start_and_routes_the_first_messages() {
    let mut o = options();
    o.mqtt.clean_start = false;
    let mut parts = Engine::create(o);
    parts.engine.hold();
    let turn = drain(&mut parts.engine);
    assert!(turn.actions.is_empty(), "no dial while held");
    assert!(turn.wait().commands && turn.wait().until.is_none());
    let (sink, inbox) = inbox(8);
    let (routed, mut routes) = crate::channel::reply();
    let (reply, _granted) = crate::channel::reply();
    let packet = Subscribe::new(0, "a/#", QoS::AtLeastOnce);
    send(
        &parts,
        Command::Subscribe {
            packet,
            sink,
            reply,
            routed: Some(routed),
        },
    );
    take_commands(&mut parts, T0);
    assert_eq!(
        routes.try_take().expect("answered").expect("routes").len(),
        1
    );
    assert!(drain(&mut parts.engine).actions.is_empty(), "still held");
    send(&parts, Command::Start);
    take_commands(&mut parts, T0);
    let e = &mut parts.engine;
    assert_eq!(drain(e).actions, ["dial"]);
    e.handle_input(T0, Input::Dialed);
    drain(e);
    // The broker resumes the session: a message right behind CONNACK.
    let mut bytes = CONNACK_SESSION_PRESENT.to_vec();
    bytes.extend_from_slice(&qos1_publish_bytes(9));
    e.handle_input(T0, Input::Read(&bytes));
    let written = drain(e).packets(ProtocolVersion::V5);
    let msg = inbox
        .try_recv()
        .unwrap_or_else(|e| panic!("routed to the subscription ({e:?}); wrote {written:?}"));
    assert_eq!(msg.payload[..], [9]);
    assert!(
        written
            .iter()
            .any(|p| matches!(p, Packet::PubAck(a) if a.packet_id == 9)),
        "{written:?}"
    );
}

#[test]
fn a_message_is_acknowledged_once_handed_to_its_subscriber() {
    let mut parts = connected(options());
    let inbox = subscribe(&mut parts, "a/+", 1);
    let e = &mut parts.engine;
    e.handle_input(at(1), Input::Read(&qos1_publish_bytes(1)));
    e.handle_input(at(1), Input::Read(&qos1_publish_bytes(2)));
    let packets = drain(e).packets(ProtocolVersion::V5);
    assert!(
        matches!(&packets[..], [Packet::PubAck(a)] if a.packet_id == 1),
        "only the message handed over is acknowledged: {packets:?}"
    );
    assert_eq!(inbox.try_recv().expect("first").payload[..], [1]);
    e.handle_input(at(2), Input::Room);
    let packets = drain(e).packets(ProtocolVersion::V5);
    assert!(
        matches!(&packets[..], [Packet::PubAck(a)] if a.packet_id == 2),
        "{packets:?}"
    );
}

#[test]
fn with_manual_acks_the_application_acknowledges() {
    let mut o = options();
    o.manual_acks = true;
    let mut parts = connected(o);
    let inbox = subscribe(&mut parts, "a/+", 8);
    let e = &mut parts.engine;
    e.handle_input(at(1), Input::Read(&qos1_publish_bytes(4)));
    assert!(drain(e).written.is_empty(), "no PUBACK before the ack");
    let msg = inbox.try_recv().expect("delivered");
    let ack = AckToken::of(&msg).expect("QoS 1");
    let (reply, mut acked) = reply();
    send(&parts, Command::Ack { ack, reply });
    take_commands(&mut parts, at(2));
    assert!(matches!(acked.try_take(), Some(Ok(()))));
    let packets = drain(&mut parts.engine).packets(ProtocolVersion::V5);
    assert!(
        matches!(&packets[..], [Packet::PubAck(a)] if a.packet_id == 4),
        "{packets:?}"
    );
    let (reply, mut again) = crate::channel::reply();
    send(&parts, Command::Ack { ack, reply });
    take_commands(&mut parts, at(3));
    assert!(
        matches!(again.try_take(), Some(Err(Error::Ack(_)))),
        "a second ack is refused"
    );
}

#[test]
fn a_message_nobody_takes_is_acknowledged_by_the_client() {
    let mut o = options();
    o.manual_acks = true;
    o.subscription_capacity = 0;
    let mut parts = connected(o);
    let e = &mut parts.engine;
    // No route, no default route, no room to keep it for one.
    e.handle_input(at(1), Input::Read(&qos1_publish_bytes(5)));
    let packets = drain(e).packets(ProtocolVersion::V5);
    assert!(
        matches!(&packets[..], [Packet::PubAck(a)] if a.packet_id == 5),
        "{packets:?}"
    );
}

#[test]
fn a_manual_qos2_ack_returns_once_the_receipt_is_durable() {
    let store = Arc::new(MemoryStore::new());
    let mut o = durable(&store);
    o.manual_acks = true;
    let mut parts = Engine::create(o);
    let e = &mut parts.engine;
    steps(e, &store);
    e.handle_input(T0, Input::Dialed);
    steps(e, &store);
    e.handle_input(T0, Input::Read(&CONNACK_V5));
    steps(e, &store);
    let inbox = {
        let (sink, inbox) = inbox(8);
        send(&parts, Command::DefaultRoute(sink));
        take_commands(&mut parts, T0);
        inbox
    };
    // PUBLISH QoS 2 to a/b, packet identifier 6.
    let qos2 = [
        0x34, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x06, 0x00, b'z',
    ];
    parts.engine.handle_input(at(1), Input::Read(&qos2));
    assert!(steps(&mut parts.engine, &store).is_empty(), "no PUBREC yet");
    let msg = inbox.try_recv().expect("delivered");
    let (reply, mut acked) = crate::channel::reply();
    let ack = AckToken::of(&msg).expect("QoS 2");
    send(&parts, Command::Ack { ack, reply });
    take_commands(&mut parts, at(2));
    assert!(
        acked.try_take().is_none(),
        "not before the receipt is durable"
    );
    let e = &mut parts.engine;
    let Output::Persist(updates) = e.poll_output() else {
        panic!("the receipt first");
    };
    assert_eq!(
        updates,
        [StoreUpdate::IncomingQoS2Received { packet_id: 6 }]
    );
    assert!(acked.try_take().is_none(), "still writing");
    e.handle_input(at(3), Input::Persisted(Ok(())));
    assert!(matches!(acked.try_take(), Some(Ok(()))));
    let Output::Write { data, .. } = e.poll_output() else {
        panic!("then PUBREC");
    };
    assert_eq!(&data[..], [0x50, 0x02, 0x00, 0x06]);
}
