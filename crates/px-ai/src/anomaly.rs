//! Anomalies: changes that are not frictions by themselves. A traffic spike
//! or drop is found with a robust z-score of the newest bucket's sessions
//! against a seasonal baseline (same weekday when there is history for it);
//! an unusual newest bucket across many measures at once is found with an
//! isolation forest over per-bucket feature vectors.

use crate::analyze::{Condition, segment_members};
use crate::detect::{IsolationForest, robust_z, seasonal_robust_z};
use crate::features::{DIMS, Dataset};
use crate::stats;
use px_core::time::MICROS_PER_DAY;
use serde::Serialize;

/// Dimensions a traffic change is attributed to: where visitors come from.
const TRAFFIC_DIMS: [&str; 3] = ["source", "country", "device_type"];
/// A traffic change must be this extreme...
const TRAFFIC_Z: f64 = 6.0;
/// ...and this large: ×1.6 up, or below half.
const SPIKE_RATIO: f64 = 1.6;
const DROP_RATIO: f64 = 0.5;
/// ...by at least this many sessions.
const MIN_SESSIONS: f64 = 50.0;
/// A slice's complement with a |z| under this did not change.
const COMPLEMENT_Z: f64 = 3.0;
/// Isolation-forest score from which the newest bucket is anomalous, and
/// the features that must each be this many robust deviations away.
const FOREST_SCORE: f64 = 0.75;
const FOREST_FEATURE_Z: f64 = 6.0;

#[derive(Debug, Clone, Serialize)]
pub struct TrafficChange {
    pub kind: &'static str,
    pub segment: Vec<Condition>,
    pub sessions: f64,
    pub baseline: f64,
    pub z: f64,
    /// Conversion of each step in the newest bucket against before it: a
    /// spike with unchanged conversion is an anomaly, not a friction.
    pub conversions: Vec<serde_json::Value>,
}

fn counts(data: &Dataset, segment: &[Condition]) -> Vec<f64> {
    let mut out = vec![0.0; data.window().buckets];
    for s in &data.sessions {
        if segment.iter().all(|&(d, v)| s.dims[d] == v) {
            out[s.bucket as usize] += 1.0;
        }
    }
    out
}

/// Buckets per week, when the bucket divides a week; 1 otherwise.
fn season(data: &Dataset) -> usize {
    let b = data.window().bucket;
    if b > 0 && (7 * MICROS_PER_DAY) % b == 0 { ((7 * MICROS_PER_DAY) / b) as usize } else { 1 }
}

fn z_of(series: &[f64], period: usize) -> Option<(f64, f64)> {
    let last = series.len().checked_sub(1)?;
    let z = seasonal_robust_z(series, period, last)?;
    let base = stats::median(&series[..last])?;
    Some((z, base))
}

/// A traffic spike or drop in the newest bucket, and where it comes from.
pub fn traffic(data: &Dataset) -> Option<TrafficChange> {
    // Weekly seasonality needs two weeks of history to be estimated.
    let period = if data.window().buckets > 2 * season(data) { season(data) } else { 1 };
    let all = counts(data, &[]);
    let (z, base) = z_of(&all, period)?;
    let last = *all.last()?;
    let kind = if z >= TRAFFIC_Z && last >= base * SPIKE_RATIO && last - base >= MIN_SESSIONS {
        "traffic_spike"
    } else if z <= -TRAFFIC_Z && last <= base * DROP_RATIO && base - last >= MIN_SESSIONS {
        "traffic_drop"
    } else {
        return None;
    };
    let up = kind == "traffic_spike";
    let mut best: Option<(f64, Condition)> = None;
    for dim in TRAFFIC_DIMS {
        let Some(d) = DIMS.iter().position(|x| *x == dim) else { continue };
        for v in 1..=data.values[d].len() as u32 {
            let inside = counts(data, &[(d, v)]);
            let rest: Vec<f64> = all.iter().zip(&inside).map(|(a, b)| a - b).collect();
            let (Some((zi, _)), Some((zr, _))) = (z_of(&inside, period), z_of(&rest, period)) else { continue };
            let signed = if up { zi } else { -zi };
            if signed >= TRAFFIC_Z && zr.abs() < COMPLEMENT_Z && best.is_none_or(|(b, _)| signed > b) {
                best = Some((signed, (d, v)));
            }
        }
    }
    let segment: Vec<Condition> = best.map(|(_, c)| vec![c]).unwrap_or_default();
    Some(TrafficChange { kind, segment, sessions: last, baseline: base, z, conversions: conversions(data) })
}

fn conversions(data: &Dataset) -> Vec<serde_json::Value> {
    let last = data.window().buckets.saturating_sub(1);
    data.pairs
        .iter()
        .map(|&(started, completed)| {
            let (mut before, mut after) = ((0.0, 0.0), (0.0, 0.0));
            for s in &data.sessions {
                if s.steps & (1 << started) == 0 {
                    continue;
                }
                let done = if s.steps & (1 << completed) != 0 { 1.0 } else { 0.0 };
                let side = if s.bucket as usize == last { &mut after } else { &mut before };
                side.0 += done;
                side.1 += 1.0;
            }
            let test = stats::two_proportion_test(
                stats::Proportion { successes: before.0, trials: before.1 },
                stats::Proportion { successes: after.0, trials: after.1 },
            );
            serde_json::json!({
                "step": data.key_events[completed],
                "before": (before.1 > 0.0).then(|| before.0 / before.1),
                "now": (after.1 > 0.0).then(|| after.0 / after.1),
                "p_value": test.map(|t| t.p_value),
            })
        })
        .collect()
}

/// An unusual newest bucket across many measures at once.
#[derive(Debug, Clone, Serialize)]
pub struct BucketAnomaly {
    pub score: f64,
    /// (feature, robust z of the newest bucket), most extreme first.
    pub features: Vec<(String, f64)>,
}

/// Per bucket: sessions, conversion of each step, share of sessions with an
/// error, with a rage click, bouncing, and leaving feedback.
fn bucket_features(data: &Dataset) -> (Vec<String>, Vec<Vec<f64>>) {
    let b = data.window().buckets;
    let mut names = vec!["sessions".to_string()];
    let mut cols: Vec<Vec<f64>> = vec![counts(data, &[])];
    let all = &cols[0].clone();
    for &(started, completed) in &data.pairs {
        let (mut k, mut n) = (vec![0.0; b], vec![0.0; b]);
        for s in &data.sessions {
            if s.steps & (1 << started) != 0 {
                n[s.bucket as usize] += 1.0;
                if s.steps & (1 << completed) != 0 {
                    k[s.bucket as usize] += 1.0;
                }
            }
        }
        names.push(format!("conversion to {}", data.key_events[completed]));
        cols.push(k.iter().zip(&n).map(|(k, n)| if *n > 0.0 { k / n } else { 0.0 }).collect());
    }
    let share = |sessions: &mut dyn Iterator<Item = u32>| {
        let mut seen = vec![false; data.sessions.len()];
        let mut v = vec![0.0; b];
        for s in sessions {
            if !std::mem::replace(&mut seen[s as usize], true) {
                v[data.sessions[s as usize].bucket as usize] += 1.0;
            }
        }
        v.iter().zip(all).map(|(x, n)| if *n > 0.0 { x / n } else { 0.0 }).collect::<Vec<f64>>()
    };
    names.push("sessions with an error".into());
    cols.push(share(&mut data.errors.iter().map(|e| e.session)));
    names.push("sessions with a rage click".into());
    cols.push(share(&mut data.clicks.iter().map(|c| c.session)));
    names.push("sessions that bounced".into());
    cols.push(share(&mut (0..data.sessions.len() as u32).filter(|&s| data.sessions[s as usize].bounced)));
    names.push("sessions leaving feedback".into());
    cols.push(share(&mut data.feedback.iter().map(|f| f.session)));
    (names, cols)
}

/// Scores the newest bucket against the others with an isolation forest
/// over robustly standardised features.
pub fn newest_bucket(data: &Dataset, seed: u64) -> Option<BucketAnomaly> {
    let b = data.window().buckets;
    let used: Vec<usize> = (0..b).filter(|&i| data.sessions.iter().any(|s| s.bucket as usize == i)).collect();
    if used.len() < 8 {
        return None;
    }
    let (names, cols) = bucket_features(data);
    let last = *used.last()?;
    let mut zs = Vec::new();
    let mut points = vec![Vec::with_capacity(cols.len()); used.len()];
    for (name, col) in names.iter().zip(&cols) {
        let history: Vec<f64> = used.iter().filter(|&&i| i != last).map(|&i| col[i]).collect();
        let med = stats::median(&history).unwrap_or(0.0);
        let scale = stats::mad(&history).filter(|m| *m > 1e-9).unwrap_or(1.0);
        for (p, &i) in points.iter_mut().zip(&used) {
            p.push((col[i] - med) / scale);
        }
        if let Some(z) = robust_z(&history, col[last]) {
            zs.push((name.clone(), z));
        }
    }
    let forest = IsolationForest::fit(&points, 100, 256, seed);
    let score = forest.score(points.last()?);
    zs.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    Some(BucketAnomaly { score, features: zs })
}

impl BucketAnomaly {
    /// Whether this is worth an insight of its own: a high forest score and
    /// at least two measures far out.
    pub fn is_anomalous(&self) -> bool {
        self.score >= FOREST_SCORE && self.features.iter().filter(|(_, z)| z.abs() >= FOREST_FEATURE_Z).count() >= 2
    }
}

/// Sessions of the newest bucket in `segment`.
pub fn newest_sessions(data: &Dataset, segment: &[Condition]) -> Vec<u32> {
    let last = data.window().buckets.saturating_sub(1);
    let recent: Vec<u32> =
        (0..data.sessions.len() as u32).filter(|&s| data.sessions[s as usize].bucket as usize == last).collect();
    segment_members(data, &recent, segment)
}
