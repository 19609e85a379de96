//! Message and request flow scenarios: outgoing and incoming QoS 0/1/2,
//! packet identifiers, resend on resume, lost sessions, flow control, size
//! and capability limits, topic aliases, subscriptions, 3.1.1 degradation,
//! message expiry and the durable store.
//!
//! Every byte string is what the broker sends or what the client must write,
//! commented field by field. Statement ids are MQTT 5.0 unless marked 3.1.1.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use super::harness::Scenario;
use crate::client::{
    ActiveSubscription, Client, CommandError, DisconnectReason, Event, Instant, Options,
    ProtocolViolation, RequestError, RequestId, StoreUpdate, TopicAliasPolicy,
};
use crate::codec::{
    EncodeError, MqttString, PacketType, PayloadFormat, Properties, PropertyContext, PropertyId,
    Publish, QoS, ReasonCode, RetainHandling, Subscribe, SubscribeFilter, SubscriptionOptions,
    Unsubscribe,
};

// ---------------------------------------------------------------- helpers

/// CONNECT for `Options::new("c")` on 5.0: Clean Start 1, Keep Alive 60, no properties.
const CONNECT_CLEAN: &[u8] = &[
    0x10, 0x0E, // CONNECT, remaining length 14
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, version 5
    0x02, // flags: Clean Start
    0x00, 0x3C, // keep alive 60
    0x00, // no properties
    0x00, 0x01, b'c', // client identifier "c"
];

/// CONNECT resuming a session: Clean Start 0, Keep Alive 60, Session Expiry Interval 3600.
pub(super) const CONNECT_RESUME: &[u8] = &[
    0x10, 0x13, // CONNECT, remaining length 19
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, version 5
    0x00, // flags: Clean Start 0
    0x00, 0x3C, // keep alive 60
    0x05, 0x11, 0x00, 0x00, 0x0E, 0x10, // properties: Session Expiry Interval 3600
    0x00, 0x01, b'c', // client identifier "c"
];

/// CONNACK 5.0: no session present, Success, no properties.
const CONNACK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];

/// CONNACK 5.0: session present, Success, no properties.
pub(super) const CONNACK_SESSION_PRESENT: &[u8] = &[0x20, 0x03, 0x01, 0x00, 0x00];

/// Options for a client whose session outlives the connection (Session Expiry Interval 3600).
pub(super) fn durable() -> Options {
    let mut o = Options::new("c");
    o.session_expiry_interval = 3600;
    o
}

/// A user's publish: `topic`, `qos`, `payload`, no flags or properties.
pub(super) fn msg(topic: &str, qos: QoS, payload: &'static [u8]) -> Publish {
    let mut p = Publish::new(topic, Bytes::from_static(payload));
    p.qos = qos;
    p
}

/// A PUBLISH as the client decodes it from the broker.
pub(super) fn received(topic: &str, qos: QoS, packet_id: u16, payload: &'static [u8]) -> Publish {
    let mut p = msg(topic, qos, payload);
    p.packet_id = packet_id;
    p
}

pub(super) fn published(id: RequestId, code: ReasonCode) -> Event {
    Event::Published {
        id,
        result: Ok(code),
    }
}

fn rejected(code: ReasonCode, reason_string: Option<&str>) -> Result<ReasonCode, RequestError> {
    Err(RequestError::Rejected {
        reason_code: code,
        reason_string: reason_string.map(MqttString::from),
    })
}

pub(super) fn options(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..Default::default()
    }
}

pub(super) fn subscribe_packet(filters: &[(&str, SubscriptionOptions)]) -> Subscribe {
    Subscribe {
        packet_id: 0,
        subscriptions: filters
            .iter()
            .map(|(f, o)| SubscribeFilter {
                filter: (*f).into(),
                options: *o,
            })
            .collect(),
        properties: Properties::default(),
    }
}

pub(super) fn unsubscribe_packet(filters: &[&str]) -> Unsubscribe {
    Unsubscribe {
        packet_id: 0,
        filters: filters.iter().map(|f| (*f).into()).collect(),
        properties: Properties::default(),
    }
}

/// No Local, Retain As Published, Retain Handling 2, QoS 1: options byte 0x2D.
fn all_options() -> SubscriptionOptions {
    SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    }
}

/// SUBSCRIBE "a/+" with every option, Subscription Identifier 5 and User Property k=v.
fn rich_subscribe() -> Subscribe {
    let mut s = subscribe_packet(&[("a/+", all_options())]);
    s.properties.subscription_identifiers.push(5);
    s.properties.user_properties.push(("k".into(), "v".into()));
    s
}

/// Connects at 5.0, the broker answering `connack`, and clears output.
fn connected_with(options: Options, connack: &[u8]) -> Scenario {
    let mut s = Scenario::new(options);
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(connack);
    s.written();
    s.events();
    s
}

fn publish(s: &mut Scenario, p: Publish) -> RequestId {
    s.client.publish(s.now, p).expect("publish accepted")
}

fn subscribe(s: &mut Scenario, packet: Subscribe) -> RequestId {
    s.client
        .subscribe(s.now, packet)
        .expect("subscribe accepted")
}

fn unsubscribe(s: &mut Scenario, packet: Unsubscribe) -> RequestId {
    s.client
        .unsubscribe(s.now, packet)
        .expect("unsubscribe accepted")
}

/// The transport fails: the client reports it and keeps its session.
#[track_caller]
pub(super) fn drop_transport(s: &mut Scenario) {
    s.client.handle_transport_closed(s.now);
    s.expect_events(&[Event::Disconnected(DisconnectReason::TransportClosed)]);
}

/// A new transport: the client writes CONNECT (returned), the broker answers `connack`.
pub(super) fn reconnect(s: &mut Scenario, connack: &[u8]) -> Vec<u8> {
    s.client.connect(s.now).expect("connect");
    let connect = s.written();
    s.broker_sends(connack);
    connect
}

fn store_updates(s: &mut Scenario) -> Vec<StoreUpdate> {
    core::iter::from_fn(|| s.client.poll_store_update()).collect()
}

fn filters_matching(s: &Scenario, topic: &str) -> Vec<MqttString> {
    s.client
        .subscriptions()
        .matching(topic)
        .map(|sub| sub.filter.clone())
        .collect()
}

// ---------------------------------------------------------------- QoS 0

/// MQTT-4.3.1-1, MQTT-3.3.1-2: QoS 0 goes out with DUP 0 and no packet
/// identifier, and is complete once handed out for writing.
#[test]
fn qos0_publish_is_written_and_completes_when_handed_out() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtMostOnce, b"hi"));
    s.expect_events(&[]);
    s.expect_written(&[
        0x30, 0x08, // PUBLISH QoS 0, remaining length 8
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, // no properties
        b'h', b'i', // payload
    ]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

/// 3.1.1: the same QoS 0 publish has no property length.
#[test]
fn qos0_publish_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtMostOnce, b"hi"));
    s.expect_written(&[
        0x30, 0x07, // PUBLISH QoS 0, remaining length 7
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        b'h', b'i', // payload
    ]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

#[test]
fn qos0_publish_while_disconnected_is_queued_and_sent_after_connack() {
    let mut s = Scenario::new(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtMostOnce, b"hi"));
    s.expect_written(&[]);
    assert_eq!(s.client.queued(), 1);

    s.client.connect(s.now).expect("connect");
    // Only CONNECT: nothing may precede or accompany it before CONNACK (MQTT-3.1.0-1).
    s.expect_written(CONNECT_CLEAN);
    s.expect_events(&[]);

    s.at_ms(20);
    s.broker_sends(CONNACK);
    s.expect_events(&[Event::Connected {
        session_present: false,
    }]);
    s.expect_written(&[0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i']);
    s.expect_events(&[published(id, ReasonCode::Success)]);
    assert_eq!(s.client.queued(), 0);
}

/// The 5.0 PUBLISH properties are written in identifier order, user properties as given.
#[test]
fn publish_properties_are_written_in_identifier_order() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    publish(&mut s, publish_with_every_property());
    s.expect_written(&[
        0x32, 0x24, // PUBLISH QoS 1, remaining length 36
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        0x1A, // property length 26
        0x01, 0x01, // Payload Format Indicator: UTF-8
        0x02, 0x00, 0x00, 0x00, 0x0A, // Message Expiry Interval 10
        0x03, 0x00, 0x01, b't', // Content Type "t"
        0x08, 0x00, 0x01, b'r', // Response Topic "r"
        0x09, 0x00, 0x01, b'x', // Correlation Data "x"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
        b'h', b'i', // payload
    ]);
}

fn publish_with_every_property() -> Publish {
    let mut p = msg("a/b", QoS::AtLeastOnce, b"hi");
    let pr = &mut p.properties;
    pr.payload_format_indicator = Some(PayloadFormat::Utf8);
    pr.message_expiry_interval = Some(10);
    pr.content_type = Some("t".into());
    pr.response_topic = Some("r".into());
    pr.correlation_data = Some(Bytes::from_static(b"x"));
    pr.user_properties.push(("k".into(), "v".into()));
    p
}

// ---------------------------------------------------------------- QoS 1

/// MQTT-4.3.2-1, MQTT-4.3.2-2, MQTT-4.3.2-3: a new packet identifier, DUP 0,
/// unacknowledged until PUBACK.
#[test]
fn qos1_publish_completes_on_puback_success() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"hi"));
    s.expect_written(&[
        0x32, 0x0A, // PUBLISH QoS 1, DUP 0, remaining length 10
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        0x00, // no properties
        b'h', b'i', // payload
    ]);
    s.expect_events(&[]);
    assert_eq!(s.client.in_flight(), 1);

    s.at_ms(30);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1 (Success, short form)
    s.expect_written(&[]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
    assert_eq!(s.client.in_flight(), 0);
}

#[test]
fn qos1_puback_no_matching_subscribers_is_a_success() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"hi"));
    s.written();
    s.broker_sends(&[0x40, 0x03, 0x00, 0x01, 0x10]); // PUBACK 1, 0x10 No matching subscribers
    s.expect_events(&[published(id, ReasonCode::NoMatchingSubscribers)]);
}

/// MQTT-3.3.4-7: a PUBACK with an error code frees the send quota like any PUBACK.
#[test]
fn qos1_puback_error_is_rejected_with_reason_string_and_frees_the_slot() {
    // CONNACK: Receive Maximum 1.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x01],
    );
    let first = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    let second = publish(&mut s, msg("b", QoS::AtLeastOnce, b"2"));
    s.expect_written(&[0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1']);
    assert_eq!((s.client.in_flight(), s.client.queued()), (1, 1));

    s.broker_sends(&[
        0x40, 0x09, // PUBACK, remaining length 9
        0x00, 0x01, // packet identifier 1
        0x87, // Not authorized
        0x05, 0x1F, 0x00, 0x02, b'n', b'o', // Reason String "no"
    ]);
    s.expect_events(&[Event::Published {
        id: first,
        result: rejected(ReasonCode::NotAuthorized, Some("no")),
    }]);
    // The slot is free again: the queued publish goes out.
    s.expect_written(&[
        0x32, 0x07, // PUBLISH QoS 1
        0x00, 0x01, b'b', // topic "b"
        0x00, 0x02, // packet identifier 2
        0x00, b'2', // no properties, payload
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x02]);
    s.expect_events(&[published(second, ReasonCode::Success)]);
}

/// 3.1.1: QoS 1 PUBLISH and its PUBACK have no 5.0 fields.
#[test]
fn qos1_publish_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"hi"));
    s.expect_written(&[
        0x32, 0x09, // PUBLISH QoS 1, remaining length 9
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        b'h', b'i', // payload
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

// ---------------------------------------------------------------- QoS 2

/// MQTT-4.3.3-1 to MQTT-4.3.3-5: PUBLISH, PUBREC, PUBREL with the same
/// identifier, complete on PUBCOMP.
#[test]
fn qos2_publish_pubrec_pubrel_pubcomp_completes() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::ExactlyOnce, b"hi"));
    s.expect_written(&[
        0x34, 0x0A, // PUBLISH QoS 2, DUP 0, remaining length 10
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        0x00, // no properties
        b'h', b'i', // payload
    ]);
    s.at_ms(10);
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]); // PUBREC 1
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]); // PUBREL 1
    s.expect_events(&[]);
    assert_eq!(s.client.in_flight(), 1);

    s.at_ms(20);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]); // PUBCOMP 1
    s.expect_written(&[]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
    assert_eq!(s.client.in_flight(), 0);
}

/// MQTT-4.3.3-4, MQTT-4.4.0-2: a PUBREC of 0x80 or above ends the flow; no PUBREL.
#[test]
fn qos2_pubrec_error_ends_the_flow_without_pubrel() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::ExactlyOnce, b"hi"));
    s.written();
    s.broker_sends(&[0x50, 0x03, 0x00, 0x01, 0x97]); // PUBREC 1, 0x97 Quota exceeded
    s.expect_written(&[]);
    s.expect_events(&[Event::Published {
        id,
        result: rejected(ReasonCode::QuotaExceeded, None),
    }]);
    assert_eq!(s.client.in_flight(), 0);
    // A late PUBCOMP for it changes nothing.
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]);
    s.expect_written(&[]);
    s.expect_events(&[]);
}

/// A PUBREC for an identifier we have nothing in flight for is answered with PUBREL 0x92.
#[test]
fn pubrec_for_unknown_packet_id_gets_pubrel_packet_identifier_not_found() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&[0x50, 0x02, 0x00, 0x09]); // PUBREC 9
    s.expect_written(&[
        0x62, 0x03, // PUBREL, remaining length 3
        0x00, 0x09, // packet identifier 9
        0x92, // Packet Identifier not found
    ]);
    s.expect_events(&[]);
    assert_eq!(s.client.state(), crate::client::ConnectionState::Connected);
}

/// MQTT-4.3.3-5: the PUBREL stays unacknowledged until PUBCOMP; a repeated
/// PUBREC is answered with the same PUBREL, and the publish completes once.
#[test]
fn duplicate_pubrec_resends_pubrel() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::ExactlyOnce, b"hi"));
    s.written();
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]);
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]);
    s.expect_events(&[]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]);
    s.expect_events(&[]);
}

/// 3.1.1: the QoS 2 flow with the 3.1.1 packets.
#[test]
fn qos2_flow_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::ExactlyOnce, b"hi"));
    s.expect_written(&[
        0x34, 0x09, // PUBLISH QoS 2, remaining length 9
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        b'h', b'i', // payload
    ]);
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]); // PUBREL, flags 0010
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

// ---------------------------------------------------------------- packet identifiers

/// MQTT-2.2.1-3: PUBLISH, SUBSCRIBE and UNSUBSCRIBE draw from one set of
/// identifiers; MQTT-2.2.1-5, MQTT-2.2.1-6: acknowledgments are matched by it.
#[test]
fn packet_identifiers_are_shared_by_publish_subscribe_and_unsubscribe() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let p = publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"hi"));
    let sub = subscribe(&mut s, subscribe_packet(&[("s", options(QoS::AtMostOnce))]));
    let unsub = unsubscribe(&mut s, unsubscribe_packet(&["s"]));
    s.expect_written(&[
        // PUBLISH QoS 1, packet identifier 1
        0x32, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01, 0x00, b'h',
        b'i', // PUBLISH QoS 1, id 1
        // SUBSCRIBE, packet identifier 2, no properties, "s" options 0
        0x82, 0x07, 0x00, 0x02, 0x00, 0x00, 0x01, b's',
        0x00, // SUBSCRIBE, id 2, no properties, "s" options 0
        // UNSUBSCRIBE, packet identifier 3, no properties, "s"
        0xA2, 0x06, 0x00, 0x03, 0x00, 0x00, 0x01,
        b's', // UNSUBSCRIBE, id 3, no properties, "s"
    ]);
    s.broker_sends(&[0x90, 0x04, 0x00, 0x02, 0x00, 0x00]); // SUBACK 2: granted QoS 0
    s.broker_sends(&[0xB0, 0x04, 0x00, 0x03, 0x00, 0x00]); // UNSUBACK 3: Success
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    s.expect_events(&[
        Event::Subscribed {
            id: sub,
            result: Ok(vec![ReasonCode::Success]),
        },
        Event::Unsubscribed {
            id: unsub,
            result: Ok(vec![ReasonCode::Success]),
        },
        published(p, ReasonCode::Success),
    ]);
    publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"hi"));
    s.expect_written(&[
        0x32, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x04, 0x00, b'h', b'i',
    ]);
}

/// MQTT-2.2.1-3: with every identifier in flight nothing new is numbered;
/// the first one freed is the one used next, whichever packet type freed it.
#[test]
fn packet_identifiers_in_flight_are_never_reused() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    for _ in 0..65534 {
        publish(&mut s, msg("t", QoS::AtLeastOnce, b""));
    }
    // 65534 PUBLISH packets of 8 bytes: identifiers 1..=65534.
    let written = s.written();
    assert_eq!(written.len(), 65534 * 8);
    assert_eq!(
        &written[written.len() - 8..],
        &[0x32, 0x06, 0x00, 0x01, b't', 0xFF, 0xFE, 0x00]
    );

    let sub = subscribe(&mut s, subscribe_packet(&[("s", options(QoS::AtMostOnce))]));
    s.expect_written(&[0x82, 0x07, 0xFF, 0xFF, 0x00, 0x00, 0x01, b's', 0x00]); // identifier 65535
    assert_eq!(
        s.client.unsubscribe(s.now, unsubscribe_packet(&["s"])),
        Err(CommandError::PacketIdentifiersExhausted)
    );
    // A publish waits for an identifier instead of taking one in use.
    let waiting = publish(&mut s, msg("t", QoS::AtLeastOnce, b""));
    s.expect_written(&[]);
    assert_eq!(s.client.queued(), 1);

    s.broker_sends(&[0x40, 0x02, 0x01, 0x2C]); // PUBACK 300
    s.expect_written(&[0x32, 0x06, 0x00, 0x01, b't', 0x01, 0x2C, 0x00]); // reuses 300, the only free one
    s.events();
    s.broker_sends(&[0x90, 0x04, 0xFF, 0xFF, 0x00, 0x00]); // SUBACK 65535
    s.expect_events(&[Event::Subscribed {
        id: sub,
        result: Ok(vec![ReasonCode::Success]),
    }]);
    unsubscribe(&mut s, unsubscribe_packet(&["s"]));
    s.expect_written(&[0xA2, 0x06, 0xFF, 0xFF, 0x00, 0x00, 0x01, b's']);
    s.broker_sends(&[0x40, 0x02, 0x01, 0x2C]);
    s.expect_events(&[published(waiting, ReasonCode::Success)]);
}

// ---------------------------------------------------------------- incoming

#[test]
fn incoming_qos0_is_delivered_without_acknowledgment() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&[0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i']);
    s.expect_written(&[]);
    s.expect_events(&[Event::Message(received("a/b", QoS::AtMostOnce, 0, b"hi"))]);
}

/// MQTT-4.3.2-4: PUBACK with the PUBLISH's identifier; MQTT-4.3.2-5: after
/// it the same identifier is a new message.
#[test]
fn incoming_qos1_is_delivered_and_acknowledged() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let publish = [
        0x32, 0x0A, // PUBLISH QoS 1
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x07, // packet identifier 7
        0x00, b'h', b'i', // no properties, payload
    ];
    s.broker_sends(&publish);
    s.expect_written(&[0x40, 0x02, 0x00, 0x07]); // PUBACK 7
    s.expect_events(&[Event::Message(received("a/b", QoS::AtLeastOnce, 7, b"hi"))]);
    s.broker_sends(&publish);
    s.expect_written(&[0x40, 0x02, 0x00, 0x07]);
    s.expect_events(&[Event::Message(received("a/b", QoS::AtLeastOnce, 7, b"hi"))]);
}

/// MQTT-4.3.3-8, MQTT-4.3.3-10, MQTT-4.3.3-11, MQTT-4.3.3-12: PUBREC, a
/// duplicate before PUBREL acknowledged but not delivered, PUBCOMP, then the
/// identifier is new again.
#[test]
fn incoming_qos2_duplicate_before_pubrel_is_acknowledged_not_delivered_twice() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&[
        0x34, 0x0A, // PUBLISH QoS 2
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x07, // packet identifier 7
        0x00, b'h', b'i', // no properties, payload
    ]);
    s.expect_written(&[0x50, 0x02, 0x00, 0x07]); // PUBREC 7
    s.expect_events(&[Event::Message(received("a/b", QoS::ExactlyOnce, 7, b"hi"))]);

    // The broker resends it (DUP 1) before our PUBREC reached it.
    s.broker_sends(&[
        0x3C, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, 0x00, b'h', b'i',
    ]);
    s.expect_written(&[0x50, 0x02, 0x00, 0x07]);
    s.expect_events(&[]);
    assert_eq!(s.client.stats().duplicates_suppressed, 1);

    s.broker_sends(&[0x62, 0x02, 0x00, 0x07]); // PUBREL 7
    s.expect_written(&[0x70, 0x02, 0x00, 0x07]); // PUBCOMP 7
    s.expect_events(&[]);

    s.broker_sends(&[
        0x34, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, 0x00, b'h', b'o',
    ]);
    s.expect_written(&[0x50, 0x02, 0x00, 0x07]);
    s.expect_events(&[Event::Message(received("a/b", QoS::ExactlyOnce, 7, b"ho"))]);
}

/// MQTT-4.3.3-11: every PUBREL gets a PUBCOMP; one we hold nothing for gets 0x92.
#[test]
fn pubrel_for_unknown_packet_id_gets_pubcomp_packet_identifier_not_found() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&[0x62, 0x02, 0x00, 0x09]); // PUBREL 9
    s.expect_written(&[
        0x70, 0x03, // PUBCOMP, remaining length 3
        0x00, 0x09, // packet identifier 9
        0x92, // Packet Identifier not found
    ]);
    s.expect_events(&[]);
}

/// 3.1.1: incoming QoS 1 and 2 acknowledgments, and PUBCOMP for an unknown PUBREL without a code.
#[test]
fn incoming_acknowledgments_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    s.broker_sends(&[
        0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, b'h', b'i',
    ]);
    s.expect_written(&[0x40, 0x02, 0x00, 0x07]);
    s.broker_sends(&[
        0x34, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x08, b'h', b'i',
    ]);
    s.expect_written(&[0x50, 0x02, 0x00, 0x08]);
    s.broker_sends(&[
        0x3C, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x08, b'h', b'i',
    ]);
    s.expect_written(&[0x50, 0x02, 0x00, 0x08]);
    s.broker_sends(&[0x62, 0x02, 0x00, 0x08]);
    s.expect_written(&[0x70, 0x02, 0x00, 0x08]);
    s.broker_sends(&[0x62, 0x02, 0x00, 0x09]);
    s.expect_written(&[0x70, 0x02, 0x00, 0x09]);
    s.expect_events(&[
        Event::Message(received("a/b", QoS::AtLeastOnce, 7, b"hi")),
        Event::Message(received("a/b", QoS::ExactlyOnce, 8, b"hi")),
    ]);
}

// ---------------------------------------------------------------- resend on resume

/// MQTT-4.4.0-1, MQTT-3.3.1-1, MQTT-4.6.0-1, MQTT-4.3.3-6: on a resumed
/// session unacknowledged PUBLISH packets are resent with DUP 1 and their
/// identifiers in the original order, PUBREL for released ones, all before
/// anything new.
#[test]
fn resumed_session_resends_publishes_with_dup_and_pubrel_in_order_before_new_traffic() {
    let mut s = Scenario::connected_v5(durable());
    let a = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    let b = publish(&mut s, msg("b", QoS::ExactlyOnce, b"2"));
    let c = publish(&mut s, msg("c", QoS::AtLeastOnce, b"3"));
    s.expect_written(&[
        0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1', // QoS 1, id 1
        0x34, 0x07, 0x00, 0x01, b'b', 0x00, 0x02, 0x00, b'2', // QoS 2, id 2
        0x32, 0x07, 0x00, 0x01, b'c', 0x00, 0x03, 0x00, b'3', // QoS 1, id 3
    ]);
    s.broker_sends(&[0x50, 0x02, 0x00, 0x02]); // PUBREC 2
    s.expect_written(&[0x62, 0x02, 0x00, 0x02]);

    s.at_ms(1_000);
    drop_transport(&mut s);
    let d = publish(&mut s, msg("d", QoS::AtLeastOnce, b"4"));
    s.expect_written(&[]);

    s.at_ms(3_000);
    assert_eq!(reconnect(&mut s, CONNACK_SESSION_PRESENT), CONNECT_RESUME);
    s.expect_events(&[Event::Connected {
        session_present: true,
    }]);
    s.expect_written(&[
        0x3A, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1', // PUBLISH QoS 1 DUP 1, id 1
        0x62, 0x02, 0x00, 0x02, // PUBREL 2 (PUBLISH 2 is not resent)
        0x3A, 0x07, 0x00, 0x01, b'c', 0x00, 0x03, 0x00, b'3', // PUBLISH QoS 1 DUP 1, id 3
        0x32, 0x07, 0x00, 0x01, b'd', 0x00, 0x04, 0x00, b'4', // new: DUP 0, id 4
    ]);
    s.broker_sends(&[
        0x40, 0x02, 0x00, 0x01, // PUBACK 1
        0x70, 0x02, 0x00, 0x02, // PUBCOMP 2
        0x40, 0x02, 0x00, 0x03, // PUBACK 3
        0x40, 0x02, 0x00, 0x04, // PUBACK 4
    ]);
    s.expect_events(&[
        published(a, ReasonCode::Success),
        published(b, ReasonCode::Success),
        published(c, ReasonCode::Success),
        published(d, ReasonCode::Success),
    ]);
}

/// MQTT-4.4.0-1: "Clients and Servers MUST NOT resend messages at any other
/// time": ten minutes without acknowledgments bring only keep-alive pings.
#[test]
fn no_retransmission_on_a_live_connection() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let p1 = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    let p2 = publish(&mut s, msg("b", QoS::ExactlyOnce, b"2"));
    s.written();
    for _ in 0..10 {
        s.advance(Duration::from_secs(60));
        s.expect_written(&[0xC0, 0x00]); // PINGREQ, and nothing else
        s.broker_sends(&[0xD0, 0x00]); // PINGRESP
    }
    s.expect_events(&[]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x02]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x02]);
    s.expect_events(&[
        published(p1, ReasonCode::Success),
        published(p2, ReasonCode::Success),
    ]);
}

/// MQTT-4.4.0-2: a PUBLISH answered with 0x80 or above is acknowledged and never retransmitted.
#[test]
fn rejected_publishes_are_not_resent_on_resume() {
    let mut s = Scenario::connected_v5(durable());
    let p1 = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    let p2 = publish(&mut s, msg("b", QoS::ExactlyOnce, b"2"));
    s.written();
    s.broker_sends(&[0x40, 0x03, 0x00, 0x01, 0x80]); // PUBACK 1, Unspecified error
    s.broker_sends(&[0x50, 0x03, 0x00, 0x02, 0x80]); // PUBREC 2, Unspecified error
    s.expect_written(&[]);
    s.expect_events(&[
        Event::Published {
            id: p1,
            result: rejected(ReasonCode::UnspecifiedError, None),
        },
        Event::Published {
            id: p2,
            result: rejected(ReasonCode::UnspecifiedError, None),
        },
    ]);
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK_SESSION_PRESENT);
    s.expect_written(&[]);
}

// ---------------------------------------------------------------- lost session

/// MQTT-3.2.2-5: the broker lost the session: subscriptions are made again with
/// their options, Subscription Identifier and User Properties; unacknowledged
/// publishes go out as new messages (DUP 0, new identifiers); QoS 2 ones the
/// broker had taken with PUBREC are complete.
#[test]
fn lost_session_resubscribes_and_resends_unacknowledged_publishes_as_new() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let sub = subscribe(&mut s, rich_subscribe());
    let subscribe_bytes = |pid: u8| {
        vec![
            0x82, 0x12, // SUBSCRIBE, remaining length 18
            0x00, pid,  // packet identifier
            0x09, // property length 9
            0x0B, 0x05, // Subscription Identifier 5
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x00, 0x03, b'a', b'/', b'+', // filter "a/+"
            0x2D, // Retain Handling 2, Retain As Published, No Local, QoS 1
        ]
    };
    s.expect_written(&subscribe_bytes(1));
    s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x01]); // SUBACK 1: granted QoS 1
    s.expect_events(&[Event::Subscribed {
        id: sub,
        result: Ok(vec![ReasonCode::GrantedQoS1]),
    }]);

    let x = publish(&mut s, msg("x", QoS::AtLeastOnce, b"1"));
    let y = publish(&mut s, msg("y", QoS::ExactlyOnce, b"2"));
    let z = publish(&mut s, msg("z", QoS::ExactlyOnce, b"3"));
    s.expect_written(&[
        0x32, 0x07, 0x00, 0x01, b'x', 0x00, 0x02, 0x00, b'1', // x: QoS 1, id 2
        0x34, 0x07, 0x00, 0x01, b'y', 0x00, 0x03, 0x00, b'2', // y: QoS 2, id 3
        0x34, 0x07, 0x00, 0x01, b'z', 0x00, 0x04, 0x00, b'3', // z: QoS 2, id 4
    ]);
    s.broker_sends(&[0x50, 0x02, 0x00, 0x03]); // PUBREC 3: the broker owns y
    s.expect_written(&[0x62, 0x02, 0x00, 0x03]);

    drop_transport(&mut s);
    assert_eq!(reconnect(&mut s, CONNACK), CONNECT_CLEAN);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        published(y, ReasonCode::Success),
    ]);
    let mut expected = subscribe_bytes(5);
    expected.extend_from_slice(&[
        0x32, 0x07, 0x00, 0x01, b'x', 0x00, 0x06, 0x00, b'1', // x: DUP 0, new identifier
        0x34, 0x07, 0x00, 0x01, b'z', 0x00, 0x07, 0x00, b'3', // z: DUP 0, new identifier
    ]);
    s.expect_written(&expected);

    s.broker_sends(&[0x90, 0x04, 0x00, 0x05, 0x00, 0x01]); // SUBACK 5: granted QoS 1
    s.expect_events(&[Event::Resubscribed(vec![(
        "a/+".into(),
        ReasonCode::GrantedQoS1,
    )])]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x06, 0x50, 0x02, 0x00, 0x07]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x07]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x07]);
    s.expect_events(&[
        published(x, ReasonCode::Success),
        published(z, ReasonCode::Success),
    ]);
}

/// A subscription the broker refuses when it is made again is no longer active.
#[test]
fn lost_session_resubscribe_refused_removes_the_subscription() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    subscribe(&mut s, subscribe_packet(&[("a", options(QoS::AtMostOnce))]));
    s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x00]);
    s.events();
    s.written();
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK);
    s.events();
    s.expect_written(&[0x82, 0x07, 0x00, 0x02, 0x00, 0x00, 0x01, b'a', 0x00]);
    s.broker_sends(&[0x90, 0x04, 0x00, 0x02, 0x00, 0x87]); // SUBACK 2: Not authorized
    s.expect_events(&[Event::Resubscribed(vec![(
        "a".into(),
        ReasonCode::NotAuthorized,
    )])]);
    assert!(s.client.subscriptions().is_empty());
}

/// 3.1.1: the resubscribe carries only the QoS of the options.
#[test]
fn lost_session_resubscribes_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    subscribe(&mut s, rich_subscribe());
    s.expect_written(&[
        0x82, 0x08, // SUBSCRIBE, remaining length 8
        0x00, 0x01, // packet identifier 1
        0x00, 0x03, b'a', b'/', b'+', // filter "a/+"
        0x01, // QoS 1 only
    ]);
    s.broker_sends(&[0x90, 0x03, 0x00, 0x01, 0x01]); // SUBACK 1: granted QoS 1
    s.events();
    drop_transport(&mut s);
    let connect = reconnect(&mut s, &[0x20, 0x02, 0x00, 0x00]);
    assert_eq!(
        connect,
        [
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // MQTT, level 4
            0x02, 0x00, 0x3C, // Clean Session, keep alive 60
            0x00, 0x01, b'c', // client identifier "c"
        ]
    );
    s.expect_written(&[0x82, 0x08, 0x00, 0x02, 0x00, 0x03, b'a', b'/', b'+', 0x01]);
    s.broker_sends(&[0x90, 0x03, 0x00, 0x02, 0x01]);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Resubscribed(vec![("a/+".into(), ReasonCode::GrantedQoS1)]),
    ]);
}

// ---------------------------------------------------------------- flow control

/// MQTT-3.3.4-7, MQTT-4.9.0-2: no more than Receive Maximum QoS 1/2 publishes
/// unacknowledged; the rest wait in order. MQTT-3.3.4-8, MQTT-4.9.0-3: other
/// packets are not held back.
#[test]
fn receive_maximum_holds_further_publishes_until_an_ack_and_keeps_order() {
    // CONNACK: Receive Maximum 2.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x02],
    );
    let p1 = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    publish(&mut s, msg("b", QoS::AtLeastOnce, b"2"));
    let p3 = publish(&mut s, msg("c", QoS::AtLeastOnce, b"3"));
    let p4 = publish(&mut s, msg("d", QoS::AtMostOnce, b"4"));
    s.expect_written(&[
        0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1', // QoS 1, id 1
        0x32, 0x07, 0x00, 0x01, b'b', 0x00, 0x02, 0x00, b'2', // QoS 1, id 2
    ]);
    assert_eq!((s.client.in_flight(), s.client.queued()), (2, 2));

    // With the quota at zero, acks and requests still flow.
    s.broker_sends(&[0x32, 0x07, 0x00, 0x01, b'i', 0x00, 0x09, 0x00, b'x']);
    subscribe(&mut s, subscribe_packet(&[("s", options(QoS::AtMostOnce))]));
    s.expect_written(&[
        0x40, 0x02, 0x00, 0x09, // PUBACK 9
        0x82, 0x07, 0x00, 0x03, 0x00, 0x00, 0x01, b's', 0x00, // SUBSCRIBE 3
    ]);
    s.events();

    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    s.expect_events(&[published(p1, ReasonCode::Success)]);
    s.expect_written(&[
        0x32, 0x07, 0x00, 0x01, b'c', 0x00, 0x04, 0x00, b'3', // the third, id 4
        0x30, 0x05, 0x00, 0x01, b'd', 0x00, b'4', // then the QoS 0 queued behind it
    ]);
    s.expect_events(&[published(p4, ReasonCode::Success)]);
    assert_eq!((s.client.in_flight(), s.client.queued()), (2, 0));
    s.broker_sends(&[0x40, 0x02, 0x00, 0x04]);
    s.expect_events(&[published(p3, ReasonCode::Success)]);
}

#[test]
fn full_queue_refuses_publish_and_keeps_order() {
    let mut o = Options::new("c");
    o.max_queued_messages = 2;
    let mut s = Scenario::new(o);
    let p1 = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    let p2 = publish(&mut s, msg("b", QoS::AtMostOnce, b"2"));
    assert_eq!(
        s.client.publish(s.now, msg("c", QoS::AtLeastOnce, b"3")),
        Err(CommandError::QueueFull(2))
    );
    assert_eq!(s.client.stats().dropped_queue_full, 1);
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(CONNACK);
    s.expect_written(&[
        0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1', // QoS 1, id 1
        0x30, 0x05, 0x00, 0x01, b'b', 0x00, b'2', // QoS 0
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        published(p2, ReasonCode::Success),
        published(p1, ReasonCode::Success),
    ]);
}

// ---------------------------------------------------------------- maximum packet size

/// CONNACK: Maximum Packet Size 20.
const CONNACK_MAX_20: &[u8] = &[0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x14];

/// MQTT-3.2.2-15: nothing larger than the broker's Maximum Packet Size is sent.
#[test]
fn requests_over_the_broker_maximum_packet_size_are_refused() {
    let mut s = connected_with(Options::new("c"), CONNACK_MAX_20);
    // 18 bytes: fits.
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"0123456789"));
    s.expect_written(&[
        0x30, 0x10, 0x00, 0x03, b'a', b'/', b'b', 0x00, // QoS 0, remaining length 16
        b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', // payload
    ]);
    assert_eq!(
        s.client
            .publish(s.now, msg("a/b", QoS::AtMostOnce, b"0123456789abc")),
        Err(CommandError::PacketTooLarge { size: 21, max: 20 })
    );
    assert_eq!(s.client.stats().dropped_too_large, 1);
    let long = "a/b/c/d/e/f/g/h/i/j/k";
    assert_eq!(
        s.client
            .subscribe(s.now, subscribe_packet(&[(long, options(QoS::AtMostOnce))])),
        Err(CommandError::PacketTooLarge { size: 29, max: 20 })
    );
    assert_eq!(
        s.client.unsubscribe(s.now, unsubscribe_packet(&[long])),
        Err(CommandError::PacketTooLarge { size: 28, max: 20 })
    );
    s.expect_written(&[]);
    s.expect_events(&[published(RequestId(1), ReasonCode::Success)]);
}

/// MQTT-3.2.2-15: a publish queued before the limit was known fails at CONNACK, unsent.
#[test]
fn queued_publish_over_the_maximum_packet_size_fails_at_connack() {
    let mut s = Scenario::new(Options::new("c"));
    let id = publish(&mut s, msg("a/b", QoS::AtMostOnce, b"0123456789abc"));
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_CLEAN);
    s.broker_sends(CONNACK_MAX_20);
    s.expect_written(&[]);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id,
            result: Err(RequestError::PacketTooLarge { size: 21, max: 20 }),
        },
    ]);
}

// ---------------------------------------------------------------- server capabilities

/// MQTT-3.2.2-11: no PUBLISH above the broker's Maximum QoS.
#[test]
fn maximum_qos_refuses_a_higher_qos_publish() {
    // CONNACK: Maximum QoS 1.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x01],
    );
    assert_eq!(
        s.client.publish(s.now, msg("a", QoS::ExactlyOnce, b"")),
        Err(CommandError::QoSNotSupported {
            requested: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce,
        })
    );
    publish(&mut s, msg("a", QoS::AtLeastOnce, b""));
    s.expect_written(&[0x32, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00]);
}

/// MQTT-3.2.2-11: a QoS 2 publish queued before CONNACK said Maximum QoS 1 is
/// not sent; it fails with the broker's reason.
#[test]
fn queued_publish_above_maximum_qos_is_not_sent() {
    let mut s = Scenario::new(Options::new("c"));
    let id = publish(&mut s, msg("a", QoS::ExactlyOnce, b""));
    let ok = publish(&mut s, msg("b", QoS::AtLeastOnce, b""));
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(&[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x01]);
    s.expect_written(&[0x32, 0x06, 0x00, 0x01, b'b', 0x00, 0x01, 0x00]);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id,
            result: rejected(ReasonCode::QoSNotSupported, None),
        },
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(ok, ReasonCode::Success)]);
}

/// MQTT-3.2.2-14: no RETAIN 1 when Retain Available is 0, immediate or queued.
#[test]
fn retain_unavailable_refuses_retained_publishes() {
    let connack = [0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x00]; // Retain Available 0
    let mut retained = msg("a", QoS::AtMostOnce, b"");
    retained.retain = true;

    let mut s = connected_with(Options::new("c"), &connack);
    assert_eq!(
        s.client.publish(s.now, retained.clone()),
        Err(CommandError::RetainNotSupported)
    );
    s.expect_written(&[]);

    let mut s = Scenario::new(Options::new("c"));
    let id = publish(&mut s, retained);
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(&connack);
    s.expect_written(&[]);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id,
            result: rejected(ReasonCode::RetainNotSupported, None),
        },
    ]);
}

#[test]
fn wildcard_subscriptions_unavailable_refuses_wildcard_filters() {
    // CONNACK: Wildcard Subscription Available 0.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x05, 0x00, 0x00, 0x02, 0x28, 0x00],
    );
    for filter in ["a/+", "#", "a/#"] {
        assert_eq!(
            s.client.subscribe(
                s.now,
                subscribe_packet(&[(filter, options(QoS::AtMostOnce))])
            ),
            Err(CommandError::WildcardSubscriptionsNotSupported)
        );
    }
    s.expect_written(&[]);
    subscribe(
        &mut s,
        subscribe_packet(&[("a/b", options(QoS::AtMostOnce))]),
    );
    s.expect_written(&[
        0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, b'a', b'/', b'b', 0x00,
    ]);
}

#[test]
fn subscription_identifiers_unavailable_refuses_an_identifier() {
    // CONNACK: Subscription Identifier Available 0.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x05, 0x00, 0x00, 0x02, 0x29, 0x00],
    );
    let mut with_id = subscribe_packet(&[("a", options(QoS::AtMostOnce))]);
    with_id.properties.subscription_identifiers.push(1);
    assert_eq!(
        s.client.subscribe(s.now, with_id),
        Err(CommandError::SubscriptionIdentifiersNotSupported)
    );
    s.expect_written(&[]);
}

/// Shared Subscription Available 0: a `$share/` filter is refused before sending.
#[test]
fn shared_subscriptions_unavailable_refuses_a_shared_filter() {
    // CONNACK: Shared Subscription Available 0.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x05, 0x00, 0x00, 0x02, 0x2A, 0x00],
    );
    assert_eq!(
        s.client.subscribe(
            s.now,
            subscribe_packet(&[("$share/g/a", options(QoS::AtMostOnce))])
        ),
        Err(CommandError::SharedSubscriptionsNotSupported)
    );
    s.expect_written(&[]);
}

/// MQTT-3.8.3-4: No Local on a shared subscription is a Protocol Error; it is refused, not sent.
#[test]
fn no_local_on_a_shared_subscription_is_refused() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let no_local = SubscriptionOptions {
        no_local: true,
        ..options(QoS::AtLeastOnce)
    };
    assert_eq!(
        s.client
            .subscribe(s.now, subscribe_packet(&[("$share/g/a", no_local)])),
        Err(CommandError::Encode(
            EncodeError::NoLocalOnSharedSubscription("$share/g/a".into())
        ))
    );
    s.expect_written(&[]);
}

/// MQTT-3.3.4-6: a PUBLISH from the client never carries a Subscription Identifier.
#[test]
fn publish_with_a_subscription_identifier_is_refused() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let mut p = msg("a", QoS::AtMostOnce, b"");
    p.properties.subscription_identifiers.push(1);
    assert_eq!(
        s.client.publish(s.now, p),
        Err(CommandError::Encode(EncodeError::PropertyNotAllowed {
            property: PropertyId::SubscriptionIdentifier,
            context: PropertyContext::Publish,
        }))
    );
    s.expect_written(&[]);
    assert_eq!(s.client.queued(), 0);
}

// ---------------------------------------------------------------- topic aliases

/// CONNACK: Topic Alias Maximum 2.
const CONNACK_ALIASES_2: &[u8] = &[0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x02];

/// MQTT-3.2.2-17, MQTT-3.3.2-9, MQTT-3.3.2-8: aliases 1..=2 only; a known
/// topic goes as an empty name with its alias; the least recently used alias
/// is reassigned with the full topic.
#[test]
fn outgoing_topic_aliases_replace_known_topics_and_reuse_the_least_recently_used() {
    let mut s = connected_with(Options::new("c"), CONNACK_ALIASES_2);
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"1"));
    s.expect_written(&[
        0x30, 0x0A, // PUBLISH QoS 0, remaining length 10
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x03, 0x23, 0x00, 0x01, // properties: Topic Alias 1
        b'1', // payload
    ]);
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"2"));
    s.expect_written(&[
        0x30, 0x07, // remaining length 7
        0x00, 0x00, // empty topic
        0x03, 0x23, 0x00, 0x01, // Topic Alias 1
        b'2', // payload
    ]);
    publish(&mut s, msg("c", QoS::AtMostOnce, b"3"));
    s.expect_written(&[0x30, 0x08, 0x00, 0x01, b'c', 0x03, 0x23, 0x00, 0x02, b'3']); // alias 2
    publish(&mut s, msg("d", QoS::AtMostOnce, b"4"));
    // All taken: "a/b" (alias 1) is the least recently used.
    s.expect_written(&[0x30, 0x08, 0x00, 0x01, b'd', 0x03, 0x23, 0x00, 0x01, b'4']);
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"5"));
    // "a/b" lost its alias: full topic again, on alias 2 ("c" is now the oldest).
    s.expect_written(&[
        0x30, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x03, 0x23, 0x00, 0x02, b'5', // alias 2
    ]);
    publish(&mut s, msg("d", QoS::AtMostOnce, b"6"));
    s.expect_written(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'6']);
}

/// MQTT-3.2.2-18: no aliases when the policy is Off, nor when the broker allows none.
#[test]
fn no_outgoing_topic_aliases_when_off_or_not_allowed() {
    let mut o = Options::new("c");
    o.topic_alias_policy = TopicAliasPolicy::Off;
    let mut s = connected_with(o, CONNACK_ALIASES_2);
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"1"));
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"2"));
    s.expect_written(&[
        0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'1', // full topic, no properties
        0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'2', // no alias
    ]);

    let mut s = Scenario::connected_v5(Options::new("c")); // no Topic Alias Maximum
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"1"));
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"2"));
    s.expect_written(&[
        0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'1', // full topic, no properties
        0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'2', // full topic again
    ]);
}

/// MQTT-3.2.2-15: an alias is not added when its three bytes would break the Maximum Packet Size.
#[test]
fn topic_alias_is_not_added_when_it_would_exceed_the_maximum_packet_size() {
    // CONNACK: Topic Alias Maximum 2, Maximum Packet Size 20.
    let mut s = connected_with(
        Options::new("c"),
        &[
            0x20, 0x0B, 0x00, 0x00, 0x08, 0x22, 0x00, 0x02, 0x27, 0x00, 0x00, 0x00,
            0x14, // CONNACK; properties: Topic Alias Maximum 2, Maximum Packet Size 20
        ],
    );
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"0123456789")); // 18 bytes, 21 with an alias
    s.expect_written(&[
        0x30, 0x10, 0x00, 0x03, b'a', b'/', b'b', 0x00, // no alias
        b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', // payload
    ]);
    publish(&mut s, msg("a/b", QoS::AtMostOnce, b"01234567")); // 16 bytes: room for an alias
    s.expect_written(&[
        0x30, 0x11, 0x00, 0x03, b'a', b'/', b'b', 0x03, 0x23, 0x00, 0x01, // alias 1
        b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', // payload
    ]);
}

/// MQTT-3.3.2-7: aliases do not outlive the connection: after a reconnect a
/// resent publish carries its full topic and sets the alias afresh.
#[test]
fn topic_aliases_reset_on_reconnect_and_resent_publishes_carry_the_full_topic() {
    let mut s = connected_with(durable(), CONNACK_ALIASES_2);
    publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"1"));
    publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"2"));
    s.expect_written(&[
        0x32, 0x0C, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01, 0x03, 0x23, 0x00, 0x01,
        b'1', // id 1, "a/b", alias 1
        0x32, 0x09, 0x00, 0x00, 0x00, 0x02, 0x03, 0x23, 0x00, 0x01, b'2', // empty topic
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.events();
    drop_transport(&mut s);
    publish(&mut s, msg("a/b", QoS::AtLeastOnce, b"3"));

    // CONNACK: session present, Topic Alias Maximum 2.
    reconnect(&mut s, &[0x20, 0x06, 0x01, 0x00, 0x03, 0x22, 0x00, 0x02]);
    s.expect_written(&[
        // Resent id 2: DUP, the full topic, alias 1 set again on this connection.
        0x3A, 0x0C, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x02, 0x03, 0x23, 0x00, 0x01,
        b'2', // id 2 DUP, "a/b", alias 1
        // The queued one may now use the alias.
        0x32, 0x09, 0x00, 0x00, 0x00, 0x03, 0x03, 0x23, 0x00, 0x01,
        b'3', // id 3, empty topic, alias 1
    ]);

    // And with a broker that now allows no aliases, both go with their topic only.
    s.events();
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK_SESSION_PRESENT);
    s.expect_written(&[
        0x3A, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x02, 0x00,
        b'2', // id 2 DUP, "a/b", no alias
        0x3A, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x03, 0x00,
        b'3', // id 3 DUP, "a/b", no alias
    ]);
}

/// MQTT-3.3.2-10: aliases 1..=our maximum are accepted: a topic with an alias
/// sets it, an empty topic with it resolves to the full topic in the event.
#[test]
fn incoming_topic_alias_registers_and_resolves() {
    let mut o = Options::new("c");
    o.topic_alias_maximum = 2;
    let mut s = Scenario::connected_v5(o);
    s.broker_sends(&[
        0x30, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x03, 0x23, 0x00, 0x02, b'1',
    ]);
    s.broker_sends(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02, b'2']);
    let aliased = |payload: &'static [u8]| {
        let mut p = received("a/b", QoS::AtMostOnce, 0, payload);
        p.properties.topic_alias = Some(2);
        Event::Message(p)
    };
    s.expect_events(&[aliased(b"1"), aliased(b"2")]);
    s.expect_written(&[]);

    // Above our maximum: Topic Alias invalid.
    s.broker_sends(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x03, b'3']);
    s.expect_written(&[0xE0, 0x01, 0x94]); // DISCONNECT 0x94
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::TopicAliasInvalid,
        violation: ProtocolViolation::TopicAliasInvalid {
            alias: 3,
            maximum: 2,
        },
    })]);
}

/// MQTT-3.3.2-7: the receiver does not carry alias mappings to a new connection.
#[test]
fn incoming_topic_aliases_are_forgotten_on_reconnect() {
    let mut o = Options::new("c");
    o.topic_alias_maximum = 2;
    let mut s = Scenario::connected_v5(o);
    s.broker_sends(&[
        0x30, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x03, 0x23, 0x00, 0x01, b'1',
    ]);
    s.events();
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK);
    s.events();
    s.broker_sends(&[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'2']);
    s.expect_written(&[0xE0, 0x01, 0x82]); // DISCONNECT Protocol Error
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::ProtocolError,
        violation: ProtocolViolation::UnknownTopicAlias(1),
    })]);
}

// ---------------------------------------------------------------- subscribe / unsubscribe

/// MQTT-3.9.3-1: one SUBACK code per filter, in order; failed filters are not active.
#[test]
fn subscribe_options_identifier_and_user_properties_then_per_filter_suback_codes() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let mut packet = rich_subscribe();
    packet.subscriptions.push(SubscribeFilter {
        filter: "$share/g/b".into(),
        options: options(QoS::ExactlyOnce),
    });
    let id = subscribe(&mut s, packet);
    s.expect_written(&[
        0x82, 0x1F, // SUBSCRIBE, remaining length 31
        0x00, 0x01, // packet identifier 1
        0x09, // property length 9
        0x0B, 0x05, // Subscription Identifier 5
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
        0x00, 0x03, b'a', b'/', b'+', // "a/+"
        0x2D, // Retain Handling 2, Retain As Published, No Local, QoS 1
        0x00, 0x0A, // filter length 10
        b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'b', // "$share/g/b"
        0x02, // QoS 2
    ]);
    s.broker_sends(&[
        0x90, 0x05, // SUBACK, remaining length 5
        0x00, 0x01, // packet identifier 1
        0x00, // no properties
        0x01, // "a/+": granted QoS 1
        0x9E, // "$share/g/b": Shared Subscriptions not supported
    ]);
    s.expect_events(&[Event::Subscribed {
        id,
        result: Ok(vec![
            ReasonCode::GrantedQoS1,
            ReasonCode::SharedSubscriptionsNotSupported,
        ]),
    }]);
    let subs = s.client.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_eq!(
        subs.get("a/+"),
        Some(&ActiveSubscription {
            filter: "a/+".into(),
            options: all_options(),
            subscription_identifier: Some(5),
            user_properties: vec![("k".into(), "v".into())],
        })
    );
    assert_eq!(subs.get("$share/g/b"), None);
}

/// MQTT-3.8.4-6, MQTT-3.9.3-1: a SUBACK whose code count differs from the
/// filters is a Protocol Error.
#[test]
fn suback_with_wrong_code_count_disconnects_with_protocol_error() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    subscribe(&mut s, subscribe_packet(&[("a", options(QoS::AtMostOnce))]));
    s.written();
    s.broker_sends(&[0x90, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]); // two codes for one filter
    s.expect_written(&[0xE0, 0x01, 0x82]); // DISCONNECT, Protocol Error
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::ProtocolError,
        violation: ProtocolViolation::ReasonCodeCount {
            packet_type: PacketType::SubAck,
            expected: 1,
            got: 2,
        },
    })]);
    assert!(s.client.subscriptions().is_empty());
}

/// MQTT-4.7.2-1 and 4.8.2: matching uses the filter inside `$share/{name}/`,
/// and a leading wildcard does not match a topic starting with `$`.
#[test]
fn subscriptions_matching_strips_share_prefix_and_keeps_dollar_topics_apart() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let zero = options(QoS::AtMostOnce);
    subscribe(
        &mut s,
        subscribe_packet(&[
            ("#", zero),
            ("+/b", zero),
            ("$share/g/a/#", zero),
            ("$SYS/#", zero),
            ("a/b", zero),
            ("c", zero),
        ]),
    );
    s.expect_written(&[
        0x82, 0x2F, 0x00, 0x01, 0x00, // SUBSCRIBE 1, remaining length 47, no properties
        0x00, 0x01, b'#', 0x00, // "#"
        0x00, 0x03, b'+', b'/', b'b', 0x00, // "+/b"
        0x00, 0x0C, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'a', b'/', b'#',
        0x00, // "$share/g/a/#"
        0x00, 0x06, b'$', b'S', b'Y', b'S', b'/', b'#', 0x00, // "$SYS/#"
        0x00, 0x03, b'a', b'/', b'b', 0x00, // "a/b"
        0x00, 0x01, b'c', 0x00, // "c"
    ]);
    s.broker_sends(&[0x90, 0x09, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0]);
    assert_eq!(s.client.subscriptions().len(), 6);
    assert_eq!(
        filters_matching(&s, "a/b"),
        ["#", "$share/g/a/#", "+/b", "a/b"]
    );
    assert_eq!(filters_matching(&s, "c"), ["#", "c"]);
    assert_eq!(filters_matching(&s, "$SYS/x"), ["$SYS/#"]);
    assert_eq!(filters_matching(&s, "$SYS/b"), ["$SYS/#"]);
}

/// MQTT-3.11.3-1: one UNSUBACK code per filter; only filters the broker
/// removed (codes below 0x80) leave client.subscriptions().
#[test]
fn unsubscribe_v5_codes_remove_subscriptions() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    subscribe(
        &mut s,
        subscribe_packet(&[
            ("a/+", options(QoS::AtLeastOnce)),
            ("b", options(QoS::AtMostOnce)),
        ]),
    );
    s.expect_written(&[
        0x82, 0x0D, 0x00, 0x01, 0x00, // SUBSCRIBE 1, no properties
        0x00, 0x03, b'a', b'/', b'+', 0x01, // "a/+" QoS 1
        0x00, 0x01, b'b', 0x00, // "b" QoS 0
    ]);
    s.broker_sends(&[0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00]);
    s.events();
    let id = unsubscribe(&mut s, unsubscribe_packet(&["a/+", "b", "c"]));
    s.expect_written(&[
        0xA2, 0x0E, // UNSUBSCRIBE, remaining length 14
        0x00, 0x02, 0x00, // packet identifier 2, no properties
        0x00, 0x03, b'a', b'/', b'+', 0x00, 0x01, b'b', 0x00, 0x01, b'c', // "a/+", "b", "c"
    ]);
    s.broker_sends(&[
        0xB0, 0x06, 0x00, 0x02, 0x00, // UNSUBACK 2, no properties
        0x00, // "a/+": Success
        0x80, // "b": Unspecified error
        0x11, // "c": No subscription existed
    ]);
    s.expect_events(&[Event::Unsubscribed {
        id,
        result: Ok(vec![
            ReasonCode::Success,
            ReasonCode::UnspecifiedError,
            ReasonCode::NoSubscriptionExisted,
        ]),
    }]);
    let left: Vec<_> = s
        .client
        .subscriptions()
        .iter()
        .map(|s| s.filter.clone())
        .collect();
    assert_eq!(left, ["b"]);
}

/// 3.1.1: UNSUBACK carries no codes; every filter is removed.
#[test]
fn unsubscribe_v311_has_no_codes_and_removes_the_filters() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    subscribe(
        &mut s,
        subscribe_packet(&[("a/+", options(QoS::AtLeastOnce))]),
    );
    s.expect_written(&[0x82, 0x08, 0x00, 0x01, 0x00, 0x03, b'a', b'/', b'+', 0x01]);
    s.broker_sends(&[0x90, 0x03, 0x00, 0x01, 0x01]);
    s.events();
    let id = unsubscribe(&mut s, unsubscribe_packet(&["a/+"]));
    s.expect_written(&[0xA2, 0x07, 0x00, 0x02, 0x00, 0x03, b'a', b'/', b'+']);
    s.broker_sends(&[0xB0, 0x02, 0x00, 0x02]);
    s.expect_events(&[Event::Unsubscribed {
        id,
        result: Ok(vec![]),
    }]);
    assert!(s.client.subscriptions().is_empty());
}

// ---------------------------------------------------------------- 3.1.1 degradation

/// 3.1.1 has no properties: the publish of `publish_properties_are_written_in_identifier_order` loses them all.
#[test]
fn v311_publish_drops_every_v5_property() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let id = publish(&mut s, publish_with_every_property());
    s.expect_written(&[
        0x32, 0x09, // PUBLISH QoS 1, remaining length 9
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        b'h', b'i', // payload, no properties
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

/// 3.1.1: SUBSCRIBE keeps only the QoS of the options and no properties; SUBACK 0x80 is a failure.
#[test]
fn v311_subscribe_drops_v5_options_and_properties() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let mut packet = rich_subscribe();
    packet.subscriptions.push(SubscribeFilter {
        filter: "$share/g/b".into(),
        options: options(QoS::ExactlyOnce),
    });
    let id = subscribe(&mut s, packet);
    s.expect_written(&[
        0x82, 0x15, // SUBSCRIBE, remaining length 21
        0x00, 0x01, // packet identifier 1, no properties
        0x00, 0x03, b'a', b'/', b'+', 0x01, // "a/+" QoS 1 only
        0x00, 0x0A, // filter length 10
        b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'b', // "$share/g/b"
        0x02, // QoS 2 (no other option bits)
    ]);
    s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x01, 0x80]); // SUBACK: QoS 1, Failure
    s.expect_events(&[Event::Subscribed {
        id,
        result: Ok(vec![ReasonCode::GrantedQoS1, ReasonCode::UnspecifiedError]),
    }]);
    let filters: Vec<_> = s
        .client
        .subscriptions()
        .iter()
        .map(|s| s.filter.clone())
        .collect();
    assert_eq!(filters, ["a/+"]);
}

// ---------------------------------------------------------------- message expiry

/// 3.3.2.3.3: the Message Expiry Interval sent is what is left of it.
#[test]
fn queued_publish_carries_the_remaining_expiry_interval() {
    let mut s = Scenario::new(Options::new("c"));
    let mut p = msg("a/b", QoS::AtLeastOnce, b"hi");
    p.properties.message_expiry_interval = Some(10);
    publish(&mut s, p);
    s.at_ms(4_000);
    s.expect_events(&[]);
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_CLEAN);
    s.broker_sends(CONNACK);
    s.expect_written(&[
        0x32, 0x0F, // PUBLISH QoS 1, remaining length 15
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01, // packet identifier 1
        0x05, 0x02, 0x00, 0x00, 0x00, 0x06, // Message Expiry Interval 6 (10 - 4)
        b'h', b'i', // payload
    ]);
}

/// A queued publish whose interval passes is dropped by handle_timeout;
/// MQTT-4.3.3-7: one already sent is not expired.
#[test]
fn queued_publish_expires_offline_but_a_sent_one_does_not() {
    let mut o = Options::new("c");
    o.report_store_updates = true;
    let mut s = Scenario::new(o);
    let mut p = msg("a/b", QoS::AtLeastOnce, b"hi");
    p.properties.message_expiry_interval = Some(10);
    let id = publish(&mut s, p.clone());
    assert_eq!(s.client.poll_timeout(), Some(Instant::from_millis(10_000)));
    s.advance(Duration::from_secs(9));
    s.expect_events(&[]);
    s.advance(Duration::from_secs(2));
    s.expect_events(&[Event::Published {
        id,
        result: Err(RequestError::Expired),
    }]);
    assert_eq!(s.client.stats().dropped_expired, 1);
    assert_eq!(s.client.queued(), 0);
    assert_eq!(
        store_updates(&mut s),
        [
            StoreUpdate::PublishQueued {
                id,
                publish: Box::new(p.clone()),
            },
            StoreUpdate::PublishCompleted { id },
        ]
    );
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_CLEAN);
    s.broker_sends(CONNACK);
    s.expect_written(&[]);
    s.events();

    // Sent at once, then a minute without PUBACK: still in flight, not expired.
    let sent = publish(&mut s, p);
    s.expect_written(&[
        0x32, 0x0F, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01, // QoS 1, id 1
        0x05, 0x02, 0x00, 0x00, 0x00, 0x0A, b'h', b'i', // Message Expiry Interval 10
    ]);
    s.advance(Duration::from_secs(59));
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(sent, ReasonCode::Success)]);
    assert_eq!(s.client.stats().dropped_expired, 1);
}

// ---------------------------------------------------------------- store

/// Every change a durable store needs, in order.
#[test]
fn store_updates_follow_each_flow_in_order() {
    let mut o = Options::new("c");
    o.report_store_updates = true;
    let mut s = Scenario::connected_v5(o);

    publish(&mut s, msg("z", QoS::AtMostOnce, b"0"));
    assert_eq!(store_updates(&mut s), []); // QoS 0 is not stored

    let p1 = msg("a", QoS::AtLeastOnce, b"1");
    let p2 = msg("b", QoS::ExactlyOnce, b"2");
    let id1 = publish(&mut s, p1.clone());
    let id2 = publish(&mut s, p2.clone());
    s.expect_written(&[
        0x30, 0x05, 0x00, 0x01, b'z', 0x00, b'0', // QoS 0
        0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'1', // QoS 1, id 1
        0x34, 0x07, 0x00, 0x01, b'b', 0x00, 0x02, 0x00, b'2', // QoS 2, id 2
    ]);
    assert_eq!(
        store_updates(&mut s),
        [
            StoreUpdate::PublishQueued {
                id: id1,
                publish: Box::new(p1),
            },
            StoreUpdate::PublishSent {
                id: id1,
                packet_id: 1,
            },
            StoreUpdate::PublishQueued {
                id: id2,
                publish: Box::new(p2),
            },
            StoreUpdate::PublishSent {
                id: id2,
                packet_id: 2,
            },
        ]
    );
    s.broker_sends(&[0x50, 0x02, 0x00, 0x02]); // PUBREC 2
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::PublishReleased { id: id2 }]
    );
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::PublishCompleted { id: id1 }]
    );
    s.broker_sends(&[0x70, 0x02, 0x00, 0x02]); // PUBCOMP 2
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::PublishCompleted { id: id2 }]
    );

    let incoming = [0x34, 0x07, 0x00, 0x01, b'i', 0x00, 0x09, 0x00, b'x'];
    s.broker_sends(&incoming); // QoS 2, id 9
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::IncomingQoS2Received { packet_id: 9 }]
    );
    s.broker_sends(&incoming); // duplicate: nothing new to store
    assert_eq!(store_updates(&mut s), []);
    s.broker_sends(&[0x62, 0x02, 0x00, 0x09]); // PUBREL 9
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::IncomingQoS2Released { packet_id: 9 }]
    );
    s.expect_written(&[
        0x62, 0x02, 0x00, 0x02, // PUBREL 2
        0x50, 0x02, 0x00, 0x09, // PUBREC 9
        0x50, 0x02, 0x00, 0x09, // PUBREC 9 again
        0x70, 0x02, 0x00, 0x09, // PUBCOMP 9
    ]);

    subscribe(&mut s, rich_subscribe());
    assert_eq!(store_updates(&mut s), []); // not before the broker grants it
    s.broker_sends(&[0x90, 0x04, 0x00, 0x03, 0x00, 0x01]);
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::SubscriptionAdded(ActiveSubscription {
            filter: "a/+".into(),
            options: all_options(),
            subscription_identifier: Some(5),
            user_properties: vec![("k".into(), "v".into())],
        })]
    );
    unsubscribe(&mut s, unsubscribe_packet(&["a/+"]));
    s.broker_sends(&[0xB0, 0x04, 0x00, 0x04, 0x00, 0x00]);
    assert_eq!(
        store_updates(&mut s),
        [StoreUpdate::SubscriptionRemoved {
            filter: "a/+".into()
        }]
    );
}

/// MQTT-4.4.0-1 across a process restart: snapshot, restore into a new
/// client, connect with Clean Start 0, and the stored flows resume with their
/// original identifiers: PUBREL for the released one, PUBLISH with DUP for
/// the other, and incoming QoS 2 duplicates still suppressed.
#[test]
fn snapshot_and_restore_resume_in_flight_publishes_with_original_ids() {
    let mut s = Scenario::connected_v5(durable());
    let a = publish(&mut s, msg("a", QoS::AtLeastOnce, b"1"));
    let b = publish(&mut s, msg("b", QoS::ExactlyOnce, b"2"));
    let c = publish(&mut s, msg("c", QoS::AtLeastOnce, b"3"));
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    s.broker_sends(&[0x50, 0x02, 0x00, 0x02]); // PUBREC 2
    s.broker_sends(&[0x34, 0x07, 0x00, 0x01, b'i', 0x00, 0x09, 0x00, b'x']); // incoming QoS 2, id 9
    s.written();
    assert_eq!(
        s.events(),
        [
            published(a, ReasonCode::Success),
            Event::Message(received("i", QoS::ExactlyOnce, 9, b"x")),
        ]
    );
    let snapshot = s.client.snapshot();
    assert_eq!(snapshot.incoming_qos2, [9]);
    assert_eq!(
        snapshot
            .outgoing
            .iter()
            .map(|p| (p.id, p.packet_id, p.released))
            .collect::<Vec<_>>(),
        [(b, Some(2), true), (c, Some(3), false)]
    );
    drop(s);

    let mut s = Scenario {
        client: Client::restore(durable(), snapshot),
        now: Instant::from_millis(60_000),
    };
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_RESUME);
    s.broker_sends(CONNACK_SESSION_PRESENT);
    s.expect_events(&[Event::Connected {
        session_present: true,
    }]);
    s.expect_written(&[
        0x62, 0x02, 0x00, 0x02, // PUBREL 2
        0x3A, 0x07, 0x00, 0x01, b'c', 0x00, 0x03, 0x00, b'3', // PUBLISH DUP 1, QoS 1, id 3
    ]);
    // The broker resends its QoS 2 message: acknowledged, not delivered again.
    s.broker_sends(&[0x3C, 0x07, 0x00, 0x01, b'i', 0x00, 0x09, 0x00, b'x']);
    s.broker_sends(&[0x62, 0x02, 0x00, 0x09]);
    s.expect_written(&[0x50, 0x02, 0x00, 0x09, 0x70, 0x02, 0x00, 0x09]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x02, 0x40, 0x02, 0x00, 0x03]);
    s.expect_events(&[
        published(b, ReasonCode::Success),
        published(c, ReasonCode::Success),
    ]);
    // New requests do not collide with restored request ids.
    let d = publish(&mut s, msg("d", QoS::AtLeastOnce, b"4"));
    assert!(d > c);
    s.expect_written(&[0x32, 0x07, 0x00, 0x01, b'd', 0x00, 0x01, 0x00, b'4']);
}

/// A broker that stops taking Subscription Identifiers after losing the
/// session gets the resubscribe without one, instead of closing with 0xA1 on
/// every reconnect.
#[test]
fn resubscribe_leaves_out_the_identifier_when_the_broker_no_longer_takes_it() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    subscribe(&mut s, rich_subscribe());
    s.written();
    s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x01]); // SUBACK 1: granted QoS 1
    s.events();
    drop_transport(&mut s);
    // CONNACK: no session, Subscription Identifier Available 0.
    reconnect(&mut s, &[0x20, 0x05, 0x00, 0x00, 0x02, 0x29, 0x00]);
    s.expect_written(&[
        0x82, 0x10, // SUBSCRIBE, remaining length 16
        0x00, 0x02, // packet identifier 2
        0x07, // property length 7: no Subscription Identifier
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
        0x00, 0x03, b'a', b'/', b'+', // filter "a/+"
        0x2D, // options as subscribed
    ]);
}

/// MQTT-3.1.0-2: one CONNECT per network connection.
#[test]
fn connect_on_an_open_connection_is_refused() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    assert_eq!(s.client.connect(s.now), Err(CommandError::AlreadyConnected));
    s.expect_written(&[]);
}

/// MQTT-4.6.0-2, MQTT-4.6.0-3: acknowledgments of incoming QoS 1 and QoS 2
/// messages go out in the order the messages arrived.
#[test]
fn incoming_acknowledgments_keep_arrival_order() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&[
        0x32, 0x06, 0x00, 0x01, b'a', 0x00, 0x07, 0x00, // PUBLISH QoS 1, id 7
        0x32, 0x06, 0x00, 0x01, b'b', 0x00, 0x03, 0x00, // PUBLISH QoS 1, id 3
        0x34, 0x06, 0x00, 0x01, b'c', 0x00, 0x09, 0x00, // PUBLISH QoS 2, id 9
        0x34, 0x06, 0x00, 0x01, b'd', 0x00, 0x02, 0x00, // PUBLISH QoS 2, id 2
    ]);
    s.expect_written(&[
        0x40, 0x02, 0x00, 0x07, // PUBACK 7
        0x40, 0x02, 0x00, 0x03, // PUBACK 3
        0x50, 0x02, 0x00, 0x09, // PUBREC 9
        0x50, 0x02, 0x00, 0x02, // PUBREC 2
    ]);
    s.broker_sends(&[0x62, 0x02, 0x00, 0x02, 0x62, 0x02, 0x00, 0x09]); // PUBREL 2, PUBREL 9
    s.expect_written(&[0x70, 0x02, 0x00, 0x02, 0x70, 0x02, 0x00, 0x09]); // PUBCOMP 2, 9
}

/// MQTT-4.6.0-4: PUBRELs go out in the order the PUBRECs arrived.
#[test]
fn pubrels_follow_the_order_of_pubrecs() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    publish(&mut s, msg("x", QoS::ExactlyOnce, b"1"));
    publish(&mut s, msg("y", QoS::ExactlyOnce, b"2"));
    s.written();
    s.broker_sends(&[0x50, 0x02, 0x00, 0x02, 0x50, 0x02, 0x00, 0x01]); // PUBREC 2, PUBREC 1
    s.expect_written(&[0x62, 0x02, 0x00, 0x02, 0x62, 0x02, 0x00, 0x01]); // PUBREL 2, PUBREL 1
}

/// MQTT-3.14.2-3, MQTT-3.14.2-4: a DISCONNECT leaves out its Reason String,
/// then its User Properties, rather than exceed the broker's Maximum Packet Size.
#[test]
fn disconnect_drops_reason_string_and_user_properties_over_the_maximum_packet_size() {
    // CONNACK: Maximum Packet Size 8.
    let mut s = connected_with(
        Options::new("c"),
        &[0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x08],
    );
    let mut d = crate::codec::Disconnect::new(ReasonCode::DisconnectWithWillMessage);
    d.properties.reason_string = Some("a long goodbye".into());
    d.properties.user_properties.push(("k".into(), "v".into()));
    d.properties.session_expiry_interval = Some(0);
    s.client.disconnect(s.now, d).expect("disconnect");
    s.expect_written(&[
        0xE0, 0x07, // DISCONNECT, remaining length 7
        0x04, // Disconnect with Will Message
        0x05, 0x11, 0x00, 0x00, 0x00, 0x00, // Session Expiry Interval 0 only
    ]);
}

/// A 3.1.1 broker announces no Receive Maximum; the client keeps at most
/// `v311_receive_maximum` QoS 1/2 publishes in flight and queues the rest.
#[test]
fn v311_in_flight_publishes_are_capped_by_the_client() {
    let mut o = Options::new("c");
    o.v311_receive_maximum = 3;
    let mut s = Scenario::connected_v311(o);
    for _ in 0..5 {
        publish(&mut s, msg("t", QoS::AtLeastOnce, b"x"));
    }
    // PUBLISH QoS 1 "t" "x" with packet identifiers 1, 2, 3 only.
    let one = |pid: u8| [0x32, 0x06, 0x00, 0x01, b't', 0x00, pid, b'x'];
    assert_eq!(s.written(), [one(1), one(2), one(3)].concat());
    assert_eq!((s.client.in_flight(), s.client.queued()), (3, 2));
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    assert_eq!(s.written(), one(4), "one leaves, one goes");
}

/// MQTT-4.9.0-2: a resumed session resends at most the broker's (new, lower)
/// Receive Maximum of in-flight publishes; the rest follow, in order, as
/// acknowledgments free room, before any new message.
#[test]
fn resend_on_resume_respects_a_lowered_receive_maximum() {
    let mut s = Scenario::connected_v5(durable());
    for payload in [b"1", b"2", b"3", b"4"] {
        publish(&mut s, msg("t", QoS::AtLeastOnce, payload));
    }
    s.written();
    s.client.handle_transport_closed(s.now);
    s.events();
    s.client.connect(s.now).expect("connect");
    s.written();
    // CONNACK, session present, Receive Maximum 2.
    s.broker_sends(&[0x20, 0x06, 0x01, 0x00, 0x03, 0x21, 0x00, 0x02]);
    s.events();
    let dup = |pid: u8| [0x3A, 0x07, 0x00, 0x01, b't', 0x00, pid, 0x00, b'0' + pid];
    assert_eq!(s.written(), [dup(1), dup(2)].concat(), "two of four");
    publish(&mut s, msg("t", QoS::AtLeastOnce, b"5"));
    assert_eq!(s.written(), [], "a new message waits behind the resends");
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    assert_eq!(s.written(), dup(3));
    s.broker_sends(&[0x40, 0x02, 0x00, 0x02]); // PUBACK 2
    assert_eq!(s.written(), dup(4));
    s.broker_sends(&[0x40, 0x02, 0x00, 0x03]); // PUBACK 3
    let new = [0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x05, 0x00, b'5'];
    assert_eq!(s.written(), new, "then the new one");
}
