//! Texts as vectors: the [`Embedder`] seam and its default, [`TfIdf`].
//!
//! Why a trait: TF-IDF over the bilingual terms needs no model and explains
//! itself, but a multilingual sentence-embedding model would catch paraphrases
//! that share no term. Clustering only needs vectors, so the model can replace
//! TF-IDF without touching it.

use std::collections::HashMap;

use super::lexicon::lexicon;
use super::tokenize::{Analysis, NEGATION, analyze};

/// Turns texts into vectors whose cosine similarity says how alike the texts
/// are.
///
/// Contract: one vector per text, in order, all of the same length. Vectors
/// need not be normalised (clustering normalises them); a zero vector means
/// "nothing to compare" and leaves its text out of every theme.
pub trait Embedder: Send + Sync {
    fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>>;
    /// A stable name, for reports and caches.
    fn name(&self) -> &'static str;
}

/// TF-IDF over [`super::terms`] and unordered pairs of adjacent terms, fitted
/// on the texts given to [`Embedder::embed`].
///
/// Term frequency is sublinear (`1 + ln tf`), IDF smoothed
/// (`ln((1 + n) / (1 + df)) + 1`) and rows are L2-normalised, so long texts do
/// not dominate and cosine is a dot product. Bigrams are unordered because
/// the languages order words differently ("password reset", "redefinir a
/// senha"). The negation marker appears only inside bigrams ("not reset"): on
/// its own it says how someone feels, not what about, and would pull every
/// complaint together. At most [`TfIdf::MAX_FEATURES`] features, the most
/// frequent by document frequency, bound memory to `texts × MAX_FEATURES`
/// floats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TfIdf;

impl TfIdf {
    pub const MAX_FEATURES: usize = 2048;
    pub const NAME: &'static str = "tfidf";
}

impl Embedder for TfIdf {
    fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let analyses: Vec<Analysis> = texts.iter().map(|t| analyze(t)).collect();
        let model = TermModel::fit(&analyses);
        let dim = model.features.len();
        model
            .rows
            .iter()
            .map(|row| {
                let mut dense = vec![0.0; dim];
                for &(i, v) in row {
                    dense[i as usize] = v;
                }
                dense
            })
            .collect()
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }
}

/// Sparse vector: `(feature index, weight)`, indices ascending.
pub(crate) type SparseRow = Vec<(u32, f32)>;

/// A fitted TF-IDF: the features and one L2-normalised row per text.
pub(crate) struct TermModel {
    pub features: Vec<String>,
    pub rows: Vec<SparseRow>,
}

/// Marks a concept-family feature ("@billing"); never a term, so never a label.
pub(crate) const FAMILY_PREFIX: &str = "@";

/// Whether a feature is a concept family rather than something people wrote.
pub(crate) fn is_family(feature: &str) -> bool {
    feature.starts_with(FAMILY_PREFIX)
}

/// Whether a feature is a pair of terms (`"password reset"`).
pub(crate) fn is_bigram(feature: &str) -> bool {
    feature.contains(' ')
}

/// The features of one analysed text: terms except the bare negation marker,
/// and unordered pairs of adjacent terms within a clause.
pub(crate) fn features(analysis: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    for clause in &analysis.clauses {
        out.extend(clause.iter().filter(|t| t.key != NEGATION).map(|t| t.key.clone()));
        out.extend(clause.iter().filter_map(|t| lexicon().family(&t.key)).map(|f| format!("{FAMILY_PREFIX}{f}")));
        for pair in clause.windows(2) {
            let (a, b) = (&pair[0].key, &pair[1].key);
            match a.cmp(b) {
                std::cmp::Ordering::Less => out.push(format!("{a} {b}")),
                std::cmp::Ordering::Greater => out.push(format!("{b} {a}")),
                std::cmp::Ordering::Equal => {}
            }
        }
    }
    out
}

impl TermModel {
    /// Fits IDF on `analyses` and weighs each of them.
    pub(crate) fn fit(analyses: &[Analysis]) -> TermModel {
        let docs: Vec<HashMap<String, u32>> = analyses
            .iter()
            .map(|a| {
                let mut counts = HashMap::new();
                for f in features(a) {
                    *counts.entry(f).or_insert(0) += 1;
                }
                counts
            })
            .collect();
        let mut df: HashMap<&str, u32> = HashMap::new();
        for doc in &docs {
            for f in doc.keys() {
                *df.entry(f.as_str()).or_insert(0) += 1;
            }
        }
        let mut ranked: Vec<(&str, u32)> = df.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ranked.truncate(TfIdf::MAX_FEATURES);
        let n = analyses.len() as f64;
        let index: HashMap<&str, (u32, f64)> = ranked
            .iter()
            .enumerate()
            .map(|(i, &(f, df))| (f, (i as u32, ((1.0 + n) / (1.0 + f64::from(df))).ln() + 1.0)))
            .collect();
        let rows = docs
            .iter()
            .map(|doc| {
                let mut row: Vec<(u32, f64)> = doc
                    .iter()
                    .filter_map(|(f, &tf)| index.get(f.as_str()).map(|&(i, idf)| (i, (1.0 + f64::from(tf).ln()) * idf)))
                    .collect();
                row.sort_unstable_by_key(|&(i, _)| i);
                let norm = row.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
                row.into_iter().map(|(i, w)| (i, (w / norm) as f32)).collect()
            })
            .collect();
        TermModel { features: ranked.into_iter().map(|(f, _)| f.to_string()).collect(), rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn rows_are_unit_or_zero_and_share_one_dimension() {
        let texts = ["Password reset link expired", "", "the of and", "O pagamento falhou"];
        let vectors = TfIdf.embed(&texts);
        assert_eq!(vectors.len(), texts.len());
        assert!(vectors.iter().all(|v| v.len() == vectors[0].len()));
        for (text, v) in texts.iter().zip(&vectors) {
            let norm = cosine(v, v);
            assert!(norm == 0.0 || (norm - 1.0).abs() < 1e-5, "{text}: {norm}");
        }
        assert_eq!(cosine(&vectors[1], &vectors[1]), 0.0);
        assert_eq!(TfIdf.name(), "tfidf");
    }

    #[test]
    fn translations_are_closer_than_other_topics() {
        let texts = [
            "I can't reset my password, the email never arrives.",
            "Não consigo redefinir a senha, o e-mail nunca chega.",
            "Payment failed twice, I couldn't upgrade.",
            "O pagamento falhou duas vezes, não consegui fazer o upgrade.",
        ];
        let v = TfIdf.embed(&texts);
        assert!(cosine(&v[0], &v[1]) > 0.8, "{}", cosine(&v[0], &v[1]));
        assert!(cosine(&v[2], &v[3]) > 0.8, "{}", cosine(&v[2], &v[3]));
        assert!(cosine(&v[0], &v[2]) < 0.2);
        assert!(cosine(&v[1], &v[3]) < 0.2);
    }

    #[test]
    fn bigrams_are_unordered_and_negation_only_pairs() {
        let f = features(&analyze("can't reset password"));
        assert_eq!(f, ["reset", "password", "@account", "@account", "not reset", "password reset"]);
        let g = features(&analyze("redefinir senha"));
        assert!(g.contains(&"password reset".to_string()));
    }
}
