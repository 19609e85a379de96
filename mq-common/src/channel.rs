//! The channels between user handles and the engine, the same on every
//! runtime: each end can be used from async code and from plain threads.
//!
//! * [`Reply`] / [`Waiter`]: one result, once (a publish's acknowledgment, a SUBACK...).
//! * [`Sink`] / [`Inbox`]: a subscription's bounded message channel; the
//!   inbox rings the sink's *room* signal after every message it takes, so
//!   an engine holding a message for a full subscriber knows when to retry.
//! * [`EventHub`] / [`Events`]: connection events, fanned out to every listener.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{Event, EventListener};

use crate::{ClientEvent, Error, Message};

/// Where one result goes; dropping it unanswered tells the waiter `Error::Closed`.
#[derive(Debug)]
pub struct Reply<T>(oneshot::Sender<Result<T, Error>>);

/// Waits for the result a [`Reply`] sends: `.await` it, or [`Waiter::wait_timeout`] on a thread.
#[derive(Debug)]
pub struct Waiter<T>(WaiterState<T>);

#[derive(Debug)]
enum WaiterState<T> {
    Blocking(oneshot::Receiver<Result<T, Error>>),
    Async(oneshot::AsyncReceiver<Result<T, Error>>),
    Done,
}

/// A new reply slot and its waiter.
pub fn reply<T>() -> (Reply<T>, Waiter<T>) {
    let (tx, rx) = oneshot::channel();
    (Reply(tx), Waiter(WaiterState::Blocking(rx)))
}

impl<T> Reply<T> {
    /// Delivers the result; a waiter that has gone away is ignored.
    pub fn send(self, result: Result<T, Error>) {
        let _ = self.0.send(result);
    }
}

impl<T> Waiter<T> {
    /// Blocks the thread until the result arrives or `timeout` passes
    /// (`Error::Timeout`; the operation goes on, and a later call may still get it).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<T, Error> {
        let outcome = match &self.0 {
            WaiterState::Blocking(rx) => rx.recv_timeout(timeout),
            WaiterState::Async(_) | WaiterState::Done => return Err(Error::Closed),
        };
        match outcome {
            Ok(result) => {
                self.0 = WaiterState::Done;
                result
            }
            Err(oneshot::RecvTimeoutError::Timeout) => Err(Error::Timeout),
            Err(oneshot::RecvTimeoutError::Disconnected) => {
                self.0 = WaiterState::Done;
                Err(Error::Closed)
            }
        }
    }

    /// The result if it has arrived, without blocking.
    pub fn try_take(&mut self) -> Option<Result<T, Error>> {
        let outcome = match &self.0 {
            WaiterState::Blocking(rx) => rx.try_recv(),
            WaiterState::Async(_) | WaiterState::Done => return None,
        };
        match outcome {
            Ok(result) => {
                self.0 = WaiterState::Done;
                Some(result)
            }
            Err(oneshot::TryRecvError::Empty) => None,
            Err(oneshot::TryRecvError::Disconnected) => {
                self.0 = WaiterState::Done;
                Some(Err(Error::Closed))
            }
        }
    }
}

impl<T> Future for Waiter<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut self.0 {
                WaiterState::Blocking(_) => {
                    let WaiterState::Blocking(rx) =
                        std::mem::replace(&mut self.0, WaiterState::Done)
                    else {
                        unreachable!("matched Blocking just above")
                    };
                    self.0 = WaiterState::Async(rx.into_future());
                }
                WaiterState::Async(rx) => {
                    let out = match Pin::new(rx).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(result)) => result,
                        Poll::Ready(Err(_)) => Err(Error::Closed),
                    };
                    self.0 = WaiterState::Done;
                    return Poll::Ready(out);
                }
                WaiterState::Done => return Poll::Ready(Err(Error::Closed)),
            }
        }
    }
}

/// The engine's end of a subscription's bounded channel.
#[derive(Clone, Debug)]
pub struct Sink {
    tx: flume::Sender<Message>,
    room: Arc<Event>,
}

/// The user's end of a subscription's channel.
#[derive(Debug)]
pub struct Inbox {
    rx: flume::Receiver<Message>,
    room: Arc<Event>,
    stream: Option<flume::r#async::RecvStream<'static, Message>>,
}

/// A subscription channel holding up to `capacity` messages.
pub fn inbox(capacity: usize) -> (Sink, Inbox) {
    let (tx, rx) = flume::bounded(capacity.max(1));
    let room = Arc::new(Event::new());
    (
        Sink {
            tx,
            room: room.clone(),
        },
        Inbox {
            rx,
            room,
            stream: None,
        },
    )
}

/// Why a [`Sink`] did not take a message.
#[derive(Debug)]
pub enum TrySend {
    /// The channel is full: try again when it has room (boxed: the rare path).
    Full(Box<Message>),
    /// The receiver is gone.
    Closed,
}

impl Sink {
    /// Hands over `msg` if there is room, without waiting.
    pub fn try_send(&self, msg: Message) -> Result<(), TrySend> {
        self.tx.try_send(msg).map_err(|e| match e {
            flume::TrySendError::Full(msg) => TrySend::Full(Box::new(msg)),
            flume::TrySendError::Disconnected(_) => TrySend::Closed,
        })
    }

    /// Whether both feed the same inbox (a message goes once per inbox).
    pub fn same_channel(&self, other: &Sink) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// A signal that fires once this channel may have room (or its inbox is gone).
    /// Check [`Sink::has_room`] after creating it and before waiting on it.
    pub fn room(&self) -> EventListener {
        self.room.listen()
    }

    /// Whether a message would fit now (or the inbox is gone, so it would be dropped).
    pub fn has_room(&self) -> bool {
        !self.tx.is_full() || self.tx.is_disconnected()
    }
}

impl Inbox {
    fn took(&self, msg: Option<Message>) -> Option<Message> {
        if msg.is_some() {
            self.room.notify(1);
        }
        msg
    }

    /// The next message; `None` once the subscription ended. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Message> {
        let msg = self.rx.recv_async().await.ok();
        self.took(msg)
    }

    /// The next message, waiting at most `timeout` on this thread. A
    /// receiver blocked here is woken after the sender let go of the
    /// channel's lock (an async one is woken while the sender holds it, and
    /// then contends for it), so blocking adapters wait here.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Message, RecvError> {
        match recv_within(&self.rx, timeout) {
            Ok(msg) => {
                self.room.notify(1);
                Ok(msg)
            }
            Err(e) => Err(e),
        }
    }

    /// The next message if one is waiting.
    pub fn try_recv(&self) -> Result<Message, RecvError> {
        match self.rx.try_recv() {
            Ok(msg) => {
                self.room.notify(1);
                Ok(msg)
            }
            Err(flume::TryRecvError::Empty) => Err(RecvError::Empty),
            Err(flume::TryRecvError::Disconnected) => Err(RecvError::Closed),
        }
    }

    /// Polls for the next message (the `Stream` shape).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let rx = &self.rx;
        let stream = self.stream.get_or_insert_with(|| rx.clone().into_stream());
        let polled = futures_core::Stream::poll_next(Pin::new(stream), cx);
        polled.map(|msg| self.took(msg))
    }
}

impl Drop for Inbox {
    /// Closes the channel first, then wakes an engine waiting for room in it.
    fn drop(&mut self) {
        self.stream = None;
        drop(std::mem::replace(&mut self.rx, flume::bounded(1).1));
        self.room.notify(usize::MAX);
    }
}

/// The next value, waiting at most `timeout` on this thread (without end
/// if `timeout` reaches past what an `Instant` holds).
fn recv_within<T>(rx: &flume::Receiver<T>, timeout: Duration) -> Result<T, RecvError> {
    let received = match Instant::now().checked_add(timeout) {
        Some(deadline) => rx.recv_deadline(deadline),
        None => rx
            .recv()
            .map_err(|flume::RecvError::Disconnected| flume::RecvTimeoutError::Disconnected),
    };
    received.map_err(|e| match e {
        flume::RecvTimeoutError::Timeout => RecvError::Timeout,
        flume::RecvTimeoutError::Disconnected => RecvError::Closed,
    })
}

/// Why an [`Inbox`] gave no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// Nothing arrived in time.
    #[error("no message in time")]
    Timeout,
    /// Nothing is waiting.
    #[error("no message waiting")]
    Empty,
    /// The subscription ended (unsubscribed, or the client stopped).
    #[error("the subscription ended")]
    Closed,
}

/// How many events a listener may fall behind; beyond it, it misses the newest.
pub const EVENT_BACKLOG: usize = 64;

/// Connection events fanned out to every listener. A listener sees the
/// events that happen after it was created, up to [`EVENT_BACKLOG`] unread
/// ones; when it falls further behind it misses the newest until it catches
/// up. Every listener's stream ends when the client stops.
#[derive(Clone, Debug, Default)]
pub struct EventHub(Arc<Mutex<Option<Vec<flume::Sender<ClientEvent>>>>>);

/// One listener's connection events.
#[derive(Debug)]
pub struct Events {
    rx: flume::Receiver<ClientEvent>,
    stream: Option<flume::r#async::RecvStream<'static, ClientEvent>>,
}

impl EventHub {
    /// A hub with no listeners.
    pub fn new() -> Self {
        EventHub(Arc::new(Mutex::new(Some(Vec::new()))))
    }

    /// A new listener; one made after the client stopped ends at once.
    pub fn listen(&self) -> Events {
        let (tx, rx) = flume::bounded(EVENT_BACKLOG);
        let mut listeners = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(listeners) = listeners.as_mut() {
            listeners.push(tx);
        }
        Events { rx, stream: None }
    }

    /// Tells every listener; forgets listeners that went away.
    pub fn send(&self, event: &ClientEvent) {
        let mut listeners = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(listeners) = listeners.as_mut() {
            listeners.retain(|l| {
                !matches!(
                    l.try_send(event.clone()),
                    Err(flume::TrySendError::Disconnected(_))
                )
            });
        }
    }

    /// Ends every listener's stream.
    pub fn close(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl Events {
    /// The next event; `None` once the client has stopped.
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        self.rx.recv_async().await.ok()
    }

    /// The next event, waiting at most `timeout` on this thread.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<ClientEvent, RecvError> {
        recv_within(&self.rx, timeout)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Result<ClientEvent, RecvError> {
        self.rx.try_recv().map_err(|e| match e {
            flume::TryRecvError::Empty => RecvError::Empty,
            flume::TryRecvError::Disconnected => RecvError::Closed,
        })
    }
}

impl futures_core::Stream for Events {
    type Item = ClientEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        let this = &mut *self;
        let stream = this
            .stream
            .get_or_insert_with(|| this.rx.clone().into_stream());
        Pin::new(stream).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use event_listener::Listener;

    use super::*;

    #[test]
    fn recv_timeout_past_what_an_instant_holds_waits_without_end() {
        let (sink, inbox) = inbox(2);
        assert!(sink.try_send(Message::new("t", "x")).is_ok());
        let msg = inbox.recv_timeout(Duration::MAX).map(|m| m.topic);
        assert_eq!(msg, Ok("t".into()));
        drop(sink);
        assert_eq!(
            inbox.recv_timeout(Duration::MAX).map(drop),
            Err(RecvError::Closed)
        );

        let hub = EventHub::new();
        let events = hub.listen();
        hub.close();
        assert_eq!(
            events.recv_timeout(Duration::MAX).map(drop),
            Err(RecvError::Closed)
        );
    }

    #[test]
    fn recv_timeout_times_out_and_frees_room() {
        let (sink, inbox) = inbox(1);
        assert_eq!(
            inbox.recv_timeout(Duration::from_millis(5)).map(drop),
            Err(RecvError::Timeout)
        );
        assert!(sink.try_send(Message::new("t", "x")).is_ok());
        assert!(!sink.has_room());
        let room = sink.room();
        assert!(inbox.recv_timeout(Duration::from_millis(5)).is_ok());
        assert!(sink.has_room());
        // The room signal fired: waiting on it returns at once.
        assert!(room.wait_timeout(Duration::from_secs(5)).is_some());
    }
}
