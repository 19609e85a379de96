//! A transport of the user's own: a blocking [`Connector`] run off the I/O
//! thread, returning a [`Duplex`] the I/O thread reads and writes.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use async_io::Async;
use mq_smol::{BoxStream, ConnectFuture, Stream};

/// A connection a [`Connector`] opened, in the shape the I/O thread uses: a
/// socket registered with async-io's reactor (so it is read and written
/// only when ready, straight into the engine's buffers), or any
/// `futures-io` stream on that reactor.
pub struct Duplex(BoxStream);

impl std::fmt::Debug for Duplex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Duplex")
    }
}

impl Duplex {
    /// A connected TCP stream (TCP_NODELAY is set).
    pub fn tcp(stream: TcpStream) -> io::Result<Duplex> {
        stream.set_nodelay(true)?;
        Ok(Duplex(Box::new(Async::new(stream)?)))
    }

    /// A connected Unix domain socket.
    #[cfg(unix)]
    pub fn unix(stream: std::os::unix::net::UnixStream) -> io::Result<Duplex> {
        Ok(Duplex(Box::new(Async::new(stream)?)))
    }

    /// Any `futures-io` byte stream on async-io's reactor: an
    /// [`async_io::Async`] around another socket type, or TLS over one.
    pub fn new(stream: impl Stream) -> Duplex {
        Duplex(Box::new(stream))
    }
}

/// Opens a transport of the user's own; called for the first connection
/// and for every reconnect.
///
/// It runs on a thread of a blocking pool, never on the client's I/O
/// thread, and within the connect timeout: a connector that does not return
/// in time fails that connect with `Error::Timeout` (and keeps only its pool
/// thread), and `disconnect` does not wait for it.
///
/// Any `Fn() -> io::Result<Duplex>` is a connector:
///
/// ```no_run
/// # fn run() -> Result<(), mq_blocking::Error> {
/// use mq_blocking::{connect_with, ConnectOptions, Duplex};
/// let client = connect_with(
///     || Duplex::tcp(std::net::TcpStream::connect(("127.0.0.1", 1883))?),
///     ConnectOptions::new("c1"),
/// )?;
/// # drop(client); Ok(()) }
/// ```
pub trait Connector: Send + Sync + 'static {
    /// Opens a new connection.
    fn connect(&self) -> io::Result<Duplex>;
}

impl<F: Fn() -> io::Result<Duplex> + Send + Sync + 'static> Connector for F {
    fn connect(&self) -> io::Result<Duplex> {
        self()
    }
}

/// A blocking [`Connector`] as mq-smol's async one: it runs on the blocking pool.
pub(crate) struct OnPool(pub(crate) Arc<dyn Connector>);

impl mq_smol::Connector for OnPool {
    fn connect(&self) -> ConnectFuture<'_> {
        let connector = self.0.clone();
        Box::pin(async move {
            let Duplex(stream) = blocking::unblock(move || connector.connect()).await?;
            Ok(stream)
        })
    }
}
