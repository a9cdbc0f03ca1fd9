//! Which of the two supported languages a text is written in.
//!
//! Why evidence counting and not a model: feedback is short ("não consigo
//! entrar") and only two languages are in play, so the words only one of them
//! uses (stopwords, lexicon entries) plus the accents only Portuguese writes
//! decide reliably. English wins ties because it is the product's default.

use super::fold::has_portuguese_accent;
use super::lexicon::lexicon;
use super::tokenize::{Token, tokenize};

/// A language feedback may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    En,
    PtBr,
}

impl Lang {
    /// Both languages, in the order themes list them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::PtBr];

    /// The other supported language.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::PtBr,
            Lang::PtBr => Lang::En,
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::PtBr => 1,
        }
    }
}

/// The language of `text`: one point per word only English or only Portuguese
/// uses, one per word with a Portuguese accent; English on a tie (including
/// text with no evidence at all).
pub fn detect_lang(text: &str) -> Lang {
    detect_tokens(&tokenize(text))
}

/// [`detect_lang`] over tokens already produced, so analysis tokenizes once.
pub(crate) fn detect_tokens(tokens: &[Token]) -> Lang {
    let lexicon = lexicon();
    let (mut en, mut pt) = (0u32, 0u32);
    for token in tokens {
        if let Token::Word { folded, original } = token {
            if has_portuguese_accent(original) {
                pt += 1;
            }
            match lexicon.evidence(folded) {
                Some(Lang::En) => en += 1,
                Some(Lang::PtBr) => pt += 1,
                None => {}
            }
        }
    }
    if pt > en { Lang::PtBr } else { Lang::En }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_both_languages() {
        for text in [
            "I can't reset my password, the email never arrives.",
            "Payment failed twice, I couldn't upgrade.",
            "Export to CSV takes forever on big reports.",
            "can't reset password",
            "Love the new dashboards!",
        ] {
            assert_eq!(detect_lang(text), Lang::En, "{text}");
        }
        for text in [
            "Não consigo redefinir a senha, o e-mail nunca chega.",
            "O pagamento falhou duas vezes, não consegui fazer o upgrade.",
            "nao consigo entrar",
            "Os dashboards demoram para carregar de manhã.",
            "ótimo",
            "senha expirou",
        ] {
            assert_eq!(detect_lang(text), Lang::PtBr, "{text}");
        }
    }

    #[test]
    fn no_evidence_defaults_to_english() {
        assert_eq!(detect_lang(""), Lang::En);
        assert_eq!(detect_lang("CSV 123 ???"), Lang::En);
    }
}
