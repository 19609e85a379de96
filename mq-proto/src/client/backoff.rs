//! The reconnect policy: exponential backoff with jitter, a cap, and a reset
//! after a stable connection. Randomness comes in as an argument.

use core::time::Duration;

/// How long to wait before each reconnect attempt.
///
/// The delay before attempt `n` (0-based) is `initial * 2^n`, capped at
/// `max`, minus up to `jitter` of itself chosen by the caller's random number.
///
/// ```
/// use core::time::Duration;
/// use mq_proto::client::Backoff;
/// let b = Backoff::default();
/// assert_eq!(b.delay(0, 0), Duration::from_secs(1));
/// assert_eq!(b.delay(3, 0), Duration::from_secs(8));
/// assert_eq!(b.delay(30, 0), Duration::from_secs(120));
/// assert!(b.delay(3, u32::MAX) >= Duration::from_secs(4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first attempt.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Fraction of a delay, in percent (0..=100), that jitter may remove.
    pub jitter_percent: u8,
    /// A connection that lasted this long resets the attempt count.
    pub stable_after: Duration,
}

impl Default for Backoff {
    /// 1 s doubling to 2 min, 50 % jitter, reset after 30 s connected.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(120),
            jitter_percent: 50,
            stable_after: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (0-based), with `random` any value from the caller's RNG.
    pub fn delay(&self, attempt: u32, random: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let base = self
            .initial
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max);
        let jitter_percent = u64::from(self.jitter_percent.min(100));
        // Take away (random / 2^32) * jitter% of the delay.
        let base_ns = base.as_nanos().min(u128::from(u64::MAX)) as u64;
        let max_cut = base_ns / 100 * jitter_percent;
        let cut = ((u128::from(max_cut) * u128::from(random)) >> 32) as u64;
        Duration::from_nanos(base_ns - cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_never_exceeds_its_fraction_and_zero_jitter_is_exact() {
        let b = Backoff {
            jitter_percent: 20,
            ..Backoff::default()
        };
        for r in [0, 1, u32::MAX / 2, u32::MAX] {
            let d = b.delay(2, r);
            assert!(
                d <= Duration::from_secs(4) && d >= Duration::from_millis(3200),
                "{d:?}"
            );
        }
        let none = Backoff {
            jitter_percent: 0,
            ..Backoff::default()
        };
        assert_eq!(none.delay(2, u32::MAX), Duration::from_secs(4));
    }

    #[test]
    fn huge_attempt_counts_stay_at_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.delay(u32::MAX, 0), b.max);
    }
}
