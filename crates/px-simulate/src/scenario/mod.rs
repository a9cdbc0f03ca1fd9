//! Labelled friction scenarios: problems injected into the baseline traffic
//! at a known time, for a known segment, so that the AI engine can be scored
//! on how many of them it finds.
//!
//! A [`Scenario`] is read from TOML (`parse`), so anyone can write one without
//! touching code. The simulator resolves its time windows against the run
//! ([`Injector`]), asks it which frictions may touch a session, lets the
//! session code apply them (`session`), and counts the sessions and persons
//! each friction actually changed; [`Labels`] is that ground truth as JSON.
//!
//! Frictions draw from their own random stream per session, so a session no
//! friction touches makes the same random choices as in the baseline (only
//! knock-on effects differ: a failed signup shifts later user numbers, a
//! lost upgrade keeps a person on the free plan), and a scenario without
//! frictions reproduces the baseline exactly.

mod labels;
mod parse;
mod run;
#[cfg(test)]
mod tests;

use crate::catalog::Plan;
use crate::catalog::devices::{Browser, DeviceType, Os};
use crate::catalog::elements::Element;
use crate::catalog::forms::Form;
use crate::catalog::pages::Page;
use crate::visitor::Visitor;
use std::collections::HashSet;

pub use labels::{FrictionLabel, Labels};
pub use run::RunSettings;

/// A named set of frictions to inject. See `docs/simulate.md` for the file
/// format.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Keep the baseline's release-bound frictions (the checkout bug of
    /// releases 1.4.1-1.5.1, chunk errors of stale clients on release days).
    /// Off by default: they start mid-run and are not labelled, so a scoring
    /// run would count an engine that finds them as wrong.
    pub builtin_frictions: bool,
    pub(crate) run: RunSettings,
    pub(crate) frictions: Vec<Friction>,
}

/// A scenario file that cannot be used, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not TOML, a missing or unknown key, or a value of the wrong type; the
    /// message names the key and its line.
    #[error("scenario file: {0}")]
    Syntax(#[from] toml::de::Error),
    /// A well-formed value the simulator cannot use, e.g.
    /// `friction[1].probability`.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl ScenarioError {
    /// The offending field (`friction[0].segment.browser`), when known.
    pub fn field(&self) -> Option<&str> {
        match self {
            ScenarioError::Syntax(_) => None,
            ScenarioError::Invalid { field, .. } => Some(field),
        }
    }
}

/// One injected problem: what it does, when, and to whom.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Friction {
    pub effect: Effect,
    pub start: When,
    pub end: Option<When>,
    pub segment: Segment,
}

/// A point in time of a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Microseconds after the start of the run (`"day 5"`, `"5d 12h"`).
    Offset(i64),
    /// Microseconds since the epoch (RFC 3339 in the file).
    At(i64),
}

impl When {
    fn resolve(self, run_start: i64) -> i64 {
        match self {
            When::Offset(d) => run_start.saturating_add(d),
            When::At(t) => t,
        }
    }
}

/// A funnel step a `step_failure` can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    SignupCompleted,
    CheckoutCompleted,
}

impl Step {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Step::SignupCompleted => "signup_completed",
            Step::CheckoutCompleted => "checkout_completed",
        }
    }

    /// Where the step is submitted, and so where its failure shows.
    pub(crate) fn page(self) -> Page {
        match self {
            Step::SignupCompleted => Page::Signup,
            Step::CheckoutCompleted => Page::Payment,
        }
    }

    /// The step submitted on `page`, if the page is a funnel step's.
    pub(crate) fn on(page: Page) -> Option<Step> {
        [Step::SignupCompleted, Step::CheckoutCompleted].into_iter().find(|s| s.page() == page)
    }
}

/// A feedback comment in both languages the simulator writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    pub en: String,
    pub pt_br: String,
}

/// What a friction changes in the sessions it touches.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Submitting `step` fails with `probability`: an `error` event, and most
    /// visitors give up.
    StepFailure { step: Step, probability: f64 },
    /// `page` renders `factor` times slower (LCP), and a visitor landing on
    /// it leaves at once with the extra probability `bounce`.
    SlowPage { page: Page, factor: f64, bounce: f64 },
    /// Each view of `page` ends in a `rage_click` on `element` with
    /// `probability` (the element does not respond).
    RageClicks { page: Page, element: Element, probability: f64 },
    /// Started `step`s (signup or checkout) complete `factor` times as often.
    ConversionDrop { step: Step, factor: f64 },
    /// Sessions leave feedback on `theme` (one of `texts`) with `rate`.
    FeedbackTheme { theme: String, texts: Vec<Text>, rate: f64 },
    /// Per view of the form on `form.page`, with `probability`: the
    /// visitor submits, gets `message`, submits again, `repeats` times, and
    /// then often gives up.
    ErrorLoop { form: &'static Form, message: String, probability: f64, repeats: u32 },
    /// `factor` times the new visitors while it lasts, all from `channel`
    /// (index into `CHANNELS`) or spread over channels as usual. Not a
    /// session effect: the simulator adds the visitors (see `Injector::spikes`).
    TrafficSpike { factor: f64, channel: Option<usize> },
}

impl Effect {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Effect::StepFailure { .. } => "step_failure",
            Effect::SlowPage { .. } => "slow_page",
            Effect::RageClicks { .. } => "rage_clicks",
            Effect::ConversionDrop { .. } => "conversion_drop",
            Effect::FeedbackTheme { .. } => "feedback_theme",
            Effect::ErrorLoop { .. } => "error_loop",
            Effect::TrafficSpike { .. } => "traffic_spike",
        }
    }

    /// How an insight about it should be classed: a traffic spike with the
    /// usual conversion is an anomaly, everything else hurts visitors.
    pub(crate) fn insight_type(&self) -> &'static str {
        match self {
            Effect::TrafficSpike { .. } => "anomaly",
            _ => "friction",
        }
    }
}

/// Who a friction touches; every dimension set must match, an empty segment
/// is everyone. Dimensions are the ones the simulator models per session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Segment {
    pub browser: Option<Browser>,
    pub os: Option<Os>,
    pub device_type: Option<DeviceType>,
    /// ISO 3166-1 alpha-2 code, one of the simulated countries.
    pub country: Option<&'static str>,
    /// Only signed-up users have a plan; anonymous visitors never match one.
    pub plan: Option<Plan>,
    /// Index into `calendar::VERSIONS` of the release the client runs.
    pub app_version: Option<usize>,
}

impl Segment {
    pub(crate) fn matches(&self, visitor: &Visitor, version: usize) -> bool {
        let agent = visitor.agent();
        self.browser.is_none_or(|b| b == agent.browser)
            && self.os.is_none_or(|o| o == agent.class.os())
            && self.device_type.is_none_or(|d| d == agent.class.device_type())
            && self.country.is_none_or(|c| c == visitor.country().code)
            && self.plan.is_none_or(|p| visitor.is_user() && p == visitor.plan)
            && self.app_version.is_none_or(|v| v == version)
    }
}

/// A scenario bound to a run: absolute windows and what each friction did.
#[derive(Debug)]
pub(crate) struct Injector {
    scenario: Scenario,
    /// Per friction, `[start, end)` in microseconds since the epoch.
    windows: Vec<(i64, i64)>,
    sessions: Vec<u64>,
    /// Visitor ordinals (stable across a person's sessions and signup).
    persons: Vec<HashSet<u64>>,
}

impl Injector {
    pub(crate) fn new(scenario: Scenario, run_start: i64) -> Injector {
        let windows = scenario
            .frictions
            .iter()
            .map(|f| (f.start.resolve(run_start), f.end.map_or(i64::MAX, |e| e.resolve(run_start))))
            .collect();
        let n = scenario.frictions.len();
        Injector { scenario, windows, sessions: vec![0; n], persons: vec![HashSet::new(); n] }
    }

    /// Frictions whose segment matches and whose window overlaps
    /// `[from, to)`: the ones that may touch a session within it. Traffic
    /// spikes act on the day, not on sessions, and are never candidates.
    pub(crate) fn candidates(&self, visitor: &Visitor, version: usize, from: i64, to: i64) -> Vec<usize> {
        (0..self.windows.len())
            .filter(|&i| {
                let (start, end) = self.windows[i];
                let f = &self.scenario.frictions[i];
                start < to
                    && from < end
                    && !matches!(f.effect, Effect::TrafficSpike { .. })
                    && f.segment.matches(visitor, version)
            })
            .collect()
    }

    /// The traffic spikes over the day `[from, to)` with `base` new visitors:
    /// per spike, its index and how many extra new visitors it brings, in
    /// proportion to the share of the day its window covers.
    pub(crate) fn spikes(&self, from: i64, to: i64, base: u32) -> Vec<(usize, u32)> {
        let day = (to - from).max(1) as f64;
        (0..self.windows.len())
            .filter_map(|i| {
                let Effect::TrafficSpike { factor, .. } = self.scenario.frictions[i].effect else { return None };
                let (start, end) = self.windows[i];
                let covered = (end.min(to) - start.max(from)).max(0) as f64 / day;
                let extra = (f64::from(base) * (factor - 1.0) * covered).round() as u32;
                (extra > 0).then_some((i, extra))
            })
            .collect()
    }

    /// The window of friction `i`, `[start, end)` in microseconds.
    pub(crate) fn window(&self, i: usize) -> (i64, i64) {
        self.windows[i]
    }

    /// The channel a spike's visitors come from, if it names one.
    pub(crate) fn spike_channel(&self, i: usize) -> Option<usize> {
        match self.scenario.frictions.get(i).map(|f| &f.effect) {
            Some(Effect::TrafficSpike { channel, .. }) => *channel,
            _ => None,
        }
    }

    /// The `candidates` whose window contains `at`.
    pub(crate) fn active_at(&self, candidates: &[usize], at: i64) -> Vec<usize> {
        candidates.iter().copied().filter(|&i| (self.windows[i].0..self.windows[i].1).contains(&at)).collect()
    }

    /// The effects of `active`, keyed by friction index, for the session code.
    pub(crate) fn effects(&self, active: &[usize]) -> Vec<(usize, &Effect)> {
        active.iter().map(|&i| (i, &self.scenario.frictions[i].effect)).collect()
    }

    /// Counts a session of person `visitor` that frictions `hits` changed.
    pub(crate) fn record(&mut self, hits: &[usize], visitor: u64) {
        for &i in hits {
            self.sessions[i] += 1;
            self.persons[i].insert(visitor);
        }
    }
}
