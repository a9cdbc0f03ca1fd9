//! Sentiment of a feedback text, optionally blended with its rating.
//!
//! Why a lexicon with rules rather than a model: it runs offline in
//! microseconds, reads the same in both languages and every score can be
//! explained word by word. The rules are the few that matter in short
//! feedback, after VADER (Hutto & Gilbert, 2014):
//! - negation flips the next sentiment word within [`NEGATION_WINDOW`] words
//!   of the same clause; a negated positive becomes fully negative ("not
//!   good"), a negated negative only half positive ("not bad" is lukewarm);
//! - a negation with nothing to flip is itself a complaint in product feedback
//!   ("can't reset", "o e-mail nunca chega") and scores [`DANGLING_NEGATION`];
//! - intensifiers multiply the next sentiment word ("very slow", "muito
//!   lento"), "demais" the previous one ("caro demais");
//! - after a contrast word ("but", "mas") the opinion that counts follows:
//!   words before it weigh half, words after it one and a half.
//!
//! The sum `s` is squashed into (-1, 1) with `s / sqrt(s² + 1)`, so one plain
//! word gives about ±0.5 and more evidence approaches ±1 without reaching it.

use super::lang::detect_tokens;
use super::lexicon::lexicon;
use super::tokenize::{Token, tokenize};

/// How many following words a negation reaches.
const NEGATION_WINDOW: usize = 4;
/// Score of a negation that flips no sentiment word.
const DANGLING_NEGATION: f64 = -0.4;
/// A negated positive word scores at least this much below zero, so that
/// "doesn't work" is no milder than a bare "can't".
const NEGATED_POSITIVE_FLOOR: f64 = 0.4;
/// Weights of contributions before and after the last contrast word.
const BEFORE_CONTRAST: f64 = 0.5;
const AFTER_CONTRAST: f64 = 1.5;

/// Sentiment of `text` in [-1, 1] from the lexicon of both languages, with
/// negation ("not good", "não funciona"), intensifiers and contrast. When a
/// `rating` on the 1..=5 scale is given (clamped to it; non-finite ratings
/// are ignored) the result is `0.5 * lexicon + 0.5 * (rating - 3) / 2`: the
/// rating is what the user chose to say about the experience, the words say
/// why, and neither alone is reliable (a 5 with "slow export, otherwise
/// fine", a 1 with no comment). A text with no sentiment words scores 0.
pub fn sentiment(text: &str, rating: Option<f64>) -> f64 {
    blend(lexical_sentiment(text), rating)
}

/// The rating blend of [`sentiment`], for callers that score a text once and
/// blend it with several ratings.
pub(crate) fn blend(lexical: f64, rating: Option<f64>) -> f64 {
    let score = match rating.filter(|r| r.is_finite()) {
        Some(r) => 0.5 * lexical + 0.5 * ((r.clamp(1.0, 5.0) - 3.0) / 2.0),
        None => lexical,
    };
    score.clamp(-1.0, 1.0)
}

/// A pending negation: whether it is a real one (scores when dangling) and
/// how many words it still reaches.
struct Negation {
    hard: bool,
    left: usize,
}

/// The lexicon part of [`sentiment`], in [-1, 1].
pub(crate) fn lexical_sentiment(text: &str) -> f64 {
    let lexicon = lexicon();
    let tokens = tokenize(text);
    let lang = detect_tokens(&tokens);
    // (word position, contribution)
    let mut contributions: Vec<(usize, f64)> = Vec::new();
    let mut contrast_at: Option<usize> = None;
    let mut negation: Option<Negation> = None;
    let mut boost: Option<f64> = None;
    let mut last_valenced: Option<usize> = None;
    let mut position = 0;
    let dangle = |negation: &mut Option<Negation>, contributions: &mut Vec<(usize, f64)>, position: usize| {
        if let Some(Negation { hard: true, .. }) = negation.take() {
            contributions.push((position, DANGLING_NEGATION));
        }
    };
    for (i, token) in tokens.iter().enumerate() {
        let word = match token {
            Token::Word { folded, .. } => folded.as_str(),
            Token::Break => {
                dangle(&mut negation, &mut contributions, position);
                (boost, last_valenced) = (None, None);
                continue;
            }
        };
        position += 1;
        if lexicon.is_contrast(word) {
            dangle(&mut negation, &mut contributions, position);
            (boost, last_valenced, contrast_at) = (None, None, Some(position));
        } else if lexicon.is_negator(word, lang) {
            negation = Some(Negation { hard: true, left: NEGATION_WINDOW });
        } else if lexicon.is_soft_negator(word) {
            let hard = negation.as_ref().is_some_and(|n| n.hard);
            negation = Some(Negation { hard, left: NEGATION_WINDOW });
        } else if let Some(m) = lexicon.post_intensifier(word) {
            match last_valenced.and_then(|j| contributions.get_mut(j)) {
                Some(c) => c.1 *= m,
                // On its own, "demais" is praise ("o app é demais").
                None => contributions.push((position, 0.5)),
            }
        } else if let Some(m) = lexicon.intensifier(word).filter(|_| next_is_valenced(&tokens[i + 1..], lang)) {
            boost = Some(m);
        } else if let Some(valence) = lexicon.valence(word, lang) {
            let mut v = valence * boost.take().unwrap_or(1.0);
            if negation.take().is_some() {
                v = if v > 0.0 { -v.max(NEGATED_POSITIVE_FLOOR) } else { -0.5 * v };
            }
            contributions.push((position, v));
            last_valenced = Some(contributions.len() - 1);
        } else if let Some(n) = negation.as_mut() {
            n.left -= 1;
            if n.left == 0 {
                dangle(&mut negation, &mut contributions, position);
            }
        }
    }
    dangle(&mut negation, &mut contributions, position);
    let sum: f64 = contributions
        .iter()
        .map(|&(p, v)| match contrast_at {
            Some(c) if p < c => v * BEFORE_CONTRAST,
            Some(_) => v * AFTER_CONTRAST,
            None => v,
        })
        .sum();
    let score = sum / (sum * sum + 1.0).sqrt();
    debug_assert!((-1.0..=1.0).contains(&score));
    score
}

/// Whether the next word of the clause carries sentiment.
fn next_is_valenced(rest: &[Token], lang: super::Lang) -> bool {
    match rest.first() {
        Some(Token::Word { folded, .. }) => lexicon().valence(folded, lang).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clear_complaints_are_negative_in_both_languages() {
        for text in [
            "Payment failed twice, I couldn't upgrade.",
            "Export to CSV takes forever on big reports.",
            "I can't reset my password, the email never arrives.",
            "This is terrible, the app keeps crashing.",
            "O pagamento falhou duas vezes, não consegui fazer o upgrade.",
            "Exportar para CSV demora demais em relatórios grandes.",
            "Não consigo redefinir a senha, o e-mail nunca chega.",
            "Péssimo, o app trava toda hora.",
            "O botão de pagar não faz nada.",
        ] {
            let s = sentiment(text, None);
            assert!(s < -0.2, "{text}: {s}");
        }
    }

    #[test]
    fn clear_praise_is_positive_in_both_languages() {
        for text in [
            "Setup took five minutes, great docs.",
            "Love how fast the reports load now.",
            "Upgrading was painless, thanks!",
            "Configurei em cinco minutos, a documentação é ótima.",
            "Adorei, os relatórios carregam muito rápido agora.",
            "Fazer o upgrade foi super tranquilo, valeu!",
            "Só pelos alertas já vale a pena.",
        ] {
            let s = sentiment(text, None);
            assert!(s > 0.2, "{text}: {s}");
        }
    }

    #[test]
    fn negation_flips() {
        assert!(sentiment("not good", None) < 0.0);
        assert!(sentiment("não é bom", None) < 0.0);
        assert!(sentiment("doesn't work", None) < 0.0);
        assert!(sentiment("não funciona", None) < 0.0);
        assert!(sentiment("not bad", None) > 0.0);
        assert!(sentiment("funciona sem problemas", None) > 0.0);
        // A negation does not cross a clause.
        assert!(sentiment("Nothing to add. Great docs!", None) > 0.0);
        assert!(sentiment("Nothing to add, great docs!", None) > 0.0);
        assert!(sentiment("Nothing to add great docs", None) < 0.0);
    }

    #[test]
    fn intensifiers_and_contrast_weigh() {
        assert!(sentiment("very slow", None) < sentiment("slow", None));
        assert!(sentiment("muito lento", None) < sentiment("lento", None));
        assert!(sentiment("caro demais", None) < sentiment("caro", None));
        assert!(sentiment("a bit confusing", None) > sentiment("confusing", None));
        assert!(sentiment("Good overall, but exports are really slow", None) < 0.0);
        assert!(sentiment("No geral é bom, mas a exportação é lenta demais", None) < 0.0);
        assert_eq!(sentiment("The export button is on the left", None), 0.0);
    }

    #[test]
    fn rating_blends_half_and_half() {
        let text = "Setup took five minutes, great docs.";
        let lexical = sentiment(text, None);
        assert!((sentiment(text, Some(5.0)) - (0.5 * lexical + 0.5)).abs() < 1e-12);
        assert!((sentiment(text, Some(3.0)) - 0.5 * lexical).abs() < 1e-12);
        assert!((sentiment(text, Some(1.0)) - (0.5 * lexical - 0.5)).abs() < 1e-12);
        assert_eq!(sentiment("", Some(1.0)), -0.5);
        assert_eq!(sentiment("", Some(9.0)), 0.5, "ratings are clamped to 1..=5");
        assert_eq!(sentiment(text, Some(f64::NAN)), lexical, "a non-finite rating is ignored");
    }

    proptest! {
        #[test]
        fn always_in_range(text in "\\PC{0,80}", rating in proptest::option::of(-10.0f64..10.0)) {
            let s = sentiment(&text, rating);
            prop_assert!((-1.0..=1.0).contains(&s));
        }
    }
}
