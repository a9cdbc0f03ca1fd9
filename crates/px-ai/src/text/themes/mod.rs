//! Themes of feedback: what people write about, in their words, with how they
//! feel about it.
//!
//! The pipeline: identical texts are merged (a theme is about distinct
//! things said, and a popular phrase should weigh, not cost); the
//! [`Embedder`] turns each distinct text into a vector, to which the text's
//! sentiment is appended as one small extra dimension; weighted spherical
//! k-means groups them (k by silhouette); clusters whose bilingual term
//! centroids are alike are merged (`merge`), small ones dropped; and each
//! theme is described from the terms of its members: label and terms from its
//! TF-IDF centroid, quotes nearest its centroid, sentiment from members'
//! texts and ratings. Labels always come from terms, whatever the embedder,
//! so they read the same when a model replaces TF-IDF.

mod merge;

use std::collections::HashMap;

use super::Lang;
use super::cluster::{Points, choose_k};
use super::embed::{Embedder, TermModel, is_bigram, is_family};
use super::lexicon::lexicon;
use super::sentiment::{blend, lexical_sentiment};
use super::tokenize::{Analysis, NEGATION, analyze};
use merge::{merge_similar, term_centroid};

/// One piece of feedback: a comment and the rating (1..=5) given with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feedback<'a> {
    pub text: &'a str,
    pub rating: Option<f64>,
}

/// A group of feedback about one thing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Theme {
    /// Readable name from the top terms, English concept terms where the
    /// lexicon has them ("password reset", "payment failure").
    pub label: String,
    /// Top single terms by weight in the cluster's TF-IDF centroid, at most
    /// [`MAX_THEME_TERMS`], in their readable form.
    pub terms: Vec<String>,
    /// Indices into the input, ascending.
    pub members: Vec<usize>,
    /// Up to [`MAX_QUOTES`] members with distinct texts, nearest the
    /// centroid first, covering both languages when both are present.
    pub quotes: Vec<usize>,
    /// Mean of [`super::sentiment()`] over members, each with its own rating.
    pub sentiment: f64,
    /// Languages present among members, English first.
    pub languages: Vec<Lang>,
}

/// How [`themes`] clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThemeOptions {
    /// Largest number of clusters tried (k runs over `2..=max_k`).
    pub max_k: usize,
    /// Clusters with fewer members (counting repeated texts) are dropped and
    /// their members left without a theme: a theme of one or two comments is
    /// an anecdote.
    pub min_size: usize,
    /// Seed of every random choice; the same input and seed give the same
    /// themes.
    pub seed: u64,
}

impl Default for ThemeOptions {
    /// Up to 12 themes of at least 3 members; the seed is an arbitrary fixed
    /// value ("PXthemes" in ASCII) so that default runs are reproducible.
    fn default() -> Self {
        ThemeOptions { max_k: 12, min_size: 3, seed: 0x5058_7468_656d_6573 }
    }
}

/// Most terms a theme lists: enough to read what it is about.
pub const MAX_THEME_TERMS: usize = 5;
/// Most quotes a theme carries: one per language and one more.
pub const MAX_QUOTES: usize = 3;

/// Weight of a text's sentiment as one more dimension of its vector.
/// Why: praise and complaints about one feature ("upgrading was painless",
/// "couldn't upgrade") are different themes to act on, yet share their topic
/// words. With the text's lexical sentiment `s` appended as `w·s` (then
/// renormalised) two texts of opposite strong sentiment lose about `w²·|s·s'|`
/// of cosine, two of the same sentiment gain it, and neutral texts are
/// unaffected; small enough that topic words still decide.
pub(crate) const POLARITY_WEIGHT: f64 = 0.5;

/// A distinct text and the feedback indices that wrote it.
struct Distinct<'a> {
    text: &'a str,
    members: Vec<usize>,
}

/// Merges texts equal up to case and whitespace, in order of first
/// appearance; blank texts are left out.
fn dedupe<'a>(feedback: &[Feedback<'a>]) -> Vec<Distinct<'a>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut distinct: Vec<Distinct<'a>> = Vec::new();
    for (i, f) in feedback.iter().enumerate() {
        let key = f.text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        if key.is_empty() {
            continue;
        }
        let d = *index.entry(key).or_insert_with(|| {
            distinct.push(Distinct { text: f.text, members: Vec::new() });
            distinct.len() - 1
        });
        distinct[d].members.push(i);
    }
    distinct
}

/// Sparse unit rows of the embedder's vectors, with the distinct text each
/// belongs to; zero, non-finite or missing vectors are left out.
fn points(vectors: &[Vec<f32>], distinct: &[Distinct<'_>], polarity: &[f64]) -> (Points, Vec<usize>) {
    let polarity_dim = vectors.iter().map(Vec::len).max().unwrap_or(0);
    let (mut rows, mut weights, mut owner, mut dim) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for (d, (v, text)) in vectors.iter().zip(distinct).enumerate() {
        if v.iter().any(|x| !x.is_finite()) {
            continue;
        }
        let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
        if norm <= f64::EPSILON {
            continue;
        }
        let p = POLARITY_WEIGHT * polarity.get(d).copied().unwrap_or(0.0);
        let scale = (1.0 + p * p).sqrt();
        let mut row: Vec<(u32, f32)> = v
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != 0.0)
            .map(|(i, x)| (i as u32, (f64::from(*x) / norm / scale) as f32))
            .collect();
        if p != 0.0 {
            row.push((polarity_dim as u32, (p / scale) as f32));
        }
        dim = polarity_dim + 1;
        rows.push(row);
        weights.push(text.members.len() as f64);
        owner.push(d);
    }
    (Points { rows, weights, dim }, owner)
}

/// Groups `feedback` into themes, largest first (ties: earliest member
/// first).
///
/// Texts are deduplicated (case and whitespace aside) before anything else,
/// so the work grows with the number of distinct texts: 10,000 feedbacks
/// repeating 200 texts cost one embedding call over 200 texts and k-means over
/// 200 weighted points (the embedder's IDF is therefore fitted on distinct
/// texts, so a phrase repeated a thousand times does not look common to
/// itself). k-means is spherical (cosine), seeded with k-means++ from
/// `options.seed`, restarted several times and run for every k in
/// `2..=max_k`; the k with the highest weighted silhouette wins. Clusters
/// whose term centroids have cosine at least 0.2 and no opposite sentiment are
/// then merged, because silhouette favours splitting one topic into tight
/// sub-points; so the number of themes may be below that k. Clusters with
/// fewer than `min_size` members are dropped, as are blank texts and texts the
/// embedder gives no vector: those members belong to no theme. Empty input
/// gives no themes. Same input and options, same themes.
///
/// Cost: about `(max_k - 1) × 5 restarts × iterations × distinct × k × nnz`
/// multiply-adds, where `nnz` is the non-zeros of a vector (a dozen or two
/// for TF-IDF), plus a few passes over the distinct texts (embedding,
/// analysis, sentiment).
pub fn themes(feedback: &[Feedback<'_>], embedder: &dyn Embedder, options: &ThemeOptions) -> Vec<Theme> {
    let distinct = dedupe(feedback);
    if distinct.is_empty() {
        return Vec::new();
    }
    let texts: Vec<&str> = distinct.iter().map(|d| d.text).collect();
    let lexical: Vec<f64> = texts.iter().map(|t| lexical_sentiment(t)).collect();
    let (points, owner) = points(&embedder.embed(&texts), &distinct, &lexical);
    if points.rows.is_empty() {
        return Vec::new();
    }
    let clustering = choose_k(&points, options.max_k, options.seed);
    let analyses: Vec<Analysis> = texts.iter().map(|t| analyze(t)).collect();
    let model = TermModel::fit(&analyses);
    let weights: Vec<f64> = distinct.iter().map(|d| d.members.len() as f64).collect();

    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); clustering.centroids.len().max(1)];
    for (p, &c) in clustering.assignment.iter().enumerate() {
        groups[c].push(owner[p]);
    }
    groups.retain(|g| !g.is_empty());
    let groups = merge_similar(groups, &model.rows, &weights, &lexical, model.features.len());

    let mut point_of = vec![None; distinct.len()];
    for (p, &d) in owner.iter().enumerate() {
        point_of[d] = Some(p);
    }
    let mut themes: Vec<Theme> = Vec::new();
    for group in &groups {
        let mut members: Vec<usize> = group.iter().flat_map(|&d| distinct[d].members.iter().copied()).collect();
        if members.is_empty() || members.len() < options.min_size {
            continue;
        }
        members.sort_unstable();
        let languages: Vec<Lang> =
            Lang::ALL.into_iter().filter(|l| group.iter().any(|&d| analyses[d].lang == *l)).collect();
        let sentiment = group
            .iter()
            .flat_map(|&d| {
                let lexical = lexical[d];
                distinct[d].members.iter().map(move |&m| blend(lexical, feedback[m].rating))
            })
            .sum::<f64>()
            / members.len() as f64;
        let (label, terms) = describe(&model, &analyses, group, &weights);
        let group_points: Vec<usize> = group.iter().filter_map(|&d| point_of[d]).collect();
        let quotes = quotes(&points, &group_points, &owner, &analyses, &distinct);
        themes.push(Theme { label, terms, members, quotes, sentiment, languages });
    }
    themes.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then_with(|| a.members.cmp(&b.members)));
    themes
}

/// Up to [`MAX_QUOTES`] distinct texts of the theme nearest its centroid in
/// the embedder's space; the second is the nearest in another language when
/// the nearest leaves one out. Each quote is the first feedback that wrote
/// the text.
fn quotes(
    points: &Points,
    group: &[usize],
    owner: &[usize],
    analyses: &[Analysis],
    distinct: &[Distinct<'_>],
) -> Vec<usize> {
    let mut centroid = vec![0.0f64; points.dim];
    for &p in group {
        for &(i, v) in &points.rows[p] {
            centroid[i as usize] += points.weights[p] * f64::from(v);
        }
    }
    let similarity =
        |p: usize| -> f64 { points.rows[p].iter().map(|&(i, v)| f64::from(v) * centroid[i as usize]).sum() };
    let mut ranked: Vec<(usize, f64)> = group.iter().map(|&p| (owner[p], similarity(p))).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = Vec::new();
    if let Some(&(first, _)) = ranked.first() {
        chosen.push(first);
        let other = analyses[first].lang.other();
        if let Some(&(d, _)) = ranked.iter().find(|(d, _)| analyses[*d].lang == other) {
            chosen.push(d);
        }
    }
    for &(d, _) in &ranked {
        if chosen.len() >= MAX_QUOTES {
            break;
        }
        if !chosen.contains(&d) {
            chosen.push(d);
        }
    }
    chosen.truncate(MAX_QUOTES);
    chosen.into_iter().filter_map(|d| distinct[d].members.first().copied()).collect()
}

/// Label and top terms of the cluster made of distinct texts `ds`, from the
/// weighted sum of their TF-IDF rows.
///
/// The label is the strongest pair of terms when it weighs at least half the
/// strongest single term (a pair people actually wrote, like "password
/// reset"), otherwise the two strongest terms.
fn describe(model: &TermModel, analyses: &[Analysis], ds: &[usize], weights: &[f64]) -> (String, Vec<String>) {
    let centroid = term_centroid(ds, &model.rows, weights, model.features.len());
    let mut ranked: Vec<(&str, f64)> =
        centroid.iter().enumerate().filter(|(_, w)| **w > 0.0).map(|(i, w)| (model.features[i].as_str(), *w)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let display = Display::new(analyses, ds);
    let unigrams: Vec<(&str, f64)> = ranked.iter().copied().filter(|(f, _)| !is_bigram(f) && !is_family(f)).collect();
    let terms: Vec<String> = unigrams.iter().take(MAX_THEME_TERMS).map(|(f, _)| display.term(f)).collect();
    let bigram = ranked.iter().find(|(f, _)| is_bigram(f) && !f.split(' ').any(|t| t == NEGATION));
    let label = match (unigrams.first(), bigram) {
        (Some(&(_, top)), Some(&(pair, w))) if w >= 0.5 * top => display.pair(pair),
        (Some(&(first, _)), _) => match unigrams.get(1) {
            Some(&(second, _)) => format!("{} {}", display.term(first), display.term(second)),
            None => display.term(first),
        },
        (None, Some(&(pair, _))) => display.pair(pair),
        (None, None) => String::new(),
    };
    (label, terms)
}

/// How a cluster's terms read: the concept term itself, otherwise the word
/// members most often wrote for a stem, and pairs in the order members (the
/// English ones first) wrote them.
struct Display<'a> {
    surfaces: HashMap<&'a str, HashMap<&'a str, usize>>,
    /// `(first, second)` -> occurrences, per language (English first).
    orders: [HashMap<(&'a str, &'a str), usize>; 2],
}

impl<'a> Display<'a> {
    fn new(analyses: &'a [Analysis], ds: &[usize]) -> Display<'a> {
        let mut surfaces: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
        let mut orders: [HashMap<(&str, &str), usize>; 2] = Default::default();
        for &d in ds {
            let a = &analyses[d];
            for clause in &a.clauses {
                for t in clause {
                    *surfaces.entry(t.key.as_str()).or_default().entry(t.surface.as_str()).or_insert(0) += 1;
                }
                for pair in clause.windows(2) {
                    *orders[a.lang.index()].entry((pair[0].key.as_str(), pair[1].key.as_str())).or_insert(0) += 1;
                }
            }
        }
        Display { surfaces, orders }
    }

    fn term(&self, key: &str) -> String {
        if key == NEGATION || lexicon().is_concept_term(key) {
            return key.to_string();
        }
        self.surfaces
            .get(key)
            .and_then(|s| s.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0))))
            .map_or_else(|| key.to_string(), |(s, _)| (*s).to_string())
    }

    fn pair(&self, pair: &str) -> String {
        let (a, b) = pair.split_once(' ').unwrap_or((pair, ""));
        let count = |x: &str, y: &str, l: usize| self.orders[l].get(&(x, y)).copied().unwrap_or(0);
        let (ab, ba) = Lang::ALL
            .iter()
            .map(|l| (count(a, b, l.index()), count(b, a, l.index())))
            .find(|(ab, ba)| ab + ba > 0)
            .unwrap_or((1, 0));
        let (first, second) = if ba > ab { (b, a) } else { (a, b) };
        format!("{} {}", self.term(first), self.term(second))
    }
}

#[cfg(test)]
mod tests;
