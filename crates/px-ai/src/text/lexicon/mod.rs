//! The lexicon every text stage reads: stopwords, negators, intensifiers,
//! phrases, the bilingual concept table and sentiment valences, folded and
//! indexed once per process.
//!
//! Why one place: the tokenizer, language detection, terms and sentiment must
//! agree on what a word is, so they share these folded tables. Each language
//! has its own maps because a few words mean different things across the two
//! ("time" is a team in Portuguese, "data" a date, "no" means "in the"):
//! a word is looked up in its text's language first and in the other only when
//! its own language does not know it at all.

mod concepts;
mod sentiment_words;
mod words;

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::Lang;
use super::fold::fold;
use super::stem::{stem, stem_en};

/// One language's lookups, keyed by folded word or by stem.
#[derive(Default)]
struct LangLexicon {
    concept_surface: HashMap<String, &'static str>,
    concept_stem: HashMap<String, &'static str>,
    sentiment_surface: HashMap<String, f64>,
    sentiment_stem: HashMap<String, f64>,
    /// Every folded word any list of this language names.
    known: HashSet<String>,
}

pub(crate) struct Lexicon {
    stop: HashSet<String>,
    negators: HashSet<String>,
    soft_negators: HashSet<String>,
    intensifiers: HashMap<String, f64>,
    post_intensifiers: HashMap<String, f64>,
    contrast: HashSet<String>,
    phrases: Vec<(Vec<String>, String)>,
    concept_terms: HashSet<&'static str>,
    families: HashMap<&'static str, &'static str>,
    langs: [LangLexicon; 2],
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::build);

/// The process-wide lexicon, built on first use.
pub(crate) fn lexicon() -> &'static Lexicon {
    &LEXICON
}

/// Folded entries of `list`.
fn folded_set(list: &[&str]) -> HashSet<String> {
    list.iter().map(|w| fold(w)).collect()
}

/// Folded words of a whitespace-separated list.
fn folded_words(list: &str) -> HashSet<String> {
    list.split_whitespace().map(fold).collect()
}

/// Inserts `key -> value` unless the key already maps to a different value,
/// in which case it is marked ambiguous (`None`) and later dropped: a stem
/// shared by two concepts must not pick one at random.
fn insert_unambiguous<V: PartialEq + Copy>(map: &mut HashMap<String, Option<V>>, key: String, value: V) {
    map.entry(key)
        .and_modify(|v| {
            if *v != Some(value) {
                *v = None
            }
        })
        .or_insert(Some(value));
}

fn resolved<V>(map: HashMap<String, Option<V>>) -> HashMap<String, V> {
    map.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
}

/// Valences by stem: words sharing a stem ("demora", "demorado") agree in
/// sign, so the stem takes their mean; a stem whose words disagree is dropped.
fn valences_by_stem(valences: HashMap<String, Vec<f64>>) -> HashMap<String, f64> {
    valences
        .into_iter()
        .filter(|(_, v)| v.iter().all(|x| *x > 0.0) || v.iter().all(|x| *x < 0.0))
        .map(|(k, v)| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (k, mean)
        })
        .collect()
}

impl Lexicon {
    fn build() -> Lexicon {
        let mut langs: [LangLexicon; 2] = Default::default();
        for lang in Lang::ALL {
            let (mut surface, mut stems) = (HashMap::new(), HashMap::new());
            for &(term, en, pt) in concepts::CONCEPTS {
                for word in if lang == Lang::En { en } else { pt } {
                    let folded = fold(word);
                    insert_unambiguous(&mut stems, stem(lang, &folded), term);
                    insert_unambiguous(&mut surface, folded, term);
                }
            }
            let (mut sentiment_surface, mut sentiment_stems) = (HashMap::new(), HashMap::new());
            let sentiment =
                if lang == Lang::En { sentiment_words::SENTIMENT_EN } else { sentiment_words::SENTIMENT_PT };
            for &(word, valence) in sentiment {
                let folded = fold(word);
                sentiment_stems.entry(stem(lang, &folded)).or_insert_with(Vec::new).push(valence);
                insert_unambiguous(&mut sentiment_surface, folded, valence);
            }
            let l = &mut langs[lang.index()];
            l.concept_surface = resolved(surface);
            l.concept_stem = resolved(stems);
            l.sentiment_surface = resolved(sentiment_surface);
            l.sentiment_stem = valences_by_stem(sentiment_stems);
            let (stop, negators) = match lang {
                Lang::En => (words::STOP_EN, folded_words(words::NEGATORS_EN)),
                Lang::PtBr => (words::STOP_PT, folded_words(words::NEGATORS_PT)),
            };
            l.known = folded_words(stop);
            l.known.extend(negators);
            l.known.extend(l.concept_surface.keys().cloned());
            l.known.extend(l.sentiment_surface.keys().cloned());
        }
        Lexicon {
            stop: folded_words(words::STOP_EN).union(&folded_words(words::STOP_PT)).cloned().collect(),
            negators: folded_words(words::NEGATORS_EN).union(&folded_words(words::NEGATORS_PT)).cloned().collect(),
            soft_negators: folded_set(words::SOFT_NEGATORS),
            intensifiers: words::INTENSIFIERS.iter().map(|(w, m)| (fold(w), *m)).collect(),
            post_intensifiers: words::POST_INTENSIFIERS.iter().map(|(w, m)| (fold(w), *m)).collect(),
            contrast: folded_set(words::CONTRAST),
            phrases: words::PHRASES.iter().map(|(seq, to)| (seq.iter().map(|w| fold(w)).collect(), fold(to))).collect(),
            concept_terms: concepts::CONCEPTS.iter().map(|c| c.0).collect(),
            families: concepts::FAMILIES
                .iter()
                .flat_map(|&(family, members)| members.split_whitespace().map(move |m| (m, family)))
                .collect(),
            langs,
        }
    }

    /// Whether `word` (folded) carries no topic in either language.
    pub(crate) fn is_stop(&self, word: &str) -> bool {
        self.stop.contains(word)
    }

    /// Whether `word` negates what follows in a `lang` text ("no" only does in
    /// English).
    pub(crate) fn is_negator(&self, word: &str, lang: Lang) -> bool {
        if word == "no" { lang == Lang::En } else { self.negators.contains(word) }
    }

    /// Whether `word` flips sentiment without being a negation of its own.
    pub(crate) fn is_soft_negator(&self, word: &str) -> bool {
        self.soft_negators.contains(word)
    }

    pub(crate) fn intensifier(&self, word: &str) -> Option<f64> {
        self.intensifiers.get(word).copied()
    }

    pub(crate) fn post_intensifier(&self, word: &str) -> Option<f64> {
        self.post_intensifiers.get(word).copied()
    }

    pub(crate) fn is_contrast(&self, word: &str) -> bool {
        self.contrast.contains(word)
    }

    /// Multi-word phrases (folded words) and the single word replacing each.
    pub(crate) fn phrases(&self) -> &[(Vec<String>, String)] {
        &self.phrases
    }

    /// Whether `term` is a concept's English term (readable as is) rather
    /// than a stem.
    pub(crate) fn is_concept_term(&self, term: &str) -> bool {
        self.concept_terms.contains(term)
    }

    /// The family of concept `term` ("card" -> "billing"), if any.
    pub(crate) fn family(&self, term: &str) -> Option<&'static str> {
        self.families.get(term).copied()
    }

    /// Whether any list of either language names `word` (folded).
    pub(crate) fn knows(&self, word: &str) -> bool {
        self.langs.iter().any(|l| l.known.contains(word))
    }

    /// The language that alone names `word` (folded): by the word itself,
    /// else by its stem in each language's concept and sentiment entries, so
    /// that "senhas" counts for Portuguese although only "senha" is listed.
    pub(crate) fn evidence(&self, word: &str) -> Option<Lang> {
        let [en, pt] = &self.langs;
        let by_word = (en.known.contains(word), pt.known.contains(word));
        let by_stem = || {
            let names = |l: &LangLexicon, lang: Lang| {
                let s = stem(lang, word);
                l.concept_stem.contains_key(&s) || l.sentiment_stem.contains_key(&s)
            };
            (names(en, Lang::En), names(pt, Lang::PtBr))
        };
        match if by_word == (false, false) { by_stem() } else { by_word } {
            (true, false) => Some(Lang::En),
            (false, true) => Some(Lang::PtBr),
            _ => None,
        }
    }

    /// The concept `word` (folded, in a `lang` text) stands for: by the word,
    /// then by its stem; then, if `lang` does not know the word, in the other
    /// language (loanwords such as "dashboards" in Portuguese text). The other
    /// language's stems are only tried for English, whose stemmer is too light
    /// to collide with unrelated words.
    pub(crate) fn concept(&self, word: &str, lang: Lang) -> Option<&'static str> {
        let own = &self.langs[lang.index()];
        if let Some(term) = own.concept_surface.get(word).or_else(|| own.concept_stem.get(&stem(lang, word))) {
            return Some(term);
        }
        if own.known.contains(word) {
            return None;
        }
        let other = &self.langs[lang.other().index()];
        other
            .concept_surface
            .get(word)
            .or_else(|| if lang.other() == Lang::En { other.concept_stem.get(&stem_en(word)) } else { None })
            .copied()
    }

    /// The sentiment valence of `word` (folded, in a `lang` text), looked up
    /// like [`Lexicon::concept`].
    pub(crate) fn valence(&self, word: &str, lang: Lang) -> Option<f64> {
        let own = &self.langs[lang.index()];
        if let Some(v) = own.sentiment_surface.get(word).or_else(|| own.sentiment_stem.get(&stem(lang, word))) {
            return Some(*v);
        }
        if own.known.contains(word) {
            return None;
        }
        let other = &self.langs[lang.other().index()];
        other
            .sentiment_surface
            .get(word)
            .or_else(|| if lang.other() == Lang::En { other.sentiment_stem.get(&stem_en(word)) } else { None })
            .copied()
    }
}

/// How much the lexicon covers, for documentation and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexiconStats {
    /// Concepts (distinct English terms).
    pub concepts: usize,
    /// Word-to-concept mappings, both languages.
    pub concept_mappings_en: usize,
    pub concept_mappings_pt_br: usize,
    /// Words with a sentiment valence.
    pub sentiment_words_en: usize,
    pub sentiment_words_pt_br: usize,
    pub stopwords_en: usize,
    pub stopwords_pt_br: usize,
}

/// Coverage of the built-in lexicon.
pub fn lexicon_stats() -> LexiconStats {
    LexiconStats {
        concepts: concepts::CONCEPTS.len(),
        concept_mappings_en: concepts::CONCEPTS.iter().map(|c| c.1.len()).sum(),
        concept_mappings_pt_br: concepts::CONCEPTS.iter().map(|c| c.2.len()).sum(),
        sentiment_words_en: sentiment_words::SENTIMENT_EN.len(),
        sentiment_words_pt_br: sentiment_words::SENTIMENT_PT.len(),
        stopwords_en: folded_words(words::STOP_EN).len(),
        stopwords_pt_br: folded_words(words::STOP_PT).len(),
    }
}

#[cfg(test)]
mod tests;
