//! The 27 properties of MQTT 5.0 (section 2.2.2), their per-packet allow-list,
//! duplicate rules, and their encoding.

use alloc::vec::Vec;
use core::fmt;

use bytes::Bytes;

use super::error::{DecodeError, EncodeError};
use super::string::MqttString;
use super::types::QoS;
use super::wire::{Reader, Sink, VARIABLE_BYTE_INTEGER_MAX};

/// Where a property set sits: a packet type, or the Will Properties of CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropertyContext {
    /// CONNECT properties.
    Connect = 0,
    /// CONNACK properties.
    ConnAck,
    /// PUBLISH properties.
    Publish,
    /// Will Properties in the CONNECT payload.
    Will,
    /// PUBACK properties.
    PubAck,
    /// PUBREC properties.
    PubRec,
    /// PUBREL properties.
    PubRel,
    /// PUBCOMP properties.
    PubComp,
    /// SUBSCRIBE properties.
    Subscribe,
    /// SUBACK properties.
    SubAck,
    /// UNSUBSCRIBE properties.
    Unsubscribe,
    /// UNSUBACK properties.
    UnsubAck,
    /// DISCONNECT properties.
    Disconnect,
    /// AUTH properties.
    Auth,
}

impl PropertyContext {
    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for PropertyContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PropertyContext::*;
        f.write_str(match self {
            Connect => "CONNECT",
            ConnAck => "CONNACK",
            Publish => "PUBLISH",
            Will => "Will Properties",
            PubAck => "PUBACK",
            PubRec => "PUBREC",
            PubRel => "PUBREL",
            PubComp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            SubAck => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            UnsubAck => "UNSUBACK",
            Disconnect => "DISCONNECT",
            Auth => "AUTH",
        })
    }
}

const fn mask(contexts: &[PropertyContext]) -> u16 {
    let mut m = 0;
    let mut i = 0;
    while i < contexts.len() {
        m |= contexts[i].bit();
        i += 1;
    }
    m
}

macro_rules! property_ids {
    ($($name:ident = $value:literal, $text:literal, [$($ctx:ident),*];)*) => {
        /// A property identifier (section 2.2.2.2).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PropertyId {
            $(#[doc = $text] $name = $value,)*
        }

        impl PropertyId {
            /// The identifier for a number, if the specification defines it.
            pub const fn from_u32(value: u32) -> Option<Self> {
                match value { $($value => Some(PropertyId::$name),)* _ => None }
            }

            /// The specification's name of the property.
            pub const fn name(self) -> &'static str {
                match self { $(PropertyId::$name => $text,)* }
            }

            /// Whether a property set in `context` may carry this property.
            #[inline]
            pub const fn is_allowed_in(self, context: PropertyContext) -> bool {
                let allowed = match self {
                    $(PropertyId::$name => const { mask(&[$(PropertyContext::$ctx),*]) },)*
                };
                allowed & context.bit() != 0
            }
        }
    };
}

property_ids! {
    PayloadFormatIndicator = 0x01, "Payload Format Indicator", [Publish, Will];
    MessageExpiryInterval = 0x02, "Message Expiry Interval", [Publish, Will];
    ContentType = 0x03, "Content Type", [Publish, Will];
    ResponseTopic = 0x08, "Response Topic", [Publish, Will];
    CorrelationData = 0x09, "Correlation Data", [Publish, Will];
    SubscriptionIdentifier = 0x0B, "Subscription Identifier", [Publish, Subscribe];
    SessionExpiryInterval = 0x11, "Session Expiry Interval", [Connect, ConnAck, Disconnect];
    AssignedClientIdentifier = 0x12, "Assigned Client Identifier", [ConnAck];
    ServerKeepAlive = 0x13, "Server Keep Alive", [ConnAck];
    AuthenticationMethod = 0x15, "Authentication Method", [Connect, ConnAck, Auth];
    AuthenticationData = 0x16, "Authentication Data", [Connect, ConnAck, Auth];
    RequestProblemInformation = 0x17, "Request Problem Information", [Connect];
    WillDelayInterval = 0x18, "Will Delay Interval", [Will];
    RequestResponseInformation = 0x19, "Request Response Information", [Connect];
    ResponseInformation = 0x1A, "Response Information", [ConnAck];
    ServerReference = 0x1C, "Server Reference", [ConnAck, Disconnect];
    ReasonString = 0x1F, "Reason String", [ConnAck, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, Disconnect, Auth];
    ReceiveMaximum = 0x21, "Receive Maximum", [Connect, ConnAck];
    TopicAliasMaximum = 0x22, "Topic Alias Maximum", [Connect, ConnAck];
    TopicAlias = 0x23, "Topic Alias", [Publish];
    MaximumQoS = 0x24, "Maximum QoS", [ConnAck];
    RetainAvailable = 0x25, "Retain Available", [ConnAck];
    UserProperty = 0x26, "User Property", [Connect, ConnAck, Publish, Will, PubAck, PubRec, PubRel, PubComp, Subscribe, SubAck, Unsubscribe, UnsubAck, Disconnect, Auth];
    MaximumPacketSize = 0x27, "Maximum Packet Size", [Connect, ConnAck];
    WildcardSubscriptionAvailable = 0x28, "Wildcard Subscription Available", [ConnAck];
    SubscriptionIdentifierAvailable = 0x29, "Subscription Identifier Available", [ConnAck];
    SharedSubscriptionAvailable = 0x2A, "Shared Subscription Available", [ConnAck];
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), *self as u8)
    }
}

/// The Payload Format Indicator values (3.3.2.3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    #[default]
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

/// The properties of one MQTT 5.0 packet or of a Will.
///
/// One type serves every packet; which fields a packet may carry is checked
/// on encode and decode against the table of section 2.2.2.2. `None` and empty
/// lists mean absent. Properties are encoded in identifier order, User
/// Properties in the order given. On MQTT 3.1.1 properties are not encoded.
///
/// ```
/// use mq_proto::{Properties, MqttString};
/// let mut p = Properties::default();
/// p.message_expiry_interval = Some(60);
/// p.user_properties.push((MqttString::from("trace"), MqttString::from("abc")));
/// assert!(!p.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    /// 0x01 Payload Format Indicator.
    pub payload_format_indicator: Option<PayloadFormat>,
    /// 0x02 Message Expiry Interval, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x03 Content Type.
    pub content_type: Option<MqttString>,
    /// 0x08 Response Topic.
    pub response_topic: Option<MqttString>,
    /// 0x09 Correlation Data.
    pub correlation_data: Option<Bytes>,
    /// 0x0B Subscription Identifier(s): at most one in SUBSCRIBE, any number in PUBLISH.
    pub subscription_identifiers: Vec<u32>,
    /// 0x11 Session Expiry Interval, seconds.
    pub session_expiry_interval: Option<u32>,
    /// 0x12 Assigned Client Identifier.
    pub assigned_client_identifier: Option<MqttString>,
    /// 0x13 Server Keep Alive, seconds.
    pub server_keep_alive: Option<u16>,
    /// 0x15 Authentication Method.
    pub authentication_method: Option<MqttString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
    /// 0x17 Request Problem Information.
    pub request_problem_information: Option<bool>,
    /// 0x18 Will Delay Interval, seconds.
    pub will_delay_interval: Option<u32>,
    /// 0x19 Request Response Information.
    pub request_response_information: Option<bool>,
    /// 0x1A Response Information.
    pub response_information: Option<MqttString>,
    /// 0x1C Server Reference.
    pub server_reference: Option<MqttString>,
    /// 0x1F Reason String.
    pub reason_string: Option<MqttString>,
    /// 0x21 Receive Maximum (1..=65535).
    pub receive_maximum: Option<u16>,
    /// 0x22 Topic Alias Maximum.
    pub topic_alias_maximum: Option<u16>,
    /// 0x23 Topic Alias (1..=65535).
    pub topic_alias: Option<u16>,
    /// 0x24 Maximum QoS (0 or 1 when present).
    pub maximum_qos: Option<QoS>,
    /// 0x25 Retain Available.
    pub retain_available: Option<bool>,
    /// 0x26 User Properties, in order; names may repeat.
    pub user_properties: Vec<(MqttString, MqttString)>,
    /// 0x27 Maximum Packet Size (1..).
    pub maximum_packet_size: Option<u32>,
    /// 0x28 Wildcard Subscription Available.
    pub wildcard_subscription_available: Option<bool>,
    /// 0x29 Subscription Identifier Available.
    pub subscription_identifier_available: Option<bool>,
    /// 0x2A Shared Subscription Available.
    pub shared_subscription_available: Option<bool>,
}

fn set_once<T>(slot: &mut Option<T>, id: PropertyId, value: T) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateProperty(id));
    }
    *slot = Some(value);
    Ok(())
}

fn read_bool(r: &mut Reader<'_>, id: PropertyId) -> Result<bool, DecodeError> {
    match r.u8(id.name())? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(DecodeError::InvalidPropertyValue {
            property: id,
            value: u32::from(v),
        }),
    }
}

fn nonzero_u16(r: &mut Reader<'_>, id: PropertyId) -> Result<u16, DecodeError> {
    match r.u16(id.name())? {
        0 => Err(DecodeError::InvalidPropertyValue {
            property: id,
            value: 0,
        }),
        v => Ok(v),
    }
}

impl Properties {
    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        // Field by field, not `== Properties::default()`: no default to build,
        // and the first set field ends it. Destructured so a new field cannot
        // be forgotten here.
        let Properties {
            payload_format_indicator,
            message_expiry_interval,
            content_type,
            response_topic,
            correlation_data,
            subscription_identifiers,
            session_expiry_interval,
            assigned_client_identifier,
            server_keep_alive,
            authentication_method,
            authentication_data,
            request_problem_information,
            will_delay_interval,
            request_response_information,
            response_information,
            server_reference,
            reason_string,
            receive_maximum,
            topic_alias_maximum,
            topic_alias,
            maximum_qos,
            retain_available,
            user_properties,
            maximum_packet_size,
            wildcard_subscription_available,
            subscription_identifier_available,
            shared_subscription_available,
        } = self;
        payload_format_indicator.is_none()
            && message_expiry_interval.is_none()
            && content_type.is_none()
            && response_topic.is_none()
            && correlation_data.is_none()
            && subscription_identifiers.is_empty()
            && session_expiry_interval.is_none()
            && assigned_client_identifier.is_none()
            && server_keep_alive.is_none()
            && authentication_method.is_none()
            && authentication_data.is_none()
            && request_problem_information.is_none()
            && will_delay_interval.is_none()
            && request_response_information.is_none()
            && response_information.is_none()
            && server_reference.is_none()
            && reason_string.is_none()
            && receive_maximum.is_none()
            && topic_alias_maximum.is_none()
            && topic_alias.is_none()
            && maximum_qos.is_none()
            && retain_available.is_none()
            && user_properties.is_empty()
            && maximum_packet_size.is_none()
            && wildcard_subscription_available.is_none()
            && subscription_identifier_available.is_none()
            && shared_subscription_available.is_none()
    }

    /// Reads a Property Length and the properties after it.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        context: PropertyContext,
    ) -> Result<Self, DecodeError> {
        let mut p = Properties::default();
        p.decode_into(r, context)?;
        Ok(p)
    }

    /// [`Self::decode`] into `self`, which must be empty: the properties are
    /// read straight into the packet that holds them, not returned through
    /// a `Result` and copied (`Properties` is several hundred bytes).
    pub(crate) fn decode_into(
        &mut self,
        r: &mut Reader<'_>,
        context: PropertyContext,
    ) -> Result<(), DecodeError> {
        let len = r.variable_byte_integer("property length")? as usize;
        let mut r = r.sub(len, "properties")?;
        let p = self;
        while r.remaining() > 0 {
            let raw = r.variable_byte_integer("property identifier")?;
            let id = PropertyId::from_u32(raw).ok_or(DecodeError::UnknownProperty(raw))?;
            if !id.is_allowed_in(context) {
                return Err(DecodeError::PropertyNotAllowed {
                    property: id,
                    context,
                });
            }
            let name = id.name();
            use PropertyId::*;
            match id {
                PayloadFormatIndicator => {
                    let v = match r.u8(name)? {
                        0 => PayloadFormat::Unspecified,
                        1 => PayloadFormat::Utf8,
                        v => {
                            return Err(DecodeError::InvalidPropertyValue {
                                property: id,
                                value: u32::from(v),
                            })
                        }
                    };
                    set_once(&mut p.payload_format_indicator, id, v)?
                }
                MessageExpiryInterval => {
                    set_once(&mut p.message_expiry_interval, id, r.u32(name)?)?
                }
                ContentType => set_once(&mut p.content_type, id, r.string(name)?)?,
                ResponseTopic => {
                    let topic = r.string(name)?;
                    crate::topic::check_topic_name(topic.bytes())
                        .map_err(DecodeError::InvalidTopicName)?;
                    set_once(&mut p.response_topic, id, topic)?
                }
                CorrelationData => set_once(&mut p.correlation_data, id, r.binary(name)?)?,
                SubscriptionIdentifier => {
                    let v = r.variable_byte_integer(name)?;
                    if v == 0 {
                        return Err(DecodeError::SubscriptionIdentifierZero);
                    }
                    if context == PropertyContext::Subscribe
                        && !p.subscription_identifiers.is_empty()
                    {
                        return Err(DecodeError::DuplicateProperty(id));
                    }
                    p.subscription_identifiers.push(v);
                }
                SessionExpiryInterval => {
                    set_once(&mut p.session_expiry_interval, id, r.u32(name)?)?
                }
                AssignedClientIdentifier => {
                    set_once(&mut p.assigned_client_identifier, id, r.string(name)?)?
                }
                ServerKeepAlive => set_once(&mut p.server_keep_alive, id, r.u16(name)?)?,
                AuthenticationMethod => {
                    set_once(&mut p.authentication_method, id, r.string(name)?)?
                }
                AuthenticationData => set_once(&mut p.authentication_data, id, r.binary(name)?)?,
                RequestProblemInformation => set_once(
                    &mut p.request_problem_information,
                    id,
                    read_bool(&mut r, id)?,
                )?,
                WillDelayInterval => set_once(&mut p.will_delay_interval, id, r.u32(name)?)?,
                RequestResponseInformation => set_once(
                    &mut p.request_response_information,
                    id,
                    read_bool(&mut r, id)?,
                )?,
                ResponseInformation => set_once(&mut p.response_information, id, r.string(name)?)?,
                ServerReference => set_once(&mut p.server_reference, id, r.string(name)?)?,
                ReasonString => set_once(&mut p.reason_string, id, r.string(name)?)?,
                ReceiveMaximum => set_once(&mut p.receive_maximum, id, nonzero_u16(&mut r, id)?)?,
                TopicAliasMaximum => set_once(&mut p.topic_alias_maximum, id, r.u16(name)?)?,
                TopicAlias => {
                    let v = r.u16(name)?;
                    if v == 0 {
                        return Err(DecodeError::TopicAliasZero);
                    }
                    set_once(&mut p.topic_alias, id, v)?
                }
                MaximumQoS => {
                    let v = if read_bool(&mut r, id)? {
                        QoS::AtLeastOnce
                    } else {
                        QoS::AtMostOnce
                    };
                    set_once(&mut p.maximum_qos, id, v)?
                }
                RetainAvailable => set_once(&mut p.retain_available, id, read_bool(&mut r, id)?)?,
                UserProperty => {
                    let k = r.string(name)?;
                    let v = r.string(name)?;
                    p.user_properties.push((k, v));
                }
                MaximumPacketSize => {
                    let v = r.u32(name)?;
                    if v == 0 {
                        return Err(DecodeError::InvalidPropertyValue {
                            property: id,
                            value: 0,
                        });
                    }
                    set_once(&mut p.maximum_packet_size, id, v)?
                }
                WildcardSubscriptionAvailable => set_once(
                    &mut p.wildcard_subscription_available,
                    id,
                    read_bool(&mut r, id)?,
                )?,
                SubscriptionIdentifierAvailable => set_once(
                    &mut p.subscription_identifier_available,
                    id,
                    read_bool(&mut r, id)?,
                )?,
                SharedSubscriptionAvailable => set_once(
                    &mut p.shared_subscription_available,
                    id,
                    read_bool(&mut r, id)?,
                )?,
            }
        }
        Ok(())
    }

    /// Writes the Property Length and the properties.
    ///
    /// The measuring pass ([`Counter`](super::wire::Counter)) validates and
    /// measures the fields in one go and records the length; the writing pass
    /// replays that length instead of measuring again.
    #[inline]
    pub(crate) fn encode<S: Sink>(
        &self,
        context: PropertyContext,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        if self.is_empty() {
            s.put_u8(0);
            return Ok(());
        }
        s.put_properties(self, context)
    }

    /// The properties without their length; validates when `S::CHECKS`.
    pub(crate) fn encode_fields<S: Sink>(
        &self,
        context: PropertyContext,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        use PropertyId::*;
        let field = |id: PropertyId, s: &mut S| -> Result<(), EncodeError> {
            if S::CHECKS && !id.is_allowed_in(context) {
                return Err(EncodeError::PropertyNotAllowed {
                    property: id,
                    context,
                });
            }
            s.put_u8(id as u8);
            Ok(())
        };
        let invalid = |property: PropertyId, value: u32| EncodeError::InvalidPropertyValue {
            property,
            value,
        };
        if let Some(v) = self.payload_format_indicator {
            field(PayloadFormatIndicator, s)?;
            s.put_u8(v as u8);
        }
        if let Some(v) = self.message_expiry_interval {
            field(MessageExpiryInterval, s)?;
            s.put_u32(v);
        }
        if let Some(v) = &self.content_type {
            field(ContentType, s)?;
            s.put_str(v.bytes(), ContentType.name())?;
        }
        if let Some(v) = &self.response_topic {
            field(ResponseTopic, s)?;
            if S::CHECKS {
                // Also checks the length and U+0000 that `put_str` would.
                crate::topic::check_topic_name(v.bytes()).map_err(EncodeError::InvalidTopicName)?;
            }
            s.put_prefixed(v.bytes());
        }
        if let Some(v) = &self.correlation_data {
            field(CorrelationData, s)?;
            s.put_binary(v, CorrelationData.name())?;
        }
        if S::CHECKS
            && context == PropertyContext::Subscribe
            && self.subscription_identifiers.len() > 1
        {
            return Err(invalid(
                SubscriptionIdentifier,
                self.subscription_identifiers[1],
            ));
        }
        for &v in &self.subscription_identifiers {
            field(SubscriptionIdentifier, s)?;
            if S::CHECKS && (v == 0 || v > VARIABLE_BYTE_INTEGER_MAX) {
                return Err(invalid(SubscriptionIdentifier, v));
            }
            s.put_variable_byte_integer(v);
        }
        if let Some(v) = self.session_expiry_interval {
            field(SessionExpiryInterval, s)?;
            s.put_u32(v);
        }
        if let Some(v) = &self.assigned_client_identifier {
            field(AssignedClientIdentifier, s)?;
            s.put_str(v.bytes(), AssignedClientIdentifier.name())?;
        }
        if let Some(v) = self.server_keep_alive {
            field(ServerKeepAlive, s)?;
            s.put_u16(v);
        }
        if let Some(v) = &self.authentication_method {
            field(AuthenticationMethod, s)?;
            s.put_str(v.bytes(), AuthenticationMethod.name())?;
        }
        if let Some(v) = &self.authentication_data {
            field(AuthenticationData, s)?;
            s.put_binary(v, AuthenticationData.name())?;
        }
        if let Some(v) = self.request_problem_information {
            field(RequestProblemInformation, s)?;
            s.put_u8(v.into());
        }
        if let Some(v) = self.will_delay_interval {
            field(WillDelayInterval, s)?;
            s.put_u32(v);
        }
        if let Some(v) = self.request_response_information {
            field(RequestResponseInformation, s)?;
            s.put_u8(v.into());
        }
        if let Some(v) = &self.response_information {
            field(ResponseInformation, s)?;
            s.put_str(v.bytes(), ResponseInformation.name())?;
        }
        if let Some(v) = &self.server_reference {
            field(ServerReference, s)?;
            s.put_str(v.bytes(), ServerReference.name())?;
        }
        if let Some(v) = &self.reason_string {
            field(ReasonString, s)?;
            s.put_str(v.bytes(), ReasonString.name())?;
        }
        if let Some(v) = self.receive_maximum {
            field(ReceiveMaximum, s)?;
            if S::CHECKS && v == 0 {
                return Err(invalid(ReceiveMaximum, 0));
            }
            s.put_u16(v);
        }
        if let Some(v) = self.topic_alias_maximum {
            field(TopicAliasMaximum, s)?;
            s.put_u16(v);
        }
        if let Some(v) = self.topic_alias {
            field(TopicAlias, s)?;
            if S::CHECKS && v == 0 {
                return Err(invalid(TopicAlias, 0));
            }
            s.put_u16(v);
        }
        if let Some(v) = self.maximum_qos {
            field(MaximumQoS, s)?;
            if S::CHECKS && v == QoS::ExactlyOnce {
                return Err(invalid(MaximumQoS, 2));
            }
            s.put_u8(v as u8);
        }
        if let Some(v) = self.retain_available {
            field(RetainAvailable, s)?;
            s.put_u8(v.into());
        }
        for (k, v) in &self.user_properties {
            field(UserProperty, s)?;
            s.put_str(k.bytes(), UserProperty.name())?;
            s.put_str(v.bytes(), UserProperty.name())?;
        }
        if let Some(v) = self.maximum_packet_size {
            field(MaximumPacketSize, s)?;
            if S::CHECKS && v == 0 {
                return Err(invalid(MaximumPacketSize, 0));
            }
            s.put_u32(v);
        }
        if let Some(v) = self.wildcard_subscription_available {
            field(WildcardSubscriptionAvailable, s)?;
            s.put_u8(v.into());
        }
        if let Some(v) = self.subscription_identifier_available {
            field(SubscriptionIdentifierAvailable, s)?;
            s.put_u8(v.into());
        }
        if let Some(v) = self.shared_subscription_available {
            field(SharedSubscriptionAvailable, s)?;
            s.put_u8(v.into());
        }
        Ok(())
    }
}
