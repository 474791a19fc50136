//! Exponential backoff with full jitter, capped, honouring a server's `Retry-After`.
//! Jitter spreads a fleet's retries so workers that failed together do not return
//! together.

use std::time::Duration;

use rand::Rng;

/// Retry delays for one call.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Starts at `base`, doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The next delay: a random share (50–100%) of `base * 2^n`, capped at `max`; a
    /// server hint wins when it is longer.
    pub fn next_delay(&mut self, hint: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let jittered = exp.mul_f64(rand::rng().random_range(0.5..=1.0));
        match hint {
            Some(h) if h > jittered => h.min(self.max.max(h)),
            _ => jittered,
        }
    }

    /// Retries so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d: Vec<Duration> = (0..8).map(|_| b.next_delay(None)).collect();
        assert!(d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100));
        assert!(d[3] >= Duration::from_millis(400) && d[3] <= Duration::from_millis(800));
        assert!(d.iter().all(|x| *x <= Duration::from_secs(1)));
        assert_eq!(
            b.next_delay(Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(b.attempts(), 9);
    }
}
