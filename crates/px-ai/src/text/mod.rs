//! Feedback texts in English and Brazilian Portuguese: language, terms,
//! sentiment and themes.
//!
//! What it owns: turning free-text comments (with their 1–5 ratings) into
//! themes a product team can act on, each with a readable label, its
//! sentiment and representative quotes, with the same complaint in either
//! language landing in the same theme. What it leaves to others: reading the
//! feedback (the store), deciding what a theme costs or what to do about it
//! (impact and recommendation stages).
//!
//! Why this shape: everything runs offline and deterministically. Bilingual
//! themes come from a concept lexicon that maps Portuguese product words onto
//! English terms before TF-IDF ([`terms`]), not from a translation model; the
//! lexicon also groups concepts into families ("card" and "payment" are both
//! billing) so that two short texts on one topic share a feature even when
//! they share no word. Vectors come through the [`Embedder`] seam so a
//! multilingual embedding model can replace [`TfIdf`] without touching
//! clustering or labelling.
//!
//! Modules: `fold` and `stem` (normalising words), `lexicon` (the word lists),
//! `tokenize` (words and terms), `lang`, `sentiment`, `embed`, `cluster`
//! (weighted spherical k-means, silhouette) and `themes` (the pipeline,
//! merging of alike clusters, labels and quotes).

mod cluster;
mod embed;
mod fold;
mod lang;
mod lexicon;
mod sentiment;
mod stem;
mod themes;
mod tokenize;

pub use embed::{Embedder, TfIdf};
pub use lang::{Lang, detect_lang};
pub use lexicon::{LexiconStats, lexicon_stats};
pub use sentiment::sentiment;
pub use themes::{Feedback, MAX_QUOTES, MAX_THEME_TERMS, Theme, ThemeOptions, themes};
pub use tokenize::{NEGATION, terms};
