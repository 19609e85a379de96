//! What users set when connecting, beyond the protocol options of the core.

use std::fmt;
use std::sync::Arc;

use mq_proto::client::Options;

use crate::transport::Connector;

/// What happens to a publish when the outgoing queue is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Wait for room (publish futures stay pending; `try_publish` fails).
    #[default]
    Wait,
    /// Fail the publish with `CommandError::QueueFull`.
    Error,
    /// Drop QoS 0 messages (completing them as failed); wait for the others.
    DropQoS0,
}

/// Connection options: the core's protocol [`Options`] plus transport and driver settings.
///
/// ```
/// use mq_tokio::ConnectOptions;
/// let mut opts = ConnectOptions::new("sensor-1");
/// opts.mqtt.keep_alive = 30;
/// opts.auto_reconnect = true;
/// ```
#[derive(Clone)]
pub struct ConnectOptions {
    /// Protocol options: client id, credentials, keep alive, session, will, limits, backoff...
    pub mqtt: Options,
    /// Reconnect with backoff after the connection is lost. Default true.
    pub auto_reconnect: bool,
    /// Outgoing queue policy.
    pub queue_policy: QueuePolicy,
    /// Messages buffered per subscription stream before the client stops reading
    /// from the broker (backpressure). Default 1024.
    pub subscription_capacity: usize,
    /// Commands buffered between client handles and the driver. Default 1024.
    pub command_capacity: usize,
    /// TLS settings for `mqtts://` and `wss://`.
    #[cfg(feature = "tls")]
    pub tls: crate::tls::TlsOptions,
    /// A transport of the user's own instead of dialling the URL.
    pub connector: Option<Arc<dyn Connector>>,
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
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsOptions::default(),
            connector: None,
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions::new("")
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("mqtt", &self.mqtt)
            .field("auto_reconnect", &self.auto_reconnect)
            .field("queue_policy", &self.queue_policy)
            .field("custom_connector", &self.connector.is_some())
            .finish_non_exhaustive()
    }
}
