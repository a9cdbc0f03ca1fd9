//! Two-sided tabular CUSUM: lasting shifts of level, including slow drifts
//! no single point reveals.
//!
//! A 1-sigma shift never makes a point stand out to [`super::robust_z()`], yet
//! after ten days it is a real change in conversion or latency. CUSUM adds up
//! the small excesses over the in-control mean and alarms when the sum
//! passes a threshold (Page 1954; Montgomery, *Introduction to Statistical
//! Quality Control*, ch. 9). With the defaults (slack 0.5 sigma, threshold
//! 5 sigma) it finds a 1-sigma shift in about 10 points on average, and a
//! stationary series raises a false alarm about once in 465 points when its
//! mean and sigma are well known. From a short warmup they are not: with
//! 30 warmup points about half of stationary series alarm within the next
//! 170 (measured on seeded data). Callers alerting on many series should
//! use a longer warmup or a higher threshold (6 raises the in-control run
//! length to about 1200 points, for about 2 points more delay on a 1-sigma
//! shift).

use serde::Serialize;

use super::robust_z::robust_baseline;
use crate::stats::mean;

/// Which way the level moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// A detected shift of level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePoint {
    /// First point of the new regime: the estimated start of the change,
    /// which is what a person wants to line up with a release or campaign.
    pub index: usize,
    /// Point at which the statistic crossed the threshold: when the change
    /// became detectable. `alarm >= index`.
    pub alarm: usize,
    pub direction: Direction,
    /// Mean level before `index` (NaN points skipped).
    pub before: f64,
    /// Mean level from `index` to the end of the series (NaN points skipped).
    pub after: f64,
}

/// Tabular CUSUM settings, both in units of the in-control sigma.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cusum {
    /// Allowance `k` subtracted from every standardised deviation: shifts
    /// smaller than it are ignored. Half the shift worth detecting (0.5 for
    /// a 1-sigma shift) is the classic choice.
    pub slack: f64,
    /// Decision interval `h`: the sum must exceed it to alarm. Larger means
    /// fewer false alarms and slower detection.
    pub threshold: f64,
}

impl Default for Cusum {
    /// Slack 0.5, threshold 5: Montgomery's recommended pair for detecting
    /// a 1-sigma shift (two-sided in-control average run length about 465,
    /// about 10 for a 1-sigma shift).
    fn default() -> Cusum {
        Cusum { slack: 0.5, threshold: 5.0 }
    }
}

impl Cusum {
    /// Largest standardised deviation one point contributes, `slack +
    /// threshold / 2`: one point can fill at most half the threshold, so a
    /// single outlier (a bot burst, a logging glitch) never alarms on its
    /// own while a sustained shift still does. Points within it, which is
    /// nearly every point of a slow drift, count in full.
    pub fn clip(&self) -> f64 {
        self.slack + 0.5 * self.threshold
    }

    /// Two-sided tabular CUSUM over `series`, with the in-control mean and
    /// sigma estimated robustly (median/MAD, with the floors of
    /// [`robust_baseline`]) from the first `warmup` points. Monitoring starts
    /// at `warmup`; NaN points are skipped (they neither add nor reset).
    ///
    /// Returns the first alarm, with the change start estimated as the last
    /// point where the alarming sum was zero, plus one (the standard
    /// estimate). `None` when no alarm, when `warmup` has fewer than 3
    /// non-NaN points or leaves nothing to monitor, or when the settings are
    /// not finite with `slack >= 0` and `threshold > 0`.
    ///
    /// Deviation from the textbook chart: each standardised deviation is
    /// clipped to `±`[`Cusum::clip`] (a Huber-style guard), see there why.
    pub fn detect(&self, series: &[f64], warmup: usize) -> Option<ChangePoint> {
        let valid = self.slack.is_finite() && self.slack >= 0.0 && self.threshold.is_finite() && self.threshold > 0.0;
        if !valid || warmup >= series.len() {
            return None;
        }
        let base = robust_baseline(series.get(..warmup)?)?;
        let clip = self.clip();
        // Sums and the index of their last zero, starting as if zero just
        // before monitoring began.
        let (mut up, mut down) = (0.0_f64, 0.0_f64);
        let (mut up_zero, mut down_zero) = (warmup - 1, warmup - 1);
        for (t, &x) in series.iter().enumerate().skip(warmup) {
            if x.is_nan() {
                continue;
            }
            let z = base.z(x).clamp(-clip, clip);
            up = (up + z - self.slack).max(0.0);
            down = (down - z - self.slack).max(0.0);
            if up == 0.0 {
                up_zero = t;
            }
            if down == 0.0 {
                down_zero = t;
            }
            let hit = if up > self.threshold {
                Some((Direction::Up, up_zero + 1))
            } else if down > self.threshold {
                Some((Direction::Down, down_zero + 1))
            } else {
                None
            };
            if let Some((direction, index)) = hit {
                debug_assert!(index <= t);
                return Some(ChangePoint {
                    index,
                    alarm: t,
                    direction,
                    before: mean(series.get(..index)?)?,
                    after: mean(series.get(index..)?)?,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::gauss::Gauss;

    #[test]
    fn one_sigma_shift_is_found_near_its_start() {
        let mut g = Gauss::new(21);
        let mut series = g.series(40, 10.0, 1.0);
        series.extend(g.series(20, 11.0, 1.0));
        let cp = Cusum::default().detect(&series, 30).unwrap();
        assert_eq!(cp.direction, Direction::Up);
        assert!(cp.alarm >= 40, "alarm {} before the shift", cp.alarm);
        assert!(cp.index.abs_diff(40) <= 4, "start {}", cp.index);
        assert!(cp.index <= cp.alarm);
        assert!(cp.after - cp.before > 0.5, "{} -> {}", cp.before, cp.after);
    }

    #[test]
    fn downward_drift_is_found() {
        // A slow drift right after the warmup: -0.1 sigma per point, so the
        // level is only 1 sigma down after 10 points and no single point
        // stands out for a while; the sum does.
        let mut g = Gauss::new(22);
        let series: Vec<f64> = (0..100)
            .map(|i| {
                let drift = if i >= 40 { -0.1 * f64::from(i - 40) } else { 0.0 };
                g.normal(10.0 + drift, 1.0)
            })
            .collect();
        let cp = Cusum::default().detect(&series, 40).unwrap();
        assert_eq!(cp.direction, Direction::Down);
        assert!(cp.alarm > 40 && cp.alarm < 70, "alarm {}", cp.alarm);
        assert!(cp.after < cp.before);
    }

    /// Run length of the default chart on seeded N(0, 1) points after a
    /// warmup long enough that mean and sigma are known, with the mean
    /// shifted by `shift` sigma from the first monitored point; `cap` when
    /// no alarm within `cap` points.
    fn run_length(seed: u64, shift: f64, cap: usize) -> f64 {
        const WARMUP: usize = 1_000;
        let mut g = Gauss::new(seed);
        let mut series = g.series(WARMUP, 0.0, 1.0);
        series.extend(g.series(cap, shift, 1.0));
        Cusum::default().detect(&series, WARMUP).map_or(cap as f64, |cp| (cp.alarm - WARMUP + 1) as f64)
    }

    #[test]
    fn average_run_lengths_match_the_published_table() {
        // Montgomery, Table 9.3 (k = 0.5, h = 5, two-sided): ARL 465 in
        // control, 10.4 for a 1-sigma shift. Run lengths are roughly
        // geometric, so 300 runs give a standard error near 27 and 0.5.
        // Caps: P(in-control run > 3000) is about 0.002, a 1-sigma run
        // over 200 is negligible.
        let runs = 300;
        let arl0 = (0..runs).map(|s| run_length(s, 0.0, 3_000)).sum::<f64>() / runs as f64;
        assert!((380.0..560.0).contains(&arl0), "in-control ARL {arl0}");
        let arl1 = (0..runs).map(|s| run_length(s, 1.0, 200)).sum::<f64>() / runs as f64;
        assert!((9.0..12.0).contains(&arl1), "1-sigma ARL {arl1}");
    }

    #[test]
    fn a_single_outlier_does_not_alarm() {
        let mut g = Gauss::new(24);
        let mut series = g.series(80, 10.0, 1.0);
        assert_eq!(Cusum::default().detect(&series, 30), None);
        series[50] = 60.0; // fifty sigma
        assert_eq!(Cusum::default().detect(&series, 30), None);
        // Without the clip the textbook chart alarms on it at once.
        let mut sum = 0.0_f64;
        let base = robust_baseline(&series[..30]).unwrap();
        for &x in &series[30..=50] {
            sum = (sum + base.z(x) - 0.5).max(0.0);
        }
        assert!(sum > 5.0);
    }

    #[test]
    fn a_sustained_jump_alarms_within_three_points() {
        let mut g = Gauss::new(25);
        let mut series = g.series(40, 10.0, 1.0);
        series.extend(std::iter::repeat_n(30.0, 10));
        let cp = Cusum::default().detect(&series, 30).unwrap();
        assert_eq!(cp.direction, Direction::Up);
        // Each point adds at most clip - slack = 2.5, so from a zero sum
        // the third point alarms; a sum already positive can make it sooner.
        assert!((40..=42).contains(&cp.alarm), "alarm {}", cp.alarm);
        // The start is the last zero of the sum + 1; noise just before the
        // jump can pull it a few points early, never late.
        assert!((36..=40).contains(&cp.index), "start {}", cp.index);
    }

    #[test]
    fn refuses_what_it_cannot_judge() {
        let series = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(Cusum::default().detect(&series, 2), None, "warmup too short");
        assert_eq!(Cusum::default().detect(&series, 4), None, "nothing to monitor");
        let bad = Cusum { slack: 0.5, threshold: f64::NAN };
        assert_eq!(bad.detect(&[1.0; 10], 5), None);
    }

    #[test]
    fn direction_serialises_lowercase() {
        let json = serde_json::to_string(&Direction::Down).unwrap();
        assert_eq!(json, "\"down\"");
    }
}
