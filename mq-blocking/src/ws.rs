//! MQTT over WebSocket (feature `websocket`): tungstenite's client handshake
//! with subprotocol `mqtt`, then a byte stream over binary messages.
//!
//! A message may hold part of a packet or several, so the driver sees only
//! bytes: received binary messages are read out in order (across as many
//! reads as the buffer needs), each write goes out as one binary message,
//! pings are answered by tungstenite as it reads, and a close frame or the
//! end of the connection reads as end of file.

use std::io::{self, ErrorKind, Read, Write};

use bytes::{Buf, Bytes};
use mq_proto::url::{BrokerUrl, Scheme};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::HeaderValue;
use tungstenite::{Error as WsError, Message, WebSocket};

use crate::shared::{Layer, Sock};
use crate::Error;

/// A WebSocket over a TCP or TLS layer, read and written as bytes.
pub(crate) struct Ws<S> {
    ws: WebSocket<S>,
    /// The unread rest of the last binary message.
    read: Bytes,
    /// The broker closed: reads return 0.
    eof: bool,
}

/// Runs the client handshake for `url` over `stream` (whose own handshake,
/// if any, is done), asking for the `mqtt` subprotocol.
pub(crate) fn handshake<S: Layer>(stream: S, url: &BrokerUrl) -> Result<Ws<S>, Error> {
    let scheme = if url.scheme == Scheme::Wss {
        "wss"
    } else {
        "ws"
    };
    let host = if url.host.contains(':') {
        format!("[{}]", url.host)
    } else {
        url.host.clone()
    };
    let target = format!("{scheme}://{host}:{}{}", url.port, url.path);
    let failed = |reason: String| Error::WebSocket {
        url: target.clone(),
        reason,
    };
    let mut request = target
        .as_str()
        .into_client_request()
        .map_err(|e| failed(e.to_string()))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    // tungstenite checks that the server chose a subprotocol we offered.
    let (ws, response) = tungstenite::client(request, stream).map_err(|e| match e {
        HandshakeError::Failure(WsError::Http(response)) => {
            failed(format!("the server answered {}", response.status()))
        }
        HandshakeError::Failure(e) => failed(e.to_string()),
        HandshakeError::Interrupted(_) => failed("the handshake was interrupted".into()),
    })?;
    tracing::debug!(url = %target, status = %response.status(), "WebSocket open");
    Ok(Ws {
        ws,
        read: Bytes::new(),
        eof: false,
    })
}

fn into_io(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        e => io::Error::new(ErrorKind::InvalidData, e),
    }
}

impl<S: Layer> Read for Ws<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.read.is_empty() {
                let n = self.read.len().min(buf.len());
                buf[..n].copy_from_slice(&self.read[..n]);
                self.read.advance(n);
                return Ok(n);
            }
            if self.eof {
                return Ok(0);
            }
            match self.ws.read() {
                Ok(Message::Binary(data)) => self.read = data,
                // tungstenite queued the pong and sends it on its next call.
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Ok(Message::Close(_)) => {
                    // Send tungstenite's closing reply if the socket takes it.
                    let _ = self.ws.flush();
                    self.eof = true;
                }
                Ok(Message::Text(_)) => {
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        "the broker sent a text WebSocket message; MQTT uses binary messages",
                    ))
                }
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => self.eof = true,
                Err(e) => return Err(into_io(e)),
            }
        }
    }
}

impl<S: Layer> Write for Ws<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.ws.write(Message::Binary(Bytes::copy_from_slice(buf))) {
            // tungstenite keeps the message when the socket is full; flush sends it.
            Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => Ok(buf.len()),
            Err(e) => Err(into_io(e)),
            Ok(()) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().map_err(into_io)
    }
}

impl<S: Layer> Layer for Ws<S> {
    fn sock(&mut self) -> &mut Sock {
        self.ws.get_mut().sock()
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Duration;

    use tungstenite::handshake::server::{Request, Response};

    use super::*;
    use crate::Duplex;

    const STEP: Duration = Duration::from_secs(10);

    /// A client `Duplex` from `dial` and the server side of the same WebSocket.
    #[allow(clippy::result_large_err)] // tungstenite's callback type
    fn pair() -> (Duplex, WebSocket<std::net::TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}/mqtt", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(STEP)).unwrap();
            tungstenite::accept_hdr(tcp, |_: &Request, mut response: Response| {
                let mqtt = HeaderValue::from_static("mqtt");
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", mqtt);
                Ok(response)
            })
            .unwrap()
        });
        let url = BrokerUrl::parse(&url).unwrap();
        let duplex = crate::transport::dial(&url, &crate::ConnectOptions::new("t")).unwrap();
        (duplex, server.join().unwrap())
    }

    /// Reads until end of file on a thread of its own, bounded by `STEP`.
    fn read_all(mut reader: Box<dyn Read + Send>) -> io::Result<Vec<u8>> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut got, mut small) = (Vec::new(), [0u8; 4]);
            let result = loop {
                match reader.read(&mut small) {
                    Ok(0) => break Ok(got),
                    Ok(n) => got.extend_from_slice(&small[..n]),
                    Err(e) => break Err(e),
                }
            };
            let _ = tx.send(result);
        });
        rx.recv_timeout(STEP).expect("the reader is stuck")
    }

    #[test]
    fn a_waiting_reader_does_not_hold_up_the_writer() {
        let (duplex, mut server) = pair();
        let reading = std::thread::spawn(move || read_all(duplex.reader));
        // The reader is waiting for the broker, which sends only after it
        // heard us; a writer stuck behind it would time the server out.
        std::thread::sleep(Duration::from_millis(50));
        let mut writer = duplex.writer;
        std::thread::spawn(move || (0..100u8).for_each(|i| writer.write_all(&[16, 1, i]).unwrap()));
        for i in 0..100u8 {
            let expected = Message::Binary(Bytes::copy_from_slice(&[16, 1, i]));
            assert_eq!(server.read().unwrap(), expected, "one message per write");
        }
        server
            .send(Message::Binary(Bytes::from_static(b"hello ")))
            .unwrap();
        server
            .send(Message::Ping(Bytes::from_static(b"p")))
            .unwrap();
        server
            .send(Message::Binary(Bytes::from_static(b"world")))
            .unwrap();
        // The reader thread answered the ping on its own.
        assert_eq!(
            server.read().unwrap(),
            Message::Pong(Bytes::from_static(b"p"))
        );
        server.close(None).unwrap();
        assert_eq!(reading.join().unwrap().unwrap(), b"hello world");
        // The close frame is answered before end of file.
        assert!(matches!(server.read(), Ok(Message::Close(_))));
    }

    #[test]
    fn text_messages_are_an_error() {
        let (duplex, mut server) = pair();
        server.send(Message::text("nope")).unwrap();
        let err = read_all(duplex.reader).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }
}
