//! Case and accent folding, shared by the tokenizer and the lexicon so that
//! both sides of every lookup are folded the same way.
//!
//! Why by hand: the two languages need only the Latin-1 accents, and a small
//! match keeps the crate free of Unicode tables. Other scripts pass through
//! lowercased and unfolded.

/// `c` without its accent; `c` is expected lowercase.
pub(crate) fn fold_char(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// `s` lowercased with accents folded: "Não" -> "nao", "Ótimo" -> "otimo".
pub(crate) fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).map(fold_char).collect()
}

/// Whether `s` has a letter whose accent only Portuguese uses among the two
/// languages (English loanwords like "café" are rare in product feedback).
pub(crate) fn has_portuguese_accent(s: &str) -> bool {
    s.chars().any(|c| matches!(c, 'á' | 'à' | 'â' | 'ã' | 'é' | 'ê' | 'í' | 'ó' | 'ô' | 'õ' | 'ú' | 'ç'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_portuguese_accents_and_case() {
        assert_eq!(fold("Não consigo redefinir a SENHA"), "nao consigo redefinir a senha");
        assert_eq!(fold("ÁÀÂÃ éê í óôõ úü ç"), "aaaa ee i ooo uu c");
        assert_eq!(fold("relatórios lentidão botão"), "relatorios lentidao botao");
        assert!(has_portuguese_accent("ótimo") && !has_portuguese_accent("great"));
    }
}
