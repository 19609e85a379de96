//! Byte-exact examples: for every packet type and both protocol versions, the
//! bytes worked out by hand from the field layouts of the MQTT 3.1.1 and 5.0
//! specifications, checked against the encoder, `encoded_len`, the decoder and
//! a second encode of what was decoded. Then the streaming [`Decoder`].

use alloc::vec;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use crate::codec::{
    check_frame, Auth, ConnAck, Connect, DecodeError, Decoder, Disconnect, Frame, MqttString,
    Packet, PayloadFormat, Properties, PropertyId, PropertyValues, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will, MAX_PACKET_SIZE,
};
use ProtocolVersion::{V311, V5};

fn s(v: &'static str) -> MqttString {
    MqttString::from_static(v)
}

fn user(k: &'static str, v: &'static str) -> (MqttString, MqttString) {
    (s(k), s(v))
}

/// Encodes `packet` and checks the bytes, the returned length and
/// `encoded_len`; decodes the bytes back to `packet`; encodes that again.
fn assert_wire(packet: &Packet, version: ProtocolVersion, expected: &[u8]) {
    let mut buf = BytesMut::new();
    let written = packet.encode(version, &mut buf).expect("encode");
    assert_eq!(&buf[..], expected, "encoded bytes");
    assert_eq!(written, expected.len(), "length returned by encode");
    assert_eq!(
        packet.encoded_len(version),
        Ok(expected.len()),
        "encoded_len"
    );
    let decoded = Packet::decode(&Bytes::copy_from_slice(expected), version).expect("decode");
    assert_eq!(&decoded, packet, "decoded packet");
    let mut again = BytesMut::new();
    decoded.encode(version, &mut again).expect("re-encode");
    assert_eq!(&again[..], expected, "re-encoded bytes");
}

/// Decodes `bytes` (a form the encoder never produces) to `packet`, which
/// encodes to the shorter `canonical` form.
fn assert_decodes_to(bytes: &[u8], version: ProtocolVersion, packet: &Packet, canonical: &[u8]) {
    let decoded = Packet::decode(&Bytes::copy_from_slice(bytes), version).expect("decode");
    assert_eq!(&decoded, packet, "decoded packet");
    assert_wire(packet, version, canonical);
}

// ---------------------------------------------------------------- CONNECT

/// MQTT 3.1.1 CONNECT with a retained QoS 1 Will, a user name and a password.
/// The payload fields come in the order Client Identifier, Will Topic, Will
/// Message, User Name, Password (3.1.1 MQTT-3.1.3-1).
#[test]
fn connect_v311_with_will_user_name_and_password() {
    let expected: &[u8] = &[
        0x10, // fixed header: CONNECT, flags 0000
        0x1E, // remaining length 30
        // variable header
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04, // protocol level 4
        0xEE, // flags: user name 0x80, password 0x40, will retain 0x20, will QoS 1 0x08, will 0x04, clean session 0x02
        0x00, 0x3C, // keep alive 60 s
        // payload
        0x00, 0x02, b'c', b'1', // client identifier "c1"
        0x00, 0x03, b'w', b'/', b't', // will topic "w/t"
        0x00, 0x03, b'b', b'y', b'e', // will message "bye"
        0x00, 0x01, b'u', // user name "u"
        0x00, 0x01, b'p', // password "p"
    ];
    assert_eq!(expected.len(), 2 + 30);
    let connect = Connect {
        protocol_version: V311,
        clean_start: true,
        keep_alive: 60,
        client_id: s("c1"),
        will: Some(Will {
            topic: s("w/t"),
            payload: Bytes::from_static(b"bye"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::default(),
        }),
        username: Some(s("u")),
        password: Some(Bytes::from_static(b"p").into()),
        properties: Properties::default(),
    };
    assert_wire(&connect.into(), V311, expected);
}

/// MQTT 3.1.1 CONNECT with a zero-byte client identifier and Clean Session
/// set (3.1.1 MQTT-3.1.3-7).
#[test]
fn connect_v311_empty_client_id_with_clean_session() {
    let expected: &[u8] = &[
        0x10, // CONNECT
        0x0C, // remaining length 12
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x04, // protocol level 4
        0x02, // flags: clean session
        0x00, 0x00, // keep alive 0
        0x00, 0x00, // client identifier ""
    ];
    assert_wire(&Connect::new(V311, "").into(), V311, expected);
}

/// MQTT 5.0 CONNECT with nine CONNECT properties, a Will with seven Will
/// Properties, a user name and a binary password; the remaining length needs
/// two bytes. Payload order: Client Identifier, Will Properties, Will Topic,
/// Will Payload, User Name, Password (MQTT-3.1.3-1).
#[test]
fn connect_v5_with_will_properties_user_name_binary_password_and_properties() {
    let expected: &[u8] = &[
        0x10, // fixed header: CONNECT, flags 0000
        0x81, 0x01, // remaining length 129 (Variable Byte Integer: 1 + 1 * 128)
        // variable header
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x05, // protocol level 5
        0xD4, // flags: user name 0x80, password 0x40, will QoS 2 0x10, will 0x04; clean start 0
        0x00, 0x1E, // keep alive 30 s
        0x28, // property length 40
        0x11, 0x00, 0x00, 0x0E, 0x10, // Session Expiry Interval 3600
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // Authentication Method "SCRAM"
        0x16, 0x00, 0x02, 0x01, 0x02, // Authentication Data 01 02
        0x17, 0x00, // Request Problem Information 0
        0x19, 0x01, // Request Response Information 1
        0x21, 0x00, 0x14, // Receive Maximum 20
        0x22, 0x00, 0x0A, // Topic Alias Maximum 10
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
        0x27, 0x00, 0x01, 0x00, 0x00, // Maximum Packet Size 65536
        // payload
        0x00, 0x03, b'c', b'i', b'd', // client identifier "cid"
        0x2B, // will property length 43
        0x01, 0x01, // Payload Format Indicator 1 (UTF-8)
        0x02, 0x00, 0x00, 0x00, 0x78, // Message Expiry Interval 120
        0x03, 0x00, 0x0A, b't', b'e', b'x', b't', b'/', b'p', b'l', b'a', b'i',
        b'n', // Content Type "text/plain"
        0x08, 0x00, 0x03, b'r', b'/', b't', // Response Topic "r/t"
        0x09, 0x00, 0x02, 0xCA, 0xFE, // Correlation Data CA FE
        0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // User Property ("a", "b")
        0x00, 0x06, b'w', b'i', b'l', b'l', b'/', b't', // will topic "will/t"
        0x00, 0x04, b'g', b'o', b'n', b'e', // will payload "gone"
        0x00, 0x08, b'u', b's', b'e', b'r', b'n', b'a', b'm', b'e', // user name "username"
        0x00, 0x03, 0x00, 0xFF, 0x10, // password: binary 00 FF 10
    ];
    assert_eq!(expected.len(), 3 + 129);
    assert_wire(&connect_v5_full().into(), V5, expected);
}

fn connect_v5_full() -> Connect {
    Connect {
        protocol_version: V5,
        clean_start: false,
        keep_alive: 30,
        client_id: s("cid"),
        will: Some(Will {
            topic: s("will/t"),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: Properties::from(PropertyValues {
                payload_format_indicator: Some(PayloadFormat::Utf8),
                message_expiry_interval: Some(120),
                content_type: Some(s("text/plain")),
                response_topic: Some(s("r/t")),
                correlation_data: Some(Bytes::from_static(&[0xCA, 0xFE])),
                will_delay_interval: Some(5),
                user_properties: vec![user("a", "b")],
                ..PropertyValues::default()
            }),
        }),
        username: Some(s("username")),
        password: Some(Bytes::from_static(&[0x00, 0xFF, 0x10]).into()),
        properties: Properties::from(PropertyValues {
            session_expiry_interval: Some(3600),
            authentication_method: Some(s("SCRAM")),
            authentication_data: Some(Bytes::from_static(&[0x01, 0x02])),
            request_problem_information: Some(false),
            request_response_information: Some(true),
            receive_maximum: Some(20),
            topic_alias_maximum: Some(10),
            user_properties: vec![user("k", "v")],
            maximum_packet_size: Some(65536),
            ..PropertyValues::default()
        }),
    }
}

/// The smallest MQTT 5.0 CONNECT: Clean Start, no keep alive, empty client
/// identifier, property length 0.
#[test]
fn connect_v5_minimal() {
    let expected: &[u8] = &[
        0x10, // CONNECT
        0x0D, // remaining length 13
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x05, // protocol level 5
        0x02, // flags: clean start
        0x00, 0x00, // keep alive 0
        0x00, // property length 0
        0x00, 0x00, // client identifier ""
    ];
    assert_wire(&Connect::new(V5, "").into(), V5, expected);
}

/// MQTT 5.0 allows a Password without a User Name (3.1.2.9), unlike 3.1.1.
#[test]
fn connect_v5_password_without_user_name() {
    let expected: &[u8] = &[
        0x10, // CONNECT
        0x11, // remaining length 17
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x05, // protocol level 5
        0x42, // flags: password 0x40, clean start 0x02
        0x00, 0x00, // keep alive 0
        0x00, // property length 0
        0x00, 0x00, // client identifier ""
        0x00, 0x02, b'p', b'w', // password "pw"
    ];
    let mut connect = Connect::new(V5, "");
    connect.password = Some(Bytes::from_static(b"pw").into());
    assert_wire(&connect.into(), V5, expected);
}

// ---------------------------------------------------------------- CONNACK

/// MQTT 3.1.1 CONNACK: Session Present, return code 0 (Connection Accepted).
#[test]
fn connack_v311_session_present_accepted() {
    let expected: &[u8] = &[
        0x20, // CONNACK
        0x02, // remaining length 2
        0x01, // acknowledge flags: session present
        0x00, // return code 0: accepted
    ];
    let connack = ConnAck {
        session_present: true,
        ..ConnAck::default()
    };
    assert_wire(&connack.into(), V311, expected);
}

/// A 3.1.1 return code is carried as the equivalent 5.0 reason code:
/// 0x05 Not authorized is ReasonCode::NotAuthorized (0x87).
#[test]
fn connack_v311_not_authorized_is_return_code_5() {
    let expected: &[u8] = &[
        0x20, // CONNACK
        0x02, // remaining length 2
        0x00, // acknowledge flags: no session
        0x05, // return code 5: not authorized
    ];
    let connack = ConnAck {
        reason_code: ReasonCode::NotAuthorized,
        ..ConnAck::default()
    };
    assert_wire(&connack.into(), V311, expected);
}

/// MQTT 5.0 CONNACK advertising the server's capabilities with fifteen
/// properties, in identifier order.
#[test]
fn connack_v5_with_capability_properties() {
    let expected: &[u8] = &[
        0x20, // CONNACK
        0x4A, // remaining length 74
        0x00, // acknowledge flags: no session present
        0x00, // reason code 0x00 Success
        0x47, // property length 71
        0x11, 0x00, 0x00, 0x1C, 0x20, // Session Expiry Interval 7200
        0x12, 0x00, 0x06, b'a', b'u', b't', b'o', b'-',
        b'1', // Assigned Client Identifier "auto-1"
        0x13, 0x00, 0x78, // Server Keep Alive 120
        0x1A, 0x00, 0x05, b'r', b'e', b's', b'p', b'/', // Response Information "resp/"
        0x1C, 0x00, 0x0A, b'o', b't', b'h', b'e', b'r', b':', b'1', b'8', b'8',
        b'3', // Server Reference "other:1883"
        0x1F, 0x00, 0x02, b'o', b'k', // Reason String "ok"
        0x21, 0x00, 0x64, // Receive Maximum 100
        0x22, 0x00, 0x05, // Topic Alias Maximum 5
        0x24, 0x01, // Maximum QoS 1
        0x25, 0x00, // Retain Available 0
        0x26, 0x00, 0x01, b'x', 0x00, 0x01, b'y', // User Property ("x", "y")
        0x27, 0x00, 0x10, 0x00, 0x00, // Maximum Packet Size 1048576
        0x28, 0x00, // Wildcard Subscription Available 0
        0x29, 0x01, // Subscription Identifier Available 1
        0x2A, 0x00, // Shared Subscription Available 0
    ];
    assert_eq!(expected.len(), 2 + 74);
    assert_wire(&connack_v5_capabilities().into(), V5, expected);
}

fn connack_v5_capabilities() -> ConnAck {
    ConnAck {
        session_present: false,
        reason_code: ReasonCode::Success,
        properties: Properties::from(PropertyValues {
            session_expiry_interval: Some(7200),
            assigned_client_identifier: Some(s("auto-1")),
            server_keep_alive: Some(120),
            response_information: Some(s("resp/")),
            server_reference: Some(s("other:1883")),
            reason_string: Some(s("ok")),
            receive_maximum: Some(100),
            topic_alias_maximum: Some(5),
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            user_properties: vec![user("x", "y")],
            maximum_packet_size: Some(1_048_576),
            wildcard_subscription_available: Some(false),
            subscription_identifier_available: Some(true),
            shared_subscription_available: Some(false),
            ..PropertyValues::default()
        }),
    }
}

/// MQTT 5.0 CONNACK refusing the connection, without properties.
#[test]
fn connack_v5_refused_without_properties() {
    let expected: &[u8] = &[
        0x20, // CONNACK
        0x03, // remaining length 3
        0x00, // acknowledge flags
        0x86, // reason code 0x86 Bad User Name or Password
        0x00, // property length 0
    ];
    let connack = ConnAck {
        reason_code: ReasonCode::BadUserNameOrPassword,
        ..ConnAck::default()
    };
    assert_wire(&connack.into(), V5, expected);
}

// ---------------------------------------------------------------- PUBLISH

/// MQTT 3.1.1 PUBLISH at QoS 0: no packet identifier (MQTT-2.2.1-2).
#[test]
fn publish_v311_qos0() {
    let expected: &[u8] = &[
        0x30, // PUBLISH, DUP 0, QoS 0, RETAIN 0
        0x07, // remaining length 7
        0x00, 0x03, b'a', b'/', b'b', // topic name "a/b"
        b'h', b'i', // payload "hi"
    ];
    assert_wire(&Publish::new("a/b", &b"hi"[..]).into(), V311, expected);
}

/// MQTT 3.1.1 PUBLISH at QoS 1 with RETAIN.
#[test]
fn publish_v311_qos1_retain() {
    let expected: &[u8] = &[
        0x33, // PUBLISH, DUP 0, QoS 1, RETAIN 1
        0x06, // remaining length 6
        0x00, 0x01, b't', // topic name "t"
        0x00, 0x0A, // packet identifier 10
        b'x', // payload "x"
    ];
    let mut publish = Publish::new("t", &b"x"[..]);
    publish.qos = QoS::AtLeastOnce;
    publish.retain = true;
    publish.packet_id = 10;
    assert_wire(&publish.into(), V311, expected);
}

/// MQTT 3.1.1 PUBLISH at QoS 2 with DUP and an empty payload.
#[test]
fn publish_v311_qos2_dup_empty_payload() {
    let expected: &[u8] = &[
        0x3C, // PUBLISH, DUP 1, QoS 2, RETAIN 0
        0x05, // remaining length 5
        0x00, 0x01, b't', // topic name "t"
        0xAB, 0xCD, // packet identifier 0xABCD
              // empty payload
    ];
    let mut publish = Publish::new("t", Bytes::new());
    publish.qos = QoS::ExactlyOnce;
    publish.dup = true;
    publish.packet_id = 0xABCD;
    assert_wire(&publish.into(), V311, expected);
}

/// MQTT 3.1.1 PUBLISH whose remaining length, 16387, takes three bytes,
/// the middle one 0x80 (1.5.5).
#[test]
fn publish_v311_remaining_length_takes_three_bytes() {
    let mut expected: Vec<u8> = vec![
        0x30, // PUBLISH, QoS 0
        0x83, 0x80, 0x01, // remaining length 16387 = 3 + 0 * 128 + 1 * 16384
        0x00, 0x01, b'a', // topic name "a"
    ];
    expected.extend_from_slice(&[0x5A; 16384]); // payload
    assert_eq!(expected.len(), 4 + 16387);
    let publish = Publish::new("a", vec![0x5A; 16384]);
    assert_wire(&publish.into(), V311, &expected);
}

/// MQTT 5.0 PUBLISH at QoS 0 without properties: the property length is
/// still present.
#[test]
fn publish_v5_qos0_without_properties() {
    let expected: &[u8] = &[
        0x30, // PUBLISH, QoS 0
        0x04, // remaining length 4
        0x00, 0x01, b'a', // topic name "a"
        0x00, // property length 0
              // empty payload
    ];
    assert_wire(&Publish::new("a", Bytes::new()).into(), V5, expected);
}

/// MQTT 5.0 PUBLISH at QoS 1 with DUP and RETAIN carrying every PUBLISH
/// property: three Subscription Identifiers (MQTT-3.3.4-4) and User
/// Properties kept in order with a repeated name (MQTT-3.3.2-18).
#[test]
fn publish_v5_qos1_dup_retain_with_every_publish_property() {
    assert_eq!(PUBLISH_V5_FULL.len(), 2 + 71);
    assert_wire(&publish_v5_full().into(), V5, PUBLISH_V5_FULL);
}

const PUBLISH_V5_FULL: &[u8] = &[
    0x3B, // PUBLISH, DUP 1, QoS 1, RETAIN 1
    0x47, // remaining length 71
    0x00, 0x03, b's', b'/', b'1', // topic name "s/1"
    0x01, 0x02, // packet identifier 258
    0x3D, // property length 61
    0x01, 0x01, // Payload Format Indicator 1 (UTF-8)
    0x02, 0x00, 0x00, 0x00, 0x1E, // Message Expiry Interval 30
    0x03, 0x00, 0x04, b'j', b's', b'o', b'n', // Content Type "json"
    0x08, 0x00, 0x04, b'r', b'e', b'/', b'1', // Response Topic "re/1"
    0x09, 0x00, 0x03, 0x01, 0x02, 0x03, // Correlation Data 01 02 03
    0x0B, 0x01, // Subscription Identifier 1
    0x0B, 0xC8, 0x01, // Subscription Identifier 200 (VBI C8 01)
    0x0B, 0xFF, 0xFF, 0xFF, 0x7F, // Subscription Identifier 268435455 (largest VBI)
    0x23, 0x00, 0x03, // Topic Alias 3
    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', // User Property ("k", "1")
    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'2', // User Property ("k", "2")
    0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'3', // User Property ("a", "3")
    b'{', b'}', // payload "{}"
];

fn publish_v5_full() -> Publish {
    Publish {
        dup: true,
        qos: QoS::AtLeastOnce,
        retain: true,
        topic: s("s/1"),
        packet_id: 258,
        payload: Bytes::from_static(b"{}"),
        properties: Properties::from(PropertyValues {
            payload_format_indicator: Some(PayloadFormat::Utf8),
            message_expiry_interval: Some(30),
            content_type: Some(s("json")),
            response_topic: Some(s("re/1")),
            correlation_data: Some(Bytes::from_static(&[1, 2, 3])),
            subscription_identifiers: vec![1, 200, 268_435_455],
            topic_alias: Some(3),
            user_properties: vec![user("k", "1"), user("k", "2"), user("a", "3")],
            ..PropertyValues::default()
        }),
    }
}

/// MQTT 5.0 PUBLISH at QoS 2 whose empty topic name is stood for by a
/// Topic Alias (3.3.2.3.4).
#[test]
fn publish_v5_qos2_topic_alias_with_empty_topic() {
    let expected: &[u8] = &[
        0x34, // PUBLISH, DUP 0, QoS 2, RETAIN 0
        0x09, // remaining length 9
        0x00, 0x00, // topic name "" (zero length)
        0x00, 0x07, // packet identifier 7
        0x03, // property length 3
        0x23, 0x00, 0x03, // Topic Alias 3
        b'z', // payload "z"
    ];
    let mut publish = Publish::new("", &b"z"[..]);
    publish.qos = QoS::ExactlyOnce;
    publish.packet_id = 7;
    publish.properties.topic_alias = Some(3);
    assert_wire(&publish.into(), V5, expected);
}

/// MQTT 5.0 PUBLISH whose remaining length, 204, takes two bytes.
#[test]
fn publish_v5_remaining_length_takes_two_bytes() {
    let mut expected: Vec<u8> = vec![
        0x30, // PUBLISH, QoS 0
        0xCC, 0x01, // remaining length 204 = 76 + 1 * 128
        0x00, 0x01, b'a', // topic name "a"
        0x00, // property length 0
    ];
    expected.extend_from_slice(&[0xAB; 200]); // payload
    assert_eq!(expected.len(), 3 + 204);
    let publish = Publish::new("a", vec![0xAB; 200]);
    assert_wire(&publish.into(), V5, &expected);
}

// ---------------------------------------------------------------- PUBACK

/// MQTT 3.1.1 PUBACK: the packet identifier only.
#[test]
fn puback_v311() {
    let expected: &[u8] = &[
        0x40, // PUBACK
        0x02, // remaining length 2
        0x00, 0x0A, // packet identifier 10
    ];
    assert_wire(&PubAck::new(10).into(), V311, expected);
}

/// MQTT 5.0 PUBACK with Success and no properties: reason code and property
/// length are left out, remaining length 2 (3.4.2.1).
#[test]
fn puback_v5_success_without_properties_is_remaining_length_2() {
    let expected: &[u8] = &[
        0x40, // PUBACK
        0x02, // remaining length 2
        0x00, 0x0A, // packet identifier 10
    ];
    assert_wire(&PubAck::new(10).into(), V5, expected);
}

/// MQTT 5.0 PUBACK with a reason code and no properties: the property length
/// is left out, remaining length 3 (3.4.2.2.1).
#[test]
fn puback_v5_reason_code_without_properties_is_remaining_length_3() {
    let expected: &[u8] = &[
        0x40, // PUBACK
        0x03, // remaining length 3
        0x00, 0x0A, // packet identifier 10
        0x10, // reason code 0x10 No matching subscribers
    ];
    let puback = PubAck {
        reason_code: ReasonCode::NoMatchingSubscribers,
        ..PubAck::new(10)
    };
    assert_wire(&puback.into(), V5, expected);
}

/// MQTT 5.0 PUBACK with an error reason code, a Reason String and a User
/// Property.
#[test]
fn puback_v5_with_reason_string_and_user_property() {
    let expected: &[u8] = &[
        0x40, // PUBACK
        0x12, // remaining length 18
        0x00, 0x0A, // packet identifier 10
        0x97, // reason code 0x97 Quota exceeded
        0x0E, // property length 14
        0x1F, 0x00, 0x04, b'f', b'u', b'l', b'l', // Reason String "full"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
    ];
    let puback = PubAck {
        packet_id: 10,
        reason_code: ReasonCode::QuotaExceeded,
        properties: Properties::from(PropertyValues {
            reason_string: Some(s("full")),
            user_properties: vec![user("k", "v")],
            ..PropertyValues::default()
        }),
    };
    assert_wire(&puback.into(), V5, expected);
}

/// The longer ways of saying "Success, no properties" (remaining length 3
/// with reason 0x00, and 4 with property length 0) decode to the same
/// PUBACK, which encodes in the short form.
#[test]
fn puback_v5_long_forms_of_success_decode_to_the_short_form() {
    let canonical: &[u8] = &[0x40, 0x02, 0x00, 0x0A];
    let reason_only: &[u8] = &[
        0x40, 0x03, // PUBACK, remaining length 3
        0x00, 0x0A, // packet identifier 10
        0x00, // reason code Success
    ];
    let empty_properties: &[u8] = &[
        0x40, 0x04, // PUBACK, remaining length 4
        0x00, 0x0A, // packet identifier 10
        0x00, // reason code Success
        0x00, // property length 0
    ];
    let puback: Packet = PubAck::new(10).into();
    assert_decodes_to(reason_only, V5, &puback, canonical);
    assert_decodes_to(empty_properties, V5, &puback, canonical);
}

// ---------------------------------------------------------------- PUBREC

/// MQTT 3.1.1 PUBREC.
#[test]
fn pubrec_v311() {
    let expected: &[u8] = &[
        0x50, // PUBREC
        0x02, // remaining length 2
        0x12, 0x34, // packet identifier 0x1234
    ];
    assert_wire(&PubRec::new(0x1234).into(), V311, expected);
}

/// MQTT 5.0 PUBREC with Success and a User Property: the reason code is
/// written because properties follow it.
#[test]
fn pubrec_v5_success_with_user_property() {
    let expected: &[u8] = &[
        0x50, // PUBREC
        0x0B, // remaining length 11
        0x12, 0x34, // packet identifier 0x1234
        0x00, // reason code 0x00 Success
        0x07, // property length 7
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // User Property ("a", "b")
    ];
    let mut pubrec = PubRec::new(0x1234);
    pubrec.properties.user_properties.push(user("a", "b"));
    assert_wire(&pubrec.into(), V5, expected);
}

/// MQTT 5.0 PUBREC refusing the message, remaining length 3.
#[test]
fn pubrec_v5_error_reason_code() {
    let expected: &[u8] = &[
        0x50, // PUBREC
        0x03, // remaining length 3
        0x12, 0x34, // packet identifier 0x1234
        0x91, // reason code 0x91 Packet Identifier in use
    ];
    let pubrec = PubRec {
        reason_code: ReasonCode::PacketIdentifierInUse,
        ..PubRec::new(0x1234)
    };
    assert_wire(&pubrec.into(), V5, expected);
}

// ---------------------------------------------------------------- PUBREL

/// MQTT 3.1.1 PUBREL: fixed header flags 0010 (MQTT-3.6.1-1).
#[test]
fn pubrel_v311() {
    let expected: &[u8] = &[
        0x62, // PUBREL, flags 0010
        0x02, // remaining length 2
        0x00, 0x01, // packet identifier 1
    ];
    assert_wire(&PubRel::new(1).into(), V311, expected);
}

/// MQTT 5.0 PUBREL: flags 0010 (MQTT-3.6.1-1), reason code without
/// properties.
#[test]
fn pubrel_v5_packet_identifier_not_found() {
    let expected: &[u8] = &[
        0x62, // PUBREL, flags 0010
        0x03, // remaining length 3
        0x00, 0x01, // packet identifier 1
        0x92, // reason code 0x92 Packet Identifier not found
    ];
    let pubrel = PubRel {
        reason_code: ReasonCode::PacketIdentifierNotFound,
        ..PubRel::new(1)
    };
    assert_wire(&pubrel.into(), V5, expected);
}

/// MQTT 5.0 PUBREL with Success and no properties: remaining length 2.
#[test]
fn pubrel_v5_success_is_remaining_length_2() {
    let expected: &[u8] = &[
        0x62, // PUBREL, flags 0010
        0x02, // remaining length 2
        0xFF, 0xFF, // packet identifier 65535
    ];
    assert_wire(&PubRel::new(0xFFFF).into(), V5, expected);
}

// ---------------------------------------------------------------- PUBCOMP

/// MQTT 3.1.1 PUBCOMP.
#[test]
fn pubcomp_v311() {
    let expected: &[u8] = &[
        0x70, // PUBCOMP
        0x02, // remaining length 2
        0x00, 0x01, // packet identifier 1
    ];
    assert_wire(&PubComp::new(1).into(), V311, expected);
}

/// MQTT 5.0 PUBCOMP with a reason code and a Reason String.
#[test]
fn pubcomp_v5_with_reason_string() {
    let expected: &[u8] = &[
        0x70, // PUBCOMP
        0x0B, // remaining length 11
        0x00, 0x01, // packet identifier 1
        0x92, // reason code 0x92 Packet Identifier not found
        0x07, // property length 7
        0x1F, 0x00, 0x04, b'g', b'o', b'n', b'e', // Reason String "gone"
    ];
    let pubcomp = PubComp {
        packet_id: 1,
        reason_code: ReasonCode::PacketIdentifierNotFound,
        properties: Properties::from(PropertyValues {
            reason_string: Some(s("gone")),
            ..PropertyValues::default()
        }),
    };
    assert_wire(&pubcomp.into(), V5, expected);
}

// ---------------------------------------------------------------- SUBSCRIBE

/// MQTT 3.1.1 SUBSCRIBE with three filters: flags 0010 (MQTT-3.8.1-1), each
/// filter followed by its requested QoS byte.
#[test]
fn subscribe_v311_three_filters() {
    let expected: &[u8] = &[
        0x82, // SUBSCRIBE, flags 0010
        0x12, // remaining length 18
        0x00, 0x01, // packet identifier 1
        0x00, 0x03, b'a', b'/', b'+', 0x01, // "a/+", QoS 1
        0x00, 0x03, b'b', b'/', b'#', 0x02, // "b/#", QoS 2
        0x00, 0x01, b'c', 0x00, // "c", QoS 0
    ];
    let mut subscribe = Subscribe::new(1, "a/+", QoS::AtLeastOnce);
    for (filter, qos) in [("b/#", QoS::ExactlyOnce), ("c", QoS::AtMostOnce)] {
        subscribe.subscriptions.push(Subscription {
            filter: s(filter),
            options: SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            },
        });
    }
    assert_wire(&subscribe.into(), V311, expected);
}

/// MQTT 5.0 SUBSCRIBE with a Subscription Identifier, a User Property and
/// every subscription option bit: No Local, Retain As Published, Retain
/// Handling 0, 1 and 2 (3.8.3.1), one filter a shared subscription (4.8.2).
#[test]
fn subscribe_v5_all_options_subscription_identifier_and_shared_filter() {
    let expected: &[u8] = &[
        0x82, // SUBSCRIBE, flags 0010
        0x28, // remaining length 40
        0x00, 0x0A, // packet identifier 10
        0x0A, // property length 10
        0x0B, 0xE8, 0x07, // Subscription Identifier 1000 (VBI E8 07)
        0x26, 0x00, 0x01, b'u', 0x00, 0x01, b'v', // User Property ("u", "v")
        0x00, 0x03, b'a', b'/', b'b', // "a/b"
        0x0D, // options: QoS 1, No Local 0x04, Retain As Published 0x08, Retain Handling 0
        0x00, 0x03, b'c', b'/', b'#', // "c/#"
        0x12, // options: QoS 2, Retain Handling 1 (0x10)
        0x00, 0x0C, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'd', b'/',
        b'+', // "$share/g/d/+"
        0x20, // options: QoS 0, Retain Handling 2 (0x20)
    ];
    let subscribe = Subscribe {
        packet_id: 10,
        subscriptions: vec![
            Subscription {
                filter: s("a/b"),
                options: SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::SendAtSubscribe,
                },
            },
            Subscription {
                filter: s("c/#"),
                options: SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: false,
                    retain_as_published: false,
                    retain_handling: RetainHandling::SendAtSubscribeIfNew,
                },
            },
            Subscription {
                filter: s("$share/g/d/+"),
                options: SubscriptionOptions {
                    qos: QoS::AtMostOnce,
                    no_local: false,
                    retain_as_published: false,
                    retain_handling: RetainHandling::DoNotSend,
                },
            },
        ],
        properties: Properties::from(PropertyValues {
            subscription_identifiers: vec![1000],
            user_properties: vec![user("u", "v")],
            ..PropertyValues::default()
        }),
    };
    assert_wire(&subscribe.into(), V5, expected);
}

// ---------------------------------------------------------------- SUBACK

/// MQTT 3.1.1 SUBACK with every return code: 0x00, 0x01, 0x02 and 0x80
/// Failure (3.1.1 MQTT-3.9.3-2).
#[test]
fn suback_v311_every_return_code() {
    let expected: &[u8] = &[
        0x90, // SUBACK
        0x06, // remaining length 6
        0x00, 0x01, // packet identifier 1
        0x00, 0x01, 0x02, 0x80, // granted QoS 0, 1, 2, failure
    ];
    let suback = SubAck {
        packet_id: 1,
        properties: Properties::default(),
        reason_codes: vec![
            ReasonCode::GRANTED_QOS_0,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
        ],
    };
    assert_wire(&suback.into(), V311, expected);
}

/// MQTT 5.0 SUBACK with a Reason String and nine mixed reason codes, in the
/// order of the SUBSCRIBE's filters (MQTT-3.9.3-1).
#[test]
fn suback_v5_mixed_reason_codes() {
    let expected: &[u8] = &[
        0x90, // SUBACK
        0x16, // remaining length 22
        0x00, 0x02, // packet identifier 2
        0x0A, // property length 10
        0x1F, 0x00, 0x07, b'p', b'a', b'r', b't', b'i', b'a', b'l', // Reason String "partial"
        0x00, // Granted QoS 0
        0x01, // Granted QoS 1
        0x02, // Granted QoS 2
        0x80, // Unspecified error
        0x87, // Not authorized
        0x8F, // Topic Filter invalid
        0x9E, // Shared Subscriptions not supported
        0xA1, // Subscription Identifiers not supported
        0xA2, // Wildcard Subscriptions not supported
    ];
    let suback = SubAck {
        packet_id: 2,
        properties: Properties::from(PropertyValues {
            reason_string: Some(s("partial")),
            ..PropertyValues::default()
        }),
        reason_codes: vec![
            ReasonCode::GRANTED_QOS_0,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
            ReasonCode::NotAuthorized,
            ReasonCode::TopicFilterInvalid,
            ReasonCode::SharedSubscriptionsNotSupported,
            ReasonCode::SubscriptionIdentifiersNotSupported,
            ReasonCode::WildcardSubscriptionsNotSupported,
        ],
    };
    assert_wire(&suback.into(), V5, expected);
}

// ---------------------------------------------------------------- UNSUBSCRIBE

/// MQTT 3.1.1 UNSUBSCRIBE: flags 0010 (MQTT-3.10.1-1), filters packed
/// contiguously.
#[test]
fn unsubscribe_v311_two_filters() {
    let expected: &[u8] = &[
        0xA2, // UNSUBSCRIBE, flags 0010
        0x0C, // remaining length 12
        0x00, 0x05, // packet identifier 5
        0x00, 0x03, b'a', b'/', b'b', // "a/b"
        0x00, 0x03, b'c', b'/', b'#', // "c/#"
    ];
    let unsubscribe = Unsubscribe {
        packet_id: 5,
        filters: vec![s("a/b"), s("c/#")],
        properties: Properties::default(),
    };
    assert_wire(&unsubscribe.into(), V311, expected);
}

/// MQTT 5.0 UNSUBSCRIBE of a shared subscription, with a User Property.
#[test]
fn unsubscribe_v5_shared_filter_with_user_property() {
    let expected: &[u8] = &[
        0xA2, // UNSUBSCRIBE, flags 0010
        0x1B, // remaining length 27
        0x00, 0x06, // packet identifier 6
        0x07, // property length 7
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
        0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/',
        b'x', // "$share/g/x"
        0x00, 0x03, b'y', b'/', b'+', // "y/+"
    ];
    let unsubscribe = Unsubscribe {
        packet_id: 6,
        filters: vec![s("$share/g/x"), s("y/+")],
        properties: Properties::from(PropertyValues {
            user_properties: vec![user("k", "v")],
            ..PropertyValues::default()
        }),
    };
    assert_wire(&unsubscribe.into(), V5, expected);
}

// ---------------------------------------------------------------- UNSUBACK

/// MQTT 3.1.1 UNSUBACK: a packet identifier and no payload.
#[test]
fn unsuback_v311_has_no_payload() {
    let expected: &[u8] = &[
        0xB0, // UNSUBACK
        0x02, // remaining length 2
        0x00, 0x05, // packet identifier 5
    ];
    let unsuback = UnsubAck {
        packet_id: 5,
        ..UnsubAck::default()
    };
    assert_wire(&unsuback.into(), V311, expected);
}

/// MQTT 5.0 UNSUBACK with a Reason String and one reason code per filter
/// (MQTT-3.11.3-1).
#[test]
fn unsuback_v5_with_reason_string_and_reason_codes() {
    let expected: &[u8] = &[
        0xB0, // UNSUBACK
        0x0B, // remaining length 11
        0x00, 0x06, // packet identifier 6
        0x05, // property length 5
        0x1F, 0x00, 0x02, b'n', b'o', // Reason String "no"
        0x00, // Success
        0x11, // No subscription existed
        0x87, // Not authorized
    ];
    let unsuback = UnsubAck {
        packet_id: 6,
        properties: Properties::from(PropertyValues {
            reason_string: Some(s("no")),
            ..PropertyValues::default()
        }),
        reason_codes: vec![
            ReasonCode::Success,
            ReasonCode::NoSubscriptionExisted,
            ReasonCode::NotAuthorized,
        ],
    };
    assert_wire(&unsuback.into(), V5, expected);
}

/// MQTT 5.0 UNSUBACK always carries a property length, even when 0.
#[test]
fn unsuback_v5_without_properties_keeps_property_length() {
    let expected: &[u8] = &[
        0xB0, // UNSUBACK
        0x04, // remaining length 4
        0x00, 0x06, // packet identifier 6
        0x00, // property length 0
        0x11, // No subscription existed
    ];
    let unsuback = UnsubAck {
        packet_id: 6,
        properties: Properties::default(),
        reason_codes: vec![ReasonCode::NoSubscriptionExisted],
    };
    assert_wire(&unsuback.into(), V5, expected);
}

// ---------------------------------------------------------------- PINGREQ, PINGRESP

/// PINGREQ is two bytes in both versions (3.12).
#[test]
fn pingreq_both_versions() {
    for version in [V311, V5] {
        assert_wire(
            &Packet::PingReq,
            version,
            &[
                0xC0, // PINGREQ
                0x00, // remaining length 0
            ],
        );
    }
}

/// PINGRESP is two bytes in both versions (3.13).
#[test]
fn pingresp_both_versions() {
    for version in [V311, V5] {
        assert_wire(
            &Packet::PingResp,
            version,
            &[
                0xD0, // PINGRESP
                0x00, // remaining length 0
            ],
        );
    }
}

// ---------------------------------------------------------------- DISCONNECT

/// MQTT 3.1.1 DISCONNECT has no variable header or payload.
#[test]
fn disconnect_v311() {
    let expected: &[u8] = &[
        0xE0, // DISCONNECT
        0x00, // remaining length 0
    ];
    assert_wire(&Disconnect::default().into(), V311, expected);
}

/// MQTT 5.0 DISCONNECT with Normal disconnection and no properties:
/// remaining length 0 (3.14.2.1).
#[test]
fn disconnect_v5_normal_is_remaining_length_0() {
    let expected: &[u8] = &[
        0xE0, // DISCONNECT
        0x00, // remaining length 0: reason 0x00 Normal disconnection
    ];
    assert_wire(
        &Disconnect::new(ReasonCode::NORMAL_DISCONNECTION).into(),
        V5,
        expected,
    );
}

/// MQTT 5.0 DISCONNECT with a reason code and no properties: remaining
/// length 1, no property length (3.14.2.2.1).
#[test]
fn disconnect_v5_reason_code_only_is_remaining_length_1() {
    let expected: &[u8] = &[
        0xE0, // DISCONNECT
        0x01, // remaining length 1
        0x04, // reason code 0x04 Disconnect with Will Message
    ];
    assert_wire(
        &Disconnect::new(ReasonCode::DisconnectWithWillMessage).into(),
        V5,
        expected,
    );
}

/// MQTT 5.0 DISCONNECT from a client changing its Session Expiry Interval.
#[test]
fn disconnect_v5_with_session_expiry_interval() {
    let expected: &[u8] = &[
        0xE0, // DISCONNECT
        0x07, // remaining length 7
        0x04, // reason code 0x04 Disconnect with Will Message
        0x05, // property length 5
        0x11, 0x00, 0x00, 0x00, 0x3C, // Session Expiry Interval 60
    ];
    let mut disconnect = Disconnect::new(ReasonCode::DisconnectWithWillMessage);
    disconnect.properties.session_expiry_interval = Some(60);
    assert_wire(&disconnect.into(), V5, expected);
}

/// MQTT 5.0 DISCONNECT from a server redirecting the client (4.11).
#[test]
fn disconnect_v5_use_another_server_with_server_reference() {
    let expected: &[u8] = &[
        0xE0, // DISCONNECT
        0x16, // remaining length 22
        0x9C, // reason code 0x9C Use another server
        0x14, // property length 20
        0x1C, 0x00, 0x04, b's', b'r', b'v', b'2', // Server Reference "srv2"
        0x1F, 0x00, 0x03, b'b', b'y', b'e', // Reason String "bye"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
    ];
    let disconnect = Disconnect {
        reason_code: ReasonCode::UseAnotherServer,
        properties: Properties::from(PropertyValues {
            server_reference: Some(s("srv2")),
            reason_string: Some(s("bye")),
            user_properties: vec![user("k", "v")],
            ..PropertyValues::default()
        }),
    };
    assert_wire(&disconnect.into(), V5, expected);
}

/// A 5.0 DISCONNECT with a reason code and an explicit property length 0
/// decodes to the same packet as the remaining-length-1 form.
#[test]
fn disconnect_v5_empty_property_length_decodes_to_the_short_form() {
    let long_form: &[u8] = &[
        0xE0, // DISCONNECT
        0x02, // remaining length 2
        0x8E, // reason code 0x8E Session taken over
        0x00, // property length 0
    ];
    let short_form: &[u8] = &[0xE0, 0x01, 0x8E];
    assert_decodes_to(
        long_form,
        V5,
        &Disconnect::new(ReasonCode::SessionTakenOver).into(),
        short_form,
    );
}

// ---------------------------------------------------------------- AUTH

/// MQTT 5.0 AUTH with Success and no properties: remaining length 0
/// (3.15.2.1).
#[test]
fn auth_v5_success_is_remaining_length_0() {
    let expected: &[u8] = &[
        0xF0, // AUTH
        0x00, // remaining length 0
    ];
    assert_wire(&Auth::default().into(), V5, expected);
}

/// MQTT 5.0 AUTH continuing a challenge/response exchange (4.12).
#[test]
fn auth_v5_continue_authentication_with_method_data_and_reason_string() {
    let expected: &[u8] = &[
        0xF0, // AUTH
        0x25, // remaining length 37
        0x18, // reason code 0x18 Continue authentication
        0x23, // property length 35
        0x15, 0x00, 0x0B, b'S', b'C', b'R', b'A', b'M', b'-', b'S', b'H', b'A', b'-',
        b'1', // Authentication Method "SCRAM-SHA-1"
        0x16, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, // Authentication Data 01 02 03 04
        0x1F, 0x00, 0x04, b's', b't', b'e', b'p', // Reason String "step"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
    ];
    let auth = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: Properties::from(PropertyValues {
            authentication_method: Some(s("SCRAM-SHA-1")),
            authentication_data: Some(Bytes::from_static(&[1, 2, 3, 4])),
            reason_string: Some(s("step")),
            user_properties: vec![user("k", "v")],
            ..PropertyValues::default()
        }),
    };
    assert_wire(&auth.into(), V5, expected);
}

/// MQTT 5.0 AUTH starting re-authentication (4.12.1).
#[test]
fn auth_v5_re_authenticate() {
    let expected: &[u8] = &[
        0xF0, // AUTH
        0x0A, // remaining length 10
        0x19, // reason code 0x19 Re-authenticate
        0x08, // property length 8
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // Authentication Method "SCRAM"
    ];
    let mut auth = Auth {
        reason_code: ReasonCode::ReAuthenticate,
        ..Auth::default()
    };
    auth.properties.authentication_method = Some(s("SCRAM"));
    assert_wire(&auth.into(), V5, expected);
}

// ---------------------------------------------------------------- property coverage

/// The identifiers of the properties set in `p`.
fn ids_present(p: &Properties) -> Vec<PropertyId> {
    use PropertyId::*;
    let flags = [
        (p.payload_format_indicator.is_some(), PayloadFormatIndicator),
        (p.message_expiry_interval.is_some(), MessageExpiryInterval),
        (p.content_type.is_some(), ContentType),
        (p.response_topic.is_some(), ResponseTopic),
        (p.correlation_data.is_some(), CorrelationData),
        (
            !p.subscription_identifiers.is_empty(),
            SubscriptionIdentifier,
        ),
        (p.session_expiry_interval.is_some(), SessionExpiryInterval),
        (
            p.assigned_client_identifier.is_some(),
            AssignedClientIdentifier,
        ),
        (p.server_keep_alive.is_some(), ServerKeepAlive),
        (p.authentication_method.is_some(), AuthenticationMethod),
        (p.authentication_data.is_some(), AuthenticationData),
        (
            p.request_problem_information.is_some(),
            RequestProblemInformation,
        ),
        (p.will_delay_interval.is_some(), WillDelayInterval),
        (
            p.request_response_information.is_some(),
            RequestResponseInformation,
        ),
        (p.response_information.is_some(), ResponseInformation),
        (p.server_reference.is_some(), ServerReference),
        (p.reason_string.is_some(), ReasonString),
        (p.receive_maximum.is_some(), ReceiveMaximum),
        (p.topic_alias_maximum.is_some(), TopicAliasMaximum),
        (p.topic_alias.is_some(), TopicAlias),
        (p.maximum_qos.is_some(), MaximumQoS),
        (p.retain_available.is_some(), RetainAvailable),
        (!p.user_properties.is_empty(), UserProperty),
        (p.maximum_packet_size.is_some(), MaximumPacketSize),
        (
            p.wildcard_subscription_available.is_some(),
            WildcardSubscriptionAvailable,
        ),
        (
            p.subscription_identifier_available.is_some(),
            SubscriptionIdentifierAvailable,
        ),
        (
            p.shared_subscription_available.is_some(),
            SharedSubscriptionAvailable,
        ),
    ];
    flags
        .into_iter()
        .filter_map(|(present, id)| present.then_some(id))
        .collect()
}

/// Between them, the 5.0 CONNECT (with its Will), CONNACK and PUBLISH
/// examples above put every one of the 27 properties (2.2.2.2) on the wire.
#[test]
fn examples_cover_all_27_properties() {
    let connect = connect_v5_full();
    let will = connect.will.as_ref().expect("the example has a Will");
    let mut seen = ids_present(&connect.properties);
    seen.extend(ids_present(&will.properties));
    seen.extend(ids_present(&connack_v5_capabilities().properties));
    seen.extend(ids_present(&publish_v5_full().properties));
    let defined: Vec<PropertyId> = (0..=0x7F).filter_map(PropertyId::from_u32).collect();
    assert_eq!(defined.len(), 27);
    for id in defined {
        assert!(seen.contains(&id), "{id} is in no example");
    }
}

// ---------------------------------------------------------------- Decoder

/// Several whole packets and the start of another in one read buffer: each
/// call takes one packet; the partial one stays until the rest arrives.
#[test]
fn decoder_takes_several_packets_from_one_buffer() {
    let decoder = Decoder::new(V5);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0x20, 0x03, 0x01, 0x00, 0x00]); // CONNACK, session present, Success
    buf.extend_from_slice(&[0x30, 0x05, 0x00, 0x01, b'a', 0x00, b'!']); // PUBLISH "a" "!"
    buf.extend_from_slice(&[0xD0, 0x00]); // PINGRESP
    buf.extend_from_slice(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x01]); // SUBACK 1, Granted QoS 1
    buf.extend_from_slice(&[0x40, 0x02]); // first half of a PUBACK

    let connack = ConnAck {
        session_present: true,
        ..ConnAck::default()
    };
    let suback = SubAck {
        packet_id: 1,
        properties: Properties::default(),
        reason_codes: vec![ReasonCode::GrantedQoS1],
    };
    assert_eq!(decoder.decode(&mut buf), Ok(Some(connack.into())));
    assert_eq!(
        decoder.decode(&mut buf),
        Ok(Some(Publish::new("a", &b"!"[..]).into()))
    );
    assert_eq!(decoder.decode(&mut buf), Ok(Some(Packet::PingResp)));
    assert_eq!(decoder.decode(&mut buf), Ok(Some(suback.into())));
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(&buf[..], &[0x40, 0x02], "the partial packet stays buffered");
    buf.extend_from_slice(&[0x00, 0x0A]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(PubAck::new(10).into())));
    assert!(buf.is_empty());
    assert_eq!(decoder.decode(&mut buf), Ok(None));
}

/// A packet split at every byte offset, the split falling inside the fixed
/// header, the two-byte remaining length, properties and payload, decodes
/// once the second part arrives and not before.
#[test]
fn decoder_reassembles_a_packet_split_at_every_offset() {
    let mut connect_bytes = BytesMut::new();
    Packet::from(connect_v5_full())
        .encode(V5, &mut connect_bytes)
        .unwrap();
    let cases: [(&[u8], Packet); 2] = [
        (PUBLISH_V5_FULL, publish_v5_full().into()),
        (&connect_bytes[..], connect_v5_full().into()),
    ];
    let decoder = Decoder::new(V5);
    for (bytes, packet) in cases {
        for split in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..split]);
            assert_eq!(decoder.decode(&mut buf), Ok(None), "split at {split}");
            assert_eq!(buf.len(), split, "nothing consumed at split {split}");
            buf.extend_from_slice(&bytes[split..]);
            assert_eq!(
                decoder.decode(&mut buf),
                Ok(Some(packet.clone())),
                "split at {split}"
            );
            assert!(buf.is_empty(), "split at {split}");
        }
    }
}

/// Fed one byte at a time, two packets come out exactly when their last
/// byte arrives.
#[test]
fn decoder_fed_one_byte_at_a_time() {
    let mut stream = Vec::from(PUBLISH_V5_FULL);
    stream.extend_from_slice(&[0xE0, 0x01, 0x04]); // DISCONNECT, Disconnect with Will Message
    let decoder = Decoder::new(V5);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for (i, byte) in stream.iter().enumerate() {
        buf.extend_from_slice(&[*byte]);
        if let Some(packet) = decoder.decode(&mut buf).unwrap() {
            out.push((i, packet));
        }
    }
    assert_eq!(
        out,
        vec![
            (PUBLISH_V5_FULL.len() - 1, publish_v5_full().into()),
            (
                stream.len() - 1,
                Disconnect::new(ReasonCode::DisconnectWithWillMessage).into()
            ),
        ]
    );
}

/// A packet larger than the Maximum Packet Size is refused from its fixed
/// header alone, before the body is buffered (3.1.2.11.4, 4.13); one of
/// exactly the maximum is accepted.
#[test]
fn decoder_refuses_packet_over_maximum_size_from_fixed_header() {
    let mut decoder = Decoder::new(V311);
    decoder.set_max_packet_size(100);

    // PUBLISH announcing 98 remaining bytes: 1 + 1 + 98 = 100, accepted.
    let mut at_limit = vec![0x30, 0x62, 0x00, 0x01, b'a'];
    at_limit.extend_from_slice(&[0x11; 95]);
    assert_eq!(at_limit.len(), 100);
    let mut buf = BytesMut::from(&at_limit[..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Ok(Some(Publish::new("a", vec![0x11; 95]).into()))
    );

    // PUBLISH announcing 99 remaining bytes: 101 in all, refused after two bytes.
    let mut buf = BytesMut::from(&[0x30, 0x63][..]);
    let err = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(
        err,
        DecodeError::PacketTooLarge {
            size: 101,
            max: 100
        }
    );
    assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
    assert_eq!(buf.len(), 2, "the decoder leaves the buffer alone on error");

    // Remaining length 200 in two bytes: refused before any body byte.
    let mut buf = BytesMut::from(&[0x30, 0xC8, 0x01][..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::PacketTooLarge {
            size: 203,
            max: 100
        })
    );
}

/// `check_frame` says how many bytes are missing, and that a packet is whole.
#[test]
fn check_frame_reports_missing_bytes() {
    assert_eq!(
        check_frame(&[], V5, MAX_PACKET_SIZE),
        Ok(Frame::Incomplete { needed: 2 })
    );
    assert_eq!(
        check_frame(&[0x30], V5, MAX_PACKET_SIZE),
        Ok(Frame::Incomplete { needed: 1 })
    );
    // Inside a multi-byte remaining length.
    assert_eq!(
        check_frame(&[0x30, 0x80, 0x80], V5, MAX_PACKET_SIZE),
        Ok(Frame::Incomplete { needed: 1 })
    );
    // Header complete, 3 of 5 body bytes present.
    assert_eq!(
        check_frame(&[0x30, 0x05, 0x00, 0x01, b'a'], V5, MAX_PACKET_SIZE),
        Ok(Frame::Incomplete { needed: 2 })
    );
    match check_frame(&[0x30, 0x05, 0x00, 0x01, b'a', 0x00, b'x', 0xC0], V5, 7) {
        Ok(Frame::Complete(header)) => {
            assert_eq!(header.packet_type, crate::codec::PacketType::Publish);
            assert_eq!(header.flags, 0);
            assert_eq!(header.remaining_length, 5);
            assert_eq!(header.header_len, 2);
            assert_eq!(header.packet_len(), 7);
        }
        other => panic!("expected a complete frame, got {other:?}"),
    }
}
