//! Shared statistics: robust summaries, the normal and Student-t
//! distributions, two-sample tests and multiple-comparison corrections.
//!
//! Every detector and every "is this difference real?" answer in the engine
//! goes through here, so one implementation decides how missing values,
//! empty inputs and tiny p-values behave. Functions are pure and total: an
//! input that admits no answer gives `None` (or NaN where the signature is a
//! bare `f64`), never a panic. NaN elements are treated as missing and
//! skipped, because metric series from the store carry NaN for empty buckets.
//!
//! Not here: anything that knows about events, time or detectors (see
//! [`crate::detect`]).

mod special;

use serde::Serialize;

pub use special::{erfc, student_t_two_sided_p};

/// Scale that turns a median absolute deviation into a consistent estimate
/// of the standard deviation for normal data: `1 / Φ⁻¹(3/4)`.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// The values of `xs` that are not NaN, sorted ascending.
fn sorted_finite(xs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Type-7 quantile of already sorted, NaN-free values.
fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    let low = *sorted.get(lo)?;
    if frac == 0.0 {
        return Some(low);
    }
    let high = *sorted.get(lo + 1)?;
    Some(low + frac * (high - low))
}

/// Median of the non-NaN values; `None` when there are none.
///
/// Why the median: a metric's typical level must not move because of the
/// one outage or bot burst the detectors are looking for.
pub fn median(xs: &[f64]) -> Option<f64> {
    quantile(xs, 0.5)
}

/// Quantile `q` in `[0, 1]` of the non-NaN values, interpolating linearly
/// between order statistics (Hyndman–Fan type 7, the default of R and
/// NumPy, so numbers match what analysts check against). `None` when there
/// are no values or `q` is outside `[0, 1]`.
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    quantile_sorted(&sorted_finite(xs), q)
}

/// Median absolute deviation from the median, times [`MAD_TO_SIGMA`] so it
/// estimates the standard deviation of normal data while ignoring up to
/// half the points as outliers. `None` when there are no non-NaN values.
pub fn mad(xs: &[f64]) -> Option<f64> {
    let center = median(xs)?;
    let deviations: Vec<f64> = xs.iter().filter(|x| !x.is_nan()).map(|x| (x - center).abs()).collect();
    Some(median(&deviations)? * MAD_TO_SIGMA)
}

/// Arithmetic mean of the non-NaN values; `None` when there are none.
pub fn mean(xs: &[f64]) -> Option<f64> {
    SampleMoments::from_slice(xs).map(|m| m.mean)
}

/// Count, mean and unbiased variance of a sample: everything Welch's test
/// needs, so callers holding aggregates (a SQL `count`/`avg`/`var_samp`)
/// can test without the raw values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampleMoments {
    pub count: f64,
    pub mean: f64,
    /// Unbiased (n - 1) variance; 0 for a single value.
    pub variance: f64,
}

impl SampleMoments {
    /// Moments of the non-NaN values (Welford's update, stable for large
    /// offsets); `None` when there are none.
    pub fn from_slice(xs: &[f64]) -> Option<SampleMoments> {
        let mut acc = MomentsAcc::default();
        for &x in xs {
            acc.push(x);
        }
        acc.moments()
    }
}

/// Running Welford accumulator, shared with the change-point scans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MomentsAcc {
    count: f64,
    mean: f64,
    m2: f64,
}

impl MomentsAcc {
    /// Adds one value; NaN is skipped as missing.
    pub(crate) fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.count += 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.count;
        self.m2 += delta * (x - self.mean);
    }

    pub(crate) fn moments(&self) -> Option<SampleMoments> {
        if self.count < 1.0 {
            return None;
        }
        let variance = if self.count > 1.0 { (self.m2 / (self.count - 1.0)).max(0.0) } else { 0.0 };
        Some(SampleMoments { count: self.count, mean: self.mean, variance })
    }
}

/// Standard normal CDF `Φ(z)`, accurate to about 1e-15 relative (it goes
/// through [`erfc`], never through a polynomial fit), so the lower tail stays
/// exact down to `Φ(-37)`.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Two-sided normal p-value `2 (1 - Φ(|z|))`, computed as `erfc(|z|/√2)` so
/// a z of 10 gives 1.5e-23 rather than the 0 that `1 - Φ` would round to:
/// the engine ranks anomalies by p-value, and ties at 0 lose the ranking.
/// NaN when `z` is NaN.
pub fn two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// Upper tail of the chi-square distribution with one degree of freedom,
/// `P(X >= x)`: the p-value of a likelihood-ratio statistic for one extra
/// parameter. Since `X = Z²`, it equals [`two_sided_p`] of `sqrt(x)`.
pub fn chi_square_1df_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    two_sided_p(x.sqrt())
}

/// A count of successes out of trials (conversions out of visitors, errors
/// out of requests). Counts are `f64` so weighted or sampled counts fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Proportion {
    pub successes: f64,
    pub trials: f64,
}

impl Proportion {
    /// `successes / trials`; `None` when there are no trials or the counts
    /// are not a valid proportion (negative, non-finite, or more successes
    /// than trials), so a bad bucket can never masquerade as a rate.
    pub fn rate(&self) -> Option<f64> {
        let valid = self.trials.is_finite()
            && self.trials > 0.0
            && self.successes.is_finite()
            && (0.0..=self.trials).contains(&self.successes);
        valid.then(|| self.successes / self.trials)
    }
}

/// Outcome of a two-sample test.
///
/// `z` is the test statistic: a standard normal z for the proportion test,
/// Welch's t for the mean tests (whose p-value uses Student's t).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestResult {
    /// `b - a`: positive when the second group is higher, so "treatment
    /// minus control" reads naturally when `a` is the control.
    pub difference: f64,
    pub z: f64,
    pub p_value: f64,
}

/// Pooled two-proportion z-test of `b.rate == a.rate` (the textbook test for
/// conversion rates; accurate when each side has at least ~5 successes and
/// ~5 failures). `None` when either side has no valid rate (see
/// [`Proportion::rate`]) or the pooled variance is 0 (both rates 0, or both
/// 1: nothing to test).
pub fn two_proportion_test(a: Proportion, b: Proportion) -> Option<TestResult> {
    let rate_a = a.rate()?;
    let rate_b = b.rate()?;
    let pooled = (a.successes + b.successes) / (a.trials + b.trials);
    let variance = pooled * (1.0 - pooled) * (1.0 / a.trials + 1.0 / b.trials);
    if variance.is_nan() || variance <= 0.0 {
        return None;
    }
    let difference = rate_b - rate_a;
    let z = difference / variance.sqrt();
    Some(TestResult { difference, z, p_value: two_sided_p(z) })
}

/// Welch's unequal-variance t-test of `mean(b) == mean(a)`, on the non-NaN
/// values. The p-value comes from Student's t with the Welch–Satterthwaite
/// degrees of freedom, so it is right for small samples too (a normal
/// approximation is too optimistic below ~30 points per side).
/// `None` when either side has fewer than 2 values or both are constant.
pub fn welch_test(a: &[f64], b: &[f64]) -> Option<TestResult> {
    welch_test_moments(SampleMoments::from_slice(a)?, SampleMoments::from_slice(b)?)
}

/// [`welch_test`] from summaries instead of raw values. `None` when either
/// side has fewer than 2 values or the standard error is 0.
pub fn welch_test_moments(a: SampleMoments, b: SampleMoments) -> Option<TestResult> {
    if a.count < 2.0 || b.count < 2.0 {
        return None;
    }
    let va = a.variance / a.count;
    let vb = b.variance / b.count;
    let se2 = va + vb;
    if !se2.is_finite() || se2 <= 0.0 {
        return None;
    }
    let difference = b.mean - a.mean;
    let t = difference / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.count - 1.0) + vb * vb / (b.count - 1.0));
    Some(TestResult { difference, z: t, p_value: student_t_two_sided_p(t, df) })
}

/// A p-value made usable as "evidence against the null": NaN means no
/// evidence (1), and values are clamped into `[0, 1]`.
fn sanitize_p(p: f64) -> f64 {
    if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) }
}

/// Holm–Bonferroni adjusted p-values, in the input's order.
///
/// Why Holm: the engine tests many segments and metrics at once, and Holm
/// controls the family-wise error like Bonferroni while rejecting more,
/// without any independence assumption. The adjusted values are monotone in
/// the raw ones, at least the raw value, and at most 1; reject where the
/// adjusted value is below alpha. NaN inputs count as 1 (no evidence).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let clean: Vec<f64> = p_values.iter().map(|&p| sanitize_p(p)).collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| clean[i].total_cmp(&clean[j]));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * clean[i]).min(1.0);
        running = running.max(scaled);
        adjusted[i] = running;
    }
    adjusted
}

/// Bonferroni-adjusted p-value for one of `tests` tests: `min(1, p · tests)`.
/// Used where one best candidate was picked from many (a searched change
/// point), so only that one p-value exists. `tests = 0` counts as 1; a NaN
/// `p` counts as 1.
pub fn bonferroni(p: f64, tests: usize) -> f64 {
    (sanitize_p(p) * tests.max(1) as f64).min(1.0)
}

#[cfg(test)]
mod tests;
