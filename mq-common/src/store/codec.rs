//! The byte layout of stored updates and of a snapshot's body: little-endian
//! integers, strings with a `u16` length (as in MQTT), counts as `u64`, and
//! each message as the 5.0 PUBLISH packet the codec makes of it, so every
//! property is kept.

use bytes::Bytes;
use mq_proto::client::{
    ActiveSubscription, RequestId, SessionSnapshot, StoreUpdate, StoredPublish,
};
use mq_proto::{
    check_frame, EncodeError, Frame, MqttString, Packet, ProtocolVersion, Publish, QoS,
    RetainHandling, SubscriptionOptions, MAX_PACKET_SIZE,
};

const PUBLISH_QUEUED: u8 = 0;
const PUBLISH_SENT: u8 = 1;
const PUBLISH_RELEASED: u8 = 2;
const PUBLISH_COMPLETED: u8 = 3;
const QOS2_RECEIVED: u8 = 4;
const QOS2_RELEASED: u8 = 5;
const QOS2_CLEARED: u8 = 6;
const SUBSCRIPTION_ADDED: u8 = 7;
const SUBSCRIPTION_REMOVED: u8 = 8;

/// Appends `update`.
pub(super) fn put_update(out: &mut Vec<u8>, update: &StoreUpdate) -> Result<(), EncodeError> {
    match update {
        StoreUpdate::PublishQueued { id, publish } => {
            out.push(PUBLISH_QUEUED);
            put_u64(out, id.0);
            put_publish(out, publish)?;
        }
        StoreUpdate::PublishSent { id, packet_id } => {
            out.push(PUBLISH_SENT);
            put_u64(out, id.0);
            put_u16(out, *packet_id);
        }
        StoreUpdate::PublishReleased { id } => {
            out.push(PUBLISH_RELEASED);
            put_u64(out, id.0);
        }
        StoreUpdate::PublishCompleted { id } => {
            out.push(PUBLISH_COMPLETED);
            put_u64(out, id.0);
        }
        StoreUpdate::IncomingQoS2Received { packet_id } => {
            out.push(QOS2_RECEIVED);
            put_u16(out, *packet_id);
        }
        StoreUpdate::IncomingQoS2Released { packet_id } => {
            out.push(QOS2_RELEASED);
            put_u16(out, *packet_id);
        }
        StoreUpdate::IncomingQoS2Cleared => out.push(QOS2_CLEARED),
        StoreUpdate::SubscriptionAdded(sub) => {
            out.push(SUBSCRIPTION_ADDED);
            put_subscription(out, sub)?;
        }
        StoreUpdate::SubscriptionRemoved { filter } => {
            out.push(SUBSCRIPTION_REMOVED);
            put_string(out, filter, "topic filter")?;
        }
    }
    Ok(())
}

/// Appends the whole of `state`.
pub(super) fn put_snapshot(out: &mut Vec<u8>, state: &SessionSnapshot) -> Result<(), EncodeError> {
    put_u64(out, state.outgoing.len() as u64);
    for stored in &state.outgoing {
        put_u64(out, stored.id.0);
        put_option(out, stored.packet_id, put_u16);
        out.push(u8::from(stored.released));
        put_publish(out, &stored.publish)?;
    }
    put_u64(out, state.incoming_qos2.len() as u64);
    for &packet_id in &state.incoming_qos2 {
        put_u16(out, packet_id);
    }
    put_u64(out, state.subscriptions.len() as u64);
    for sub in &state.subscriptions {
        put_subscription(out, sub)?;
    }
    Ok(())
}

/// The packet identifier the message holds, then its 5.0 PUBLISH packet,
/// which carries its own length.
fn put_publish(out: &mut Vec<u8>, publish: &Publish) -> Result<(), EncodeError> {
    put_u16(out, publish.packet_id);
    if publish.qos != QoS::AtMostOnce && publish.packet_id == 0 {
        // A queued message has no identifier yet, which a QoS 1/2 packet
        // needs: encode a stand-in (the real one is written above).
        let stand_in = Publish {
            packet_id: 1,
            ..publish.clone()
        };
        stand_in.encode(ProtocolVersion::V5, out)?;
    } else {
        publish.encode(ProtocolVersion::V5, out)?;
    }
    Ok(())
}

fn put_subscription(out: &mut Vec<u8>, sub: &ActiveSubscription) -> Result<(), EncodeError> {
    put_string(out, &sub.filter, "topic filter")?;
    let o = sub.options;
    out.push(
        o.qos as u8
            | (u8::from(o.no_local) << 2)
            | (u8::from(o.retain_as_published) << 3)
            | ((o.retain_handling as u8) << 4),
    );
    put_option(out, sub.subscription_identifier, put_u32);
    put_u64(out, sub.user_properties.len() as u64);
    for (name, value) in &sub.user_properties {
        put_string(out, name, "user property")?;
        put_string(out, value, "user property")?;
    }
    Ok(())
}

fn put_string(out: &mut Vec<u8>, s: &MqttString, field: &'static str) -> Result<(), EncodeError> {
    let len = u16::try_from(s.len()).map_err(|_| EncodeError::TooLong {
        field,
        len: s.len(),
    })?;
    put_u16(out, len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_option<T>(out: &mut Vec<u8>, value: Option<T>, put: fn(&mut Vec<u8>, T)) {
    out.push(u8::from(value.is_some()));
    if let Some(v) = value {
        put(out, v);
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Bytes that do not read as what was written: where and why.
#[derive(Debug)]
pub(super) struct Malformed {
    /// Offset in the bytes read.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

fn malformed(offset: usize, reason: impl Into<String>) -> Malformed {
    Malformed {
        offset,
        reason: reason.into(),
    }
}

/// Reads what the `put_` functions wrote.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Whether every byte has been read.
    pub(super) fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub(super) fn update(&mut self) -> Result<StoreUpdate, Malformed> {
        let at = self.pos;
        Ok(match self.u8()? {
            PUBLISH_QUEUED => StoreUpdate::PublishQueued {
                id: self.request_id()?,
                publish: Box::new(self.publish()?),
            },
            PUBLISH_SENT => StoreUpdate::PublishSent {
                id: self.request_id()?,
                packet_id: self.u16()?,
            },
            PUBLISH_RELEASED => StoreUpdate::PublishReleased {
                id: self.request_id()?,
            },
            PUBLISH_COMPLETED => StoreUpdate::PublishCompleted {
                id: self.request_id()?,
            },
            QOS2_RECEIVED => StoreUpdate::IncomingQoS2Received {
                packet_id: self.u16()?,
            },
            QOS2_RELEASED => StoreUpdate::IncomingQoS2Released {
                packet_id: self.u16()?,
            },
            QOS2_CLEARED => StoreUpdate::IncomingQoS2Cleared,
            SUBSCRIPTION_ADDED => StoreUpdate::SubscriptionAdded(self.subscription()?),
            SUBSCRIPTION_REMOVED => StoreUpdate::SubscriptionRemoved {
                filter: self.string()?,
            },
            tag => return Err(malformed(at, format!("unknown update kind {tag}"))),
        })
    }

    pub(super) fn snapshot(&mut self) -> Result<SessionSnapshot, Malformed> {
        let mut state = SessionSnapshot::default();
        for _ in 0..self.u64()? {
            state.outgoing.push(StoredPublish {
                id: self.request_id()?,
                packet_id: self.option(Self::u16)?,
                released: self.bool()?,
                publish: self.publish()?,
            });
        }
        for _ in 0..self.u64()? {
            state.incoming_qos2.push(self.u16()?);
        }
        for _ in 0..self.u64()? {
            state.subscriptions.push(self.subscription()?);
        }
        Ok(state)
    }

    fn publish(&mut self) -> Result<Publish, Malformed> {
        let packet_id = self.u16()?;
        let at = self.pos;
        let rest = &self.buf[at..];
        let len = match check_frame(rest, ProtocolVersion::V5, MAX_PACKET_SIZE) {
            Ok(Frame::Complete(header)) => header.packet_len(),
            Ok(Frame::Incomplete { .. }) => return Err(self.malformed("truncated PUBLISH")),
            Err(e) => return Err(self.malformed(format!("PUBLISH: {e}"))),
        };
        // A buffer of its own: a restored message keeps only its bytes alive.
        let frame = Bytes::copy_from_slice(self.take(len)?);
        match Packet::decode(&frame, ProtocolVersion::V5) {
            Ok(Packet::Publish(publish)) => Ok(Publish {
                packet_id,
                ..publish
            }),
            Ok(other) => Err(malformed(at, format!("{:?} packet", other.packet_type()))),
            Err(e) => Err(malformed(at, format!("PUBLISH: {e}"))),
        }
    }

    fn subscription(&mut self) -> Result<ActiveSubscription, Malformed> {
        let filter = self.string()?;
        let at = self.pos;
        let bits = self.u8()?;
        let bad = || malformed(at, format!("subscription options {bits:#04x}"));
        let retain_handling = match bits >> 4 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(bad()),
        };
        let qos = QoS::from_bits(bits & 0x03).ok_or_else(bad)?;
        let options = SubscriptionOptions {
            qos,
            no_local: bits & 0x04 != 0,
            retain_as_published: bits & 0x08 != 0,
            retain_handling,
        };
        let subscription_identifier = self.option(Self::u32)?;
        let mut user_properties = Vec::new();
        for _ in 0..self.u64()? {
            user_properties.push((self.string()?, self.string()?));
        }
        Ok(ActiveSubscription {
            filter,
            options,
            subscription_identifier,
            user_properties,
        })
    }

    fn string(&mut self) -> Result<MqttString, Malformed> {
        let len = usize::from(self.u16()?);
        let at = self.pos;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(MqttString::from)
            .map_err(|_| malformed(at, "string is not UTF-8"))
    }

    fn request_id(&mut self) -> Result<RequestId, Malformed> {
        self.u64().map(RequestId)
    }

    fn option<T>(
        &mut self,
        read: fn(&mut Self) -> Result<T, Malformed>,
    ) -> Result<Option<T>, Malformed> {
        Ok(if self.bool()? {
            Some(read(self)?)
        } else {
            None
        })
    }

    fn bool(&mut self) -> Result<bool, Malformed> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(malformed(self.pos - 1, format!("flag byte {b}"))),
        }
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        self.array().map(u64::from_le_bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let bytes = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or_else(|| self.malformed("truncated"))?;
        self.pos += n;
        Ok(bytes)
    }

    fn malformed(&self, reason: impl Into<String>) -> Malformed {
        malformed(self.pos, reason)
    }
}
