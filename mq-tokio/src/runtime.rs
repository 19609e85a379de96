//! tokio as the runtime of mq-common's driver: `tokio::spawn` on the
//! runtime `connect` was called on, `tokio::time::Sleep` as the timer, and
//! `transport.rs`'s `Dial`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use mq_common::runtime::{self, BoxFuture, Spawn};
use tokio::runtime::Handle;
use tokio::time::Sleep;

use crate::Error;

/// The tokio runtime a client runs on, and its way to the broker.
pub(crate) struct Tokio {
    pub(crate) handle: Handle,
}

impl Tokio {
    /// The runtime of the calling task; an error outside of one.
    pub(crate) fn current() -> Result<Self, Error> {
        let handle = Handle::try_current().map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Tokio { handle })
    }
}

impl Spawn for Tokio {
    fn spawn(&self, task: BoxFuture<()>) {
        drop(self.handle.spawn(task));
    }
}

impl runtime::Runtime for Tokio {
    type Timer = Timer;

    fn timer(&self) -> Timer {
        // Far enough to never fire before a reset.
        let never = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        Timer(Box::pin(tokio::time::sleep_until(never)))
    }

    fn unblock<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> BoxFuture<T> {
        let task = self.handle.spawn_blocking(work);
        Box::pin(async move {
            match task.await {
                Ok(out) => out,
                // The work panicked: the driver does too, as the work would have inline.
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        })
    }
}

/// One `tokio::time::Sleep`, reset for every deadline.
pub(crate) struct Timer(Pin<Box<Sleep>>);

impl runtime::Timer for Timer {
    fn reset(&mut self, deadline: std::time::Instant) {
        self.0.as_mut().reset(deadline.into());
    }

    fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}
