//! Reason codes of MQTT 5.0 (section 2.4) and CONNACK return codes of 3.1.1.

use core::fmt;

use super::types::PacketType;

macro_rules! reason_codes {
    ($($(#[doc = $doc:literal])* $name:ident = $value:literal, $text:literal;)*) => {
        /// A one-byte MQTT 5.0 Reason Code (section 2.4).
        ///
        /// Several specification names share a value (0x00 is Success, Normal
        /// disconnection and Granted QoS 0); those are associated constants.
        ///
        /// ```
        /// use mq_proto::ReasonCode;
        /// assert_eq!(ReasonCode::try_from(0x87), Ok(ReasonCode::NotAuthorized));
        /// assert!(ReasonCode::PacketTooLarge.is_error());
        /// assert_eq!(ReasonCode::NORMAL_DISCONNECTION, ReasonCode::Success);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $($(#[doc = $doc])* $name = $value,)*
        }

        impl ReasonCode {
            /// The name of the code in the specification's table.
            pub const fn name(self) -> &'static str {
                match self { $(ReasonCode::$name => $text,)* }
            }
        }

        impl TryFrom<u8> for ReasonCode {
            type Error = u8;
            /// The code for a byte, or the byte back if it is not a reason code.
            fn try_from(value: u8) -> Result<Self, u8> {
                match value { $($value => Ok(ReasonCode::$name),)* other => Err(other) }
            }
        }
    };
}

reason_codes! {
    /// 0x00 Success; also Normal disconnection and Granted QoS 0.
    Success = 0x00, "Success";
    /// 0x01 Granted QoS 1.
    GrantedQoS1 = 0x01, "Granted QoS 1";
    /// 0x02 Granted QoS 2.
    GrantedQoS2 = 0x02, "Granted QoS 2";
    /// 0x04 Disconnect with Will Message.
    DisconnectWithWillMessage = 0x04, "Disconnect with Will Message";
    /// 0x10 No matching subscribers.
    NoMatchingSubscribers = 0x10, "No matching subscribers";
    /// 0x11 No subscription existed.
    NoSubscriptionExisted = 0x11, "No subscription existed";
    /// 0x18 Continue authentication.
    ContinueAuthentication = 0x18, "Continue authentication";
    /// 0x19 Re-authenticate.
    ReAuthenticate = 0x19, "Re-authenticate";
    /// 0x80 Unspecified error (also the 3.1.1 SUBACK Failure return code).
    UnspecifiedError = 0x80, "Unspecified error";
    /// 0x81 Malformed Packet.
    MalformedPacket = 0x81, "Malformed Packet";
    /// 0x82 Protocol Error.
    ProtocolError = 0x82, "Protocol Error";
    /// 0x83 Implementation specific error.
    ImplementationSpecificError = 0x83, "Implementation specific error";
    /// 0x84 Unsupported Protocol Version.
    UnsupportedProtocolVersion = 0x84, "Unsupported Protocol Version";
    /// 0x85 Client Identifier not valid.
    ClientIdentifierNotValid = 0x85, "Client Identifier not valid";
    /// 0x86 Bad User Name or Password.
    BadUserNameOrPassword = 0x86, "Bad User Name or Password";
    /// 0x87 Not authorized.
    NotAuthorized = 0x87, "Not authorized";
    /// 0x88 Server unavailable.
    ServerUnavailable = 0x88, "Server unavailable";
    /// 0x89 Server busy.
    ServerBusy = 0x89, "Server busy";
    /// 0x8A Banned.
    Banned = 0x8A, "Banned";
    /// 0x8B Server shutting down.
    ServerShuttingDown = 0x8B, "Server shutting down";
    /// 0x8C Bad authentication method.
    BadAuthenticationMethod = 0x8C, "Bad authentication method";
    /// 0x8D Keep Alive timeout.
    KeepAliveTimeout = 0x8D, "Keep Alive timeout";
    /// 0x8E Session taken over.
    SessionTakenOver = 0x8E, "Session taken over";
    /// 0x8F Topic Filter invalid.
    TopicFilterInvalid = 0x8F, "Topic Filter invalid";
    /// 0x90 Topic Name invalid.
    TopicNameInvalid = 0x90, "Topic Name invalid";
    /// 0x91 Packet Identifier in use.
    PacketIdentifierInUse = 0x91, "Packet Identifier in use";
    /// 0x92 Packet Identifier not found.
    PacketIdentifierNotFound = 0x92, "Packet Identifier not found";
    /// 0x93 Receive Maximum exceeded.
    ReceiveMaximumExceeded = 0x93, "Receive Maximum exceeded";
    /// 0x94 Topic Alias invalid.
    TopicAliasInvalid = 0x94, "Topic Alias invalid";
    /// 0x95 Packet too large.
    PacketTooLarge = 0x95, "Packet too large";
    /// 0x96 Message rate too high.
    MessageRateTooHigh = 0x96, "Message rate too high";
    /// 0x97 Quota exceeded.
    QuotaExceeded = 0x97, "Quota exceeded";
    /// 0x98 Administrative action.
    AdministrativeAction = 0x98, "Administrative action";
    /// 0x99 Payload format invalid.
    PayloadFormatInvalid = 0x99, "Payload format invalid";
    /// 0x9A Retain not supported.
    RetainNotSupported = 0x9A, "Retain not supported";
    /// 0x9B QoS not supported.
    QoSNotSupported = 0x9B, "QoS not supported";
    /// 0x9C Use another server.
    UseAnotherServer = 0x9C, "Use another server";
    /// 0x9D Server moved.
    ServerMoved = 0x9D, "Server moved";
    /// 0x9E Shared Subscriptions not supported.
    SharedSubscriptionsNotSupported = 0x9E, "Shared Subscriptions not supported";
    /// 0x9F Connection rate exceeded.
    ConnectionRateExceeded = 0x9F, "Connection rate exceeded";
    /// 0xA0 Maximum connect time.
    MaximumConnectTime = 0xA0, "Maximum connect time";
    /// 0xA1 Subscription Identifiers not supported.
    SubscriptionIdentifiersNotSupported = 0xA1, "Subscription Identifiers not supported";
    /// 0xA2 Wildcard Subscriptions not supported.
    WildcardSubscriptionsNotSupported = 0xA2, "Wildcard Subscriptions not supported";
}

impl ReasonCode {
    /// 0x00 Normal disconnection (DISCONNECT).
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode::Success;
    /// 0x00 Granted QoS 0 (SUBACK).
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode::Success;

    /// The byte on the wire.
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// Codes of 0x80 and above report failure.
    pub const fn is_error(self) -> bool {
        self.value() >= 0x80
    }

    /// Whether a 5.0 packet of this type may carry this code (the per-packet columns of section 2.4).
    pub fn is_valid_for(self, packet_type: PacketType) -> bool {
        use ReasonCode::*;
        match packet_type {
            PacketType::ConnAck => matches!(
                self,
                Success
                    | UnspecifiedError
                    | MalformedPacket
                    | ProtocolError
                    | ImplementationSpecificError
                    | UnsupportedProtocolVersion
                    | ClientIdentifierNotValid
                    | BadUserNameOrPassword
                    | NotAuthorized
                    | ServerUnavailable
                    | ServerBusy
                    | Banned
                    | BadAuthenticationMethod
                    | TopicNameInvalid
                    | PacketTooLarge
                    | QuotaExceeded
                    | PayloadFormatInvalid
                    | RetainNotSupported
                    | QoSNotSupported
                    | UseAnotherServer
                    | ServerMoved
                    | ConnectionRateExceeded
            ),
            PacketType::PubAck | PacketType::PubRec => matches!(
                self,
                Success
                    | NoMatchingSubscribers
                    | UnspecifiedError
                    | ImplementationSpecificError
                    | NotAuthorized
                    | TopicNameInvalid
                    | PacketIdentifierInUse
                    | QuotaExceeded
                    | PayloadFormatInvalid
            ),
            PacketType::PubRel | PacketType::PubComp => {
                matches!(self, Success | PacketIdentifierNotFound)
            }
            PacketType::SubAck => matches!(
                self,
                Success
                    | GrantedQoS1
                    | GrantedQoS2
                    | UnspecifiedError
                    | ImplementationSpecificError
                    | NotAuthorized
                    | TopicFilterInvalid
                    | PacketIdentifierInUse
                    | QuotaExceeded
                    | SharedSubscriptionsNotSupported
                    | SubscriptionIdentifiersNotSupported
                    | WildcardSubscriptionsNotSupported
            ),
            PacketType::UnsubAck => matches!(
                self,
                Success
                    | NoSubscriptionExisted
                    | UnspecifiedError
                    | ImplementationSpecificError
                    | NotAuthorized
                    | TopicFilterInvalid
                    | PacketIdentifierInUse
            ),
            PacketType::Disconnect => matches!(
                self,
                Success
                    | DisconnectWithWillMessage
                    | UnspecifiedError
                    | MalformedPacket
                    | ProtocolError
                    | ImplementationSpecificError
                    | NotAuthorized
                    | ServerBusy
                    | ServerShuttingDown
                    | KeepAliveTimeout
                    | SessionTakenOver
                    | TopicFilterInvalid
                    | TopicNameInvalid
                    | ReceiveMaximumExceeded
                    | TopicAliasInvalid
                    | PacketTooLarge
                    | MessageRateTooHigh
                    | QuotaExceeded
                    | AdministrativeAction
                    | PayloadFormatInvalid
                    | RetainNotSupported
                    | QoSNotSupported
                    | UseAnotherServer
                    | ServerMoved
                    | SharedSubscriptionsNotSupported
                    | ConnectionRateExceeded
                    | MaximumConnectTime
                    | SubscriptionIdentifiersNotSupported
                    | WildcardSubscriptionsNotSupported
            ),
            PacketType::Auth => matches!(self, Success | ContinueAuthentication | ReAuthenticate),
            _ => false,
        }
    }
}

impl Default for ReasonCode {
    /// Success.
    fn default() -> Self {
        ReasonCode::Success
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), self.value())
    }
}

/// A CONNACK return code of MQTT 3.1.1 (section 3.2.2.3 of that specification).
///
/// Decoded 3.1.1 CONNACKs carry the equivalent 5.0 [`ReasonCode`]; this type
/// names the original values and converts both ways.
///
/// ```
/// use mq_proto::{ConnectReturnCode, ReasonCode};
/// assert_eq!(ReasonCode::from(ConnectReturnCode::NotAuthorized), ReasonCode::NotAuthorized);
/// assert_eq!(ConnectReturnCode::try_from(ReasonCode::ServerUnavailable), Ok(ConnectReturnCode::ServerUnavailable));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectReturnCode {
    /// 0x00 Connection Accepted.
    Accepted = 0,
    /// 0x01 Connection Refused, unacceptable protocol version.
    UnacceptableProtocolVersion = 1,
    /// 0x02 Connection Refused, identifier rejected.
    IdentifierRejected = 2,
    /// 0x03 Connection Refused, Server unavailable.
    ServerUnavailable = 3,
    /// 0x04 Connection Refused, bad user name or password.
    BadUserNameOrPassword = 4,
    /// 0x05 Connection Refused, not authorized.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code for a byte, if it is one.
    pub const fn from_byte(value: u8) -> Option<Self> {
        use ConnectReturnCode::*;
        Some(match value {
            0 => Accepted,
            1 => UnacceptableProtocolVersion,
            2 => IdentifierRejected,
            3 => ServerUnavailable,
            4 => BadUserNameOrPassword,
            5 => NotAuthorized,
            _ => return None,
        })
    }
}

impl From<ConnectReturnCode> for ReasonCode {
    fn from(code: ConnectReturnCode) -> Self {
        match code {
            ConnectReturnCode::Accepted => ReasonCode::Success,
            ConnectReturnCode::UnacceptableProtocolVersion => {
                ReasonCode::UnsupportedProtocolVersion
            }
            ConnectReturnCode::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            ConnectReturnCode::ServerUnavailable => ReasonCode::ServerUnavailable,
            ConnectReturnCode::BadUserNameOrPassword => ReasonCode::BadUserNameOrPassword,
            ConnectReturnCode::NotAuthorized => ReasonCode::NotAuthorized,
        }
    }
}

impl TryFrom<ReasonCode> for ConnectReturnCode {
    type Error = ReasonCode;
    /// The 3.1.1 return code equivalent to a 5.0 reason code, or the code back if none is.
    fn try_from(code: ReasonCode) -> Result<Self, ReasonCode> {
        Ok(match code {
            ReasonCode::Success => ConnectReturnCode::Accepted,
            ReasonCode::UnsupportedProtocolVersion => {
                ConnectReturnCode::UnacceptableProtocolVersion
            }
            ReasonCode::ClientIdentifierNotValid => ConnectReturnCode::IdentifierRejected,
            ReasonCode::ServerUnavailable => ConnectReturnCode::ServerUnavailable,
            ReasonCode::BadUserNameOrPassword => ConnectReturnCode::BadUserNameOrPassword,
            ReasonCode::NotAuthorized => ConnectReturnCode::NotAuthorized,
            other => return Err(other),
        })
    }
}
