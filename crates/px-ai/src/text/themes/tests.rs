use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::text::TfIdf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Topic {
    Password,
    Payment,
    Export,
    Praise,
}

/// Ten texts per topic, five per language, paraphrased rather than
/// translated line by line.
const CORPUS: &[(Topic, &str)] = &[
    (Topic::Password, "I can't reset my password, the email never arrives."),
    (Topic::Password, "Password reset link says it expired right away."),
    (Topic::Password, "can't reset password"),
    (Topic::Password, "The reset password email takes ages and the link is already expired."),
    (Topic::Password, "Tried resetting my password three times, still no email."),
    (Topic::Password, "Não consigo redefinir a senha, o e-mail nunca chega."),
    (Topic::Password, "O link para redefinir a senha diz que expirou na hora."),
    (Topic::Password, "não consigo redefinir a senha"),
    (Topic::Password, "Pedi para redefinir minha senha e o link já veio expirado."),
    (Topic::Password, "Esqueci a senha e o e-mail de redefinição não chega."),
    (Topic::Payment, "Payment failed twice, I couldn't upgrade."),
    (Topic::Payment, "My card was declined at checkout even though it is valid."),
    (Topic::Payment, "The payment keeps failing when I try to pay."),
    (Topic::Payment, "Checkout error: the payment could not be processed."),
    (Topic::Payment, "Payment failed again, still can't upgrade my plan."),
    (Topic::Payment, "O pagamento falhou duas vezes, não consegui fazer o upgrade."),
    (Topic::Payment, "Meu cartão foi recusado no pagamento mesmo sendo válido."),
    (Topic::Payment, "O pagamento continua falhando quando tento pagar."),
    (Topic::Payment, "Erro no checkout: não foi possível processar o pagamento."),
    (Topic::Payment, "Pagamento falhou de novo, ainda não consigo fazer upgrade do plano."),
    (Topic::Export, "Export to CSV takes forever on big reports."),
    (Topic::Export, "Exporting a report is really slow."),
    (Topic::Export, "CSV export of large reports is painfully slow."),
    (Topic::Export, "The report export hangs for minutes before the CSV downloads."),
    (Topic::Export, "Exports are so slow I gave up waiting."),
    (Topic::Export, "Exportar para CSV demora demais em relatórios grandes."),
    (Topic::Export, "Exportar um relatório é muito lento."),
    (Topic::Export, "A exportação de relatórios grandes em CSV é lenta demais."),
    (Topic::Export, "A exportação do relatório trava por minutos antes de baixar o CSV."),
    (Topic::Export, "A exportação é tão lenta que desisti de esperar."),
    (Topic::Praise, "Setup took five minutes, great docs."),
    (Topic::Praise, "Love the dashboards, super easy to use."),
    (Topic::Praise, "Great product, the whole team loves it."),
    (Topic::Praise, "Amazing tool, easy setup and great support."),
    (Topic::Praise, "Really love how easy the dashboards are."),
    (Topic::Praise, "Configurei em cinco minutos, a documentação é ótima."),
    (Topic::Praise, "Adorei os dashboards, super fácil de usar."),
    (Topic::Praise, "Produto ótimo, o time todo adora."),
    (Topic::Praise, "Ferramenta incrível, configuração fácil e suporte ótimo."),
    (Topic::Praise, "Amo como os dashboards são fáceis."),
];

fn feedback() -> Vec<Feedback<'static>> {
    CORPUS
        .iter()
        .map(|&(topic, text)| Feedback { text, rating: Some(if topic == Topic::Praise { 5.0 } else { 2.0 }) })
        .collect()
}

fn theme_of(themes: &[Theme], member: usize) -> Option<usize> {
    themes.iter().position(|t| t.members.contains(&member))
}

fn indices(topic: Topic) -> Vec<usize> {
    CORPUS.iter().enumerate().filter(|(_, (t, _))| *t == topic).map(|(i, _)| i).collect()
}

#[test]
fn bilingual_corpus_clusters_by_topic() {
    let themes = themes(&feedback(), &TfIdf, &ThemeOptions::default());
    let report: Vec<(String, Vec<String>, Vec<usize>)> =
        themes.iter().map(|t| (t.label.clone(), t.terms.clone(), t.members.clone())).collect();

    let password = indices(Topic::Password);
    let home = theme_of(&themes, password[0]);
    assert!(home.is_some() && password.iter().all(|&i| theme_of(&themes, i) == home), "{report:#?}");
    let Some(t) = home.map(|h| &themes[h]) else { return };
    let words = format!("{} {}", t.label, t.terms.join(" "));
    assert!(words.contains("password") && words.contains("reset"), "{report:#?}");
    assert_eq!(t.languages, [Lang::En, Lang::PtBr]);
    assert!(t.sentiment < -0.2, "{}", t.sentiment);

    let payment = indices(Topic::Payment);
    let payment_home = theme_of(&themes, payment[0]);
    assert!(payment_home.is_some() && payment_home != home, "{report:#?}");
    assert!(payment.iter().all(|&i| theme_of(&themes, i) == payment_home), "{report:#?}");

    let (purity, assigned) = purity(&themes, |m| CORPUS[m].0);
    assert!(purity >= 0.9, "purity {purity}: {report:#?}");
    assert!(assigned as f64 >= 0.8 * CORPUS.len() as f64, "only {assigned} assigned: {report:#?}");

    for t in &themes {
        assert!(!t.label.is_empty() && t.terms.len() <= MAX_THEME_TERMS);
        assert!(t.members.windows(2).all(|w| w[0] < w[1]));
        assert!(!t.quotes.is_empty() && t.quotes.len() <= MAX_QUOTES);
        assert!(t.quotes.iter().all(|q| t.members.contains(q)), "quotes are members: {t:?}");
        let texts: BTreeSet<&str> = t.quotes.iter().map(|&q| CORPUS[q].1).collect();
        assert_eq!(texts.len(), t.quotes.len(), "quotes are distinct texts");
        if t.languages.len() == 2 {
            let langs: BTreeSet<Lang> = t.quotes.iter().map(|&q| detect_lang_of(q)).collect();
            assert_eq!(langs.len(), 2, "quotes cover both languages: {t:?}");
        }
        assert!((-1.0..=1.0).contains(&t.sentiment));
    }
    assert!(themes.windows(2).all(|w| w[0].members.len() >= w[1].members.len()), "largest first");
}

/// Share of assigned members whose theme's majority topic is theirs, and the
/// number of assigned members.
fn purity<T: Ord + Copy>(themes: &[Theme], topic_of: impl Fn(usize) -> T) -> (f64, usize) {
    let (mut assigned, mut majority) = (0, 0);
    for t in themes {
        let mut counts = std::collections::BTreeMap::new();
        for &m in &t.members {
            *counts.entry(topic_of(m)).or_insert(0) += 1;
        }
        assigned += t.members.len();
        majority += counts.values().max().copied().unwrap_or(0);
    }
    (if assigned == 0 { 0.0 } else { majority as f64 / assigned as f64 }, assigned)
}

fn detect_lang_of(i: usize) -> Lang {
    crate::text::detect_lang(CORPUS[i].1)
}

#[test]
fn praise_and_complaints_differ_in_sentiment() {
    let themes = themes(&feedback(), &TfIdf, &ThemeOptions::default());
    let praise = theme_of(&themes, indices(Topic::Praise)[0]).map(|t| themes[t].sentiment);
    let export = theme_of(&themes, indices(Topic::Export)[0]).map(|t| themes[t].sentiment);
    assert!(praise.is_some_and(|s| s > 0.5), "{praise:?}");
    assert!(export.is_some_and(|s| s < -0.3), "{export:?}");
}

#[test]
fn same_seed_same_themes() {
    let options = ThemeOptions { seed: 42, ..ThemeOptions::default() };
    let a = themes(&feedback(), &TfIdf, &options);
    let b = themes(&feedback(), &TfIdf, &options);
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[test]
fn edge_cases() {
    assert!(themes(&[], &TfIdf, &ThemeOptions::default()).is_empty());
    let blank = [Feedback { text: "   ", rating: Some(1.0) }, Feedback { text: "", rating: None }];
    assert!(themes(&blank, &TfIdf, &ThemeOptions::default()).is_empty());
    // One text repeated: one theme holding every copy.
    let same: Vec<Feedback<'_>> = (0..5).map(|_| Feedback { text: "Export is slow", rating: Some(2.0) }).collect();
    let t = themes(&same, &TfIdf, &ThemeOptions::default());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].members, [0, 1, 2, 3, 4]);
    assert_eq!(t[0].quotes, [0]);
    // Too small to be a theme.
    let few = &feedback()[..2];
    assert!(themes(few, &TfIdf, &ThemeOptions::default()).is_empty());
}

/// An embedder that counts the texts it is asked to embed.
struct Counting {
    texts: AtomicUsize,
    calls: AtomicUsize,
}

impl Embedder for Counting {
    fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.texts.fetch_add(texts.len(), Ordering::Relaxed);
        TfIdf.embed(texts)
    }
    fn name(&self) -> &'static str {
        "counting"
    }
}

#[test]
fn repeated_texts_cost_one_embedding_each() {
    // 150 distinct texts: every corpus text plus variants, drawn 20,000 times.
    let mut distinct: Vec<String> = CORPUS.iter().map(|(_, t)| t.to_string()).collect();
    let mut k = 0;
    while distinct.len() < 150 {
        let (_, base) = CORPUS[k % CORPUS.len()];
        distinct.push(format!("{base} ({})", ["again", "today", "this week", "de novo", "hoje"][k / CORPUS.len()]));
        k += 1;
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let feedback: Vec<Feedback<'_>> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let text = &distinct[(state % distinct.len() as u64) as usize];
            Feedback { text, rating: Some((state % 5 + 1) as f64) }
        })
        .collect();
    let counting = Counting { texts: AtomicUsize::new(0), calls: AtomicUsize::new(0) };
    let themes = themes(&feedback, &counting, &ThemeOptions::default());
    assert_eq!(counting.calls.load(Ordering::Relaxed), 1);
    assert_eq!(counting.texts.load(Ordering::Relaxed), 150);
    let members: usize = themes.iter().map(|t| t.members.len()).sum();
    assert!(members >= 16_000, "{members} of 20000 assigned");
    let all: BTreeSet<usize> = themes.iter().flat_map(|t| t.members.iter().copied()).collect();
    assert_eq!(all.len(), members, "a feedback belongs to at most one theme");
}

/// Other words for the same four topics: nothing here shares a sentence with
/// [`CORPUS`], so a pass cannot come from tuning on it.
const PARAPHRASES: &[(Topic, &str)] = &[
    (Topic::Password, "Forgot my password and the recovery email is nowhere to be found."),
    (Topic::Password, "Esqueci minha senha e não recebo o link de recuperação."),
    (Topic::Password, "The link to change my password doesn't work."),
    (Topic::Password, "O link de troca de senha não funciona."),
    (Topic::Password, "password reset broken"),
    (Topic::Password, "redefinição de senha quebrada"),
    (Topic::Password, "Reset email went to spam and the link had expired."),
    (Topic::Password, "O e-mail de redefinição caiu no spam e o link tinha expirado."),
    (Topic::Payment, "My credit card keeps getting rejected."),
    (Topic::Payment, "Meu cartão de crédito continua sendo recusado."),
    (Topic::Payment, "Checkout shows an error when I pay."),
    (Topic::Payment, "O checkout mostra um erro quando eu pago."),
    (Topic::Payment, "I was charged but the upgrade didn't go through."),
    (Topic::Payment, "Fui cobrado mas o upgrade não foi aplicado."),
    (Topic::Payment, "Billing page fails to process my card."),
    (Topic::Payment, "A página de cobrança não processa meu cartão."),
    (Topic::Export, "CSV download takes ages."),
    (Topic::Export, "O download do CSV demora uma eternidade."),
    (Topic::Export, "Exporting big reports times out."),
    (Topic::Export, "Exportar relatórios grandes dá timeout."),
    (Topic::Export, "Report export is super slow."),
    (Topic::Export, "A exportação de relatórios é lentíssima."),
    (Topic::Export, "Exports hang forever."),
    (Topic::Export, "As exportações ficam travadas."),
    (Topic::Praise, "Fantastic product, my team loves it."),
    (Topic::Praise, "Produto fantástico, minha equipe adora."),
    (Topic::Praise, "Really intuitive and easy to use."),
    (Topic::Praise, "Muito intuitivo e fácil de usar."),
    (Topic::Praise, "The best analytics tool we've tried."),
    (Topic::Praise, "A melhor ferramenta de análise que já usamos."),
    (Topic::Praise, "Great support, thanks!"),
    (Topic::Praise, "Suporte ótimo, obrigado!"),
];

#[test]
fn paraphrases_in_other_words_cluster_too() {
    let feedback: Vec<Feedback<'_>> = PARAPHRASES.iter().map(|&(_, text)| Feedback { text, rating: None }).collect();
    let themes = themes(&feedback, &TfIdf, &ThemeOptions::default());
    let report: Vec<(&str, Vec<&str>)> =
        themes.iter().map(|t| (t.label.as_str(), t.members.iter().map(|&m| PARAPHRASES[m].1).collect())).collect();
    let (purity, assigned) = purity(&themes, |m| PARAPHRASES[m].0);
    assert!(purity >= 0.9 && assigned >= 26, "purity {purity}, {assigned} assigned: {report:#?}");
    for topic in [Topic::Password, Topic::Payment, Topic::Export] {
        let homes: BTreeSet<Option<usize>> = PARAPHRASES
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| *t == topic)
            .map(|(i, _)| theme_of(&themes, i))
            .collect();
        assert_eq!(homes.len(), 1, "{topic:?} in one theme: {report:#?}");
    }
}

#[test]
fn praise_and_complaints_about_one_feature_are_apart() {
    let texts = [
        "Payment failed twice, I couldn't upgrade.",
        "O pagamento falhou duas vezes, não consegui fazer o upgrade.",
        "Wanted to upgrade but the card form broke.",
        "Queria assinar mas o formulário do cartão quebrou.",
        "The checkout page keeps erroring out on my iPhone.",
        "A página de pagamento dá erro toda hora no meu iPhone.",
        "Upgrading was painless, thanks!",
        "Fazer o upgrade foi super tranquilo, valeu!",
        "Smooth checkout, invoice arrived right away.",
        "Pagamento tranquilo, a nota chegou na hora.",
        "Upgrade was quick and easy.",
        "O upgrade foi rápido e fácil.",
    ];
    let feedback: Vec<Feedback<'_>> = texts.iter().map(|&text| Feedback { text, rating: None }).collect();
    let themes = themes(&feedback, &TfIdf, &ThemeOptions::default());
    assert!(themes.len() >= 2, "{themes:#?}");
    for t in &themes {
        let praise = t.members.iter().filter(|&&m| m >= 6).count();
        assert!(praise == 0 || praise == t.members.len(), "mixed theme: {t:#?}");
    }
}
