//! Sampling primitives over the seeded RNG: independent streams derived from
//! the seed, weighted choice, and the few distributions the traffic model
//! needs (normal, log-normal, geometric). They live here so that every other
//! module draws randomness the same way and determinism has one home.
//!
//! `rand_distr` would offer the distributions, but the ones needed are a few
//! lines each and keeping them local pins their exact output: a dependency
//! upgrade must never change the bytes a seed produces.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator every stream uses. ChaCha is portable and stable across
/// platforms and `rand` versions; 8 rounds are plenty for simulation.
pub(crate) type SimRng = ChaCha8Rng;

/// Labels that keep the streams derived from one seed apart.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    /// Per day: how many visitors arrive.
    Day = 1,
    /// Per session: everything a visit does.
    Session = 2,
    /// Per new visitor: the anonymous id.
    AnonymousId = 3,
    /// Per session: the draws of a scenario's frictions, kept apart from the
    /// session's own stream so a session no friction touches makes the same
    /// choices as without the scenario.
    Friction = 4,
}

/// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit key for `(seed, stream, a, b)`, distinct for distinct inputs with
/// overwhelming probability.
pub(crate) fn key(seed: u64, stream: Stream, a: u64, b: u64) -> u64 {
    let mut h = splitmix64(seed ^ 0x5158_5f53_494d_0001);
    for part in [stream as u64, a, b] {
        h = splitmix64(h ^ part);
    }
    h
}

/// An RNG for one stream. Sessions get their own RNG so that a change in how
/// one session behaves (a scenario injecting a friction, say) does not shift
/// the randomness of every session after it.
pub(crate) fn stream(seed: u64, stream: Stream, a: u64, b: u64) -> SimRng {
    SimRng::seed_from_u64(key(seed, stream, a, b))
}

/// True with probability `p` (clamped to [0, 1]).
pub(crate) fn chance(rng: &mut SimRng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// Uniform draw in [0, 1): `chance(rng, p)` is `uniform(rng) < p`, for
/// callers that compare one draw against several thresholds.
pub(crate) fn uniform(rng: &mut SimRng) -> f64 {
    rng.random::<f64>()
}

/// Uniform integer in `[lo, hi]`.
pub(crate) fn between(rng: &mut SimRng, lo: i64, hi: i64) -> i64 {
    if hi <= lo { lo } else { rng.random_range(lo..=hi) }
}

/// Index of an item chosen with probability proportional to its weight.
/// Tables are small (tens of entries), so a linear scan beats building an
/// alias table. Returns 0 for an empty or all-zero table.
pub(crate) fn pick<T>(rng: &mut SimRng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    pick_index(rng, items.len(), |i| weight(&items[i]))
}

/// Index in `0..n` chosen with probability proportional to `weight(i)`.
pub(crate) fn pick_index(rng: &mut SimRng, n: usize, weight: impl Fn(usize) -> f64) -> usize {
    let total: f64 = (0..n).map(&weight).sum();
    if total <= 0.0 {
        return 0;
    }
    let mut x = rng.random::<f64>() * total;
    for i in 0..n {
        x -= weight(i);
        if x < 0.0 {
            return i;
        }
    }
    n.saturating_sub(1)
}

/// Index into a table of `(item, weight)` pairs.
pub(crate) fn pick_pair<T>(rng: &mut SimRng, items: &[(T, f64)]) -> usize {
    pick(rng, items, |(_, w)| *w)
}

/// Standard normal deviate (Box-Muller; one of the pair is discarded to keep
/// the function stateless).
pub(crate) fn normal(rng: &mut SimRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Log-normal deviate with the given median and shape (sigma of the log).
pub(crate) fn log_normal(rng: &mut SimRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// Number of failures before the first success of a Bernoulli trial whose
/// mean is `mean` (so `P(0) = 1 / (1 + mean)`), capped at `cap`.
pub(crate) fn geometric(rng: &mut SimRng, mean: f64, cap: u32) -> u32 {
    let p_continue = mean / (1.0 + mean);
    let mut n = 0;
    while n < cap && chance(rng, p_continue) {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, Stream::Session, 1, 2).random();
        let b: u64 = stream(7, Stream::Session, 1, 2).random();
        let c: u64 = stream(7, Stream::Session, 2, 1).random();
        let d: u64 = stream(7, Stream::Day, 1, 2).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn distributions_have_the_expected_centre() {
        let mut rng = stream(1, Stream::Day, 0, 0);
        let n = 20_000;
        let mut logs: Vec<f64> = (0..n).map(|_| log_normal(&mut rng, 100.0, 0.5)).collect();
        logs.sort_by(f64::total_cmp);
        let median = logs[n / 2];
        assert!((90.0..110.0).contains(&median), "{median}");
        let mean = (0..n).map(|_| f64::from(geometric(&mut rng, 2.0, 1000))).sum::<f64>() / n as f64;
        assert!((1.8..2.2).contains(&mean), "{mean}");
        let hits = (0..n).filter(|_| pick(&mut rng, &[1.0, 3.0], |w| *w) == 1).count();
        assert!((0.72..0.78).contains(&(hits as f64 / n as f64)));
    }
}
