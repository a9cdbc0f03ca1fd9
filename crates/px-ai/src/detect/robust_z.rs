//! Robust z-score of one point against its baseline, with weekly (or any
//! period) seasonality.
//!
//! Why robust: the history a point is judged against usually contains the
//! previous incidents. Median and MAD ignore them, where mean and standard
//! deviation would let last month's outage hide this month's. Why seasonal:
//! Saturday traffic at 60% of Tuesday's is normal, and must not be flagged
//! every week.

use crate::stats::{mad, median};

/// Fewest points a baseline is estimated from; below it the median and MAD
/// say nothing.
pub const MIN_HISTORY: usize = 3;

/// Scale that turns a mean absolute deviation into a consistent estimate of
/// the standard deviation for normal data: `sqrt(pi / 2)`.
pub const MEAN_AD_TO_SIGMA: f64 = 1.253_314;

/// Smallest scale, as a fraction of the baseline's level: a change under
/// about 1% of the level is not worth an alert however flat the history.
pub const RELATIVE_SCALE_FLOOR: f64 = 0.01;

/// Smallest scale in absolute terms, so a history of zeros does not divide
/// by zero.
pub const ABSOLUTE_SCALE_FLOOR: f64 = 1e-9;

/// Where a point is expected to be and how far it usually strays, in the
/// point's own units: `center` is the expected value, `scale` one robust
/// standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Baseline {
    pub center: f64,
    pub scale: f64,
}

impl Baseline {
    /// `(value - center) / scale`: how many robust standard deviations
    /// `value` lies from the expected value. `scale` is always positive.
    pub fn z(&self, value: f64) -> f64 {
        (value - self.center) / self.scale
    }
}

/// Robust baseline of `history`: center the median, scale the MAD (scaled to
/// sigma). `None` when fewer than [`MIN_HISTORY`] non-NaN points, or when the
/// history holds infinities.
///
/// The scale has floors so a flat history neither divides by zero nor turns
/// every wiggle into an alarm:
/// - when the MAD is 0 (more than half the history equals the median, e.g. a
///   count that is usually 0), `1.253314 ×` the mean absolute deviation from
///   the median stands in: it still sees the minority of points that vary,
///   and equals sigma for normal data. It is only a fallback: were it always
///   in the max, one past spike in the history would inflate it and hide the
///   next spike, defeating the point of a robust score;
/// - the scale is never below `1e-9 + 0.01 × |median|`: a 1% move is never
///   an anomaly on its own, and a history of zeros gets a tiny positive scale
///   (a first non-zero value then scores very high, which is the truth).
pub fn robust_baseline(history: &[f64]) -> Option<Baseline> {
    let points: Vec<f64> = history.iter().copied().filter(|x| !x.is_nan()).collect();
    if points.len() < MIN_HISTORY {
        return None;
    }
    let center = median(&points)?;
    let mut scale = mad(&points)?;
    if scale == 0.0 {
        let mean_abs_dev = points.iter().map(|x| (x - center).abs()).sum::<f64>() / points.len() as f64;
        scale = MEAN_AD_TO_SIGMA * mean_abs_dev;
    }
    let scale = scale.max(ABSOLUTE_SCALE_FLOOR + RELATIVE_SCALE_FLOOR * center.abs());
    (center.is_finite() && scale.is_finite()).then_some(Baseline { center, scale })
}

/// Robust z-score of `value` against `history`:
/// `(value - median) / max(MAD, floors)`, see [`robust_baseline`] for the
/// floors. `None` when `history` has fewer than 3 non-NaN points.
pub fn robust_z(history: &[f64], value: f64) -> Option<f64> {
    Some(robust_baseline(history)?.z(value))
}

/// Baseline for `series[at]` from the points before it, honouring a season
/// of `period` buckets (7 for daily data with a weekly cycle; 1 for none,
/// which is exactly [`robust_baseline`] of `series[..at]`).
///
/// The season is multiplicative (traffic seasons scale with the level:
/// weekends at 60% of weekdays). Each phase's factor is the median of its
/// earlier points over the median of all earlier points. Every earlier
/// point is divided by the factor of its phase computed from the *other*
/// earlier points of that phase (1 when it is alone in its phase), and the
/// robust baseline of those de-seasonalised points is scaled back by `at`'s
/// phase factor (from all earlier points of the phase; 1 when none), so the
/// result is in the point's own units. Factors are 1 where they cannot be
/// trusted: an overall median of 0, or a non-positive ratio.
///
/// Why all phases rather than only the earlier points of `at`'s phase: the
/// center is still essentially the median of that phase, but the spread is
/// measured on every earlier point instead of 3 or 4. With so few, the MAD
/// is often near 0 and a normal Saturday scores |z| > 3 one time in ten
/// (measured on seeded series; see the calibration test). Why leave each
/// point out of its own factor: with 2 or 3 points a phase, a factor that
/// includes the point absorbs its noise, and the baseline's spread shrinks
/// to a fraction of the truth (|z| > 3 on a fifth of normal points).
///
/// Every earlier point counts: pass the window that should serve as
/// baseline (e.g. the last 4 to 8 periods), not a year of a growing series.
/// `None` when `at` is out of range, `period` is 0, or fewer than 3 earlier
/// non-NaN points exist.
pub fn seasonal_baseline(series: &[f64], period: usize, at: usize) -> Option<Baseline> {
    if period == 0 || at >= series.len() {
        return None;
    }
    let earlier = series.get(..at)?;
    if period == 1 {
        return robust_baseline(earlier);
    }
    let overall = median(earlier)?;
    let factor = |phase_median: Option<f64>| match phase_median {
        Some(m) if overall != 0.0 => {
            let f = m / overall;
            if f.is_finite() && f > 0.0 { f } else { 1.0 }
        }
        _ => 1.0,
    };
    // Sorted non-NaN values of each phase present before `at`.
    let mut phases: Vec<Vec<f64>> = vec![Vec::new(); period.min(at)];
    for (i, &x) in earlier.iter().enumerate() {
        if let Some(values) = phases.get_mut(i % period).filter(|_| !x.is_nan()) {
            values.push(x);
        }
    }
    let mut adjusted = Vec::with_capacity(at);
    for values in &mut phases {
        values.sort_by(f64::total_cmp);
        for (j, &x) in values.iter().enumerate() {
            adjusted.push(x / factor(median_without(values, j)));
        }
    }
    let base = robust_baseline(&adjusted)?;
    let own = factor(phases.get(at % period).and_then(|v| median(v)));
    Some(Baseline { center: base.center * own, scale: base.scale * own })
}

/// Median of sorted `values` without the element at position `skip`, in
/// O(1); `None` when nothing remains.
fn median_without(values: &[f64], skip: usize) -> Option<f64> {
    let remaining = values.len().checked_sub(1).filter(|&m| m > 0)?;
    let rank = |r: usize| values.get(if r < skip { r } else { r + 1 }).copied();
    if remaining % 2 == 1 { rank(remaining / 2) } else { Some(0.5 * (rank(remaining / 2 - 1)? + rank(remaining / 2)?)) }
}

/// Robust z-score of `series[at]` against its seasonal baseline (see
/// [`seasonal_baseline`]); `period = 1` means no seasonality. `None` when
/// there are fewer than 3 earlier points, `at` is out of range or `period`
/// is 0.
pub fn seasonal_robust_z(series: &[f64], period: usize, at: usize) -> Option<f64> {
    let value = *series.get(at)?;
    Some(seasonal_baseline(series, period, at)?.z(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::gauss::Gauss;

    #[test]
    fn spike_scores_high_and_normal_point_low() {
        let mut g = Gauss::new(7);
        let history = g.series(28, 100.0, 2.0);
        let spike = robust_z(&history, 130.0).unwrap();
        assert!(spike > 5.0, "spike z {spike}");
        let normal = robust_z(&history, 101.0).unwrap();
        assert!(normal.abs() < 2.0, "normal z {normal}");
        assert!(robust_z(&history, 70.0).unwrap() < -5.0, "drops are negative");
    }

    #[test]
    fn a_past_spike_in_the_history_does_not_hide_the_next() {
        let mut g = Gauss::new(8);
        let mut history = g.series(28, 100.0, 2.0);
        history[10] = 1_000.0;
        let z = robust_z(&history, 130.0).unwrap();
        assert!(z > 5.0, "z {z}");
        // A mean/sd score would not flag it: sd is about 170 with the spike.
        let m = crate::stats::SampleMoments::from_slice(&history).unwrap();
        assert!((130.0 - m.mean) / m.variance.sqrt() < 1.0);
    }

    #[test]
    fn flat_history_uses_the_floors() {
        let flat = [50.0; 10];
        // Floor 1e-9 + 0.5: same value scores 0, a 2% move scores 2.
        assert_eq!(robust_z(&flat, 50.0), Some(0.0));
        let z = robust_z(&flat, 51.0).unwrap();
        assert!((z - 1.0 / (1e-9 + 0.5)).abs() < 1e-9, "z {z}");
        let zeros = [0.0; 5];
        let z = robust_z(&zeros, 1.0).unwrap();
        assert!(z.is_finite() && z > 1e6, "zeros: z {z}");
        // MAD 0 but a varying minority: mean absolute deviation stands in.
        // [10 x6, 20, 30]: median 10, deviations sum 30 over 8 -> 3.75 · 1.253314.
        let mostly = [10.0, 10.0, 10.0, 20.0, 10.0, 10.0, 30.0, 10.0];
        let z = robust_z(&mostly, 20.0).unwrap();
        assert!((z - 10.0 / (3.75 * MEAN_AD_TO_SIGMA)).abs() < 1e-9, "z {z}");
    }

    #[test]
    fn too_short_history_is_none() {
        assert_eq!(robust_z(&[1.0, 2.0], 3.0), None);
        assert_eq!(robust_z(&[1.0, f64::NAN, 2.0], 3.0), None);
        assert_eq!(seasonal_robust_z(&[1.0, 2.0, 3.0], 1, 2), None);
        assert_eq!(seasonal_robust_z(&[1.0, 2.0, 3.0], 0, 2), None);
        assert_eq!(seasonal_robust_z(&[1.0, 2.0, 3.0], 1, 3), None);
    }

    /// Four weeks of daily traffic starting on a Monday: weekdays around
    /// 1000, weekends around 600, with 2% noise.
    fn weekly_traffic(seed: u64) -> Vec<f64> {
        let mut g = Gauss::new(seed);
        (0..28)
            .map(|day| {
                let level = if day % 7 >= 5 { 600.0 } else { 1000.0 };
                g.normal(level, 0.02 * level)
            })
            .collect()
    }

    #[test]
    fn seasonal_z_accepts_a_normal_saturday_and_flags_a_weekday_level_one() {
        let series = weekly_traffic(11);
        let saturday = 26; // weeks start Monday: day 5 + 3 · 7
        let z = seasonal_robust_z(&series, 7, saturday).unwrap();
        assert!(z.abs() < 3.0, "normal saturday z {z}");
        // Without seasonality the same Saturday looks like a collapse.
        let flat = robust_z(&series[..saturday], series[saturday]).unwrap();
        assert!(flat < -5.0, "non-seasonal z {flat}");
        // Period 1 is exactly the non-seasonal score.
        assert_eq!(seasonal_robust_z(&series, 1, saturday), Some(flat));

        let mut busy = series.clone();
        busy[saturday] = 1000.0;
        let z = seasonal_robust_z(&busy, 7, saturday).unwrap();
        assert!(z > 5.0, "weekday-level saturday z {z}");
    }

    #[test]
    fn young_series_is_handled_from_the_second_week() {
        // Week 2's Saturday has one earlier Saturday, week 3's has two.
        for (seed, saturday) in [(12, 12), (13, 19)] {
            let series = weekly_traffic(seed);
            let base = seasonal_baseline(&series, 7, saturday).unwrap();
            assert!((base.center - 600.0).abs() < 40.0, "expected {}", base.center);
            let z = seasonal_robust_z(&series, 7, saturday).unwrap();
            assert!(z.abs() < 3.0, "normal saturday {saturday}: z {z}");
            let flat = robust_z(&series[..saturday], series[saturday]).unwrap();
            assert!(flat < -5.0, "non-seasonal z {flat}");
            let mut busy = series.clone();
            busy[saturday] = 1000.0;
            let z = seasonal_robust_z(&busy, 7, saturday).unwrap();
            assert!(z > 5.0, "weekday-level saturday {saturday}: z {z}");
        }
    }

    #[test]
    fn median_without_skips_one_rank() {
        let v = [1.0, 2.0, 3.0, 10.0];
        assert_eq!(median_without(&v, 0), Some(3.0));
        assert_eq!(median_without(&v, 3), Some(2.0));
        assert_eq!(median_without(&[1.0, 5.0], 0), Some(5.0));
        assert_eq!(median_without(&[1.0, 5.0, 7.0], 1), Some(4.0));
        assert_eq!(median_without(&[1.0], 0), None);
    }

    #[test]
    fn normal_days_rarely_score_above_three() {
        // 100 seeded ten-week series with 5% noise, every day from the
        // second week on: how often is a normal day |z| > 3? For a well
        // calibrated score about 0.3%, a little more with short histories.
        // Judging each day by the earlier days of its own phase only (the
        // scale from 3 to 9 points) is the naive alternative.
        let (mut pooled, mut own_phase, mut days) = (0, 0, 0);
        for seed in 0..100 {
            let mut g = Gauss::new(1_000 + seed);
            let series: Vec<f64> = (0..70)
                .map(|day| {
                    let level = if day % 7 >= 5 { 600.0 } else { 1000.0 };
                    g.normal(level, 0.05 * level)
                })
                .collect();
            for at in 7..70 {
                days += 1;
                if seasonal_robust_z(&series, 7, at).unwrap().abs() > 3.0 {
                    pooled += 1;
                }
                let same: Vec<f64> = series[..at].iter().skip(at % 7).step_by(7).copied().collect();
                if robust_z(&same, series[at]).is_some_and(|z| z.abs() > 3.0) {
                    own_phase += 1;
                }
            }
        }
        let rate = |n: i32| f64::from(n) / f64::from(days);
        assert!(rate(pooled) < 0.025, "pooled false rate {}", rate(pooled));
        assert!(rate(own_phase) > 0.05, "own-phase false rate {}", rate(own_phase));
    }
}
