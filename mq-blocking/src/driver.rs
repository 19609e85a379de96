//! The driver thread: the engine's loop on std. A reader thread per
//! connection turns the blocking reads into chunks; a doorbell wakes the
//! driver for chunks and commands alike.

use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use mq_common::legacy::{Channels, Command, Engine};
use mq_common::{ClientEvent, ConnectOptions, Jitter};
use mq_proto::client::Instant;
use mq_proto::url::BrokerUrl;

use crate::channels::Std;
use crate::transport::{self, Connector, Duplex};

/// How often a full subscriber is checked for room again.
const DELIVERY_RETRY: Duration = Duration::from_millis(2);
/// Read chunks in flight between the reader thread and the driver.
const READ_AHEAD: usize = 2;

/// Rings the driver awake; rings coalesce.
#[derive(Clone)]
pub(crate) struct Doorbell(SyncSender<()>);

impl Doorbell {
    pub(crate) fn ring(&self) {
        let _ = self.0.try_send(());
    }
}

pub(crate) fn doorbell() -> (Doorbell, Receiver<()>) {
    let (tx, rx) = mpsc::sync_channel(1);
    (Doorbell(tx), rx)
}

pub(crate) struct Driver {
    pub(crate) engine: Engine<Std>,
    pub(crate) url: BrokerUrl,
    pub(crate) options: ConnectOptions,
    pub(crate) connector: Option<Arc<dyn Connector>>,
    pub(crate) commands: Receiver<Command<Std>>,
    pub(crate) bell: Doorbell,
    pub(crate) wake: Receiver<()>,
    pub(crate) origin: std::time::Instant,
    pub(crate) jitter: Jitter,
}

impl Driver {
    fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    pub(crate) fn run(mut self) {
        loop {
            let dialed = match &self.connector {
                Some(c) => c.connect().map_err(Into::into),
                None => transport::dial(&self.url, &self.options),
            };
            let now = self.now();
            match dialed {
                Ok(duplex) => match self.engine.core_mut().connect(now) {
                    Ok(()) => self.serve(duplex),
                    Err(e) => self.engine.dial_failed(e.into()),
                },
                Err(e) => {
                    tracing::debug!(url = %self.url, error = %e, "dial failed");
                    self.engine.dial_failed(e);
                }
            }
            // Still waiting for the first connection here means the core fell
            // back to 3.1.1 and wants another attempt at once.
            if self.engine.is_stopping()
                || (self.engine.ever_connected() && !self.options.auto_reconnect)
            {
                break;
            }
            let random = self.jitter.next_u32();
            let Some(delay) = self.engine.core_mut().reconnect_delay(random) else {
                break;
            };
            self.engine
                .channels()
                .event(ClientEvent::Reconnecting { delay });
            if !self.idle(delay) {
                break;
            }
        }
        self.engine.finish();
    }

    /// Waits `delay` while still taking commands; false if the user stopped the client.
    fn idle(&mut self, delay: Duration) -> bool {
        let until = std::time::Instant::now() + delay;
        loop {
            self.take_commands();
            if self.engine.is_stopping() {
                return false;
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            let _ = self.wake.recv_timeout(left);
        }
    }

    /// One connection, from CONNECT until the core says it ended.
    fn serve(&mut self, duplex: Duplex) {
        let Duplex {
            reader,
            mut writer,
            close,
        } = duplex;
        let (chunks_tx, chunks) = mpsc::sync_channel(READ_AHEAD);
        spawn_reader(reader, chunks_tx, self.bell.clone());
        loop {
            while self.engine.core().has_transmit() {
                while let Some(bytes) = self.engine.core_mut().poll_transmit() {
                    if let Err(e) = writer.write_all(&bytes) {
                        tracing::debug!(error = %e, "write failed");
                        let now = self.now();
                        self.engine.core_mut().handle_transport_closed(now);
                    }
                }
                let now = self.now();
                self.engine.after_input(now);
            }
            if self.engine.connection_ended() {
                let _ = writer.flush();
                close();
                return;
            }
            if !self.engine.can_read() {
                self.engine.retry_deliveries();
            }
            if self.take_input(&chunks) {
                continue;
            }
            let now = self.now();
            let mut wait = match self.engine.poll_timeout() {
                Some(t) => t.as_duration().saturating_sub(now.as_duration()),
                None => Duration::from_secs(3600),
            };
            if !self.engine.can_read() {
                wait = wait.min(DELIVERY_RETRY);
            }
            if wait.is_zero() || self.wake.recv_timeout(wait).is_err() {
                let now = self.now();
                self.engine.handle_timeout(now);
            }
        }
    }

    /// Feeds waiting chunks and commands to the engine; true if anything was taken.
    fn take_input(&mut self, chunks: &Receiver<Chunk>) -> bool {
        let mut took = self.take_commands();
        // Stop at the end of the connection: the reader is gone for good then.
        while self.engine.can_read() && !self.engine.connection_ended() {
            let now = self.now();
            match chunks.try_recv() {
                Ok(Chunk::Data(bytes)) => self.engine.core_mut().handle_bytes(now, &bytes),
                Ok(Chunk::Closed) | Err(TryRecvError::Disconnected) => {
                    self.engine.core_mut().handle_transport_closed(now)
                }
                Err(TryRecvError::Empty) => break,
            }
            self.engine.after_input(now);
            took = true;
        }
        took
    }

    fn take_commands(&mut self) -> bool {
        let mut took = false;
        while self.engine.accepts_commands() && !self.engine.is_stopping() {
            let now = self.now();
            match self.commands.try_recv() {
                Ok(cmd) => self.engine.command(now, cmd),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.engine.handles_dropped(now),
            }
            self.engine.after_input(now);
            took = true;
        }
        took
    }
}

enum Chunk {
    Data(Vec<u8>),
    Closed,
}

/// Reads until the connection closes; a full channel (the driver is holding
/// back for a slow subscriber) stops reading, which pushes back on the broker.
fn spawn_reader(mut reader: Box<dyn Read + Send>, chunks: SyncSender<Chunk>, bell: Doorbell) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let chunk = match reader.read(&mut buf) {
                Ok(0) | Err(_) => Chunk::Closed,
                Ok(n) => Chunk::Data(buf[..n].to_vec()),
            };
            let closed = matches!(chunk, Chunk::Closed);
            if chunks.send(chunk).is_err() || closed {
                bell.ring();
                return;
            }
            bell.ring();
        }
    });
}
