//! Property tests for every encode/decode pair.
//!
//! The strategies below build any *valid* packet of either protocol version:
//! strings of arbitrary Unicode without U+0000, topic names and filters with
//! wildcards and `$share`, properties limited to what the packet type allows
//! (through [`PropertyId::is_allowed_in`]) with values in range, and on 3.1.1
//! only what 3.1.1 can express, so that every round trip is exact.
//!
//! The properties checked are:
//! - encode then decode gives the packet back, and `encoded_len` is the
//!   number of bytes written;
//! - a stream of packets cut into arbitrary chunks comes out of [`Decoder`]
//!   whole and in order;
//! - decoding arbitrary or corrupted bytes returns (`Ok` or `Err`) and never panics.
//!
//! The `regressions` module at the end keeps inputs the fuzzers found.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use crate::codec::wire::{Counter, Reader, Writer};
use crate::topic::{validate_topic_filter, validate_topic_name};
use crate::{
    Auth, ConnAck, Connect, ConnectReturnCode, Decoder, Disconnect, MqttString, Packet, PacketType,
    PayloadFormat, Properties, PropertyContext, PropertyId, PropertyValues, ProtocolVersion,
    PubAck, PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will, VARIABLE_BYTE_INTEGER_MAX,
};

/// Cases per property: enough to cover every packet type many times, small
/// enough for the suite to stay quick on two cores.
const CASES: u32 = 256;

// ---------------------------------------------------------------- primitives

/// Any character but U+0000 (which MQTT strings may not hold).
fn non_null_char() -> impl Strategy<Value = char> {
    any::<char>().prop_map(|c| if c == '\0' { '\u{1}' } else { c })
}

/// A UTF-8 Encoded String: arbitrary Unicode, no U+0000, possibly empty.
fn mqtt_string() -> impl Strategy<Value = MqttString> {
    prop::collection::vec(non_null_char(), 0..12)
        .prop_map(|chars| MqttString::from(chars.into_iter().collect::<String>()))
}

/// Binary data, possibly empty.
fn binary() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from)
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

/// A non-zero packet identifier.
fn packet_id() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

/// One topic level: any characters but `/`, the wildcards and U+0000; may be empty.
fn topic_level() -> impl Strategy<Value = String> {
    let ch = non_null_char().prop_map(|c| if matches!(c, '/' | '+' | '#') { '_' } else { c });
    prop_oneof![
        prop::collection::vec(ch, 0..6).prop_map(|cs| cs.into_iter().collect()),
        // Short ASCII levels, so filters and names sometimes share levels.
        "[a-c$]{0,2}",
    ]
}

/// A valid Topic Name: one or more levels, no wildcards, not empty.
fn topic_name() -> impl Strategy<Value = MqttString> {
    prop::collection::vec(topic_level(), 1..5)
        .prop_map(|levels| {
            let name = levels.join("/");
            if name.is_empty() {
                String::from("/")
            } else {
                name
            }
        })
        .prop_filter("valid topic name", |n| validate_topic_name(n).is_ok())
        .prop_map(MqttString::from)
}

/// A valid Topic Filter: levels and `+`, maybe a final `#`, maybe shared.
fn topic_filter() -> impl Strategy<Value = MqttString> {
    let level = prop_oneof![3 => topic_level(), 1 => Just(String::from("+"))];
    let share_name = topic_level().prop_filter("non-empty share name", |g| !g.is_empty());
    (
        prop::collection::vec(level, 0..4),
        any::<bool>(),
        prop::option::weighted(0.2, share_name),
    )
        .prop_map(|(mut levels, hash, share)| {
            if hash || levels.is_empty() {
                levels.push(String::from("#"));
            }
            let filter = levels.join("/");
            match share {
                Some(group) => alloc::format!("$share/{group}/{filter}"),
                None => filter,
            }
        })
        .prop_filter("valid topic filter", |f| validate_topic_filter(f).is_ok())
        .prop_map(MqttString::from)
}

/// Every reason code a 5.0 packet of `packet_type` may carry.
fn reason_code(packet_type: PacketType) -> impl Strategy<Value = ReasonCode> {
    let codes: Vec<ReasonCode> = (0..=u8::MAX)
        .filter_map(|b| ReasonCode::try_from(b).ok())
        .filter(|c| c.is_valid_for(packet_type))
        .collect();
    prop::sample::select(codes)
}

/// `strategy` on 5.0, the default on 3.1.1.
fn v5_only<T: Default + core::fmt::Debug + Clone + 'static>(
    version: ProtocolVersion,
    strategy: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    match version {
        ProtocolVersion::V5 => strategy.boxed(),
        ProtocolVersion::V311 => Just(T::default()).boxed(),
    }
}

// ---------------------------------------------------------------- properties

/// `Some` three times in ten.
fn opt<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    prop::option::weighted(0.3, s)
}

/// User Properties, with names drawn often from a tiny pool so that they repeat.
fn user_properties() -> impl Strategy<Value = Vec<(MqttString, MqttString)>> {
    let name = prop_oneof![2 => Just(MqttString::from("k")), 1 => mqtt_string()];
    prop::collection::vec((name, mqtt_string()), 0..4)
}

/// Any set of properties that may appear in `context`, every value in range.
///
/// All 27 are drawn, then those the context does not allow are removed.
fn properties(context: PropertyContext) -> impl Strategy<Value = Properties> {
    let payload_format = prop_oneof![Just(PayloadFormat::Unspecified), Just(PayloadFormat::Utf8)];
    let message = (
        opt(payload_format),
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(topic_name()),
        opt(binary()),
        prop::collection::vec(1..=VARIABLE_BYTE_INTEGER_MAX, 0..4),
    );
    let session = (
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(any::<u16>()),
        opt(mqtt_string()),
        opt(binary()),
        opt(any::<bool>()),
        opt(any::<u32>()),
        opt(any::<bool>()),
        opt(mqtt_string()),
        opt(mqtt_string()),
        opt(mqtt_string()),
    );
    let limits = (
        opt(1..=u16::MAX),
        opt(any::<u16>()),
        opt(1..=u16::MAX),
        opt(prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce)]),
        opt(any::<bool>()),
        user_properties(),
        opt(1..=u32::MAX),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
    );
    (message, session, limits).prop_map(move |(m, s, l)| {
        let mut p = Properties::from(PropertyValues {
            payload_format_indicator: m.0,
            message_expiry_interval: m.1,
            content_type: m.2,
            response_topic: m.3,
            correlation_data: m.4,
            subscription_identifiers: m.5,
            session_expiry_interval: s.0,
            assigned_client_identifier: s.1,
            server_keep_alive: s.2,
            authentication_method: s.3,
            authentication_data: s.4,
            request_problem_information: s.5,
            will_delay_interval: s.6,
            request_response_information: s.7,
            response_information: s.8,
            server_reference: s.9,
            reason_string: s.10,
            receive_maximum: l.0,
            topic_alias_maximum: l.1,
            topic_alias: l.2,
            maximum_qos: l.3,
            retain_available: l.4,
            user_properties: l.5,
            maximum_packet_size: l.6,
            wildcard_subscription_available: l.7,
            subscription_identifier_available: l.8,
            shared_subscription_available: l.9,
        });
        restrict(&mut p, context);
        p
    })
}

/// Removes every property `context` does not allow.
fn restrict(p: &mut Properties, context: PropertyContext) {
    use PropertyId::*;
    let allowed = |id: PropertyId| id.is_allowed_in(context);
    macro_rules! keep {
        ($($id:ident => $field:ident),* $(,)?) => {$(
            if !allowed($id) {
                p.$field = Default::default();
            }
        )*};
    }
    keep!(
        PayloadFormatIndicator => payload_format_indicator,
        MessageExpiryInterval => message_expiry_interval,
        ContentType => content_type,
        ResponseTopic => response_topic,
        CorrelationData => correlation_data,
        SubscriptionIdentifier => subscription_identifiers,
        SessionExpiryInterval => session_expiry_interval,
        AssignedClientIdentifier => assigned_client_identifier,
        ServerKeepAlive => server_keep_alive,
        AuthenticationMethod => authentication_method,
        AuthenticationData => authentication_data,
        RequestProblemInformation => request_problem_information,
        WillDelayInterval => will_delay_interval,
        RequestResponseInformation => request_response_information,
        ResponseInformation => response_information,
        ServerReference => server_reference,
        ReasonString => reason_string,
        ReceiveMaximum => receive_maximum,
        TopicAliasMaximum => topic_alias_maximum,
        TopicAlias => topic_alias,
        MaximumQoS => maximum_qos,
        RetainAvailable => retain_available,
        UserProperty => user_properties,
        MaximumPacketSize => maximum_packet_size,
        WildcardSubscriptionAvailable => wildcard_subscription_available,
        SubscriptionIdentifierAvailable => subscription_identifier_available,
        SharedSubscriptionAvailable => shared_subscription_available,
    );
    // SUBSCRIBE carries at most one Subscription Identifier (3.8.2.1.2).
    if context == PropertyContext::Subscribe {
        p.subscription_identifiers.truncate(1);
    }
}

// ---------------------------------------------------------------- packets

fn connect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let will = (
        topic_name(),
        binary(),
        qos(),
        any::<bool>(),
        v5_only(version, properties(PropertyContext::Will)),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic,
            payload,
            qos,
            retain,
            properties,
        });
    (
        any::<bool>(),
        any::<u16>(),
        mqtt_string(),
        opt(will),
        opt(mqtt_string()),
        opt(binary()),
        v5_only(version, properties(PropertyContext::Connect)),
    )
        .prop_map(
            move |(
                clean_start,
                keep_alive,
                client_id,
                will,
                mut username,
                password,
                properties,
            )| {
                // 3.1.1 cannot send a password without a user name.
                if version == ProtocolVersion::V311 && password.is_some() && username.is_none() {
                    username = Some(MqttString::from("user"));
                }
                Packet::from(Connect {
                    protocol_version: version,
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password: password.map(Into::into),
                    properties,
                })
            },
        )
}

fn connack(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = match version {
        ProtocolVersion::V5 => reason_code(PacketType::ConnAck).boxed(),
        ProtocolVersion::V311 => (0u8..=5)
            .prop_filter_map("3.1.1 return code", |b| {
                ConnectReturnCode::from_byte(b).map(ReasonCode::from)
            })
            .boxed(),
    };
    (
        any::<bool>(),
        code,
        v5_only(version, properties(PropertyContext::ConnAck)),
    )
        .prop_map(|(session_present, reason_code, properties)| {
            Packet::ConnAck(ConnAck {
                session_present,
                reason_code,
                properties,
            })
        })
}

fn publish(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![3 => topic_name(), 1 => Just(MqttString::from(""))],
        packet_id(),
        binary(),
        v5_only(version, properties(PropertyContext::Publish)),
    )
        .prop_map(
            |(qos, dup, retain, topic, packet_id, payload, properties)| {
                let at_most_once = qos == QoS::AtMostOnce;
                let mut p = Publish {
                    dup: dup && !at_most_once,
                    qos,
                    retain,
                    topic,
                    packet_id: if at_most_once { 0 } else { packet_id },
                    payload,
                    properties,
                };
                // An empty topic needs a Topic Alias, which only 5.0 has.
                if p.topic.is_empty() && p.properties.topic_alias.is_none() {
                    p.topic = MqttString::from("t");
                }
                Packet::Publish(p)
            },
        )
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP.
fn ack(version: ProtocolVersion, packet_type: PacketType) -> BoxedStrategy<Packet> {
    let context = match packet_type {
        PacketType::PubAck => PropertyContext::PubAck,
        PacketType::PubRec => PropertyContext::PubRec,
        PacketType::PubRel => PropertyContext::PubRel,
        _ => PropertyContext::PubComp,
    };
    (
        packet_id(),
        v5_only(version, reason_code(packet_type)),
        v5_only(version, properties(context)),
    )
        .prop_map(
            move |(packet_id, reason_code, properties)| match packet_type {
                PacketType::PubAck => Packet::PubAck(PubAck {
                    packet_id,
                    reason_code,
                    properties,
                }),
                PacketType::PubRec => Packet::PubRec(PubRec {
                    packet_id,
                    reason_code,
                    properties,
                }),
                PacketType::PubRel => Packet::PubRel(PubRel {
                    packet_id,
                    reason_code,
                    properties,
                }),
                _ => Packet::PubComp(PubComp {
                    packet_id,
                    reason_code,
                    properties,
                }),
            },
        )
        .boxed()
}

fn subscription(version: ProtocolVersion) -> impl Strategy<Value = Subscription> {
    let retain_handling = prop_oneof![
        Just(RetainHandling::SendAtSubscribe),
        Just(RetainHandling::SendAtSubscribeIfNew),
        Just(RetainHandling::DoNotSend),
    ];
    (
        topic_filter(),
        qos(),
        any::<bool>(),
        any::<bool>(),
        retain_handling,
    )
        .prop_map(move |(filter, qos, no_local, rap, retain_handling)| {
            let options = match version {
                // 3.1.1 sends the QoS alone.
                ProtocolVersion::V311 => SubscriptionOptions {
                    qos,
                    ..Default::default()
                },
                ProtocolVersion::V5 => SubscriptionOptions {
                    qos,
                    // No Local is a Protocol Error on a shared subscription (MQTT-3.8.3-4).
                    no_local: no_local && !filter.starts_with("$share/"),
                    retain_as_published: rap,
                    retain_handling,
                },
            };
            Subscription { filter, options }
        })
}

fn subscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        prop::collection::vec(subscription(version), 1..4),
        v5_only(version, properties(PropertyContext::Subscribe)),
    )
        .prop_map(|(packet_id, subscriptions, properties)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions,
                properties,
            })
        })
}

fn suback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = match version {
        ProtocolVersion::V5 => reason_code(PacketType::SubAck).boxed(),
        ProtocolVersion::V311 => prop::sample::select(alloc::vec![
            ReasonCode::GRANTED_QOS_0,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
        ])
        .boxed(),
    };
    (
        packet_id(),
        prop::collection::vec(code, 1..5),
        v5_only(version, properties(PropertyContext::SubAck)),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            Packet::SubAck(SubAck {
                packet_id,
                properties,
                reason_codes,
            })
        })
}

fn unsubscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        prop::collection::vec(topic_filter(), 1..4),
        v5_only(version, properties(PropertyContext::Unsubscribe)),
    )
        .prop_map(|(packet_id, filters, properties)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                properties,
            })
        })
}

fn unsuback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        // 3.1.1 UNSUBACK has no payload.
        v5_only(
            version,
            prop::collection::vec(reason_code(PacketType::UnsubAck), 1..5),
        ),
        v5_only(version, properties(PropertyContext::UnsubAck)),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties,
                reason_codes,
            })
        })
}

fn disconnect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        v5_only(version, reason_code(PacketType::Disconnect)),
        v5_only(version, properties(PropertyContext::Disconnect)),
    )
        .prop_map(|(reason_code, properties)| {
            Packet::Disconnect(Disconnect {
                reason_code,
                properties,
            })
        })
}

fn auth() -> impl Strategy<Value = Packet> {
    (
        reason_code(PacketType::Auth),
        properties(PropertyContext::Auth),
    )
        .prop_map(|(reason_code, properties)| {
            Packet::Auth(Auth {
                reason_code,
                properties,
            })
        })
}

/// Any valid packet of `version`: all fifteen types on 5.0, fourteen on 3.1.1.
fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        connect(version),
        connack(version),
        publish(version),
        ack(version, PacketType::PubAck),
        ack(version, PacketType::PubRec),
        ack(version, PacketType::PubRel),
        ack(version, PacketType::PubComp),
        subscribe(version),
        suback(version),
        unsubscribe(version),
        unsuback(version),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect(version),
    ];
    match version {
        ProtocolVersion::V311 => common.boxed(),
        ProtocolVersion::V5 => prop_oneof![14 => common, 1 => auth()].boxed(),
    }
}

/// A protocol version and a packet of it.
fn versioned_packet() -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    prop_oneof![
        packet(ProtocolVersion::V311).prop_map(|p| (ProtocolVersion::V311, p)),
        packet(ProtocolVersion::V5).prop_map(|p| (ProtocolVersion::V5, p)),
    ]
}

/// A protocol version and a few packets of it.
fn versioned_packets() -> impl Strategy<Value = (ProtocolVersion, Vec<Packet>)> {
    prop_oneof![
        prop::collection::vec(packet(ProtocolVersion::V311), 1..8)
            .prop_map(|p| (ProtocolVersion::V311, p)),
        prop::collection::vec(packet(ProtocolVersion::V5), 1..8)
            .prop_map(|p| (ProtocolVersion::V5, p)),
    ]
}

fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V311), Just(ProtocolVersion::V5)]
}

/// Strings made of what topic checks care about: separators, wildcards,
/// `$share/`, U+0000, non-ASCII. Most are invalid somewhere.
fn topicish() -> impl Strategy<Value = MqttString> {
    let pieces = vec!["a", "/", "+", "#", "$share/", "$", "\0", "é"];
    prop::collection::vec(prop::sample::select(pieces), 0..8)
        .prop_map(|p| MqttString::from(p.concat()))
}

/// A packet whose topic name, topic filter or Response Topic is `t`.
fn with_topic(version: ProtocolVersion, t: MqttString, kind: u8) -> Packet {
    match kind {
        0 => Packet::Publish(Publish::new(t, Bytes::new())),
        1 => Packet::Subscribe(Subscribe::new(1, t, QoS::AtLeastOnce)),
        2 => Packet::Unsubscribe(Unsubscribe {
            packet_id: 1,
            filters: vec![t],
            properties: Properties::default(),
        }),
        _ => {
            let mut c = Connect::new(version, "c");
            c.will = Some(Will {
                topic: t,
                ..Will::default()
            });
            Packet::from(c)
        }
    }
}

// ---------------------------------------------------------------- helpers

/// Encodes `packet`, checking `encoded_len` against the bytes written.
fn encode(packet: &Packet, version: ProtocolVersion) -> Result<Bytes, TestCaseError> {
    let mut buf = BytesMut::new();
    let written = packet
        .encode(version, &mut buf)
        .map_err(|e| TestCaseError::fail(alloc::format!("encode failed: {e}")))?;
    prop_assert_eq!(written, buf.len());
    prop_assert_eq!(packet.encoded_len(version), Ok(written));
    Ok(buf.freeze())
}

/// Feeds `bytes` to a decoder `chunks` at a time and collects what comes out
/// until the first error.
fn decode_stream(
    decoder: &Decoder,
    bytes: &[u8],
    chunks: &[usize],
) -> (Vec<Packet>, Option<crate::DecodeError>) {
    let mut buf = BytesMut::new();
    let mut packets = Vec::new();
    let mut rest = bytes;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(p)) => packets.push(p),
                Ok(None) => break,
                Err(e) => return (packets, Some(e)),
            }
        }
    }
    (packets, None)
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Encode then decode is the identity, and `encoded_len` is exact.
    #[test]
    fn round_trip((version, packet) in versioned_packet()) {
        let bytes = encode(&packet, version)?;
        prop_assert_eq!(Packet::decode(&bytes, version), Ok(packet));
    }

    /// Several packets cut into arbitrary chunks come out of `Decoder` in order.
    #[test]
    fn stream_in_chunks(
        (version, packets) in versioned_packets(),
        chunks in prop::collection::vec(1usize..64, 1..16),
    ) {
        let mut stream = Vec::new();
        for p in &packets {
            stream.extend_from_slice(&encode(p, version)?);
        }
        let (decoded, error) = decode_stream(&Decoder::new(version), &stream, &chunks);
        prop_assert_eq!(error, None);
        prop_assert_eq!(decoded, packets);
    }

    /// Random bytes never make the decoder panic.
    #[test]
    fn random_bytes_do_not_panic(
        version in version(),
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        chunks in prop::collection::vec(1usize..32, 1..8),
        max in prop_oneof![Just(crate::MAX_PACKET_SIZE), 2u32..64],
    ) {
        let _ = Packet::decode(&Bytes::from(bytes.clone()), version);
        let mut decoder = Decoder::new(version);
        decoder.set_max_packet_size(max);
        let _ = decode_stream(&decoder, &bytes, &chunks);
    }

    /// Whatever topic the encoder accepts, the decoder accepts too.
    #[test]
    fn encoder_refuses_what_decoder_refuses(
        version in version(),
        t in topicish(),
        kind in 0u8..4,
    ) {
        let packet = with_topic(version, t, kind);
        let mut buf = BytesMut::new();
        if packet.encode(version, &mut buf).is_ok() {
            prop_assert_eq!(Packet::decode(&buf.freeze(), version), Ok(packet));
        }
    }

    /// Valid packets with a few bytes overwritten never make the decoder panic,
    /// and whatever still decodes re-encodes and decodes to the same packet.
    #[test]
    fn corrupted_packets_do_not_panic(
        (version, packet) in versioned_packet(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = encode(&packet, version)?.to_vec();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(decoded) = Packet::decode(&Bytes::from(bytes), version) {
            let again = encode(&decoded, version)?;
            prop_assert_eq!(Packet::decode(&again, version), Ok(decoded));
        }
    }

    /// A decoded property block reads through every accessor, and through
    /// its fields, as the values it was encoded from, and re-encodes to the
    /// same bytes; in another packet it is checked against that packet's rules.
    #[test]
    fn decoded_properties_read_as_encoded(
        (context, built) in prop_oneof![
            Just(PropertyContext::Publish),
            Just(PropertyContext::ConnAck),
            Just(PropertyContext::Connect),
            Just(PropertyContext::Will),
            Just(PropertyContext::Subscribe),
            Just(PropertyContext::Disconnect),
        ]
        .prop_flat_map(|c| (Just(c), properties(c))),
        other in prop_oneof![Just(PropertyContext::Will), Just(PropertyContext::ConnAck)],
    ) {
        let block = encode_properties(&built, context).map_err(|e| TestCaseError::fail(alloc::format!("{e}")))?;
        let mut r = Reader::new(&block, 0, block.len());
        let decoded = Properties::decode(&mut r, context);
        prop_assert_eq!(r.remaining(), 0);
        let decoded = decoded.map_err(|e| TestCaseError::fail(alloc::format!("{e}")))?;
        prop_assert!(decoded.reads_as(built.values()), "{:?}", decoded);
        prop_assert!(decoded.clone().reads_as(built.values()));
        prop_assert_eq!(decoded.values(), built.values());
        prop_assert_eq!(&decoded, &built);
        prop_assert_eq!(encode_properties(&decoded, context), Ok(block));
        prop_assert_eq!(
            encode_properties(&decoded, other),
            encode_properties(&built, other)
        );
        let mut edited = decoded.clone();
        edited.user_properties.push((MqttString::from("k"), MqttString::from("v")));
        prop_assert!(edited.reads_as(edited.values()));
        prop_assert_eq!(edited.user_properties().count(), built.user_properties.len() + 1);
    }
}

/// The Property Length and properties of `p`, as a packet in `context` writes them.
fn encode_properties(
    p: &Properties,
    context: PropertyContext,
) -> Result<Bytes, crate::EncodeError> {
    let mut measured = Counter::<true>::new();
    p.encode(context, None, &mut measured)?;
    let mut buf = BytesMut::new();
    p.encode(context, None, &mut Writer::new(&mut buf, &measured))?;
    assert_eq!(buf.len(), measured.len);
    Ok(buf.freeze())
}

// ---------------------------------------------------------------- regressions

/// Inputs that crashed the fuzz targets in `fuzz/`, bytes inline, kept so
/// the fixes stay fixed (see `fuzz/README.md`).
mod regressions {
    use super::*;
    use crate::topic::TopicError;
    use crate::{DecodeError, EncodeError};

    /// `roundtrip` crash-cd4176ce (input `24 36 fd 60 24 73 68 61 72 65 2f 00
    /// 62 2f 2b 2f 1f 52`): the encoder wrote U+0000 in a share name, as in
    /// the filter `$share/\0b/+/`, and the decoder refused the packet.
    #[test]
    fn nul_in_share_name() {
        let filter = "$share/\0b/+/";
        let refused = Err(EncodeError::InvalidTopicFilter(TopicError::NullCharacter));
        assert_eq!(
            validate_topic_filter(filter),
            Err(TopicError::NullCharacter)
        );
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let unsubscribe = with_topic(version, filter.into(), 2);
            assert_eq!(unsubscribe.encode(version, &mut BytesMut::new()), refused);
            let subscribe = with_topic(version, filter.into(), 1);
            assert_eq!(subscribe.encode(version, &mut BytesMut::new()), refused);
        }
        // What the encoder wrote (3.1.1 UNSUBSCRIBE, packet id 31).
        let wire = Bytes::from_static(b"\xA2\x10\x00\x1F\x00\x0C$share/\x00b/+/");
        assert_eq!(
            Packet::decode(&wire, ProtocolVersion::V311),
            Err(DecodeError::NullCharacter("topic filter"))
        );
    }
}
