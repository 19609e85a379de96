//! What an async runtime gives the [driver](crate::driver): spawning, one
//! resettable timer, and opening transports. mq-tokio and mq-smol implement
//! [`Runtime`] in a few lines each; everything else is written once here.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use mq_proto::url::{BrokerUrl, Scheme};

use crate::{ConnectOptions, Error};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An open connection to the broker, as the driver reads and writes it.
pub type BoxTransport = Box<dyn Transport>;

/// Opens a transport of the user's own (an adapter's `Connector`), for the
/// first connection and every reconnect.
pub type OpenConnector = Box<dyn Fn() -> BoxFuture<Result<BoxTransport, Error>> + Send + Sync>;

/// Runs tasks: the driver, and the handlers of [`Client::subscribe_callback`](crate::Client::subscribe_callback).
pub trait Spawn: Send + Sync + 'static {
    /// Runs `task` to completion in the background.
    fn spawn(&self, task: BoxFuture<()>);
}

/// How a runtime reaches a broker: each adapter implements it in its
/// `transport.rs`, with its own sockets, TLS and WebSocket streams.
pub trait Dial {
    /// Opens a transport to `url` (one of `broker`'s servers, or where a
    /// broker redirected the client): TCP, TLS, WebSocket as the URL says.
    fn dial(
        broker: Arc<Broker>,
        url: BrokerUrl,
    ) -> impl Future<Output = Result<BoxTransport, Error>> + Send + 'static;
}

/// `url`'s transport, checked against this build's features before any
/// socket is opened, so every adapter reports a missing `tls` or
/// `websocket` feature the same way.
pub(crate) fn check_features(url: &BrokerUrl) -> Result<(), Error> {
    let tls = cfg!(feature = "tls");
    if (url.scheme.is_tls() && !tls) || (url.scheme.is_websocket() && !cfg!(feature = "websocket"))
    {
        return Err(missing_feature(url.scheme, tls));
    }
    Ok(())
}

/// The error for a `scheme` this build cannot open, given whether it has
/// TLS: TLS is named first for `wss://`. Adapters return it from their
/// dial's fallback arm (an adapter's features can be fewer than
/// mq-common's when another adapter in the build turns them on).
pub fn missing_feature(scheme: Scheme, tls: bool) -> Error {
    if scheme.is_tls() && !tls {
        Error::FeatureDisabled("TLS", "tls")
    } else {
        Error::FeatureDisabled("WebSocket", "websocket")
    }
}

/// An async runtime, and the way it reaches a broker.
pub trait Runtime: Spawn + Dial {
    /// The runtime's timer.
    type Timer: Timer;

    /// A timer that has not been set (it never fires until [`Timer::reset`]).
    fn timer(&self) -> Self::Timer;

    /// Runs blocking `work` (the session store's file I/O) where it does not
    /// hold up the runtime's other tasks, and resolves with its result.
    fn unblock<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static)
        -> BoxFuture<T>;
}

/// Where to connect: the servers and the options (TLS settings among them).
#[derive(Debug)]
pub struct Broker {
    /// The URL `connect` was given, then the failover URLs: never empty.
    servers: Vec<BrokerUrl>,
    /// The client's options.
    pub options: ConnectOptions,
}

impl Broker {
    /// The broker at `url`, then `options.failover`, in that order.
    pub(crate) fn new(url: &str, options: ConnectOptions) -> Result<Self, Error> {
        let mut servers = vec![BrokerUrl::parse(url)?];
        for url in &options.failover {
            servers.push(BrokerUrl::parse(url)?);
        }
        Ok(Broker { servers, options })
    }

    /// The server that [`Target::Server(i)`](crate::engine::Target) names:
    /// the list is walked round, so every index names one.
    pub(crate) fn server(&self, i: usize) -> &BrokerUrl {
        &self.servers[i % self.servers.len()]
    }

    /// The servers, the URL `connect` was given first.
    pub fn servers(&self) -> &[BrokerUrl] {
        &self.servers
    }
}

/// One resettable timer.
pub trait Timer: Send + Unpin + 'static {
    /// Fires at `deadline` (at once if it has passed), replacing any earlier deadline.
    fn reset(&mut self, deadline: std::time::Instant);
    /// Ready once the deadline has come.
    fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// A byte stream to the broker, in the shape the driver uses.
pub trait Transport: Send + Unpin + 'static {
    /// Reads at most `max` bytes, appending them to `buf` (which has room
    /// for them), and returns the count; 0 is end of stream.
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Poll<io::Result<usize>>;
    /// Writes some of `data`, returning the count.
    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>>;
    /// Pushes out anything buffered.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Flushes and shuts the stream down (TLS close_notify, WebSocket close, TCP FIN).
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

#[cfg(feature = "futures-io")]
/// A futures-io stream (smol, async-std) as the driver's [`Transport`] (feature `futures-io`).
pub struct FuturesIo<S>(pub S);

#[cfg(feature = "futures-io")]
impl<S> Transport for FuturesIo<S>
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
{
    /// futures-io reads into initialized memory: the window is zeroed first
    /// (the driver keeps it about twice the last read), then read into in
    /// place in the engine's buffer, with no copy.
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        buf.resize(len + max, 0);
        let read = Pin::new(&mut self.0).poll_read(cx, &mut buf[len..]);
        let n = match &read {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(len + n);
        read
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), Error> {
        check_features(&BrokerUrl::parse(url).unwrap())
    }

    #[test]
    fn missing_features_are_named_before_dialing() {
        assert!(check("mqtt://127.0.0.1:1883").is_ok());
        let tls = check("mqtts://127.0.0.1:8883");
        let ws = check("ws://127.0.0.1:80/mqtt");
        let wss = check("wss://127.0.0.1:443/mqtt");
        if cfg!(feature = "tls") {
            assert!(tls.is_ok(), "{tls:?}");
        } else {
            assert!(matches!(tls, Err(Error::FeatureDisabled("TLS", "tls"))));
            // TLS is named first when both are missing or only it is.
            assert!(matches!(wss, Err(Error::FeatureDisabled("TLS", "tls"))));
        }
        if cfg!(feature = "websocket") {
            assert!(ws.is_ok(), "{ws:?}");
        } else {
            assert!(matches!(
                ws,
                Err(Error::FeatureDisabled("WebSocket", "websocket"))
            ));
        }
        if cfg!(all(feature = "tls", feature = "websocket")) {
            assert!(wss.is_ok(), "{wss:?}");
        }
    }

    /// An adapter built with fewer features than mq-common names what it lacks.
    #[test]
    fn missing_feature_names_tls_first_only_when_tls_is_missing() {
        let named = |scheme, tls| match missing_feature(scheme, tls) {
            Error::FeatureDisabled(_, feature) => feature,
            other => panic!("{other:?}"),
        };
        assert_eq!(named(Scheme::Wss, false), "tls");
        assert_eq!(named(Scheme::Tls, false), "tls");
        assert_eq!(named(Scheme::Wss, true), "websocket");
        assert_eq!(named(Scheme::Ws, false), "websocket");
    }
}
