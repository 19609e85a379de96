//! The engine's channels on tokio: bounded mpsc for subscriptions, oneshot
//! replies, a broadcast for connection events.

use mq_common::legacy::{Reply, TrySend};
use mq_common::{ClientEvent, Error, Message};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc, oneshot};

/// A subscriber's bounded channel.
#[derive(Clone)]
pub(crate) struct Sink(pub(crate) mpsc::Sender<Message>);

impl mq_common::legacy::Sink for Sink {
    fn try_send(&self, msg: Message) -> Result<(), TrySend> {
        self.0.try_send(msg).map_err(|e| match e {
            TrySendError::Full(msg) => TrySend::Full(Box::new(msg)),
            TrySendError::Closed(_) => TrySend::Closed,
        })
    }

    fn same_channel(&self, other: &Self) -> bool {
        self.0.same_channel(&other.0)
    }
}

/// The sending half of a one-shot reply.
pub(crate) struct Once<T>(pub(crate) oneshot::Sender<Result<T, Error>>);

impl<T: Send + 'static> Reply<T> for Once<T> {
    fn send(self, result: Result<T, Error>) {
        let _ = self.0.send(result);
    }
}

/// The channel family of the tokio adapter.
pub(crate) struct Tokio {
    pub(crate) events: broadcast::Sender<ClientEvent>,
}

impl mq_common::legacy::Channels for Tokio {
    type Reply<T: Send + 'static> = Once<T>;
    type Sink = Sink;

    fn event(&self, event: ClientEvent) {
        let _ = self.events.send(event);
    }
}
