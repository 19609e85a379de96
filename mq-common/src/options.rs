//! What users set when connecting, beyond the protocol options of the core.

use std::fmt;
use std::sync::Arc;

use mq_proto::client::{Authenticator, Options};

use crate::store::SessionStore;

/// Makes the enhanced-authentication method (5.0) a client uses, such as
/// `mq_proto::client::scram::ScramSha256`; called once per client.
#[derive(Clone)]
pub struct AuthenticatorFactory(pub Arc<dyn Fn() -> Box<dyn Authenticator> + Send + Sync>);

impl AuthenticatorFactory {
    /// Wraps a function that builds the authenticator.
    pub fn new(make: impl Fn() -> Box<dyn Authenticator> + Send + Sync + 'static) -> Self {
        AuthenticatorFactory(Arc::new(make))
    }
}

impl fmt::Debug for AuthenticatorFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthenticatorFactory")
    }
}

/// What happens to a publish when the outgoing queue is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Wait for room: the publish stays pending until the queue drains.
    #[default]
    Wait,
    /// Fail the publish with `CommandError::QueueFull`.
    Error,
    /// Fail QoS 0 messages at once; wait for room for the others.
    DropQoS0,
}

/// Connection options shared by every adapter: the core's protocol [`Options`]
/// plus reconnect and buffering settings.
///
/// ```
/// use mq_common::ConnectOptions;
/// let mut opts = ConnectOptions::new("sensor-1");
/// opts.mqtt.keep_alive = 30;
/// opts.auto_reconnect = true;
/// ```
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Protocol options: client id, credentials, keep alive, session, will, limits, backoff...
    pub mqtt: Options,
    /// Reconnect with backoff after the connection is lost. Default true.
    pub auto_reconnect: bool,
    /// Outgoing queue policy.
    pub queue_policy: QueuePolicy,
    /// Messages buffered per subscription before the client stops reading
    /// from the broker (backpressure). Default 1024.
    pub subscription_capacity: usize,
    /// Commands buffered between client handles and the driver. Default 1024.
    pub command_capacity: usize,
    /// A write to the broker that makes no progress for this long ends the
    /// connection (a broker that stopped reading). Default 30 s; with keep
    /// alive on, keep alive plus the ping timeout when that is shorter.
    pub write_timeout: std::time::Duration,
    /// Enhanced authentication (5.0): the method the client runs in CONNECT,
    /// AUTH exchanges and re-authentication. Default none.
    pub authenticator: Option<AuthenticatorFactory>,
    /// The application acknowledges each QoS 1/2 message itself
    /// (`Client::ack`): its PUBACK / PUBREC goes out only then, in the order
    /// the messages arrived (an acknowledgment waits for the earlier ones).
    /// Default false: the client acknowledges a message once it has handed it
    /// to its subscription (not when it was decoded). Either way a message no
    /// subscription can take (its stream dropped, or no route and no room
    /// left for unrouted messages) is acknowledged by the client.
    pub manual_acks: bool,
    /// Where the client keeps its session state (unacknowledged QoS 1/2
    /// publishes, incoming QoS 2 receipts, subscriptions) so that it survives
    /// a restart of the process: [`MemoryStore`](crate::store::MemoryStore)
    /// or [`FileStore`](crate::store::FileStore). At start the client loads
    /// it and its first CONNECT resumes the session; every change is made
    /// durable before the bytes that depend on it are written. Use it with
    /// `mqtt.clean_start = false` and a session expiry the broker keeps.
    /// Default none: the session state lives in memory only.
    pub session_store: Option<Arc<dyn SessionStore>>,
    /// TLS settings for `mqtts://` and `wss://`.
    #[cfg(feature = "tls")]
    pub tls: crate::tls::TlsOptions,
}

impl ConnectOptions {
    /// Defaults with this client identifier.
    pub fn new(client_id: impl Into<mq_proto::MqttString>) -> Self {
        ConnectOptions {
            mqtt: Options::new(client_id),
            auto_reconnect: true,
            queue_policy: QueuePolicy::default(),
            subscription_capacity: 1024,
            command_capacity: 1024,
            write_timeout: std::time::Duration::from_secs(30),
            authenticator: None,
            manual_acks: false,
            session_store: None,
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsOptions::default(),
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions::new("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let mut o = ConnectOptions::new("c");
        o.mqtt.username = Some("alice".into());
        o.mqtt.password = Some("hunter2-secret".into());
        let shown = format!("{o:?} {o:#?}");
        assert!(shown.contains("alice"), "the rest is shown: {shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let mut connect = mq_proto::Connect::new(mq_proto::ProtocolVersion::V5, "c");
        connect.password = o.mqtt.password.clone();
        assert!(!format!("{connect:?}").contains("hunter2"));
    }
}
