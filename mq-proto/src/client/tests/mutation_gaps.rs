//! Scenarios that close the gaps a mutation run (cargo-mutants, see
//! `docs/MUTANTS.md`) found: deadlines one millisecond before and at the
//! instant they fall, packets of exactly the Maximum Packet Size and one byte
//! more, the zero-copy read path, restore of shuffled and duplicate packet
//! identifiers, RETAIN and Maximum QoS at CONNACK, bytes dropped with a dead
//! link, and store updates for refused SUBACK and UNSUBACK codes.
//!
//! Byte strings are what the broker sends or what the client must write;
//! statement ids are MQTT 5.0 numbering.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use super::harness::Scenario;
use crate::client::{
    ActiveSubscription, AuthError, Authenticator, Client, CommandError, ConnectionState,
    DisconnectReason, Event, Instant, Options, ProtocolViolation, RequestError, RequestId,
    SessionSnapshot, StoreUpdate, StoredPublish,
};
use crate::codec::{
    DecodeError, Disconnect, PacketType, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe,
    SubscribeFilter, SubscriptionOptions, Unsubscribe,
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

/// CONNACK 5.0: no session present, Success, no properties.
const CONNACK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];
/// CONNACK 5.0: session present, Success, no properties.
const CONNACK_SESSION_PRESENT: &[u8] = &[0x20, 0x03, 0x01, 0x00, 0x00];
const PINGREQ: &[u8] = &[0xC0, 0x00];
const PINGRESP: &[u8] = &[0xD0, 0x00];

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// CONNACK 5.0, no session present, Success, with these property bytes.
fn connack(properties: &[u8]) -> Vec<u8> {
    let mut v = vec![0x20, 3 + properties.len() as u8, 0x00, 0x00];
    v.push(properties.len() as u8);
    v.extend_from_slice(properties);
    v
}

/// The Maximum Packet Size property (0x27).
fn maximum_packet_size(max: u32) -> Vec<u8> {
    let mut v = vec![0x27];
    v.extend_from_slice(&max.to_be_bytes());
    v
}

/// A 5.0 PUBLISH with first byte `first`, topic, optional packet identifier,
/// property bytes and payload (remaining length under 128).
fn publish_bytes(
    first: u8,
    topic: &str,
    packet_id: Option<u16>,
    properties: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut body = vec![0x00, topic.len() as u8];
    body.extend_from_slice(topic.as_bytes());
    if let Some(pid) = packet_id {
        body.extend_from_slice(&pid.to_be_bytes());
    }
    body.push(properties.len() as u8);
    body.extend_from_slice(properties);
    body.extend_from_slice(payload);
    let mut v = vec![first, body.len() as u8];
    v.extend(body);
    v
}

/// A user's publish: `topic`, `qos`, `payload`.
fn msg(topic: &str, qos: QoS, payload: &[u8]) -> Publish {
    let mut p = Publish::new(topic, Bytes::copy_from_slice(payload));
    p.qos = qos;
    p
}

/// A PUBLISH as the client decodes it.
fn received(topic: &str, qos: QoS, packet_id: u16, payload: &[u8]) -> Publish {
    Publish {
        packet_id,
        ..msg(topic, qos, payload)
    }
}

fn ok(id: RequestId) -> Event {
    Event::Published {
        id,
        result: Ok(ReasonCode::Success),
    }
}

fn too_large(size: usize, max: u32) -> RequestError {
    RequestError::PacketTooLarge { size, max }
}

/// A client with Session Expiry Interval 3600, so its session outlives a connection.
fn durable(report_store_updates: bool) -> Options {
    let mut o = Options::new("c");
    o.session_expiry_interval = 3600;
    o.report_store_updates = report_store_updates;
    o
}

/// Connects at 5.0 at the current time, the broker answering `connack`, and clears output.
fn connect(s: &mut Scenario, connack: &[u8]) {
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(connack);
    s.written();
    s.events();
}

fn store_updates(s: &mut Scenario) -> Vec<StoreUpdate> {
    core::iter::from_fn(|| s.client.poll_store_update()).collect()
}

fn subscribe_packet(filters: &[&str]) -> Subscribe {
    Subscribe {
        packet_id: 0,
        subscriptions: filters
            .iter()
            .map(|&f| SubscribeFilter {
                filter: f.into(),
                options: SubscriptionOptions::default(),
            })
            .collect(),
        properties: Default::default(),
    }
}

fn unsubscribe_packet(filters: &[&str]) -> Unsubscribe {
    Unsubscribe {
        packet_id: 0,
        filters: filters.iter().map(|&f| f.into()).collect(),
        properties: Default::default(),
    }
}

fn active(filter: &str) -> ActiveSubscription {
    ActiveSubscription {
        filter: filter.into(),
        options: SubscriptionOptions::default(),
        subscription_identifier: None,
        user_properties: Vec::new(),
    }
}

fn filters(s: &Scenario) -> Vec<String> {
    s.client
        .subscriptions()
        .iter()
        .map(|a| String::from(a.filter.as_str()))
        .collect()
}

// ---------------------------------------------------------------- timers

/// The CONNACK deadline falls Connect Timeout after the CONNECT: not a
/// millisecond early, and at that instant the attempt ends and the CONNECT
/// no transport will carry is dropped.
#[test]
fn connect_timeout_fires_at_the_deadline_not_before() {
    let mut s = Scenario::new(Options::new("c"));
    s.now = at(5_000);
    s.client.connect(s.now).expect("connect");
    assert_eq!(s.client.poll_timeout(), Some(at(35_000)));
    s.client.handle_timeout(at(34_999));
    s.expect_events(&[]);
    assert_eq!(s.client.state(), ConnectionState::Connecting);
    assert!(s.client.has_transmit());
    s.client.handle_timeout(at(35_000));
    s.expect_events(&[Event::Disconnected(DisconnectReason::ConnectTimeout)]);
    assert!(!s.client.has_transmit());
    assert_eq!(s.client.poll_timeout(), None);
}

/// PINGREQ goes out Keep Alive after the last packet, not a millisecond
/// early; without PINGRESP the connection ends at half the Keep Alive after
/// it, not a millisecond early.
#[test]
fn keep_alive_ping_and_ping_timeout_fall_exactly_on_their_deadlines() {
    let mut s = Scenario::new(Options::new("c"));
    s.now = at(1_000);
    connect(&mut s, CONNACK);
    assert_eq!(s.client.poll_timeout(), Some(at(61_000)));
    s.client.handle_timeout(at(60_999));
    s.expect_written(&[]);
    s.client.handle_timeout(at(61_000));
    s.expect_written(PINGREQ);
    assert_eq!(s.client.poll_timeout(), Some(at(91_000)));
    s.client.handle_timeout(at(90_999));
    s.expect_events(&[]);
    s.expect_written(&[]);
    s.client.handle_timeout(at(91_000));
    s.expect_events(&[Event::Disconnected(DisconnectReason::KeepAliveTimeout)]);
}

/// A PINGREQ is due Keep Alive after the older of the last packet sent and
/// the last received; PINGRESP stops the ping timeout.
#[test]
fn ping_is_due_after_the_older_of_last_sent_and_last_received() {
    let mut s = Scenario::new(Options::new("c"));
    connect(&mut s, CONNACK);
    s.now = at(31_000);
    s.client
        .publish(s.now, msg("a", QoS::AtMostOnce, b""))
        .expect("publish");
    s.written();
    // Sent at 31 s, nothing received since 0 s.
    assert_eq!(s.client.poll_timeout(), Some(at(60_000)));
    s.now = at(41_000);
    s.broker_sends(&publish_bytes(0x30, "a", None, &[], b""));
    s.events();
    // Received at 41 s, sent at 31 s.
    assert_eq!(s.client.poll_timeout(), Some(at(91_000)));
    s.client.handle_timeout(at(91_000));
    s.expect_written(PINGREQ);
    s.now = at(92_000);
    s.broker_sends(PINGRESP);
    assert_eq!(s.client.poll_timeout(), Some(at(151_000)));
    s.client.handle_timeout(at(121_000));
    s.expect_events(&[]);
}

/// The ping timeout is half the Keep Alive with a floor of one second, or
/// the configured one.
#[test]
fn ping_timeout_is_half_the_keep_alive_at_least_one_second_or_as_configured() {
    for (keep_alive, ping_timeout, expected_ms) in [
        (1, None, 1_000),
        (4, None, 2_000),
        (4, Some(Duration::from_millis(2_500)), 2_500),
    ] {
        let mut o = Options::new("c");
        o.keep_alive = keep_alive;
        o.ping_timeout = ping_timeout;
        let mut s = Scenario::new(o);
        connect(&mut s, CONNACK);
        let due = u64::from(keep_alive) * 1_000;
        s.client.handle_timeout(at(due));
        assert_eq!(s.written(), PINGREQ);
        assert_eq!(s.client.poll_timeout(), Some(at(due + expected_ms)));
        s.client.handle_timeout(at(due + expected_ms - 1));
        s.expect_events(&[]);
        s.client.handle_timeout(at(due + expected_ms));
        s.expect_events(&[Event::Disconnected(DisconnectReason::KeepAliveTimeout)]);
    }
}

/// A queued message expires when its Message Expiry Interval has passed to
/// the millisecond, not before; the next deadline is the next message's.
#[test]
fn queued_messages_expire_exactly_at_their_interval() {
    let mut s = Scenario::new(Options::new("c"));
    s.now = at(2_000);
    let mut first = msg("a", QoS::AtLeastOnce, b"1");
    first.properties.message_expiry_interval = Some(5);
    let mut second = msg("a", QoS::AtLeastOnce, b"2");
    second.properties.message_expiry_interval = Some(10);
    let first = s.client.publish(s.now, first).expect("publish");
    let second = s.client.publish(s.now, second).expect("publish");
    s.client
        .publish(s.now, msg("a", QoS::AtLeastOnce, b"3"))
        .expect("publish");
    assert_eq!(s.client.poll_timeout(), Some(at(7_000)));
    s.client.handle_timeout(at(6_999));
    s.expect_events(&[]);
    s.client.handle_timeout(at(7_000));
    s.expect_events(&[Event::Published {
        id: first,
        result: Err(RequestError::Expired),
    }]);
    assert_eq!(s.client.poll_timeout(), Some(at(12_000)));
    s.client.handle_timeout(at(11_999));
    s.expect_events(&[]);
    assert_eq!(s.client.queued(), 2);
    s.client.handle_timeout(at(12_000));
    s.expect_events(&[Event::Published {
        id: second,
        result: Err(RequestError::Expired),
    }]);
    assert_eq!(s.client.poll_timeout(), None);
    assert_eq!(s.client.stats().dropped_expired, 2);
}

/// At CONNACK a queued message goes out with what is left of its interval
/// (whole seconds elapsed are taken off); at the last millisecond it is still
/// sent, from the full interval on it is expired.
#[test]
fn queued_message_at_connack_carries_the_remaining_interval_or_expires() {
    for (connack_ms, sent) in [(11_999, true), (12_000, false)] {
        let mut s = Scenario::new(Options::new("c"));
        s.now = at(2_000);
        let mut p = msg("a", QoS::AtLeastOnce, b"x");
        p.properties.message_expiry_interval = Some(10);
        let id = s.client.publish(s.now, p).expect("publish");
        s.now = at(connack_ms);
        s.client.connect(s.now).expect("connect");
        s.expect_written(CONNECT_CLEAN);
        s.broker_sends(CONNACK);
        let connected = Event::Connected {
            session_present: false,
        };
        if sent {
            // Message Expiry Interval 1: 9.999 s elapsed count as 9.
            let expiry = [0x02, 0x00, 0x00, 0x00, 0x01];
            s.expect_written(&publish_bytes(0x32, "a", Some(1), &expiry, b"x"));
            s.expect_events(&[connected]);
        } else {
            s.expect_written(&[]);
            s.expect_events(&[
                connected,
                Event::Published {
                    id,
                    result: Err(RequestError::Expired),
                },
            ]);
            assert_eq!(s.client.stats().dropped_expired, 1);
        }
    }
}

/// A `handle_timeout` that comes late still expires what is due.
#[test]
fn a_late_timeout_still_expires_queued_messages() {
    let mut s = Scenario::new(Options::new("c"));
    let mut p = msg("a", QoS::AtLeastOnce, b"x");
    p.properties.message_expiry_interval = Some(5);
    let id = s.client.publish(s.now, p).expect("publish");
    s.client.handle_timeout(at(8_000));
    s.expect_events(&[Event::Published {
        id,
        result: Err(RequestError::Expired),
    }]);
    assert_eq!(s.client.queued(), 0);
}

/// A message held back by Receive Maximum is refreshed again when it is
/// finally sent: the interval counts from the last refresh, not twice.
#[test]
fn a_message_held_by_receive_maximum_is_sent_with_the_interval_left_then() {
    let mut s = Scenario::new(Options::new("c"));
    connect(&mut s, &connack(&[0x21, 0x00, 0x01])); // Receive Maximum 1
    let first = s
        .client
        .publish(s.now, msg("a", QoS::AtLeastOnce, b"1"))
        .expect("publish");
    s.expect_written(&publish_bytes(0x32, "a", Some(1), &[], b"1"));
    let mut p = msg("a", QoS::AtLeastOnce, b"2");
    p.properties.message_expiry_interval = Some(100);
    s.client.publish(s.now, p).expect("publish");
    s.expect_written(&[]);
    s.now = at(30_500);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    let expiry = [0x02, 0x00, 0x00, 0x00, 0x46]; // 100 - 30 = 70
    s.expect_written(&publish_bytes(0x32, "a", Some(2), &expiry, b"2"));
    s.expect_events(&[ok(first)]);
}

// ---------------------------------------------------------------- a dead link's bytes

/// Bytes not yet handed out when the link dies are dropped at once: QoS 0
/// messages among them fail as not sent before the disconnect is reported,
/// and the next transport carries only the new CONNECT.
#[test]
fn unsent_bytes_die_with_the_link_for_every_lost_link_reason() {
    type End = fn(&mut Scenario);
    let ends: [(End, DisconnectReason); 3] = [
        (
            |s| s.client.handle_transport_closed(s.now),
            DisconnectReason::TransportClosed,
        ),
        (
            |s| {
                s.client.handle_timeout(at(60_000)); // PINGREQ, not handed out
                s.client.handle_timeout(at(90_000));
            },
            DisconnectReason::KeepAliveTimeout,
        ),
        (
            |s| {
                // Connecting again on a new link, and no CONNACK comes.
                s.client.handle_transport_closed(s.now);
                s.events();
                s.client.connect(s.now).expect("connect");
                s.client.handle_timeout(s.now + Duration::from_secs(30));
            },
            DisconnectReason::ConnectTimeout,
        ),
    ];
    for (end, reason) in ends {
        let mut s = Scenario::connected_v5(Options::new("c"));
        let id = s
            .client
            .publish(s.now, msg("a", QoS::AtMostOnce, b"x"))
            .expect("publish");
        end(&mut s);
        let not_sent = Event::Published {
            id,
            result: Err(RequestError::NotSent),
        };
        if reason == DisconnectReason::ConnectTimeout {
            // Failed when the link closed; the second attempt's CONNECT is dropped.
            assert!(!s.client.has_transmit());
            s.expect_events(&[Event::Disconnected(reason)]);
        } else {
            assert!(!s.client.has_transmit(), "{reason:?}");
            s.expect_events(&[not_sent, Event::Disconnected(reason)]);
        }
        s.client.connect(s.now).expect("connect");
        s.expect_written(CONNECT_CLEAN);
    }
}

/// A DISCONNECT queued for a link the user never flushed (a protocol error,
/// or the user's own disconnect) does not reach the next link: it starts
/// with CONNECT.
#[test]
fn a_new_connection_starts_with_connect_not_with_the_old_links_bytes() {
    // The broker sends a second CONNACK: DISCONNECT 0x82 is queued.
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(CONNACK);
    assert!(s.client.has_transmit());
    s.events();
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_CLEAN);

    // The user disconnects, then connects again without writing the DISCONNECT.
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.client
        .disconnect(s.now, Disconnect::new(ReasonCode::Success))
        .expect("disconnect");
    assert!(s.client.has_transmit());
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_CLEAN);
}

/// A QoS 0 message encoded for a link that ends by the user's disconnect
/// fails as not sent when the next connection starts, not before.
#[test]
fn qos0_bytes_left_behind_a_local_disconnect_fail_on_the_next_connect() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let id = s
        .client
        .publish(s.now, msg("a", QoS::AtMostOnce, b"x"))
        .expect("publish");
    s.client
        .disconnect(s.now, Disconnect::new(ReasonCode::Success))
        .expect("disconnect");
    s.expect_events(&[Event::Disconnected(DisconnectReason::Local)]);
    s.client.connect(s.now).expect("connect");
    s.expect_events(&[Event::Published {
        id,
        result: Err(RequestError::NotSent),
    }]);
    s.expect_written(CONNECT_CLEAN);
}

// ---------------------------------------------------------------- Maximum Packet Size

/// MQTT-3.1.2-24: a PUBLISH of exactly the broker's Maximum Packet Size is
/// sent; one byte more is refused, when published and when queued before
/// the CONNACK that set the limit.
#[test]
fn publish_of_exactly_the_maximum_packet_size_is_sent_one_byte_more_is_not() {
    let limit = connack(&maximum_packet_size(20));
    let exact = publish_bytes(0x30, "a", None, &[], &[b'x'; 14]);
    assert_eq!(exact.len(), 20);

    let mut s = Scenario::new(Options::new("c"));
    connect(&mut s, &limit);
    s.client
        .publish(s.now, msg("a", QoS::AtMostOnce, &[b'x'; 14]))
        .expect("exactly the limit");
    s.expect_written(&exact);
    assert_eq!(
        s.client
            .publish(s.now, msg("a", QoS::AtMostOnce, &[b'x'; 15])),
        Err(CommandError::PacketTooLarge { size: 21, max: 20 })
    );
    assert_eq!(s.client.stats().dropped_too_large, 1);

    let mut s = Scenario::new(Options::new("c"));
    let fits = s
        .client
        .publish(s.now, msg("a", QoS::AtMostOnce, &[b'x'; 14]))
        .expect("publish");
    let over = s
        .client
        .publish(s.now, msg("a", QoS::AtMostOnce, &[b'x'; 15]))
        .expect("publish");
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(&limit);
    s.expect_written(&exact);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id: over,
            result: Err(too_large(21, 20)),
        },
        ok(fits),
    ]);
    assert_eq!(s.client.stats().dropped_too_large, 1);
}

/// A new Topic Alias (three bytes) is added when the packet with it is
/// exactly the Maximum Packet Size, and left out when that is one byte over.
#[test]
fn topic_alias_is_added_up_to_exactly_the_maximum_packet_size() {
    let mut properties = maximum_packet_size(20);
    properties.extend_from_slice(&[0x22, 0x00, 0x05]); // Topic Alias Maximum 5
    let mut s = Scenario::new(Options::new("c"));
    connect(&mut s, &connack(&properties));
    s.client
        .publish(s.now, msg("a", QoS::AtMostOnce, &[b'x'; 11]))
        .expect("publish");
    let aliased = publish_bytes(0x30, "a", None, &[0x23, 0x00, 0x01], &[b'x'; 11]);
    assert_eq!(aliased.len(), 20);
    s.expect_written(&aliased);
    s.client
        .publish(s.now, msg("b", QoS::AtMostOnce, &[b'x'; 12]))
        .expect("publish");
    s.expect_written(&publish_bytes(0x30, "b", None, &[], &[b'x'; 12]));
}

/// SUBSCRIBE and UNSUBSCRIBE of exactly the broker's Maximum Packet Size are
/// sent, one byte more is refused.
#[test]
fn subscribe_and_unsubscribe_of_exactly_the_maximum_packet_size_are_sent() {
    let mut s = Scenario::new(Options::new("c"));
    connect(&mut s, &connack(&maximum_packet_size(20)));
    // SUBSCRIBE: fixed header 2, packet identifier 2, properties 1, filter 2 + 12, options 1.
    s.client
        .subscribe(s.now, subscribe_packet(&["abcdefghijkl"]))
        .expect("exactly the limit");
    let mut exact = vec![0x82, 0x12, 0x00, 0x01, 0x00, 0x00, 0x0C];
    exact.extend_from_slice(b"abcdefghijkl");
    exact.push(0x00);
    assert_eq!(exact.len(), 20);
    s.expect_written(&exact);
    assert_eq!(
        s.client
            .subscribe(s.now, subscribe_packet(&["abcdefghijklm"])),
        Err(CommandError::PacketTooLarge { size: 21, max: 20 })
    );
    // UNSUBSCRIBE: fixed header 2, packet identifier 2, properties 1, filter 2 + 13.
    s.client
        .unsubscribe(s.now, unsubscribe_packet(&["abcdefghijklm"]))
        .expect("exactly the limit");
    let mut exact = vec![0xA2, 0x12, 0x00, 0x02, 0x00, 0x00, 0x0D];
    exact.extend_from_slice(b"abcdefghijklm");
    assert_eq!(exact.len(), 20);
    s.expect_written(&exact);
    assert_eq!(
        s.client
            .unsubscribe(s.now, unsubscribe_packet(&["abcdefghijklmn"])),
        Err(CommandError::PacketTooLarge { size: 21, max: 20 })
    );
    assert_eq!(s.client.stats().dropped_too_large, 2);
}

/// A SUBSCRIBE made before the CONNACK that sets Maximum Packet Size is sent
/// when it is exactly the limit and fails when it is one byte over.
#[test]
fn subscribe_made_offline_is_checked_against_the_limit_at_connack() {
    for (max, sent) in [(20, true), (19, false)] {
        let mut s = Scenario::new(Options::new("c"));
        let id = s
            .client
            .subscribe(s.now, subscribe_packet(&["abcdefghijkl"]))
            .expect("subscribe");
        s.client.connect(s.now).expect("connect");
        s.written();
        s.broker_sends(&connack(&maximum_packet_size(max)));
        let connected = Event::Connected {
            session_present: false,
        };
        if sent {
            let mut exact = vec![0x82, 0x12, 0x00, 0x01, 0x00, 0x00, 0x0C];
            exact.extend_from_slice(b"abcdefghijkl");
            exact.push(0x00);
            s.expect_written(&exact);
            s.expect_events(&[connected]);
        } else {
            s.expect_written(&[]);
            s.expect_events(&[
                connected,
                Event::Subscribed {
                    id,
                    result: Err(too_large(20, 19)),
                },
            ]);
            assert_eq!(s.client.stats().dropped_too_large, 1);
        }
    }
}

/// MQTT-3.14.2-3, MQTT-3.14.2-4: the Reason String, then the User
/// Properties, are left out of a DISCONNECT only while it is over the limit;
/// at exactly the limit they stay.
#[test]
fn disconnect_keeps_its_properties_at_exactly_the_maximum_packet_size() {
    let mut d = Disconnect::new(ReasonCode::Success);
    d.properties.reason_string = Some("r".into());
    d.properties.user_properties.push(("k".into(), "v".into()));
    let reason = [0x1F, 0x00, 0x01, b'r'];
    let user = [0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v'];
    let both: Vec<u8> = [&[0xE0, 0x0D, 0x00, 0x0B][..], &reason, &user].concat();
    let user_only: Vec<u8> = [&[0xE0, 0x09, 0x00, 0x07][..], &user].concat();
    for (max, expected) in [
        (15, both),
        (14, user_only.clone()),
        (11, user_only),
        (10, vec![0xE0, 0x00]),
    ] {
        let mut s = Scenario::new(Options::new("c"));
        connect(&mut s, &connack(&maximum_packet_size(max)));
        s.client.disconnect(s.now, d.clone()).expect("disconnect");
        assert_eq!(s.written(), expected, "maximum packet size {max}");
    }
}

/// MQTT-3.1.2-24: a PUBLISH from the broker of exactly our Maximum Packet
/// Size is delivered; one byte more ends the connection with Packet too
/// large (0x95).
#[test]
fn incoming_packet_of_exactly_our_maximum_packet_size_is_accepted() {
    let mut o = Options::new("c");
    o.maximum_packet_size = Some(20);
    let mut s = Scenario::new(o);
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(CONNACK);
    s.events();
    let exact = publish_bytes(0x30, "a", None, &[], &[b'x'; 14]);
    assert_eq!(exact.len(), 20);
    s.broker_sends(&exact);
    s.expect_events(&[Event::Message(msg("a", QoS::AtMostOnce, &[b'x'; 14]))]);
    s.broker_sends(&publish_bytes(0x30, "a", None, &[], &[b'x'; 15]));
    s.expect_written(&[0xE0, 0x01, 0x95]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::PacketTooLarge,
        violation: ProtocolViolation::Decode(DecodeError::PacketTooLarge { size: 21, max: 20 }),
    })]);
}

/// Method "m": sends `initial` to start and `response` to every challenge.
struct FixedAuth {
    initial: &'static [u8],
    response: &'static [u8],
}

impl Authenticator for FixedAuth {
    fn method(&self) -> &str {
        "m"
    }

    fn initial_data(&mut self) -> Result<Option<Bytes>, AuthError> {
        Ok(Some(Bytes::from_static(self.initial)))
    }

    fn challenge(&mut self, _: Option<&Bytes>) -> Result<Option<Bytes>, AuthError> {
        Ok(Some(Bytes::from_static(self.response)))
    }

    fn finish(&mut self, _: Option<&Bytes>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// AUTH with `reason`, Authentication Method "m" and Authentication Data `data`.
fn auth_bytes(reason: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![0xF0, 9 + data.len() as u8, reason, 7 + data.len() as u8];
    v.extend_from_slice(&[0x15, 0x00, 0x01, b'm', 0x16, 0x00, data.len() as u8]);
    v.extend_from_slice(data);
    v
}

/// A client authenticated with method "m", the broker's Maximum Packet Size 15.
fn authenticated(initial: &'static [u8], response: &'static [u8]) -> Scenario {
    let mut s = Scenario::new(Options::new("c"));
    s.client
        .set_authenticator(Box::new(FixedAuth { initial, response }));
    connect(&mut s, &connack(&maximum_packet_size(15)));
    assert_eq!(s.client.state(), ConnectionState::Connected);
    s
}

/// Re-authentication's AUTH of exactly the broker's Maximum Packet Size is
/// sent; one byte more is refused.
#[test]
fn reauthentication_of_exactly_the_maximum_packet_size_is_sent() {
    let mut s = authenticated(b"dddd", b"");
    s.client.reauthenticate(s.now).expect("exactly the limit");
    let exact = auth_bytes(0x19, b"dddd");
    assert_eq!(exact.len(), 15);
    s.expect_written(&exact);

    let mut s = authenticated(b"ddddd", b"");
    assert_eq!(
        s.client.reauthenticate(s.now),
        Err(CommandError::PacketTooLarge { size: 16, max: 15 })
    );
    s.expect_written(&[]);
}

/// The answer to a challenge of exactly the broker's Maximum Packet Size is
/// sent; one byte more ends the connection (Not authorized) instead.
#[test]
fn challenge_response_of_exactly_the_maximum_packet_size_is_sent() {
    let challenge = [0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, b'm'];
    let mut s = authenticated(b"", b"rrrr");
    s.client.reauthenticate(s.now).expect("reauthenticate");
    s.written();
    s.broker_sends(&challenge);
    s.expect_written(&auth_bytes(0x18, b"rrrr"));
    s.expect_events(&[]);

    let mut s = authenticated(b"", b"rrrrr");
    s.client.reauthenticate(s.now).expect("reauthenticate");
    s.written();
    s.broker_sends(&challenge);
    s.expect_written(&[0xE0, 0x01, 0x87]);
    let e = AuthError(String::from(
        "response of 16 bytes exceeds the broker's maximum packet size 15",
    ));
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::NotAuthorized,
        violation: ProtocolViolation::Auth(crate::client::AuthFailure::Authenticator(e)),
    })]);
}

// ---------------------------------------------------------------- zero-copy read path

/// An adapter that reads straight into `receive_buffer` and calls
/// `handle_received`: frames split anywhere, several in one read, all
/// decoded in order and counted; QoS 1 is acknowledged.
#[test]
fn receive_buffer_and_handle_received_decode_split_and_joined_frames() {
    let mut s = Scenario::new(Options::new("c"));
    s.client.connect(s.now).expect("connect");
    s.written();
    let mut stream = CONNACK.to_vec();
    let first = publish_bytes(0x30, "a", None, &[], b"1");
    let second = publish_bytes(0x32, "b", Some(7), &[], b"2");
    stream.extend_from_slice(&first);
    stream.extend_from_slice(&second);
    stream.extend_from_slice(&first);
    // Reads of 3, 1, 9, then the rest: CONNACK split, frames split and joined.
    let mut rest = &stream[..];
    for n in [3, 1, 9, rest.len() - 13] {
        let (read, after) = rest.split_at(n);
        s.client.receive_buffer().extend_from_slice(read);
        s.client.handle_received(s.now, n);
        rest = after;
    }
    s.expect_written(&[0x40, 0x02, 0x00, 0x07]); // PUBACK 7
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Message(msg("a", QoS::AtMostOnce, b"1")),
        Event::Message(received("b", QoS::AtLeastOnce, 7, b"2")),
        Event::Message(msg("a", QoS::AtMostOnce, b"1")),
    ]);
    let stats = s.client.stats();
    assert_eq!(stats.bytes_received, stream.len() as u64);
    assert_eq!(stats.packets_received, 4);
    assert!(s.client.receive_buffer().is_empty());
}

/// Half a frame waits in the buffer for the rest; bytes that arrive without
/// a connection are counted and dropped.
#[test]
fn handle_received_keeps_a_partial_frame_and_drops_bytes_without_a_connection() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    let frame = publish_bytes(0x30, "a", None, &[], b"xyz");
    s.client.receive_buffer().extend_from_slice(&frame[..4]);
    s.client.handle_received(s.now, 4);
    s.expect_events(&[]);
    assert_eq!(&s.client.receive_buffer()[..], &frame[..4]);
    s.client.receive_buffer().extend_from_slice(&frame[4..]);
    s.client.handle_received(s.now, frame.len() - 4);
    s.expect_events(&[Event::Message(msg("a", QoS::AtMostOnce, b"xyz"))]);

    s.client.handle_transport_closed(s.now);
    s.events();
    let before = s.client.stats().bytes_received;
    s.client.receive_buffer().extend_from_slice(&frame);
    s.client.handle_received(s.now, frame.len());
    assert!(s.client.receive_buffer().is_empty());
    s.expect_events(&[]);
    assert_eq!(s.client.stats().bytes_received, before + frame.len() as u64);
    assert_eq!(s.client.state(), ConnectionState::Disconnected);
}

/// A malformed frame through `handle_received` ends the connection like one
/// through `handle_bytes`, and what followed it is dropped.
#[test]
fn handle_received_reports_a_malformed_frame_and_drops_the_rest() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    // PUBLISH with QoS 3, then a good PUBLISH.
    let mut data = vec![0x36, 0x03, 0x00, 0x01, b'a'];
    data.extend_from_slice(&publish_bytes(0x30, "a", None, &[], b"1"));
    s.client.receive_buffer().extend_from_slice(&data);
    s.client.handle_received(s.now, data.len());
    s.expect_written(&[0xE0, 0x01, 0x81]); // DISCONNECT Malformed Packet
    let events = s.events();
    assert!(
        matches!(
            events[..],
            [Event::Disconnected(DisconnectReason::ProtocolError {
                reason_code: ReasonCode::MalformedPacket,
                ..
            })]
        ),
        "{events:?}"
    );
    assert!(s.client.receive_buffer().is_empty());
}

// ---------------------------------------------------------------- restore

/// CONNECT resuming a session: Clean Start 0, Keep Alive 60, Session Expiry Interval 3600.
const CONNECT_RESUME: &[u8] = &[
    0x10, 0x13, // CONNECT, remaining length 19
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, version 5
    0x00, // flags: Clean Start 0
    0x00, 0x3C, // keep alive 60
    0x05, 0x11, 0x00, 0x00, 0x0E, 0x10, // properties: Session Expiry Interval 3600
    0x00, 0x01, b'c', // client identifier "c"
];

fn stored(id: u64, packet_id: Option<u16>, released: bool, publish: Publish) -> StoredPublish {
    StoredPublish {
        id: RequestId(id),
        packet_id,
        released,
        publish,
    }
}

/// A store whose packet identifiers are out of order, one of them twice,
/// and whose request identifiers are shuffled.
fn shuffled_snapshot() -> SessionSnapshot {
    SessionSnapshot {
        outgoing: vec![
            stored(7, Some(5), false, msg("a", QoS::AtLeastOnce, b"1")),
            stored(3, Some(2), true, msg("b", QoS::ExactlyOnce, b"2")),
            stored(9, Some(5), false, msg("c", QoS::AtLeastOnce, b"3")),
            stored(4, None, false, msg("d", QoS::AtLeastOnce, b"4")),
        ],
        incoming_qos2: Vec::new(),
        subscriptions: Vec::new(),
    }
}

/// MQTT-4.6.0-1: a restored session resends in the stored order, not in
/// packet identifier order; a packet identifier stored twice is sent once
/// with it, the second message goes out as new with a free one; new
/// requests are numbered after the highest stored.
#[test]
fn restore_resends_in_stored_order_and_sends_a_duplicate_id_as_new() {
    let client = Client::restore(durable(false), shuffled_snapshot());
    let snapshot = client.snapshot();
    let order: Vec<_> = snapshot
        .outgoing
        .iter()
        .map(|p| (p.id.0, p.packet_id))
        .collect();
    assert_eq!(order, [(7, Some(5)), (3, Some(2)), (9, None), (4, None)]);
    assert_eq!((client.in_flight(), client.queued()), (2, 2));

    let mut s = Scenario {
        client,
        now: Instant::ZERO,
    };
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_RESUME);
    s.broker_sends(CONNACK_SESSION_PRESENT);
    let expected: Vec<u8> = [
        publish_bytes(0x3A, "a", Some(5), &[], b"1"), // DUP, QoS 1, id 5
        vec![0x62, 0x02, 0x00, 0x02],                 // PUBREL 2
        publish_bytes(0x32, "c", Some(1), &[], b"3"),
        publish_bytes(0x32, "d", Some(3), &[], b"4"),
    ]
    .concat();
    s.expect_written(&expected);
    let next = s
        .client
        .publish(s.now, msg("e", QoS::AtMostOnce, b""))
        .expect("publish");
    assert_eq!(next, RequestId(10));
}

/// A restored session the broker no longer has: what PUBREC confirmed is
/// done, the rest is sent as new in the stored order.
#[test]
fn restore_into_a_lost_session_requeues_in_stored_order() {
    let mut s = Scenario {
        client: Client::restore(durable(false), shuffled_snapshot()),
        now: Instant::ZERO,
    };
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_RESUME);
    s.broker_sends(CONNACK);
    let expected: Vec<u8> = [
        publish_bytes(0x32, "a", Some(1), &[], b"1"),
        publish_bytes(0x32, "c", Some(2), &[], b"3"),
        publish_bytes(0x32, "d", Some(3), &[], b"4"),
    ]
    .concat();
    s.expect_written(&expected);
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        ok(RequestId(3)),
    ]);
}

// ---------------------------------------------------------------- RETAIN and Maximum QoS at CONNACK

/// A retained message queued before CONNACK goes out when the broker allows
/// retain (by default or by saying so) and is refused with Retain not
/// supported (0x9A) when Retain Available is 0 (MQTT-3.2.2-14).
#[test]
fn queued_retained_publish_follows_retain_available() {
    let retained = publish_bytes(0x31, "a", None, &[], b"r");
    for (connack, sent) in [
        (CONNACK.to_vec(), true),
        (connack(&[0x25, 0x01]), true),
        (connack(&[0x25, 0x00]), false),
    ] {
        let mut s = Scenario::new(Options::new("c"));
        let mut p = msg("a", QoS::AtMostOnce, b"r");
        p.retain = true;
        let id = s.client.publish(s.now, p).expect("publish");
        s.client.connect(s.now).expect("connect");
        s.written();
        s.broker_sends(&connack);
        let connected = Event::Connected {
            session_present: false,
        };
        if sent {
            s.expect_written(&retained);
            s.expect_events(&[connected, ok(id)]);
        } else {
            s.expect_written(&[]);
            s.expect_events(&[
                connected,
                Event::Published {
                    id,
                    result: Err(RequestError::Rejected {
                        reason_code: ReasonCode::RetainNotSupported,
                        reason_string: None,
                    }),
                },
            ]);
        }
    }
    // Published while connected to a broker that allows retain.
    let mut s = Scenario::connected_v5(Options::new("c"));
    let mut p = msg("a", QoS::AtMostOnce, b"r");
    p.retain = true;
    s.client.publish(s.now, p).expect("retain allowed");
    s.expect_written(&retained);
}

/// MQTT-3.2.2-11: a message queued at the broker's Maximum QoS is sent; one
/// above it is refused with QoS not supported (0x9B).
#[test]
fn queued_publish_at_the_maximum_qos_is_sent() {
    let mut s = Scenario::new(Options::new("c"));
    let at_max = s
        .client
        .publish(s.now, msg("a", QoS::AtLeastOnce, b"1"))
        .expect("publish");
    let above = s
        .client
        .publish(s.now, msg("a", QoS::ExactlyOnce, b"2"))
        .expect("publish");
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(&connack(&[0x24, 0x01])); // Maximum QoS 1
    s.expect_written(&publish_bytes(0x32, "a", Some(1), &[], b"1"));
    s.expect_events(&[
        Event::Connected {
            session_present: false,
        },
        Event::Published {
            id: above,
            result: Err(RequestError::Rejected {
                reason_code: ReasonCode::QoSNotSupported,
                reason_string: None,
            }),
        },
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]);
    s.expect_events(&[ok(at_max)]);
}

// ---------------------------------------------------------------- store updates

/// A refused SUBACK code removes a subscription that was active, and only
/// then does the store hear of it; with reporting off it hears nothing.
#[test]
fn refused_suback_removes_an_active_subscription_and_tells_the_store_if_reporting() {
    for report in [true, false] {
        let mut o = Options::new("c");
        o.report_store_updates = report;
        let mut s = Scenario::connected_v5(o);
        s.client
            .subscribe(s.now, subscribe_packet(&["a"]))
            .expect("subscribe");
        s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x00]); // SUBACK 1: granted QoS 0
        let added = store_updates(&mut s);
        let id = s
            .client
            .subscribe(s.now, subscribe_packet(&["a", "b"]))
            .expect("subscribe");
        s.written();
        s.events();
        s.broker_sends(&[0x90, 0x05, 0x00, 0x02, 0x00, 0x80, 0x80]); // SUBACK 2: both refused
        s.expect_events(&[Event::Subscribed {
            id,
            result: Ok(vec![ReasonCode::UnspecifiedError; 2]),
        }]);
        assert!(filters(&s).is_empty());
        let removed = store_updates(&mut s);
        if report {
            assert_eq!(added, [StoreUpdate::SubscriptionAdded(active("a"))]);
            assert_eq!(
                removed,
                [StoreUpdate::SubscriptionRemoved { filter: "a".into() }]
            );
        } else {
            assert_eq!((added, removed), (vec![], vec![]));
        }
    }
}

/// UNSUBACK: a success code removes the subscription (and tells the store
/// if reporting), an error code keeps it, a filter that was not active
/// changes nothing.
#[test]
fn unsuback_codes_decide_removal_and_store_updates() {
    for report in [true, false] {
        let mut o = Options::new("c");
        o.report_store_updates = report;
        let mut s = Scenario::connected_v5(o);
        s.client
            .subscribe(s.now, subscribe_packet(&["a", "b"]))
            .expect("subscribe");
        s.broker_sends(&[0x90, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]);
        store_updates(&mut s);
        s.events();
        s.client
            .unsubscribe(s.now, unsubscribe_packet(&["a", "b", "x"]))
            .expect("unsubscribe");
        // UNSUBACK 2: a Success, b Unspecified error, x Success.
        s.broker_sends(&[0xB0, 0x06, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00]);
        assert_eq!(filters(&s), ["b"]);
        let expected = if report {
            vec![StoreUpdate::SubscriptionRemoved { filter: "a".into() }]
        } else {
            vec![]
        };
        assert_eq!(store_updates(&mut s), expected);
    }
}

/// A resubscription too large for the broker after a lost session removes
/// the subscription; the store hears of it only when reporting.
#[test]
fn failed_resubscription_tells_the_store_only_when_reporting() {
    for report in [true, false] {
        let mut s = Scenario::new(durable(report));
        connect(&mut s, CONNACK);
        s.client
            .subscribe(s.now, subscribe_packet(&["abcdefghijkl"]))
            .expect("subscribe");
        s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x00]);
        store_updates(&mut s);
        s.client.handle_transport_closed(s.now);
        s.events();
        s.client.connect(s.now).expect("connect");
        s.written();
        s.broker_sends(&connack(&maximum_packet_size(19)));
        s.expect_written(&[]);
        s.expect_events(&[
            Event::Connected {
                session_present: false,
            },
            Event::Resubscribed(vec![("abcdefghijkl".into(), ReasonCode::PacketTooLarge)]),
        ]);
        assert!(filters(&s).is_empty());
        let expected = if report {
            vec![StoreUpdate::SubscriptionRemoved {
                filter: "abcdefghijkl".into(),
            }]
        } else {
            vec![]
        };
        assert_eq!(store_updates(&mut s), expected);
    }
}

/// Publishes at QoS 1 and 2, incoming QoS 2, a subscription, an expired
/// message and a lost session; returns the store updates.
fn every_store_flow(report_store_updates: bool) -> Vec<StoreUpdate> {
    let mut s = Scenario::new(durable(report_store_updates));
    connect(&mut s, CONNACK);
    s.client
        .subscribe(s.now, subscribe_packet(&["a"]))
        .expect("subscribe");
    s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x00]);
    s.client
        .publish(s.now, msg("a", QoS::AtLeastOnce, b"1"))
        .expect("publish");
    s.client
        .publish(s.now, msg("a", QoS::ExactlyOnce, b"2"))
        .expect("publish");
    s.broker_sends(&[0x40, 0x02, 0x00, 0x02]); // PUBACK 2
    s.broker_sends(&[0x50, 0x02, 0x00, 0x03]); // PUBREC 3
    s.broker_sends(&publish_bytes(0x34, "a", Some(9), &[], b"q")); // QoS 2 in, id 9
    s.broker_sends(&publish_bytes(0x34, "a", Some(8), &[], b"q")); // QoS 2 in, id 8
    s.broker_sends(&[0x62, 0x02, 0x00, 0x08]); // PUBREL 8
    s.client
        .publish(s.now, msg("a", QoS::ExactlyOnce, b"3"))
        .expect("publish");
    s.client.handle_transport_closed(s.now);
    let mut p = msg("a", QoS::AtLeastOnce, b"4");
    p.properties.message_expiry_interval = Some(1);
    s.client.publish(s.now, p).expect("publish");
    s.client.handle_timeout(at(1_000));
    s.client.connect(s.now).expect("connect");
    s.broker_sends(CONNACK); // lost session: requeue, receipts cleared, resubscribe
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]); // PUBREC for the requeued one
    s.broker_sends(&[0x70, 0x02, 0x00, 0x03]); // PUBCOMP 3
    store_updates(&mut s)
}

/// With reporting off, none of the flows that report store updates (each
/// kind shows with reporting on) produces one.
#[test]
fn no_store_updates_with_reporting_off() {
    let kinds = |updates: &[StoreUpdate]| {
        let mut kinds: Vec<_> = updates.iter().map(core::mem::discriminant).collect();
        kinds.sort_by_key(|k| alloc::format!("{k:?}"));
        kinds.dedup();
        kinds.len()
    };
    // Every kind but SubscriptionRemoved.
    assert_eq!(kinds(&every_store_flow(true)), 9);
    assert_eq!(every_store_flow(false), []);
}

// ---------------------------------------------------------------- Receive Maximum across connections

/// CONNECT for `durable(false)` with Receive Maximum 2, Clean Start as given.
fn connect_receive_maximum_2(clean_start: bool) -> Vec<u8> {
    [
        &[0x10, 0x16, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05][..],
        &[if clean_start { 0x02 } else { 0x00 }, 0x00, 0x3C], // flags, keep alive 60
        &[0x08, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0x00, 0x02], // Session Expiry 3600, Receive Maximum 2
        &[0x00, 0x01, b'c'],
    ]
    .concat()
}

/// Receive Maximum 2; two QoS 2 messages (ids 1 and 2) received and
/// acknowledged with PUBREC, never released; then the link dies.
fn holding_two_receipts() -> Scenario {
    let mut o = durable(false);
    o.receive_maximum = 2;
    let mut s = Scenario::new(o);
    s.client.connect(s.now).expect("connect");
    s.expect_written(&connect_receive_maximum_2(true));
    s.broker_sends(CONNACK);
    s.broker_sends(&publish_bytes(0x34, "a", Some(1), &[], b"1"));
    s.broker_sends(&publish_bytes(0x34, "a", Some(2), &[], b"2"));
    s.expect_written(&[0x50, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02]); // PUBREC 1, 2
    s.events();
    s.client.handle_transport_closed(s.now);
    s.events();
    s
}

/// QoS 2 PUBLISH from the broker with `packet_id`, DUP as given.
fn qos2_in(packet_id: u16, dup: bool) -> Vec<u8> {
    publish_bytes(
        if dup { 0x3C } else { 0x34 },
        "a",
        Some(packet_id),
        &[],
        b"n",
    )
}

fn pubrec(packet_id: u16) -> Vec<u8> {
    vec![0x50, 0x02, 0x00, packet_id as u8]
}

fn receive_maximum_exceeded() -> Event {
    Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::ReceiveMaximumExceeded,
        violation: ProtocolViolation::ReceiveMaximumExceeded(2),
    })
}

/// A CONNECT (Clean Start 0) makes the broker start a new session, and its
/// CONNACK (Session Present 0) is lost with the link; the next CONNACK says
/// Session Present 1. The client cannot tell and keeps its two receipts, but
/// they no longer count toward its Receive Maximum: the broker's send quota
/// starts afresh with each connection (4.9), and this broker holds none of
/// those messages. Two new QoS 2 messages are answered; a third beyond
/// Receive Maximum on this connection still ends it (0x93). (The
/// simulation found this, `tests/simulation.rs`.)
#[test]
fn receipts_from_before_a_lost_connack_do_not_count_toward_receive_maximum() {
    let mut s = holding_two_receipts();
    s.client.connect(s.now).expect("connect");
    s.expect_written(&connect_receive_maximum_2(false));
    s.client.handle_transport_closed(s.now); // CONNACK Session Present 0 lost
    s.events();
    s.client.connect(s.now).expect("connect");
    s.expect_written(&connect_receive_maximum_2(false));
    s.broker_sends(CONNACK_SESSION_PRESENT);
    s.broker_sends(&qos2_in(3, false));
    s.broker_sends(&qos2_in(4, false));
    s.expect_written(&[pubrec(3), pubrec(4)].concat());
    s.expect_events(&[
        Event::Connected {
            session_present: true,
        },
        Event::Message(received("a", QoS::ExactlyOnce, 3, b"n")),
        Event::Message(received("a", QoS::ExactlyOnce, 4, b"n")),
    ]);
    s.broker_sends(&qos2_in(5, false));
    s.expect_written(&[0xE0, 0x01, 0x93]);
    s.expect_events(&[receive_maximum_exceeded()]);
}

/// A receipt from an earlier connection counts again once the broker resends
/// its PUBLISH on this one, and stops counting at its PUBREL; a PUBREL for an
/// old receipt frees nothing it did not hold.
#[test]
fn a_resent_publish_counts_its_receipt_again_until_pubrel() {
    let mut s = holding_two_receipts();
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(CONNACK_SESSION_PRESENT);
    s.broker_sends(&[0x62, 0x02, 0x00, 0x02]); // PUBREL 2, from the last connection
    s.broker_sends(&qos2_in(1, true)); // resend of 1: answered, not delivered
    s.broker_sends(&qos2_in(3, false));
    s.expect_written(&[vec![0x70, 0x02, 0x00, 0x02], pubrec(1), pubrec(3)].concat());
    s.expect_events(&[
        Event::Connected {
            session_present: true,
        },
        Event::Message(received("a", QoS::ExactlyOnce, 3, b"n")),
    ]);
    // 1 and 3 are held on this connection: a third is one too many.
    s.broker_sends(&qos2_in(4, false));
    s.expect_written(&[0xE0, 0x01, 0x93]);
    s.expect_events(&[receive_maximum_exceeded()]);

    // The same, with PUBREL 1 first: one place frees and 4 is answered.
    let mut s = holding_two_receipts();
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(CONNACK_SESSION_PRESENT);
    s.broker_sends(&qos2_in(1, true));
    s.broker_sends(&qos2_in(3, false));
    s.broker_sends(&[0x62, 0x02, 0x00, 0x01]); // PUBREL 1
    s.broker_sends(&qos2_in(4, false));
    s.expect_written(
        &[
            pubrec(1),
            pubrec(3),
            vec![0x70, 0x02, 0x00, 0x01],
            pubrec(4),
        ]
        .concat(),
    );
    assert_eq!(s.client.state(), ConnectionState::Connected);
    assert_eq!(s.client.snapshot().incoming_qos2, [2, 3, 4]);
}

// ---------------------------------------------------------------- connection details

/// MQTT-3.1.2-29: with Request Problem Information 0, a Reason String on
/// any acknowledgment or AUTH is a protocol error (0x82).
#[test]
fn problem_information_on_every_acknowledgment_and_auth_is_refused_when_not_asked() {
    let reason = [0x1F, 0x00, 0x01, b'r']; // Reason String "r"
    let packets: [(PacketType, Vec<u8>); 6] = [
        (
            PacketType::PubRec,
            [&[0x50, 0x08, 0x00, 0x01, 0x00, 0x04][..], &reason].concat(),
        ),
        (
            PacketType::PubRel,
            [&[0x62, 0x08, 0x00, 0x01, 0x00, 0x04][..], &reason].concat(),
        ),
        (
            PacketType::PubComp,
            [&[0x70, 0x08, 0x00, 0x01, 0x00, 0x04][..], &reason].concat(),
        ),
        (
            PacketType::SubAck,
            [&[0x90, 0x08, 0x00, 0x01, 0x04][..], &reason, &[0x00]].concat(),
        ),
        (
            PacketType::UnsubAck,
            [&[0xB0, 0x08, 0x00, 0x01, 0x04][..], &reason, &[0x00]].concat(),
        ),
        (
            PacketType::Auth,
            [&[0xF0, 0x06, 0x18, 0x04][..], &reason].concat(),
        ),
    ];
    for (packet_type, bytes) in packets {
        let mut o = Options::new("c");
        o.request_problem_information = Some(false);
        let mut s = Scenario::connected_v5(o);
        s.broker_sends(&bytes);
        s.expect_written(&[0xE0, 0x01, 0x82]);
        s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
            reason_code: ReasonCode::ProtocolError,
            violation: ProtocolViolation::ProblemInformationNotRequested(packet_type),
        })]);
    }
}

/// The first connect is not a reconnect; every later one is.
#[test]
fn reconnects_count_every_connect_after_the_first() {
    let mut s = Scenario::new(Options::new("c"));
    for expected in [0, 1, 2] {
        s.client.connect(s.now).expect("connect");
        assert_eq!(s.client.stats().reconnects, expected);
        s.client.handle_transport_closed(s.now);
    }
}

/// CONNECT for `Options::new("c")` on 3.1.1: Clean Session 1, Keep Alive 60.
const CONNECT_V311: &[u8] = &[
    0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, b'c',
];

/// A link lost before CONNACK turns neither a 3.1.1 client nor one that
/// fell back for good (the broker answered 0x84) into a 5.0 one.
#[test]
fn a_lost_link_while_connecting_keeps_a_settled_protocol_version() {
    let mut o = Options::new("c");
    o.protocol_version = ProtocolVersion::V311;
    let mut s = Scenario::new(o);
    for _ in 0..2 {
        s.client.connect(s.now).expect("connect");
        s.expect_written(CONNECT_V311);
        s.client.handle_transport_closed(s.now);
    }

    let mut s = Scenario::new(Options::new("c"));
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_CLEAN);
    s.broker_sends(&[0x20, 0x03, 0x00, 0x84, 0x00]); // Unsupported Protocol Version
    assert_eq!(s.client.protocol_version(), ProtocolVersion::V311);
    for _ in 0..2 {
        s.client.connect(s.now).expect("connect");
        s.expect_written(CONNECT_V311);
        s.client.handle_timeout(s.now + Duration::from_secs(30));
        s.client.handle_transport_closed(s.now);
    }
    s.expect_events(&[
        Event::Disconnected(DisconnectReason::ProtocolFallback),
        Event::Disconnected(DisconnectReason::ConnectTimeout),
        Event::Disconnected(DisconnectReason::ConnectTimeout),
    ]);
}

/// No reconnect delay while a connection is being made or is up, even after
/// an earlier one was lost.
#[test]
fn no_reconnect_delay_while_connecting_or_connected() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.client.handle_transport_closed(s.now);
    assert!(s.client.reconnect_delay(0).is_some());
    s.client.connect(s.now).expect("connect");
    assert_eq!(s.client.reconnect_delay(0), None);
    s.broker_sends(CONNACK);
    assert_eq!(s.client.reconnect_delay(0), None);
}

/// A client acknowledging by hand with Receive Maximum
/// `receive_maximum`.
fn manual(receive_maximum: u16) -> Scenario {
    let mut o = Options::new("c");
    o.manual_acks = true;
    o.receive_maximum = receive_maximum;
    Scenario::connected_v5(o)
}

fn token(qos: QoS, packet_id: u16) -> crate::client::AckToken {
    crate::client::AckToken { qos, packet_id }
}

/// A QoS 1 message acknowledged by the application but waiting behind an
/// earlier one still holds its place under Receive Maximum.
#[test]
fn an_acknowledged_puback_waiting_its_turn_counts_toward_receive_maximum() {
    let mut s = manual(2);
    s.broker_sends(&publish_bytes(0x32, "a", Some(1), &[], b"1"));
    s.broker_sends(&publish_bytes(0x32, "a", Some(2), &[], b"2"));
    s.client
        .acknowledge(s.now, token(QoS::AtLeastOnce, 2))
        .expect("acknowledge");
    s.expect_written(&[]);
    s.events();
    s.broker_sends(&qos2_in(3, false));
    s.expect_written(&[0xE0, 0x01, 0x93]);
    s.expect_events(&[receive_maximum_exceeded()]);
}

/// A QoS 2 message acknowledged by the application but waiting behind an
/// earlier one counts once, not as a receipt and an unsent PUBREC both.
#[test]
fn an_acknowledged_pubrec_waiting_its_turn_counts_once() {
    let mut s = manual(3);
    s.broker_sends(&publish_bytes(0x32, "a", Some(1), &[], b"1"));
    s.broker_sends(&qos2_in(2, false));
    s.client
        .acknowledge(s.now, token(QoS::ExactlyOnce, 2))
        .expect("acknowledge");
    s.events();
    s.broker_sends(&qos2_in(3, false));
    s.expect_written(&[]);
    s.expect_events(&[Event::Message(received("a", QoS::ExactlyOnce, 3, b"n"))]);
    assert_eq!(s.client.state(), ConnectionState::Connected);
}

/// A CONNECT from the broker with an unknown protocol level fails to decode
/// with a CONNACK-only code (Unsupported Protocol Version, 0x84): the
/// DISCONNECT says Protocol Error (0x82) instead, as 0x84 is not a
/// DISCONNECT code.
#[test]
fn a_decode_error_without_a_disconnect_code_disconnects_with_protocol_error() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&[
        0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x09, // protocol level 9
        0x02, 0x00, 0x3C, 0x00, 0x01, b'c',
    ]);
    s.expect_written(&[0xE0, 0x01, 0x82]);
    s.expect_events(&[Event::Disconnected(DisconnectReason::ProtocolError {
        reason_code: ReasonCode::ProtocolError,
        violation: ProtocolViolation::Decode(DecodeError::UnsupportedProtocolLevel(9)),
    })]);
}

// ---------------------------------------------------------------- resend order across wrapped packet identifiers

impl Scenario {
    /// Moves the client's packet identifier allocation on until the next one
    /// it hands out is `next`, leaving every identifier as it was.
    fn next_packet_id(&mut self, next: u16) {
        let before = if next == 1 { u16::MAX } else { next - 1 };
        for _ in 0..=u16::MAX {
            let id = self
                .client
                .packet_ids
                .allocate()
                .expect("a free identifier");
            self.client.packet_ids.release(id);
            if id == before {
                return;
            }
        }
        panic!("identifier {before} never came");
    }
}

/// MQTT-4.6.0-1: a resumed session resends in the order the messages were
/// sent, also when packet identifiers wrapped in between (65535, then 1).
#[test]
fn resume_resends_in_send_order_across_wrapped_packet_identifiers() {
    let mut s = Scenario::new(durable(false));
    connect(&mut s, CONNACK);
    s.next_packet_id(u16::MAX);
    for payload in [b"1", b"2"] {
        s.client
            .publish(s.now, msg("a", QoS::AtLeastOnce, payload))
            .expect("publish");
    }
    let sent: Vec<u8> = [
        publish_bytes(0x32, "a", Some(u16::MAX), &[], b"1"),
        publish_bytes(0x32, "a", Some(1), &[], b"2"),
    ]
    .concat();
    s.expect_written(&sent);
    s.client.handle_transport_closed(s.now);
    s.client.connect(s.now).expect("connect");
    s.expect_written(CONNECT_RESUME);
    s.broker_sends(CONNACK_SESSION_PRESENT);
    let resent: Vec<u8> = [
        publish_bytes(0x3A, "a", Some(u16::MAX), &[], b"1"),
        publish_bytes(0x3A, "a", Some(1), &[], b"2"),
    ]
    .concat();
    s.expect_written(&resent);
}

/// A pending SUBSCRIBE is resent between the publishes sent before and after
/// it was made, on a resumed session.
#[test]
fn resume_resends_a_request_between_the_publishes_around_it() {
    let mut s = Scenario::new(durable(false));
    connect(&mut s, CONNACK);
    let publish = |s: &mut Scenario, payload: &[u8]| {
        s.client
            .publish(s.now, msg("a", QoS::AtLeastOnce, payload))
            .expect("publish");
    };
    publish(&mut s, b"1");
    publish(&mut s, b"2");
    s.client
        .subscribe(s.now, subscribe_packet(&["s"]))
        .expect("subscribe");
    publish(&mut s, b"3");
    s.written();
    s.client.handle_transport_closed(s.now);
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(CONNACK_SESSION_PRESENT);
    let resent: Vec<u8> = [
        publish_bytes(0x3A, "a", Some(1), &[], b"1"),
        publish_bytes(0x3A, "a", Some(2), &[], b"2"),
        vec![0x82, 0x07, 0x00, 0x03, 0x00, 0x00, 0x01, b's', 0x00], // SUBSCRIBE 3 "s"
        publish_bytes(0x3A, "a", Some(4), &[], b"3"),
    ]
    .concat();
    s.expect_written(&resent);
}

/// The client's own resubscription after a lost session goes out before a
/// request the user made while offline, even when the resubscription
/// reuses the packet identifier of an earlier, acknowledged request.
#[test]
fn resubscription_goes_before_a_user_request_even_on_a_reused_identifier() {
    let mut s = Scenario::new(durable(false));
    connect(&mut s, CONNACK);
    s.client
        .publish(s.now, msg("x", QoS::AtLeastOnce, b""))
        .expect("publish");
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01]); // PUBACK 1
    s.client
        .subscribe(s.now, subscribe_packet(&["a"]))
        .expect("subscribe");
    s.broker_sends(&[0x90, 0x04, 0x00, 0x02, 0x00, 0x00]); // SUBACK 2
    s.written();
    s.events();
    s.client.handle_transport_closed(s.now);
    s.next_packet_id(1);
    s.client
        .unsubscribe(s.now, unsubscribe_packet(&["b"]))
        .expect("unsubscribe");
    s.client.connect(s.now).expect("connect");
    s.written();
    s.broker_sends(CONNACK);
    s.expect_written(&[
        0x82, 0x07, 0x00, 0x02, 0x00, 0x00, 0x01, b'a', 0x00, // SUBSCRIBE 2 "a"
        0xA2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, b'b', // UNSUBSCRIBE 1 "b"
    ]);
}
