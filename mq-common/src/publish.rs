//! The setters of a publish builder, written once for every adapter.

/// Adds the 5.0-style setters (QoS, retain, properties, user properties,
/// message expiry, content type, response topic, correlation data, UTF-8
/// payload) to an adapter's publish builder, a type with a field
/// `publish: mq_proto::Publish`.
#[macro_export]
macro_rules! publish_setters {
    ($builder:ty) => {
        impl $builder {
            /// Quality of service.
            pub fn qos(mut self, qos: $crate::__private::QoS) -> Self {
                self.publish.qos = qos;
                self
            }

            /// Retain flag.
            pub fn retain(mut self, retain: bool) -> Self {
                self.publish.retain = retain;
                self
            }

            /// Replaces all properties (5.0).
            pub fn properties(mut self, properties: $crate::__private::Properties) -> Self {
                self.publish.properties = properties;
                self
            }

            /// Adds a User Property (5.0); names may repeat, order is kept.
            pub fn user_property(
                mut self,
                name: impl Into<$crate::__private::MqttString>,
                value: impl Into<$crate::__private::MqttString>,
            ) -> Self {
                self.publish
                    .properties
                    .user_properties
                    .push((name.into(), value.into()));
                self
            }

            /// Message Expiry Interval in seconds (5.0).
            pub fn message_expiry(mut self, seconds: u32) -> Self {
                self.publish.properties.message_expiry_interval = Some(seconds);
                self
            }

            /// Content Type (5.0).
            pub fn content_type(
                mut self,
                content_type: impl Into<$crate::__private::MqttString>,
            ) -> Self {
                self.publish.properties.content_type = Some(content_type.into());
                self
            }

            /// Response Topic (5.0).
            pub fn response_topic(
                mut self,
                topic: impl Into<$crate::__private::MqttString>,
            ) -> Self {
                self.publish.properties.response_topic = Some(topic.into());
                self
            }

            /// Correlation Data (5.0).
            pub fn correlation_data(mut self, data: impl Into<$crate::__private::Bytes>) -> Self {
                self.publish.properties.correlation_data = Some(data.into());
                self
            }

            /// Marks the payload as UTF-8 text (5.0 Payload Format Indicator 1).
            pub fn utf8_payload(mut self) -> Self {
                self.publish.properties.payload_format_indicator =
                    Some($crate::__private::PayloadFormat::Utf8);
                self
            }
        }
    };
}

/// What a message's payload can be made from: owned buffers are taken as
/// they are, borrowed ones copied (a borrow may not outlive the call).
///
/// ```
/// use mq_common::IntoPayload;
/// let owned = vec![1u8, 2, 3];
/// assert_eq!(&(&owned).into_payload()[..], [1, 2, 3]);
/// assert_eq!(&owned.into_payload()[..], [1, 2, 3]);
/// assert_eq!(&"text".into_payload()[..], b"text");
/// assert_eq!(&b"raw".into_payload()[..], b"raw");
/// assert_eq!(&String::from("s").into_payload()[..], b"s");
/// ```
pub trait IntoPayload {
    /// The payload as [`Bytes`](bytes::Bytes).
    fn into_payload(self) -> bytes::Bytes;
}

impl IntoPayload for bytes::Bytes {
    fn into_payload(self) -> bytes::Bytes {
        self
    }
}

impl IntoPayload for &bytes::Bytes {
    /// A cheap reference-counted clone, no copy.
    fn into_payload(self) -> bytes::Bytes {
        self.clone()
    }
}

impl IntoPayload for Vec<u8> {
    fn into_payload(self) -> bytes::Bytes {
        self.into()
    }
}

impl IntoPayload for String {
    fn into_payload(self) -> bytes::Bytes {
        self.into()
    }
}

impl IntoPayload for &[u8] {
    fn into_payload(self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(self)
    }
}

impl<const N: usize> IntoPayload for &[u8; N] {
    fn into_payload(self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(self)
    }
}

impl<const N: usize> IntoPayload for [u8; N] {
    fn into_payload(self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(&self)
    }
}

impl IntoPayload for &Vec<u8> {
    fn into_payload(self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(self)
    }
}

impl IntoPayload for &str {
    fn into_payload(self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(self.as_bytes())
    }
}

impl IntoPayload for &String {
    fn into_payload(self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(self.as_bytes())
    }
}
