//! CONNACK (section 3.2).

use super::{check_reason_code, read_reason_code, Body, DecodeBody};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::reason::{ConnectReturnCode, ReasonCode};
use crate::codec::types::{PacketType, ProtocolVersion};
use crate::codec::wire::{Reader, Sink};

/// A CONNACK packet.
///
/// On 3.1.1 the return code is carried as its equivalent [`ReasonCode`]
/// (see [`ConnectReturnCode`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnAck {
    /// Session Present.
    pub session_present: bool,
    /// Connect Reason Code.
    pub reason_code: ReasonCode,
    /// CONNACK properties (5.0).
    pub properties: Properties,
}

impl Body for ConnAck {
    const TYPE: PacketType = PacketType::ConnAck;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        s.put_u8(self.session_present.into());
        match version {
            ProtocolVersion::V5 => {
                if S::CHECKS {
                    check_reason_code(self.reason_code, PacketType::ConnAck)?;
                }
                s.put_u8(self.reason_code.value());
                self.properties.encode(PropertyContext::ConnAck, None, s)?;
            }
            ProtocolVersion::V311 => {
                let code = ConnectReturnCode::try_from(self.reason_code)
                    .map_err(|_| EncodeError::NotInV311("this CONNACK reason code"))?;
                s.put_u8(code as u8);
            }
        }
        Ok(())
    }
}

impl DecodeBody for ConnAck {
    fn decode_body(
        r: &mut Reader<'_>,
        _: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let flags = r.u8("connect acknowledge flags")?;
        if flags & 0xFE != 0 {
            return Err(DecodeError::InvalidConnAckFlags(flags));
        }
        let (reason_code, properties) = match version {
            ProtocolVersion::V5 => {
                let code = read_reason_code(r, PacketType::ConnAck)?;
                (code, Properties::decode(r, PropertyContext::ConnAck)?)
            }
            ProtocolVersion::V311 => {
                let byte = r.u8("connect return code")?;
                let code =
                    ConnectReturnCode::from_byte(byte).ok_or(DecodeError::InvalidReasonCode {
                        packet_type: PacketType::ConnAck,
                        code: byte,
                    })?;
                (code.into(), Properties::default())
            }
        };
        Ok(ConnAck {
            session_present: flags & 1 != 0,
            reason_code,
            properties,
        })
    }
}
