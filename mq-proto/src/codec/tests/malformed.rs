//! One test per class of malformed input, each asserting the specific
//! [`DecodeError`] and the reason code a 5.0 DISCONNECT would carry; then the
//! encoder's refusals of invalid user input, each asserting the specific
//! [`EncodeError`] and that nothing was written.

use alloc::vec;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use crate::codec::{
    check_frame, Auth, ConnAck, Connect, DecodeError, Decoder, Disconnect, EncodeError, MqttString,
    Packet, PacketType, Properties, PropertyContext, PropertyId, ProtocolVersion, PubAck, PubRel,
    Publish, QoS, ReasonCode, SubAck, Subscribe, SubscribeFilter, SubscriptionOptions, UnsubAck,
    Unsubscribe, Will, MAX_PACKET_SIZE,
};
use crate::topic::TopicError;
use ProtocolVersion::{V311, V5};

// ---------------------------------------------------------------- helpers

/// Decodes one whole packet both with [`Packet::decode`] and with the
/// streaming [`Decoder`]; both must fail with `expected`.
pub(super) fn assert_decode_err(bytes: &[u8], version: ProtocolVersion, expected: DecodeError) {
    let got = Packet::decode(&Bytes::copy_from_slice(bytes), version);
    assert_eq!(got, Err(expected.clone()), "Packet::decode of {bytes:02X?}");
    let mut buf = BytesMut::from(bytes);
    assert_eq!(
        Decoder::new(version).decode(&mut buf),
        Err(expected),
        "Decoder::decode of {bytes:02X?}"
    );
}

/// A packet: `first` byte, a one-byte remaining length, `body`.
pub(super) fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(
        body.len() < 128,
        "helper writes a one-byte remaining length"
    );
    let mut v = vec![first, body.len() as u8];
    v.extend_from_slice(body);
    v
}

/// A 5.0 CONNECT with an empty client id and `props` as CONNECT properties.
fn connect_v5_with(props: &[u8]) -> Vec<u8> {
    let mut body = vec![
        0x00,
        0x04,
        b'M',
        b'Q',
        b'T',
        b'T', // protocol name
        0x05, // protocol level 5
        0x02, // flags: clean start
        0x00,
        0x00,              // keep alive
        props.len() as u8, // property length
    ];
    body.extend_from_slice(props);
    body.extend_from_slice(&[0x00, 0x00]); // client identifier ""
    packet(0x10, &body)
}

/// A 3.1.1-style CONNECT (empty client id, nothing else) with these name,
/// level and flags bytes.
fn connect_with(name: &[u8], level: u8, flags: u8) -> Vec<u8> {
    let mut body = vec![0x00, name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(&[
        level, flags, // protocol level, connect flags
        0x00, 0x00, // keep alive
        0x00, 0x00, // client identifier ""
    ]);
    packet(0x10, &body)
}

/// A 5.0 CONNACK (Success) with `props`.
fn connack_v5_with(props: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x00, props.len() as u8];
    body.extend_from_slice(props);
    packet(0x20, &body)
}

/// A 5.0 QoS 0 PUBLISH to "a" with `props` and no payload.
pub(super) fn publish_v5_with(props: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01, b'a', props.len() as u8];
    body.extend_from_slice(props);
    packet(0x30, &body)
}

/// A PUBLISH (QoS 0) with this raw topic and no payload.
fn publish_topic(version: ProtocolVersion, topic: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, topic.len() as u8];
    body.extend_from_slice(topic);
    if version == V5 {
        body.push(0x00); // property length
    }
    packet(0x30, &body)
}

/// A SUBSCRIBE with packet id 1, one `filter` with `options`.
pub(super) fn subscribe_with(version: ProtocolVersion, filter: &[u8], options: u8) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == V5 {
        body.push(0x00); // property length
    }
    body.extend_from_slice(&[0x00, filter.len() as u8]);
    body.extend_from_slice(filter);
    body.push(options);
    packet(0x82, &body)
}

/// Encodes into a buffer already holding bytes; the encode must fail, leave
/// the buffer as it was, and `encoded_len` must fail the same way.
pub(super) fn encode_err(packet: impl Into<Packet>, version: ProtocolVersion) -> EncodeError {
    let packet = packet.into();
    let mut buf = BytesMut::from(&b"prev"[..]);
    let err = match packet.encode(version, &mut buf) {
        Ok(n) => panic!("encoded {n} bytes of invalid {packet:?}"),
        Err(e) => e,
    };
    assert_eq!(&buf[..], b"prev", "nothing may be written on error");
    let mut vec_buf: Vec<u8> = Vec::new();
    assert_eq!(packet.encode(version, &mut vec_buf), Err(err.clone()));
    assert!(vec_buf.is_empty(), "nothing may be written on error");
    assert_eq!(packet.encoded_len(version), Err(err.clone()));
    err
}

fn big(len: usize) -> MqttString {
    MqttString::from(alloc::string::String::from_utf8(vec![b'a'; len]).unwrap())
}

// ---------------------------------------------------------------- fixed header

/// Packet type 0 is reserved (2.1.2), in both versions.
#[test]
fn reserved_packet_type_0() {
    for version in [V311, V5] {
        assert_decode_err(&[0x00, 0x00], version, DecodeError::ReservedPacketType(0));
    }
    assert_eq!(
        DecodeError::ReservedPacketType(0).reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// Packet type 15 is AUTH in 5.0 and reserved in 3.1.1, refused from the
/// first byte alone.
#[test]
fn auth_packet_type_is_reserved_on_v311() {
    assert_decode_err(&[0xF0, 0x00], V311, DecodeError::ReservedPacketType(15));
    assert_eq!(
        check_frame(&[0xF0], V311, MAX_PACKET_SIZE),
        Err(DecodeError::ReservedPacketType(15))
    );
    // The same bytes are an AUTH on 5.0.
    assert_eq!(
        Packet::decode(&Bytes::from_static(&[0xF0, 0x00]), V5),
        Ok(Packet::Auth(Auth::default()))
    );
}

/// Every packet type but PUBLISH has fixed flags: 0010 for PUBREL, SUBSCRIBE
/// and UNSUBSCRIBE, 0000 for the rest; any other value is malformed
/// (MQTT-2.1.3-1). The flags are checked before the body is read.
#[test]
fn wrong_fixed_header_flags_for_every_fixed_flag_type() {
    for nibble in (1u8..=15).filter(|&n| n != 3) {
        let packet_type = PacketType::from_nibble(nibble).unwrap();
        let required = match packet_type {
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => 0b0010,
            _ => 0b0000,
        };
        for flags in (0u8..16).filter(|&f| f != required) {
            let err = DecodeError::InvalidFixedHeaderFlags { packet_type, flags };
            assert_decode_err(&[(nibble << 4) | flags, 0x00], V5, err.clone());
            assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
        }
    }
}

/// MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1: PUBREL, SUBSCRIBE and
/// UNSUBSCRIBE sent with flags 0000, otherwise well-formed.
#[test]
fn pubrel_subscribe_unsubscribe_with_flags_0000() {
    assert_decode_err(
        &[0x60, 0x02, 0x00, 0x01],
        V311,
        DecodeError::InvalidFixedHeaderFlags {
            packet_type: PacketType::PubRel,
            flags: 0,
        },
    );
    assert_decode_err(
        &[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
        V311,
        DecodeError::InvalidFixedHeaderFlags {
            packet_type: PacketType::Subscribe,
            flags: 0,
        },
    );
    assert_decode_err(
        &[0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
        V311,
        DecodeError::InvalidFixedHeaderFlags {
            packet_type: PacketType::Unsubscribe,
            flags: 0,
        },
    );
}

/// MQTT-3.3.1-4: a PUBLISH with both QoS bits set is malformed.
#[test]
fn publish_qos_3() {
    for version in [V311, V5] {
        assert_decode_err(
            &[0x36, 0x03, 0x00, 0x01, b'a'],
            version,
            DecodeError::InvalidQoS("PUBLISH"),
        );
    }
    assert_eq!(
        DecodeError::InvalidQoS("PUBLISH").reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// MQTT-3.3.1-2: DUP must be 0 on QoS 0.
#[test]
fn publish_dup_on_qos_0() {
    assert_decode_err(
        &[0x38, 0x03, 0x00, 0x01, b'a'],
        V311,
        DecodeError::DupWithQoS0,
    );
}

/// A Variable Byte Integer is at most four bytes (1.5.5): a fifth is
/// malformed, known as soon as the fourth continuation byte arrives.
#[test]
fn remaining_length_of_five_bytes() {
    assert_decode_err(
        &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        V5,
        DecodeError::MalformedVariableByteInteger,
    );
    assert_eq!(
        check_frame(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF], V5, MAX_PACKET_SIZE),
        Err(DecodeError::MalformedVariableByteInteger)
    );
    // Three continuation bytes may still be followed by a last one.
    assert!(check_frame(&[0x30, 0xFF, 0xFF, 0xFF], V5, MAX_PACKET_SIZE).is_ok());
    assert_eq!(
        DecodeError::MalformedVariableByteInteger.reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// MQTT-1.5.5-1: a Variable Byte Integer must use the fewest bytes; 0x80 0x00
/// is a two-byte 0. Checked in the remaining length, a property length and a
/// Subscription Identifier.
#[test]
fn non_minimal_variable_byte_integer() {
    assert_decode_err(
        &[0xC0, 0x80, 0x00],
        V5,
        DecodeError::MalformedVariableByteInteger,
    );
    assert_decode_err(
        &[0xE0, 0x03, 0x00, 0x80, 0x00], // DISCONNECT, property length 80 00
        V5,
        DecodeError::MalformedVariableByteInteger,
    );
    assert_decode_err(
        &publish_v5_with(&[0x0B, 0x81, 0x80, 0x00]), // Subscription Identifier 1 in three bytes
        V5,
        DecodeError::MalformedVariableByteInteger,
    );
}

// ---------------------------------------------------------------- strings

/// MQTT-1.5.4-1: C3 28 is not well-formed UTF-8.
#[test]
fn invalid_utf8_in_topic() {
    assert_decode_err(
        &publish_topic(V311, &[0xC3, 0x28]),
        V311,
        DecodeError::InvalidUtf8("topic name"),
    );
    assert_eq!(
        DecodeError::InvalidUtf8("topic name").reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// MQTT-1.5.4-1: UTF-8 encodings of U+D800..U+DFFF (here ED A0 80, U+D800)
/// are not allowed.
#[test]
fn utf16_surrogate_in_topic() {
    assert_decode_err(
        &publish_topic(V5, &[b'a', 0xED, 0xA0, 0x80]),
        V5,
        DecodeError::InvalidUtf8("topic name"),
    );
}

/// MQTT-1.5.4-2: U+0000 is not allowed in a UTF-8 Encoded String, be it a
/// topic, a client identifier or a User Property.
#[test]
fn null_character_in_strings() {
    assert_decode_err(
        &publish_topic(V311, b"a\0b"),
        V311,
        DecodeError::NullCharacter("topic name"),
    );
    assert_decode_err(
        &[
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x00, // header
            0x00, 0x01, 0x00, // client identifier "\0"
        ],
        V311,
        DecodeError::NullCharacter("client identifier"),
    );
    assert_decode_err(
        &[
            0x40, 0x0B, 0x00, 0x01, 0x00, 0x07, // PUBACK 1, Success, property length 7
            0x26, 0x00, 0x01, 0x00, 0x00, 0x01, b'v', // User Property ("\0", "v")
        ],
        V5,
        DecodeError::NullCharacter("User Property"),
    );
}

// ---------------------------------------------------------------- lengths

/// The remaining length promises more than the fields inside it hold.
#[test]
fn truncated_packets() {
    // Topic length 5, but the remaining length ends after two bytes of it.
    assert_decode_err(
        &[0x30, 0x04, 0x00, 0x05, b'a', b'b'],
        V311,
        DecodeError::Truncated("topic name"),
    );
    // PUBACK with one byte of packet identifier.
    assert_decode_err(
        &[0x40, 0x01, 0x00],
        V5,
        DecodeError::Truncated("packet identifier"),
    );
    // Property length 5 with nothing after it.
    assert_decode_err(
        &[0x40, 0x04, 0x00, 0x01, 0x00, 0x05],
        V5,
        DecodeError::Truncated("properties"),
    );
    // A four-byte property value cut after two.
    assert_decode_err(
        &publish_v5_with(&[0x02, 0x00, 0x00]),
        V5,
        DecodeError::Truncated("Message Expiry Interval"),
    );
    // CONNECT whose Will flag promises a Will the packet does not hold.
    assert_decode_err(
        &connect_with(b"MQTT", 4, 0x06),
        V311,
        DecodeError::Truncated("will topic"),
    );
    // Fewer bytes than the remaining length: Packet::decode has no more to
    // wait for, the streaming decoder waits.
    assert_eq!(
        Packet::decode(&Bytes::from_static(&[0x30, 0x05, 0x00, 0x01]), V5),
        Err(DecodeError::Truncated("packet"))
    );
    let mut buf = BytesMut::from(&[0x30, 0x05, 0x00, 0x01][..]);
    assert_eq!(Decoder::new(V5).decode(&mut buf), Ok(None));
    assert_eq!(
        DecodeError::Truncated("packet").reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// Bytes after the last field of a packet are malformed.
#[test]
fn trailing_bytes_after_the_last_field() {
    // PINGREQ and PINGRESP have no body (3.12, 3.13).
    assert_decode_err(
        &[0xC0, 0x01, 0x00],
        V5,
        DecodeError::TrailingBytes {
            packet_type: PacketType::PingReq,
            count: 1,
        },
    );
    assert_decode_err(
        &[0xD0, 0x02, 0x00, 0x00],
        V311,
        DecodeError::TrailingBytes {
            packet_type: PacketType::PingResp,
            count: 2,
        },
    );
    // A 3.1.1 PUBACK is exactly two bytes long.
    assert_decode_err(
        &[0x40, 0x03, 0x00, 0x01, 0x00],
        V311,
        DecodeError::TrailingBytes {
            packet_type: PacketType::PubAck,
            count: 1,
        },
    );
    // A 3.1.1 DISCONNECT has no body.
    assert_decode_err(
        &[0xE0, 0x01, 0x00],
        V311,
        DecodeError::TrailingBytes {
            packet_type: PacketType::Disconnect,
            count: 1,
        },
    );
    // A 3.1.1 CONNACK is two bytes; a 3.1.1 UNSUBACK has no payload.
    assert_decode_err(
        &[0x20, 0x03, 0x00, 0x00, 0x00],
        V311,
        DecodeError::TrailingBytes {
            packet_type: PacketType::ConnAck,
            count: 1,
        },
    );
    assert_decode_err(
        &[0xB0, 0x03, 0x00, 0x01, 0x00],
        V311,
        DecodeError::TrailingBytes {
            packet_type: PacketType::UnsubAck,
            count: 1,
        },
    );
    // 5.0 PUBACK: one byte after an empty property list.
    assert_decode_err(
        &[0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xFF],
        V5,
        DecodeError::TrailingBytes {
            packet_type: PacketType::PubAck,
            count: 1,
        },
    );
    // Packet::decode takes exactly one packet: more bytes than the frame.
    assert_eq!(
        Packet::decode(&Bytes::from_static(&[0xD0, 0x00, 0xD0]), V5),
        Err(DecodeError::TrailingBytes {
            packet_type: PacketType::PingResp,
            count: 1,
        })
    );
}

// ---------------------------------------------------------------- properties

/// 2.2.2.2: an identifier the specification does not define is malformed.
#[test]
fn unknown_property_identifier() {
    assert_decode_err(
        &[0x40, 0x06, 0x00, 0x01, 0x00, 0x02, 0x05, 0x00], // PUBACK, property 0x05
        V5,
        DecodeError::UnknownProperty(0x05),
    );
    // The identifier is a Variable Byte Integer: 80 01 is 128.
    assert_decode_err(
        &publish_v5_with(&[0x80, 0x01, 0x00]),
        V5,
        DecodeError::UnknownProperty(128),
    );
    assert_eq!(
        DecodeError::UnknownProperty(5).reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// 2.2.2.2: a property the packet type may not carry is malformed.
#[test]
fn property_not_allowed_in_packet() {
    let err = DecodeError::PropertyNotAllowed {
        property: PropertyId::TopicAlias,
        context: PropertyContext::Connect,
    };
    assert_decode_err(&connect_v5_with(&[0x23, 0x00, 0x01]), V5, err.clone());
    assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    assert_decode_err(
        &publish_v5_with(&[0x13, 0x00, 0x0A]),
        V5,
        DecodeError::PropertyNotAllowed {
            property: PropertyId::ServerKeepAlive,
            context: PropertyContext::Publish,
        },
    );
    // Will Delay Interval belongs in the Will Properties, not the CONNECT's.
    assert_decode_err(
        &connect_v5_with(&[0x18, 0x00, 0x00, 0x00, 0x01]),
        V5,
        DecodeError::PropertyNotAllowed {
            property: PropertyId::WillDelayInterval,
            context: PropertyContext::Connect,
        },
    );
    // A Reason String in a SUBSCRIBE.
    assert_decode_err(
        &[
            0x82, 0x0B, // SUBSCRIBE, remaining length 11
            0x00, 0x01, // packet identifier 1
            0x04, 0x1F, 0x00, 0x01, b'x', // property length 4: Reason String "x"
            0x00, 0x01, b'a', 0x00, // "a", QoS 0
        ],
        V5,
        DecodeError::PropertyNotAllowed {
            property: PropertyId::ReasonString,
            context: PropertyContext::Subscribe,
        },
    );
}

/// "It is a Protocol Error to include the Message Expiry Interval more than
/// once" (3.3.2.3.3).
#[test]
fn duplicate_property() {
    let err = DecodeError::DuplicateProperty(PropertyId::MessageExpiryInterval);
    assert_decode_err(
        &publish_v5_with(&[
            0x02, 0x00, 0x00, 0x00, 0x01, // Message Expiry Interval 1
            0x02, 0x00, 0x00, 0x00, 0x02, // Message Expiry Interval 2
        ]),
        V5,
        err.clone(),
    );
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    assert_decode_err(
        &connack_v5_with(&[0x24, 0x00, 0x24, 0x01]),
        V5,
        DecodeError::DuplicateProperty(PropertyId::MaximumQoS),
    );
}

/// "It is a Protocol Error to include the Subscription Identifier more than
/// once" in a SUBSCRIBE (3.8.2.1.2); a PUBLISH may carry several.
#[test]
fn duplicate_subscription_identifier_in_subscribe() {
    let bytes = [
        0x82, 0x0B, // SUBSCRIBE, remaining length 11
        0x00, 0x01, // packet identifier 1
        0x04, // property length 4
        0x0B, 0x01, // Subscription Identifier 1
        0x0B, 0x02, // Subscription Identifier 2
        0x00, 0x01, b'a', 0x00, // "a", QoS 0
    ];
    assert_decode_err(
        &bytes,
        V5,
        DecodeError::DuplicateProperty(PropertyId::SubscriptionIdentifier),
    );
}

/// Property values outside their range are Protocol Errors: Receive Maximum
/// 0 (3.1.2.11.3), Maximum Packet Size 0 (3.2.2.3.6), Maximum QoS 2
/// (3.2.2.3.4), Payload Format Indicator 2, Request Problem Information 2
/// (3.1.2.11.7), Retain Available 2 (3.2.2.3.5).
#[test]
fn invalid_property_values() {
    let cases = [
        (
            connect_v5_with(&[0x21, 0x00, 0x00]),
            PropertyId::ReceiveMaximum,
            0,
        ),
        (
            connack_v5_with(&[0x21, 0x00, 0x00]),
            PropertyId::ReceiveMaximum,
            0,
        ),
        (
            connack_v5_with(&[0x27, 0x00, 0x00, 0x00, 0x00]),
            PropertyId::MaximumPacketSize,
            0,
        ),
        (
            connect_v5_with(&[0x27, 0x00, 0x00, 0x00, 0x00]),
            PropertyId::MaximumPacketSize,
            0,
        ),
        (connack_v5_with(&[0x24, 0x02]), PropertyId::MaximumQoS, 2),
        (
            publish_v5_with(&[0x01, 0x02]),
            PropertyId::PayloadFormatIndicator,
            2,
        ),
        (
            connect_v5_with(&[0x17, 0x02]),
            PropertyId::RequestProblemInformation,
            2,
        ),
        (
            connect_v5_with(&[0x19, 0x02]),
            PropertyId::RequestResponseInformation,
            2,
        ),
        (
            connack_v5_with(&[0x25, 0x02]),
            PropertyId::RetainAvailable,
            2,
        ),
        (
            connack_v5_with(&[0x2A, 0xFF]),
            PropertyId::SharedSubscriptionAvailable,
            0xFF,
        ),
    ];
    for (bytes, property, value) in cases {
        let err = DecodeError::InvalidPropertyValue { property, value };
        assert_decode_err(&bytes, V5, err.clone());
        assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    }
}

/// MQTT-3.3.2-8: Topic Alias 0 is not permitted; the receiver disconnects
/// with 0x94 Topic Alias invalid.
#[test]
fn topic_alias_0() {
    assert_decode_err(
        &publish_v5_with(&[0x23, 0x00, 0x00]),
        V5,
        DecodeError::TopicAliasZero,
    );
    assert_eq!(
        DecodeError::TopicAliasZero.reason_code(),
        ReasonCode::TopicAliasInvalid
    );
}

/// "It is a Protocol Error if the Subscription Identifier has a value of 0"
/// (3.3.2.3.8, 3.8.2.1.2).
#[test]
fn subscription_identifier_0() {
    assert_decode_err(
        &publish_v5_with(&[0x0B, 0x00]),
        V5,
        DecodeError::SubscriptionIdentifierZero,
    );
    assert_decode_err(
        &[
            0x82, 0x09, // SUBSCRIBE, remaining length 9
            0x00, 0x01, // packet identifier 1
            0x02, 0x0B, 0x00, // property length 2: Subscription Identifier 0
            0x00, 0x01, b'a', 0x00, // "a", QoS 0
        ],
        V5,
        DecodeError::SubscriptionIdentifierZero,
    );
    assert_eq!(
        DecodeError::SubscriptionIdentifierZero.reason_code(),
        ReasonCode::ProtocolError
    );
}

// ---------------------------------------------------------------- reason codes

/// Each 5.0 packet carries only the reason codes of its column in 2.4
/// (MQTT-3.4.2-1, MQTT-3.6.2-1, MQTT-3.14.2-1, MQTT-3.15.2-1, MQTT-3.9.3-2).
#[test]
fn invalid_reason_code_for_packet_type() {
    let cases: [(&[u8], PacketType, u8); 9] = [
        (&[0x40, 0x03, 0x00, 0x01, 0x04], PacketType::PubAck, 0x04),
        (&[0x50, 0x03, 0x00, 0x01, 0x92], PacketType::PubRec, 0x92),
        (&[0x62, 0x03, 0x00, 0x01, 0x10], PacketType::PubRel, 0x10),
        (&[0x70, 0x03, 0x00, 0x01, 0x80], PacketType::PubComp, 0x80),
        (&[0x20, 0x03, 0x00, 0x04, 0x00], PacketType::ConnAck, 0x04),
        (
            &[0x90, 0x04, 0x00, 0x01, 0x00, 0x04],
            PacketType::SubAck,
            0x04,
        ),
        (
            &[0xB0, 0x04, 0x00, 0x01, 0x00, 0x01],
            PacketType::UnsubAck,
            0x01,
        ),
        // 0x03 is no reason code at all.
        (&[0xE0, 0x01, 0x03], PacketType::Disconnect, 0x03),
        (&[0xF0, 0x02, 0x04, 0x00], PacketType::Auth, 0x04),
    ];
    for (bytes, packet_type, code) in cases {
        let err = DecodeError::InvalidReasonCode { packet_type, code };
        assert_decode_err(bytes, V5, err.clone());
        assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    }
    // 3.1.1 SUBACK return codes are 0x00, 0x01, 0x02 and 0x80 only (3.1.1 MQTT-3.9.3-2).
    assert_decode_err(
        &[0x90, 0x03, 0x00, 0x01, 0x87],
        V311,
        DecodeError::InvalidReasonCode {
            packet_type: PacketType::SubAck,
            code: 0x87,
        },
    );
}

/// 3.1.1 CONNACK return codes stop at 5 (3.1.1 section 3.2.2.3).
#[test]
fn connack_v311_return_code_6() {
    assert_decode_err(
        &[0x20, 0x02, 0x00, 0x06],
        V311,
        DecodeError::InvalidReasonCode {
            packet_type: PacketType::ConnAck,
            code: 6,
        },
    );
}

/// MQTT-3.2.2-1: bits 7-1 of the Connect Acknowledge Flags are reserved.
#[test]
fn connack_reserved_flag_bits() {
    assert_decode_err(
        &[0x20, 0x02, 0x02, 0x00],
        V311,
        DecodeError::InvalidConnAckFlags(0x02),
    );
    assert_decode_err(
        &[0x20, 0x03, 0x81, 0x00, 0x00],
        V5,
        DecodeError::InvalidConnAckFlags(0x81),
    );
    assert_eq!(
        DecodeError::InvalidConnAckFlags(0x02).reason_code(),
        ReasonCode::MalformedPacket
    );
}

// ---------------------------------------------------------------- size limit

/// A packet over the Maximum Packet Size is refused from its fixed header,
/// with 0x95 Packet too large.
#[test]
fn packet_too_large_from_fixed_header_only() {
    // Remaining length 2,097,151 (FF FF 7F): 2,097,155 bytes in all.
    let header = [0x30, 0xFF, 0xFF, 0x7F];
    let err = DecodeError::PacketTooLarge {
        size: 2_097_155,
        max: 1024,
    };
    assert_eq!(check_frame(&header, V5, 1024), Err(err.clone()));
    let mut decoder = Decoder::new(V5);
    decoder.set_max_packet_size(1024);
    let mut buf = BytesMut::from(&header[..]);
    assert_eq!(decoder.decode(&mut buf), Err(err.clone()));
    assert_eq!(&buf[..], &header[..]);
    assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
}

// ---------------------------------------------------------------- packet identifiers

/// MQTT-2.2.1-3: PUBLISH (QoS > 0), SUBSCRIBE and UNSUBSCRIBE need a
/// non-zero packet identifier, and so do the packets answering them.
#[test]
fn packet_identifier_0() {
    let cases: [(&[u8], ProtocolVersion, PacketType); 6] = [
        (&[0x40, 0x02, 0x00, 0x00], V311, PacketType::PubAck),
        (&[0x40, 0x02, 0x00, 0x00], V5, PacketType::PubAck),
        (
            &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
            V311,
            PacketType::Subscribe,
        ),
        (
            &[0x32, 0x05, 0x00, 0x01, b'a', 0x00, 0x00],
            V311,
            PacketType::Publish,
        ),
        (
            &[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a'],
            V311,
            PacketType::Unsubscribe,
        ),
        (&[0x90, 0x03, 0x00, 0x00, 0x00], V311, PacketType::SubAck),
    ];
    for (bytes, version, packet_type) in cases {
        let err = DecodeError::ZeroPacketIdentifier(packet_type);
        assert_decode_err(bytes, version, err.clone());
        assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    }
}

// ---------------------------------------------------------------- SUBSCRIBE family

/// MQTT-3.8.3-2: a SUBSCRIBE without a payload is a Protocol Error.
#[test]
fn empty_subscribe_payload() {
    let err = DecodeError::EmptyPayload(PacketType::Subscribe);
    assert_decode_err(&[0x82, 0x02, 0x00, 0x01], V311, err.clone());
    assert_decode_err(&[0x82, 0x03, 0x00, 0x01, 0x00], V5, err.clone());
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
}

/// MQTT-3.10.3-2: an UNSUBSCRIBE without a payload is a Protocol Error.
#[test]
fn empty_unsubscribe_payload() {
    let err = DecodeError::EmptyPayload(PacketType::Unsubscribe);
    assert_decode_err(&[0xA2, 0x02, 0x00, 0x01], V311, err.clone());
    assert_decode_err(&[0xA2, 0x03, 0x00, 0x01, 0x00], V5, err.clone());
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
}

/// A SUBACK answers every filter, so it has at least one code (3.9.3); so has
/// a 5.0 UNSUBACK (3.11.3).
#[test]
fn suback_and_unsuback_without_codes() {
    let err = DecodeError::EmptyPayload(PacketType::SubAck);
    assert_decode_err(&[0x90, 0x02, 0x00, 0x01], V311, err.clone());
    assert_decode_err(&[0x90, 0x03, 0x00, 0x01, 0x00], V5, err);
    assert_decode_err(
        &[0xB0, 0x03, 0x00, 0x01, 0x00],
        V5,
        DecodeError::EmptyPayload(PacketType::UnsubAck),
    );
    // A 5.0 UNSUBACK without even a property length.
    assert_decode_err(
        &[0xB0, 0x02, 0x00, 0x01],
        V5,
        DecodeError::Truncated("property length"),
    );
}

/// Subscription Options (3.8.3.1): reserved bits 6-7 are malformed
/// (MQTT-3.8.3-5); Retain Handling 3 and Maximum QoS 3 are Protocol Errors;
/// in 3.1.1 bits 2-7 are reserved (3.1.1 MQTT-3-8.3-4).
#[test]
fn invalid_subscription_options() {
    let v5_cases = [
        (0x40, ReasonCode::MalformedPacket), // reserved bit 6
        (0x80, ReasonCode::MalformedPacket), // reserved bit 7
        (0x30, ReasonCode::ProtocolError),   // Retain Handling 3
        (0x03, ReasonCode::ProtocolError),   // Maximum QoS 3
    ];
    for (options, reason) in v5_cases {
        let err = DecodeError::InvalidSubscriptionOptions(options);
        assert_decode_err(&subscribe_with(V5, b"a", options), V5, err.clone());
        assert_eq!(err.reason_code(), reason, "options {options:#04x}");
    }
    // 3.1.1: QoS 3, the 5.0 No Local bit, the 5.0 Retain Handling bits.
    for options in [0x03, 0x04, 0x20] {
        assert_decode_err(
            &subscribe_with(V311, b"a", options),
            V311,
            DecodeError::InvalidSubscriptionOptions(options),
        );
    }
}

/// MQTT-3.8.3-4: No Local on a shared subscription is a Protocol Error.
#[test]
fn no_local_on_shared_subscription() {
    let err = DecodeError::NoLocalOnSharedSubscription(MqttString::from("$share/g/a"));
    assert_decode_err(&subscribe_with(V5, b"$share/g/a", 0x04), V5, err.clone());
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
}

/// Topic filters: `#` only as the whole last level, `+` only as a whole
/// level (4.7.1), `$share/` needs a share name and a filter (MQTT-4.8.2-1,
/// MQTT-4.8.2-2), and no filter is empty (MQTT-4.7.3-1).
#[test]
fn invalid_topic_filters() {
    let cases: [(&[u8], TopicError); 5] = [
        (b"a/#/b", TopicError::MisplacedWildcard(2)),
        (b"a+", TopicError::MisplacedWildcard(1)),
        (b"a/b#", TopicError::MisplacedWildcard(3)),
        (b"$share/x", TopicError::InvalidSharedSubscription),
        (b"", TopicError::Empty),
    ];
    for (filter, topic_error) in cases {
        let err = DecodeError::InvalidTopicFilter(topic_error);
        assert_decode_err(&subscribe_with(V5, filter, 0x00), V5, err.clone());
        assert_decode_err(&subscribe_with(V311, filter, 0x00), V311, err.clone());
        let mut unsubscribe = vec![0x00, 0x01, 0x00, filter.len() as u8];
        unsubscribe.extend_from_slice(filter);
        assert_decode_err(&packet(0xA2, &unsubscribe), V311, err.clone());
        assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    }
}

// ---------------------------------------------------------------- PUBLISH topics

/// MQTT-3.3.2-2: no wildcards in a Topic Name, nor in a Response Topic
/// (MQTT-3.3.2-14) or a Will Topic.
#[test]
fn wildcard_in_publish_topic() {
    assert_decode_err(
        &publish_topic(V311, b"a/+"),
        V311,
        DecodeError::InvalidTopicName(TopicError::WildcardInTopicName(2)),
    );
    assert_decode_err(
        &publish_topic(V5, b"#"),
        V5,
        DecodeError::InvalidTopicName(TopicError::WildcardInTopicName(0)),
    );
    assert_decode_err(
        &publish_v5_with(&[0x08, 0x00, 0x03, b'r', b'/', b'#']),
        V5,
        DecodeError::InvalidTopicName(TopicError::WildcardInTopicName(2)),
    );
    let connect_with_will = [
        0x10, 0x11, // CONNECT, remaining length 17
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // protocol name, level 4
        0x06, // flags: will, clean session
        0x00, 0x00, // keep alive
        0x00, 0x00, // client identifier ""
        0x00, 0x01, b'+', // will topic "+"
        0x00, 0x00, // will message ""
    ];
    assert_decode_err(
        &connect_with_will,
        V311,
        DecodeError::InvalidTopicName(TopicError::WildcardInTopicName(0)),
    );
}

/// An empty Topic Name without a Topic Alias is a Protocol Error (3.3.2.1,
/// 3.3.2.3.4); on 3.1.1 there is no alias to stand for it (MQTT-4.7.3-1).
#[test]
fn empty_publish_topic_without_alias() {
    assert_decode_err(&publish_topic(V5, b""), V5, DecodeError::MissingTopicName);
    assert_decode_err(
        &publish_topic(V311, b""),
        V311,
        DecodeError::MissingTopicName,
    );
    assert_eq!(
        DecodeError::MissingTopicName.reason_code(),
        ReasonCode::ProtocolError
    );
}

// ---------------------------------------------------------------- CONNECT

/// MQTT-3.1.2-1: the protocol name is "MQTT"; "MQIsdp" is MQTT 3.1, which
/// is not supported.
#[test]
fn connect_bad_protocol_name() {
    let err = DecodeError::InvalidProtocolName(Bytes::from_static(b"MQTX"));
    assert_decode_err(&connect_with(b"MQTX", 4, 0x02), V311, err.clone());
    assert_eq!(err.reason_code(), ReasonCode::UnsupportedProtocolVersion);
    assert_decode_err(
        &connect_with(b"MQIsdp", 3, 0x02),
        V311,
        DecodeError::InvalidProtocolName(Bytes::from_static(b"MQIsdp")),
    );
}

/// MQTT-3.1.2-2: protocol level 3 is not supported.
#[test]
fn connect_protocol_level_3() {
    let err = DecodeError::UnsupportedProtocolLevel(3);
    assert_decode_err(&connect_with(b"MQTT", 3, 0x02), V5, err.clone());
    assert_eq!(err.reason_code(), ReasonCode::UnsupportedProtocolVersion);
}

/// MQTT-3.1.2-3: the reserved bit 0 of the Connect Flags must be 0.
#[test]
fn connect_reserved_flag_bit() {
    for (level, version) in [(4, V311), (5, V5)] {
        assert_decode_err(
            &connect_with(b"MQTT", level, 0x03),
            version,
            DecodeError::InvalidConnectFlags(0x03),
        );
    }
    assert_eq!(
        DecodeError::InvalidConnectFlags(0x03).reason_code(),
        ReasonCode::MalformedPacket
    );
}

/// MQTT-3.1.2-12: Will QoS 3 is malformed.
#[test]
fn connect_will_qos_3() {
    assert_decode_err(
        &connect_with(b"MQTT", 4, 0x1E), // will 0x04, will QoS 3 0x18, clean 0x02
        V311,
        DecodeError::InvalidConnectFlags(0x1E),
    );
}

/// MQTT-3.1.2-11, MQTT-3.1.2-13: without the Will Flag, Will QoS and Will
/// Retain must be 0.
#[test]
fn connect_will_qos_or_retain_without_will_flag() {
    for flags in [0x0A, 0x12, 0x22] {
        assert_decode_err(
            &connect_with(b"MQTT", 4, flags),
            V311,
            DecodeError::InvalidConnectFlags(flags),
        );
    }
}

/// 3.1.1 MQTT-3.1.2-22: without the User Name Flag the Password Flag must be
/// 0 (5.0 allows a password alone).
#[test]
fn connect_v311_password_without_user_name() {
    assert_decode_err(
        &connect_with(b"MQTT", 4, 0x42),
        V311,
        DecodeError::InvalidConnectFlags(0x42),
    );
}

// ================================================================ encode side

/// MQTT-3.3.2-2: the encoder refuses a wildcard in a PUBLISH topic.
#[test]
fn encode_refuses_wildcard_in_publish_topic() {
    for version in [V311, V5] {
        assert_eq!(
            encode_err(Publish::new("a/+", Bytes::new()), version),
            EncodeError::InvalidTopicName(TopicError::WildcardInTopicName(2))
        );
    }
    let mut publish = Publish::new("a", Bytes::new());
    publish.properties.response_topic = Some(MqttString::from("r/#"));
    assert_eq!(
        encode_err(publish, V5),
        EncodeError::InvalidTopicName(TopicError::WildcardInTopicName(2))
    );
    let mut connect = Connect::new(V311, "c");
    connect.will = Some(Will {
        topic: MqttString::from("w/#"),
        ..Will::default()
    });
    assert_eq!(
        encode_err(connect, V311),
        EncodeError::InvalidTopicName(TopicError::WildcardInTopicName(2))
    );
}

/// Strings and binary data are at most 65,535 bytes (1.5.4, 1.5.6); 65,535
/// is accepted.
#[test]
fn encode_refuses_string_over_65535_bytes() {
    assert_eq!(
        encode_err(Connect::new(V5, big(65_536)), V5),
        EncodeError::TooLong {
            field: "client identifier",
            len: 65_536,
        }
    );
    // 1 + 3 (remaining length 65548) + 10 + 1 + 2 + 65535.
    assert_eq!(
        Packet::from(Connect::new(V5, big(65_535))).encoded_len(V5),
        Ok(65_552)
    );

    let mut publish = Publish::new("a", Bytes::new());
    publish
        .properties
        .user_properties
        .push((MqttString::from("k"), big(65_536)));
    assert_eq!(
        encode_err(publish, V5),
        EncodeError::TooLong {
            field: "User Property",
            len: 65_536,
        }
    );

    let mut publish = Publish::new("a", Bytes::new());
    publish.properties.correlation_data = Some(Bytes::from(vec![0u8; 65_536]));
    assert_eq!(
        encode_err(publish, V5),
        EncodeError::TooLong {
            field: "Correlation Data",
            len: 65_536,
        }
    );

    let mut connect = Connect::new(V311, "c");
    connect.username = Some(MqttString::from("u"));
    connect.password = Some(Bytes::from(vec![0u8; 65_536]).into());
    assert_eq!(
        encode_err(connect, V311),
        EncodeError::TooLong {
            field: "password",
            len: 65_536,
        }
    );

    assert_eq!(
        encode_err(Publish::new(big(65_536), Bytes::new()), V311),
        EncodeError::InvalidTopicName(TopicError::TooLong(65_536))
    );
}

/// MQTT-1.5.4-2: the encoder refuses U+0000 in any string.
#[test]
fn encode_refuses_null_character() {
    let mut connect = Connect::new(V311, "c");
    connect.username = Some(MqttString::from("a\0b"));
    assert_eq!(
        encode_err(connect, V311),
        EncodeError::NullCharacter("user name")
    );
    assert_eq!(
        encode_err(Connect::new(V5, "\0"), V5),
        EncodeError::NullCharacter("client identifier")
    );
    let mut puback = PubAck::new(1);
    puback
        .properties
        .user_properties
        .push((MqttString::from("k\0"), MqttString::from("v")));
    assert_eq!(
        encode_err(puback, V5),
        EncodeError::NullCharacter("User Property")
    );
    assert_eq!(
        encode_err(Publish::new("a\0", Bytes::new()), V5),
        EncodeError::InvalidTopicName(TopicError::NullCharacter)
    );
}

/// The encoder refuses a property the packet may not carry (2.2.2.2); on
/// 3.1.1 properties are not encoded at all.
#[test]
fn encode_refuses_property_not_allowed() {
    let mut publish = Publish::new("a", Bytes::new());
    publish.properties.server_keep_alive = Some(10);
    assert_eq!(
        encode_err(publish.clone(), V5),
        EncodeError::PropertyNotAllowed {
            property: PropertyId::ServerKeepAlive,
            context: PropertyContext::Publish,
        }
    );
    let mut buf = Vec::new();
    assert_eq!(Packet::from(publish).encode(V311, &mut buf), Ok(5));
    assert_eq!(buf, [0x30, 0x03, 0x00, 0x01, b'a']);

    let mut connect = Connect::new(V5, "c");
    connect.properties.topic_alias = Some(1);
    assert_eq!(
        encode_err(connect, V5),
        EncodeError::PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            context: PropertyContext::Connect,
        }
    );

    let mut connect = Connect::new(V5, "c");
    let mut will = Will {
        topic: MqttString::from("w"),
        ..Will::default()
    };
    will.properties.session_expiry_interval = Some(1);
    connect.will = Some(will);
    assert_eq!(
        encode_err(connect, V5),
        EncodeError::PropertyNotAllowed {
            property: PropertyId::SessionExpiryInterval,
            context: PropertyContext::Will,
        }
    );

    let mut disconnect = Disconnect::new(ReasonCode::Success);
    disconnect.properties.receive_maximum = Some(1);
    assert_eq!(
        encode_err(disconnect, V5),
        EncodeError::PropertyNotAllowed {
            property: PropertyId::ReceiveMaximum,
            context: PropertyContext::Disconnect,
        }
    );
}

/// MQTT-3.3.2-8: the encoder refuses Topic Alias 0.
#[test]
fn encode_refuses_topic_alias_0() {
    let mut publish = Publish::new("a", Bytes::new());
    publish.properties.topic_alias = Some(0);
    assert_eq!(
        encode_err(publish, V5),
        EncodeError::InvalidPropertyValue {
            property: PropertyId::TopicAlias,
            value: 0,
        }
    );
}

/// Subscription Identifiers run from 1 to 268,435,455 (3.8.2.1.2), one per
/// SUBSCRIBE.
#[test]
fn encode_refuses_invalid_subscription_identifiers() {
    for id in [0, 268_435_456, u32::MAX] {
        let mut subscribe = Subscribe::new(1, "a", QoS::AtMostOnce);
        subscribe.properties.subscription_identifiers = vec![id];
        assert_eq!(
            encode_err(subscribe, V5),
            EncodeError::InvalidPropertyValue {
                property: PropertyId::SubscriptionIdentifier,
                value: id,
            }
        );
        let mut publish = Publish::new("a", Bytes::new());
        publish.properties.subscription_identifiers = vec![1, id];
        assert_eq!(
            encode_err(publish, V5),
            EncodeError::InvalidPropertyValue {
                property: PropertyId::SubscriptionIdentifier,
                value: id,
            }
        );
    }
    let mut subscribe = Subscribe::new(1, "a", QoS::AtMostOnce);
    subscribe.properties.subscription_identifiers = vec![1, 2];
    assert_eq!(
        encode_err(subscribe, V5),
        EncodeError::InvalidPropertyValue {
            property: PropertyId::SubscriptionIdentifier,
            value: 2,
        }
    );
}

/// The encoder refuses Receive Maximum 0, Maximum Packet Size 0 and Maximum
/// QoS 2.
#[test]
fn encode_refuses_invalid_property_values() {
    let mut connect = Connect::new(V5, "c");
    connect.properties.receive_maximum = Some(0);
    assert_eq!(
        encode_err(connect, V5),
        EncodeError::InvalidPropertyValue {
            property: PropertyId::ReceiveMaximum,
            value: 0,
        }
    );
    let mut connect = Connect::new(V5, "c");
    connect.properties.maximum_packet_size = Some(0);
    assert_eq!(
        encode_err(connect, V5),
        EncodeError::InvalidPropertyValue {
            property: PropertyId::MaximumPacketSize,
            value: 0,
        }
    );
    let mut connack = ConnAck::default();
    connack.properties.maximum_qos = Some(QoS::ExactlyOnce);
    assert_eq!(
        encode_err(connack, V5),
        EncodeError::InvalidPropertyValue {
            property: PropertyId::MaximumQoS,
            value: 2,
        }
    );
}

/// MQTT-3.3.1-2: the encoder refuses DUP on QoS 0.
#[test]
fn encode_refuses_dup_on_qos_0() {
    let mut publish = Publish::new("a", Bytes::new());
    publish.dup = true;
    for version in [V311, V5] {
        assert_eq!(
            encode_err(publish.clone(), version),
            EncodeError::DupWithQoS0
        );
    }
}

/// MQTT-2.2.1-3: the encoder refuses packet identifier 0 where one is needed.
#[test]
fn encode_refuses_packet_identifier_0() {
    let mut publish = Publish::new("a", Bytes::new());
    publish.qos = QoS::AtLeastOnce;
    assert_eq!(
        encode_err(publish, V311),
        EncodeError::ZeroPacketIdentifier(PacketType::Publish)
    );
    assert_eq!(
        encode_err(PubAck::new(0), V5),
        EncodeError::ZeroPacketIdentifier(PacketType::PubAck)
    );
    assert_eq!(
        encode_err(PubRel::new(0), V311),
        EncodeError::ZeroPacketIdentifier(PacketType::PubRel)
    );
    assert_eq!(
        encode_err(Subscribe::new(0, "a", QoS::AtMostOnce), V5),
        EncodeError::ZeroPacketIdentifier(PacketType::Subscribe)
    );
    let unsubscribe = Unsubscribe {
        packet_id: 0,
        filters: vec![MqttString::from("a")],
        properties: Properties::default(),
    };
    assert_eq!(
        encode_err(unsubscribe, V311),
        EncodeError::ZeroPacketIdentifier(PacketType::Unsubscribe)
    );
}

/// MQTT-3.8.3-2, MQTT-3.10.3-2: the encoder refuses SUBSCRIBE and
/// UNSUBSCRIBE without filters, and SUBACK (and 5.0 UNSUBACK) without codes.
#[test]
fn encode_refuses_empty_payloads() {
    let subscribe = Subscribe {
        packet_id: 1,
        subscriptions: Vec::new(),
        properties: Properties::default(),
    };
    for version in [V311, V5] {
        assert_eq!(
            encode_err(subscribe.clone(), version),
            EncodeError::EmptyPayload(PacketType::Subscribe)
        );
    }
    let unsubscribe = Unsubscribe {
        packet_id: 1,
        ..Unsubscribe::default()
    };
    assert_eq!(
        encode_err(unsubscribe, V5),
        EncodeError::EmptyPayload(PacketType::Unsubscribe)
    );
    let suback = SubAck {
        packet_id: 1,
        ..SubAck::default()
    };
    assert_eq!(
        encode_err(suback, V311),
        EncodeError::EmptyPayload(PacketType::SubAck)
    );
    let unsuback = UnsubAck {
        packet_id: 1,
        ..UnsubAck::default()
    };
    assert_eq!(
        encode_err(unsuback, V5),
        EncodeError::EmptyPayload(PacketType::UnsubAck)
    );
}

/// AUTH does not exist in 3.1.1.
#[test]
fn encode_refuses_auth_on_v311() {
    assert_eq!(
        encode_err(Auth::default(), V311),
        EncodeError::NotInV311("AUTH")
    );
}

/// 3.1.1 MQTT-3.1.2-22: no password without a user name.
#[test]
fn encode_refuses_v311_password_without_user_name() {
    let mut connect = Connect::new(V311, "c");
    connect.password = Some(Bytes::from_static(b"pw").into());
    assert_eq!(
        encode_err(connect, V311),
        EncodeError::NotInV311("a password without a user name")
    );
}

/// A 5.0 CONNACK reason code with no 3.1.1 return code cannot be sent on
/// 3.1.1; those with one can.
#[test]
fn encode_refuses_connack_code_without_v311_equivalent() {
    let connack = ConnAck {
        reason_code: ReasonCode::ServerBusy,
        ..ConnAck::default()
    };
    assert_eq!(
        encode_err(connack, V311),
        EncodeError::NotInV311("this CONNACK reason code")
    );
    let connack = ConnAck {
        reason_code: ReasonCode::ClientIdentifierNotValid,
        ..ConnAck::default()
    };
    let mut buf = Vec::new();
    assert_eq!(Packet::from(connack).encode(V311, &mut buf), Ok(4));
    assert_eq!(buf, [0x20, 0x02, 0x00, 0x02]); // return code 2: identifier rejected
}

/// The encoder refuses a reason code outside the packet's column in 2.4.
#[test]
fn encode_refuses_invalid_reason_code_for_packet_type() {
    let puback = PubAck {
        reason_code: ReasonCode::DisconnectWithWillMessage,
        ..PubAck::new(1)
    };
    assert_eq!(
        encode_err(puback, V5),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::PubAck,
            code: ReasonCode::DisconnectWithWillMessage,
        }
    );
    let pubrel = PubRel {
        reason_code: ReasonCode::NoMatchingSubscribers,
        ..PubRel::new(1)
    };
    assert_eq!(
        encode_err(pubrel, V5),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::PubRel,
            code: ReasonCode::NoMatchingSubscribers,
        }
    );
    assert_eq!(
        encode_err(Disconnect::new(ReasonCode::GrantedQoS1), V5),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::Disconnect,
            code: ReasonCode::GrantedQoS1,
        }
    );
    let auth = Auth {
        reason_code: ReasonCode::NotAuthorized,
        ..Auth::default()
    };
    assert_eq!(
        encode_err(auth, V5),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::Auth,
            code: ReasonCode::NotAuthorized,
        }
    );
    let connack = ConnAck {
        reason_code: ReasonCode::GrantedQoS1,
        ..ConnAck::default()
    };
    assert_eq!(
        encode_err(connack, V5),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::ConnAck,
            code: ReasonCode::GrantedQoS1,
        }
    );
    let suback = SubAck {
        packet_id: 1,
        properties: Properties::default(),
        reason_codes: vec![ReasonCode::Success, ReasonCode::NotAuthorized],
    };
    assert_eq!(
        encode_err(suback, V311),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::SubAck,
            code: ReasonCode::NotAuthorized,
        }
    );
    let unsuback = UnsubAck {
        packet_id: 1,
        properties: Properties::default(),
        reason_codes: vec![ReasonCode::NoMatchingSubscribers],
    };
    assert_eq!(
        encode_err(unsuback, V5),
        EncodeError::InvalidReasonCode {
            packet_type: PacketType::UnsubAck,
            code: ReasonCode::NoMatchingSubscribers,
        }
    );
}

/// The encoder refuses an empty PUBLISH topic unless a 5.0 Topic Alias
/// stands for it.
#[test]
fn encode_refuses_empty_topic_without_alias() {
    for version in [V311, V5] {
        assert_eq!(
            encode_err(Publish::new("", Bytes::new()), version),
            EncodeError::MissingTopicName
        );
    }
    let mut publish = Publish::new("", Bytes::new());
    publish.properties.topic_alias = Some(1);
    assert_eq!(encode_err(publish, V311), EncodeError::MissingTopicName);
}

/// MQTT-3.8.3-4: the encoder refuses No Local on a shared subscription in
/// 5.0; 3.1.1 has no No Local bit to send.
#[test]
fn encode_refuses_no_local_on_shared_subscription() {
    let mut subscribe = Subscribe::new(1, "$share/g/a", QoS::AtMostOnce);
    subscribe.subscriptions[0].options.no_local = true;
    assert_eq!(
        encode_err(subscribe.clone(), V5),
        EncodeError::NoLocalOnSharedSubscription(MqttString::from("$share/g/a"))
    );
    let mut buf = Vec::new();
    assert!(Packet::from(subscribe).encode(V311, &mut buf).is_ok());
    assert_eq!(buf.last(), Some(&0x00), "3.1.1 options carry the QoS only");
}

/// The encoder refuses invalid topic filters in SUBSCRIBE and UNSUBSCRIBE.
#[test]
fn encode_refuses_invalid_topic_filters() {
    let subscribe = Subscribe {
        packet_id: 1,
        subscriptions: vec![SubscribeFilter {
            filter: MqttString::from("a/#/b"),
            options: SubscriptionOptions::default(),
        }],
        properties: Properties::default(),
    };
    assert_eq!(
        encode_err(subscribe, V5),
        EncodeError::InvalidTopicFilter(TopicError::MisplacedWildcard(2))
    );
    let unsubscribe = Unsubscribe {
        packet_id: 1,
        filters: vec![MqttString::from("$share/x")],
        properties: Properties::default(),
    };
    assert_eq!(
        encode_err(unsubscribe, V311),
        EncodeError::InvalidTopicFilter(TopicError::InvalidSharedSubscription)
    );
}
