//! Isolation forest (Liu, Ting & Zhou, 2008) over multi-feature vectors.
//!
//! Why: a session with many clicks is normal and a short session is normal,
//! but many clicks in a very short session (rage clicks, a bot) is not. The
//! forest finds such rare combinations without labels or distribution
//! assumptions, in linear time: anomalies are isolated by few random
//! axis-aligned cuts, so their average path in random trees is short.
//! Features are used as given; scaling them is unnecessary, since cut points
//! are drawn within each feature's own range.

use rand::seq::index::sample as sample_indices;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Trees in a forest when `fit` is given 0: path lengths converge well
/// before 100 trees (Liu et al., section 4).
pub const DEFAULT_TREES: usize = 100;
/// Points per tree when `fit` is given 0: larger samples add cost, not
/// accuracy, and small ones keep clustered anomalies from masking each other.
pub const DEFAULT_SAMPLE: usize = 256;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// `c(n)`: average path length of an unsuccessful search in a binary search
/// tree of `n` points, `2 H(n - 1) - 2 (n - 1) / n`. It normalises path
/// lengths (the score's denominator) and stands in for the subtree below a
/// leaf that the height limit left unsplit.
fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        _ => {
            let m = (n - 1) as f64;
            2.0 * harmonic(n - 1) - 2.0 * m / n as f64
        }
    }
}

/// `H(k) = 1 + 1/2 + ... + 1/k`: exact sum for small `k`, the asymptotic
/// expansion (error below 1e-13) beyond.
fn harmonic(k: usize) -> f64 {
    if k <= 64 {
        (1..=k).map(|i| 1.0 / i as f64).sum()
    } else {
        let k = k as f64;
        let k2 = k * k;
        k.ln() + EULER_GAMMA + 1.0 / (2.0 * k) - 1.0 / (12.0 * k2) + 1.0 / (120.0 * k2 * k2)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// `size` training points ended here.
    Leaf { size: usize },
    /// Points with `feature < threshold` go left, others (NaN included) right.
    Split { feature: usize, threshold: f64, left: usize, right: usize },
}

/// One isolation tree, nodes in an arena; the root is node 0.
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

/// Feature `f` of `point`; a missing feature reads as NaN.
fn feature(point: &[f64], f: usize) -> f64 {
    point.get(f).copied().unwrap_or(f64::NAN)
}

/// Grows trees from one sample.
struct Builder<'a> {
    points: &'a [Vec<f64>],
    dims: usize,
    height_limit: usize,
    rng: &'a mut ChaCha8Rng,
    nodes: Vec<Node>,
}

impl Builder<'_> {
    /// Grows the subtree over `idx` and returns its node id.
    fn grow(&mut self, idx: &mut [usize], depth: usize) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node::Leaf { size: idx.len() });
        if depth >= self.height_limit || idx.len() <= 1 {
            return id;
        }
        // Only features that vary here can separate anything.
        let ranges: Vec<(usize, f64, f64)> = (0..self.dims)
            .filter_map(|f| {
                let (lo, hi) = idx
                    .iter()
                    .map(|&i| self.points.get(i).map_or(f64::NAN, |p| feature(p, f)))
                    .filter(|v| !v.is_nan())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                (lo < hi && (hi - lo).is_finite()).then_some((f, lo, hi))
            })
            .collect();
        if ranges.is_empty() {
            return id;
        }
        let (f, lo, hi) = ranges[self.rng.random_range(0..ranges.len())];
        let mut threshold = lo + self.rng.random::<f64>() * (hi - lo);
        let goes_left = |i: &usize, t: f64| feature(&self.points[*i], f) < t;
        let mut left_len = idx.iter().filter(|i| goes_left(i, threshold)).count();
        if left_len == 0 || left_len == idx.len() {
            // A draw at the very bottom of the range (or rounding) cut off
            // nothing; the midpoint always separates when it is representable.
            threshold = lo + 0.5 * (hi - lo);
            left_len = idx.iter().filter(|i| goes_left(i, threshold)).count();
            if left_len == 0 || left_len == idx.len() {
                return id;
            }
        }
        // Partition in place: left part first.
        let mut next = 0;
        for k in 0..idx.len() {
            if goes_left(&idx[k], threshold) {
                idx.swap(k, next);
                next += 1;
            }
        }
        debug_assert_eq!(next, left_len);
        let (left_idx, right_idx) = idx.split_at_mut(left_len);
        let left = self.grow(left_idx, depth + 1);
        let right = self.grow(right_idx, depth + 1);
        self.nodes[id] = Node::Split { feature: f, threshold, left, right };
        id
    }
}

impl Tree {
    /// `h(x)`: edges from the root to `point`'s leaf, plus `c(size)` for the
    /// points the leaf left unseparated.
    fn path_length(&self, point: &[f64]) -> f64 {
        let mut id = 0;
        let mut depth = 0.0;
        while let Some(node) = self.nodes.get(id) {
            match *node {
                Node::Leaf { size } => return depth + average_path_length(size),
                Node::Split { feature: f, threshold, left, right } => {
                    id = if feature(point, f) < threshold { left } else { right };
                    depth += 1.0;
                }
            }
        }
        depth
    }
}

/// A fitted isolation forest. Immutable after `fit`, so one forest can
/// score from many threads.
#[derive(Debug, Clone, PartialEq)]
pub struct IsolationForest {
    trees: Vec<Tree>,
    /// `c(sample)`, the expected path length the scores are normalised by.
    normaliser: f64,
}

impl IsolationForest {
    /// Fits `trees` trees (0 means [`DEFAULT_TREES`]), each on `sample`
    /// points drawn without replacement (0 means [`DEFAULT_SAMPLE`]; capped
    /// at `points.len()`), grown to height `ceil(log2(sample))` as in the
    /// paper. Deterministic given `seed` (ChaCha8), so a finding can be
    /// reproduced and explained later.
    ///
    /// Points should share one length; a missing or NaN feature is never
    /// used to place a cut and is routed to the right of every cut.
    pub fn fit(points: &[Vec<f64>], trees: usize, sample: usize, seed: u64) -> IsolationForest {
        let trees = if trees == 0 { DEFAULT_TREES } else { trees };
        let sample = if sample == 0 { DEFAULT_SAMPLE } else { sample }.min(points.len());
        let dims = points.iter().map(Vec::len).max().unwrap_or(0);
        let height_limit = sample.max(2).next_power_of_two().trailing_zeros() as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut forest = Vec::with_capacity(if sample == 0 { 0 } else { trees });
        if sample > 0 {
            for _ in 0..trees {
                let mut idx = sample_indices(&mut rng, points.len(), sample).into_vec();
                let mut builder = Builder { points, dims, height_limit, rng: &mut rng, nodes: Vec::new() };
                builder.grow(&mut idx, 0);
                forest.push(Tree { nodes: builder.nodes });
            }
        }
        IsolationForest { trees: forest, normaliser: average_path_length(sample) }
    }

    /// Anomaly score in (0, 1) from Liu et al. 2008: `2^(-E[h(x)] / c(n))`.
    /// About 0.5 or below is normal; near 1 means isolated by very few cuts
    /// (anomalous). A forest fitted on fewer than 2 points knows nothing and
    /// scores everything 0.5.
    pub fn score(&self, point: &[f64]) -> f64 {
        if self.trees.is_empty() || self.normaliser <= 0.0 {
            return 0.5;
        }
        let total: f64 = self.trees.iter().map(|t| t.path_length(point)).sum();
        let mean_path = total / self.trees.len() as f64;
        (-mean_path / self.normaliser).exp2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::gauss::Gauss;

    fn cluster(seed: u64, n: usize) -> Vec<Vec<f64>> {
        let mut g = Gauss::new(seed);
        (0..n).map(|_| vec![g.normal(0.0, 1.0), g.normal(0.0, 1.0)]).collect()
    }

    #[test]
    fn far_point_scores_high_and_centre_low() {
        let points = cluster(41, 500);
        let forest = IsolationForest::fit(&points, 100, 256, 7);
        let far = forest.score(&[8.0, 8.0]);
        let centre = forest.score(&[0.0, 0.0]);
        assert!(far > 0.65, "far {far}");
        assert!(centre < 0.5, "centre {centre}");
        // Rarer in combination only: each coordinate of [2.5, -2.5] is a
        // plausible value, yet the pair sits at the edge of the cloud.
        assert!(forest.score(&[2.5, -2.5]) > centre);
    }

    #[test]
    fn same_seed_same_forest_other_seed_other_forest() {
        let points = cluster(42, 300);
        let a = IsolationForest::fit(&points, 50, 128, 99);
        let b = IsolationForest::fit(&points, 50, 128, 99);
        assert_eq!(a, b);
        assert_eq!(a.score(&[3.0, 1.0]), b.score(&[3.0, 1.0]));
        let c = IsolationForest::fit(&points, 50, 128, 100);
        assert_ne!(a.score(&[3.0, 1.0]), c.score(&[3.0, 1.0]));
    }

    #[test]
    fn path_length_normaliser_matches_the_paper() {
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // c(256) = 2 H(255) - 2 · 255/256 = 12.240878 - 1.992188 = 10.248690
        // (the paper's H(i) ≈ ln i + γ gives 10.2448; the exact sum is used).
        assert!((average_path_length(256) - 10.248_690).abs() < 1e-6);
        // Asymptotic harmonic agrees with the exact sum where they meet.
        let exact: f64 = (1..=65).map(|i| 1.0 / f64::from(i)).sum();
        assert!((harmonic(65) - exact).abs() < 1e-12);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let empty = IsolationForest::fit(&[], 10, 10, 1);
        assert_eq!(empty.score(&[1.0]), 0.5);
        let one = IsolationForest::fit(&[vec![1.0, 2.0]], 10, 10, 1);
        assert_eq!(one.score(&[5.0, 5.0]), 0.5);
        // All points equal: nothing can be split, every point is typical.
        let same = vec![vec![1.0, 1.0]; 50];
        let forest = IsolationForest::fit(&same, 10, 0, 1);
        // Every tree is one leaf of all the points: h = c(n), score 2^-1.
        for point in [[1.0, 1.0], [9.0, 9.0]] {
            assert!((forest.score(&point) - 0.5).abs() < 1e-12);
        }
        // Ragged and NaN features are tolerated.
        let ragged = vec![vec![1.0], vec![2.0, f64::NAN], vec![3.0, 4.0], vec![0.5, 1.0]];
        let forest = IsolationForest::fit(&ragged, 10, 0, 1);
        assert!(forest.score(&[f64::NAN]).is_finite());
    }
}
