//! Topic Aliases (5.0, 3.3.2.3.4) in both directions. Both maps live for one
//! network connection and are reset on each new one.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::codec::MqttString;

/// Outgoing aliases: topic to alias, least recently used reassigned when full.
#[derive(Debug, Default)]
pub(crate) struct OutboundAliases {
    maximum: u16,
    by_topic: BTreeMap<MqttString, (u16, u64)>,
    by_alias: Vec<MqttString>,
    /// Last use stamp to alias, oldest first.
    lru: BTreeMap<u64, u16>,
    clock: u64,
}

/// What to send for a topic.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OutboundAlias {
    /// The broker knows this alias: send it with an empty topic.
    Known(u16),
    /// A new mapping: send the topic and the alias.
    New(u16),
}

impl OutboundAliases {
    /// Forgets every mapping and allows aliases `1..=maximum`.
    pub(crate) fn reset(&mut self, maximum: u16) {
        *self = OutboundAliases {
            maximum,
            ..Default::default()
        };
    }

    /// The alias to use for `topic`, or `None` when aliases are off.
    pub(crate) fn assign(&mut self, topic: &MqttString) -> Option<OutboundAlias> {
        if self.maximum == 0 {
            return None;
        }
        self.clock += 1;
        let stamp = self.clock;
        if let Some((alias, used)) = self.by_topic.get_mut(topic) {
            self.lru.remove(used);
            *used = stamp;
            self.lru.insert(stamp, *alias);
            return Some(OutboundAlias::Known(*alias));
        }
        let alias = if self.by_alias.len() < usize::from(self.maximum) {
            self.by_alias.push(topic.clone());
            self.by_alias.len() as u16
        } else {
            let (_, alias) = self.lru.pop_first()?;
            let slot = self.by_alias.get_mut(usize::from(alias) - 1)?;
            let old = core::mem::replace(slot, topic.clone());
            self.by_topic.remove(&old);
            alias
        };
        self.by_topic.insert(topic.clone(), (alias, stamp));
        self.lru.insert(stamp, alias);
        Some(OutboundAlias::New(alias))
    }
}

/// Incoming aliases: alias to topic, within our Topic Alias Maximum.
#[derive(Debug, Default)]
pub(crate) struct InboundAliases {
    maximum: u16,
    topics: Vec<Option<MqttString>>,
}

/// Why an incoming alias cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InboundAliasError {
    /// Above our maximum.
    OutOfRange,
    /// Empty topic with an alias never set.
    Unknown,
}

impl InboundAliases {
    /// Forgets every mapping and accepts aliases `1..=maximum`.
    pub(crate) fn reset(&mut self, maximum: u16) {
        self.maximum = maximum;
        self.topics.clear();
    }

    /// Records or resolves `alias`: a non-empty `topic` sets it, an empty one is replaced by the mapping.
    pub(crate) fn resolve(
        &mut self,
        alias: u16,
        topic: &mut MqttString,
    ) -> Result<(), InboundAliasError> {
        if alias == 0 || alias > self.maximum {
            return Err(InboundAliasError::OutOfRange);
        }
        let index = usize::from(alias) - 1;
        if topic.is_empty() {
            let known = self.topics.get(index).and_then(Option::as_ref);
            *topic = known.ok_or(InboundAliasError::Unknown)?.clone();
        } else {
            if self.topics.len() <= index {
                self.topics.resize(index + 1, None);
            }
            self.topics[index] = Some(topic.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_aliases_are_reused_then_least_recently_used_is_replaced() {
        let mut a = OutboundAliases::default();
        a.reset(2);
        let (t1, t2, t3) = (
            MqttString::from("a"),
            MqttString::from("b"),
            MqttString::from("c"),
        );
        assert_eq!(a.assign(&t1), Some(OutboundAlias::New(1)));
        assert_eq!(a.assign(&t2), Some(OutboundAlias::New(2)));
        assert_eq!(a.assign(&t1), Some(OutboundAlias::Known(1)));
        // "b" is now the least recently used: "c" takes alias 2.
        assert_eq!(a.assign(&t3), Some(OutboundAlias::New(2)));
        assert_eq!(a.assign(&t2), Some(OutboundAlias::New(1)));
        assert_eq!(a.assign(&t3), Some(OutboundAlias::Known(2)));
    }

    #[test]
    fn outbound_aliases_off_when_maximum_is_zero() {
        let mut a = OutboundAliases::default();
        a.reset(0);
        assert_eq!(a.assign(&MqttString::from("a")), None);
    }

    #[test]
    fn inbound_aliases_are_checked_against_our_maximum() {
        let mut a = InboundAliases::default();
        a.reset(3);
        let mut t = MqttString::from("x/y");
        assert_eq!(a.resolve(3, &mut t), Ok(()));
        let mut empty = MqttString::new();
        assert_eq!(a.resolve(3, &mut empty), Ok(()));
        assert_eq!(empty, "x/y");
        assert_eq!(a.resolve(4, &mut t), Err(InboundAliasError::OutOfRange));
        assert_eq!(
            a.resolve(2, &mut MqttString::new()),
            Err(InboundAliasError::Unknown)
        );
        a.reset(3);
        assert_eq!(
            a.resolve(3, &mut MqttString::new()),
            Err(InboundAliasError::Unknown)
        );
    }
}
