//! Opening the byte stream to the broker: TCP, TLS, WebSocket, or the user's own.

use std::future::Future;
use std::io;
use std::pin::Pin;

use mq_proto::url::{BrokerUrl, Scheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::{ConnectOptions, Error};

/// A bidirectional byte stream to a broker.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// The future a [`Connector`] returns.
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = io::Result<BoxStream>> + Send + 'a>>;

/// Opens a transport of the user's own (Unix socket, proxy, in-memory pipe);
/// called for the first connection and for every reconnect.
///
/// Any `Fn() -> impl Future<Output = io::Result<S>>` is a connector:
///
/// ```no_run
/// # async fn run() -> Result<(), mq_tokio::Error> {
/// let connector = || tokio::net::TcpStream::connect("127.0.0.1:1883");
/// let client = mq_tokio::connect_with(connector, mq_tokio::ConnectOptions::new("c1")).await?;
/// # drop(client); Ok(()) }
/// ```
pub trait Connector: Send + Sync + 'static {
    /// Opens a new stream.
    fn connect(&self) -> ConnectFuture<'_>;
}

impl<F, Fut, S> Connector for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<S>> + Send + 'static,
    S: Stream,
{
    fn connect(&self) -> ConnectFuture<'_> {
        let fut = self();
        Box::pin(async move { Ok(Box::new(fut.await?) as BoxStream) })
    }
}

/// Opens the transport `url` names, or the user's connector.
pub(crate) async fn dial(
    url: &BrokerUrl,
    options: &ConnectOptions,
    connector: Option<&dyn Connector>,
) -> Result<BoxStream, Error> {
    if let Some(connector) = connector {
        return Ok(connector.connect().await?);
    }
    let tcp = TcpStream::connect((url.host.as_str(), url.port)).await?;
    tcp.set_nodelay(true)?;
    match url.scheme {
        Scheme::Tcp => Ok(Box::new(tcp)),
        #[cfg(feature = "tls")]
        Scheme::Tls => Ok(Box::new(
            crate::tls::connect(tcp, &url.host, &options.tls).await?,
        )),
        #[cfg(feature = "websocket")]
        Scheme::Ws => crate::ws::connect(tcp, url).await,
        #[cfg(all(feature = "websocket", feature = "tls"))]
        Scheme::Wss => {
            let tls = crate::tls::connect(tcp, &url.host, &options.tls).await?;
            crate::ws::connect(tls, url).await
        }
        #[allow(unreachable_patterns)]
        Scheme::Tls => Err(Error::FeatureDisabled("TLS", "tls")),
        #[allow(unreachable_patterns)]
        _ => Err(Error::FeatureDisabled("WebSocket", "websocket")),
    }
}
