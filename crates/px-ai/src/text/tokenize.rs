//! From raw text to words and to the normalised terms themes are built on.
//!
//! Tokenizing keeps clause breaks (punctuation) because negation and bigrams
//! must not reach across them ("not slow, great" is not "not great"), expands
//! English contractions ("can't" -> "not can") so negation looks the same in
//! both languages, joins hyphenated words the lexicon knows ("e-mail") and
//! merges multi-word phrases ("sign up", "na hora"). Terms then drop
//! stopwords of both languages and map every word to its concept or stem.

use super::Lang;
use super::fold::fold;
use super::lang::detect_tokens;
use super::lexicon::lexicon;
use super::stem::stem;

/// The term every negation becomes ("not", "never", "can't", "não",
/// "nunca"...), so "can't log in" and "não consigo entrar" share it.
pub const NEGATION: &str = "not";

/// A word or a clause break.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// `folded` is lowercase without accents (what lookups use); `original`
    /// is lowercase with accents (what people read).
    Word { folded: String, original: String },
    /// Punctuation that ends a clause.
    Break,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ')
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑')
}

fn is_break(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '\n' | '…' | '—' | '–' | '"' | '“' | '”')
}

/// Words and clause breaks of `text`, contractions expanded, known
/// hyphenated words joined and phrases merged.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
            continue;
        }
        let next_is_alnum = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if !current.is_empty() && next_is_alnum && (is_apostrophe(c) || is_hyphen(c)) {
            current.push(if is_apostrophe(c) { '\'' } else { '-' });
            continue;
        }
        push_raw_word(&mut tokens, &std::mem::take(&mut current));
        if is_break(c) && !matches!(tokens.last(), None | Some(Token::Break)) {
            tokens.push(Token::Break);
        }
    }
    push_raw_word(&mut tokens, &current);
    merge_phrases(tokens)
}

fn push_word(tokens: &mut Vec<Token>, word: &str) {
    if !word.is_empty() {
        tokens.push(Token::Word { folded: fold(word), original: word.to_string() });
    }
}

/// Pushes `raw` (lowercase, inner apostrophes as `'` and hyphens as `-`).
fn push_raw_word(tokens: &mut Vec<Token>, raw: &str) {
    if raw.is_empty() {
        return;
    }
    if raw.contains('\'') {
        if let Some(base) = raw.strip_suffix("n't") {
            let base = match base {
                "ca" => "can",
                "wo" => "will",
                "sha" => "shall",
                "ai" => "is",
                other => other,
            };
            push_word(tokens, NEGATION);
            push_word(tokens, base);
            return;
        }
        for suffix in ["'s", "'re", "'ve", "'ll", "'d", "'m"] {
            if let Some(base) = raw.strip_suffix(suffix) {
                push_hyphenated(tokens, base);
                return;
            }
        }
        for part in raw.split('\'') {
            push_hyphenated(tokens, part);
        }
        return;
    }
    push_hyphenated(tokens, raw);
}

/// "e-mail" and "check-out" become one word when the lexicon knows the joined
/// form; other hyphenated words ("redefini-la") are split.
fn push_hyphenated(tokens: &mut Vec<Token>, raw: &str) {
    if !raw.contains('-') {
        push_word(tokens, raw);
        return;
    }
    let joined: String = raw.chars().filter(|&c| c != '-').collect();
    if lexicon().knows(&fold(&joined)) {
        push_word(tokens, &joined);
    } else {
        for part in raw.split('-') {
            push_word(tokens, part);
        }
    }
}

/// Replaces every lexicon phrase ("sign up", "vale a pena") by its word.
fn merge_phrases(tokens: Vec<Token>) -> Vec<Token> {
    let phrases = lexicon().phrases();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let matched = phrases.iter().find(|(words, _)| {
            words.len() <= tokens.len() - i
                && words.iter().zip(&tokens[i..]).all(|(w, t)| matches!(t, Token::Word { folded, .. } if folded == w))
        });
        match matched {
            Some((words, to)) => {
                let original: Vec<&str> = tokens[i..i + words.len()]
                    .iter()
                    .filter_map(|t| match t {
                        Token::Word { original, .. } => Some(original.as_str()),
                        Token::Break => None,
                    })
                    .collect();
                out.push(Token::Word { folded: to.clone(), original: original.join(" ") });
                i += words.len();
            }
            None => {
                out.push(tokens[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// A normalised term and the word it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    /// Concept term, stem or [`NEGATION`].
    pub key: String,
    /// The word as written (lowercase, accents kept), for display.
    pub surface: String,
}

/// A text's language and its terms, clause by clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Analysis {
    pub lang: Lang,
    pub clauses: Vec<Vec<Term>>,
}

/// Language and terms of `text` in one tokenization.
pub(crate) fn analyze(text: &str) -> Analysis {
    let lexicon = lexicon();
    let tokens = tokenize(text);
    let lang = detect_tokens(&tokens);
    let mut clauses = vec![Vec::new()];
    for token in &tokens {
        let (folded, original) = match token {
            Token::Word { folded, original } => (folded, original),
            Token::Break => {
                if clauses.last().is_some_and(|c| !c.is_empty()) {
                    clauses.push(Vec::new());
                }
                continue;
            }
        };
        let key = if lexicon.is_negator(folded, lang) {
            NEGATION.to_string()
        } else if lexicon.is_stop(folded)
            || lexicon.is_soft_negator(folded)
            || lexicon.intensifier(folded).is_some()
            || lexicon.post_intensifier(folded).is_some()
            || lexicon.is_contrast(folded)
            || folded.chars().count() < 2
            || folded.chars().all(|c| c.is_numeric())
        {
            continue;
        } else if let Some(concept) = lexicon.concept(folded, lang) {
            concept.to_string()
        } else {
            stem(lang, folded)
        };
        if let Some(clause) = clauses.last_mut() {
            clause.push(Term { key, surface: original.clone() });
        }
    }
    clauses.retain(|c| !c.is_empty());
    Analysis { lang, clauses }
}

/// Normalised terms of `text`, in order: lowercase, accents folded, split on
/// punctuation, stopwords of both languages removed, every negation turned
/// into [`NEGATION`], product words mapped onto the English concept term
/// ("senha" -> "password") and other words lightly stemmed in the text's
/// language. The same complaint written in either language yields mostly the
/// same terms, which is what lets one theme hold both.
pub fn terms(text: &str) -> Vec<String> {
    analyze(text).clauses.into_iter().flatten().map(|t| t.key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
            .into_iter()
            .map(|t| match t {
                Token::Word { folded, .. } => folded,
                Token::Break => "|".to_string(),
            })
            .collect()
    }

    #[test]
    fn tokenizer_splits_expands_and_joins() {
        assert_eq!(words("I can't log in, it's broken!"), ["i", "not", "can", "login", "|", "it", "broken", "|"]);
        assert_eq!(words("O e-mail não chega"), ["o", "email", "nao", "chega"]);
        assert_eq!(words("vale a pena; redefini-la"), ["vale", "|", "redefini", "la"]);
        assert_eq!(words("Doesn’t   work"), ["not", "does", "work"]);
    }

    #[test]
    fn terms_fold_accents_and_drop_stopwords() {
        let t = terms("A exportação dos relatórios está muito lenta");
        assert!(t.iter().all(|t| t.is_ascii()), "{t:?}");
        assert!(t.contains(&"export".to_string()) && t.contains(&"report".to_string()), "{t:?}");
        assert!(!t.iter().any(|t| ["a", "dos", "esta"].contains(&t.as_str())), "{t:?}");
        assert_eq!(terms("The, of and the."), Vec::<String>::new());
    }

    #[test]
    fn same_complaint_same_terms_in_both_languages() {
        assert_eq!(terms("senha"), terms("password"));
        assert_eq!(terms("Senhas"), ["password"]);
        assert_eq!(terms("can't reset password"), ["not", "reset", "password"]);
        assert_eq!(terms("não consigo redefinir a senha"), ["not", "reset", "password"]);
        assert_eq!(terms("The payment failed"), terms("O pagamento falhou"));
        assert_eq!(terms("Exporting reports is slow"), terms("Exportar relatórios é lento"));
    }

    #[test]
    fn negations_become_one_marker() {
        for text in ["can't", "I cannot", "não consigo", "nao consigo", "never", "nunca", "doesn't", "no email"] {
            assert!(terms(text).contains(&NEGATION.to_string()), "{text}: {:?}", terms(text));
        }
        assert!(!terms("Tem um erro no botão").contains(&NEGATION.to_string()));
    }

    #[test]
    fn clauses_split_on_punctuation() {
        let a = analyze("Slow export. Great docs!");
        let keys: Vec<Vec<&str>> = a.clauses.iter().map(|c| c.iter().map(|t| t.key.as_str()).collect()).collect();
        assert_eq!(keys, [["slow", "export"], ["great", "docs"]]);
        assert_eq!(a.lang, Lang::En);
    }
}
