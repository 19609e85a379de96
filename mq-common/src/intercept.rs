//! Interceptors: one place to observe or change every outgoing publish and
//! every incoming message (metrics, tracing context in User Properties,
//! payload compression), run by the engine and so the same on every runtime.

use std::fmt;

use mq_proto::Publish;

use crate::Message;

/// Sees every publish the application makes and every message it receives.
/// Both methods do nothing by default; implement the ones you need. They run
/// on the client's I/O task, in the order the interceptors were added: keep
/// them quick.
///
/// ```
/// use mq_common::{ConnectOptions, Interceptor, Message};
/// use mq_proto::Publish;
///
/// /// Tags every outgoing message with the host it came from.
/// struct Origin(String);
///
/// impl Interceptor for Origin {
///     fn on_publish(&self, publish: &mut Publish) {
///         publish.properties.user_properties.push(("origin".into(), self.0.as_str().into()));
///     }
/// }
///
/// let options = ConnectOptions::new("c").interceptor(Origin("host-7".into()));
/// assert_eq!(options.interceptors.len(), 1);
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// An outgoing publish (or request), before it is queued, stored or sent.
    fn on_publish(&self, publish: &mut Publish) {
        let _ = publish;
    }

    /// An incoming message, before it is routed to its subscription.
    fn on_message(&self, message: &mut Message) {
        let _ = message;
    }
}

impl fmt::Debug for dyn Interceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Interceptor")
    }
}
