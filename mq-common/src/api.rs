//! The names every adapter re-exports beside its own handles, so that
//! ordinary work (options, messages, properties, events, errors, the session
//! store) needs no second crate: `mq_tokio::Backoff`, `mq_smol::Bytes`,
//! `mq_blocking::TopicAliasPolicy`...

pub use bytes::Bytes;
pub use mq_proto::client::{
    AckError, AuthError, Authenticator, Backoff, CommandError, DisconnectReason, Options,
    ProtocolViolation, ReceiveMaximumPolicy, RequestError, RequestId, ServerCapabilities, Stats,
    TopicAliasPolicy,
};
pub use mq_proto::url::{BrokerUrl, UrlError};
pub use mq_proto::{
    ConnAck, Disconnect, MqttString, Password, PayloadFormat, Properties, PropertyValues,
    ProtocolVersion, QoS, ReasonCode, RetainHandling, Subscribe, SubscribeFilter,
    SubscriptionOptions, Unsubscribe, Will,
};

pub use crate::channel::{Events, RecvError};
#[cfg(feature = "scram")]
pub use crate::scram;
pub use crate::store;
pub use crate::{
    subscribe_packet, AuthenticatorFactory, ClientEvent, ConnectOptions, Error, IntoPayload,
    Message, QueuePolicy, RestoredOutcome,
};

/// The async handles, re-exported by the async adapters (mq-tokio,
/// mq-smol) beside the names above; mq-blocking wraps them in blocking ones.
pub mod handles {
    pub use crate::{
        Client, Prepared, PreparedSubscribe, PublishBuilder, PublishFuture, PublishToken,
        RestoredOutcomes, SubscribeBuilder, Subscription,
    };
}
