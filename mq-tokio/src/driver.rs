//! The one task that owns the transport and the engine: read, feed the core,
//! write what it says, hand events to users. No protocol logic here; the
//! bookkeeping is [`mq_common::Engine`]'s.

use std::future::{pending, Future};
use std::sync::Arc;

use mq_common::legacy::{Channels, Command, Engine};
use mq_common::{ClientEvent, ConnectOptions, Jitter};
use mq_proto::client::Instant;
use mq_proto::url::BrokerUrl;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::channels::{Sink, Tokio};
use crate::transport::{self, BoxStream, Connector};
use crate::Error;

pub(crate) struct Driver {
    pub(crate) engine: Engine<Tokio>,
    pub(crate) url: Arc<BrokerUrl>,
    pub(crate) options: Arc<ConnectOptions>,
    pub(crate) connector: Option<Arc<dyn Connector>>,
    pub(crate) commands: mpsc::Receiver<Command<Tokio>>,
    pub(crate) origin: tokio::time::Instant,
    pub(crate) jitter: Jitter,
    pub(crate) read_buf: Vec<u8>,
}

impl Driver {
    fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    /// Connects, serves the connection, and reconnects as the core's policy says, until stopped.
    pub(crate) async fn run(mut self) {
        loop {
            let (url, options, connector) = (
                self.url.clone(),
                self.options.clone(),
                self.connector.clone(),
            );
            let timeout = options.mqtt.connect_timeout;
            let dial = async move {
                let dial = transport::dial(&url, &options, connector.as_deref());
                tokio::time::timeout(timeout, dial)
                    .await
                    .unwrap_or(Err(Error::Timeout))
            };
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
            tracing::debug!(?delay, "reconnecting");
            self.engine
                .channels()
                .event(ClientEvent::Reconnecting { delay });
            if self
                .with_commands(tokio::time::sleep(delay))
                .await
                .is_none()
            {
                break;
            }
        }
        self.engine.finish();
    }

    /// Runs `fut` while still taking commands (publishes queue in the core meanwhile).
    /// `None` when the user stopped the client.
    async fn with_commands<T>(&mut self, fut: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(fut);
        loop {
            if self.engine.is_stopping() {
                return None;
            }
            tokio::select! {
                out = &mut fut => return Some(out),
                cmd = self.commands.recv(), if self.engine.accepts_commands() => self.command(cmd),
            }
            let now = self.now();
            self.engine.after_input(now);
        }
    }

    /// One connection: from CONNECT until the core says it ended.
    async fn serve(&mut self, stream: BoxStream) {
        let (mut rd, mut wr) = tokio::io::split(stream);
        loop {
            while self.engine.core().has_transmit() {
                while let Some(bytes) = self.engine.core_mut().poll_transmit() {
                    if let Err(e) = wr.write_all(&bytes).await {
                        tracing::debug!(error = %e, "write failed");
                        let now = self.now();
                        self.engine.core_mut().handle_transport_closed(now);
                    }
                }
                let now = self.now();
                self.engine.after_input(now);
            }
            if self.engine.connection_ended() {
                let _ = wr.flush().await;
                let _ = wr.shutdown().await;
                return;
            }
            let deadline = self
                .engine
                .poll_timeout()
                .map(|t| self.origin + t.as_duration());
            let sleep = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => pending().await,
                }
            };
            let blocked = self.engine.blocked_sink().cloned();
            tokio::select! {
                read = rd.read(&mut self.read_buf), if self.engine.can_read() => {
                    let now = self.now();
                    match read {
                        Ok(0) => self.engine.core_mut().handle_transport_closed(now),
                        Ok(n) => self.engine.core_mut().handle_bytes(now, &self.read_buf[..n]),
                        Err(e) => {
                            tracing::debug!(error = %e, "read failed");
                            self.engine.core_mut().handle_transport_closed(now);
                        }
                    }
                }
                cmd = self.commands.recv(), if self.engine.accepts_commands() => self.command(cmd),
                _ = sleep => {
                    let now = self.now();
                    self.engine.handle_timeout(now);
                }
                _ = room(blocked) => self.engine.retry_deliveries(),
            }
            let now = self.now();
            self.engine.after_input(now);
        }
    }

    /// Takes `cmd` and whatever else is already queued (up to a batch), so a
    /// burst of publishes goes out in one write.
    fn command(&mut self, cmd: Option<Command<Tokio>>) {
        const BATCH: usize = 64;
        let now = self.now();
        let Some(cmd) = cmd else {
            self.engine.handles_dropped(now);
            return;
        };
        self.engine.command(now, cmd);
        for _ in 1..BATCH {
            if !self.engine.accepts_commands() {
                break;
            }
            match self.commands.try_recv() {
                Ok(cmd) => self.engine.command(now, cmd),
                Err(_) => break,
            }
        }
    }
}

/// Resolves once `sink` has room (or is gone); never when there is no blocked sink.
async fn room(sink: Option<Sink>) {
    match sink {
        Some(sink) => drop(sink.0.reserve().await),
        None => pending().await,
    }
}
