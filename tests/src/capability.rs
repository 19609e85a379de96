//! What each broker supports, so that a scenario a broker cannot pass is
//! skipped by a declared reason, never silently, and the skip list printed.
//!
//! Each scenario names the [`Feature`]s it needs (see
//! [`scenario_tests!`](crate::scenario_tests)); [`BrokerKind::lacks`] says,
//! for each broker, which features it does not offer and why. The reasons
//! were found by running the scenarios against each broker; docs/INTEROP.md
//! tabulates them, and a test checks that every skipped scenario is listed
//! there.

use mq_proto::ProtocolVersion;

use crate::kind::{with_target, BrokerKind, Target};

/// Something a scenario needs from the broker beyond plain publish/subscribe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// MQTT 3.1.1 clients.
    V311,
    /// MQTT 5.0 clients.
    V5,
    /// The scenario configures a limit or option through [`BrokerConfig`](crate::BrokerConfig)
    /// (`max_packet_size`, `max_inflight_messages`, `max_topic_alias`, `max_qos`, ...).
    Settings,
    /// Sessions and messages kept on disk across a broker crash.
    Persistence,
    /// Retained messages, including clearing one with an empty payload.
    Retained,
    /// Will Messages published when a connection is cut.
    Will,
    /// Resuming a session with its queued QoS 1 and QoS 2 messages.
    SessionResume,
    /// Session Expiry Interval (5.0).
    SessionExpiry,
    /// Shared subscriptions (`$share/GROUP/filter`).
    SharedSubscriptions,
    /// Topic Aliases both ways (5.0).
    TopicAliases,
    /// Subscription Identifiers on delivered messages (5.0).
    SubscriptionIdentifiers,
    /// No Local, Retain As Published and Retain Handling (5.0).
    SubscriptionOptions,
    /// Response Topic and Correlation Data forwarded (5.0).
    RequestResponse,
    /// User Properties and the other PUBLISH properties forwarded (5.0).
    MessageProperties,
    /// Messages delivered at the lower of the publish and the subscription
    /// QoS (MQTT-3.8.4-8 in 5.0, MQTT-3.8.4-6 in 3.1.1).
    MinimumQoS,
    /// One copy of a message for a client's overlapping subscriptions
    /// (5.0 allows one per subscription; the scenario expects one).
    OneCopyPerClient,
    /// An UNSUBACK for every UNSUBSCRIBE, also of a filter the client does
    /// not have (MQTT-3.10.4-5), on 5.0 with reason 0x11 No subscription existed.
    UnsubAckAlways,
    /// A 5.0 PUBACK with 0x10 No matching subscribers when nobody subscribes
    /// (optional for a broker: it may answer 0x00 Success).
    NoMatchingSubscribers,
    /// Queued messages of several topics resent in the order they were
    /// published, not only in order per topic (what MQTT-4.6.0-6 requires).
    OrderAcrossTopics,
}

impl Feature {
    /// The feature of speaking `version`.
    pub fn version(version: ProtocolVersion) -> Feature {
        match version {
            ProtocolVersion::V311 => Feature::V311,
            ProtocolVersion::V5 => Feature::V5,
        }
    }
}

impl BrokerKind {
    /// Why this broker cannot pass scenarios that need `feature` on
    /// `version`; `None` when it can. Found by running the scenarios.
    pub fn lacks(self, feature: Feature, version: ProtocolVersion) -> Option<&'static str> {
        use BrokerKind::{Aedes, Mosquitto, Rumqttd};
        use Feature as F;
        let v5 = version == ProtocolVersion::V5;
        match (self, feature) {
            (Mosquitto, _) => None,
            (Aedes, F::V5) => Some(
                "MQTT 3.1.1 only: a 5.0 CONNECT gets a 3.1.1 CONNACK with return code \
                 0x01 (unacceptable protocol version)",
            ),
            (_, F::Settings) => Some(
                "the scenario sets a Mosquitto option (a limit, max_qos, retain_available...) \
                 that the harness writes for Mosquitto only",
            ),
            (_, F::Persistence) => Some(
                "no persistence to disk: a crash loses sessions and retained messages \
                 (rumqttd keeps them in memory only; Aedes' default persistence is in memory)",
            ),
            (_, F::OrderAcrossTopics) => Some(
                "resends a resumed session's queue in order per topic, not across topics \
                 (checked per topic instead)",
            ),
            (Aedes, F::SharedSubscriptions) => Some(
                "no shared subscriptions: `$share/g/...` is an ordinary filter, so no \
                 member gets a message published to `sh/t`",
            ),
            (Rumqttd, F::MinimumQoS) => Some(
                "delivers at the subscription's QoS even when the message was published \
                 at a lower one (MQTT-3.8.4-8 / MQTT-3.8.4-6)",
            ),
            (Rumqttd, F::OneCopyPerClient) => Some(
                "sends one copy per matching subscription (5.0 allows it); without \
                 Subscription Identifiers the client gives every copy to each matching stream",
            ),
            (Rumqttd, F::UnsubAckAlways) if v5 => Some(
                "never answers an UNSUBSCRIBE of a filter the client has not subscribed \
                 (MQTT-3.10.4-5): the client waits until its timeout",
            ),
            (Rumqttd, F::NoMatchingSubscribers) => {
                Some("answers a publish nobody subscribes to with 0x00 Success, not 0x10")
            }
            (Rumqttd, F::SessionResume) if v5 => Some(
                "a 5.0 session is not resumed: the queued messages never arrive \
                 (3.1.1 sessions are)",
            ),
            (Rumqttd, F::TopicAliases) => Some(
                "to a subscriber that accepts aliases it sends the first topic with \
                 Topic Alias 1, then every other topic as an empty topic with alias 1, \
                 so every message arrives as the first topic (seen in its bytes)",
            ),
            (Rumqttd, F::SubscriptionOptions) => {
                Some("ignores No Local: a client gets its own messages back")
            }
            _ => None,
        }
    }
}

/// The version a scenario's clients speak: its version argument, or 5.0 for
/// a scenario without one (those exercise 5.0 features).
pub fn version_of(args: &[ProtocolVersion]) -> ProtocolVersion {
    args.first().copied().unwrap_or(ProtocolVersion::V5)
}

/// Why `kind` skips a scenario speaking `version` that needs `needs`; `None` to run it.
pub fn skip_reason(
    kind: BrokerKind,
    version: ProtocolVersion,
    needs: &[Feature],
) -> Option<&'static str> {
    std::iter::once(Feature::version(version))
        .chain(needs.iter().copied())
        .find_map(|feature| kind.lacks(feature, version))
}

/// Runs `scenario` with `kind` as the broker every `Broker::start` in it
/// starts, or prints why it is skipped.
pub fn run_scenario(
    kind: BrokerKind,
    name: &str,
    version: ProtocolVersion,
    needs: &[Feature],
    scenario: impl FnOnce(),
) {
    match skip_reason(kind, version, needs) {
        Some(reason) => println!("skipped {name} on {}: {reason}", kind.name()),
        None => with_target(Target { kind, version }, scenario),
    }
}

/// One entry of the scenario list: name, version, features needed.
pub type ScenarioEntry = (&'static str, ProtocolVersion, &'static [Feature]);

/// Prints the scenarios `kind` skips, with their reasons, and checks that
/// Mosquitto, the reference, skips none and that docs/INTEROP.md names every
/// scenario another broker skips.
///
/// # Panics
///
/// When one of those checks fails.
pub fn check_skip_list(kind: BrokerKind, scenarios: &[ScenarioEntry]) {
    const INTEROP: &str = include_str!("../../docs/INTEROP.md");
    let skipped: Vec<(&str, &str)> = scenarios
        .iter()
        .filter_map(|&(name, version, needs)| {
            skip_reason(kind, version, needs).map(|reason| (name, reason))
        })
        .collect();
    println!(
        "{}: {} of {} scenarios skipped",
        kind.name(),
        skipped.len(),
        scenarios.len()
    );
    for (name, reason) in &skipped {
        println!("  skipped {name}: {reason}");
    }
    if kind == BrokerKind::Mosquitto {
        assert!(skipped.is_empty(), "Mosquitto skips {skipped:?}");
    }
    let undocumented: Vec<&str> = skipped
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| !INTEROP.contains(&format!("`{name}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/INTEROP.md does not list these scenarios {} skips: {undocumented:?}",
        kind.name()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_a_feature_too() {
        use ProtocolVersion::{V311, V5};
        assert_eq!(
            skip_reason(BrokerKind::Mosquitto, V5, &[Feature::Persistence]),
            None
        );
        assert!(skip_reason(BrokerKind::Aedes, V5, &[]).is_some());
        assert_eq!(skip_reason(BrokerKind::Aedes, V311, &[]), None);
        assert!(skip_reason(BrokerKind::Rumqttd, V311, &[Feature::Persistence]).is_some());
        assert_eq!(version_of(&[]), V5);
        assert_eq!(version_of(&[V311]), V311);
    }
}
