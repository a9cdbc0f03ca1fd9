//! Feedback comments, each in English and Brazilian Portuguese, grouped by
//! what prompted them. A comment follows its cause (a failed payment yields a
//! complaint about payment, not about price), so the AI engine's clustering
//! and sentiment have real structure to find.

/// What a piece of feedback is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    /// In-app survey with nothing special in the session.
    General,
    /// The payment form failed.
    CheckoutError,
    /// Export was slow (rage clicks on the export button).
    SlowExport,
    /// Just upgraded.
    Upgraded,
}

/// A comment with the ratings it goes with (inclusive range).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comment {
    pub min_rating: u8,
    pub max_rating: u8,
    pub en: &'static str,
    pub pt_br: &'static str,
}

const fn c(min_rating: u8, max_rating: u8, en: &'static str, pt_br: &'static str) -> Comment {
    Comment { min_rating, max_rating, en, pt_br }
}

const GENERAL: &[Comment] = &[
    c(5, 5, "Love how fast the reports load now.", "Adorei, os relatórios carregam muito rápido agora."),
    c(4, 5, "Setup took five minutes, great docs.", "Configurei em cinco minutos, a documentação é ótima."),
    c(4, 5, "The funnel view is exactly what we needed.", "A visão de funil é exatamente o que a gente precisava."),
    c(4, 5, "Sharing dashboards with the team is super easy.", "Compartilhar dashboards com o time ficou muito fácil."),
    c(
        5,
        5,
        "The alerts caught a drop in signups before our standup.",
        "Os alertas pegaram uma queda nos cadastros antes da nossa daily.",
    ),
    c(3, 4, "Good overall, but I wish exports supported Excel.", "No geral é bom, mas queria exportar para Excel."),
    c(3, 3, "Decent, the date picker is a bit clunky.", "Razoável, o seletor de datas é meio confuso."),
    c(2, 3, "Dashboards are slow to load in the morning.", "Os dashboards demoram para carregar de manhã."),
    c(1, 2, "I clicked the chart and nothing happened.", "Cliquei no gráfico e nada aconteceu."),
    c(1, 2, "Too expensive for a small team.", "Caro demais para uma equipe pequena."),
    c(2, 3, "Hard to find where to invite teammates.", "Difícil achar onde convidar pessoas do time."),
];

const CHECKOUT_ERROR: &[Comment] = &[
    c(
        1,
        1,
        "Payment failed twice, I couldn't upgrade.",
        "O pagamento falhou duas vezes, não consegui fazer o upgrade.",
    ),
    c(
        1,
        2,
        "The checkout page keeps erroring out on my iPhone.",
        "A página de pagamento dá erro toda hora no meu iPhone.",
    ),
    c(1, 2, "Pay now button does nothing.", "O botão de pagar não faz nada."),
    c(2, 2, "Wanted to upgrade but the card form broke.", "Queria assinar mas o formulário do cartão quebrou."),
];

const SLOW_EXPORT: &[Comment] = &[
    c(1, 2, "Export to CSV takes forever on big reports.", "Exportar para CSV demora demais em relatórios grandes."),
    c(2, 3, "Export works but it's really slow.", "A exportação funciona, mas é muito lenta."),
];

const UPGRADED: &[Comment] = &[
    c(5, 5, "Upgrading was painless, thanks!", "Fazer o upgrade foi super tranquilo, valeu!"),
    c(4, 5, "Smooth checkout, invoice arrived right away.", "Pagamento tranquilo, a nota chegou na hora."),
    c(4, 4, "Worth it for the alerts alone.", "Só pelos alertas já vale a pena."),
];

/// Comments that fit `topic` and `rating`; never empty for ratings 1 to 5
/// within the topic's usual range.
pub(crate) fn comments(topic: Topic) -> &'static [Comment] {
    match topic {
        Topic::General => GENERAL,
        Topic::CheckoutError => CHECKOUT_ERROR,
        Topic::SlowExport => SLOW_EXPORT,
        Topic::Upgraded => UPGRADED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_comments_cover_every_rating() {
        for rating in 1..=5u8 {
            assert!(GENERAL.iter().any(|c| (c.min_rating..=c.max_rating).contains(&rating)), "{rating}");
        }
        for topic in [Topic::General, Topic::CheckoutError, Topic::SlowExport, Topic::Upgraded] {
            for c in comments(topic) {
                assert!(c.min_rating >= 1 && c.max_rating <= 5 && c.min_rating <= c.max_rating);
                assert!(!c.en.is_empty() && !c.pt_br.is_empty());
            }
        }
    }
}
