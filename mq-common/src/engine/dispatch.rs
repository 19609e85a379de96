//! The user side of the engine: completions waiting for the core's events,
//! messages routed to subscriptions (held while a subscriber is full), and
//! request/response.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use mq_proto::client::{AckToken, Client as Core, RouteId, Router};
use mq_proto::{MqttString, QoS, ReasonCode, Subscribe};

use super::command::Subscribed;
use crate::channel::{Reply, Sink, TrySend};
use crate::{Error, Instant, Message};

/// A reply waiting for the core's completion event.
#[derive(Debug)]
pub(super) enum Pending {
    Publish(Reply<ReasonCode>),
    Subscribe {
        reply: Reply<Subscribed>,
        routes: Vec<RouteId>,
    },
    Unsubscribe(Reply<Vec<ReasonCode>>),
}

/// Routing of incoming messages, with backpressure.
#[derive(Debug)]
pub(super) struct Routes {
    pub(super) router: Router<Sink>,
    default_route: Option<Sink>,
    /// Messages no subscription claimed before a default route was set (a
    /// resumed session delivers them right after CONNACK), up to `unclaimed_limit`.
    unclaimed: VecDeque<Message>,
    unclaimed_limit: usize,
    /// Messages held for a full subscriber, in arrival order.
    held: VecDeque<Held>,
    /// The application acknowledges messages itself ([`ConnectOptions::manual_acks`](crate::ConnectOptions::manual_acks)).
    manual_acks: bool,
    /// Acknowledgments due: messages handed over (unless acknowledged
    /// manually) or dropped, for the engine to pass to the core.
    pub(super) acks: Vec<AckToken>,
}

/// A message waiting for room in a full subscriber.
#[derive(Debug)]
struct Held {
    sink: Sink,
    msg: Message,
    /// Due once this copy leaves the engine: the last copy of a message carries it.
    ack: Option<AckToken>,
}

impl Routes {
    pub(super) fn new(unclaimed_limit: usize, manual_acks: bool) -> Self {
        Routes {
            router: Router::default(),
            default_route: None,
            unclaimed: VecDeque::new(),
            unclaimed_limit,
            held: VecDeque::new(),
            manual_acks,
            acks: Vec::new(),
        }
    }

    /// The subscriber the oldest held message waits for.
    pub(super) fn blocked(&self) -> Option<&Sink> {
        self.held.front().map(|held| &held.sink)
    }

    /// Hands held messages over while their subscribers have room.
    pub(super) fn retry(&mut self) {
        while let Some(held) = self.held.pop_front() {
            match held.sink.try_send(held.msg) {
                Ok(()) => self.left(held.ack, true),
                Err(TrySend::Closed) => self.left(held.ack, false),
                Err(TrySend::Full(msg)) => {
                    self.held.push_front(Held { msg: *msg, ..held });
                    return;
                }
            }
        }
    }

    pub(super) fn set_default(&mut self, sink: Sink) {
        for msg in std::mem::take(&mut self.unclaimed) {
            let ack = AckToken::of(&msg);
            self.deliver(&sink, msg, ack);
        }
        self.default_route = Some(sink);
    }

    /// A copy of a message left the engine, handed over or dropped: its
    /// acknowledgment is due, unless the application acknowledges what it
    /// was handed. A message nobody can take is acknowledged by the client
    /// (held back, it would hold back every later acknowledgment).
    fn left(&mut self, ack: Option<AckToken>, handed: bool) {
        if let Some(ack) = ack {
            if !(handed && self.manual_acks) {
                self.acks.push(ack);
            }
        }
    }

    pub(super) fn drop_routes(&mut self, routes: &[RouteId]) {
        for route in routes {
            drop(self.router.remove(*route));
        }
    }

    /// Sends a message to every subscription it belongs to (by filter, and
    /// on 5.0 by Subscription Identifier), once per inbox, or to the default
    /// route when none does; keeps it for the default route when none is set
    /// yet (up to the limit).
    pub(super) fn route(&mut self, msg: Message) {
        // One target is the common case: it takes the message itself, and
        // only further targets cost a clone (and the Vec its allocation).
        let mut first: Option<Sink> = None;
        let mut more: Vec<Sink> = Vec::new();
        for sink in self.router.route(&msg) {
            match &first {
                None => first = Some(sink.clone()),
                Some(f) if f.same_channel(sink) || more.iter().any(|s| s.same_channel(sink)) => {}
                Some(_) => more.push(sink.clone()),
            }
        }
        let ack = AckToken::of(&msg);
        let Some(first) = first.or_else(|| self.default_route.clone()) else {
            if self.unclaimed.len() < self.unclaimed_limit {
                self.unclaimed.push_back(msg);
            } else {
                tracing::warn!(topic = %msg.topic, "no subscription takes this message; dropped");
                self.left(ack, false);
            }
            return;
        };
        for sink in &more {
            self.deliver(sink, msg.clone(), None);
        }
        self.deliver(&first, msg, ack);
    }

    /// Hands `msg` to `sink`, or holds it behind any message already held;
    /// `ack` is due once it left.
    fn deliver(&mut self, sink: &Sink, msg: Message, ack: Option<AckToken>) {
        if !self.held.is_empty() {
            let sink = sink.clone();
            self.held.push_back(Held { sink, msg, ack });
            return;
        }
        match sink.try_send(msg) {
            Ok(()) => self.left(ack, true),
            Err(TrySend::Closed) => self.left(ack, false),
            Err(TrySend::Full(msg)) => {
                let sink = sink.clone();
                self.held.push_back(Held {
                    sink,
                    msg: *msg,
                    ack,
                });
            }
        }
    }
}

/// Outstanding requests (5.0 request/response) and the topic replies come to.
#[derive(Debug, Default)]
pub(super) struct Requests {
    /// Subscribed on the first request.
    reply_topic: Option<MqttString>,
    /// Correlation Data to the waiter and when it gives up.
    waiting: HashMap<Bytes, (Instant, Reply<Message>)>,
    next: u64,
}

impl Requests {
    /// The reply topic, subscribing to it on first use (with `random` in its name).
    pub(super) fn reply_topic(
        &mut self,
        core: &mut Core,
        now: Instant,
        random: u32,
    ) -> Result<MqttString, Error> {
        if let Some(topic) = &self.reply_topic {
            return Ok(topic.clone());
        }
        let topic = MqttString::from(format!("mq/replies/{}/{random:x}", core.client_id()));
        core.subscribe(now, Subscribe::new(0, topic.clone(), QoS::AtLeastOnce))?;
        self.reply_topic = Some(topic.clone());
        Ok(topic)
    }

    /// A fresh Correlation Data value.
    pub(super) fn next_key(&mut self) -> Bytes {
        self.next += 1;
        Bytes::copy_from_slice(&self.next.to_be_bytes())
    }

    pub(super) fn wait(&mut self, key: Bytes, deadline: Instant, reply: Reply<Message>) {
        self.waiting.insert(key, (deadline, reply));
    }

    /// The earliest deadline of a waiting request.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.waiting.values().map(|(deadline, _)| *deadline).min()
    }

    /// Fails requests whose reply did not come in time.
    pub(super) fn expire(&mut self, now: Instant) {
        if self.next_deadline().is_none_or(|d| d > now) {
            return;
        }
        let late: Vec<Bytes> = self
            .waiting
            .iter()
            .filter(|(_, (deadline, _))| *deadline <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in late {
            if let Some((_, reply)) = self.waiting.remove(&key) {
                reply.send(Err(Error::Timeout));
            }
        }
    }

    /// Hands a reply to its waiter; gives back a message that is not a reply.
    pub(super) fn take_reply(&mut self, msg: Message) -> Option<Message> {
        let is_reply = self.reply_topic.as_ref() == Some(&msg.topic);
        if !is_reply {
            return Some(msg);
        }
        let waiter = msg
            .properties
            .correlation_data
            .as_ref()
            .and_then(|key| self.waiting.remove(key));
        if let Some((_, reply)) = waiter {
            reply.send(Ok(msg));
        }
        None
    }
}

/// The deadline `timeout` after `now`.
pub(super) fn after(now: Instant, timeout: Duration) -> Instant {
    Instant::from_duration(now.as_duration().saturating_add(timeout))
}
