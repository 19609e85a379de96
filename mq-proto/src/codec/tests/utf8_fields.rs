//! "This field is a UTF-8 Encoded String": Will Topic (MQTT-3.1.3-11; 3.1.1
//! MQTT-3.1.3-10), Response Topic (MQTT-3.3.2-13), SUBSCRIBE and UNSUBSCRIBE
//! Topic Filters (MQTT-3.8.3-1, MQTT-3.10.3-1), Client Identifier
//! (MQTT-3.1.3-4), User Name (MQTT-3.1.3-12; 3.1.1 MQTT-3.1.3-11), Content
//! Type (MQTT-3.3.2-19), both halves of a User Property (MQTT-1.5.7-1). Bytes that are not one (ill-formed, a surrogate,
//! U+0000) in exactly that field are refused with the error naming the field,
//! while the same packet with a valid string there decodes. On the encode
//! side a user cannot build such a string ([`MqttString`] holds UTF-8 only;
//! `try_from_bytes` refuses the rest), and U+0000 in that field is refused by
//! the encoder.

use alloc::vec;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use super::malformed::{assert_decode_err, encode_err, packet, publish_v5_with, subscribe_with};
use crate::codec::{
    Connect, DecodeError, EncodeError, MqttString, Packet, Properties, ProtocolVersion, Publish,
    Subscribe, SubscribeFilter, SubscriptionOptions, Unsubscribe, Will,
};
use crate::topic::TopicError;
use ProtocolVersion::{V311, V5};

/// Ill-formed UTF-8 (C3 28), a UTF-16 surrogate (ED A0 80 is U+D800), and
/// U+0000, each after a valid `a`, with the error for a field named `field`.
fn bad_strings(field: &'static str) -> [(&'static [u8], DecodeError); 3] {
    [
        (b"a\xC3\x28", DecodeError::InvalidUtf8(field)),
        (b"a\xED\xA0\x80", DecodeError::InvalidUtf8(field)),
        (b"a\x00", DecodeError::NullCharacter(field)),
    ]
}

/// Decodes `bytes` as one whole packet and expects success.
#[track_caller]
fn assert_decodes(bytes: &[u8], version: ProtocolVersion) -> Packet {
    Packet::decode(&Bytes::copy_from_slice(bytes), version)
        .unwrap_or_else(|e| panic!("{bytes:02X?} must decode: {e:?}"))
}

/// A CONNECT with a Will: `topic` as Will Topic, `will_props` as Will
/// Properties (5.0 only).
fn connect_with_will(version: ProtocolVersion, topic: &[u8], will_props: &[u8]) -> Vec<u8> {
    let level = if version == V5 { 0x05 } else { 0x04 };
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, 0x06, 0x00, 0x00];
    if version == V5 {
        body.push(0x00); // CONNECT properties
    }
    body.extend_from_slice(&[0x00, 0x00]); // client identifier ""
    if version == V5 {
        body.push(will_props.len() as u8);
        body.extend_from_slice(will_props);
    }
    body.extend_from_slice(&[0x00, topic.len() as u8]);
    body.extend_from_slice(topic);
    body.extend_from_slice(&[0x00, 0x00]); // will payload ""
    packet(0x10, &body)
}

/// A Response Topic property (0x08) holding `topic`.
fn response_topic(topic: &[u8]) -> Vec<u8> {
    let mut p = vec![0x08, 0x00, topic.len() as u8];
    p.extend_from_slice(topic);
    p
}

/// An UNSUBSCRIBE with packet id 1 and one `filter`.
fn unsubscribe_with(version: ProtocolVersion, filter: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == V5 {
        body.push(0x00); // property length
    }
    body.extend_from_slice(&[0x00, filter.len() as u8]);
    body.extend_from_slice(filter);
    packet(0xA2, &body)
}

/// MQTT-3.1.3-11 (5.0), the Will Topic of 3.1.1 3.1.3: decode.
#[test]
fn will_topic_that_is_not_utf8_is_refused() {
    for version in [V311, V5] {
        assert_decodes(&connect_with_will(version, b"ab", &[]), version);
        for (topic, err) in bad_strings("will topic") {
            assert_decode_err(&connect_with_will(version, topic, &[]), version, err);
        }
    }
}

/// MQTT-3.3.2-13: the Response Topic of a PUBLISH (read by the client) and
/// of a Will (written by it): decode.
#[test]
fn response_topic_that_is_not_utf8_is_refused() {
    assert_decodes(&publish_v5_with(&response_topic(b"ab")), V5);
    assert_decodes(&connect_with_will(V5, b"w", &response_topic(b"ab")), V5);
    for (topic, err) in bad_strings("Response Topic") {
        assert_decode_err(&publish_v5_with(&response_topic(topic)), V5, err.clone());
        assert_decode_err(
            &connect_with_will(V5, b"w", &response_topic(topic)),
            V5,
            err,
        );
    }
}

/// MQTT-3.8.3-1 (both versions): a SUBSCRIBE Topic Filter: decode.
#[test]
fn subscribe_filter_that_is_not_utf8_is_refused() {
    for version in [V311, V5] {
        assert_decodes(&subscribe_with(version, b"ab", 0x00), version);
        for (filter, err) in bad_strings("topic filter") {
            assert_decode_err(&subscribe_with(version, filter, 0x00), version, err);
        }
    }
}

/// MQTT-3.10.3-1 (both versions): an UNSUBSCRIBE Topic Filter: decode.
#[test]
fn unsubscribe_filter_that_is_not_utf8_is_refused() {
    for version in [V311, V5] {
        assert_decodes(&unsubscribe_with(version, b"ab"), version);
        for (filter, err) in bad_strings("topic filter") {
            assert_decode_err(&unsubscribe_with(version, filter), version, err);
        }
    }
}

/// MQTT-3.1.3-4 (both versions), MQTT-3.1.3-12 (3.1.1: MQTT-3.1.3-11): the
/// Client Identifier and the User Name of a CONNECT: decode.
#[test]
fn client_identifier_and_user_name_that_are_not_utf8_are_refused() {
    let connect = |version: ProtocolVersion, client_id: &[u8], user_name: Option<&[u8]>| {
        let level = if version == V5 { 0x05 } else { 0x04 };
        let flags = if user_name.is_some() { 0x82 } else { 0x02 };
        let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, flags, 0x00, 0x00];
        if version == V5 {
            body.push(0x00); // CONNECT properties
        }
        for field in [Some(client_id), user_name].into_iter().flatten() {
            body.extend_from_slice(&[0x00, field.len() as u8]);
            body.extend_from_slice(field);
        }
        packet(0x10, &body)
    };
    for version in [V311, V5] {
        assert_decodes(&connect(version, b"ab", Some(b"ab")), version);
        for (bad, err) in bad_strings("client identifier") {
            assert_decode_err(&connect(version, bad, None), version, err);
        }
        for (bad, err) in bad_strings("user name") {
            assert_decode_err(&connect(version, b"c", Some(bad)), version, err);
        }
    }
}

/// MQTT-3.3.2-19: the Content Type of a PUBLISH: decode.
#[test]
fn content_type_that_is_not_utf8_is_refused() {
    let content_type = |value: &[u8]| {
        let mut p = vec![0x03, 0x00, value.len() as u8];
        p.extend_from_slice(value);
        publish_v5_with(&p)
    };
    assert_decodes(&content_type(b"ab"), V5);
    for (bad, err) in bad_strings("Content Type") {
        assert_decode_err(&content_type(bad), V5, err);
    }
}

/// MQTT-1.5.7-1: both halves of a User Property (a UTF-8 String Pair): decode.
#[test]
fn user_property_name_or_value_that_is_not_utf8_is_refused() {
    let user_property = |name: &[u8], value: &[u8]| {
        let mut p = vec![0x26, 0x00, name.len() as u8];
        p.extend_from_slice(name);
        p.extend_from_slice(&[0x00, value.len() as u8]);
        p.extend_from_slice(value);
        publish_v5_with(&p)
    };
    assert_decodes(&user_property(b"ab", b"cd"), V5);
    for (bad, err) in bad_strings("User Property") {
        assert_decode_err(&user_property(bad, b"v"), V5, err.clone());
        assert_decode_err(&user_property(b"k", bad), V5, err);
    }
}

/// The constructor side: an [`MqttString`] cannot hold what is not a UTF-8
/// Encoded String, so no field the client writes can.
#[test]
fn mqtt_string_refuses_bytes_that_are_not_a_utf8_string() {
    for (bytes, _) in bad_strings("string") {
        let got = MqttString::try_from_bytes(Bytes::from_static(bytes));
        assert!(got.is_err(), "{bytes:02X?} accepted as {got:?}");
    }
    assert_eq!(
        MqttString::try_from_bytes(Bytes::from_static(b"a\xC3\xA9")).as_deref(),
        Ok("aé")
    );
}

/// The encode side: U+0000 in each of these fields is refused and nothing is
/// written; the same packet with a valid string there encodes.
#[test]
fn encoder_refuses_u0000_in_each_utf8_field() {
    let with_will = |version, will: Will| {
        let mut c = Connect::new(version, "c");
        c.will = Some(will);
        c
    };
    let mut will_response = Will::new("w", "");
    will_response.properties.response_topic = Some("r\0".into());
    let mut publish = Publish::new("t", Bytes::new());
    publish.properties.response_topic = Some("r\0".into());
    let mut user_value = Publish::new("t", Bytes::new());
    user_value
        .properties
        .user_properties
        .push(("k".into(), "v\0".into()));
    let mut content_type = Publish::new("t", Bytes::new());
    content_type.properties.content_type = Some("c\0".into());
    let subscribe = |filter: &str| Subscribe {
        packet_id: 1,
        subscriptions: vec![SubscribeFilter {
            filter: filter.into(),
            options: SubscriptionOptions::default(),
        }],
        properties: Properties::default(),
    };
    let unsubscribe = |filter: &str| Unsubscribe {
        packet_id: 1,
        filters: vec![filter.into()],
        properties: Properties::default(),
    };
    let nul_topic = EncodeError::InvalidTopicName(TopicError::NullCharacter);
    let nul_filter = EncodeError::InvalidTopicFilter(TopicError::NullCharacter);
    let cases: Vec<(Packet, ProtocolVersion, EncodeError)> = vec![
        (
            with_will(V311, Will::new("w\0", "")).into(),
            V311,
            nul_topic.clone(),
        ),
        (
            with_will(V5, Will::new("w\0", "")).into(),
            V5,
            nul_topic.clone(),
        ),
        (with_will(V5, will_response).into(), V5, nul_topic.clone()),
        (publish.into(), V5, nul_topic),
        (
            content_type.into(),
            V5,
            EncodeError::NullCharacter("Content Type"),
        ),
        (subscribe("a\0").into(), V311, nul_filter.clone()),
        (subscribe("a\0").into(), V5, nul_filter.clone()),
        (unsubscribe("a\0").into(), V311, nul_filter.clone()),
        (unsubscribe("a\0").into(), V5, nul_filter),
    ];
    for (packet, version, err) in cases {
        assert_eq!(encode_err(packet.clone(), version), err, "{packet:?}");
    }
    let valid: [(Packet, ProtocolVersion); 4] = [
        (with_will(V311, Will::new("w", "")).into(), V311),
        (with_will(V5, Will::new("w", "")).into(), V5),
        (subscribe("a").into(), V5),
        (unsubscribe("a").into(), V311),
    ];
    for (packet, version) in valid {
        let mut buf = BytesMut::new();
        packet
            .encode(version, &mut buf)
            .expect("valid packet encodes");
    }
}
