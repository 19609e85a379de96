//! The engine's channels on std: bounded `sync_channel`s, replies as
//! one-slot channels, events fanned out to every listener.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mq_common::legacy::{Reply, TrySend};
use mq_common::{ClientEvent, Error, Message};

/// A subscriber's bounded channel; the `Arc` names the receiver it feeds.
#[derive(Clone)]
pub(crate) struct Sink {
    tx: SyncSender<Message>,
    id: Arc<()>,
}

impl Sink {
    pub(crate) fn channel(capacity: usize) -> (Sink, Receiver<Message>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        (
            Sink {
                tx,
                id: Arc::new(()),
            },
            rx,
        )
    }
}

impl mq_common::legacy::Sink for Sink {
    fn try_send(&self, msg: Message) -> Result<(), TrySend> {
        self.tx.try_send(msg).map_err(|e| match e {
            TrySendError::Full(msg) => TrySend::Full(Box::new(msg)),
            TrySendError::Disconnected(_) => TrySend::Closed,
        })
    }

    fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.id, &other.id)
    }
}

/// The sending half of a one-shot reply.
pub(crate) struct Once<T>(SyncSender<Result<T, Error>>);

impl<T: Send + 'static> Reply<T> for Once<T> {
    fn send(self, result: Result<T, Error>) {
        let _ = self.0.try_send(result);
    }
}

/// The receiving half of a one-shot reply.
pub(crate) struct Waiter<T>(Receiver<Result<T, Error>>);

pub(crate) fn once<T>() -> (Once<T>, Waiter<T>) {
    let (tx, rx) = mpsc::sync_channel(1);
    (Once(tx), Waiter(rx))
}

impl<T> Waiter<T> {
    pub(crate) fn wait(&self) -> Result<T, Error> {
        self.0.recv().unwrap_or(Err(Error::Closed))
    }

    pub(crate) fn wait_timeout(&self, timeout: Duration) -> Result<T, Error> {
        match self.0.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::Closed),
        }
    }
}

/// Event listeners; one that stopped listening or fell 64 events behind misses events.
#[derive(Clone, Default)]
pub(crate) struct Events(Arc<Mutex<Vec<SyncSender<ClientEvent>>>>);

impl Events {
    pub(crate) fn listen(&self) -> Receiver<ClientEvent> {
        let (tx, rx) = mpsc::sync_channel(64);
        if let Ok(mut listeners) = self.0.lock() {
            listeners.push(tx);
        }
        rx
    }
}

/// The channel family of the blocking adapter.
pub(crate) struct Std {
    pub(crate) events: Events,
}

impl mq_common::legacy::Channels for Std {
    type Reply<T: Send + 'static> = Once<T>;
    type Sink = Sink;

    fn event(&self, event: ClientEvent) {
        if let Ok(mut listeners) = self.events.0.lock() {
            listeners.retain(|l| {
                !matches!(
                    l.try_send(event.clone()),
                    Err(TrySendError::Disconnected(_))
                )
            });
        }
    }
}
