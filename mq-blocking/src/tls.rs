//! TLS settings (feature `tls`): mq-common's [`TlsOptions`], shared by every
//! adapter, set in [`ConnectOptions::tls`](crate::ConnectOptions). The
//! handshake runs with a `rustls::ClientConnection` (ring provider, no
//! process-wide default provider) on the connecting thread, bounded by the
//! connect timeout.

use std::io::{self, ErrorKind, Read, Write};

pub use mq_common::tls::*;
use rustls::ClientConnection;

use crate::shared::{Layer, Sock};
use crate::Error;

/// A TLS connection over [`Sock`], driven by hand: one `read_tls` per read,
/// so it never reads the socket twice for one wake-up of the reader thread.
pub(crate) struct Tls {
    conn: ClientConnection,
    sock: Sock,
}

/// Runs the client handshake over `sock` for `host` (or `options.server_name`).
pub(crate) fn handshake(sock: Sock, host: &str, options: &TlsOptions) -> Result<Tls, Error> {
    let config = options.client_config()?;
    let name = options.verified_name(host)?;
    let server = name.to_str().into_owned();
    let failed = |source| {
        Error::Tls(TlsError::Handshake {
            server: server.clone(),
            source,
        })
    };
    let conn = ClientConnection::new(config, name)
        .map_err(|e| failed(io::Error::new(ErrorKind::InvalidData, e)))?;
    let mut tls = Tls { conn, sock };
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).map_err(failed)?;
    }
    tls.flush().map_err(failed)?;
    Ok(tls)
}

impl Read for Tls {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                done => return done,
            }
            // Nothing decrypted: one read from the socket (`WouldBlock` when
            // the reader thread has not seen bytes arrive).
            self.conn.read_tls(&mut self.sock)?;
            let processed = self.conn.process_new_packets();
            // Alerts and key updates go out now if the socket takes them.
            let _ = self.flush();
            processed.map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
        }
    }
}

impl Write for Tls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        if n == 0 && !buf.is_empty() {
            // rustls' send buffer is full: make room first.
            self.flush()?;
            return self.conn.writer().write(buf);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }
}

impl Layer for Tls {
    fn sock(&mut self) -> &mut Sock {
        &mut self.sock
    }
}
