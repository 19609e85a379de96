//! Routing, request/response, queue policies and acknowledgments, driven
//! by hand like the lifecycle tests.

use std::time::Duration;

use mq_proto::client::{AckToken, RouteId};
use mq_proto::Packet;

use super::tests::*;
use super::*;
use crate::channel::{inbox, reply, RecvError};

fn routes_of(result: Result<Subscribed, Error>) -> Vec<RouteId> {
    result.expect("granted").routes
}

#[test]
fn a_message_matching_two_subscriptions_reaches_both() {
    let mut parts = connected(options());
    let one = subscribe(&mut parts, "a/+", 8);
    let two = subscribe(&mut parts, "a/#", 8);
    parts
        .engine
        .handle_input(at(1), Input::Read(&publish_bytes(3)));
    assert_eq!(one.try_recv().expect("first copy").payload[0], 3);
    assert_eq!(two.try_recv().expect("second copy").payload[0], 3);
}

#[test]
fn a_message_before_any_route_waits_for_the_default_route() {
    let mut parts = connected(options());
    parts
        .engine
        .handle_input(at(1), Input::Read(&publish_bytes(4)));
    let (sink, inbox) = inbox(8);
    send(&parts, Command::DefaultRoute(sink));
    take_commands(&mut parts, at(2));
    assert_eq!(inbox.try_recv().expect("kept for it").payload[0], 4);
}

#[test]
fn a_refused_subscription_fails_and_routes_nothing() {
    let mut parts = connected(options());
    let (inbox, result) = subscribe_answered(&mut parts, "a/+", 8, 0x87);
    assert!(matches!(
        result,
        Err(Error::SubscribeRefused(codes)) if codes == [ReasonCode::NotAuthorized]
    ));
    parts
        .engine
        .handle_input(at(1), Input::Read(&publish_bytes(5)));
    assert_eq!(inbox.try_recv().err(), Some(RecvError::Closed));
}

#[test]
fn dropped_routes_route_nothing() {
    let mut parts = connected(options());
    let (inbox, result) = subscribe_answered(&mut parts, "a/+", 8, 0x00);
    send(&parts, Command::DropRoutes(routes_of(result)));
    take_commands(&mut parts, at(1));
    parts
        .engine
        .handle_input(at(2), Input::Read(&publish_bytes(6)));
    assert_eq!(inbox.try_recv().err(), Some(RecvError::Closed));
}

/// Sends a request; gives the PUBLISH that went out and the waiter.
fn request(parts: &mut Parts, now: Instant, timeout: Duration) -> (Publish, Waiter<Message>) {
    let (reply, waiter) = reply();
    let publish = Publish::new("svc", "q");
    send(
        parts,
        Command::Request {
            publish,
            timeout,
            reply,
        },
    );
    take_commands(parts, now);
    let sent = drain(&mut parts.engine)
        .packets(ProtocolVersion::V5)
        .into_iter()
        .find_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .expect("the request was published");
    (sent, waiter)
}

/// The broker's answer to `request`, with `payload`.
fn answer(request: &Publish, payload: &'static str) -> Vec<u8> {
    let topic = request.properties.response_topic.clone().expect("topic");
    let mut answer = Publish::new(topic, payload);
    answer.properties.correlation_data = request.properties.correlation_data.clone();
    let mut wire = Vec::new();
    Packet::Publish(answer)
        .encode(ProtocolVersion::V5, &mut wire)
        .expect("encode");
    wire
}

#[test]
fn a_request_gets_the_reply_with_its_correlation_data_or_times_out() {
    let mut parts = connected(options());
    let timeout = Duration::from_secs(5);
    let (sent, mut answered) = request(&mut parts, T0, timeout);
    parts
        .engine
        .handle_input(at(1), Input::Read(&answer(&sent, "r")));
    let got = answered.try_take().expect("answered").expect("reply");
    assert_eq!(&got.payload[..], b"r");

    let (_, mut late) = request(&mut parts, at(2), timeout);
    assert_eq!(drain(&mut parts.engine).wait().until, Some(at(5_002)));
    parts.engine.handle_input(at(5_002), Input::Timeout);
    assert!(matches!(late.try_take(), Some(Err(Error::Timeout))));
}

#[test]
fn two_requests_each_get_their_own_reply() {
    let mut parts = connected(options());
    let timeout = Duration::from_secs(5);
    let (first, mut first_reply) = request(&mut parts, T0, timeout);
    let (second, mut second_reply) = request(&mut parts, T0, timeout);
    parts
        .engine
        .handle_input(at(1), Input::Read(&answer(&second, "2")));
    parts
        .engine
        .handle_input(at(1), Input::Read(&answer(&first, "1")));
    let got = |w: &mut Waiter<Message>| w.try_take().expect("answered").expect("reply").payload;
    assert_eq!(&got(&mut first_reply)[..], b"1");
    assert_eq!(&got(&mut second_reply)[..], b"2");
}

#[test]
fn a_late_timeout_still_fails_an_overdue_request() {
    let mut parts = connected(options());
    let (_, mut waiter) = request(&mut parts, T0, Duration::from_secs(5));
    parts.engine.handle_input(at(4_999), Input::Timeout);
    assert!(waiter.try_take().is_none(), "not before its deadline");
    parts.engine.handle_input(at(7_000), Input::Timeout);
    assert!(matches!(waiter.try_take(), Some(Err(Error::Timeout))));
}

/// An engine not connected yet whose core queues one publish, under `policy`.
fn queue_of_one(policy: QueuePolicy) -> Parts {
    let mut o = options();
    o.mqtt.max_queued_messages = 1;
    o.queue_policy = policy;
    let mut parts = Engine::create(o);
    drain(&mut parts.engine);
    parts
}

#[test]
fn queue_policy_error_fails_a_publish_when_the_queue_is_full() {
    let mut parts = queue_of_one(QueuePolicy::Error);
    let mut first = publish(&parts, "t", QoS::AtLeastOnce);
    let mut second = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    assert!(first.try_take().is_none(), "the first waits in the queue");
    assert!(matches!(
        second.try_take(),
        Some(Err(Error::Command(CommandError::QueueFull(1))))
    ));
    assert!(drain(&mut parts.engine).wait().commands);
}

#[test]
fn queue_policy_wait_parks_publishes_and_stops_taking_commands() {
    let mut parts = queue_of_one(QueuePolicy::Wait);
    let _first = publish(&parts, "t", QoS::AtLeastOnce);
    let mut second = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    assert!(
        !drain(&mut parts.engine).wait().commands,
        "a parked publish holds further commands back"
    );
    assert!(second.try_take().is_none(), "parked, not failed");
}

#[test]
fn queue_policy_drop_qos0_fails_qos0_and_parks_the_others() {
    let mut parts = queue_of_one(QueuePolicy::DropQoS0);
    let _first = publish(&parts, "t", QoS::AtLeastOnce);
    let mut qos0 = publish(&parts, "t", QoS::AtMostOnce);
    let mut qos1 = publish(&parts, "t", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    assert!(matches!(
        qos0.try_take(),
        Some(Err(Error::Command(CommandError::QueueFull(1))))
    ));
    assert!(qos1.try_take().is_none(), "parked, not failed");
    assert!(!drain(&mut parts.engine).wait().commands);
}

#[test]
fn a_parked_publish_goes_out_once_the_queue_has_room() {
    let mut parts = queue_of_one(QueuePolicy::Wait);
    let _first = publish(&parts, "one", QoS::AtLeastOnce);
    let _second = publish(&parts, "two", QoS::AtLeastOnce);
    take_commands(&mut parts, T0);
    let e = &mut parts.engine;
    e.handle_input(T0, Input::Dialed);
    drain(e);
    e.handle_input(at(1), Input::Read(&CONNACK_V5));
    let turn = drain(e);
    let topics: Vec<_> = turn
        .packets(ProtocolVersion::V5)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.topic.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(topics, ["one", "two"]);
    assert!(turn.wait().commands, "commands are taken again");
}

#[test]
fn a_manual_qos2_ack_without_a_store_returns_at_once() {
    let mut o = options();
    o.manual_acks = true;
    let mut parts = connected(o);
    let inbox = subscribe(&mut parts, "a/+", 8);
    // PUBLISH QoS 2 to a/b, packet identifier 6.
    let qos2 = [
        0x34, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x06, 0x00, b'z',
    ];
    parts.engine.handle_input(at(1), Input::Read(&qos2));
    let msg = inbox.try_recv().expect("delivered");
    let (reply, mut acked) = reply();
    let ack = AckToken::of(&msg).expect("QoS 2");
    send(&parts, Command::Ack { ack, reply });
    take_commands(&mut parts, at(2));
    assert!(matches!(acked.try_take(), Some(Ok(()))));
    assert_eq!(
        drain(&mut parts.engine).written,
        [0x50, 0x02, 0x00, 0x06],
        "PUBREC"
    );
}
