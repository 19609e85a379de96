//! The user side of the engine: completions waiting for the core's events,
//! messages routed to subscriptions (held while a subscriber is full), and
//! request/response.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use mq_proto::client::{Client as Core, RouteId, Router};
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
    held: VecDeque<(Sink, Message)>,
}

impl Routes {
    pub(super) fn new(unclaimed_limit: usize) -> Self {
        Routes {
            router: Router::default(),
            default_route: None,
            unclaimed: VecDeque::new(),
            unclaimed_limit,
            held: VecDeque::new(),
        }
    }

    /// The subscriber the oldest held message waits for.
    pub(super) fn blocked(&self) -> Option<&Sink> {
        self.held.front().map(|(sink, _)| sink)
    }

    /// Hands held messages over while their subscribers have room.
    pub(super) fn retry(&mut self) {
        while let Some((sink, msg)) = self.held.pop_front() {
            if let Err(TrySend::Full(msg)) = sink.try_send(msg) {
                self.held.push_front((sink, *msg));
                return;
            }
        }
    }

    pub(super) fn set_default(&mut self, sink: Sink) {
        for msg in std::mem::take(&mut self.unclaimed) {
            self.deliver(&sink, msg);
        }
        self.default_route = Some(sink);
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
        let Some(first) = first.or_else(|| self.default_route.clone()) else {
            if self.unclaimed.len() < self.unclaimed_limit {
                self.unclaimed.push_back(msg);
            }
            return;
        };
        for sink in &more {
            self.deliver(sink, msg.clone());
        }
        self.deliver(&first, msg);
    }

    /// Hands `msg` to `sink`, or holds it behind any message already held.
    fn deliver(&mut self, sink: &Sink, msg: Message) {
        if !self.held.is_empty() {
            self.held.push_back((sink.clone(), msg));
            return;
        }
        if let Err(TrySend::Full(msg)) = sink.try_send(msg) {
            self.held.push_back((sink.clone(), *msg));
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
