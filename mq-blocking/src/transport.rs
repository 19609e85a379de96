//! Opening the byte stream to the broker on std: TCP, TLS (`tls.rs`),
//! WebSocket (`ws.rs`) over either, or the user's own. TLS and WebSocket
//! connections cannot be split; `shared.rs` shares them between the halves.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use mq_common::{ConnectOptions, Error};
use mq_proto::url::{BrokerUrl, Scheme};

/// A connection split for the driver: a reader (used by a reader thread), a
/// writer (used by the driver), and a way to close both.
pub struct Duplex {
    /// The receiving half.
    pub reader: Box<dyn Read + Send>,
    /// The sending half.
    pub writer: Box<dyn Write + Send>,
    /// Closes the connection, unblocking the reader.
    pub close: Box<dyn Fn() + Send>,
}

impl Duplex {
    /// Splits a TCP stream.
    pub fn tcp(stream: TcpStream) -> io::Result<Duplex> {
        let reader = stream.try_clone()?;
        let closer = stream.try_clone()?;
        Ok(Duplex {
            reader: Box::new(reader),
            writer: Box::new(stream),
            close: Box::new(move || {
                let _ = closer.shutdown(Shutdown::Both);
            }),
        })
    }
}

/// Opens a transport of the user's own; called for every (re)connect.
pub trait Connector: Send + Sync + 'static {
    /// Opens a new connection.
    fn connect(&self) -> io::Result<Duplex>;
}

impl<F: Fn() -> io::Result<Duplex> + Send + Sync + 'static> Connector for F {
    fn connect(&self) -> io::Result<Duplex> {
        self()
    }
}

/// Opens the transport `url` names; the TCP connect and any TLS and
/// WebSocket handshakes together take at most the connect timeout.
pub(crate) fn dial(url: &BrokerUrl, options: &ConnectOptions) -> Result<Duplex, Error> {
    if url.scheme.is_tls() && !cfg!(feature = "tls") {
        return Err(Error::FeatureDisabled("TLS", "tls"));
    }
    if url.scheme.is_websocket() && !cfg!(feature = "websocket") {
        return Err(Error::FeatureDisabled("WebSocket", "websocket"));
    }
    let timeout = options.mqtt.connect_timeout;
    #[cfg(any(feature = "tls", feature = "websocket"))]
    let deadline = std::time::Instant::now() + timeout;
    let tcp = tcp_connect(url, timeout)?;
    #[cfg(any(feature = "tls", feature = "websocket"))]
    let sock = || crate::shared::Sock::new(&tcp, deadline);
    match url.scheme {
        Scheme::Tcp => Ok(Duplex::tcp(tcp)?),
        #[cfg(feature = "tls")]
        Scheme::Tls => {
            let tls = crate::tls::handshake(sock()?, &url.host, &options.tls)?;
            Ok(crate::shared::split(tls, tcp)?)
        }
        #[cfg(feature = "websocket")]
        Scheme::Ws => Ok(crate::shared::split(
            crate::ws::handshake(sock()?, url)?,
            tcp,
        )?),
        #[cfg(all(feature = "tls", feature = "websocket"))]
        Scheme::Wss => {
            let tls = crate::tls::handshake(sock()?, &url.host, &options.tls)?;
            Ok(crate::shared::split(crate::ws::handshake(tls, url)?, tcp)?)
        }
        // Refused above.
        #[allow(unreachable_patterns)]
        _ => Err(Error::FeatureDisabled("TLS or WebSocket", "tls, websocket")),
    }
}

fn tcp_connect(url: &BrokerUrl, timeout: Duration) -> Result<TcpStream, Error> {
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolved to no address",
    );
    for addr in (url.host.as_str(), url.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last.into())
}
