//! One TLS or WebSocket connection shared by the reader thread and the driver.
//!
//! A rustls connection or a tungstenite WebSocket is one state machine for
//! both directions, so it cannot be split like a `TcpStream`. Both halves
//! share it behind a mutex ([`split`]), and the rule that keeps them from
//! starving each other is: **nobody waits for the network while holding the
//! lock**.
//!
//! * The reader thread waits for incoming bytes with `TcpStream::peek` on a
//!   clone of the socket, without the lock. Then it takes the lock, lets the
//!   layer ([`Layer`]) do *one* socket read (which finds data, so it does not
//!   block; up to 64 KiB, handed to the layer in the pieces it asks for) and
//!   decode what it can, and releases the lock. A layer that needs more
//!   bytes than arrived (half a TLS record or WebSocket frame) returns
//!   `WouldBlock`, and the reader peeks again. [`Sock`] enforces the one
//!   read: a second read before the next peek is `WouldBlock`.
//! * The driver takes the lock per write, hands the bytes to the layer and
//!   pushes them to the socket. The socket has a short send timeout
//!   ([`WRITE_SLICE`]): when the broker does not take bytes for that long,
//!   the writer releases the lock for a moment (so the reader can drain
//!   what the broker sends meanwhile) and tries again. A write returns once
//!   every byte is on the socket, as with plain TCP.
//! * `close` shuts the TCP socket down: the peek wakes up and reads the end.
//!
//! Handshakes run before the split, blocking, bounded by the connect timeout
//! ([`Sock::new`]'s deadline).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Duplex;

/// The most one read takes from the socket.
const READ_AHEAD: usize = 64 * 1024;
/// How long a write may wait for room on the socket while holding the lock.
const WRITE_SLICE: Duration = Duration::from_millis(20);
/// How long a blocked writer stays away from the lock before trying again.
const WRITE_BACKOFF: Duration = Duration::from_millis(1);

/// The socket as the TLS and WebSocket code sees it.
pub(crate) struct Sock {
    tcp: TcpStream,
    /// While handshaking: reads and writes block, failing after this instant.
    deadline: Option<Instant>,
    /// After the handshake: the reader thread saw bytes (or the end) waiting,
    /// so one read will not block.
    readable: bool,
    /// After the handshake: what the last read took from the socket, so
    /// that the layer's many small reads (4 KiB for rustls) cost one system
    /// call; `taken..` is unread.
    ahead: Vec<u8>,
    taken: usize,
}

impl Sock {
    /// The socket for a handshake that must be over by `deadline`.
    pub(crate) fn new(tcp: &TcpStream, deadline: Instant) -> io::Result<Sock> {
        Ok(Sock {
            tcp: tcp.try_clone()?,
            deadline: Some(deadline),
            readable: false,
            ahead: Vec::new(),
            taken: 0,
        })
    }

    /// The time left before the handshake deadline, or `TimedOut`.
    fn left(&self) -> io::Result<Option<Duration>> {
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(timed_out()),
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        "the handshake took longer than the connect timeout",
    )
}

fn would_block(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(left) = self.left()? {
            self.tcp.set_read_timeout(Some(left))?;
            return self
                .tcp
                .read(buf)
                .map_err(|e| if would_block(&e) { timed_out() } else { e });
        }
        if self.taken == self.ahead.len() {
            if !std::mem::take(&mut self.readable) {
                return Err(ErrorKind::WouldBlock.into());
            }
            self.ahead.resize(READ_AHEAD, 0);
            self.taken = 0;
            let read = self.tcp.read(&mut self.ahead);
            self.ahead.truncate(*read.as_ref().unwrap_or(&0));
            read?;
        }
        let n = buf.len().min(self.ahead.len() - self.taken);
        buf[..n].copy_from_slice(&self.ahead[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        if let Some(left) = left {
            self.tcp.set_write_timeout(Some(left))?;
        }
        self.tcp.write(buf).map_err(|e| match would_block(&e) {
            true if left.is_some() => timed_out(),
            true => ErrorKind::WouldBlock.into(),
            false => e,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A byte stream over [`Sock`] that cannot be split (TLS, WebSocket).
///
/// `read` returns decoded bytes, or `WouldBlock` when it needs bytes the
/// socket does not have yet; `write` may keep bytes in the layer's buffer,
/// `flush` pushes them and is `WouldBlock` while the socket is full.
pub(crate) trait Layer: Read + Write + Send + 'static {
    /// The socket underneath.
    fn sock(&mut self) -> &mut Sock;
}

impl Layer for Sock {
    fn sock(&mut self) -> &mut Sock {
        self
    }
}

/// Shares `layer`, whose handshake is done, between a reader and a writer.
pub(crate) fn split<L: Layer>(mut layer: L, tcp: TcpStream) -> io::Result<Duplex> {
    let sock = layer.sock();
    sock.deadline = None;
    sock.tcp.set_read_timeout(None)?;
    sock.tcp.set_write_timeout(Some(WRITE_SLICE))?;
    let shared = Arc::new(Mutex::new(layer));
    let closer = tcp.try_clone()?;
    Ok(Duplex {
        reader: Box::new(Reader {
            shared: shared.clone(),
            tcp,
            ready: false,
        }),
        writer: Box::new(Writer(shared)),
        close: Box::new(move || {
            let _ = closer.shutdown(Shutdown::Both);
        }),
    })
}

fn lock<L>(shared: &Mutex<L>) -> io::Result<MutexGuard<'_, L>> {
    shared
        .lock()
        .map_err(|_| io::Error::other("a thread panicked while using the connection"))
}

/// The reader thread's half.
struct Reader<L> {
    shared: Arc<Mutex<L>>,
    /// A clone of the socket to wait on without the lock.
    tcp: TcpStream,
    /// The last peek saw bytes or the end.
    ready: bool,
}

impl<L: Layer> Read for Reader<L> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            {
                let mut layer = lock(&self.shared)?;
                if std::mem::take(&mut self.ready) {
                    layer.sock().readable = true;
                }
                match layer.read(buf) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    done => return done,
                }
            }
            // Nothing decoded: wait for the socket, without the lock.
            match self.tcp.peek(&mut [0u8; 1]) {
                Ok(_) => self.ready = true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The driver's half.
struct Writer<L>(Arc<Mutex<L>>);

impl<L: Layer> Writer<L> {
    /// Runs `op` under the lock until the socket takes it.
    fn retry<T>(&self, mut op: impl FnMut(&mut L) -> io::Result<T>) -> io::Result<T> {
        loop {
            let result = op(&mut *lock(&self.0)?);
            match result {
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(WRITE_BACKOFF),
                done => return done,
            }
        }
    }
}

impl<L: Layer> Write for Writer<L> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.retry(|layer| layer.write(buf))?;
        self.retry(|layer| layer.flush())?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.retry(|layer| layer.flush())
    }
}
