//! How long to wait before retrying a batch: the server's `Retry-After`
//! when it sent one, else exponential backoff with full jitter.
//!
//! Full jitter (a uniform wait between zero and the ceiling, as in AWS's
//! "Exponential Backoff And Jitter") spreads the retries of many processes
//! that failed together, say when PX restarted, instead of bringing them
//! back in waves on the same schedule. The browser SDK uses the same rule.

use chrono::{DateTime, Utc};
use rand::Rng;
use std::time::Duration;

/// A `Retry-After` longer than this is taken as this: a misconfigured proxy
/// must not park a client for days.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The longest wait after `failures` failures in a row (1 for the
    /// first): `base * 2^(failures - 1)`, at most `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }

    /// The wait before the next attempt: the server's `retry_after` if it
    /// gave one, else a uniform draw below [`Self::ceiling`].
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        match retry_after {
            Some(wait) => wait.min(MAX_RETRY_AFTER),
            None => {
                let ceiling = u64::try_from(self.ceiling(failures).as_micros()).unwrap_or(u64::MAX);
                Duration::from_micros(rng.random_range(0..=ceiling))
            }
        }
    }
}

/// Reads a `Retry-After` header: delay seconds, or an HTTP date (a date
/// already past means now).
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.to_utc() - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(2) };

    #[test]
    fn the_ceiling_doubles_up_to_the_cap_and_never_overflows() {
        let ceilings: Vec<u128> = (1..=7).map(|n| B.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(B.ceiling(0), B.base);
        assert_eq!(B.ceiling(u32::MAX), B.max);
        let huge = Backoff { base: Duration::from_secs(u64::MAX / 2), max: Duration::MAX };
        assert_eq!(huge.ceiling(40), Duration::MAX);
    }

    #[test]
    fn waits_are_spread_between_zero_and_the_ceiling() {
        let mut rng = rand::rng();
        let waits: Vec<Duration> = (0..2000).map(|_| B.delay(3, None, &mut rng)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(400)));
        let below_half = waits.iter().filter(|w| **w < Duration::from_millis(200)).count();
        assert!((800..1200).contains(&below_half), "not uniform: {below_half} of 2000 below half");
    }

    #[test]
    fn the_servers_retry_after_wins_up_to_an_hour() {
        let mut rng = rand::rng();
        assert_eq!(B.delay(1, Some(Duration::from_secs(7)), &mut rng), Duration::from_secs(7));
        assert_eq!(B.delay(9, Some(Duration::from_secs(86_400)), &mut rng), MAX_RETRY_AFTER);
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z").unwrap().to_utc();
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sat, 10 Jan 2026 12:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sat, 10 Jan 2026 11:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
