//! Opening the byte stream to the broker on std: TCP, or the user's own.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use mq_common::Error;
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

/// Opens the transport `url` names, within `timeout`.
pub(crate) fn dial(url: &BrokerUrl, timeout: Duration) -> Result<Duplex, Error> {
    match url.scheme {
        Scheme::Tcp => {}
        Scheme::Tls => return Err(Error::FeatureDisabled("TLS", "tls")),
        Scheme::Ws | Scheme::Wss => return Err(Error::FeatureDisabled("WebSocket", "websocket")),
    }
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolved to no address",
    );
    for addr in (url.host.as_str(), url.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(Duplex::tcp(stream)?);
            }
            Err(e) => last = e,
        }
    }
    Err(last.into())
}
