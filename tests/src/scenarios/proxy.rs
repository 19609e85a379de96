//! [`Proxy`]: a loopback TCP relay in front of a broker whose connections a
//! test can cut, as a failing network would, without touching the broker.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long the relay waits to open the upstream connection.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// A TCP relay on a free loopback port that forwards every connection to
/// `upstream`. [`Proxy::cut`] closes all of them at once (both directions,
/// both ends), so the client sees its connection drop and the broker sees
/// the client vanish without a DISCONNECT.
///
/// [`Proxy::block_replies`] keeps the connections open but drops whatever
/// the broker sends, so a client's requests reach the broker while the
/// client hears nothing back: its messages stay in flight.
///
/// Dropping the proxy cuts every connection and stops accepting new ones.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    stopped: Arc<AtomicBool>,
    replies_blocked: Arc<AtomicBool>,
    /// Both sockets of every relayed connection, to shut them down.
    sockets: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts relaying connections made to [`Proxy::url`] to `upstream`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("proxy: cannot bind a loopback port: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy: cannot read the bound port: {e}"));
        let stopped = Arc::new(AtomicBool::new(false));
        let replies_blocked = Arc::new(AtomicBool::new(false));
        let sockets: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let acceptor = {
            let (stopped, sockets) = (stopped.clone(), sockets.clone());
            let blocked = replies_blocked.clone();
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    // A failed upstream connect drops `client`: the client sees a closed connection.
                    if let Ok(server) = TcpStream::connect_timeout(&upstream, UPSTREAM_TIMEOUT) {
                        relay(client, server, &sockets, &blocked);
                    }
                }
            })
        };
        Proxy {
            addr,
            stopped,
            replies_blocked,
            sockets,
            acceptor: Some(acceptor),
        }
    }

    /// The relay's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the relay, `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.addr)
    }

    /// While `on`, bytes from the broker to its clients are read and dropped;
    /// bytes from clients still reach the broker.
    pub fn block_replies(&self, on: bool) {
        self.replies_blocked.store(on, Ordering::SeqCst);
    }

    /// Closes every connection relayed so far; later connections are relayed as before.
    pub fn cut(&self) {
        let sockets = match self.sockets.lock() {
            Ok(mut s) => std::mem::take(&mut *s),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for socket in sockets {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        self.cut();
    }
}

/// Pipes `client` and `server` both ways on two threads, registering both
/// sockets so [`Proxy::cut`] can close them; `blocked` drops the broker's bytes.
fn relay(
    client: TcpStream,
    server: TcpStream,
    sockets: &Mutex<Vec<TcpStream>>,
    blocked: &Arc<AtomicBool>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
        client.try_clone(),
        server.try_clone(),
        client.try_clone(),
        server.try_clone(),
    ) else {
        return;
    };
    if let Ok(mut s) = sockets.lock() {
        s.push(c3);
        s.push(s3);
    }
    let never = Arc::new(AtomicBool::new(false));
    let blocked = blocked.clone();
    thread::spawn(move || pipe(client, s2, &never));
    thread::spawn(move || pipe(server, c2, &blocked));
}

/// Copies `from` into `to` (dropping the bytes while `drop_bytes` is set)
/// until either side closes, then closes both.
fn pipe(mut from: TcpStream, mut to: TcpStream, drop_bytes: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) if drop_bytes.load(Ordering::SeqCst) => {}
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _: io::Result<()> = to.shutdown(Shutdown::Both);
    let _: io::Result<()> = from.shutdown(Shutdown::Both);
}
