//! smol and async-std as the runtime of mq-common's driver: the
//! [`Executor`] the user chose spawns, an [`async_io::Timer`] is the timer
//! (smol and async-std share async-io's reactor), and `transport.rs`'s
//! `Dial` opens the stream.

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use async_io::Timer;
use futures_core::Stream as _;
use mq_common::runtime::{self, BoxFuture, Spawn};

use crate::transport::{open_connector, Connector};
use crate::{Client, ConnectOptions, Error, Prepared};

/// Where a client's driver task (and the handlers of
/// [`Client::subscribe_callback`]) run. [`connect`](crate::connect) and
/// [`connect_with`](crate::connect_with) use [`Executor::default`].
///
/// ```no_run
/// # async fn run() -> Result<(), mq_smol::Error> {
/// use mq_smol::{ConnectOptions, Executor};
/// // A thread of its own, whatever executor polls the handles.
/// let client = Executor::Thread
///     .connect("mqtt://127.0.0.1:1883", ConnectOptions::new("own-thread"))
///     .await?;
/// # drop(client); Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Executor {
    /// `smol::spawn`: smol's global executor (feature `smol`, on by default).
    #[cfg(feature = "smol")]
    Smol,
    /// `async_std::task::spawn` (feature `async-std`).
    #[cfg(feature = "async-std")]
    AsyncStd,
    /// A thread of its own per task, running it with `async_io::block_on`:
    /// for programs without an executor to lend, or that want the client's
    /// work off their executor's threads.
    Thread,
}

impl Default for Executor {
    /// `Smol` with the `smol` feature, else `AsyncStd` with `async-std`, else `Thread`.
    fn default() -> Self {
        #[cfg(feature = "smol")]
        return Executor::Smol;
        #[cfg(all(not(feature = "smol"), feature = "async-std"))]
        return Executor::AsyncStd;
        #[cfg(not(any(feature = "smol", feature = "async-std")))]
        return Executor::Thread;
    }
}

impl Executor {
    /// [`connect`](crate::connect), with the client running on this executor.
    pub async fn connect(self, url: &str, options: ConnectOptions) -> Result<Client, Error> {
        mq_common::driver::connect(Smol(self), url, options).await
    }

    /// [`prepare`](crate::prepare), with the client running on this executor.
    pub async fn prepare(self, url: &str, options: ConnectOptions) -> Result<Prepared, Error> {
        mq_common::driver::prepare(Smol(self), url, options).await
    }

    /// [`prepare_with`](crate::prepare_with), with the client running on this executor.
    pub async fn prepare_with(
        self,
        connector: impl Connector,
        options: ConnectOptions,
    ) -> Result<Prepared, Error> {
        mq_common::driver::prepare_with(Smol(self), open_connector(connector), options).await
    }

    /// [`connect_with`](crate::connect_with), with the client running on this executor.
    pub async fn connect_with(
        self,
        connector: impl Connector,
        options: ConnectOptions,
    ) -> Result<Client, Error> {
        mq_common::driver::connect_with(Smol(self), open_connector(connector), options).await
    }
}

/// The executor a client runs on, as the driver's [`Runtime`](runtime::Runtime).
pub(crate) struct Smol(Executor);

impl Spawn for Smol {
    fn spawn(&self, task: BoxFuture<()>) {
        match self.0 {
            #[cfg(feature = "smol")]
            Executor::Smol => smol::spawn(task).detach(),
            #[cfg(feature = "async-std")]
            Executor::AsyncStd => drop(async_std::task::spawn(task)),
            Executor::Thread => {
                let thread = std::thread::Builder::new().name("mq-smol".into());
                if let Err(error) = thread.spawn(move || async_io::block_on(task)) {
                    // The task is dropped: the client sees its handles' channels close.
                    tracing::error!(%error, "could not start a thread");
                }
            }
        }
    }
}

impl runtime::Runtime for Smol {
    type Timer = SmolTimer;

    fn timer(&self) -> SmolTimer {
        SmolTimer {
            timer: Timer::never(),
            deadline: None,
            armed: None,
        }
    }

    fn unblock<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> BoxFuture<T> {
        match self.0 {
            // The driver has a thread of its own: blocking it blocks nobody else.
            Executor::Thread => {
                let out = work();
                Box::pin(async move { out })
            }
            #[cfg(any(feature = "smol", feature = "async-std"))]
            _ => Box::pin(blocking::unblock(work)),
        }
    }
}

/// An [`async_io::Timer`] armed lazily. Arming or moving a registered
/// async-io timer costs the reactor a wake-up (its eventfd), and the driver
/// resets its timer on every wait and every write, mostly to a later time.
/// So the timer stays armed at an earlier deadline when the deadline moves
/// later; when it fires early it is re-armed for the deadline then.
pub(crate) struct SmolTimer {
    timer: Timer,
    /// When the timer should fire; `None` once it has (or before any reset).
    deadline: Option<Instant>,
    /// When the async-io timer is set to fire; `None` if it is not set.
    armed: Option<Instant>,
}

impl runtime::Timer for SmolTimer {
    fn reset(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        loop {
            match self.armed {
                // Armed no later than the deadline: it wakes this task in time.
                Some(armed) if armed <= deadline => {
                    ready!(Pin::new(&mut self.timer).poll_next(cx));
                    self.armed = None;
                }
                _ if Instant::now() >= deadline => {
                    self.deadline = None;
                    return Poll::Ready(());
                }
                _ => {
                    self.timer.set_at(deadline);
                    self.armed = Some(deadline);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::task::Waker;
    use std::time::Duration;

    use super::*;
    use mq_common::runtime::{Runtime as _, Timer as _};

    fn timer() -> SmolTimer {
        Smol(Executor::Thread).timer()
    }

    fn noop() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    /// Waits until the timer fires; the time it fired.
    fn fired(timer: &mut SmolTimer) -> Instant {
        async_io::block_on(poll_fn(|cx| timer.poll_fired(cx)));
        Instant::now()
    }

    #[test]
    fn a_deadline_moved_later_is_kept_though_the_armed_timer_fires_first() {
        let mut timer = timer();
        let early = Instant::now() + Duration::from_millis(20);
        timer.reset(early);
        assert!(timer.poll_fired(&mut noop()).is_pending());
        // Armed at `early`; the deadline moves past it without re-arming.
        let late = Instant::now() + Duration::from_millis(80);
        timer.reset(late);
        assert!(fired(&mut timer) >= late, "fired before its deadline");
        // Fired once: pending until reset.
        assert!(timer.poll_fired(&mut noop()).is_pending());
    }

    #[test]
    fn a_deadline_moved_earlier_fires_at_the_earlier_time() {
        let mut timer = timer();
        timer.reset(Instant::now() + Duration::from_secs(3600));
        assert!(timer.poll_fired(&mut noop()).is_pending());
        let soon = Instant::now() + Duration::from_millis(10);
        timer.reset(soon);
        assert!(fired(&mut timer) >= soon);
    }

    #[test]
    fn a_passed_deadline_fires_at_once_and_a_new_timer_never() {
        let mut timer = timer();
        assert!(timer.poll_fired(&mut noop()).is_pending());
        timer.reset(Instant::now());
        assert!(timer.poll_fired(&mut noop()).is_ready());
    }
}
