//! Opening the byte stream to the broker: TCP, TLS, WebSocket, or the user's own.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{BufMut, BytesMut};
use mq_common::runtime::{missing_feature, BoxTransport, Broker, Dial, Transport};
use mq_proto::url::{BrokerUrl, Scheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::runtime::Tokio;
use crate::Error;

mq_common::connector_types!(
    AsyncRead,
    AsyncWrite,
    Io,
    /// Opens a transport of the user's own (Unix socket, proxy, in-memory pipe);
    /// called for the first connection and for every reconnect, within the
    /// connect timeout.
    ///
    /// Any `Fn() -> impl Future<Output = io::Result<S>>` is a connector:
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mq_tokio::Error> {
    /// let connector = || tokio::net::TcpStream::connect("127.0.0.1:1883");
    /// let client = mq_tokio::connect_with(connector, mq_tokio::ConnectOptions::new("c1")).await?;
    /// # drop(client); Ok(()) }
    /// ```
);

/// A tokio stream as the driver's [`Transport`]: reads go straight into the
/// engine's buffer.
struct Io<S>(S);

impl<S: Stream> Transport for Io<S> {
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        tokio_util::io::poll_read_buf(Pin::new(&mut self.0), cx, &mut buf.limit(max))
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Dial for Tokio {
    /// Connects TCP with `tokio::net`, then TLS and WebSocket over it as
    /// `url`'s scheme says.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    async fn dial(broker: Arc<Broker>, url: BrokerUrl) -> Result<BoxTransport, Error> {
        let (url, options) = (&url, &broker.options);
        let tcp = TcpStream::connect((url.host.as_str(), url.port)).await?;
        tcp.set_nodelay(true)?;
        match url.scheme {
            Scheme::Tcp => Ok(Box::new(Io(tcp))),
            #[cfg(feature = "tls")]
            Scheme::Tls => Ok(Box::new(Io(crate::tls::connect(
                tcp,
                &url.host,
                &options.tls,
            )
            .await?))),
            #[cfg(feature = "websocket")]
            Scheme::Ws => crate::ws::connect(tcp, url).await,
            #[cfg(all(feature = "websocket", feature = "tls"))]
            Scheme::Wss => {
                let tls = crate::tls::connect(tcp, &url.host, &options.tls).await?;
                crate::ws::connect(tls, url).await
            }
            #[allow(unreachable_patterns)]
            _ => Err(missing_feature(url.scheme, cfg!(feature = "tls"))),
        }
    }
}
