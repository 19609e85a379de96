//! The engine's channels on `async-channel`: bounded subscriber channels with
//! a "room" signal for the driver, one-slot replies, and event listeners.

use std::sync::{Arc, Mutex};

use async_channel::{Receiver, Sender, TrySendError};
use event_listener::Event;
use mq_common::legacy::{Reply, TrySend};
use mq_common::{ClientEvent, Error, Message};

/// A subscriber's bounded channel. The receiving [`crate::Subscription`]
/// rings `room` after every message it takes, so the driver, holding a
/// message for a full subscriber, wakes when there is space again.
#[derive(Clone)]
pub(crate) struct Sink {
    tx: Sender<Message>,
    room: Arc<Event>,
}

impl Sink {
    pub(crate) fn channel(capacity: usize) -> (Sink, Receiver<Message>, Arc<Event>) {
        let (tx, rx) = async_channel::bounded(capacity);
        let room = Arc::new(Event::new());
        (
            Sink {
                tx,
                room: room.clone(),
            },
            rx,
            room,
        )
    }

    /// Resolves once the channel has room for a message or its receiver is gone.
    pub(crate) async fn room(&self) {
        loop {
            let listener = self.room.listen();
            if !self.tx.is_full() || self.tx.is_closed() {
                return;
            }
            listener.await;
        }
    }
}

impl mq_common::legacy::Sink for Sink {
    fn try_send(&self, msg: Message) -> Result<(), TrySend> {
        self.tx.try_send(msg).map_err(|e| match e {
            TrySendError::Full(msg) => TrySend::Full(Box::new(msg)),
            TrySendError::Closed(_) => TrySend::Closed,
        })
    }

    fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

/// The sending half of a one-shot reply.
pub(crate) struct Once<T>(Sender<Result<T, Error>>);

impl<T: Send + 'static> Reply<T> for Once<T> {
    fn send(self, result: Result<T, Error>) {
        let _ = self.0.try_send(result);
    }
}

/// The receiving half of a one-shot reply: `Err(Closed)` if the driver dropped the sender.
pub(crate) type Waiter<T> = Receiver<Result<T, Error>>;

pub(crate) fn once<T>() -> (Once<T>, Waiter<T>) {
    let (tx, rx) = async_channel::bounded(1);
    (Once(tx), rx)
}

/// Waits for a reply; cancel-safe.
pub(crate) async fn wait<T>(waiter: &Waiter<T>) -> Result<T, Error> {
    waiter.recv().await.unwrap_or(Err(Error::Closed))
}

/// How many events a listener may fall behind before it misses the newest.
const EVENT_BACKLOG: usize = 64;

/// Event listeners; `None` once the client has stopped (their streams end).
#[derive(Clone, Default)]
pub(crate) struct Events(Arc<Mutex<Option<Vec<Sender<ClientEvent>>>>>);

impl Events {
    pub(crate) fn new() -> Self {
        Events(Arc::new(Mutex::new(Some(Vec::new()))))
    }

    pub(crate) fn listen(&self) -> Receiver<ClientEvent> {
        let (tx, rx) = async_channel::bounded(EVENT_BACKLOG);
        if let Ok(mut listeners) = self.0.lock() {
            if let Some(listeners) = listeners.as_mut() {
                listeners.push(tx);
            }
        }
        rx
    }

    /// Ends every listener's stream.
    pub(crate) fn close(&self) {
        if let Ok(mut listeners) = self.0.lock() {
            *listeners = None;
        }
    }
}

/// The channel family of this adapter.
pub(crate) struct Smol {
    pub(crate) events: Events,
}

impl mq_common::legacy::Channels for Smol {
    type Reply<T: Send + 'static> = Once<T>;
    type Sink = Sink;

    fn event(&self, event: ClientEvent) {
        tracing::debug!(?event, "client event");
        if let Ok(mut listeners) = self.events.0.lock() {
            if let Some(listeners) = listeners.as_mut() {
                listeners
                    .retain(|l| !matches!(l.try_send(event.clone()), Err(TrySendError::Closed(_))));
            }
        }
    }
}
