//! The async driver, written once for every async runtime: it performs the
//! [`Engine`]'s outputs with a [`Runtime`] and feeds back what happened. It
//! makes no protocol or lifecycle decision.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Poll};
use std::time::Duration;

use bytes::BytesMut;
use mq_proto::url::BrokerUrl;

use crate::engine::{Command, Engine, Input, Output, StopSignal, Target, Wait, CLOSE_GRACE};
use crate::runtime::{self, BoxFuture, BoxTransport, Broker, OpenConnector, Runtime, Timer};
use crate::{Client, ConnectOptions, Error, Instant, Prepared};

/// Starts a client on `runtime`: spawns the driver and returns once the
/// first CONNACK accepted the connection (or with the first failure).
/// Dropping the future before it resolves stops the client.
pub async fn connect<R: Runtime>(
    runtime: R,
    url: &str,
    options: ConnectOptions,
) -> Result<Client, Error> {
    prepare(runtime, url, options).await?.connect().await
}

/// [`connect`] over a transport of the user's own, which `connector` opens
/// for the first connection and every reconnect.
pub async fn connect_with<R: Runtime>(
    runtime: R,
    connector: OpenConnector,
    options: ConnectOptions,
) -> Result<Client, Error> {
    prepare_with(runtime, connector, options)
        .await?
        .connect()
        .await
}

/// [`prepare`] over a transport of the user's own (see [`connect_with`]).
pub async fn prepare_with<R: Runtime>(
    runtime: R,
    connector: OpenConnector,
    options: ConnectOptions,
) -> Result<Prepared, Error> {
    start(runtime, "mqtt://custom-transport", options, Some(connector)).await
}

/// Starts a client on `runtime` that does not dial until
/// [`Prepared::connect`], so subscriptions and the default route can be
/// registered first. Loads the session store if the options name one.
pub async fn prepare<R: Runtime>(
    runtime: R,
    url: &str,
    options: ConnectOptions,
) -> Result<Prepared, Error> {
    start(runtime, url, options, None).await
}

/// Spawns the driver, dialing `url` or opening `connector`.
async fn start<R: Runtime>(
    runtime: R,
    url: &str,
    options: ConnectOptions,
    connector: Option<OpenConnector>,
) -> Result<Prepared, Error> {
    let broker = Arc::new(Broker::new(url, options)?);
    let options = &broker.options;
    let runtime = Arc::new(runtime);
    let mut parts = match options.session_store.clone() {
        Some(store) => {
            let snapshot = runtime
                .unblock(move || store.load())
                .await
                .map_err(|e| Error::Store(Arc::new(e)))?;
            Engine::restore(options.clone(), snapshot)
        }
        None => Engine::create(options.clone()),
    };
    parts.engine.hold();
    let client = Client::new(&parts, options, runtime.clone());
    let first_connect = parts.first_connect;
    let driver = run(runtime.clone(), broker, connector, parts.engine);
    runtime.spawn(Box::pin(driver));
    Ok(Prepared::new(client, first_connect))
}

/// Smallest and largest read window, see [`Io::read_window`].
const READ_MIN: usize = 4 * 1024;
const READ_MAX: usize = 64 * 1024;

/// What ended a wait.
// Short-lived; boxing the command would allocate for every publish.
#[allow(clippy::large_enum_variant)]
enum Woke {
    Dialed(Result<BoxTransport, Error>),
    Read(io::Result<usize>),
    Command(Command),
    HandlesDropped,
    Room,
    Timeout,
}

/// The driver's I/O state: at most one transport, one dial, one timer.
struct Io<T> {
    origin: std::time::Instant,
    transport: Option<BoxTransport>,
    dial: Option<BoxFuture<Result<BoxTransport, Error>>>,
    timer: T,
    /// Every command sender is gone (reported once).
    handles_gone: bool,
    /// The size of the last read, to size the next read window.
    last_read: usize,
    /// The server dialed last.
    last_dialed: Option<BrokerUrl>,
}

/// Runs `engine` until it stops.
async fn run<R: Runtime>(
    runtime: Arc<R>,
    broker: Arc<Broker>,
    connector: Option<OpenConnector>,
    mut engine: Engine,
) {
    let commands = engine.command_receiver().clone();
    let mut io = Io {
        origin: std::time::Instant::now(),
        transport: None,
        dial: None,
        timer: runtime.timer(),
        handles_gone: false,
        last_read: 0,
        last_dialed: None,
    };
    loop {
        let input = match engine.poll_output() {
            Output::Dial(target) => {
                // A connector opens the user's own transport wherever the
                // target points (a redirect included).
                let url = io.resolve(&broker, target);
                io.dial = Some(match (url, &connector) {
                    (Err(e), _) => Box::pin(std::future::ready(Err(e))),
                    (Ok(_), Some(open)) => open(),
                    (Ok(url), None) => match runtime::check_features(&url) {
                        Ok(()) => Box::pin(R::dial(broker.clone(), url)),
                        Err(e) => Box::pin(std::future::ready(Err(e))),
                    },
                });
                continue;
            }
            Output::Write { data, stall } => {
                match io.write(&data, stall, engine.stop_signal()).await {
                    Ok(()) => continue,
                    Err(e) => Input::TransportClosed(Some(e)),
                }
            }
            Output::Close { grace } => {
                io.close(grace).await;
                continue;
            }
            Output::Persist(updates) => match broker.options.session_store.clone() {
                Some(store) if store.blocks() => {
                    Input::Persisted(runtime.unblock(move || store.apply(&updates)).await)
                }
                Some(store) => Input::Persisted(store.apply(&updates)),
                None => Input::Persisted(Ok(())),
            },
            Output::Wait(wait) => match io.wait(&mut engine, &commands, wait).await {
                Woke::Dialed(Ok(transport)) => {
                    io.transport = Some(transport);
                    Input::Dialed
                }
                Woke::Dialed(Err(e)) => Input::DialFailed(e),
                Woke::Read(Ok(0)) => Input::TransportClosed(None),
                Woke::Read(Ok(n)) => Input::Received(n),
                Woke::Read(Err(e)) => Input::TransportClosed(Some(e)),
                Woke::Command(command) => Input::Command(command),
                Woke::HandlesDropped => Input::HandlesDropped,
                Woke::Room => Input::Room,
                Woke::Timeout => Input::Timeout,
            },
            Output::Stopped => {
                // Commands that slipped in as the engine stopped: dropping
                // them answers their waiters with `Error::Closed`.
                drop(commands.drain());
                return;
            }
        };
        engine.handle_input(io.now(), input);
    }
}

impl<T: Timer> Io<T> {
    /// The URL `target` names; a redirect is read relative to the server dialed last.
    fn resolve(&mut self, broker: &Broker, target: Target) -> Result<BrokerUrl, Error> {
        let url = match target {
            Target::Server(i) => broker.server(i).clone(),
            Target::Redirect(reference) => match &self.last_dialed {
                Some(last) => last.resolve(&reference)?,
                None => broker.server(0).resolve(&reference)?,
            },
        };
        self.last_dialed = Some(url.clone());
        Ok(url)
    }

    fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    fn at(&self, instant: Instant) -> std::time::Instant {
        self.origin + instant.as_duration()
    }

    /// Writes and flushes all of `data`; fails when no progress is made for
    /// `stall`, or for [`CLOSE_GRACE`] once a stop was requested.
    async fn write(&mut self, data: &[u8], stall: Duration, stop: &StopSignal) -> io::Result<()> {
        let Some(transport) = self.transport.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let timer = &mut self.timer;
        let mut stall = stall;
        timer.reset(std::time::Instant::now() + stall);
        let mut written = 0;
        let mut stopping = false;
        poll_fn(|cx| {
            if !stopping && stop.is_requested() {
                stopping = true;
                stall = stall.min(CLOSE_GRACE);
                timer.reset(std::time::Instant::now() + stall);
            }
            // A deadline that passed with no progress ends the write, even if
            // the socket would take a few more bytes now (futures-io retries
            // the write on every poll, tokio only when the socket says so).
            if timer.poll_fired(cx).is_ready() {
                return Poll::Ready(Err(stalled(stall)));
            }
            loop {
                if written == data.len() {
                    ready!(transport.poll_flush(cx))?;
                    return Poll::Ready(Ok(()));
                }
                let polled = transport.poll_write(cx, &data[written..]);
                if polled.is_pending() && !stopping {
                    // Woken by a disconnect while the broker does not read.
                    stop.register(cx.waker());
                    if stop.is_requested() {
                        cx.waker().wake_by_ref();
                    }
                }
                match ready!(polled) {
                    Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Ok(n) => {
                        written += n;
                        timer.reset(std::time::Instant::now() + stall);
                        // Registers the reset timer with this task.
                        if timer.poll_fired(cx).is_ready() {
                            return Poll::Ready(Err(stalled(stall)));
                        }
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        })
        .await
    }

    /// Abandons a dial in progress; flushes and shuts the transport down within `grace`.
    async fn close(&mut self, grace: Duration) {
        self.dial = None;
        let Some(mut transport) = self.transport.take() else {
            return;
        };
        let timer = &mut self.timer;
        timer.reset(std::time::Instant::now() + grace);
        let closed = poll_fn(|cx| match transport.poll_close(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => timer.poll_fired(cx).map(|()| Err(stalled(grace))),
        })
        .await;
        if let Err(error) = closed {
            tracing::debug!(%error, "close failed");
        }
    }

    /// Waits for the first thing `wait` asks for (and a dial in progress).
    async fn wait(
        &mut self,
        engine: &mut Engine,
        commands: &flume::Receiver<Command>,
        mut wait: Wait,
    ) -> Woke {
        if let Some(until) = wait.until {
            let at = self.at(until);
            self.timer.reset(at);
        }
        let take_commands = wait.commands && !self.handles_gone;
        let mut command = commands.recv_async();
        let woke = poll_fn(|cx| {
            if let Some(dial) = self.dial.as_mut() {
                if let Poll::Ready(dialed) = dial.as_mut().poll(cx) {
                    self.dial = None;
                    return Poll::Ready(Woke::Dialed(dialed));
                }
            }
            if let (true, Some(transport)) = (wait.read, self.transport.as_mut()) {
                let buf = engine.receive_buffer();
                let window = reserve(buf, self.last_read);
                if let Poll::Ready(read) = transport.poll_read(cx, buf, window) {
                    return Poll::Ready(Woke::Read(read));
                }
            }
            if take_commands {
                if let Poll::Ready(received) = Pin::new(&mut command).poll(cx) {
                    return Poll::Ready(match received {
                        Ok(command) => Woke::Command(command),
                        Err(flume::RecvError::Disconnected) => Woke::HandlesDropped,
                    });
                }
            }
            if let Some(room) = wait.room.as_mut() {
                if Pin::new(room).poll(cx).is_ready() {
                    return Poll::Ready(Woke::Room);
                }
            }
            if wait.until.is_some() && self.timer.poll_fired(cx).is_ready() {
                return Poll::Ready(Woke::Timeout);
            }
            Poll::Pending
        })
        .await;
        match &woke {
            Woke::HandlesDropped => self.handles_gone = true,
            Woke::Read(Ok(n)) => self.last_read = *n,
            _ => {}
        }
        woke
    }
}

/// Makes room in the read buffer for about twice the last read (between
/// [`READ_MIN`] and [`READ_MAX`]): big enough for bursts, small enough that a
/// runtime which must zero the window before reading does little work.
fn reserve(buf: &mut BytesMut, last_read: usize) -> usize {
    let window = last_read.saturating_mul(2).clamp(READ_MIN, READ_MAX);
    if buf.capacity() - buf.len() < window {
        buf.reserve(window);
    }
    window
}

fn stalled(bound: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the transport made no progress for {bound:?}"),
    )
}
