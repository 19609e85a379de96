//! The 27 properties of MQTT 5.0 (section 2.2.2), their per-packet allow-list,
//! duplicate rules, and their encoding.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Deref, DerefMut};

use bytes::Bytes;
use once_cell::race::OnceBox;

use super::error::{DecodeError, EncodeError};
use super::string::{check_wire, MqttString};
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

            /// The identifiers a set in `context` may carry, one bit per
            /// identifier value.
            pub(crate) const fn allowed_in(context: PropertyContext) -> u64 {
                let mut ids = 0;
                $(if PropertyId::$name.is_allowed_in(context) {
                    ids |= 1 << $value;
                })*
                ids
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

/// The values of a property set, one field per property: the form users
/// build and edit.
///
/// Packets hold their properties as [`Properties`], which dereferences to
/// this struct, so `packet.properties.content_type` reads and writes a field.
/// `None` and empty lists mean absent. Properties are encoded in identifier
/// order, User Properties in the order given.
///
/// ```
/// use mq_proto::{Properties, PropertyValues};
/// let p: Properties = PropertyValues { message_expiry_interval: Some(60), ..Default::default() }.into();
/// assert_eq!(p.message_expiry_interval(), Some(60));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropertyValues {
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

/// [`PropertyValues::encode_fields`] over every field.
const ALL_FIELDS: u64 = u64::MAX;

/// The empty set, for reads of packets without properties.
static NO_VALUES: PropertyValues = PropertyValues::new();

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

/// Where a string or binary value sits in the bytes it was read from.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
}

/// One property value as read from the wire, by data type (2.2.2.2);
/// strings and binary data as spans, so reading takes no reference count.
#[derive(Clone, Copy, Debug)]
enum Value {
    Format(PayloadFormat),
    Bool(bool),
    QoS(QoS),
    TwoByte(u16),
    FourByte(u32),
    VariableByte(u32),
    Utf8(Span),
    Binary(Span),
    Utf8Pair(Span, Span),
}

/// Binary Data, or a UTF-8 Encoded String whose checks `CHECK` says to run.
#[inline]
fn prefixed<const CHECK: bool>(
    r: &mut Reader<'_>,
    field: &'static str,
    utf8: bool,
) -> Result<Span, DecodeError> {
    let start = r.position() + 2;
    let bytes = r.binary_ref(field)?;
    if CHECK && utf8 {
        check_wire(bytes, field)?;
    }
    Ok(Span {
        start,
        end: start + bytes.len(),
    })
}

/// Reads one property: its identifier, checked against `context`, and its
/// value, checked against the rules of its property (strings too, when `CHECK`).
#[inline]
fn read_property<const CHECK: bool>(
    r: &mut Reader<'_>,
    context: PropertyContext,
) -> Result<(PropertyId, Value), DecodeError> {
    let raw = r.variable_byte_integer("property identifier")?;
    let id = PropertyId::from_u32(raw).ok_or(DecodeError::UnknownProperty(raw))?;
    if !id.is_allowed_in(context) {
        return Err(DecodeError::PropertyNotAllowed {
            property: id,
            context,
        });
    }
    let name = id.name();
    let invalid = |value: u32| DecodeError::InvalidPropertyValue {
        property: id,
        value,
    };
    use PropertyId::*;
    let value = match id {
        PayloadFormatIndicator => Value::Format(match r.u8(name)? {
            0 => PayloadFormat::Unspecified,
            1 => PayloadFormat::Utf8,
            v => return Err(invalid(u32::from(v))),
        }),
        MessageExpiryInterval | SessionExpiryInterval | WillDelayInterval => {
            Value::FourByte(r.u32(name)?)
        }
        MaximumPacketSize => match r.u32(name)? {
            0 => return Err(invalid(0)),
            v => Value::FourByte(v),
        },
        ContentType
        | AssignedClientIdentifier
        | AuthenticationMethod
        | ResponseInformation
        | ServerReference
        | ReasonString => Value::Utf8(prefixed::<CHECK>(r, name, true)?),
        ResponseTopic => {
            let start = r.position() + 2;
            let bytes = r.binary_ref(name)?;
            if CHECK {
                check_wire(bytes, name)?;
                crate::topic::check_topic_name(bytes).map_err(DecodeError::InvalidTopicName)?;
            }
            Value::Utf8(Span {
                start,
                end: start + bytes.len(),
            })
        }
        CorrelationData | AuthenticationData => Value::Binary(prefixed::<CHECK>(r, name, false)?),
        SubscriptionIdentifier => match r.variable_byte_integer(name)? {
            0 => return Err(DecodeError::SubscriptionIdentifierZero),
            v => Value::VariableByte(v),
        },
        ServerKeepAlive | TopicAliasMaximum => Value::TwoByte(r.u16(name)?),
        ReceiveMaximum => match r.u16(name)? {
            0 => return Err(invalid(0)),
            v => Value::TwoByte(v),
        },
        TopicAlias => match r.u16(name)? {
            0 => return Err(DecodeError::TopicAliasZero),
            v => Value::TwoByte(v),
        },
        MaximumQoS => Value::QoS(if read_bool(r, id)? {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        }),
        RequestProblemInformation
        | RequestResponseInformation
        | RetainAvailable
        | WildcardSubscriptionAvailable
        | SubscriptionIdentifierAvailable
        | SharedSubscriptionAvailable => Value::Bool(read_bool(r, id)?),
        UserProperty => {
            let name_span = prefixed::<CHECK>(r, name, true)?;
            Value::Utf8Pair(name_span, prefixed::<CHECK>(r, name, true)?)
        }
    };
    Ok((id, value))
}

/// A property value as the type its accessor returns.
trait FromValue: Sized {
    /// `value` as `Self`; spans are of `raw`.
    fn from_value(value: Value, raw: &Bytes) -> Option<Self>;
}

macro_rules! from_value {
    ($($t:ty: $variant:ident;)*) => {$(
        impl FromValue for $t {
            #[inline]
            fn from_value(value: Value, _: &Bytes) -> Option<Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}

from_value! {
    PayloadFormat: Format;
    bool: Bool;
    QoS: QoS;
    u16: TwoByte;
    u32: FourByte;
}

/// The string at `span` of a validated block.
#[inline]
fn string_of(raw: &Bytes, span: Span) -> MqttString {
    MqttString::from_checked(raw.slice(span.start..span.end))
}

impl FromValue for MqttString {
    fn from_value(value: Value, raw: &Bytes) -> Option<Self> {
        match value {
            Value::Utf8(s) => Some(string_of(raw, s)),
            _ => None,
        }
    }
}

impl FromValue for Bytes {
    fn from_value(value: Value, raw: &Bytes) -> Option<Self> {
        match value {
            Value::Binary(s) => Some(raw.slice(s.start..s.end)),
            _ => None,
        }
    }
}

/// A decoded property block: validated, and kept as the bytes it came in.
struct Wire {
    /// The properties after the Property Length; a slice of the packet.
    raw: Bytes,
    /// Where it was read; its rules were checked.
    context: PropertyContext,
    /// The values, parsed on the first field access through `Deref`.
    values: OnceBox<PropertyValues>,
}

/// The properties of a block that decoding validated, in order.
struct Fields<'a> {
    r: Reader<'a>,
    context: PropertyContext,
}

impl Iterator for Fields<'_> {
    type Item = (PropertyId, Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.r.remaining() == 0 {
            return None;
        }
        // The block was validated when decoded: no error can occur here.
        read_property::<false>(&mut self.r, self.context).ok()
    }
}

impl Wire {
    fn fields(&self) -> Fields<'_> {
        Fields {
            r: Reader::new(&self.raw, 0, self.raw.len()),
            context: self.context,
        }
    }

    /// The first value of `id`.
    fn find(&self, id: PropertyId) -> Option<Value> {
        self.fields().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// The values, parsed.
    fn to_values(&self) -> PropertyValues {
        let mut p = PropertyValues::new();
        let raw = &self.raw;
        let string = |s: Span| string_of(raw, s);
        for (id, value) in self.fields() {
            use PropertyId::*;
            match (id, value) {
                (PayloadFormatIndicator, Value::Format(v)) => p.payload_format_indicator = Some(v),
                (MessageExpiryInterval, Value::FourByte(v)) => p.message_expiry_interval = Some(v),
                (ContentType, Value::Utf8(s)) => p.content_type = Some(string(s)),
                (ResponseTopic, Value::Utf8(s)) => p.response_topic = Some(string(s)),
                (CorrelationData, Value::Binary(s)) => {
                    p.correlation_data = Some(raw.slice(s.start..s.end))
                }
                (SubscriptionIdentifier, Value::VariableByte(v)) => {
                    p.subscription_identifiers.push(v)
                }
                (SessionExpiryInterval, Value::FourByte(v)) => p.session_expiry_interval = Some(v),
                (AssignedClientIdentifier, Value::Utf8(s)) => {
                    p.assigned_client_identifier = Some(string(s))
                }
                (ServerKeepAlive, Value::TwoByte(v)) => p.server_keep_alive = Some(v),
                (AuthenticationMethod, Value::Utf8(s)) => p.authentication_method = Some(string(s)),
                (AuthenticationData, Value::Binary(s)) => {
                    p.authentication_data = Some(raw.slice(s.start..s.end))
                }
                (RequestProblemInformation, Value::Bool(v)) => {
                    p.request_problem_information = Some(v)
                }
                (WillDelayInterval, Value::FourByte(v)) => p.will_delay_interval = Some(v),
                (RequestResponseInformation, Value::Bool(v)) => {
                    p.request_response_information = Some(v)
                }
                (ResponseInformation, Value::Utf8(s)) => p.response_information = Some(string(s)),
                (ServerReference, Value::Utf8(s)) => p.server_reference = Some(string(s)),
                (ReasonString, Value::Utf8(s)) => p.reason_string = Some(string(s)),
                (ReceiveMaximum, Value::TwoByte(v)) => p.receive_maximum = Some(v),
                (TopicAliasMaximum, Value::TwoByte(v)) => p.topic_alias_maximum = Some(v),
                (TopicAlias, Value::TwoByte(v)) => p.topic_alias = Some(v),
                (MaximumQoS, Value::QoS(v)) => p.maximum_qos = Some(v),
                (RetainAvailable, Value::Bool(v)) => p.retain_available = Some(v),
                (UserProperty, Value::Utf8Pair(k, v)) => {
                    p.user_properties.push((string(k), string(v)))
                }
                (MaximumPacketSize, Value::FourByte(v)) => p.maximum_packet_size = Some(v),
                (WildcardSubscriptionAvailable, Value::Bool(v)) => {
                    p.wildcard_subscription_available = Some(v)
                }
                (SubscriptionIdentifierAvailable, Value::Bool(v)) => {
                    p.subscription_identifier_available = Some(v)
                }
                (SharedSubscriptionAvailable, Value::Bool(v)) => {
                    p.shared_subscription_available = Some(v)
                }
                // `read_property` gives each identifier its own data type.
                _ => {}
            }
        }
        p
    }
}

/// The properties of one MQTT 5.0 packet or of a Will.
///
/// Decoded, they stay the bytes they came in as (a slice of the packet),
/// validated against every rule of section 2.2.2 for their packet: reading
/// them through the accessor methods ([`Properties::user_properties`],
/// [`Properties::subscription_identifiers`], [`Properties::topic_alias`], ...)
/// allocates nothing, and re-encoding copies the bytes.
///
/// Fields are read and written through [`PropertyValues`], which this type
/// dereferences to: `p.content_type` parses a decoded block into its values
/// once (allocating) and keeps them; writing a field turns the set into
/// owned values. An empty set holds nothing at all. On MQTT 3.1.1
/// properties are not encoded.
///
/// ```
/// use mq_proto::{Properties, MqttString};
/// let mut p = Properties::default();
/// assert!(p.is_empty());
/// p.message_expiry_interval = Some(60);
/// p.user_properties.push((MqttString::from("trace"), MqttString::from("abc")));
/// assert_eq!(p.message_expiry_interval(), Some(60));
/// assert_eq!(p.user_properties().count(), 1);
/// ```
#[derive(Default)]
pub struct Properties {
    /// Built or edited values; `None` when empty or decoded.
    owned: Option<Box<PropertyValues>>,
    /// A decoded, non-empty block; never set together with `owned`.
    wire: Option<Wire>,
}

macro_rules! accessors {
    ($($name:ident: $id:ident -> $t:ty;)*) => {
        impl Properties {$(
            #[doc = concat!("The ", stringify!($id), " property, without allocating; see [`PropertyValues::", stringify!($name), "`].")]
            #[inline]
            pub fn $name(&self) -> Option<$t> {
                match &self.wire {
                    Some(w) => w.find(PropertyId::$id).and_then(|v| <$t>::from_value(v, &w.raw)),
                    None => self.owned.as_ref().and_then(|v| v.$name.clone()),
                }
            }
        )*}

        #[cfg(test)]
        impl Properties {
            /// Whether every accessor reads what `values` holds.
            pub(crate) fn reads_as(&self, values: &PropertyValues) -> bool {
                $(self.$name() == values.$name &&)*
                self.subscription_identifiers().eq(values.subscription_identifiers.iter().copied())
                    && self.user_properties().eq(values.user_properties.iter().cloned())
            }
        }
    };
}

accessors! {
    payload_format_indicator: PayloadFormatIndicator -> PayloadFormat;
    message_expiry_interval: MessageExpiryInterval -> u32;
    content_type: ContentType -> MqttString;
    response_topic: ResponseTopic -> MqttString;
    correlation_data: CorrelationData -> Bytes;
    session_expiry_interval: SessionExpiryInterval -> u32;
    assigned_client_identifier: AssignedClientIdentifier -> MqttString;
    server_keep_alive: ServerKeepAlive -> u16;
    authentication_method: AuthenticationMethod -> MqttString;
    authentication_data: AuthenticationData -> Bytes;
    request_problem_information: RequestProblemInformation -> bool;
    will_delay_interval: WillDelayInterval -> u32;
    request_response_information: RequestResponseInformation -> bool;
    response_information: ResponseInformation -> MqttString;
    server_reference: ServerReference -> MqttString;
    reason_string: ReasonString -> MqttString;
    receive_maximum: ReceiveMaximum -> u16;
    topic_alias_maximum: TopicAliasMaximum -> u16;
    topic_alias: TopicAlias -> u16;
    maximum_qos: MaximumQoS -> QoS;
    retain_available: RetainAvailable -> bool;
    maximum_packet_size: MaximumPacketSize -> u32;
    wildcard_subscription_available: WildcardSubscriptionAvailable -> bool;
    subscription_identifier_available: SubscriptionIdentifierAvailable -> bool;
    shared_subscription_available: SharedSubscriptionAvailable -> bool;
}

impl Properties {
    /// Whether no property is set.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.wire.is_none() && self.owned.as_ref().is_none_or(|v| v.is_empty())
    }

    /// The Subscription Identifiers, in order, without allocating.
    ///
    /// ```
    /// use mq_proto::Properties;
    /// let mut p = Properties::default();
    /// p.subscription_identifiers.push(7);
    /// assert!(p.subscription_identifiers().eq([7]));
    /// ```
    #[inline]
    pub fn subscription_identifiers(&self) -> impl Iterator<Item = u32> + '_ {
        self.repeated(
            |v| v.subscription_identifiers.iter().copied(),
            |_, v| match v {
                Value::VariableByte(id) => Some(id),
                _ => None,
            },
        )
    }

    /// The User Properties (name, value), in order, without allocating:
    /// decoded ones are slices of the packet.
    #[inline]
    pub fn user_properties(&self) -> impl Iterator<Item = (MqttString, MqttString)> + '_ {
        self.repeated(
            |v| v.user_properties.iter().cloned(),
            |raw, v| match v {
                Value::Utf8Pair(k, v) => Some((string_of(raw, k), string_of(raw, v))),
                _ => None,
            },
        )
    }

    /// A property that may repeat: from the owned values, or each value
    /// `decoded` picks out of the decoded block.
    #[inline]
    fn repeated<'a, T: 'a, I: Iterator<Item = T> + 'a>(
        &'a self,
        owned: impl FnOnce(&'a PropertyValues) -> I,
        decoded: fn(&Bytes, Value) -> Option<T>,
    ) -> impl Iterator<Item = T> + 'a {
        let owned = self.owned.as_deref().map(owned).into_iter().flatten();
        let wire = self
            .wire
            .iter()
            .flat_map(move |w| w.fields().filter_map(move |(_, v)| decoded(&w.raw, v)));
        owned.chain(wire)
    }

    /// The values (parsed and kept on first use when decoded); the same as
    /// dereferencing.
    pub fn values(&self) -> &PropertyValues {
        match (&self.wire, &self.owned) {
            (Some(w), _) => w.values.get_or_init(|| Box::new(w.to_values())),
            (None, Some(v)) => v,
            (None, None) => &NO_VALUES,
        }
    }

    /// Takes the values out, leaving the set empty.
    pub fn into_values(self) -> PropertyValues {
        match (self.wire, self.owned) {
            (Some(w), _) => w.to_values(),
            (None, Some(v)) => *v,
            (None, None) => PropertyValues::new(),
        }
    }

    /// Reads a Property Length and the properties after it, validating them
    /// all for `context`, and keeps the block as a slice of the packet.
    #[inline]
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        context: PropertyContext,
    ) -> Result<Self, DecodeError> {
        let len = r.variable_byte_integer("property length")? as usize;
        let start = r.position();
        let mut fields = r.sub(len, "properties")?;
        if len == 0 {
            return Ok(Properties::default());
        }
        // One bit per identifier (all are below 64): which ones were seen.
        let mut seen: u64 = 0;
        while fields.remaining() > 0 {
            let (id, _) = read_property::<true>(&mut fields, context)?;
            let bit = 1u64 << (id as u8 & 63);
            let repeats = match id {
                PropertyId::UserProperty => true,
                PropertyId::SubscriptionIdentifier => context != PropertyContext::Subscribe,
                _ => false,
            };
            if seen & bit != 0 && !repeats {
                return Err(DecodeError::DuplicateProperty(id));
            }
            seen |= bit;
        }
        Ok(Properties {
            owned: None,
            wire: Some(Wire {
                raw: r.frame_slice(start, start + len),
                context,
                values: OnceBox::new(),
            }),
        })
    }
}

impl Deref for Properties {
    type Target = PropertyValues;

    #[inline]
    fn deref(&self) -> &PropertyValues {
        self.values()
    }
}

/// Writing turns a decoded set into owned values (allocating once) and an
/// empty one into a boxed block.
impl DerefMut for Properties {
    fn deref_mut(&mut self) -> &mut PropertyValues {
        if let Some(w) = self.wire.take() {
            self.owned = Some(Box::new(w.to_values()));
        }
        self.owned.get_or_insert_with(Box::default)
    }
}

impl From<PropertyValues> for Properties {
    fn from(values: PropertyValues) -> Self {
        Properties {
            owned: (!values.is_empty()).then(|| Box::new(values)),
            wire: None,
        }
    }
}

impl Clone for Properties {
    fn clone(&self) -> Self {
        Properties {
            owned: self.owned.clone(),
            wire: self.wire.as_ref().map(|w| Wire {
                raw: w.raw.clone(),
                context: w.context,
                values: OnceBox::new(),
            }),
        }
    }
}

/// Equal when the values are, whatever the form.
impl PartialEq for Properties {
    fn eq(&self, other: &Self) -> bool {
        if let (Some(a), Some(b)) = (&self.wire, &other.wire) {
            if a.raw == b.raw {
                return true;
            }
        }
        self.values() == other.values()
    }
}

impl Eq for Properties {}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.values(), f)
    }
}

impl PropertyValues {
    /// The empty set.
    pub const fn new() -> Self {
        PropertyValues {
            payload_format_indicator: None,
            message_expiry_interval: None,
            content_type: None,
            response_topic: None,
            correlation_data: None,
            subscription_identifiers: Vec::new(),
            session_expiry_interval: None,
            assigned_client_identifier: None,
            server_keep_alive: None,
            authentication_method: None,
            authentication_data: None,
            request_problem_information: None,
            will_delay_interval: None,
            request_response_information: None,
            response_information: None,
            server_reference: None,
            reason_string: None,
            receive_maximum: None,
            topic_alias_maximum: None,
            topic_alias: None,
            maximum_qos: None,
            retain_available: None,
            user_properties: Vec::new(),
            maximum_packet_size: None,
            wildcard_subscription_available: None,
            subscription_identifier_available: None,
            shared_subscription_available: None,
        }
    }

    /// Whether no property is set.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.presence() == 0
    }

    /// Which properties are set, one bit per identifier value; branch-free.
    #[inline]
    fn presence(&self) -> u64 {
        use PropertyId::*;
        // Destructured so a new field cannot be forgotten here.
        let PropertyValues {
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
        let bit = |set: bool, id: PropertyId| u64::from(set) << id as u8;
        bit(payload_format_indicator.is_some(), PayloadFormatIndicator)
            | bit(message_expiry_interval.is_some(), MessageExpiryInterval)
            | bit(content_type.is_some(), ContentType)
            | bit(response_topic.is_some(), ResponseTopic)
            | bit(correlation_data.is_some(), CorrelationData)
            | bit(!subscription_identifiers.is_empty(), SubscriptionIdentifier)
            | bit(session_expiry_interval.is_some(), SessionExpiryInterval)
            | bit(
                assigned_client_identifier.is_some(),
                AssignedClientIdentifier,
            )
            | bit(server_keep_alive.is_some(), ServerKeepAlive)
            | bit(authentication_method.is_some(), AuthenticationMethod)
            | bit(authentication_data.is_some(), AuthenticationData)
            | bit(
                request_problem_information.is_some(),
                RequestProblemInformation,
            )
            | bit(will_delay_interval.is_some(), WillDelayInterval)
            | bit(
                request_response_information.is_some(),
                RequestResponseInformation,
            )
            | bit(response_information.is_some(), ResponseInformation)
            | bit(server_reference.is_some(), ServerReference)
            | bit(reason_string.is_some(), ReasonString)
            | bit(receive_maximum.is_some(), ReceiveMaximum)
            | bit(topic_alias_maximum.is_some(), TopicAliasMaximum)
            | bit(topic_alias.is_some(), TopicAlias)
            | bit(maximum_qos.is_some(), MaximumQoS)
            | bit(retain_available.is_some(), RetainAvailable)
            | bit(!user_properties.is_empty(), UserProperty)
            | bit(maximum_packet_size.is_some(), MaximumPacketSize)
            | bit(
                wildcard_subscription_available.is_some(),
                WildcardSubscriptionAvailable,
            )
            | bit(
                subscription_identifier_available.is_some(),
                SubscriptionIdentifierAvailable,
            )
            | bit(
                shared_subscription_available.is_some(),
                SharedSubscriptionAvailable,
            )
    }
}

impl Properties {
    /// Writes the Property Length and the properties, validating them for
    /// `context` when `S::CHECKS`. `topic_alias`, when given, is written as
    /// the Topic Alias in place of any the set holds (the client's own
    /// aliasing, without editing the user's message).
    ///
    /// A decoded block written in the context it was read in is copied as
    /// it is: it was validated then.
    #[inline]
    pub(crate) fn encode<S: Sink>(
        &self,
        context: PropertyContext,
        topic_alias: Option<u16>,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        match (&self.wire, &self.owned, topic_alias) {
            (None, None, None) => {
                s.put_u8(0);
                Ok(())
            }
            (None, Some(v), _) => v.encode(context, topic_alias, s),
            _ => self.encode_other(context, topic_alias, s),
        }
    }

    /// [`Self::encode`] of a decoded block, or of a Topic Alias alone.
    #[inline(never)]
    fn encode_other<S: Sink>(
        &self,
        context: PropertyContext,
        topic_alias: Option<u16>,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        match &self.wire {
            Some(w)
                if w.context == context
                    && (topic_alias.is_none() || w.find(PropertyId::TopicAlias).is_none()) =>
            {
                let alias_len = if topic_alias.is_some() { 3 } else { 0 };
                let len = w.raw.len() + alias_len;
                if S::CHECKS && len > VARIABLE_BYTE_INTEGER_MAX as usize {
                    return Err(EncodeError::PacketTooLarge(len));
                }
                s.put_variable_byte_integer(len as u32);
                s.put_slice(&w.raw);
                if let Some(alias) = topic_alias {
                    s.put_u8(PropertyId::TopicAlias as u8);
                    s.put_u16(alias);
                }
                Ok(())
            }
            _ => self.values().encode(context, topic_alias, s),
        }
    }
}

impl PropertyValues {
    /// Writes the Property Length and the properties.
    ///
    /// The measuring pass ([`Counter`](super::wire::Counter)) validates and
    /// measures the fields in one go and records the length; the writing pass
    /// replays that length instead of measuring again.
    ///
    /// An empty set measures 0 and is written as the Property Length 0.
    #[inline]
    fn encode<S: Sink>(
        &self,
        context: PropertyContext,
        topic_alias: Option<u16>,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        s.put_properties(self, context, topic_alias)
    }

    /// The properties without their length; validates when `S::CHECKS`.
    /// `topic_alias` stands in for the Topic Alias field when given.
    ///
    /// The walk covers only the fields `context` allows: when checking, a
    /// set holding any other property takes the walk over all fields, which
    /// reports the first offender exactly as before.
    #[inline]
    pub(crate) fn encode_fields<S: Sink>(
        &self,
        context: PropertyContext,
        topic_alias: Option<u16>,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        const PUBLISH: u64 = PropertyId::allowed_in(PropertyContext::Publish);
        const CONNECT: u64 = PropertyId::allowed_in(PropertyContext::Connect);
        const WILL: u64 = PropertyId::allowed_in(PropertyContext::Will);
        let allowed = match context {
            PropertyContext::Publish => PUBLISH,
            PropertyContext::Connect => CONNECT,
            PropertyContext::Will => WILL,
            _ => return self.encode_only::<ALL_FIELDS, S>(context, topic_alias, s),
        };
        let alias = topic_alias.map_or(0, |_| 1 << PropertyId::TopicAlias as u8);
        if S::CHECKS && (self.presence() | alias) & !allowed != 0 {
            return self.encode_only::<ALL_FIELDS, S>(context, topic_alias, s);
        }
        match context {
            PropertyContext::Publish => self.encode_only::<PUBLISH, S>(context, topic_alias, s),
            PropertyContext::Connect => self.encode_only::<CONNECT, S>(context, topic_alias, s),
            _ => self.encode_only::<WILL, S>(context, topic_alias, s),
        }
    }

    /// [`Self::encode_fields`] over the fields in `FIELDS` (one bit per
    /// identifier value); the others are skipped unseen. Unless `FIELDS` is
    /// [`ALL_FIELDS`], every field in it must be allowed in `context`.
    #[inline(always)]
    fn encode_only<const FIELDS: u64, S: Sink>(
        &self,
        context: PropertyContext,
        topic_alias: Option<u16>,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        use PropertyId::*;
        let has = |id: PropertyId| FIELDS & (1 << id as u8) != 0;
        // Checks that `context` allows `id`; the identifier is written with its value.
        let field = |id: PropertyId| -> Result<(), EncodeError> {
            if S::CHECKS && FIELDS == ALL_FIELDS && !id.is_allowed_in(context) {
                return Err(EncodeError::PropertyNotAllowed {
                    property: id,
                    context,
                });
            }
            Ok(())
        };
        let invalid = |property: PropertyId, value: u32| EncodeError::InvalidPropertyValue {
            property,
            value,
        };
        if has(PayloadFormatIndicator) {
            if let Some(v) = self.payload_format_indicator {
                field(PayloadFormatIndicator)?;
                s.put_id_u8(PayloadFormatIndicator, v as u8);
            }
        }
        if has(MessageExpiryInterval) {
            if let Some(v) = self.message_expiry_interval {
                field(MessageExpiryInterval)?;
                s.put_id_u32(MessageExpiryInterval, v);
            }
        }
        if has(ContentType) {
            if let Some(v) = &self.content_type {
                field(ContentType)?;
                s.put_id_str(ContentType, v.bytes())?;
            }
        }
        if has(ResponseTopic) {
            if let Some(v) = &self.response_topic {
                field(ResponseTopic)?;
                if S::CHECKS {
                    // Also checks the length and U+0000 that `put_str` would.
                    crate::topic::check_topic_name(v.bytes())
                        .map_err(EncodeError::InvalidTopicName)?;
                }
                s.put_id_prefixed(ResponseTopic, v.bytes());
            }
        }
        if has(CorrelationData) {
            if let Some(v) = &self.correlation_data {
                field(CorrelationData)?;
                s.put_id_binary(CorrelationData, v)?;
            }
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
        if has(SubscriptionIdentifier) {
            for &v in &self.subscription_identifiers {
                field(SubscriptionIdentifier)?;
                if S::CHECKS && (v == 0 || v > VARIABLE_BYTE_INTEGER_MAX) {
                    return Err(invalid(SubscriptionIdentifier, v));
                }
                s.put_u8(SubscriptionIdentifier as u8);
                s.put_variable_byte_integer(v);
            }
        }
        if has(SessionExpiryInterval) {
            if let Some(v) = self.session_expiry_interval {
                field(SessionExpiryInterval)?;
                s.put_id_u32(SessionExpiryInterval, v);
            }
        }
        if has(AssignedClientIdentifier) {
            if let Some(v) = &self.assigned_client_identifier {
                field(AssignedClientIdentifier)?;
                s.put_id_str(AssignedClientIdentifier, v.bytes())?;
            }
        }
        if has(ServerKeepAlive) {
            if let Some(v) = self.server_keep_alive {
                field(ServerKeepAlive)?;
                s.put_id_u16(ServerKeepAlive, v);
            }
        }
        if has(AuthenticationMethod) {
            if let Some(v) = &self.authentication_method {
                field(AuthenticationMethod)?;
                s.put_id_str(AuthenticationMethod, v.bytes())?;
            }
        }
        if has(AuthenticationData) {
            if let Some(v) = &self.authentication_data {
                field(AuthenticationData)?;
                s.put_id_binary(AuthenticationData, v)?;
            }
        }
        if has(RequestProblemInformation) {
            if let Some(v) = self.request_problem_information {
                field(RequestProblemInformation)?;
                s.put_id_u8(RequestProblemInformation, v.into());
            }
        }
        if has(WillDelayInterval) {
            if let Some(v) = self.will_delay_interval {
                field(WillDelayInterval)?;
                s.put_id_u32(WillDelayInterval, v);
            }
        }
        if has(RequestResponseInformation) {
            if let Some(v) = self.request_response_information {
                field(RequestResponseInformation)?;
                s.put_id_u8(RequestResponseInformation, v.into());
            }
        }
        if has(ResponseInformation) {
            if let Some(v) = &self.response_information {
                field(ResponseInformation)?;
                s.put_id_str(ResponseInformation, v.bytes())?;
            }
        }
        if has(ServerReference) {
            if let Some(v) = &self.server_reference {
                field(ServerReference)?;
                s.put_id_str(ServerReference, v.bytes())?;
            }
        }
        if has(ReasonString) {
            if let Some(v) = &self.reason_string {
                field(ReasonString)?;
                s.put_id_str(ReasonString, v.bytes())?;
            }
        }
        if has(ReceiveMaximum) {
            if let Some(v) = self.receive_maximum {
                field(ReceiveMaximum)?;
                if S::CHECKS && v == 0 {
                    return Err(invalid(ReceiveMaximum, 0));
                }
                s.put_id_u16(ReceiveMaximum, v);
            }
        }
        if has(TopicAliasMaximum) {
            if let Some(v) = self.topic_alias_maximum {
                field(TopicAliasMaximum)?;
                s.put_id_u16(TopicAliasMaximum, v);
            }
        }
        if has(TopicAlias) {
            if let Some(v) = topic_alias.or(self.topic_alias) {
                field(TopicAlias)?;
                if S::CHECKS && v == 0 {
                    return Err(invalid(TopicAlias, 0));
                }
                s.put_id_u16(TopicAlias, v);
            }
        }
        if has(MaximumQoS) {
            if let Some(v) = self.maximum_qos {
                field(MaximumQoS)?;
                if S::CHECKS && v == QoS::ExactlyOnce {
                    return Err(invalid(MaximumQoS, 2));
                }
                s.put_id_u8(MaximumQoS, v as u8);
            }
        }
        if has(RetainAvailable) {
            if let Some(v) = self.retain_available {
                field(RetainAvailable)?;
                s.put_id_u8(RetainAvailable, v.into());
            }
        }
        if has(UserProperty) {
            for (k, v) in &self.user_properties {
                field(UserProperty)?;
                s.put_id_str(UserProperty, k.bytes())?;
                s.put_str(v.bytes(), UserProperty.name())?;
            }
        }
        if has(MaximumPacketSize) {
            if let Some(v) = self.maximum_packet_size {
                field(MaximumPacketSize)?;
                if S::CHECKS && v == 0 {
                    return Err(invalid(MaximumPacketSize, 0));
                }
                s.put_id_u32(MaximumPacketSize, v);
            }
        }
        if has(WildcardSubscriptionAvailable) {
            if let Some(v) = self.wildcard_subscription_available {
                field(WildcardSubscriptionAvailable)?;
                s.put_id_u8(WildcardSubscriptionAvailable, v.into());
            }
        }
        if has(SubscriptionIdentifierAvailable) {
            if let Some(v) = self.subscription_identifier_available {
                field(SubscriptionIdentifierAvailable)?;
                s.put_id_u8(SubscriptionIdentifierAvailable, v.into());
            }
        }
        if has(SharedSubscriptionAvailable) {
            if let Some(v) = self.shared_subscription_available {
                field(SharedSubscriptionAvailable)?;
                s.put_id_u8(SharedSubscriptionAvailable, v.into());
            }
        }
        Ok(())
    }
}
