//! Compliance statements that had no test of their own, or one on the other
//! protocol version's bytes only: a Response Topic that is not UTF-8 from the
//! broker, share names with wildcards, a QoS 2 PUBLISH resent before its
//! PUBREC, resend order when it differs from packet identifier order, a byte
//! order mark kept in strings, and 3.1.1 bytes for rows shown on 5.0 bytes.
//!
//! Statement ids are MQTT 5.0 unless marked 3.1.1.

use alloc::vec;

use super::connection::{protocol_error, refused};
use super::flows::{
    drop_transport, durable, msg, options, published, received, reconnect, subscribe_packet,
    unsubscribe_packet, CONNACK_SESSION_PRESENT, CONNECT_RESUME,
};
use super::harness::Scenario;
use crate::client::{CommandError, Event, Options, ProtocolViolation};
use crate::codec::{DecodeError, Packet, PacketType, ProtocolVersion, QoS, ReasonCode};
use crate::topic::TopicError;

/// Options for a 3.1.1 client that keeps its session (Clean Session 0).
fn durable_v311() -> Options {
    let mut o = Options::new("c");
    o.protocol_version = ProtocolVersion::V311;
    o.clean_start = false;
    o
}

/// CONNECT 3.1.1 for [`durable_v311`]: Clean Session 0, keep alive 60, "c".
const CONNECT_V311_RESUME: &[u8] = &[
    0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // MQTT, level 4
    0x00, 0x00, 0x3C, // flags: Clean Session 0; keep alive 60
    0x00, 0x01, b'c', // client identifier "c"
];

/// CONNACK 3.1.1: Session Present 1, accepted.
const CONNACK_V311_SESSION_PRESENT: &[u8] = &[0x20, 0x02, 0x01, 0x00];

// ---------------------------------------------------------------- UTF-8 fields

/// MQTT-3.3.2-13, MQTT-1.5.4-1, MQTT-1.5.4-2: a PUBLISH whose Response Topic
/// is ill-formed UTF-8, a surrogate or holds U+0000 is a Malformed Packet:
/// DISCONNECT 0x81, and the event names the field. The same PUBLISH with a
/// valid Response Topic is delivered.
#[test]
fn response_topic_that_is_not_utf8_from_the_broker_is_a_malformed_packet() {
    let publish_with_response_topic = |topic: &[u8; 2]| {
        [
            0x30, 0x09, // PUBLISH QoS 0, remaining length 9
            0x00, 0x01, b'a', // topic "a"
            0x05, 0x08, 0x00, 0x02, topic[0], topic[1], // Response Topic
        ]
    };
    let cases: [(&[u8; 2], DecodeError); 3] = [
        (b"\xC3\x28", DecodeError::InvalidUtf8("Response Topic")),
        (b"\xED\xA0", DecodeError::InvalidUtf8("Response Topic")),
        (b"r\x00", DecodeError::NullCharacter("Response Topic")),
    ];
    for (topic, err) in cases {
        let mut s = Scenario::connected_v5(Options::new("c"));
        s.broker_sends(&publish_with_response_topic(topic));
        s.expect_written(&[0xE0, 0x01, 0x81]);
        s.expect_events(&[protocol_error(
            ReasonCode::MalformedPacket,
            ProtocolViolation::Decode(err),
        )]);
    }
    let mut s = Scenario::connected_v5(Options::new("c"));
    s.broker_sends(&publish_with_response_topic(b"rt"));
    s.expect_written(&[]);
    let events = s.events();
    assert!(
        matches!(&events[..], [Event::Message(m)]
            if m.properties.response_topic.as_deref() == Some("rt")),
        "{events:?}"
    );
}

// ---------------------------------------------------------------- shared subscriptions

/// MQTT-4.8.2-2: a ShareName holding `+` or `#` is refused by subscribe and
/// unsubscribe before anything is written, and by the decoder; a ShareName
/// without them is sent.
#[test]
fn share_name_with_a_wildcard_is_refused() {
    let mut s = Scenario::connected_v5(Options::new("c"));
    for filter in ["$share/a+/x", "$share/+/x", "$share/a#/x", "$share/#/x"] {
        let refused = Err(CommandError::InvalidTopic(
            TopicError::InvalidSharedSubscription,
        ));
        let subscribe = subscribe_packet(&[(filter, options(QoS::AtMostOnce))]);
        assert_eq!(s.client.subscribe(s.now, subscribe), refused, "{filter}");
        let unsubscribe = unsubscribe_packet(&[filter]);
        assert_eq!(
            s.client.unsubscribe(s.now, unsubscribe),
            refused,
            "{filter}"
        );
        s.expect_written(&[]);

        let mut bytes = vec![0x82, 0x00, 0x00, 0x01, 0x00, 0x00, filter.len() as u8];
        bytes.extend_from_slice(filter.as_bytes());
        bytes.push(0x00);
        bytes[1] = (bytes.len() - 2) as u8;
        assert_eq!(
            Packet::decode(&bytes::Bytes::from(bytes), ProtocolVersion::V5),
            Err(DecodeError::InvalidTopicFilter(
                TopicError::InvalidSharedSubscription
            )),
            "{filter}"
        );
    }
    let subscribe = subscribe_packet(&[("$share/ab/x", options(QoS::AtMostOnce))]);
    s.client
        .subscribe(s.now, subscribe)
        .expect("a valid share name");
    assert_eq!(s.written()[5..][..13], *b"\x00\x0B$share/ab/x");
}

// ---------------------------------------------------------------- QoS 2 resend before PUBREC

/// MQTT-4.3.3-3 (3.1.1: MQTT-4.3.3-1), MQTT-3.3.1-1, MQTT-4.4.0-1: a QoS 2
/// PUBLISH the broker never answered with PUBREC stays unacknowledged across
/// a lost connection and is sent again, DUP 1 and the same identifier, on
/// the resumed session (twice lost, twice resent); the flow then completes.
#[test]
fn qos2_publish_without_pubrec_is_resent_with_dup_after_reconnect() {
    let mut s = Scenario::connected_v5(durable());
    let id = s
        .client
        .publish(s.now, msg("b", QoS::ExactlyOnce, b"2"))
        .unwrap();
    s.expect_written(&[0x34, 0x07, 0x00, 0x01, b'b', 0x00, 0x01, 0x00, b'2']);
    for _ in 0..2 {
        drop_transport(&mut s);
        assert_eq!(reconnect(&mut s, CONNACK_SESSION_PRESENT), CONNECT_RESUME);
        s.expect_events(&[Event::Connected {
            session_present: true,
        }]);
        // PUBLISH QoS 2 DUP 1, identifier 1
        s.expect_written(&[0x3C, 0x07, 0x00, 0x01, b'b', 0x00, 0x01, 0x00, b'2']);
    }
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]); // PUBREC 1
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]); // PUBREL 1
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]); // PUBCOMP 1
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

/// 3.1.1 MQTT-4.3.3-1, MQTT-3.3.1-1, MQTT-4.4.0-1, MQTT-2.3.1-3 on 3.1.1
/// bytes: the same with Clean Session 0.
#[test]
fn qos2_publish_without_pubrec_is_resent_with_dup_after_reconnect_v311_bytes() {
    let mut s = Scenario::connected_v311(durable_v311());
    let id = s
        .client
        .publish(s.now, msg("b", QoS::ExactlyOnce, b"2"))
        .unwrap();
    s.expect_written(&[0x34, 0x06, 0x00, 0x01, b'b', 0x00, 0x01, b'2']);
    drop_transport(&mut s);
    assert_eq!(
        reconnect(&mut s, CONNACK_V311_SESSION_PRESENT),
        CONNECT_V311_RESUME
    );
    s.expect_events(&[Event::Connected {
        session_present: true,
    }]);
    s.expect_written(&[0x3C, 0x06, 0x00, 0x01, b'b', 0x00, 0x01, b'2']); // DUP 1, id 1
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]);
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

// ---------------------------------------------------------------- resend order

/// Publishes and acknowledges a QoS 1 message for each identifier in `ids`,
/// which must be the identifiers the client hands out next.
fn use_up_packet_ids(s: &mut Scenario, ids: core::ops::RangeInclusive<u16>) {
    for id in ids {
        s.client
            .publish(s.now, msg("z", QoS::AtLeastOnce, b""))
            .unwrap();
        let written = s.written();
        assert_eq!(written[5..7], id.to_be_bytes(), "{written:02X?}");
        let [hi, lo] = id.to_be_bytes();
        s.broker_sends(&[0x40, 0x02, hi, lo]);
        s.events();
    }
}

/// MQTT-4.6.0-1, MQTT-4.4.0-1: after the packet identifiers wrap, the
/// messages in flight were sent as 65534, 65535, 1 (1 reused); on the resumed
/// session they go again in that order (send order), not in identifier order.
#[test]
fn resend_order_is_send_order_after_packet_ids_wrap() {
    let mut s = Scenario::connected_v5(durable());
    use_up_packet_ids(&mut s, 1..=65533);
    let x = s.client.publish(s.now, msg("x", QoS::AtLeastOnce, b"1"));
    let y = s.client.publish(s.now, msg("y", QoS::ExactlyOnce, b"2"));
    let z = s.client.publish(s.now, msg("z", QoS::AtLeastOnce, b"3"));
    let (x, y, z) = (x.unwrap(), y.unwrap(), z.unwrap());
    s.expect_written(&[
        0x32, 0x07, 0x00, 0x01, b'x', 0xFF, 0xFE, 0x00, b'1', // QoS 1, id 65534
        0x34, 0x07, 0x00, 0x01, b'y', 0xFF, 0xFF, 0x00, b'2', // QoS 2, id 65535
        0x32, 0x07, 0x00, 0x01, b'z', 0x00, 0x01, 0x00, b'3', // QoS 1, id 1
    ]);
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK_SESSION_PRESENT);
    s.events();
    s.expect_written(&[
        0x3A, 0x07, 0x00, 0x01, b'x', 0xFF, 0xFE, 0x00, b'1', // DUP, id 65534
        0x3C, 0x07, 0x00, 0x01, b'y', 0xFF, 0xFF, 0x00, b'2', // DUP, id 65535
        0x3A, 0x07, 0x00, 0x01, b'z', 0x00, 0x01, 0x00, b'3', // DUP, id 1
    ]);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0xFF, 0xFE]); // PUBACK 1, 65534
    s.broker_sends(&[0x50, 0x02, 0xFF, 0xFF]); // PUBREC 65535
    s.expect_written(&[0x62, 0x02, 0xFF, 0xFF]); // PUBREL 65535
    s.broker_sends(&[0x70, 0x02, 0xFF, 0xFF]); // PUBCOMP 65535
    s.expect_events(&[
        published(z, ReasonCode::Success),
        published(x, ReasonCode::Success),
        published(y, ReasonCode::Success),
    ]);
}

/// 3.1.1 MQTT-4.6.0-1, MQTT-4.4.0-1, MQTT-2.3.1-3, MQTT-3.3.1-1 on 3.1.1
/// bytes: the same resend order, DUP 1 and the original identifiers.
#[test]
fn resend_order_is_send_order_after_packet_ids_wrap_v311_bytes() {
    let mut s = Scenario::connected_v311(durable_v311());
    use_up_packet_ids(&mut s, 1..=65533);
    for (topic, qos) in [
        ("x", QoS::AtLeastOnce),
        ("y", QoS::ExactlyOnce),
        ("z", QoS::AtLeastOnce),
    ] {
        s.client.publish(s.now, msg(topic, qos, b"")).unwrap();
    }
    s.expect_written(&[
        0x32, 0x05, 0x00, 0x01, b'x', 0xFF, 0xFE, // QoS 1, id 65534
        0x34, 0x05, 0x00, 0x01, b'y', 0xFF, 0xFF, // QoS 2, id 65535
        0x32, 0x05, 0x00, 0x01, b'z', 0x00, 0x01, // QoS 1, id 1
    ]);
    drop_transport(&mut s);
    assert_eq!(
        reconnect(&mut s, CONNACK_V311_SESSION_PRESENT),
        CONNECT_V311_RESUME
    );
    s.events();
    s.expect_written(&[
        0x3A, 0x05, 0x00, 0x01, b'x', 0xFF, 0xFE, // DUP, id 65534
        0x3C, 0x05, 0x00, 0x01, b'y', 0xFF, 0xFF, // DUP, id 65535
        0x3A, 0x05, 0x00, 0x01, b'z', 0x00, 0x01, // DUP, id 1
    ]);
}

// ---------------------------------------------------------------- 3.1.1 bytes

/// 3.1.1 MQTT-2.2.2-2: every packet a broker sends, with any flags but the
/// required ones, closes the connection (no DISCONNECT on 3.1.1) and names
/// the packet type and flags.
#[test]
fn wrong_fixed_header_flags_close_the_connection_v311_bytes() {
    let from_broker: [(PacketType, &[u8]); 7] = [
        (PacketType::PubAck, &[0x02, 0x00, 0x01]),
        (PacketType::PubRec, &[0x02, 0x00, 0x01]),
        (PacketType::PubComp, &[0x02, 0x00, 0x01]),
        (PacketType::SubAck, &[0x03, 0x00, 0x01, 0x00]),
        (PacketType::UnsubAck, &[0x02, 0x00, 0x01]),
        (PacketType::PingResp, &[0x00]),
        (PacketType::PubRel, &[0x02, 0x00, 0x01]),
    ];
    for (packet_type, rest) in from_broker {
        let required = if packet_type == PacketType::PubRel {
            0b0010
        } else {
            0
        };
        for flags in (0u8..16).filter(|&f| f != required) {
            let mut s = Scenario::connected_v311(Options::new("c"));
            let mut bytes = vec![(packet_type as u8) << 4 | flags];
            bytes.extend_from_slice(rest);
            s.broker_sends(&bytes);
            s.expect_written(&[]);
            s.expect_events(&[protocol_error(
                ReasonCode::MalformedPacket,
                ProtocolViolation::Decode(DecodeError::InvalidFixedHeaderFlags {
                    packet_type,
                    flags,
                }),
            )]);
        }
    }
}

/// 3.1.1 MQTT-3.2.0-1: a PUBLISH before CONNACK ends the connection; on
/// 3.1.1 without a DISCONNECT.
#[test]
fn publish_before_connack_closes_the_connection_v311_bytes() {
    let mut o = Options::new("c");
    o.protocol_version = ProtocolVersion::V311;
    let mut s = Scenario::new(o);
    s.client.connect(s.now).unwrap();
    s.written();
    s.broker_sends(&[0x30, 0x04, 0x00, 0x01, b't', b'x']);
    s.expect_written(&[]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::UnexpectedPacket(PacketType::Publish),
    )]);
}

/// 3.1.1 MQTT-3.2.2-1: Session Present 1 in answer to Clean Session 1 ends
/// the connection without a DISCONNECT.
#[test]
fn session_present_after_clean_session_closes_the_connection_v311_bytes() {
    let mut o = Options::new("c");
    o.protocol_version = ProtocolVersion::V311;
    let mut s = Scenario::new(o);
    s.client.connect(s.now).unwrap();
    assert_eq!(s.written()[9], 0x02, "Clean Session 1");
    s.broker_sends(CONNACK_V311_SESSION_PRESENT);
    s.expect_written(&[]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::SessionPresentOnCleanStart,
    )]);
}

/// 3.1.1 MQTT-3.8.4-5: a SUBACK with more return codes than filters ends the
/// connection without a DISCONNECT, and makes no subscription.
#[test]
fn suback_with_wrong_code_count_closes_the_connection_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let subscribe = subscribe_packet(&[("a", options(QoS::AtMostOnce))]);
    s.client.subscribe(s.now, subscribe).unwrap();
    s.written();
    s.broker_sends(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x00]); // two codes for one filter
    s.expect_written(&[]);
    s.expect_events(&[protocol_error(
        ReasonCode::ProtocolError,
        ProtocolViolation::ReasonCodeCount {
            packet_type: PacketType::SubAck,
            expected: 1,
            got: 2,
        },
    )]);
    assert!(s.client.subscriptions().is_empty());
}

/// MQTT-3.14.4-1 (3.1.1: MQTT-3.14.4-2), on both versions' bytes: after
/// DISCONNECT nothing more is written on that connection: publishes,
/// subscribes and the keep-alive timer write nothing.
#[test]
fn nothing_is_written_after_disconnect() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut s = if version == ProtocolVersion::V5 {
            Scenario::connected_v5(Options::new("c"))
        } else {
            Scenario::connected_v311(Options::new("c"))
        };
        s.client
            .disconnect(s.now, crate::codec::Disconnect::default())
            .unwrap();
        s.expect_written(&[0xE0, 0x00]);
        s.events();
        let _ = s.client.publish(s.now, msg("t", QoS::AtLeastOnce, b"x"));
        let _ = s.client.publish(s.now, msg("t", QoS::AtMostOnce, b"x"));
        let subscribe = subscribe_packet(&[("a", options(QoS::AtMostOnce))]);
        let _ = s.client.subscribe(s.now, subscribe);
        s.advance(core::time::Duration::from_secs(600));
        s.expect_written(&[]);
    }
}

/// 3.1.1 MQTT-4.6.0-4 on 3.1.1 bytes: PUBRECs that arrive in another order
/// than their PUBLISHes were sent get their PUBRELs in arrival order.
#[test]
fn pubrels_follow_the_order_of_pubrecs_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    for topic in ["x", "y", "z"] {
        s.client
            .publish(s.now, msg(topic, QoS::ExactlyOnce, b""))
            .unwrap();
    }
    s.written();
    s.broker_sends(&[
        0x50, 0x02, 0x00, 0x03, // PUBREC 3
        0x50, 0x02, 0x00, 0x01, // PUBREC 1
        0x50, 0x02, 0x00, 0x02, // PUBREC 2
    ]);
    s.expect_written(&[
        0x62, 0x02, 0x00, 0x03, // PUBREL 3
        0x62, 0x02, 0x00, 0x01, // PUBREL 1
        0x62, 0x02, 0x00, 0x02, // PUBREL 2
    ]);
}

/// MQTT-1.5.4-3 (3.1.1: MQTT-1.5.3-3): EF BB BF (U+FEFF) in a topic and in a
/// User Property is kept where it is, at the start and inside, on both
/// versions.
#[test]
fn byte_order_mark_is_kept_in_strings() {
    let topic: &[u8] = b"\xEF\xBB\xBFa/\xEF\xBB\xBF";
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut s = if version == ProtocolVersion::V5 {
            Scenario::connected_v5(Options::new("c"))
        } else {
            Scenario::connected_v311(Options::new("c"))
        };
        let mut bytes = vec![0x30, 0x00, 0x00, topic.len() as u8];
        bytes.extend_from_slice(topic);
        if version == ProtocolVersion::V5 {
            // User Property ("\u{FEFF}k", "v")
            bytes.extend_from_slice(&[0x0A, 0x26, 0x00, 0x04, 0xEF, 0xBB, 0xBF, b'k']);
            bytes.extend_from_slice(&[0x00, 0x01, b'v']);
        }
        bytes[1] = (bytes.len() - 2) as u8;
        s.broker_sends(&bytes);
        let events = s.events();
        let [Event::Message(m)] = &events[..] else {
            panic!("{version:?}: {events:?}");
        };
        assert_eq!(m.topic.as_bytes().as_ref(), topic, "{version:?}");
        assert_eq!(m.topic.as_str(), "\u{FEFF}a/\u{FEFF}");
        if version == ProtocolVersion::V5 {
            let (name, _) = &m.properties.user_properties[0];
            assert_eq!(name.as_str(), "\u{FEFF}k");
        }
    }
}

/// MQTT-4.3.3-7: a QoS 2 PUBLISH once sent is not expired: a minute past its
/// Message Expiry Interval without PUBREC, and across a resumed session, it
/// stays in flight, is sent again, and completes.
#[test]
fn sent_qos2_publish_is_not_expired() {
    let mut s = Scenario::connected_v5(durable());
    let mut p = msg("a", QoS::ExactlyOnce, b"x");
    p.properties.message_expiry_interval = Some(10);
    let id = s.client.publish(s.now, p).unwrap();
    let sent = [
        0x34, 0x0C, 0x00, 0x01, b'a', 0x00, 0x01, // QoS 2, id 1
        0x05, 0x02, 0x00, 0x00, 0x00, 0x0A, b'x', // Message Expiry Interval 10
    ];
    s.expect_written(&sent);
    s.advance(core::time::Duration::from_secs(60));
    s.broker_sends(&[0xD0, 0x00]); // PINGRESP to the keep-alive ping
    s.written();
    s.expect_events(&[]);
    assert_eq!(s.client.in_flight(), 1);
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK_SESSION_PRESENT);
    s.events();
    let resent = s.written();
    assert_eq!(resent[0], 0x3C, "PUBLISH QoS 2 DUP 1: {resent:02X?}");
    assert_eq!(resent[5..7], [0x00, 0x01], "identifier 1: {resent:02X?}");
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]); // PUBREC 1
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]); // PUBREL 1
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]); // PUBCOMP 1
    s.expect_events(&[published(id, ReasonCode::Success)]);
    assert_eq!(s.client.stats().dropped_expired, 0);
}

/// 3.1.1 MQTT-1.5.3-1, MQTT-1.5.3-2 on 3.1.1 bytes: a topic that is
/// ill-formed UTF-8, a surrogate or holds U+0000 closes the connection (no
/// DISCONNECT on 3.1.1) and nothing is delivered.
#[test]
fn topic_that_is_not_utf8_closes_the_connection_v311_bytes() {
    let cases: [(&[u8; 3], DecodeError); 3] = [
        (b"a\xC3\x28", DecodeError::InvalidUtf8("topic name")),
        (b"\xED\xA0\x80", DecodeError::InvalidUtf8("topic name")),
        (b"a\x00b", DecodeError::NullCharacter("topic name")),
    ];
    for (topic, err) in cases {
        let mut s = Scenario::connected_v311(Options::new("c"));
        let mut publish = vec![0x30, 0x06, 0x00, 0x03];
        publish.extend_from_slice(topic);
        publish.push(b'x');
        s.broker_sends(&publish);
        s.expect_written(&[]);
        s.expect_events(&[protocol_error(
            ReasonCode::MalformedPacket,
            ProtocolViolation::Decode(err),
        )]);
    }
}

/// 3.1.1 MQTT-3.1.0-2 on 3.1.1: one CONNECT per network connection.
#[test]
fn connect_on_an_open_connection_is_refused_v311() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    assert_eq!(s.client.connect(s.now), Err(CommandError::AlreadyConnected));
    s.expect_written(&[]);
}

/// MQTT-3.3.1-3 (3.1.1: MQTT-3.3.1-3), on both versions' bytes: a DUP flag
/// the user set on a new message is not written; DUP is 1 only on the resend.
#[test]
fn user_dup_flag_is_cleared_on_a_new_message() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let (mut s, first, resent): (_, &[u8], &[u8]) = if version == ProtocolVersion::V5 {
            (
                Scenario::connected_v5(durable()),
                &[0x32, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'x'],
                &[0x3A, 0x07, 0x00, 0x01, b'a', 0x00, 0x01, 0x00, b'x'],
            )
        } else {
            (
                Scenario::connected_v311(durable_v311()),
                &[0x32, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, b'x'],
                &[0x3A, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, b'x'],
            )
        };
        let mut p = msg("a", QoS::AtLeastOnce, b"x");
        p.dup = true;
        s.client.publish(s.now, p).unwrap();
        s.expect_written(first);
        drop_transport(&mut s);
        let connack: &[u8] = if version == ProtocolVersion::V5 {
            CONNACK_SESSION_PRESENT
        } else {
            CONNACK_V311_SESSION_PRESENT
        };
        reconnect(&mut s, connack);
        s.events();
        s.expect_written(resent);
    }
}

/// MQTT-3.1.3-8 (0x85), MQTT-4.12.0-1 (0x8C), MQTT-3.2.2-7 on 5.0 bytes: a
/// CONNACK refusal that retrying cannot change ends the connection for good:
/// Client Identifier not valid, Banned, Bad authentication method, and
/// Unsupported Protocol Version when fallback is off.
#[test]
fn final_connack_refusals_are_not_retried() {
    for code in [
        ReasonCode::ClientIdentifierNotValid,
        ReasonCode::Banned,
        ReasonCode::BadAuthenticationMethod,
        ReasonCode::UnsupportedProtocolVersion,
    ] {
        let mut o = Options::new("c");
        o.protocol_fallback = false;
        let mut s = Scenario::new(o);
        s.client.connect(s.now).unwrap();
        s.written();
        s.broker_sends(&[0x20, 0x03, 0x00, code.value(), 0x00]);
        s.expect_written(&[]);
        s.expect_events(&[refused(code)]);
        assert_eq!(s.client.reconnect_delay(0), None, "{code:?} is final");
    }
}

/// 3.1.1 MQTT-4.4.0-1, MQTT-4.3.3-1 on 3.1.1 bytes: a QoS 2 message whose
/// PUBREC came is resent as PUBREL, not as PUBLISH, on the resumed session.
#[test]
fn pubrel_is_resent_after_reconnect_v311_bytes() {
    let mut s = Scenario::connected_v311(durable_v311());
    let id = s
        .client
        .publish(s.now, msg("b", QoS::ExactlyOnce, b"2"))
        .unwrap();
    s.expect_written(&[0x34, 0x06, 0x00, 0x01, b'b', 0x00, 0x01, b'2']);
    s.broker_sends(&[0x50, 0x02, 0x00, 0x01]); // PUBREC 1
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]); // PUBREL 1
    drop_transport(&mut s);
    reconnect(&mut s, CONNACK_V311_SESSION_PRESENT);
    s.events();
    s.expect_written(&[0x62, 0x02, 0x00, 0x01]); // PUBREL 1 again, no PUBLISH
    s.broker_sends(&[0x70, 0x02, 0x00, 0x01]); // PUBCOMP 1
    s.expect_events(&[published(id, ReasonCode::Success)]);
}

/// 3.1.1 MQTT-2.3.1-2, MQTT-2.3.1-3 on 3.1.1 bytes: identifiers wrap past
/// one still in use (1, a PUBLISH in flight) to those a SUBACK (2), an
/// UNSUBACK (3) and a PUBCOMP (4) freed.
#[test]
fn packet_ids_skip_one_in_use_and_reuse_those_freed_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    s.client
        .publish(s.now, msg("x", QoS::AtLeastOnce, b""))
        .unwrap();
    s.expect_written(&[0x32, 0x05, 0x00, 0x01, b'x', 0x00, 0x01]); // id 1, in flight
    let subscribe = subscribe_packet(&[("s", options(QoS::AtMostOnce))]);
    s.client.subscribe(s.now, subscribe).unwrap();
    s.expect_written(&[0x82, 0x06, 0x00, 0x02, 0x00, 0x01, b's', 0x00]); // id 2
    s.broker_sends(&[0x90, 0x03, 0x00, 0x02, 0x00]); // SUBACK 2
    s.client
        .unsubscribe(s.now, unsubscribe_packet(&["s"]))
        .unwrap();
    s.expect_written(&[0xA2, 0x05, 0x00, 0x03, 0x00, 0x01, b's']); // id 3
    s.broker_sends(&[0xB0, 0x02, 0x00, 0x03]); // UNSUBACK 3
    s.client
        .publish(s.now, msg("q", QoS::ExactlyOnce, b""))
        .unwrap();
    s.expect_written(&[0x34, 0x05, 0x00, 0x01, b'q', 0x00, 0x04]); // id 4
    s.broker_sends(&[0x50, 0x02, 0x00, 0x04]); // PUBREC 4
    s.expect_written(&[0x62, 0x02, 0x00, 0x04]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x04]); // PUBCOMP 4
    s.events();
    use_up_packet_ids(&mut s, 5..=65535);
    for id in [2u8, 3, 4] {
        s.client
            .publish(s.now, msg("y", QoS::AtLeastOnce, b""))
            .unwrap();
        s.expect_written(&[0x32, 0x05, 0x00, 0x01, b'y', 0x00, id]); // not 1
    }
}

/// 3.1.1 MQTT-4.1.0-2, MQTT-4.4.0-1 on 3.1.1 bytes: unacknowledged
/// publishes stay in flight through ten minutes of one connection, with
/// nothing resent (only keep-alive pings), and complete when acknowledged.
#[test]
fn no_retransmission_on_a_live_connection_v311_bytes() {
    let mut s = Scenario::connected_v311(Options::new("c"));
    let p1 = s.client.publish(s.now, msg("a", QoS::AtLeastOnce, b"1"));
    let p2 = s.client.publish(s.now, msg("b", QoS::ExactlyOnce, b"2"));
    s.written();
    for _ in 0..10 {
        s.advance(core::time::Duration::from_secs(60));
        s.expect_written(&[0xC0, 0x00]); // PINGREQ, and nothing else
        s.broker_sends(&[0xD0, 0x00]); // PINGRESP
    }
    s.expect_events(&[]);
    assert_eq!(s.client.in_flight(), 2);
    s.broker_sends(&[0x40, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02]);
    s.expect_written(&[0x62, 0x02, 0x00, 0x02]);
    s.broker_sends(&[0x70, 0x02, 0x00, 0x02]);
    s.expect_events(&[
        published(p1.unwrap(), ReasonCode::Success),
        published(p2.unwrap(), ReasonCode::Success),
    ]);
}

/// MQTT-4.7.3-3 (3.1.1: MQTT-4.7.3-3), on both versions: a Topic Filter of
/// 65,536 bytes is refused by subscribe and unsubscribe and nothing is
/// written; 65,535 is sent.
#[test]
fn topic_filter_over_65535_bytes_is_refused() {
    let long = "a".repeat(65_536);
    let refused = Err(CommandError::InvalidTopic(TopicError::TooLong(65_536)));
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let (mut s, at) = if version == ProtocolVersion::V5 {
            (Scenario::connected_v5(Options::new("c")), 7)
        } else {
            (Scenario::connected_v311(Options::new("c")), 6)
        };
        let subscribe = subscribe_packet(&[(long.as_str(), options(QoS::AtMostOnce))]);
        assert_eq!(s.client.subscribe(s.now, subscribe), refused);
        let unsubscribe = unsubscribe_packet(&[long.as_str()]);
        assert_eq!(s.client.unsubscribe(s.now, unsubscribe), refused);
        s.expect_written(&[]);
        let subscribe = subscribe_packet(&[(&long[1..], options(QoS::AtMostOnce))]);
        s.client.subscribe(s.now, subscribe).expect("65,535 bytes");
        // SUBSCRIBE, a three-byte remaining length, packet identifier 1,
        // (5.0) no properties, then the filter's length.
        assert_eq!(s.written()[at..at + 2], [0xFF, 0xFF], "{version:?}");
    }
}

/// MQTT-4.3.2-5, MQTT-4.3.3-12 (3.1.1: MQTT-4.3.2-2, MQTT-4.3.3-2), on both
/// versions' bytes: once a QoS 1 message is acknowledged, the same identifier
/// is a new message even with DUP 1; once a QoS 2 flow ends with PUBCOMP, the
/// same identifier is a new message too. Each is delivered and acknowledged.
#[test]
fn acknowledged_identifier_is_a_new_message_whatever_dup_says() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut s = if version == ProtocolVersion::V5 {
            Scenario::connected_v5(Options::new("c"))
        } else {
            Scenario::connected_v311(Options::new("c"))
        };
        // PUBLISH to "a" with identifier 7, payload "x", flags `first`.
        let publish = |first: u8| {
            let mut p = vec![first, 0x00, 0x00, 0x01, b'a', 0x00, 0x07];
            if version == ProtocolVersion::V5 {
                p.push(0x00);
            }
            p.push(b'x');
            p[1] = (p.len() - 2) as u8;
            p
        };
        for (first, ack, qos) in [
            (0x32, 0x40, QoS::AtLeastOnce), // QoS 1
            (0x3A, 0x40, QoS::AtLeastOnce), // QoS 1, DUP 1, after the PUBACK
            (0x34, 0x50, QoS::ExactlyOnce), // QoS 2
        ] {
            s.broker_sends(&publish(first));
            s.expect_written(&[ack, 0x02, 0x00, 0x07]);
            let mut m = received("a", qos, 7, b"x");
            m.dup = first & 0x08 != 0;
            s.expect_events(&[Event::Message(m)]);
        }
        s.broker_sends(&[0x62, 0x02, 0x00, 0x07]); // PUBREL 7
        s.expect_written(&[0x70, 0x02, 0x00, 0x07]); // PUBCOMP 7
        s.broker_sends(&publish(0x34)); // QoS 2 again, identifier 7: new
        s.expect_written(&[0x50, 0x02, 0x00, 0x07]);
        s.expect_events(&[Event::Message(received("a", QoS::ExactlyOnce, 7, b"x"))]);
    }
}
