//! Merging clusters that talk about the same thing.
//!
//! Why: silhouette rewards tight groups, and in short bilingual feedback the
//! tightest groups are a sentence and its translation, or a few phrasings of
//! one sub-point ("the reset link expired" next to "the reset e-mail never
//! arrives"). k-means at the silhouette's k therefore splits what a reader
//! calls one theme. Topic models fix this the same way (BERTopic's topic
//! reduction): clusters whose term centroids are similar are merged. The
//! comparison happens on the bilingual TF-IDF terms, not on the embedder's
//! vectors, so the threshold means the same with any embedder and merged
//! themes are exactly those whose labels would read alike.

use crate::text::embed::SparseRow;

/// Cosine similarity of term centroids above which two clusters are one
/// theme. Texts on different topics share at most a generic word or two
/// (cosine below 0.1 on the test corpora); sub-points of one topic share
/// its concepts and family (0.25 and up).
pub(crate) const MERGE_SIMILARITY: f64 = 0.2;

/// Clusters whose mean sentiments lie beyond this on opposite sides of zero
/// stay apart whatever their words: praise of a feature and complaints about
/// it are two themes.
pub(crate) const OPPOSITE_SENTIMENT: f64 = 0.25;

/// Weighted sum of the term rows of `group`, L2-normalised (all zero when
/// the rows are).
pub(crate) fn term_centroid(group: &[usize], rows: &[SparseRow], weights: &[f64], dim: usize) -> Vec<f64> {
    let mut c = vec![0.0; dim];
    for &d in group {
        for &(i, v) in &rows[d] {
            c[i as usize] += weights[d] * f64::from(v);
        }
    }
    let norm = c.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        c.iter_mut().for_each(|x| *x /= norm);
    }
    c
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Repeatedly merges the two groups (of distinct-text indices) whose term
/// centroids are most similar, while that similarity reaches
/// [`MERGE_SIMILARITY`]. Order is kept: a merged group takes the place of the
/// earlier of the two, and its members stay ascending.
pub(crate) fn merge_similar(
    mut groups: Vec<Vec<usize>>,
    rows: &[SparseRow],
    weights: &[f64],
    sentiment: &[f64],
    dim: usize,
) -> Vec<Vec<usize>> {
    let mean_sentiment = |g: &[usize]| {
        let w: f64 = g.iter().map(|&d| weights[d]).sum();
        if w > 0.0 {
            g.iter().map(|&d| weights[d] * sentiment.get(d).copied().unwrap_or(0.0)).sum::<f64>() / w
        } else {
            0.0
        }
    };
    let opposite = |a: f64, b: f64| a.min(b) < -OPPOSITE_SENTIMENT && a.max(b) > OPPOSITE_SENTIMENT;
    let mut centroids: Vec<Vec<f64>> = groups.iter().map(|g| term_centroid(g, rows, weights, dim)).collect();
    let mut moods: Vec<f64> = groups.iter().map(|g| mean_sentiment(g)).collect();
    loop {
        let mut best: Option<(usize, usize, f64)> = None;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let s = cosine(&centroids[a], &centroids[b]);
                if s >= MERGE_SIMILARITY && !opposite(moods[a], moods[b]) && best.is_none_or(|(_, _, t)| s > t) {
                    best = Some((a, b, s));
                }
            }
        }
        let Some((a, b, _)) = best else { return groups };
        let moved = groups.remove(b);
        centroids.remove(b);
        moods.remove(b);
        groups[a].extend(moved);
        groups[a].sort_unstable();
        centroids[a] = term_centroid(&groups[a], rows, weights, dim);
        moods[a] = mean_sentiment(&groups[a]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_only_similar_groups() {
        let rows: Vec<SparseRow> = vec![vec![(0, 0.8), (1, 0.6)], vec![(0, 0.6), (2, 0.8)], vec![(3, 1.0)]];
        let weights = [1.0, 1.0, 1.0];
        let merged = merge_similar(vec![vec![0], vec![2], vec![1]], &rows, &weights, &[0.0; 3], 4);
        assert_eq!(merged, [vec![0, 1], vec![2]]);
        let apart: Vec<SparseRow> = vec![vec![(0, 1.0)], vec![(1, 1.0)]];
        assert_eq!(merge_similar(vec![vec![0], vec![1]], &apart, &weights, &[0.0; 2], 2), [vec![0], vec![1]]);
        // Same words, opposite feelings: two themes.
        let opposed = merge_similar(vec![vec![0], vec![2], vec![1]], &rows, &weights, &[0.6, -0.6, 0.0], 4);
        assert_eq!(opposed, [vec![0], vec![2], vec![1]]);
    }
}
