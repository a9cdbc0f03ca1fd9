//! Light stemmers for English and Brazilian Portuguese.
//!
//! Why light: themes need "exports", "exporting" and "exported" (or
//! "lentas", "lento", "lentidão") to be one term, not a linguistically correct
//! root. A few suffix rules per language reach that, stay predictable and
//! apply identically to the lexicon's entries, so a lookup by stem finds the
//! inflected forms of every entry. Stems need not be words ("shar", "senh");
//! readable forms come from the concept lexicon or from the surface words.
//! Input is folded (lowercase, no accents); anything non-ASCII is returned
//! unchanged.

use super::Lang;

/// The stem of a folded word in `lang`.
pub(crate) fn stem(lang: Lang, word: &str) -> String {
    match lang {
        Lang::En => stem_en(word),
        Lang::PtBr => stem_pt(word),
    }
}

fn has_vowel(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y'))
}

/// English: plurals and third person, "-ly" adverbs, "-ing" and "-ed", then a
/// final "e" so that "share", "shared" and "sharing" meet at "shar".
pub(crate) fn stem_en(word: &str) -> String {
    if word.len() <= 3 || !word.is_ascii() {
        return word.to_string();
    }
    let mut s = word.to_string();
    if s.ends_with("ies") && s.len() > 4 {
        s.truncate(s.len() - 3);
        s.push('y');
    } else if s.ends_with("es") && ["s", "x", "z", "ch", "sh"].iter().any(|e| s[..s.len() - 2].ends_with(e)) {
        s.truncate(s.len() - 2);
    } else if s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is") {
        s.truncate(s.len() - 1);
    }
    if s.len() > 5 && s.ends_with("ily") {
        s.truncate(s.len() - 3);
        s.push('y');
    } else if s.len() > 5 && s.ends_with("ly") {
        s.truncate(s.len() - 2);
    }
    if s.len() > 4 && s.ends_with("ied") {
        s.truncate(s.len() - 3);
        s.push('y');
    } else if let Some(base) = s.strip_suffix("ing").or_else(|| s.strip_suffix("ed").filter(|b| !b.ends_with('e')))
        && base.len() >= 3
        && has_vowel(base)
    {
        s = base.to_string();
        let b = s.as_bytes();
        let n = b.len();
        if n >= 2 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'a' | b'e' | b'i' | b'o' | b'u' | b'l' | b's' | b'z')
        {
            s.pop();
        }
    }
    if s.len() > 3 && s.ends_with('e') {
        s.pop();
    }
    s
}

/// Portuguese suffixes removed after the plural, longest first; the stem
/// keeps at least three letters.
const PT_SUFFIXES: &[&str] = &[
    "issimo", "issima", "amente", "amento", "imento", "mente", "idade", "acao", "icao", "ucao", "idao", "aram", "eram",
    "iram", "avam", "amos", "emos", "imos", "ando", "endo", "indo", "ado", "ada", "ido", "ida", "ava", "ar", "er",
    "ir", "ou", "eu", "iu", "am", "em", "ei", "ez", "a", "e", "o", "i",
];

/// Portuguese: plural ("-ões" -> "-ão", "-ns" -> "-m", "-s"), then one
/// verbal, nominal or adverbial suffix, so that "pagar", "pagou",
/// "pagamento" meet at "pag" and "exportar", "exportação" at "export".
pub(crate) fn stem_pt(word: &str) -> String {
    if word.len() <= 3 || !word.is_ascii() {
        return word.to_string();
    }
    let mut s = word.to_string();
    if s.ends_with("oes") || s.ends_with("aes") {
        s.truncate(s.len() - 3);
        s.push_str("ao");
    } else if s.len() > 4 && s.ends_with("ais") {
        s.truncate(s.len() - 3);
        s.push_str("al");
    } else if s.len() > 4 && s.ends_with("eis") {
        s.truncate(s.len() - 3);
        s.push_str("el");
    } else if s.ends_with("ns") {
        s.truncate(s.len() - 2);
        s.push('m');
    } else if s.len() > 4 && (s.ends_with("res") || s.ends_with("zes") || s.ends_with("ses")) {
        s.truncate(s.len() - 2);
    } else if s.ends_with('s') && !s.ends_with("ss") {
        s.truncate(s.len() - 1);
    }
    for suffix in PT_SUFFIXES {
        if let Some(base) = s.strip_suffix(suffix)
            && base.len() >= 3
        {
            s.truncate(base.len());
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(f: fn(&str) -> String, words: &[&str]) {
        let stems: Vec<String> = words.iter().map(|w| f(w)).collect();
        assert!(stems.iter().all(|s| s == &stems[0]), "{words:?} -> {stems:?}");
    }

    #[test]
    fn english_inflections_meet() {
        same(stem_en, &["export", "exports", "exporting", "exported"]);
        same(stem_en, &["share", "shared", "sharing", "shares"]);
        same(stem_en, &["crash", "crashes", "crashed", "crashing"]);
        same(stem_en, &["try", "tries", "tried", "trying"]);
        same(stem_en, &["stop", "stopped", "stopping"]);
        same(stem_en, &["slow", "slowly"]);
        same(stem_en, &["easy", "easily"]);
        same(stem_en, &["page", "pages"]);
        assert_eq!(stem_en("status"), "status");
        assert_eq!(stem_en("speed"), "speed");
        assert_eq!(stem_en("process"), "process");
        assert_eq!(stem_en("csv"), "csv");
    }

    #[test]
    fn portuguese_inflections_meet() {
        same(stem_pt, &["pagar", "pagou", "pagamento", "pagamentos", "pago"]);
        same(stem_pt, &["exportar", "exportacao", "exportacoes", "exporta", "exportei"]);
        same(stem_pt, &["redefinir", "redefini", "redefinicao", "redefinindo"]);
        same(stem_pt, &["lento", "lenta", "lentos", "lentidao", "lentamente", "lentissima"]);
        same(stem_pt, &["senha", "senhas"]);
        same(stem_pt, &["botao", "botoes"]);
        same(stem_pt, &["falha", "falhou", "falhar", "falhando"]);
        same(stem_pt, &["item", "itens"]);
        assert_eq!(stem_pt("api"), "api");
    }
}
