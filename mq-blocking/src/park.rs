//! Runs a future on the calling thread, parked between polls, with an
//! optional deadline. Nothing is registered with async-io's reactor: the
//! waker unparks this thread, and a deadline is the park's own timeout, so a
//! wait costs the I/O thread no wake-up.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// This thread's waker, made once.
    static WAKER: Waker = Waker::from(Arc::new(Unpark(thread::current())));
}

/// `fut`'s output, or `None` once `deadline` has passed (the future is then
/// dropped: every future used here is cancel-safe). A spurious unpark only
/// costs one more poll.
fn until<T>(deadline: Option<Instant>, fut: impl Future<Output = T>) -> Option<T> {
    let mut fut = pin!(fut);
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return Some(out);
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    thread::park_timeout(left);
                }
            }
        }
    })
}

/// Waits for `fut` on this thread.
pub(crate) fn block_on<T>(fut: impl Future<Output = T>) -> T {
    match until(None, fut) {
        Some(out) => out,
        None => unreachable!("no deadline"),
    }
}

/// `fut`'s output, or `None` once `timeout` has passed (the future is dropped:
/// every future used here is cancel-safe).
pub(crate) fn within<T>(timeout: Duration, fut: impl Future<Output = T>) -> Option<T> {
    until(Instant::now().checked_add(timeout), fut)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn within_gives_none_once_the_timeout_passed() {
        let start = Instant::now();
        let timeout = Duration::from_millis(20);
        assert_eq!(within(timeout, std::future::pending::<()>()), None);
        assert!(start.elapsed() >= timeout, "returned before the timeout");
    }

    #[test]
    fn a_wake_from_another_thread_completes_the_wait() {
        let (tx, rx) = mpsc::channel::<Waker>();
        let mut woken = false;
        let fut = std::future::poll_fn(|cx| {
            if woken {
                return Poll::Ready(7);
            }
            woken = true;
            let _ = tx.send(cx.waker().clone());
            Poll::Pending
        });
        let waker = thread::spawn(move || {
            if let Ok(waker) = rx.recv() {
                waker.wake();
            }
        });
        assert_eq!(within(Duration::from_secs(60), fut), Some(7));
        assert!(waker.join().is_ok());
    }

    #[test]
    fn a_timeout_past_what_an_instant_holds_waits_without_end() {
        assert_eq!(within(Duration::MAX, async { 3 }), Some(3));
        assert_eq!(block_on(async { 4 }), 4);
    }
}
