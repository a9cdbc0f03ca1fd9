use super::*;

#[test]
fn every_entry_is_reachable() {
    let lexicon = lexicon();
    for &(term, en, pt) in concepts::CONCEPTS {
        for (lang, list) in [(Lang::En, en), (Lang::PtBr, pt)] {
            for word in list {
                let folded = fold(word);
                assert!(!lexicon.is_stop(&folded), "{word} is a stopword, so never maps to {term}");
                assert!(!lexicon.is_negator(&folded, lang), "{word} is a negator");
                assert!(lexicon.intensifier(&folded).is_none(), "{word} is an intensifier");
                assert_eq!(lexicon.concept(&folded, lang), Some(term), "{word} ({lang:?})");
            }
        }
    }
    for (lang, list) in [(Lang::En, sentiment_words::SENTIMENT_EN), (Lang::PtBr, sentiment_words::SENTIMENT_PT)] {
        for &(word, valence) in list {
            assert!((-1.0..=1.0).contains(&valence), "{word}");
            assert_eq!(lexicon.valence(&fold(word), lang), Some(valence), "{word} ({lang:?})");
        }
    }
}

#[test]
fn false_friends_stay_in_their_language() {
    let lexicon = lexicon();
    assert_eq!(lexicon.concept("time", Lang::En), Some("time"));
    assert_eq!(lexicon.concept("time", Lang::PtBr), Some("team"));
    assert_eq!(lexicon.concept("data", Lang::En), Some("data"));
    assert_eq!(lexicon.concept("data", Lang::PtBr), Some("date"));
    assert!(lexicon.is_negator("no", Lang::En) && !lexicon.is_negator("no", Lang::PtBr));
    // Loanwords and their inflections reach the English entry from Portuguese.
    assert_eq!(lexicon.concept("dashboards", Lang::PtBr), Some("dashboard"));
    assert_eq!(lexicon.concept("checkouts", Lang::PtBr), Some("checkout"));
}

#[test]
fn coverage_is_a_few_hundred_entries() {
    let stats = lexicon_stats();
    assert!(stats.concepts >= 140, "{stats:?}");
    assert!(stats.concept_mappings_en + stats.concept_mappings_pt_br >= 500, "{stats:?}");
    assert!(stats.sentiment_words_en >= 150 && stats.sentiment_words_pt_br >= 120, "{stats:?}");
}

#[test]
fn families_group_known_concepts_once() {
    let lexicon = lexicon();
    let mut seen = HashSet::new();
    for &(family, members) in concepts::FAMILIES {
        for m in members.split_whitespace() {
            assert!(lexicon.is_concept_term(m), "{m} in {family} is no concept");
            assert!(seen.insert(m), "{m} is in two families");
            assert_eq!(lexicon.family(m), Some(family));
        }
    }
}
