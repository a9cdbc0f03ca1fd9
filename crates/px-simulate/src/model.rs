//! The behaviour model: every rate that shapes the traffic (returns, funnel
//! steps, errors, frustration) in one struct, so the numbers the docs quote
//! are in one place and a labelled scenario can later start from
//! [`Model::default`] and change a few of them.
//!
//! Rates are per session or per page view as each field says. The funnel
//! rates are chosen so that, per visitor, pricing is reached by ~35%, signup
//! is started by ~12% and completed by ~70% of those who start, and ~60% of
//! started checkouts complete (see `docs/simulate.md` and the calibration
//! test in `tests/realism.rs`).

/// Behaviour rates of the simulated product and its visitors.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    // Coming back.
    /// P(an anonymous visitor comes back after a session).
    pub anon_return: f64,
    /// Mean days until an anonymous visitor's next visit.
    pub anon_gap_days: f64,
    /// P(a free user comes back after a session).
    pub free_return: f64,
    pub free_gap_days: f64,
    /// P(a paying user comes back after a session).
    pub paid_return: f64,
    pub paid_gap_days: f64,
    /// P(a return that falls on a weekend is postponed to Monday).
    pub weekend_postpone: f64,
    /// Returns further out than this are dropped (the visitor churned).
    pub max_gap_days: u32,
    /// Most visitors waiting to come back; past it new returns are dropped,
    /// which bounds memory whatever the run's size.
    pub max_pending: usize,

    // Browsing.
    /// Mean marketing pages after the landing page (geometric; P(0) is the
    /// bounce rate of sessions that do not go on to pricing).
    pub extra_pages: f64,
    /// P(a session of an anonymous visitor reaches /pricing): first visit,
    /// later visits.
    pub pricing_first: f64,
    pub pricing_return: f64,
    /// P(signup_started) given the session saw pricing, or not.
    pub signup_after_pricing: f64,
    pub signup_without_pricing: f64,
    /// P(signup_completed | signup_started).
    pub signup_complete: f64,
    /// Share of signups through Google rather than email.
    pub google_signup: f64,
    /// P(a user's session starts at /login with a `login` event).
    pub login: f64,
    /// Mean app pages after the dashboard.
    pub app_pages: f64,
    /// P(navigating by clicking a link, so a `click` precedes the next
    /// `page_view`).
    pub nav_click: f64,
    /// Mean extra clicks per page view.
    pub clicks: f64,

    // Monetisation.
    /// P(a free user's session goes to checkout).
    pub checkout: f64,
    /// Share of upgrades that pick Business over Pro.
    pub business: f64,
    /// P(checkout_completed | checkout_started) with no error on the way.
    pub checkout_complete: f64,
    /// The same after the payment form threw.
    pub checkout_complete_after_error: f64,

    // Deliberate frictions (labelled in the docs).
    /// The checkout bug exists in releases with index in this range.
    pub checkout_bug_versions: std::ops::Range<usize>,
    /// P(the payment form throws) on WebKit and on other engines.
    pub checkout_bug_webkit: f64,
    pub checkout_bug_other: f64,
    /// On a release day, share of sessions still on the previous release,
    /// and P(ChunkLoadError) per app page view for them.
    pub stale_clients: f64,
    pub chunk_error: f64,
    /// P(rage_click on export) when a user exports (slow on big reports).
    pub slow_export_rage: f64,

    // Scenario frictions (see `scenario`).
    /// P(a visitor gives up) after a step a `step_failure` broke; the others
    /// retry and go on as usual.
    pub give_up_after_failure: f64,
    /// P(a visitor gives up on a form's goal) after an `error_loop`.
    pub give_up_after_error_loop: f64,

    // Signals.
    /// Share of sessions whose web vitals the SDK reports (its sample rate).
    pub vitals_sample: f64,
    /// P(an in-app survey is answered) per user session, after a checkout
    /// error, after an upgrade, after a slow export.
    pub survey: f64,
    pub feedback_after_error: f64,
    pub feedback_after_upgrade: f64,
    pub feedback_after_slow_export: f64,
}

impl Model {
    /// The model without its release-bound frictions (the checkout bug of
    /// some releases, chunk errors of stale clients on release days): the
    /// steady baseline scenarios inject into. Both begin mid-run, so an
    /// engine scored on a scenario would rightly report them; the constant
    /// background frictions (dead clicks, slow exports, error noise) stay.
    ///
    /// The steady traffic is its own baseline, not the full one minus some
    /// events: the bug's draw is skipped, so a payment in a buggy release
    /// goes on differently, and so do that visitor's later visits and the
    /// returning visitors queued after them.
    pub(crate) fn steady() -> Model {
        Model { checkout_bug_versions: 0..0, chunk_error: 0.0, ..Model::default() }
    }
}

impl Default for Model {
    fn default() -> Self {
        Model {
            anon_return: 0.28,
            anon_gap_days: 4.0,
            free_return: 0.74,
            free_gap_days: 3.0,
            paid_return: 0.86,
            paid_gap_days: 2.0,
            weekend_postpone: 0.35,
            max_gap_days: 45,
            max_pending: 1_000_000,

            extra_pages: 1.2,
            pricing_first: 0.22,
            pricing_return: 0.25,
            signup_after_pricing: 0.26,
            signup_without_pricing: 0.025,
            signup_complete: 0.70,
            google_signup: 0.40,
            login: 0.30,
            app_pages: 2.2,
            nav_click: 0.85,
            clicks: 1.0,

            checkout: 0.09,
            business: 0.25,
            checkout_complete: 0.62,
            checkout_complete_after_error: 0.12,

            checkout_bug_versions: 1..4,
            checkout_bug_webkit: 0.40,
            checkout_bug_other: 0.01,
            stale_clients: 0.5,
            chunk_error: 0.08,
            slow_export_rage: 0.06,

            give_up_after_failure: 0.75,
            give_up_after_error_loop: 0.6,

            vitals_sample: 0.5,
            survey: 0.04,
            feedback_after_error: 0.25,
            feedback_after_upgrade: 0.10,
            feedback_after_slow_export: 0.15,
        }
    }
}
