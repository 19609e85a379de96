//! The subscriptions the broker has granted, kept to resubscribe when a
//! session is lost and to route incoming messages.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::codec::{MqttString, SubscriptionOptions};
use crate::topic::matches;

/// A granted subscription with everything needed to make it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveSubscription {
    /// Topic Filter.
    pub filter: MqttString,
    /// Options as requested.
    pub options: SubscriptionOptions,
    /// Subscription Identifier (5.0).
    pub subscription_identifier: Option<u32>,
    /// User Properties of the SUBSCRIBE (5.0).
    pub user_properties: Vec<(MqttString, MqttString)>,
}

/// Granted subscriptions by filter.
#[derive(Clone, Debug, Default)]
pub struct Subscriptions {
    by_filter: BTreeMap<MqttString, ActiveSubscription>,
}

impl Subscriptions {
    /// Adds or replaces the subscription for its filter.
    pub(crate) fn insert(&mut self, sub: ActiveSubscription) {
        self.by_filter.insert(sub.filter.clone(), sub);
    }

    /// Removes the subscription for `filter`.
    pub(crate) fn remove(&mut self, filter: &str) -> Option<ActiveSubscription> {
        self.by_filter.remove(filter)
    }

    /// The subscription for `filter`.
    pub fn get(&self, filter: &str) -> Option<&ActiveSubscription> {
        self.by_filter.get(filter)
    }

    /// Every subscription, by filter.
    pub fn iter(&self) -> impl Iterator<Item = &ActiveSubscription> {
        self.by_filter.values()
    }

    /// Number of subscriptions.
    pub fn len(&self) -> usize {
        self.by_filter.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_filter.is_empty()
    }

    /// The subscriptions whose filter matches `topic` (shared ones included, by their inner filter).
    ///
    /// ```
    /// use mq_proto::client::Subscriptions;
    /// let subs = Subscriptions::default();
    /// assert_eq!(subs.matching("a/b").count(), 0);
    /// ```
    pub fn matching<'a>(
        &'a self,
        topic: &'a str,
    ) -> impl Iterator<Item = &'a ActiveSubscription> + 'a {
        self.by_filter
            .values()
            .filter(move |s| matches(&s.filter, topic))
    }
}
