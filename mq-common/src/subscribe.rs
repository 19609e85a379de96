//! The setters of a subscribe builder, written once for every adapter.

/// Adds the subscription option setters (QoS, No Local, Retain As
/// Published, Retain Handling, more filters, Subscription Identifier, User
/// Properties) to an adapter's subscribe builder, a type with a field
/// `packet: mq_proto::Subscribe` holding at least one filter. Options apply
/// to the filter added last.
#[macro_export]
macro_rules! subscribe_setters {
    ($builder:ty) => {
        impl $builder {
            fn last_filter(&mut self) -> &mut $crate::__private::SubscriptionOptions {
                let last = self.packet.subscriptions.len() - 1;
                &mut self.packet.subscriptions[last].options
            }

            /// The largest QoS the broker may send these messages at. Default 0.
            pub fn qos(mut self, qos: $crate::__private::QoS) -> Self {
                self.last_filter().qos = qos;
                self
            }

            /// No Local (5.0): the broker does not send back this client's own publishes.
            pub fn no_local(mut self) -> Self {
                self.last_filter().no_local = true;
                self
            }

            /// Retain As Published (5.0): keep the RETAIN flag messages were published with.
            pub fn retain_as_published(mut self) -> Self {
                self.last_filter().retain_as_published = true;
                self
            }

            /// Retain Handling (5.0): when retained messages are sent on subscribing.
            pub fn retain_handling(mut self, handling: $crate::__private::RetainHandling) -> Self {
                self.last_filter().retain_handling = handling;
                self
            }

            /// All the options of the last filter at once.
            pub fn options(mut self, options: $crate::__private::SubscriptionOptions) -> Self {
                *self.last_filter() = options;
                self
            }

            /// Another filter in the same SUBSCRIBE (its messages arrive on the
            /// same stream); the options set after this apply to it.
            pub fn filter(mut self, filter: impl Into<$crate::__private::MqttString>) -> Self {
                self.packet
                    .subscriptions
                    .push($crate::__private::SubscribeFilter {
                        filter: filter.into(),
                        options: Default::default(),
                    });
                self
            }

            /// A Subscription Identifier of the user's choosing (5.0), carried
            /// by the messages this subscription brings.
            pub fn identifier(mut self, identifier: u32) -> Self {
                self.packet.properties.subscription_identifiers = vec![identifier];
                self
            }

            /// Adds a User Property to the SUBSCRIBE (5.0).
            pub fn user_property(
                mut self,
                name: impl Into<$crate::__private::MqttString>,
                value: impl Into<$crate::__private::MqttString>,
            ) -> Self {
                self.packet
                    .properties
                    .user_properties
                    .push((name.into(), value.into()));
                self
            }
        }
    };
}
