//! Change detection and root cause over signals.
//!
//! For every signal and every slice of the sessions (everyone, and each
//! value of each segment dimension with enough sessions), the split test
//! looks for the bucket after which the measure got worse and stayed worse
//! up to now: a two-proportion test for rates (its variance widened by the
//! overdispersion seen before the split, since real traffic is noisier than
//! a binomial), Welch's test on the logarithm for distributions. The p-value
//! is corrected for the splits tried (Bonferroni) and then for the slices
//! tried; only changes that are significant after both corrections and
//! large enough to matter become findings.
//!
//! Root cause: a slice explains a change when it holds most of the damage
//! (excess sessions beyond the baseline) and the damage is clearly denser
//! inside it than outside it. Among explaining slices the one where the
//! damage stands out most (excess / sqrt(units)) wins, and a second
//! dimension is added when the damage is much denser still where both hold
//! (Safari users *in Brazil*). When no slice explains the change, it is
//! everyone's.
//!
//! A CUSUM over the standardised per-bucket rate of everyone catches slow
//! drifts, where every bucket is only a little worse than the last.

use crate::detect::{Cusum, Direction};
use crate::features::{DIMS, Dataset};
use crate::signals::{Measure, Population, Signal, Values, population_members};
use crate::stats;
use serde::Serialize;
use std::collections::HashMap;

/// The thresholds of a pass. The defaults are chosen for the error rates
/// they give, not for any one scenario: see `docs/ai.md`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Family-wise false-alarm rate per signal, after the corrections for
    /// splits and slices.
    pub alpha: f64,
    /// Least share of the window before a split (the baseline).
    pub min_baseline: f64,
    /// Least sessions of a slice over the window for it to be tested.
    pub min_slice_units: f64,
    /// Least relative change: rates must move by this factor (up for bad
    /// rates, down for conversion), distributions' geometric means too.
    pub min_ratio: f64,
    /// The same for distributions (LCP): page speed varies more from day to
    /// day than a rate does, and only a clear slowdown is a friction.
    pub min_ratio_distribution: f64,
    /// Least sessions more (or fewer, for conversion) than the baseline
    /// rate predicts after the split.
    pub min_excess: f64,
    /// Least share of the damage (excess sessions, or excess log-time for
    /// page speed) a segment must hold to be named the root cause.
    pub root_cause_share: f64,
    /// CUSUM threshold, in standard deviations, for drifts of everyone.
    pub cusum_threshold: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            alpha: 1e-3,
            min_baseline: 0.25,
            min_slice_units: 60.0,
            min_ratio: 1.5,
            min_ratio_distribution: 2.0,
            min_excess: 8.0,
            root_cause_share: 0.6,
            cusum_threshold: 8.0,
        }
    }
}

/// One side of a split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Side {
    /// Sessions (rates) or observations (distributions).
    pub units: f64,
    /// The rate, or the geometric mean of the distribution.
    pub value: f64,
}

/// A change of one slice: where it starts and how sure we are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    /// First bucket of the worse regime.
    pub split: usize,
    pub before: Side,
    pub after: Side,
    /// Positive: worse.
    pub z: f64,
    /// One-sided, corrected for the splits tried.
    pub p: f64,
    /// after / before (rates: of the rates; distributions: of the geometric means).
    pub ratio: f64,
}

/// A (dimension, value) pair; a segment is a conjunction of them.
pub type Condition = (usize, u32);

/// A signal that got worse, for whom, and since when.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub signal: usize,
    /// Empty: everyone.
    pub segment: Vec<Condition>,
    pub change: Change,
    /// The same split on the sessions outside the segment.
    pub complement: Option<Change>,
    /// p of the segment's change corrected for the splits and the slices tried.
    pub p_corrected: f64,
    pub slices_tested: usize,
    /// The slices that held most of the damage, strongest first: why the
    /// segment was named (or why none was).
    pub candidates: Vec<Candidate>,
    pub detector: &'static str,
}

/// A slice considered for the root cause.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub segment: Vec<Condition>,
    /// Its share of the damage (excess inside over excess inside and outside).
    pub share: f64,
    /// Damage per unit inside it.
    pub density: f64,
    /// Damage per unit outside it.
    pub outside_density: f64,
    /// Excess over the square root of its units: how far the damage stands
    /// out in it.
    pub score: f64,
}

/// Per-bucket sums of one slice.
#[derive(Debug, Clone, Default)]
struct Series {
    /// Rates: sessions; distributions: observations.
    n: Vec<f64>,
    /// Rates: hits; distributions: sum of ln(value).
    s: Vec<f64>,
    /// Distributions: sum of ln(value)^2.
    ss: Vec<f64>,
}

impl Series {
    fn new(buckets: usize) -> Series {
        Series { n: vec![0.0; buckets], s: vec![0.0; buckets], ss: vec![0.0; buckets] }
    }

    fn total(&self) -> f64 {
        self.n.iter().sum()
    }

    fn minus(&self, other: &Series) -> Series {
        let sub = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).max(0.0)).collect();
        Series { n: sub(&self.n, &other.n), s: sub(&self.s, &other.s), ss: sub(&self.ss, &other.ss) }
    }
}

/// Slice numbering: 0 is everyone, then each (dimension, value).
struct Slices {
    offsets: Vec<usize>,
    count: usize,
}

impl Slices {
    fn new(data: &Dataset) -> Slices {
        let mut offsets = Vec::new();
        let mut next = 1;
        for d in 0..DIMS.len() {
            offsets.push(next);
            next += data.values[d].len();
        }
        Slices { offsets, count: next }
    }

    fn of(&self, dim: usize, value: u32) -> usize {
        self.offsets[dim] + value as usize - 1
    }

    fn condition(&self, slice: usize) -> Option<Condition> {
        let d = self.offsets.iter().rposition(|&o| o <= slice)?;
        (slice > 0).then(|| (d, (slice - self.offsets[d] + 1) as u32))
    }
}

fn in_segment(data: &Dataset, session: u32, segment: &[Condition]) -> bool {
    let dims = &data.sessions[session as usize].dims;
    segment.iter().all(|&(d, v)| dims[d] == v)
}

/// Adds `weight`-ed units of `session` to every slice it belongs to.
fn add(tables: &mut [Series], slices: &Slices, data: &Dataset, session: u32, n: f64, s: f64, ss: f64) {
    let sess = &data.sessions[session as usize];
    let b = sess.bucket as usize;
    let mut put = |i: usize| {
        tables[i].n[b] += n;
        tables[i].s[b] += s;
        tables[i].ss[b] += ss;
    };
    put(0);
    for (d, &v) in sess.dims.iter().enumerate() {
        if v != 0 {
            put(slices.of(d, v));
        }
    }
}

/// The analysis of one dataset: reusable population tables.
pub struct Analyzer<'a> {
    data: &'a Dataset,
    settings: Settings,
    slices: Slices,
    buckets: usize,
    populations: HashMap<Population, (Vec<u32>, Vec<Series>)>,
}

impl<'a> Analyzer<'a> {
    pub fn new(data: &'a Dataset, settings: Settings) -> Analyzer<'a> {
        let slices = Slices::new(data);
        let buckets = data.window().buckets;
        Analyzer { data, settings, slices, buckets, populations: HashMap::new() }
    }

    /// The sessions of a population (sorted).
    pub fn members(&mut self, population: Population) -> &[u32] {
        self.population(population);
        self.populations.get(&population).map(|(m, _)| m.as_slice()).unwrap_or(&[])
    }

    fn population(&mut self, population: Population) {
        if self.populations.contains_key(&population) {
            return;
        }
        let members = population_members(self.data, population);
        let mut tables = vec![Series::new(self.buckets); self.slices.count];
        for &s in &members {
            add(&mut tables, &self.slices, self.data, s, 1.0, 0.0, 0.0);
        }
        self.populations.insert(population, (members, tables));
    }

    /// Per-slice series of a signal.
    fn tables(&mut self, signal: &Signal) -> Vec<Series> {
        match &signal.values {
            Values::Rate { population, hits } => {
                self.population(*population);
                let mut tables = self.populations.get(population).map(|(_, t)| t.clone()).unwrap_or_default();
                for t in tables.iter_mut() {
                    t.s.iter_mut().for_each(|x| *x = 0.0);
                }
                for &h in hits {
                    add(&mut tables, &self.slices, self.data, h, 0.0, 1.0, 0.0);
                }
                tables
            }
            Values::Distribution(obs) => {
                let mut tables = vec![Series::new(self.buckets); self.slices.count];
                for &(s, v) in obs {
                    let l = v.ln();
                    add(&mut tables, &self.slices, self.data, s, 1.0, l, l * l);
                }
                tables
            }
        }
    }

    fn is_rate(signal: &Signal) -> bool {
        matches!(signal.values, Values::Rate { .. })
    }

    fn min_split(&self) -> usize {
        ((self.buckets as f64 * self.settings.min_baseline).ceil() as usize).max(3)
    }

    /// Whether `c` is large enough to matter.
    fn big_enough(&self, c: &Change, rate: bool, measure: Measure) -> bool {
        let r = if rate { self.settings.min_ratio } else { self.settings.min_ratio_distribution };
        let ratio_ok = if measure.higher_is_worse() { c.ratio >= r } else { c.ratio <= 1.0 / r };
        let excess = if rate { (c.after.value - c.before.value).abs() * c.after.units } else { c.after.units };
        ratio_ok && excess >= self.settings.min_excess
    }

    /// Finds what got worse in `signal`, for whom.
    pub fn analyze(&mut self, index: usize, signal: &Signal) -> Option<Finding> {
        let rate = Self::is_rate(signal);
        let worse_up = signal.measure.higher_is_worse();
        let tables = self.tables(signal);
        let min_split = self.min_split();
        let tested: Vec<usize> =
            (0..tables.len()).filter(|&i| tables[i].total() >= self.settings.min_slice_units).collect();
        if tested.is_empty() {
            return None;
        }
        let m = tested.len() as f64;
        let mut significant: Vec<(usize, Change)> = Vec::new();
        for &i in &tested {
            if let Some(c) = best_split(&tables[i], rate, worse_up, min_split)
                && c.p * m < self.settings.alpha
                && self.big_enough(&c, rate, signal.measure)
                && consistent(&tables[i], &c, worse_up)
            {
                significant.push((i, c));
            }
        }
        let finding =
            |segment: Vec<Condition>, change: Change, complement: Option<Change>, candidates, detector| Finding {
                signal: index,
                segment,
                change,
                complement,
                candidates,
                p_corrected: (change.p * m).min(1.0),
                slices_tested: tested.len(),
                detector,
            };
        // The split: everyone's when everyone changed, else the strongest
        // slice's; with no significant split, a slow drift of everyone's.
        let (lead, everyone, detector) = if significant.is_empty() {
            let c = self.drift(&tables[0], rate, signal.measure)?;
            (c, c, "cusum")
        } else {
            let lead = significant
                .iter()
                .find(|(i, _)| *i == 0)
                .or_else(|| significant.iter().max_by(|a, b| a.1.z.total_cmp(&b.1.z)))
                .map(|(_, c)| *c)?;
            let everyone = significant.iter().find(|(i, _)| *i == 0).map_or(lead, |(_, c)| *c);
            (lead, everyone, "split_test")
        };
        let k = lead.split;
        let base_value = before_value(&tables[0], k).unwrap_or(lead.before.value);
        let sign = if worse_up { 1.0 } else { -1.0 };
        let excess = |t: &Series| -> (f64, f64) {
            let (na, sa) = (t.n[k..].iter().sum::<f64>(), t.s[k..].iter().sum::<f64>());
            if na <= 0.0 {
                return (0.0, 0.0);
            }
            let before = before_value(t, k).unwrap_or(base_value);
            (sign * (sa / na - before) * na, na)
        };
        // Root cause: a slice explains the change when it holds most of the
        // damage and the damage is clearly denser inside it than outside
        // (so a change everyone shares is everyone's, however large a
        // slice). Among the slices that explain it, the one where the damage
        // stands out most (the scan statistic excess / sqrt(units)) wins: a
        // wider slice dilutes the damage, a narrower one misses part of it.
        let mut candidates: Vec<Candidate> = Vec::new();
        // Every slice may be the cause, not only those big enough to be
        // tested on their own: a failure on a rarely visited page is
        // found for everyone first, and Safari alone may be too few
        // sessions to test but still hold all of the damage.
        for i in 1..tables.len() {
            let Some(condition) = self.slices.condition(i) else { continue };
            let (e, n) = excess(&tables[i]);
            if e <= 0.0 || n < MIN_CANDIDATE_UNITS {
                continue;
            }
            let (outside_e, outside_n) = excess(&tables[0].minus(&tables[i]));
            // Nearly everyone (a dimension with one value) cannot be told
            // apart from everyone.
            if outside_n < MIN_CANDIDATE_UNITS {
                continue;
            }
            let outside = if outside_n > 0.0 { outside_e.max(0.0) / outside_n } else { 0.0 };
            candidates.push(Candidate {
                segment: vec![condition],
                share: e / (e + outside_e.max(0.0)),
                density: e / n,
                outside_density: outside,
                score: e / n.sqrt(),
            });
        }
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let base = candidates
            .iter()
            .find(|c| c.share >= self.settings.root_cause_share && c.density >= CONCENTRATION * c.outside_density)
            .map(|c| (c.segment[0], c.density));
        candidates.truncate(5);
        let Some((base, base_density)) = base else {
            return Some(finding(Vec::new(), everyone, None, candidates, detector));
        };
        let base_excess = excess(&tables[self.slices.of(base.0, base.1)]).0;
        let mut segment = vec![base];
        let mut density = base_density;
        for (i, table) in tables.iter().enumerate().skip(1) {
            let Some(cond) = self.slices.condition(i) else { continue };
            // The intersection holds no more damage than the slice does.
            if cond.0 == base.0 || excess(table).0 < 0.8 * base_excess {
                continue;
            }
            let (e, n) = excess(&self.segment_series(signal, &[base, cond]));
            if n >= MIN_CANDIDATE_UNITS && e >= 0.8 * base_excess && e / n >= CONCENTRATION * density {
                density = e / n;
                segment = vec![base, cond];
            }
        }
        let inside = self.segment_series(signal, &segment);
        let rest = self.segment_series(signal, &[]).minus(&inside);
        let comp = split_at(&rest, rate, worse_up, k);
        let change =
            split_at(&inside, rate, worse_up, k).or_else(|| across(&rest, &inside, rate, worse_up, k)).unwrap_or(lead);
        Some(finding(segment, change, comp, candidates, detector))
    }

    /// Every tested slice of `signal` with its best split, significant or
    /// not, strongest first: for `px ai run --explain` and for tuning.
    pub fn explain(&mut self, signal: &Signal) -> Vec<(String, Change)> {
        let rate = Self::is_rate(signal);
        let tables = self.tables(signal);
        let min_split = self.min_split();
        let mut out: Vec<(String, Change)> = (0..tables.len())
            .filter(|&i| tables[i].total() >= self.settings.min_slice_units)
            .filter_map(|i| {
                let c = best_split(&tables[i], rate, signal.measure.higher_is_worse(), min_split)?;
                let name = match self.slices.condition(i) {
                    Some((d, v)) => format!("{}={}", DIMS[d], self.data.dim_value(d, v).unwrap_or("?")),
                    None => "everyone".into(),
                };
                Some((name, c))
            })
            .collect();
        out.sort_by(|a, b| b.1.z.total_cmp(&a.1.z));
        out
    }

    /// The series of the sessions in `segment` (any number of conditions).
    fn segment_series(&self, signal: &Signal, segment: &[Condition]) -> Series {
        let mut out = Series::new(self.buckets);
        let data = self.data;
        let mut put = |s: u32, n: f64, v: f64, vv: f64| {
            if in_segment(data, s, segment) {
                let b = data.sessions[s as usize].bucket as usize;
                out.n[b] += n;
                out.s[b] += v;
                out.ss[b] += vv;
            }
        };
        match &signal.values {
            Values::Rate { population, hits } => {
                if let Some((members, _)) = self.populations.get(population) {
                    members.iter().for_each(|&s| put(s, 1.0, 0.0, 0.0));
                }
                hits.iter().for_each(|&s| put(s, 0.0, 1.0, 0.0));
            }
            Values::Distribution(obs) => obs.iter().for_each(|&(s, v)| put(s, 1.0, v.ln(), v.ln() * v.ln())),
        }
        out
    }

    /// A slow drift of everyone, found by CUSUM on the standardised rate.
    fn drift(&self, all: &Series, rate: bool, measure: Measure) -> Option<Change> {
        if !rate {
            return None;
        }
        let worse_up = measure.higher_is_worse();
        let warmup = self.min_split();
        let (n0, s0) = (all.n[..warmup].iter().sum::<f64>(), all.s[..warmup].iter().sum::<f64>());
        if n0 <= 0.0 {
            return None;
        }
        let p0 = (s0 / n0).clamp(1e-4, 1.0 - 1e-4);
        // Standardised with the baseline's overdispersion, as the split
        // test is: with the binomial variance alone, day-to-day noise of
        // real traffic adds up to a drift.
        let spread = dispersion(&all.n[..warmup], &all.s[..warmup]).sqrt();
        let z: Vec<f64> = all
            .n
            .iter()
            .zip(&all.s)
            .map(|(&n, &s)| if n > 0.0 { (s / n - p0) / (p0 * (1.0 - p0) / n).sqrt() / spread } else { 0.0 })
            .collect();
        let cusum = Cusum { slack: 0.5, threshold: self.settings.cusum_threshold };
        let cp = cusum.detect(&z, warmup)?;
        let worse = (cp.direction == Direction::Up) == worse_up;
        let c = split_at(all, rate, worse_up, cp.index.max(1))?;
        // The change point was chosen by looking at the data, so its p is
        // corrected for the splits it could have been, as the split test's is.
        let splits = (all.n.len() - warmup) as f64;
        let confirmed = c.p * splits < self.settings.alpha;
        (worse && confirmed && self.big_enough(&c, rate, measure)).then_some(c)
    }
}

/// Overdispersion of per-bucket rates around their pooled rate (Pearson's
/// chi-square over its degrees of freedom), at least 1 and at most 10.
fn dispersion(n: &[f64], s: &[f64]) -> f64 {
    let (tn, ts): (f64, f64) = (n.iter().sum(), s.iter().sum());
    let used: Vec<(f64, f64)> = n.iter().zip(s).filter(|(n, _)| **n > 0.0).map(|(a, b)| (*a, *b)).collect();
    if tn <= 0.0 || used.len() < 3 {
        return 1.0;
    }
    let p = ts / tn;
    if p <= 0.0 || p >= 1.0 {
        return 1.0;
    }
    let chi2: f64 = used.iter().map(|(n, s)| (s - n * p).powi(2) / (n * p * (1.0 - p))).sum();
    (chi2 / (used.len() - 1) as f64).clamp(1.0, 10.0)
}

/// How much denser the damage must be inside a segment than outside it for
/// the segment to be named.
const CONCENTRATION: f64 = 2.0;

/// Least units after the split for a slice to be named the cause, and
/// outside it for it to be told apart from everyone.
const MIN_CANDIDATE_UNITS: f64 = 10.0;

/// Least units before the split for a slice's own baseline to be trusted;
/// with fewer (a release that shipped just before the change) everyone's
/// baseline stands in.
const MIN_BASELINE_UNITS: f64 = 30.0;

/// The before-`split` value of a series (rate or mean log), when it has
/// enough data.
fn before_value(t: &Series, split: usize) -> Option<f64> {
    let (n, s) = (t.n[..split].iter().sum::<f64>(), t.s[..split].iter().sum::<f64>());
    (n >= MIN_BASELINE_UNITS).then(|| s / n)
}

/// The segment against everyone else after `split`, for a segment that did
/// not exist before it (a new release).
fn across(rest: &Series, inside: &Series, rate: bool, worse_up: bool, split: usize) -> Option<Change> {
    let b = rest.n.len();
    let pick = |t: &Series| {
        let mut x = Series::new(2);
        for i in split..b {
            x.n[0] += t.n[i];
            x.s[0] += t.s[i];
            x.ss[0] += t.ss[i];
        }
        x
    };
    let (r, i) = (pick(rest), pick(inside));
    let both = Series { n: vec![r.n[0], i.n[0]], s: vec![r.s[0], i.s[0]], ss: vec![r.ss[0], i.ss[0]] };
    split_at(&both, rate, worse_up, 1).map(|c| Change { split, ..c })
}

/// Whether a change holds in most buckets after the split rather than in
/// one: at least two thirds of them are worse than before.
fn consistent(t: &Series, c: &Change, worse_up: bool) -> bool {
    let before = if t.ss.iter().any(|&x| x != 0.0) { c.before.value.ln() } else { c.before.value };
    let after: Vec<f64> = (c.split..t.n.len()).filter(|&i| t.n[i] > 0.0).map(|i| t.s[i] / t.n[i]).collect();
    if after.len() < 2 {
        return true;
    }
    let worse = after.iter().filter(|&&v| if worse_up { v > before } else { v < before }).count();
    worse * 3 >= after.len() * 2
}

/// Overdispersion of per-bucket means before `split`: how much more they
/// vary than observations drawn independently would (between-bucket
/// variance over within-bucket variance), at least 1 and at most 10.
fn mean_dispersion(series: &Series, split: usize, mean: f64, variance: f64) -> f64 {
    let used: Vec<(f64, f64)> =
        (0..split).filter(|&i| series.n[i] >= 2.0).map(|i| (series.n[i], series.s[i] / series.n[i])).collect();
    if used.len() < 3 || variance <= 0.0 {
        return 1.0;
    }
    let between: f64 = used.iter().map(|(n, m)| n * (m - mean).powi(2)).sum();
    (between / variance / (used.len() - 1) as f64).clamp(1.0, 10.0)
}

/// The change at `split`: buckets before it against the buckets from it on.
fn split_at(series: &Series, rate: bool, worse_up: bool, split: usize) -> Option<Change> {
    let b = series.n.len();
    if split == 0 || split >= b {
        return None;
    }
    let sum = |v: &[f64], r: std::ops::Range<usize>| v[r].iter().sum::<f64>();
    let (nb, na) = (sum(&series.n, 0..split), sum(&series.n, split..b));
    // A handful of units before the split is no baseline (a release's
    // first stale clients, two page views of a new page): the tests' normal
    // approximations fail there, and a segment without history is compared
    // with everyone else instead (`across`).
    if nb < MIN_BASELINE_UNITS || na < 2.0 {
        return None;
    }
    let (sb, sa) = (sum(&series.s, 0..split), sum(&series.s, split..b));
    let sign = if worse_up { 1.0 } else { -1.0 };
    if rate {
        let t = stats::two_proportion_test(
            stats::Proportion { successes: sb, trials: nb },
            stats::Proportion { successes: sa, trials: na },
        )?;
        let z = sign * t.z / dispersion(&series.n[..split], &series.s[..split]).sqrt();
        let (pb, pa) = (sb / nb, sa / na);
        let ratio = if pb > 0.0 {
            pa / pb
        } else if pa > 0.0 {
            f64::INFINITY
        } else {
            1.0
        };
        Some(Change {
            split,
            before: Side { units: nb, value: pb },
            after: Side { units: na, value: pa },
            z,
            p: stats::normal_cdf(-z),
            ratio,
        })
    } else {
        let (ssb, ssa) = (sum(&series.ss, 0..split), sum(&series.ss, split..b));
        let (mb, ma) = (sb / nb, sa / na);
        let vb = ((ssb - nb * mb * mb) / (nb - 1.0)).max(1e-12);
        let va = ((ssa - na * ma * ma) / (na - 1.0)).max(1e-12);
        let z = sign * (ma - mb) / (vb / nb + va / na).sqrt() / mean_dispersion(series, split, mb, vb).sqrt();
        Some(Change {
            split,
            before: Side { units: nb, value: mb.exp() },
            after: Side { units: na, value: ma.exp() },
            z,
            p: stats::normal_cdf(-z),
            ratio: (ma - mb).exp(),
        })
    }
}

/// The split with the strongest worsening that lasts to the newest bucket,
/// its p corrected for the splits tried.
fn best_split(series: &Series, rate: bool, worse_up: bool, min_split: usize) -> Option<Change> {
    let b = series.n.len();
    let splits: Vec<Change> = (min_split..b).filter_map(|k| split_at(series, rate, worse_up, k)).collect();
    let tried = splits.len() as f64;
    let best = splits.into_iter().max_by(|a, b| a.z.total_cmp(&b.z))?;
    Some(Change { p: (best.p * tried).min(1.0), ..best })
}

/// The share of sessions in `segment`: used to describe findings.
pub fn segment_members(data: &Dataset, sessions: &[u32], segment: &[Condition]) -> Vec<u32> {
    sessions.iter().copied().filter(|&s| in_segment(data, s, segment)).collect()
}

#[cfg(test)]
mod tests;
