//! Opening the byte stream to the broker: TCP through `async-io`, TLS over it
//! (futures-rustls), WebSocket over either (`ws.rs`), or the user's own.

use std::future::Future;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::time::Duration;

use async_io::{Async, Timer};
use futures_lite::io::{AsyncRead, AsyncWrite};
use mq_common::Error;
use mq_proto::url::{BrokerUrl, Scheme};

/// A bidirectional byte stream to a broker (`futures-io` traits, as smol and
/// async-std streams implement them).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// The future a [`Connector`] returns.
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = io::Result<BoxStream>> + Send + 'a>>;

/// Opens a transport of the user's own (Unix socket, TLS, proxy, in-memory
/// pipe); called for the first connection and for every reconnect.
///
/// The future runs on the client's driver thread under `async_io::block_on`,
/// so it may use anything built on `async-io` (smol's and async-std's
/// sockets, `async-net`, `futures-rustls` over them) but not tokio types.
///
/// Any `Fn() -> impl Future<Output = io::Result<S>>` is a connector:
///
/// ```no_run
/// # async fn run() -> Result<(), mq_smol::Error> {
/// let client = mq_smol::connect_with(
///     || async_io::Async::<std::net::TcpStream>::connect(([127, 0, 0, 1], 1883)),
///     mq_smol::ConnectOptions::new("c1"),
/// )
/// .await?;
/// # Ok(()) }
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

/// TLS settings (the `tls` feature's [`mq_common::tls::TlsOptions`], or nothing).
#[cfg(feature = "tls")]
pub(crate) type Tls = mq_common::tls::TlsOptions;
/// TLS settings (the `tls` feature's [`mq_common::tls::TlsOptions`], or nothing).
#[cfg(not(feature = "tls"))]
pub(crate) type Tls = ();

/// Opens the user's connector, or the transport `url` names, within `timeout`.
pub(crate) async fn dial(
    url: &BrokerUrl,
    connector: Option<&dyn Connector>,
    tls: &Tls,
    timeout: Duration,
) -> Result<BoxStream, Error> {
    let open = async {
        if let Some(connector) = connector {
            return Ok(connector.connect().await?);
        }
        match url.scheme {
            Scheme::Tcp => Ok(Box::new(tcp(url).await?) as BoxStream),
            Scheme::Tls => Ok(Box::new(tls_over_tcp(url, tls).await?) as BoxStream),
            #[cfg(feature = "websocket")]
            Scheme::Ws => crate::ws::connect(tcp(url).await?, url).await,
            #[cfg(feature = "websocket")]
            Scheme::Wss => crate::ws::connect(tls_over_tcp(url, tls).await?, url).await,
            #[cfg(not(feature = "websocket"))]
            Scheme::Ws | Scheme::Wss => Err(Error::FeatureDisabled("WebSocket", "websocket")),
        }
    };
    futures_lite::future::or(open, async {
        Timer::after(timeout).await;
        Err(Error::Timeout)
    })
    .await
}

/// A TLS connection (futures-rustls) to `url`'s host; the configuration is
/// checked before dialing.
#[cfg(feature = "tls")]
async fn tls_over_tcp(url: &BrokerUrl, tls: &Tls) -> Result<impl Stream, Error> {
    let config = tls.client_config()?;
    let name = tls.verified_name(&url.host)?;
    let server = name.to_str().into_owned();
    let stream = futures_rustls::TlsConnector::from(config)
        .connect(name, tcp(url).await?)
        .await
        .map_err(|source| mq_common::tls::TlsError::Handshake { server, source })?;
    Ok(stream)
}

/// Without the `tls` feature, TLS URLs fail before dialing.
#[cfg(not(feature = "tls"))]
async fn tls_over_tcp(_: &BrokerUrl, _: &Tls) -> Result<Async<TcpStream>, Error> {
    Err(Error::FeatureDisabled("TLS", "tls"))
}

/// A TCP connection to the first address of `url`'s host that answers.
async fn tcp(url: &BrokerUrl) -> Result<Async<TcpStream>, Error> {
    // Name resolution blocks, which only holds up this client's own driver thread.
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolved to no address",
    );
    for addr in (url.host.as_str(), url.port).to_socket_addrs()? {
        match Async::<TcpStream>::connect(addr).await {
            Ok(stream) => {
                stream.get_ref().set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last.into())
}
