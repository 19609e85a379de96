//! Opening the byte stream to the broker: TCP through `async-io`, TLS over it
//! (futures-rustls), WebSocket over either (`ws.rs`), or the user's own.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;

use async_io::Async;
use futures_lite::io::{AsyncRead, AsyncWrite};
use mq_common::runtime::{missing_feature, BoxTransport, Broker, Dial, FuturesIo};
use mq_common::Error;

use crate::runtime::Smol;
use mq_proto::url::{BrokerUrl, Scheme};

mq_common::connector_types!(
    AsyncRead,
    AsyncWrite,
    FuturesIo,
    /// Opens a transport of the user's own (Unix socket, TLS, proxy, in-memory
    /// pipe); called for the first connection and for every reconnect.
    ///
    /// The future runs in the client's driver task, on the client's
    /// [`Executor`](crate::Executor), within the connect timeout: it may use
    /// anything built on `async-io` (smol's and async-std's sockets,
    /// `async-net`, `futures-rustls` over them) but not tokio types.
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
);

impl Dial for Smol {
    /// Connects TCP with `async-io`, then TLS (futures-rustls) and WebSocket
    /// over it as `url`'s scheme says.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    async fn dial(broker: Arc<Broker>, url: BrokerUrl) -> Result<BoxTransport, Error> {
        let (url, options) = (&url, &broker.options);
        match url.scheme {
            Scheme::Tcp => Ok(Box::new(FuturesIo(tcp(url).await?))),
            #[cfg(feature = "tls")]
            Scheme::Tls => Ok(Box::new(FuturesIo(tls_over_tcp(url, &options.tls).await?))),
            #[cfg(feature = "websocket")]
            Scheme::Ws => crate::ws::connect(tcp(url).await?, url).await,
            #[cfg(all(feature = "websocket", feature = "tls"))]
            Scheme::Wss => crate::ws::connect(tls_over_tcp(url, &options.tls).await?, url).await,
            #[allow(unreachable_patterns)]
            _ => Err(missing_feature(url.scheme, cfg!(feature = "tls"))),
        }
    }
}

/// A TLS connection (futures-rustls) to `url`'s host; the configuration is
/// checked before dialing.
#[cfg(feature = "tls")]
async fn tls_over_tcp(
    url: &BrokerUrl,
    tls: &mq_common::tls::TlsOptions,
) -> Result<impl Stream, Error> {
    let config = tls.client_config()?;
    let name = tls.verified_name(&url.host)?;
    let server = name.to_str().into_owned();
    let stream = futures_rustls::TlsConnector::from(config)
        .connect(name, tcp(url).await?)
        .await
        .map_err(|source| mq_common::tls::TlsError::Handshake { server, source })?;
    Ok(stream)
}

/// A TCP connection to the first address of `url`'s host that answers.
async fn tcp(url: &BrokerUrl) -> Result<Async<TcpStream>, Error> {
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolved to no address",
    );
    for addr in resolve(&url.host, url.port).await? {
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

/// The addresses of `host`: an IP address as it is, a name resolved on a
/// blocking-pool thread (the system resolver blocks; the executor must not).
async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host = host.to_owned();
    blocking::unblock(move || Ok((host.as_str(), port).to_socket_addrs()?.collect())).await
}
