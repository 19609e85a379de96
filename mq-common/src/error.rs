//! The errors users of every adapter see.

use mq_proto::client::{AckError, AuthError, CommandError, DisconnectReason, RequestError};
use mq_proto::url::UrlError;
use mq_proto::ReasonCode;

/// Why an operation of the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker URL was not understood.
    #[error("invalid broker URL: {0}")]
    Url(#[from] UrlError),
    /// The transport could not be opened or failed.
    #[error("transport: {0}")]
    Io(#[from] std::io::Error),
    /// The URL needs a transport this build leaves out (a cargo feature).
    #[error("{0} support is not enabled: turn on the `{1}` feature")]
    FeatureDisabled(&'static str, &'static str),
    /// TLS could not be set up: a bad certificate or key file, or a failed
    /// handshake (an untrusted broker certificate, a refused client certificate).
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The WebSocket upgrade was refused or failed.
    #[error("WebSocket handshake with {url} failed: {reason}")]
    WebSocket {
        /// The URL asked for.
        url: String,
        /// What went wrong (the HTTP status when the server refused).
        reason: String,
    },
    /// The first connection failed (refused, protocol error, timeout).
    #[error("connection failed: {0}")]
    Connect(Box<DisconnectReason>),
    /// The client refused the command.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The broker or the connection failed the request.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The broker refused every topic filter of a subscribe.
    #[error("subscription refused: {}", list(.0))]
    SubscribeRefused(Vec<ReasonCode>),
    /// A manual acknowledgment named no message awaiting one.
    #[error(transparent)]
    Ack(#[from] AckError),
    /// The authenticator failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The client has stopped (after `disconnect`, or a refusal not worth retrying).
    #[error("the client is closed")]
    Closed,
    /// The session store failed: it could not be opened or loaded, or a
    /// change could not be made durable (the client then stops).
    #[error("session store: {0}")]
    Store(std::sync::Arc<crate::store::StoreError>),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
}

/// `codes` as "A, B".
fn list(codes: &[ReasonCode]) -> String {
    let names: Vec<String> = codes.iter().map(ToString::to_string).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display_readably() {
        let refused = Error::SubscribeRefused(vec![ReasonCode::NotAuthorized]);
        assert_eq!(
            refused.to_string(),
            "subscription refused: Not authorized (0x87)"
        );
        let lost = Error::Connect(Box::new(DisconnectReason::ConnectTimeout));
        assert_eq!(
            lost.to_string(),
            "connection failed: no CONNACK within the connect timeout"
        );
    }
}
