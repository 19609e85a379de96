//! Routing of incoming messages to the handlers an adapter registered per
//! topic filter, shared by every adapter.

use alloc::vec::Vec;

use super::Client;
use crate::codec::{MqttString, ProtocolVersion, Publish, Subscribe};
use crate::topic::matches;

/// The first Subscription Identifier [`Router::add_subscribe`] assigns; later
/// ones count down, away from the small numbers users pick.
const FIRST_ASSIGNED_IDENTIFIER: u32 = 268_435_455;

/// Handlers by topic filter; a message goes to every handler whose filter matches.
///
/// ```
/// use mq_proto::client::Router;
/// let mut r = Router::default();
/// let a = r.add("sensors/+/temp".into(), "a");
/// r.add("sensors/#".into(), "b");
/// let got: Vec<_> = r.matching("sensors/1/temp").copied().collect();
/// assert_eq!(got, ["a", "b"]);
/// r.remove(a);
/// assert_eq!(r.matching("sensors/1/temp").count(), 1);
/// ```
#[derive(Debug)]
pub struct Router<H> {
    routes: Vec<(RouteId, MqttString, H)>,
    /// The Subscription Identifier of each route's SUBSCRIBE, by route.
    identifiers: Vec<(RouteId, u32)>,
    next: u64,
    next_identifier: u32,
}

/// Names one registered handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteId(u64);

impl<H> Default for Router<H> {
    fn default() -> Self {
        Router {
            routes: Vec::new(),
            identifiers: Vec::new(),
            next: 0,
            next_identifier: FIRST_ASSIGNED_IDENTIFIER,
        }
    }
}

impl<H> Router<H> {
    /// Registers `handler` for `filter`.
    pub fn add(&mut self, filter: MqttString, handler: H) -> RouteId {
        self.next += 1;
        let id = RouteId(self.next);
        self.routes.push((id, filter, handler));
        id
    }

    /// Registers `handler` for every filter of `packet`, one route each.
    ///
    /// On 5.0, when the broker allows it and
    /// [`Options::assign_subscription_identifiers`](super::Options::assign_subscription_identifiers)
    /// is on (the default), a packet without a Subscription Identifier gets
    /// one of its own (counting down from 268,435,455): a broker may send one
    /// copy of a message per matching subscription (Mosquitto does), and the
    /// identifier tells [`Router::route`] which copy belongs to which
    /// handler, so overlapping subscriptions each get a message once.
    pub fn add_subscribe(
        &mut self,
        client: &Client,
        packet: &mut Subscribe,
        handler: H,
    ) -> Vec<RouteId>
    where
        H: Clone,
    {
        if packet
            .properties
            .subscription_identifiers()
            .next()
            .is_none()
            && client.options().assign_subscription_identifiers
            && client.protocol_version() == ProtocolVersion::V5
            && client
                .server_capabilities()
                .subscription_identifier_available
        {
            let ids = &mut packet.properties.subscription_identifiers;
            ids.push(self.next_identifier);
            self.next_identifier = self
                .next_identifier
                .checked_sub(1)
                .filter(|&n| n > 0)
                .unwrap_or(FIRST_ASSIGNED_IDENTIFIER);
        }
        let identifier = packet.properties.subscription_identifiers().next();
        let routes: Vec<RouteId> = packet
            .subscriptions
            .iter()
            .map(|s| self.add(s.filter.clone(), handler.clone()))
            .collect();
        if let Some(identifier) = identifier {
            self.identifiers
                .extend(routes.iter().map(|&r| (r, identifier)));
        }
        routes
    }

    /// Removes one handler.
    pub fn remove(&mut self, id: RouteId) -> Option<H> {
        self.identifiers.retain(|(r, _)| *r != id);
        let i = self.routes.iter().position(|(r, _, _)| *r == id)?;
        Some(self.routes.remove(i).2)
    }

    /// Removes every handler of `filter`.
    pub fn remove_filter(&mut self, filter: &str) {
        let identifiers = &mut self.identifiers;
        self.routes.retain(|(r, f, _)| {
            let keep = f != filter;
            if !keep {
                identifiers.retain(|(i, _)| i != r);
            }
            keep
        });
    }

    /// The handlers an incoming message belongs to, in registration order:
    /// those whose filter matches and whose Subscription Identifier the
    /// message carries, or, when it carries none of ours, every handler
    /// whose filter matches.
    pub fn route<'a>(&'a self, publish: &'a Publish) -> impl Iterator<Item = &'a H> + 'a {
        let properties = &publish.properties;
        let ours = move |route: &RouteId| {
            self.identifiers
                .iter()
                .any(|(r, i)| r == route && properties.subscription_identifiers().any(|c| c == *i))
        };
        let by_identifier = self
            .routes
            .iter()
            .any(|(r, f, _)| ours(r) && matches(f, &publish.topic));
        self.routes
            .iter()
            .filter(move |(r, f, _)| matches(f, &publish.topic) && (!by_identifier || ours(r)))
            .map(|(_, _, h)| h)
    }

    /// The handlers whose filter matches `topic`, in registration order.
    pub fn matching<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a H> + 'a {
        self.routes
            .iter()
            .filter(move |(_, f, _)| matches(f, topic))
            .map(|(_, _, h)| h)
    }

    /// The handler registered as `id`.
    pub fn get_mut(&mut self, id: RouteId) -> Option<&mut H> {
        self.routes
            .iter_mut()
            .find(|(r, _, _)| *r == id)
            .map(|(_, _, h)| h)
    }

    /// Number of handlers.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Options;
    use crate::codec::QoS;

    const FIRST: u32 = FIRST_ASSIGNED_IDENTIFIER;

    #[test]
    fn overlapping_subscriptions_each_get_their_own_copy() {
        let client = Client::new(Options::new("c"));
        let mut r = Router::default();
        let mut all = Subscribe::new(0, "w/#", QoS::AtLeastOnce);
        let mut temps = Subscribe::new(0, "w/+/t", QoS::AtLeastOnce);
        r.add_subscribe(&client, &mut all, "all");
        r.add_subscribe(&client, &mut temps, "temps");
        assert_eq!(all.properties.subscription_identifiers, [FIRST]);
        assert_eq!(temps.properties.subscription_identifiers, [FIRST - 1]);

        // Mosquitto sends one copy per matching subscription, each with its identifier.
        let mut copy = Publish::new("w/x/t", "");
        copy.properties.subscription_identifiers = alloc::vec![FIRST - 1];
        assert_eq!(r.route(&copy).collect::<Vec<_>>(), [&"temps"]);
        copy.properties.subscription_identifiers = alloc::vec![FIRST];
        assert_eq!(r.route(&copy).collect::<Vec<_>>(), [&"all"]);
        // One copy naming both, or identifiers of an earlier run: by filter.
        copy.properties.subscription_identifiers = alloc::vec![FIRST, FIRST - 1];
        assert_eq!(r.route(&copy).count(), 2);
        copy.properties.subscription_identifiers = alloc::vec![5];
        assert_eq!(r.route(&copy).count(), 2);
        copy.properties.subscription_identifiers.clear();
        assert_eq!(r.route(&copy).count(), 2);
    }

    /// Without assigned identifiers: SUBSCRIBE goes out as given, and every
    /// copy of a message goes to each handler whose filter matches.
    #[test]
    fn without_assigned_identifiers_messages_are_routed_by_filter() {
        let mut options = Options::new("c");
        options.assign_subscription_identifiers = false;
        let client = Client::new(options);
        let mut r = Router::default();
        let mut all = Subscribe::new(0, "w/#", QoS::AtLeastOnce);
        let mut temps = Subscribe::new(0, "w/+/t", QoS::AtLeastOnce);
        let mut other = Subscribe::new(0, "v/#", QoS::AtLeastOnce);
        r.add_subscribe(&client, &mut all, "all");
        r.add_subscribe(&client, &mut temps, "temps");
        r.add_subscribe(&client, &mut other, "other");
        for packet in [&all, &temps, &other] {
            assert!(packet.properties.is_empty(), "{packet:?}");
        }
        assert!(r.identifiers.is_empty());

        let copy = Publish::new("w/x/t", "");
        assert_eq!(r.route(&copy).collect::<Vec<_>>(), [&"all", &"temps"]);
        let other_topic = Publish::new("w/x/h", "");
        assert_eq!(r.route(&other_topic).collect::<Vec<_>>(), [&"all"]);
        // Identifiers the broker sends that are not ours change nothing.
        let mut tagged = copy.clone();
        tagged.properties.subscription_identifiers = alloc::vec![FIRST];
        assert_eq!(r.route(&tagged).collect::<Vec<_>>(), [&"all", &"temps"]);

        // A user's own identifier still routes its copies.
        let mut own = Subscribe::new(0, "w/x/#", QoS::AtMostOnce);
        own.properties.subscription_identifiers = alloc::vec![7];
        r.add_subscribe(&client, &mut own, "own");
        tagged.properties.subscription_identifiers = alloc::vec![7];
        assert_eq!(r.route(&tagged).collect::<Vec<_>>(), [&"own"]);
        assert_eq!(r.route(&copy).count(), 3);
    }

    #[test]
    fn own_identifiers_are_kept_and_none_is_given_on_3_1_1() {
        let mut r = Router::default();
        let mut own = Subscribe::new(0, "x", QoS::AtMostOnce);
        own.properties.subscription_identifiers = alloc::vec![7];
        let routes = r.add_subscribe(&Client::new(Options::new("c")), &mut own, 1);
        assert_eq!(own.properties.subscription_identifiers, [7]);

        let mut options = Options::new("c");
        options.protocol_version = ProtocolVersion::V311;
        let mut plain = Subscribe::new(0, "y", QoS::AtMostOnce);
        r.add_subscribe(&Client::new(options), &mut plain, 2);
        assert!(plain.properties.subscription_identifiers.is_empty());

        r.remove(routes[0]);
        assert!(r.identifiers.is_empty());
        r.remove_filter("y");
        assert!(r.is_empty());
    }
}
