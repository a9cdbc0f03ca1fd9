//! Single change point by exhaustive split search, with a p-value.
//!
//! Where [`super::cusum`] watches a series as it arrives, these look back at
//! a finished window ("did conversion change in the last 14 days, and
//! when?") and answer with the most likely day and how sure we are. Every
//! split leaving at least `min_segment` buckets per side is tried; the best
//! is tested, and since the best of many splits looks better than any one
//! split would by chance, its p-value is Bonferroni-corrected for the number
//! of splits tested. That is conservative (neighbouring splits are strongly
//! correlated) but needs no simulation and is never over-confident.

use serde::Serialize;

use crate::stats::{MomentsAcc, Proportion, bonferroni, chi_square_1df_sf, welch_test_moments};

/// The most likely change of a rate and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateChange {
    /// First bucket of the new regime.
    pub index: usize,
    /// Pooled counts of the buckets before `index`.
    pub before: Proportion,
    /// Pooled counts of the buckets from `index` on.
    pub after: Proportion,
    /// Bonferroni-corrected likelihood-ratio p-value (see
    /// [`rate_change_point`]).
    pub p_value: f64,
}

/// Binomial log-likelihood of `s` successes in `n` trials at the fitted
/// rate `s / n`, with `0 · ln 0 = 0`.
fn binomial_log_likelihood(s: f64, n: f64) -> f64 {
    let term = |k: f64| if k > 0.0 { k * (k / n).ln() } else { 0.0 };
    if n > 0.0 { term(s) + term(n - s) } else { 0.0 }
}

/// Change point in a rate (successes / trials per bucket, e.g. daily
/// conversion).
///
/// Finds the split maximising the binomial log-likelihood ratio of "two
/// rates" against "one rate", `G = 2 (LL_before + LL_after - LL_all)`,
/// among splits leaving at least `min_segment` buckets (at least 1) and some
/// trials on each side. The p-value is `P(χ²₁ >= G)` times the number of
/// splits tested (Bonferroni, capped at 1).
///
/// The test assumes binomial noise. Real daily rates often vary more than
/// that (overdispersion: a campaign day, a bot day), which makes p-values
/// with large trial counts too small; read them with the size of the change.
///
/// `None` when the slices differ in length, a bucket is not a valid count
/// (non-finite, negative, more successes than trials), or no split fits.
pub fn rate_change_point(successes: &[f64], trials: &[f64], min_segment: usize) -> Option<RateChange> {
    let n = successes.len();
    if trials.len() != n {
        return None;
    }
    let buckets: Vec<Proportion> =
        successes.iter().zip(trials).map(|(&s, &t)| Proportion { successes: s, trials: t }).collect();
    let valid = |p: &Proportion| (p.trials == 0.0 && p.successes == 0.0) || p.rate().is_some();
    if !buckets.iter().all(valid) {
        return None;
    }
    let min_segment = min_segment.max(1);
    let last_split = n.checked_sub(min_segment)?;
    if min_segment > last_split {
        return None;
    }
    let total = buckets.iter().fold(Proportion::default(), add);
    let ll_all = binomial_log_likelihood(total.successes, total.trials);
    let mut before = Proportion::default();
    let mut best: Option<(f64, usize, Proportion)> = None;
    let mut tested = 0;
    for (i, bucket) in buckets.iter().enumerate().take(last_split) {
        before = add(before, bucket);
        let index = i + 1;
        if index < min_segment {
            continue;
        }
        let after = Proportion { successes: total.successes - before.successes, trials: total.trials - before.trials };
        if before.trials <= 0.0 || after.trials <= 0.0 {
            continue;
        }
        tested += 1;
        let g = 2.0
            * (binomial_log_likelihood(before.successes, before.trials)
                + binomial_log_likelihood(after.successes, after.trials)
                - ll_all);
        if best.is_none_or(|(best_g, _, _)| g > best_g) {
            best = Some((g, index, before));
        }
    }
    let (g, index, before) = best?;
    Some(RateChange {
        index,
        before,
        after: Proportion { successes: total.successes - before.successes, trials: total.trials - before.trials },
        p_value: bonferroni(chi_square_1df_sf(g.max(0.0)), tested),
    })
}

fn add(a: Proportion, b: &Proportion) -> Proportion {
    Proportion { successes: a.successes + b.successes, trials: a.trials + b.trials }
}

/// Change point in the mean of continuous per-bucket values (daily average
/// load time, revenue per user): the split whose two sides differ most by
/// Welch's t-test, among splits leaving at least `min_segment` buckets (at
/// least 2, Welch needs a spread) per side. Returns the first bucket of the
/// new regime and the best split's p-value times the number of splits tested
/// (Bonferroni, capped at 1). NaN values are skipped as missing.
///
/// `None` when no split can be tested (too few values, or both sides of
/// every split constant).
pub fn mean_change_point(values: &[f64], min_segment: usize) -> Option<(usize, f64)> {
    let n = values.len();
    let min_segment = min_segment.max(2);
    let last_split = n.checked_sub(min_segment)?;
    if min_segment > last_split {
        return None;
    }
    // prefix[i] holds values[..i], suffix[i] holds values[i..]: O(n) overall.
    let running = |acc: &mut MomentsAcc, x: &f64| {
        acc.push(*x);
        Some(*acc)
    };
    let start = std::iter::once(MomentsAcc::default());
    let prefix: Vec<MomentsAcc> = start.clone().chain(values.iter().scan(MomentsAcc::default(), running)).collect();
    let mut suffix: Vec<MomentsAcc> = start.chain(values.iter().rev().scan(MomentsAcc::default(), running)).collect();
    suffix.reverse();
    // Smallest p wins; ties (p underflowing to 0 on big shifts) go to the
    // larger |t|, so the split stays on the true change.
    let mut best: Option<(f64, f64, usize)> = None;
    let mut tested = 0;
    for index in min_segment..=last_split {
        let (Some(before), Some(after)) = (prefix.get(index), suffix.get(index)) else {
            continue;
        };
        let (Some(before), Some(after)) = (before.moments(), after.moments()) else {
            continue;
        };
        let Some(test) = welch_test_moments(before, after) else {
            continue;
        };
        tested += 1;
        let better = best.is_none_or(|(p, t, _)| test.p_value < p || (test.p_value == p && test.z.abs() > t));
        if better {
            best = Some((test.p_value, test.z.abs(), index));
        }
    }
    let (p, _, index) = best?;
    Some((index, bonferroni(p, tested)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::gauss::Gauss;

    #[test]
    fn conversion_drop_is_located_with_a_tiny_p_value() {
        // 14 days of 300 visitors: 60% converting, then 35% from day 9.
        let trials = [300.0; 14];
        let successes: Vec<f64> = (0..14).map(|d| if d < 9 { 180.0 } else { 105.0 }).collect();
        let change = rate_change_point(&successes, &trials, 2).unwrap();
        assert_eq!(change.index, 9);
        assert_eq!(change.before, Proportion { successes: 1620.0, trials: 2700.0 });
        assert_eq!(change.after, Proportion { successes: 525.0, trials: 1500.0 });
        assert!(change.p_value < 1e-6, "p {}", change.p_value);
    }

    #[test]
    fn stationary_conversion_is_not_significant() {
        let mut g = Gauss::new(31);
        let successes: Vec<f64> = (0..14).map(|_| g.binomial(300, 0.6)).collect();
        let change = rate_change_point(&successes, &[300.0; 14], 2).unwrap();
        assert!(change.p_value > 0.05, "p {}", change.p_value);
    }

    #[test]
    fn min_segment_is_respected() {
        // The drop is in the last 2 days, but 3 are required after a split.
        let successes: Vec<f64> = (0..14).map(|d| if d < 12 { 180.0 } else { 60.0 }).collect();
        let trials = [300.0; 14];
        assert_eq!(rate_change_point(&successes, &trials, 2).unwrap().index, 12);
        let change = rate_change_point(&successes, &trials, 3).unwrap();
        assert_eq!(change.index, 11, "the closest split allowed");
        assert_eq!(rate_change_point(&successes, &trials, 8), None, "14 < 2 · 8");
        assert_eq!(rate_change_point(&successes, &trials[..13], 2), None, "length mismatch");
        let mut bad = successes.clone();
        bad[3] = 301.0;
        assert_eq!(rate_change_point(&bad, &trials, 2), None, "more successes than trials");
    }

    #[test]
    fn bonferroni_counts_the_splits() {
        // Two days, one split: the p-value is the plain likelihood-ratio test.
        // 60/100 vs 45/100, expected 52.5/47.5 a side under one rate:
        // G = 2 Σ k ln(k / expected) = 4.52857, P(χ²₁ >= G) = 0.033334.
        let change = rate_change_point(&[60.0, 45.0], &[100.0, 100.0], 1).unwrap();
        assert!((change.p_value - 0.033_334).abs() < 1e-6, "p {}", change.p_value);
    }

    #[test]
    fn mean_shift_is_located() {
        let mut g = Gauss::new(32);
        let mut values = g.series(20, 200.0, 10.0);
        values.extend(g.series(10, 240.0, 10.0));
        let (index, p) = mean_change_point(&values, 3).unwrap();
        assert!(index.abs_diff(20) <= 1, "index {index}");
        assert!(p < 1e-4, "p {p}");
        // Same answer as Welch on every split's raw slices (3..=27: 25 splits).
        let (brute_index, brute_p) = (3..=27)
            .map(|i| (i, crate::stats::welch_test(&values[..i], &values[i..]).unwrap().p_value))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert_eq!(index, brute_index);
        assert!((p / (brute_p * 25.0) - 1.0).abs() < 1e-9, "{p} vs {}", brute_p * 25.0);
    }

    #[test]
    fn stationary_mean_is_not_significant() {
        let mut g = Gauss::new(33);
        let values = g.series(30, 200.0, 10.0);
        let (_, p) = mean_change_point(&values, 3).unwrap();
        assert!(p > 0.05, "p {p}");
    }

    #[test]
    fn mean_change_point_respects_min_segment_and_ties() {
        // A clean step: p underflows to 0 on several splits; the true one wins.
        let mut values = vec![10.0, 10.5, 9.5, 10.2, 9.8, 10.1];
        values.extend([1000.0, 1000.4, 999.6, 1000.2, 999.9, 1000.1]);
        assert_eq!(mean_change_point(&values, 2).map(|(i, _)| i), Some(6));
        // 7 a side cannot fit in 12 values.
        assert_eq!(mean_change_point(&values, 7), None);
        assert_eq!(mean_change_point(&values, 6).map(|(i, _)| i), Some(6));
    }
}
