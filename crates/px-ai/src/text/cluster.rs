//! Weighted spherical k-means with k chosen by silhouette.
//!
//! Points are unit vectors (cosine similarity is a dot product) with a
//! weight: the number of feedbacks sharing a text, so 10,000 feedbacks with
//! 200 distinct texts cost 200 points. Points are stored sparse because
//! TF-IDF rows have a dozen non-zeros among thousands of features; a dense
//! embedding simply has all of them.
//!
//! Why these choices: spherical k-means is the standard for text vectors;
//! k-means++ seeding and several restarts avoid poor local optima; all
//! randomness comes from a ChaCha stream seeded per (seed, k, restart) so a
//! run is reproducible. The silhouette (Rousseeuw, 1987) picks k without a
//! threshold to tune, and with cosine distance it needs no distance matrix:
//! the weighted mean distance from `x` to cluster `C` is
//! `(W_C - x·S_C) / W_C` where `S_C` is the weighted sum of `C`'s vectors, so
//! scoring one k costs `n × k × nnz` like one k-means iteration.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A sparse unit vector: `(dimension, value)`.
pub(crate) type Point = Vec<(u32, f32)>;

/// Points to cluster, each a sparse unit vector with a positive weight.
pub(crate) struct Points {
    pub rows: Vec<Point>,
    pub weights: Vec<f64>,
    pub dim: usize,
}

/// The outcome of one clustering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clustering {
    /// Cluster of each point.
    pub assignment: Vec<usize>,
    /// Unit centroids (dense); a cluster may be empty.
    pub centroids: Vec<Vec<f32>>,
    /// Weighted silhouette of `assignment`, in [-1, 1]; 0 for k = 1.
    pub silhouette: f64,
}

const RESTARTS: u64 = 5;
const MAX_ITERATIONS: usize = 50;

fn dot(p: &Point, dense: &[f32]) -> f64 {
    p.iter().map(|&(i, v)| f64::from(v) * f64::from(dense.get(i as usize).copied().unwrap_or(0.0))).sum()
}

/// Index of the centroid most similar to `p` (first on ties) and the
/// similarity.
fn nearest(p: &Point, centroids: &[Vec<f32>]) -> (usize, f64) {
    let mut best = (0, f64::NEG_INFINITY);
    for (c, centroid) in centroids.iter().enumerate() {
        let s = dot(p, centroid);
        if s > best.1 {
            best = (c, s);
        }
    }
    best
}

fn normalize(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if norm <= f64::EPSILON {
        return false;
    }
    for x in v.iter_mut() {
        *x = (f64::from(*x) / norm) as f32;
    }
    true
}

fn densify(p: &Point, dim: usize) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    for &(i, x) in p {
        v[i as usize] = x;
    }
    v
}

/// SplitMix64 finaliser: decorrelates the seeds of neighbouring (k, restart).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Picks an index with probability proportional to `scores` (all >= 0);
/// `None` when they sum to zero.
fn pick(rng: &mut ChaCha8Rng, scores: &[f64]) -> Option<usize> {
    let total: f64 = scores.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let mut target = rng.random::<f64>() * total;
    for (i, s) in scores.iter().enumerate() {
        if *s > 0.0 && target < *s {
            return Some(i);
        }
        target -= s;
    }
    scores.iter().rposition(|s| *s > 0.0)
}

/// Weighted k-means++ seeding on cosine distance.
fn seed_centroids(points: &Points, k: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    let mut centroids = Vec::with_capacity(k);
    let Some(first) = pick(rng, &points.weights) else { return centroids };
    centroids.push(densify(&points.rows[first], points.dim));
    let mut distance: Vec<f64> = points.rows.iter().map(|p| (1.0 - dot(p, &centroids[0])).max(0.0)).collect();
    while centroids.len() < k {
        let scores: Vec<f64> = distance.iter().zip(&points.weights).map(|(d, w)| w * d * d).collect();
        // Fewer distinct directions than k: the remaining clusters stay empty.
        let Some(next) = pick(rng, &scores) else { break };
        let centroid = densify(&points.rows[next], points.dim);
        for (d, p) in distance.iter_mut().zip(&points.rows) {
            *d = d.min((1.0 - dot(p, &centroid)).max(0.0));
        }
        centroids.push(centroid);
    }
    centroids
}

/// One Lloyd run from `centroids`; returns the assignment, the centroids and
/// the weighted cost `Σ w (1 - cos)`.
fn lloyd(points: &Points, mut centroids: Vec<Vec<f32>>) -> (Vec<usize>, Vec<Vec<f32>>, f64) {
    let n = points.rows.len();
    let mut assignment = vec![usize::MAX; n];
    for _ in 0..MAX_ITERATIONS {
        let mut changed = false;
        for (a, p) in assignment.iter_mut().zip(&points.rows) {
            let (c, _) = nearest(p, &centroids);
            changed |= *a != c;
            *a = c;
        }
        if !changed {
            break;
        }
        let mut sums = vec![vec![0.0f32; points.dim]; centroids.len()];
        for ((p, &a), &w) in points.rows.iter().zip(&assignment).zip(&points.weights) {
            for &(i, x) in p {
                sums[a][i as usize] += x * w as f32;
            }
        }
        for (centroid, mut sum) in centroids.iter_mut().zip(sums) {
            // An emptied cluster keeps its old centroid and may win points back.
            if normalize(&mut sum) {
                *centroid = sum;
            }
        }
    }
    let cost = points
        .rows
        .iter()
        .zip(&assignment)
        .zip(&points.weights)
        .map(|((p, &a), w)| w * (1.0 - dot(p, &centroids[a])).max(0.0))
        .sum();
    (assignment, centroids, cost)
}

/// Best of [`RESTARTS`] k-means runs with `k` clusters (lowest cost; the
/// first on ties).
pub(crate) fn kmeans(points: &Points, k: usize, seed: u64) -> Clustering {
    debug_assert!(k >= 1 && !points.rows.is_empty());
    let mut best: Option<(Vec<usize>, Vec<Vec<f32>>, f64)> = None;
    for restart in 0..RESTARTS {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ mix((k as u64) << 32 | restart)));
        let centroids = seed_centroids(points, k, &mut rng);
        if centroids.is_empty() {
            continue;
        }
        let run = lloyd(points, centroids);
        if best.as_ref().is_none_or(|b| run.2 < b.2 - 1e-9) {
            best = Some(run);
        }
    }
    // Only when no point has weight: one cluster holding everything.
    let (assignment, centroids, _) =
        best.unwrap_or_else(|| (vec![0; points.rows.len()], vec![vec![0.0; points.dim]], 0.0));
    let silhouette = silhouette(points, &assignment, centroids.len());
    Clustering { assignment, centroids, silhouette }
}

/// Weighted silhouette with cosine distance, as if every point were repeated
/// `weight` times. A point alone in its cluster scores 0, as does k < 2.
pub(crate) fn silhouette(points: &Points, assignment: &[usize], k: usize) -> f64 {
    let mut sums = vec![vec![0.0f32; points.dim]; k];
    let mut mass = vec![0.0f64; k];
    for ((p, &a), &w) in points.rows.iter().zip(assignment).zip(&points.weights) {
        mass[a] += w;
        for &(i, x) in p {
            sums[a][i as usize] += x * w as f32;
        }
    }
    if mass.iter().filter(|m| **m > 0.0).count() < 2 {
        return 0.0;
    }
    let (mut total, mut weight) = (0.0, 0.0);
    for ((p, &a), &w) in points.rows.iter().zip(assignment).zip(&points.weights) {
        weight += w;
        if mass[a] <= 1.0 {
            continue;
        }
        let within = ((mass[a] - dot(p, &sums[a])) / (mass[a] - 1.0)).max(0.0);
        let between = (0..k)
            .filter(|&c| c != a && mass[c] > 0.0)
            .map(|c| ((mass[c] - dot(p, &sums[c])) / mass[c]).max(0.0))
            .fold(f64::INFINITY, f64::min);
        let scale = within.max(between);
        if scale > 0.0 {
            total += w * (between - within) / scale;
        }
    }
    if weight > 0.0 { total / weight } else { 0.0 }
}

/// Clusters `points` with the k in `2..=max_k` of highest silhouette (the
/// smaller k on ties within 1e-9). Fewer than three points, or `max_k < 2`,
/// give one cluster per point up to `max_k`.
pub(crate) fn choose_k(points: &Points, max_k: usize, seed: u64) -> Clustering {
    let n = points.rows.len();
    if n < 3 || max_k < 2 {
        return kmeans(points, n.min(max_k.max(1)), seed);
    }
    let mut best: Option<Clustering> = None;
    for k in 2..=max_k.min(n - 1) {
        let clustering = kmeans(points, k, seed);
        if best.as_ref().is_none_or(|b| clustering.silhouette > b.silhouette + 1e-9) {
            best = Some(clustering);
        }
    }
    best.unwrap_or_else(|| kmeans(points, 1, seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit points around `dims` axes, each with a little noise on dimension 9.
    fn blobs(per_axis: usize, axes: &[u32]) -> Points {
        let mut rows = Vec::new();
        for &axis in axes {
            for j in 0..per_axis {
                let noise = 0.05 * (j as f32 + 1.0);
                let norm = (1.0 + noise * noise).sqrt();
                rows.push(vec![(axis, 1.0 / norm), (9, noise / norm)]);
            }
        }
        let weights = vec![1.0; rows.len()];
        Points { rows, weights, dim: 10 }
    }

    #[test]
    fn finds_separated_groups_and_their_number() {
        let points = blobs(4, &[0, 3, 6]);
        let c = choose_k(&points, 8, 7);
        let groups: Vec<usize> = c.assignment.clone();
        for g in groups.chunks(4) {
            assert!(g.iter().all(|a| *a == g[0]), "{groups:?}");
        }
        assert_eq!(groups.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "{groups:?}");
        assert!(c.silhouette > 0.8, "{}", c.silhouette);
    }

    #[test]
    fn weights_count_as_repetitions() {
        let a = Points { rows: vec![vec![(0, 1.0)], vec![(1, 1.0)]], weights: vec![3.0, 1.0], dim: 2 };
        let expanded = Points {
            rows: vec![vec![(0, 1.0)], vec![(0, 1.0)], vec![(0, 1.0)], vec![(1, 1.0)]],
            weights: vec![1.0; 4],
            dim: 2,
        };
        let s1 = silhouette(&a, &[0, 1], 2);
        let s2 = silhouette(&expanded, &[0, 0, 0, 1], 2);
        assert!((s1 - s2).abs() < 1e-9, "{s1} vs {s2}");
        assert!((s1 - 0.75).abs() < 1e-9, "three points at silhouette 1, one alone at 0: {s1}");
    }

    #[test]
    fn deterministic_per_seed_and_safe_on_degenerate_input() {
        let points = blobs(5, &[0, 1, 2, 4]);
        assert_eq!(choose_k(&points, 6, 1), choose_k(&points, 6, 1));
        let same = Points { rows: vec![vec![(0, 1.0)]; 5], weights: vec![1.0; 5], dim: 1 };
        let c = choose_k(&same, 4, 0);
        assert!(c.assignment.iter().all(|a| *a == c.assignment[0]));
        let one = Points { rows: vec![vec![(0, 1.0)]], weights: vec![2.0], dim: 1 };
        assert_eq!(choose_k(&one, 12, 0).assignment, [0]);
    }
}
