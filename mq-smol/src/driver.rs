//! The driver: the engine's loop as one future, run by `async_io::block_on`
//! on a thread of its own. It races a read, a command, the core's deadline
//! and room in a full subscriber; everything it learns goes to the engine.

use std::future::{pending, Future};
use std::io;
use std::pin::pin;
use std::sync::Arc;

use async_channel::Receiver;
use async_io::Timer;
use futures_lite::future::or;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use mq_common::legacy::{Channels, Command, Engine};
use mq_common::{ClientEvent, ConnectOptions, Jitter};
use mq_proto::client::Instant;
use mq_proto::url::BrokerUrl;

use crate::channels::Smol;
use crate::transport::{self, BoxStream, Connector};

/// Commands taken in one go before the driver writes and reads again.
const COMMAND_BATCH: usize = 64;
/// Read buffer per connection.
const READ_BUFFER: usize = 64 * 1024;
/// How long the last bytes (a DISCONNECT) and the close may take once the
/// connection is over, so a broker that stopped reading cannot hold up `disconnect`.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// What woke the driver (short-lived: its size does not matter, boxing a
/// command would cost an allocation per command).
#[allow(clippy::large_enum_variant)]
enum Wake {
    Read(io::Result<usize>),
    Command(Option<Command<Smol>>),
    Deadline,
    Room,
}

pub(crate) struct Driver {
    pub(crate) engine: Engine<Smol>,
    pub(crate) url: BrokerUrl,
    pub(crate) options: ConnectOptions,
    pub(crate) connector: Option<Arc<dyn Connector>>,
    pub(crate) commands: Receiver<Command<Smol>>,
    pub(crate) origin: std::time::Instant,
    pub(crate) jitter: Jitter,
}

impl Driver {
    fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    /// The engine's next deadline (the core's, or a request's) on the clock.
    fn deadline(&self) -> Option<std::time::Instant> {
        let at = self.engine.poll_timeout()?;
        Some(self.origin + at.as_duration())
    }

    /// Connects, serves, and reconnects as the core's policy says, until stopped.
    pub(crate) async fn run(mut self) {
        loop {
            let (url, connector) = (self.url.clone(), self.connector.clone());
            let timeout = self.options.mqtt.connect_timeout;
            #[cfg(feature = "tls")]
            let tls = self.options.tls.clone();
            #[cfg(not(feature = "tls"))]
            let tls = ();
            let dial =
                async move { transport::dial(&url, connector.as_deref(), &tls, timeout).await };
            // Commands are taken while dialing: publishes queue in the core.
            let Some(dialed) = self.with_commands(dial).await else {
                break;
            };
            let now = self.now();
            match dialed {
                Ok(stream) => match self.engine.core_mut().connect(now) {
                    Ok(()) => self.serve(stream).await,
                    Err(e) => self.engine.dial_failed(e.into()),
                },
                Err(e) => {
                    tracing::debug!(url = %self.url, error = %e, "dial failed");
                    self.engine.dial_failed(e);
                }
            }
            self.engine.after_input(self.now());
            // A first connection that did not fail (the engine stops if it
            // did) ended in a protocol fallback: that retry is not a reconnect.
            if self.engine.is_stopping()
                || (self.engine.ever_connected() && !self.options.auto_reconnect)
            {
                break;
            }
            let random = self.jitter.next_u32();
            let Some(delay) = self.engine.core_mut().reconnect_delay(random) else {
                break;
            };
            tracing::debug!(?delay, "reconnecting");
            self.engine
                .channels()
                .event(ClientEvent::Reconnecting { delay });
            if self.with_commands(Timer::after(delay)).await.is_none() {
                break;
            }
        }
        self.shut_down();
    }

    /// Stops for good: commands still queued fail with `Error::Closed`, then
    /// the engine marks the snapshot closed and completes `disconnect`.
    fn shut_down(mut self) {
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            drop(command);
        }
        self.engine.finish();
        self.engine.channels().events.close();
    }

    /// Runs `fut` while still taking commands and keeping the engine's
    /// deadlines (message expiry, request timeouts); `None` once the client stops.
    async fn with_commands<T>(&mut self, fut: impl Future<Output = T>) -> Option<T> {
        let mut fut = pin!(fut);
        loop {
            if self.engine.is_stopping() {
                return None;
            }
            let deadline = self.deadline();
            let out = or(async { Ok(fut.as_mut().await) }, async {
                let command = async { Some(self.next_command().await) };
                Err(or(command, sleep_until(deadline)).await)
            })
            .await;
            match out {
                Ok(out) => return Some(out),
                Err(Some(command)) => self.command(command),
                Err(None) => self.engine.handle_timeout(self.now()),
            }
            self.take_commands();
        }
    }

    /// The next command while the engine takes commands; `None` when every handle is gone.
    async fn next_command(&self) -> Option<Command<Smol>> {
        if self.engine.accepts_commands() && !self.engine.is_stopping() {
            self.commands.recv().await.ok()
        } else {
            pending().await
        }
    }

    fn command(&mut self, command: Option<Command<Smol>>) {
        let now = self.now();
        match command {
            Some(command) => self.engine.command(now, command),
            None => self.engine.handles_dropped(now),
        }
        self.engine.after_input(now);
    }

    /// Feeds commands that are already waiting, a batch at most.
    fn take_commands(&mut self) {
        for _ in 0..COMMAND_BATCH {
            if !self.engine.accepts_commands() || self.engine.is_stopping() {
                return;
            }
            match self.commands.try_recv() {
                Ok(command) => self.command(Some(command)),
                Err(async_channel::TryRecvError::Empty) => return,
                Err(async_channel::TryRecvError::Closed) => self.command(None),
            }
        }
    }

    /// One connection: from CONNECT until the core says it ended.
    async fn serve(&mut self, mut stream: BoxStream) {
        let mut buf = vec![0u8; READ_BUFFER];
        // One timer per connection, moved only to an earlier deadline: firing
        // early is harmless (the core ignores a timeout that is not due).
        let mut timer = Timer::never();
        let mut armed: Option<std::time::Instant> = None;
        loop {
            self.write_out(&mut stream).await;
            if self.engine.connection_ended() {
                let grace = Some(std::time::Instant::now() + CLOSE_GRACE);
                or(async { stream.close().await.ok() }, sleep_until(grace)).await;
                return;
            }
            if let Some(deadline) = self.deadline() {
                if armed.is_none_or(|a| deadline < a) {
                    timer.set_at(deadline);
                    armed = Some(deadline);
                }
            }
            let can_read = self.engine.can_read();
            let read = async {
                if can_read {
                    Wake::Read(stream.read(&mut buf).await)
                } else {
                    pending().await
                }
            };
            let command = async { Wake::Command(self.next_command().await) };
            let deadline = async {
                if armed.is_some() {
                    (&mut timer).await;
                    Wake::Deadline
                } else {
                    pending().await
                }
            };
            let room = async {
                match self.engine.blocked_sink() {
                    Some(sink) => {
                        sink.room().await;
                        Wake::Room
                    }
                    None => pending().await,
                }
            };
            let wake = or(or(read, command), or(deadline, room)).await;
            let now = self.now();
            match wake {
                Wake::Read(Ok(0)) => self.engine.core_mut().handle_transport_closed(now),
                Wake::Read(Ok(n)) => self.engine.core_mut().handle_bytes(now, &buf[..n]),
                Wake::Read(Err(e)) => {
                    tracing::debug!(error = %e, "read failed");
                    self.engine.core_mut().handle_transport_closed(now);
                }
                Wake::Command(command) => self.command(command),
                Wake::Deadline => {
                    armed = None;
                    self.engine.handle_timeout(now);
                }
                Wake::Room => self.engine.retry_deliveries(),
            }
            self.engine.after_input(now);
            self.take_commands();
        }
    }

    /// Writes what the core has to send. Commands are still taken meanwhile (a
    /// `disconnect` lets the write finish, within [`CLOSE_GRACE`]), and a write
    /// stuck on a broker that stopped reading lets the core's deadlines (keep
    /// alive) end the connection.
    async fn write_out(&mut self, stream: &mut BoxStream) {
        while self.engine.core().has_transmit() {
            let mut bytes = Vec::new();
            while let Some(chunk) = self.engine.core_mut().poll_transmit() {
                bytes.extend_from_slice(&chunk);
            }
            let mut write = pin!(async {
                stream.write_all(&bytes).await?;
                stream.flush().await
            });
            let mut grace = None;
            loop {
                let ended = self.engine.connection_ended();
                if ended && grace.is_none() {
                    grace = Some(std::time::Instant::now() + CLOSE_GRACE);
                }
                let deadline = if ended { grace } else { self.deadline() };
                let written = or(async { Some(Ok(write.as_mut().await)) }, async {
                    let command = async { Some(Err(self.next_command().await)) };
                    or(command, sleep_until(deadline)).await
                })
                .await;
                let now = self.now();
                match written {
                    Some(Ok(Ok(()))) => break,
                    Some(Ok(Err(e))) => {
                        tracing::debug!(error = %e, "write failed");
                        if !ended {
                            self.engine.core_mut().handle_transport_closed(now);
                            self.engine.after_input(now);
                        }
                        return;
                    }
                    Some(Err(command)) => {
                        self.command(command);
                        continue;
                    }
                    None if ended => return,
                    None => self.engine.handle_timeout(now),
                }
                if self.engine.connection_ended() {
                    return;
                }
            }
            self.engine.after_input(self.now());
        }
    }
}

/// Resolves to `None` at `deadline`; never without one.
async fn sleep_until<T>(deadline: Option<std::time::Instant>) -> Option<T> {
    match deadline {
        Some(d) => drop(Timer::at(d).await),
        None => pending::<()>().await,
    }
    None
}

/// Starts the driver on a thread of its own.
pub(crate) fn spawn(driver: Driver) -> io::Result<()> {
    std::thread::Builder::new()
        .name("mq-smol-driver".into())
        .spawn(move || async_io::block_on(driver.run()))
        .map(drop)
}
