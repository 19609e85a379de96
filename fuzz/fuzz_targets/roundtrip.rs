//! Builds packets from fuzz input, encodes them, and checks that whatever
//! the encoder accepts decodes back to the same packet.
//!
//! The builder stays within what the chosen version can express (on 3.1.1:
//! no properties, success reason codes, QoS-only subscription options; at
//! QoS 0 no packet identifier), because those are left out by design. Within
//! that, strings, topics, reason codes and properties are free, so the
//! encoder's validation must refuse everything the decoder would refuse.
#![no_main]

use arbitrary::{Result, Unstructured};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mq_proto::{
    Auth, ConnAck, Connect, Disconnect, MqttString, Packet, PayloadFormat, Properties,
    PropertyContext, PropertyId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
    ReasonCode, RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck,
    Unsubscribe, Will,
};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((version, packet)) = build(&mut u) else {
        return;
    };
    let mut buf = BytesMut::new();
    let Ok(written) = packet.encode(version, &mut buf) else {
        return;
    };
    assert_eq!(written, buf.len());
    assert_eq!(packet.encoded_len(version), Ok(written));
    match Packet::decode(&buf.freeze(), version) {
        Ok(decoded) => assert_eq!(decoded, packet),
        Err(e) => panic!("encoded packet does not decode: {e}\n{packet:?}"),
    }
});

/// Pieces topics are made of, so that valid names and filters are common.
const LEVELS: &[&str] = &[
    "a",
    "b",
    "",
    "+",
    "#",
    "$share",
    "$SYS",
    "g",
    "ü",
    "\u{1F600}",
];

/// A string: mostly arbitrary (U+0000 included, which encode must refuse).
fn string(u: &mut Unstructured) -> Result<MqttString> {
    Ok(MqttString::from(u.arbitrary::<&str>()?))
}

/// A topic name or filter: a few levels joined by `/`, or an arbitrary string.
fn topic(u: &mut Unstructured) -> Result<MqttString> {
    if u.ratio(1, 8)? {
        return string(u);
    }
    let mut s = String::new();
    for i in 0..u.int_in_range(1..=4)? {
        if i > 0 {
            s.push('/');
        }
        s.push_str(u.choose(LEVELS)?);
    }
    Ok(MqttString::from(s))
}

fn binary(u: &mut Unstructured) -> Result<Bytes> {
    Ok(Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?))
}

fn qos(u: &mut Unstructured) -> Result<QoS> {
    Ok(QoS::from_bits(u.int_in_range(0..=2)?).unwrap_or_default())
}

/// Any reason code; the encoder must refuse the ones the packet may not carry.
fn reason_code(u: &mut Unstructured) -> Result<ReasonCode> {
    Ok(ReasonCode::try_from(u.arbitrary::<u8>()?).unwrap_or_default())
}

/// A reason code on 5.0, Success on 3.1.1 (which has no reason codes).
fn v5_reason_code(u: &mut Unstructured, version: ProtocolVersion) -> Result<ReasonCode> {
    match version {
        ProtocolVersion::V5 => reason_code(u),
        ProtocolVersion::V311 => Ok(ReasonCode::Success),
    }
}

/// Properties for `context` on 5.0 (mostly ones it allows, sometimes any), none on 3.1.1.
fn properties(
    u: &mut Unstructured,
    version: ProtocolVersion,
    context: PropertyContext,
) -> Result<Properties> {
    let mut p = Properties::default();
    if version == ProtocolVersion::V311 {
        return Ok(p);
    }
    let any = u.ratio(1, 16)?;
    for raw in 0..=0x2A {
        let Some(id) = PropertyId::from_u32(raw) else {
            continue;
        };
        if (any || id.is_allowed_in(context)) && u.ratio(1, 4)? {
            set(&mut p, id, u)?;
        }
    }
    Ok(p)
}

/// Sets property `id` to an arbitrary value (added to the list for repeatable ones).
fn set(p: &mut Properties, id: PropertyId, u: &mut Unstructured) -> Result<()> {
    use PropertyId::*;
    match id {
        PayloadFormatIndicator => {
            p.payload_format_indicator = Some(if u.arbitrary()? {
                PayloadFormat::Utf8
            } else {
                PayloadFormat::Unspecified
            })
        }
        MessageExpiryInterval => p.message_expiry_interval = Some(u.arbitrary()?),
        ContentType => p.content_type = Some(string(u)?),
        ResponseTopic => p.response_topic = Some(topic(u)?),
        CorrelationData => p.correlation_data = Some(binary(u)?),
        SubscriptionIdentifier => {
            for _ in 0..u.int_in_range(1..=3)? {
                p.subscription_identifiers.push(u.arbitrary()?);
            }
        }
        SessionExpiryInterval => p.session_expiry_interval = Some(u.arbitrary()?),
        AssignedClientIdentifier => p.assigned_client_identifier = Some(string(u)?),
        ServerKeepAlive => p.server_keep_alive = Some(u.arbitrary()?),
        AuthenticationMethod => p.authentication_method = Some(string(u)?),
        AuthenticationData => p.authentication_data = Some(binary(u)?),
        RequestProblemInformation => p.request_problem_information = Some(u.arbitrary()?),
        WillDelayInterval => p.will_delay_interval = Some(u.arbitrary()?),
        RequestResponseInformation => p.request_response_information = Some(u.arbitrary()?),
        ResponseInformation => p.response_information = Some(string(u)?),
        ServerReference => p.server_reference = Some(string(u)?),
        ReasonString => p.reason_string = Some(string(u)?),
        ReceiveMaximum => p.receive_maximum = Some(u.arbitrary()?),
        TopicAliasMaximum => p.topic_alias_maximum = Some(u.arbitrary()?),
        TopicAlias => p.topic_alias = Some(u.arbitrary()?),
        MaximumQoS => p.maximum_qos = Some(qos(u)?),
        RetainAvailable => p.retain_available = Some(u.arbitrary()?),
        UserProperty => {
            for _ in 0..u.int_in_range(1..=3)? {
                let name = if u.arbitrary()? {
                    MqttString::from("dup")
                } else {
                    string(u)?
                };
                p.user_properties.push((name, string(u)?));
            }
        }
        MaximumPacketSize => p.maximum_packet_size = Some(u.arbitrary()?),
        WildcardSubscriptionAvailable => p.wildcard_subscription_available = Some(u.arbitrary()?),
        SubscriptionIdentifierAvailable => {
            p.subscription_identifier_available = Some(u.arbitrary()?)
        }
        SharedSubscriptionAvailable => p.shared_subscription_available = Some(u.arbitrary()?),
    }
    Ok(())
}

fn option<T>(
    u: &mut Unstructured,
    f: impl FnOnce(&mut Unstructured) -> Result<T>,
) -> Result<Option<T>> {
    Ok(if u.arbitrary()? { Some(f(u)?) } else { None })
}

/// A version and a packet of one of the fifteen types.
fn build(u: &mut Unstructured) -> Result<(ProtocolVersion, Packet)> {
    use PropertyContext as C;
    let version = if u.arbitrary()? {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let v = version;
    let packet = match u.int_in_range(1..=15u8)? {
        1 => {
            let will = option(u, |u| {
                Ok(Will {
                    topic: topic(u)?,
                    payload: binary(u)?,
                    qos: qos(u)?,
                    retain: u.arbitrary()?,
                    properties: properties(u, v, C::Will)?,
                })
            })?;
            Packet::from(Connect {
                protocol_version: v,
                clean_start: u.arbitrary()?,
                keep_alive: u.arbitrary()?,
                client_id: string(u)?,
                will,
                username: option(u, string)?,
                password: option(u, binary)?.map(Into::into),
                properties: properties(u, v, C::Connect)?,
            })
        }
        2 => Packet::ConnAck(ConnAck {
            session_present: u.arbitrary()?,
            reason_code: reason_code(u)?,
            properties: properties(u, v, C::ConnAck)?,
        }),
        3 => {
            let qos = qos(u)?;
            let qos0 = qos == QoS::AtMostOnce;
            Packet::Publish(Publish {
                dup: u.arbitrary()?,
                qos,
                retain: u.arbitrary()?,
                topic: if u.ratio(1, 8)? {
                    MqttString::from("")
                } else {
                    topic(u)?
                },
                packet_id: if qos0 { 0 } else { u.arbitrary()? },
                payload: binary(u)?,
                properties: properties(u, v, C::Publish)?,
            })
        }
        4 => Packet::PubAck(PubAck {
            packet_id: u.arbitrary()?,
            reason_code: v5_reason_code(u, v)?,
            properties: properties(u, v, C::PubAck)?,
        }),
        5 => Packet::PubRec(PubRec {
            packet_id: u.arbitrary()?,
            reason_code: v5_reason_code(u, v)?,
            properties: properties(u, v, C::PubRec)?,
        }),
        6 => Packet::PubRel(PubRel {
            packet_id: u.arbitrary()?,
            reason_code: v5_reason_code(u, v)?,
            properties: properties(u, v, C::PubRel)?,
        }),
        7 => Packet::PubComp(PubComp {
            packet_id: u.arbitrary()?,
            reason_code: v5_reason_code(u, v)?,
            properties: properties(u, v, C::PubComp)?,
        }),
        8 => {
            let mut subscriptions = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let mut options = SubscriptionOptions {
                    qos: qos(u)?,
                    ..Default::default()
                };
                if v == ProtocolVersion::V5 {
                    options.no_local = u.arbitrary()?;
                    options.retain_as_published = u.arbitrary()?;
                    options.retain_handling = match u.int_in_range(0..=2)? {
                        0 => RetainHandling::SendAtSubscribe,
                        1 => RetainHandling::SendAtSubscribeIfNew,
                        _ => RetainHandling::DoNotSend,
                    };
                }
                subscriptions.push(Subscription {
                    filter: topic(u)?,
                    options,
                });
            }
            Packet::Subscribe(Subscribe {
                packet_id: u.arbitrary()?,
                subscriptions,
                properties: properties(u, v, C::Subscribe)?,
            })
        }
        9 => Packet::SubAck(SubAck {
            packet_id: u.arbitrary()?,
            properties: properties(u, v, C::SubAck)?,
            reason_codes: codes(u)?,
        }),
        10 => {
            let mut filters = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                filters.push(topic(u)?);
            }
            Packet::Unsubscribe(Unsubscribe {
                packet_id: u.arbitrary()?,
                filters,
                properties: properties(u, v, C::Unsubscribe)?,
            })
        }
        11 => Packet::UnsubAck(UnsubAck {
            packet_id: u.arbitrary()?,
            properties: properties(u, v, C::UnsubAck)?,
            // 3.1.1 UNSUBACK has no payload.
            reason_codes: if v == ProtocolVersion::V5 {
                codes(u)?
            } else {
                Vec::new()
            },
        }),
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect(Disconnect {
            reason_code: v5_reason_code(u, v)?,
            properties: properties(u, v, C::Disconnect)?,
        }),
        _ => Packet::Auth(Auth {
            reason_code: reason_code(u)?,
            properties: properties(u, v, C::Auth)?,
        }),
    };
    Ok((version, packet))
}

/// Zero to four arbitrary reason codes (the encoder must refuse zero).
fn codes(u: &mut Unstructured) -> Result<Vec<ReasonCode>> {
    let mut codes = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        codes.push(reason_code(u)?);
    }
    Ok(codes)
}
