//! What user handles ask of the engine.

use std::time::Duration;

use mq_proto::client::{AckToken, RouteId};
use mq_proto::{Disconnect, Publish, ReasonCode, Subscribe, Unsubscribe};

use crate::channel::{Reply, Sink};
use crate::Message;

/// A granted subscribe: the broker's codes and the routes feeding its sink.
#[derive(Debug)]
pub struct Subscribed {
    /// One code per filter.
    pub reason_codes: Vec<ReasonCode>,
    /// The routes to drop when the subscription's inbox goes away.
    pub routes: Vec<RouteId>,
}

/// A request from a user handle.
#[derive(Debug)]
pub enum Command {
    /// Publish and reply on acknowledgment (at once for QoS 0, once written).
    Publish {
        /// The message.
        publish: Publish,
        /// Completion.
        reply: Reply<ReasonCode>,
    },
    /// Subscribe, route matching messages to `sink`, reply on SUBACK.
    Subscribe {
        /// Filters, options and properties (`packet_id` is assigned by the core).
        packet: Subscribe,
        /// Where messages go.
        sink: Sink,
        /// Completion.
        reply: Reply<Subscribed>,
        /// Told the routes as soon as they exist, before SUBACK (a
        /// subscription made before the first connect needs them at once).
        routed: Option<Reply<Vec<RouteId>>>,
    },
    /// Unsubscribe; the filters' routes end at once.
    Unsubscribe {
        /// Filters and properties.
        packet: Unsubscribe,
        /// Completion with the broker's codes (empty on 3.1.1).
        reply: Reply<Vec<ReasonCode>>,
    },
    /// A subscription's inbox went away: stop routing to it.
    DropRoutes(Vec<RouteId>),
    /// Where messages that no subscription claims go.
    DefaultRoute(Sink),
    /// Re-authenticate (5.0).
    Reauthenticate(Reply<()>),
    /// Request/response (5.0): publish with a Response Topic and Correlation
    /// Data the engine fills in, and reply with the matching message.
    Request {
        /// The request message.
        publish: Publish,
        /// How long to wait for the reply.
        timeout: Duration,
        /// Completion with the reply.
        reply: Reply<Message>,
    },
    /// The application has a message: its PUBACK / PUBREC may go out
    /// ([`ConnectOptions::manual_acks`](crate::ConnectOptions::manual_acks)).
    Ack {
        /// Which message.
        ack: AckToken,
        /// Completion.
        reply: Reply<()>,
    },
    /// Start dialing: ends [`Engine::hold`](super::Engine::hold).
    Start,
    /// Send DISCONNECT and stop.
    Disconnect {
        /// Reason code and properties.
        disconnect: Disconnect,
        /// Completion once stopped.
        reply: Reply<()>,
    },
}
